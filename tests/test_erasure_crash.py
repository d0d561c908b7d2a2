"""THE CRASH TEST (design.md, "INVARIANT: withdrawal erases", step 2).

A real second Python process contributes an artwork, withdraws it and dies (``os._exit(9)``)
the moment the erasure transaction has committed, before any purge has run: the rows are gone
but the files are still on disk, and the queued purges are all that remember them. A restarted
site (its background thread, when it starts) or ``flask --app archive purge`` must finish the
job.

And when the storage is away during a purge, the task stays queued, counts its attempts, and
a later run finishes it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select

from archive import background, purge
from archive import config as settings
from archive.db import db
from archive.media.storage import storage_from_config
from archive.models import Item, PurgeTask
from tests.conftest import BrowserLikeClient, config_for_tests
from tests.erasure_helpers import (
    media_files,
    pending_purges,
    rows_of,
    share,
    withdraw_signed_in,
    world,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.both_databases

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"

CHILD = textwrap.dedent("""
    import io, json, os, sys
    sys.path.insert(0, {root!r})
    from PIL import Image
    from archive import create_app, purge
    from archive.db import commit, db
    from archive.operations import items as ops
    from archive.operations.accounts import create_account
    from archive.operations.circles import add_member, create_circle
    from archive.operations.consent import ConsentChoice
    from archive.operations.withdraw import erase

    app = create_app()
    with app.app_context():
        db.create_all()
        circle = create_circle("crash", "Crash circle")
        account = create_account("survivor", "a calm river at dawn")
        add_member(circle, account)
        picture = io.BytesIO()
        Image.new("RGB", (640, 480), (200, 80, 40)).save(picture, "JPEG")
        draft = ops.Draft(kind="artwork", title="zqxcrash painting", tags=["crash"],
                          alt_text="A red square", image=picture.getvalue())
        shared = ops.contribute(account, circle, ops.contributor_for(account), draft,
                                ConsentChoice(audience="public", attribution="anonymous"))
        commit()
        item = shared.item
        asset = item.current.media
        print(json.dumps({{"public_id": item.public_id,
                          "urls": ["/media/%s/%s" % (asset.public_id, name)
                                   for name in asset.derivatives],
                          "keys": [e["key"] for e in asset.derivatives.values()]}}),
              flush=True)
        # the power goes the moment the erasure is durable, before any purge runs
        purge.run_pending = lambda *args, **kwargs: os._exit(9)
        erase(item, account)
        commit()
        print("the purge ran: the crash did not happen", flush=True)
""")


def environment(tmp_path, media_url) -> dict[str, str]:
    """The same site as ``config_for_tests(tmp_path)``, as ARCHIVE_* variables (the AWS_*
    ones of an S3 store are passed on as they are)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("ARCHIVE_")}
    for name, value in config_for_tests(tmp_path, MEDIA_URL=media_url).items():
        if name in settings.SETTINGS:
            value = ("1" if value else "0") if isinstance(value, bool) else str(value)
            env[f"ARCHIVE_{name}"] = value
    return env


def python() -> str:
    return str(PYTHON if PYTHON.exists() else sys.executable)


def crash_after_erasure(tmp_path, media_url) -> dict:
    child = subprocess.run(
        [python(), "-W", "error", "-c", CHILD.format(root=str(ROOT))],
        env=environment(tmp_path, media_url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 9, child.stdout + child.stderr
    assert "the crash did not happen" not in child.stdout
    return json.loads(child.stdout.strip().splitlines()[0])


@pytest.fixture
def crashed(tmp_path, make_app, media_url):
    """The state a crash leaves: erased rows, files still stored, purges queued."""
    facts = crash_after_erasure(tmp_path, media_url)
    app = make_app()
    with app.app_context():
        item = db.session.scalar(select(Item).where(Item.public_id == facts["public_id"]))
        assert item.state == "withdrawn"
        assert rows_of(item.id) == {"Revision": 0, "RevisionTag": 0, "MediaAsset": 0, "Consent": 0}
        assert set(facts["keys"]) <= media_files(app), "the files went before the crash"
        kinds = {task.kind for task in pending_purges()}
        assert {"media", "database"} <= kinds
        db.session.remove()
    return app, facts


def assert_finished(app, facts: dict) -> None:
    with app.app_context():
        assert pending_purges() == []
        db.session.remove()
    assert not media_files(app) & set(facts["keys"])


@pytest.mark.media_backends
def test_a_restarted_site_finishes_the_purge_when_it_starts(crashed):
    """Each process's background thread is asked to finish what a crash left before the
    process answers its first request (the request itself does none of it)."""
    app, facts = crashed
    app.config["BACKGROUND_WORK"] = True
    client = BrowserLikeClient(app.test_client())

    first = client.get(f"/items/{facts['public_id']}")

    assert first.status_code == 410
    assert background.wait(app)
    assert_finished(app, facts)
    for url in facts["urls"]:
        assert client.get(url).status_code == 404


@pytest.mark.media_backends
def test_flask_purge_finishes_what_a_crash_left(crashed, tmp_path, media_url):
    app, facts = crashed

    result = subprocess.run(
        [python(), "-W", "error", "-m", "flask", "--app", "archive", "purge"],
        env=environment(tmp_path, media_url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "still failing: 0" in result.stdout
    assert_finished(app, facts)
    client = BrowserLikeClient(app.test_client())
    assert client.get(f"/items/{facts['public_id']}").status_code == 410
    for url in facts["urls"]:
        assert client.get(url).status_code == 404


# --- a storage outage during the purge --------------------------------------------------------


@pytest.mark.media_backends
def test_a_storage_outage_leaves_the_purge_queued_until_a_later_run(app, world, monkeypatch):
    piece = share(world["contributor"], world.home, title="zqxoutage painting", audience="public")

    def storage_away(self, key):
        raise OSError("the storage is not answering")

    monkeypatch.setattr(type(storage_from_config(app.config)), "delete", storage_away)
    # the thread's own retry (after 2 s) must not count an attempt while the test counts them
    # on a slow machine: it is asked for in an hour instead
    monkeypatch.setattr(background, "RETRY_DELAYS", (3600,) * len(background.RETRY_DELAYS))

    assert withdraw_signed_in(world.viewers["contributor"].client, piece).status_code == 200

    anonymous = world.viewers["anonymous"].client
    assert anonymous.get(piece.url).status_code == 410
    for url in piece.media_urls:
        assert anonymous.get(url).status_code == 404
    assert set(piece.media_keys) <= media_files(app), "the files cannot have gone"
    [task] = pending_purges()
    assert (task.kind, task.attempts) == ("media", 1) and task.last_tried_at is not None
    assert set(task.payload["keys"]) == set(piece.media_keys)

    assert purge.run_pending() == (0, 1)
    assert [t.attempts for t in pending_purges()] == [2]

    monkeypatch.undo()
    assert purge.run_pending() == (1, 0)

    assert pending_purges() == []
    assert not media_files(app) & set(piece.media_keys)
    assert db.session.scalar(select(PurgeTask)) is None
