"""A new gunicorn worker is warmed before its first request (`archive.serving`)."""

from __future__ import annotations

import logging
import shutil
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient

from archive import serving
from archive.extensions import LOCALES

ROOT = Path(__file__).resolve().parent.parent


def test_warming_compiles_every_template_and_answers_the_first_pages(app, monkeypatch):
    env = app.jinja_env
    names = env.list_templates(extensions=("html", "xml", "txt"))
    assert len(names) > 30
    asked = []
    real_get = FlaskClient.get

    def get(self, path, *args, **kwargs):
        response = real_get(self, path, *args, **kwargs)
        asked.append((path, kwargs["headers"]["Accept-Language"], response.status_code))
        return response

    monkeypatch.setattr(FlaskClient, "get", get)
    serving.warm_up(app)
    cached = {key[1] for key in env.cache.keys()} if env.cache is not None else set()
    assert set(names) <= cached
    assert sorted(asked) == sorted(
        (path, locale, 200) for path in serving.WARM_PAGES for locale in LOCALES
    )


def test_a_page_that_fails_while_warming_leaves_the_worker_serving(app, monkeypatch, caplog):
    def broken(*_args, **_kwargs):
        raise RuntimeError("the database is not there yet")

    monkeypatch.setattr(FlaskClient, "get", broken)
    with caplog.at_level(logging.ERROR, logger="archive.serving"):
        assert serving.warm_up(app) >= 0
    assert "warming / failed" in caplog.text


@pytest.mark.skipif(shutil.which("bash") is None, reason="scripts/serve is a bash script")
def test_scripts_serve_warms_each_worker_and_keeps_its_log_and_files_private(tmp_path):
    """Also: no ``Server`` header names the software; a base URL with a path is kept to under
    gunicorn (the health check names the machine, not the site, and the path prefix may reach
    the site or not)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}/archive"
    env = {
        "ARCHIVE_BASE_URL": base,
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "ARCHIVE_WORKERS": "2",
        "ARCHIVE_DEMO": "0",
        "ARCHIVE_INSTANCE_DIR": str(tmp_path / "instance"),
        "ARCHIVE_MEDIA_URL": str(tmp_path / "media"),
    }
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(ROOT / "scripts" / "serve")],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            pytest.fail(log.read_text()[-3000:])
        while log.read_text().count(" warmed in ") < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert log.read_text().count(" warmed in ") == 2, log.read_text()[-3000:]
        secret = "zqxsecret"
        for path in (f"/join/{secret}", f"/tags/{secret}?page=2", f"/search?q={secret}"):
            requests.get(f"{base}{path}", timeout=10)
        while '/search"' not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        text = log.read_text()
        assert '/join/…" 404' in text and '/tags/…" 200' in text, text[-3000:]
        assert secret not in text
        robots = requests.get(f"{base}/robots.txt", timeout=10)
        assert robots.ok and f"Sitemap: {base}/sitemap.xml" in robots.text
        # the server software is not announced (gunicorn adds its name unless told not to)
        assert "Server" not in robots.headers, robots.headers
        assert "interest-cohort" not in robots.headers["Permissions-Policy"]
        forged = requests.get(f"{base}/robots.txt", headers={"Host": "evil.example"}, timeout=10)
        assert forged.status_code == 400 and "evil.example" not in forged.text
        instance = tmp_path / "instance"
        for path in (instance, instance / "archive.sqlite3", instance / "index"):
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
