"""Sign-in limits that suit a workshop: failures are counted per account and, generously, per
address; a sign-in that works uses up nothing. Thirty people on one Wi-Fi sign in within a
minute; guessing one account is cut off after five wrong passwords whatever address they come
from; the page that says so keeps the username that was typed."""

from __future__ import annotations

from archive.config import SETTINGS
from archive.db import db
from archive.operations.accounts import create_account
from tests.conftest import PASSWORD, BrowserLikeClient

WORKSHOP = "203.0.113.7"
#: the site's own limits, not the test configuration's
DEFAULTS = {
    "SIGN_IN_ACCOUNT_LIMIT": SETTINGS["SIGN_IN_ACCOUNT_LIMIT"][0],
    "SIGN_IN_ADDRESS_LIMIT": SETTINGS["SIGN_IN_ADDRESS_LIMIT"][0],
}


def _from(app, address: str) -> BrowserLikeClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return BrowserLikeClient(client)


def _sign_in(app, address: str, username: str, password: str = PASSWORD):
    sent = {"username": username, "password": password}
    client = _from(app, address)
    if not app.config.get("WTF_CSRF_ENABLED", True):
        return client.post("/sign-in", data=sent)
    return client.post_form("/sign-in", sent)


def _people(app, *usernames: str) -> None:
    with app.app_context():
        for username in usernames:
            create_account(username, PASSWORD)
        db.session.commit()


def test_a_workshop_of_thirty_on_one_wi_fi_signs_in_within_a_minute(make_app):
    app = make_app(WTF_CSRF_ENABLED=False, **DEFAULTS)  # one request a try: quicker
    people = [f"person{n:02d}" for n in range(30)]
    _people(app, *people)

    mistyped = [_sign_in(app, WORKSHOP, name, "not quite it").status_code for name in people[:12]]
    answers = [_sign_in(app, WORKSHOP, name).status_code for name in people]

    assert mistyped == [422] * 12
    assert answers == [302] * 30


def test_guessing_one_account_is_limited_from_any_address(make_app):
    """(Through Redis, shared by two workers: tests/test_rate_limits_shared.py.)"""
    app = make_app(**DEFAULTS)
    _people(app, "आशा", "ravi")
    guesses = [
        _sign_in(app, f"198.51.100.{n}", "आशा", f"guess number {n}").status_code for n in range(5)
    ]

    limited = _sign_in(app, "198.51.100.99", "आशा")  # even the right password

    assert guesses == [422] * 5
    assert limited.status_code == 429
    assert _sign_in(app, "198.51.100.99", "ravi").status_code == 302  # others sign in
    assert _sign_in(app, "198.51.100.98", "आशा".upper()).status_code == 429


def test_the_limited_page_keeps_the_username(make_app):
    """And a sign-in that works starts the username's count afresh."""
    app = make_app(SIGN_IN_ACCOUNT_LIMIT="2 per 15 minutes")
    _people(app, "lata")
    client = _from(app, WORKSHOP)
    wrong = {"username": "lata", "password": "wrong again!"}
    assert client.post_form("/sign-in", wrong).status_code == 422
    assert _sign_in(app, WORKSHOP, "lata").status_code == 302  # her count starts afresh
    assert [client.post_form("/sign-in", wrong).status_code for _ in range(2)] == [422, 422]

    limited = client.post_form("/sign-in", wrong)

    html = limited.get_data(as_text=True)
    assert limited.status_code == 429
    assert 'name="username"' in html and 'value="lata"' in html
    assert "wrong again!" not in html
    assert "Too many tries for this username" in html
    assert 'role="alert"' in html and '<html lang="en">' in html


def test_many_failures_from_one_address_are_capped(make_app):
    app = make_app(SIGN_IN_ADDRESS_LIMIT="3 per minute")
    _people(app, "lata", "ravi")
    answers = [
        _sign_in(app, WORKSHOP, name, "not the one").status_code
        for name in ("lata", "ravi", "someone")
    ]

    assert answers == [422] * 3
    assert _sign_in(app, WORKSHOP, "lata").status_code == 429
    assert _sign_in(app, "192.0.2.1", "lata").status_code == 302  # another address


def test_reset_links_are_tried_against_the_same_allowance(make_app):
    app = make_app(SIGN_IN_ADDRESS_LIMIT="3 per minute")
    client = _from(app, WORKSHOP)
    assert client.get("/reset/not-a-link").status_code == 404
    assert client.get("/reset/nor-this-one").status_code == 404
    assert _sign_in(app, WORKSHOP, "nobody", "not the one").status_code == 422

    assert client.get("/reset/third-guess").status_code == 429
    assert _sign_in(app, WORKSHOP, "nobody", "not the one").status_code == 429
