"""Rate limits shared between workers through Redis (README, "Deploying").

Each "worker" is a separate process (``python -c``, as a gunicorn worker is) that builds
the app from the same ``ARCHIVE_*`` environment and sends wrong sign-ins and wrong
withdrawal codes through its own client. With Redis, what one worker counted the other
sees; without it each counts alone (the control). When Redis does not answer, each worker
keeps the same limits in its own memory, and ``/healthz`` says the node is degraded."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import config_for_tests
from tests.test_search_concurrency import ROOT, environment

WORKER = r"""
import json, re, sys
from archive import create_app

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                  r'type="hidden" name="csrf_token" value="([^"]+)"')
attempts = int(sys.argv[1])
client = create_app().test_client()

def post(url, data):
    match = CSRF.search(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": match.group(1) or match.group(2), **data})

print(json.dumps({
    "sign_in": [post("/sign-in", {"username": "nobody", "password": "not it at all"})
                .status_code for _ in range(attempts)],
    "code": [post("/withdraw", {"code": "ABCD-EFGH-JKMN-PQRS-TVWX"}).status_code
             for _ in range(attempts)],
}))
"""


def start_worker(env: dict, attempts: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-W", "error", "-c", WORKER, str(attempts)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def counted(*workers: subprocess.Popen) -> dict:
    """Every worker's answers, put together per door and sorted."""
    together: dict[str, list[int]] = {"sign_in": [], "code": []}
    for process in workers:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err[-3000:]
        assert "Traceback" not in err, err[-3000:]
        for door, statuses in json.loads(out).items():
            together[door] = sorted(together[door] + statuses)
    return together


def limited_environment(app, storage: str | None) -> dict:
    env = environment(app)
    env.update(
        {
            "ARCHIVE_SIGN_IN_ACCOUNT_LIMIT": "3 per minute",
            "ARCHIVE_CODE_RATE_LIMIT": "3 per 15 minutes",
        }
    )
    env.pop("ARCHIVE_REDIS_URL", None)
    if storage:
        env["ARCHIVE_REDIS_URL"] = storage
    return env


def test_two_workers_share_the_sign_in_and_code_limits_through_redis(app, redis_url):
    """Two workers at once, three wrong tries each: alone each would stay within the limit
    of three; together only three of the six get through."""
    env = limited_environment(app, redis_url)

    together = counted(start_worker(env, 3), start_worker(env, 3))

    assert together == {"sign_in": [422] * 3 + [429] * 3, "code": [422] * 3 + [429] * 3}


def test_without_redis_each_worker_counts_alone(app):
    """The control: the same two workers counting in memory never see each other."""
    env = limited_environment(app, None)

    together = counted(start_worker(env, 3), start_worker(env, 3))

    assert together == {"sign_in": [422] * 6, "code": [422] * 6}


def test_when_redis_is_down_each_worker_still_limits(app, unreachable_redis_url):
    """Fail to per-worker limits, not open and not closed: the doors stay open, and
    guessing is still cut off after the same number of tries."""
    env = limited_environment(app, unreachable_redis_url)

    assert counted(start_worker(env, 4)) == {
        "sign_in": [422, 422, 422, 429],
        "code": [422, 422, 422, 429],
    }


def test_healthz_with_redis_reachable(make_app, redis_url):
    app = make_app(REDIS_URL=redis_url, RATELIMIT_STORAGE_URI=redis_url)

    response = app.test_client().get("/healthz")

    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "checks": {"database": "ok", "index": "ok", "media": "ok", "rate_limits": "ok"},
    }


def test_healthz_with_redis_configured_but_unreachable(make_app, unreachable_redis_url):
    app = make_app(REDIS_URL=unreachable_redis_url, RATELIMIT_STORAGE_URI=unreachable_redis_url)

    response = app.test_client().get("/healthz")

    assert response.status_code == 200
    assert response.json == {
        "status": "degraded",
        "checks": {"database": "ok", "index": "ok", "media": "ok", "rate_limits": "failing"},
    }


def test_redis_settings_follow_the_redis_url(tmp_path):
    from archive import create_app

    config = config_for_tests(tmp_path, REDIS_URL="redis://127.0.0.1:6390/2")
    del config["RATELIMIT_STORAGE_URI"]

    app = create_app(config)

    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6390/2"
    assert app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is True
    assert app.config["RATELIMIT_STORAGE_OPTIONS"]["socket_timeout"] <= 1
