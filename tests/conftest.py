"""Fixtures: a fresh app and database per test, a client that fills in CSRF tokens the way a
browser does, factories for accounts and circles, and a sign-in helper."""

from __future__ import annotations

import contextvars
import re
from functools import wraps
from itertools import count

import pytest
from jinja2 import BytecodeCache

from archive import create_app
from archive.db import db

pytest_plugins = [
    "tests.services.postgres",  # database: SQLite, or PostgreSQL for marked modules
    "tests.services.redis_server",
    "tests.services.seaweed",  # media_url: a folder, or S3 on SeaweedFS
]

CSRF = re.compile(
    r'name="(?:[\w-]+-)?csrf_token" type="hidden" value="([^"]+)"|'
    r'type="hidden" name="csrf_token" value="([^"]+)"'
)
PASSWORD = "a calm river at dawn"


def config_for_tests(tmp_path, **overrides) -> dict:
    from tests.services.postgres import database_url

    config = {
        "TESTING": True,
        "INSTANCE_DIR": tmp_path / "instance",
        "DATABASE_URL": overrides.get("DATABASE_URL") or database_url(tmp_path),
        "MEDIA_URL": tmp_path / "media",
        "INDEX_DIR": tmp_path / "index",
        "SECRET_KEY": "test-secret",
        "DEMO": False,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "SIGN_IN_ACCOUNT_LIMIT": "1000 per minute",
        "SIGN_IN_ADDRESS_LIMIT": "1000 per minute",
        "RATELIMIT_STORAGE_URI": "memory://",
        "INDEX_COMPACT_DELAY": -1,
        # a test searches right after it saves, looks for leftovers right after an erasure:
        # follow-up work is done in the request (tests/test_background.py covers the thread)
        "BACKGROUND_WORK": False,
        # an erasure's database clean-up (checkpoint, table rewrite) at once, not a little later
        "DATABASE_PURGE_DELAY": 0,
    }
    config.update(overrides)
    return config


class SharedTemplates(BytecodeCache):
    """Compiled templates kept for every app of the test process. Each test builds its own
    app, and each app its own Jinja environment, which compiled every template a test
    rendered again: a third of a test's set-up. Jinja checks each template's source
    against the kept checksum, so a changed template is compiled anew."""

    def __init__(self) -> None:
        self.kept: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.kept:
            bucket.bytecode_from_string(self.kept[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.kept[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = SharedTemplates()


def _share_url_builders() -> None:
    """Werkzeug compiles a Python function per URL rule (twice) for every app: most of the
    40 ms each test spent building its app. The function depends only on the rule, its
    defaults and whether unknown arguments are appended (it reads the rule's converters
    through ``self`` when called), so the test process compiles each once for all apps.
    The site itself builds one app per worker and is left as it is."""
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    kept: dict = {}

    def shared(self, append_unknown: bool = True):
        try:
            key = (
                self.rule,
                tuple(self._trace),
                tuple(sorted((self.defaults or {}).items())),
                append_unknown,
            )
            hash(key)
        except TypeError:  # a default that cannot be a key: compiled for this rule alone
            return compile_builder(self, append_unknown)
        if key not in kept:
            kept[key] = compile_builder(self, append_unknown)
        return kept[key]

    Rule._compile_builder = shared


_share_url_builders()


@pytest.fixture
def make_app(tmp_path, media_url):
    """Build an app with overrides; its tables are created from the models."""

    def build(**overrides):
        from tests.services.postgres import with_tables

        config = config_for_tests(tmp_path, **{"MEDIA_URL": media_url, **overrides})
        copied = with_tables(config["DATABASE_URL"])
        app = create_app(config)
        app.jinja_env.bytecode_cache = TEMPLATES
        if not copied:
            with app.app_context():
                db.create_all()
        return app

    return build


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app
        db.session.remove()


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1) or match.group(2)


def without_csrf_token(html: str) -> str:
    """The page with its CSRF token blanked: the token carries the second it was made,
    so two answers a moment apart differ there and nowhere else that matters."""
    return CSRF.sub(lambda match: match.group(0).rsplit('value="', 1)[0] + 'value=""', html)


def _in_own_context(open_request):
    """Run each request in a context of its own, as a server does.

    The ``app`` fixture keeps an app context pushed for the test body; Flask reuses a pushed
    context of the same app for a test-client request, so without this every request of a
    test would share one ``g`` (the signed-in user, the CSRF token, the chosen language) and
    a second client would act as whoever the first signed in as."""

    @wraps(open_request)
    def open_isolated(*args, **kwargs):
        from tests.services.postgres import end_test_transaction

        end_test_transaction()
        return contextvars.Context().run(open_request, *args, **kwargs)

    return open_isolated


class BrowserLikeClient:
    """Wraps Flask's test client: ``post_form`` first opens the page, as a person would, and
    sends the form's CSRF token along."""

    def __init__(self, client):
        self.raw = client
        client.open = _in_own_context(client.open)

    def __getattr__(self, name):
        return getattr(self.raw, name)

    def post_form(self, url, data=None, page=None, **kwargs):
        html = self.raw.get(page or url).get_data(as_text=True)
        payload = {"csrf_token": csrf_token(html), **(data or {})}
        return self.raw.post(url, data=payload, **kwargs)


@pytest.fixture
def request_context(app):
    """A request context for the test body, for operations whose refusals are translated
    (the language is chosen per request)."""
    with app.test_request_context():
        yield


@pytest.fixture
def client(app):
    return BrowserLikeClient(app.test_client())


@pytest.fixture
def make_client(app):
    return lambda: BrowserLikeClient(app.test_client())


_numbers = count(1)


@pytest.fixture
def make_circle(app):
    from archive.operations.circles import create_circle

    def make(slug=None, name=None, languages="en hi mr"):
        number = next(_numbers)
        circle = create_circle(
            slug or f"circle-{number}", name or f"Circle {number}", languages=languages
        )
        db.session.commit()
        return circle

    return make


@pytest.fixture
def make_account(app):
    from archive.operations.accounts import create_account
    from archive.operations.circles import add_member

    def make(
        username=None,
        role="participant",
        circle=None,
        circle_role=None,
        password=PASSWORD,
        display_name="",
        locale=None,
    ):
        account = create_account(
            username or f"person{next(_numbers)}", password, role, display_name, locale
        )
        if circle is not None:
            add_member(
                circle,
                account,
                circle_role or ("facilitator" if role == "facilitator" else "participant"),
            )
        db.session.commit()
        return account

    return make


def sign_in(client, username, password=PASSWORD):
    response = client.post_form("/sign-in", {"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


@pytest.fixture
def signed_in(make_client):
    """A fresh client signed in as ``account``."""

    def open_as(account, password=PASSWORD):
        client = make_client()
        sign_in(client, account.username, password)
        return client

    return open_as


def hold_receipt_code(client, account_id: int, public_id: str, code: str) -> None:
    """Give ``client``'s session the withdrawal code of a piece, as sharing it would
    (``once.show_once``): the receipt page and its text file then show it to that session
    for 30 minutes, if the person may see the receipt at all."""
    from flask import session
    from flask_login import login_user

    from archive.models import Account
    from archive.web import once

    receipt = f"/items/{public_id}/receipt"
    with client.application.test_request_context():
        login_user(db.session.get(Account, account_id))
        once.show_once(receipt, {"code": code})
        token = session[once.SESSION_KEY][receipt]
        db.session.commit()
    with client.session_transaction() as held:
        held[once.SESSION_KEY] = {receipt: token}
