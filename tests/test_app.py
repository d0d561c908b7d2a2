"""The application factory, its settings, health check, error pages and response headers."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from archive import config as settings
from archive import create_app
from archive.db import db
from tests.conftest import config_for_tests, sign_in

# --- settings -----------------------------------------------------------------------------


def test_factory_takes_the_test_config(app, tmp_path):
    assert app.testing
    assert app.config["SECRET_KEY"] == "test-secret"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'test.sqlite3'}"
    assert Path(app.config["INDEX_DIR"]).is_dir()
    assert Path(app.config["MEDIA_URL"]).is_dir()
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_environment_variables_are_read(monkeypatch, tmp_path):
    monkeypatch.setenv("ARCHIVE_INVITE_DAYS", "3")
    monkeypatch.setenv("ARCHIVE_DEMO", "no")
    monkeypatch.setenv("ARCHIVE_SECURE_COOKIES", "yes")
    monkeypatch.setenv("ARCHIVE_MEDIA_URL", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("ARCHIVE_LOGIN_RATE_LIMIT", "5 per minute")
    monkeypatch.delenv("ARCHIVE_REDIS_URL", raising=False)

    values = settings.from_environment()

    assert values["INVITE_DAYS"] == 3
    assert values["DEMO"] is False
    assert values["SECURE_COOKIES"] is True
    assert values["MEDIA_URL"] == (tmp_path / "elsewhere").resolve()
    assert values["LOGIN_RATE_LIMIT"] == "5 per minute"
    assert values["REDIS_URL"] is None


def test_an_empty_environment_variable_means_the_default():
    values = settings.from_environment({"ARCHIVE_INVITE_DAYS": "", "ARCHIVE_DEMO": ""})
    assert values["INVITE_DAYS"] == settings.SETTINGS["INVITE_DAYS"][0]
    assert values["DEMO"] is settings.SETTINGS["DEMO"][0]


def test_environment_reaches_the_app_and_the_override_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("ARCHIVE_INVITE_DAYS", "3")
    monkeypatch.setenv("ARCHIVE_SECURE_COOKIES", "1")
    monkeypatch.setenv("ARCHIVE_LOGIN_RATE_LIMIT", "2 per minute")

    app = create_app(config_for_tests(tmp_path, INVITE_DAYS=5))

    assert app.config["INVITE_DAYS"] == 5  # the override
    assert app.config["SESSION_COOKIE_SECURE"] is True  # from the environment
    assert app.config["LOGIN_RATE_LIMIT"] == "1000 per minute"  # the test config's override


def test_secret_key_is_made_once_and_kept(monkeypatch, tmp_path):
    monkeypatch.delenv("ARCHIVE_SECRET_KEY", raising=False)
    first = create_app(config_for_tests(tmp_path, SECRET_KEY=None))
    second = create_app(config_for_tests(tmp_path, SECRET_KEY=None))

    secret_file = tmp_path / "instance" / "secret_key"
    assert secret_file.exists()
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert len(first.config["SECRET_KEY"]) >= 40
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert first.config["SECRET_KEY"] == secret_file.read_text().strip()


def test_each_instance_has_its_own_secret(monkeypatch, tmp_path):
    monkeypatch.delenv("ARCHIVE_SECRET_KEY", raising=False)
    one = create_app(config_for_tests(tmp_path, SECRET_KEY=None, INSTANCE_DIR=tmp_path / "one"))
    two = create_app(config_for_tests(tmp_path, SECRET_KEY=None, INSTANCE_DIR=tmp_path / "two"))
    assert one.config["SECRET_KEY"] != two.config["SECRET_KEY"]


# --- the collections/ folder must not shadow the standard library -------------------------


def _in_stdlib(path: str) -> bool:
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    return Path(path).resolve().is_relative_to(stdlib)


def test_import_collections_gives_the_standard_library():
    import collections

    assert hasattr(collections, "OrderedDict")
    assert _in_stdlib(collections.__file__)
    assert not Path(collections.__file__).resolve().is_relative_to(settings.ROOT)


def test_import_collections_from_the_repository_root():
    """Run from the checkout, as `flask --app archive` and scripts are, with '' on sys.path."""
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            "import collections, sys; collections.OrderedDict; print(collections.__file__)",
        ],
        cwd=settings.ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert _in_stdlib(found.stdout.strip()), found.stdout


def test_collections_folder_holds_data_only():
    folder = settings.ROOT / "collections"
    assert folder.is_dir()
    assert sorted(folder.rglob("*.py")) == []
    assert sorted(folder.rglob("__init__.py*")) == []


# --- /healthz -----------------------------------------------------------------------------


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    assert response.json["status"] == "ok"
    assert response.json["checks"] == {"database": "ok", "index": "ok", "media": "ok"}


def test_healthz_without_index_folder(app, client):
    shutil.rmtree(app.config["INDEX_DIR"])
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["checks"]["index"] == "failing"
    assert response.json["checks"]["database"] == "ok"


def _access_as_owner(path, mode) -> bool:
    """What os.access says to a non-root owner: root passes every permission check."""
    bits = os.stat(path).st_mode
    wanted = {os.R_OK: stat.S_IRUSR, os.W_OK: stat.S_IWUSR, os.X_OK: stat.S_IXUSR}
    return all(bits & flag for check, flag in wanted.items() if mode & check)


def test_healthz_with_unreadable_index_folder(app, client, monkeypatch):
    folder = Path(app.config["INDEX_DIR"])
    if os.geteuid() == 0:
        monkeypatch.setattr(os, "access", _access_as_owner)
    folder.chmod(0)
    try:
        response = client.get("/healthz")
    finally:
        folder.chmod(0o755)
    assert response.status_code == 503
    assert response.json["checks"]["index"] == "failing"


def test_healthz_when_index_path_is_a_file(app, client):
    folder = Path(app.config["INDEX_DIR"])
    shutil.rmtree(folder)
    folder.write_text("not a folder")
    assert client.get("/healthz").status_code == 503


def test_healthz_when_database_is_unusable(app, client, tmp_path):
    db.session.remove()
    db.engine.dispose()
    database = tmp_path / "test.sqlite3"
    for path in tmp_path.glob("test.sqlite3*"):
        path.unlink()
    database.mkdir()  # the database URL now points at a folder

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.is_json
    assert response.json["checks"]["database"] == "failing"
    assert response.json["checks"]["index"] == "ok"


# --- error pages --------------------------------------------------------------------------


def test_unknown_url_gives_a_friendly_404(client):
    response = client.get("/no/such/page", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "We could not find that page" in html
    assert 'href="/"' in html
    assert "Traceback" not in html and "werkzeug" not in html.lower()


@pytest.mark.parametrize("language", ["hi", "mr"])
def test_404_page_in_the_chosen_language(client, language):
    response = client.get("/no/such/page", headers={"Accept-Language": f"{language},en;q=0.5"})
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert f'<html lang="{language}">' in html
    assert "Traceback" not in html


def test_unexpected_error_gives_a_friendly_500_without_a_trace(make_app):
    app = make_app(TESTING=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Something went wrong on our side" in html
    assert "secret internals" not in html and "Traceback" not in html


# --- response headers ---------------------------------------------------------------------


def _assert_security_headers(response):
    csp = response.headers["Content-Security-Policy"]
    directives = [part.strip() for part in csp.split(";")]
    assert "default-src 'self'" in directives
    assert "frame-ancestors 'none'" in directives
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in {
        "same-origin",
        "no-referrer",
        "strict-origin-when-cross-origin",
    }
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("url", ["/", "/sign-in", "/no/such/page", "/healthz"])
def test_security_headers_on_pages(client, url):
    _assert_security_headers(client.get(url))


def test_signed_in_pages_are_not_stored(client, make_account):
    make_account("lata")
    sign_in(client, "lata")
    for url in ("/", "/account", "/circles/"):
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_security_headers(response)
        assert response.headers["Cache-Control"] == "no-store", url


def test_sign_in_page_is_not_stored(client):
    assert client.get("/sign-in").headers["Cache-Control"] == "no-store"


def test_session_cookie_is_httponly_and_lax(client, make_account):
    make_account("lata")
    response = sign_in(client, "lata")
    cookie = next(
        value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
