"""Accounts: signing in and out, sessions that end, CSRF, field limits, rate limits, tokens."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from archive import passwords
from archive.db import db
from archive.models import Account, ApiToken
from archive.operations import Refused
from archive.operations import accounts as ops
from tests.conftest import PASSWORD, BrowserLikeClient, sign_in
from tests.services import postgres

pytestmark = pytest.mark.both_databases

NEW_PASSWORD = "a new moon over the hills"
MISMATCH = "That username and password do not match"


def _accounts() -> int:
    return db.session.scalar(select(func.count()).select_from(Account))


def _signed_in_user(client):
    with client.session_transaction() as session:
        return session.get("_user_id")


def _session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie was set"
    return cookie.value


def _client_with_cookie(make_client, value: str) -> BrowserLikeClient:
    other = make_client()
    other.set_cookie("session", value)
    return other


def _is_sign_in_redirect(response) -> bool:
    return response.status_code == 302 and response.location.startswith("/sign-in")


# --- signing in ---------------------------------------------------------------------------


def test_sign_in_and_see_the_account_page(client, make_account):
    make_account("lata", display_name="Lata")
    assert _is_sign_in_redirect(client.get("/account"))

    response = sign_in(client, "lata")

    assert response.location == "/"
    assert _signed_in_user(client) is not None
    page = client.get("/account")
    assert page.status_code == 200
    assert "lata" in page.get_data(as_text=True)


def test_username_is_matched_without_case(client, make_account):
    make_account("Lata")
    sign_in(client, "LATA")
    assert client.get("/account").status_code == 200


def test_wrong_password_is_refused(client, make_account):
    make_account("lata")
    response = client.post_form("/sign-in", {"username": "lata", "password": "not it at all"})
    assert response.status_code == 422
    assert MISMATCH in response.get_data(as_text=True)
    assert _signed_in_user(client) is None
    assert _is_sign_in_redirect(client.get("/account"))


def test_unknown_username_takes_the_same_path(client, make_account, monkeypatch):
    make_account("lata")
    checks = []
    real_verify = passwords.verify_password
    monkeypatch.setattr(
        passwords,
        "verify_password",
        lambda stored, given: checks.append(stored) or real_verify(stored, given),
    )

    known = client.post_form("/sign-in", {"username": "lata", "password": "not it at all"})
    unknown = client.post_form("/sign-in", {"username": "nobody", "password": "not it at all"})

    assert known.status_code == unknown.status_code == 422
    assert MISMATCH in unknown.get_data(as_text=True)
    # one argon2 verification on each path, so both take about as long
    assert len(checks) == 2
    assert all(stored.startswith("$argon2id$") for stored in checks)
    assert _signed_in_user(client) is None


def test_inactive_account_cannot_sign_in(client, make_account):
    account = make_account("lata")
    account.active = False
    db.session.commit()
    response = client.post_form("/sign-in", {"username": "lata", "password": PASSWORD})
    assert response.status_code == 422
    assert _signed_in_user(client) is None


def test_password_is_stored_as_argon2id(app, make_account):
    account = make_account("lata")
    assert account.password_hash.startswith("$argon2id$")
    assert PASSWORD not in account.password_hash


# --- sessions end on sign-out and password change ------------------------------------------


def test_copied_cookie_stops_working_after_sign_out(client, make_client, make_account):
    make_account("lata")
    sign_in(client, "lata")
    old_cookie = _session_cookie(client)
    # the copied cookie works while the session lasts (so the check below means something)
    assert _client_with_cookie(make_client, old_cookie).get("/account").status_code == 200

    response = client.post_form("/sign-out", page="/account")
    assert response.status_code == 302
    assert _is_sign_in_redirect(client.get("/account"))

    assert _is_sign_in_redirect(_client_with_cookie(make_client, old_cookie).get("/account"))


def test_signing_in_again_after_sign_out_works(client, make_account):
    make_account("lata")
    sign_in(client, "lata")
    client.post_form("/sign-out", page="/account")
    sign_in(client, "lata")
    assert client.get("/account").status_code == 200


def test_password_change_ends_other_sessions(client, make_client, make_account):
    account = make_account("lata")
    sign_in(client, "lata")
    elsewhere = make_client()
    sign_in(elsewhere, "lata")
    old_cookie = _session_cookie(client)
    assert _client_with_cookie(make_client, old_cookie).get("/account").status_code == 200

    response = client.post_form(
        "/account/password",
        {
            "password-current_password": PASSWORD,
            "password-new_password": NEW_PASSWORD,
            "password-new_password_again": NEW_PASSWORD,
        },
        page="/account",
    )

    assert response.status_code == 302
    assert client.get("/account").status_code == 200  # the changing session stays in
    assert _is_sign_in_redirect(elsewhere.get("/account"))
    assert _is_sign_in_redirect(_client_with_cookie(make_client, old_cookie).get("/account"))
    db.session.refresh(account)
    assert passwords.verify_password(account.password_hash, NEW_PASSWORD)
    assert not passwords.verify_password(account.password_hash, PASSWORD)


def test_password_change_needs_the_current_password(client, make_account):
    account = make_account("lata")
    before = account.password_hash
    sign_in(client, "lata")
    response = client.post_form(
        "/account/password",
        {
            "password-current_password": "wrong wrong wrong",
            "password-new_password": NEW_PASSWORD,
            "password-new_password_again": NEW_PASSWORD,
        },
        page="/account",
    )
    assert response.status_code == 422
    assert "Your current password is not right." in response.get_data(as_text=True)
    db.session.refresh(account)
    assert account.password_hash == before
    assert client.get("/account").status_code == 200


def test_new_passwords_must_match(client, make_account):
    account = make_account("lata")
    before = account.password_hash
    sign_in(client, "lata")
    response = client.post_form(
        "/account/password",
        {
            "password-current_password": PASSWORD,
            "password-new_password": NEW_PASSWORD,
            "password-new_password_again": NEW_PASSWORD + "!",
        },
        page="/account",
    )
    assert response.status_code == 422
    assert "The two passwords are not the same." in response.get_data(as_text=True)
    db.session.refresh(account)
    assert account.password_hash == before


# --- CSRF ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "hi"])
def test_sign_in_without_csrf_token_is_refused(client, make_account, language):
    make_account("lata")
    response = client.post(
        "/sign-in",
        data={"username": "lata", "password": PASSWORD},
        headers={"Accept-Language": language},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'<html lang="{language}">' in html
    if language == "en":
        assert "This form has expired" in html
    assert _signed_in_user(client) is None


def test_password_change_without_csrf_token_is_refused(client, make_account):
    account = make_account("lata")
    before = account.password_hash
    sign_in(client, "lata")
    response = client.post(
        "/account/password",
        data={
            "password-current_password": PASSWORD,
            "password-new_password": NEW_PASSWORD,
            "password-new_password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    db.session.refresh(account)
    assert account.password_hash == before
    assert client.get("/account").status_code == 200


def test_wrong_csrf_token_is_refused(client, make_account):
    make_account("lata")
    client.get("/sign-in")
    response = client.post(
        "/sign-in", data={"username": "lata", "password": PASSWORD, "csrf_token": "made-up"}
    )
    assert response.status_code == 400
    assert _signed_in_user(client) is None


def test_sign_out_without_csrf_token_keeps_the_session(client, make_account):
    make_account("lata")
    sign_in(client, "lata")
    assert client.post("/sign-out").status_code == 400
    assert client.get("/account").status_code == 200


# --- field limits and duplicate names -----------------------------------------------------


def _invite_token(app, make_circle, make_account) -> str:
    circle = make_circle()
    facilitator = make_account(role="facilitator", circle=circle)
    token = ops.create_invite(circle, facilitator)
    db.session.commit()
    return token


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("username", "a" * 41, "Please keep this under 41 characters."),
        ("display_name", "n" * 81, "Please keep this under 81 characters."),
        ("password", "p" * 257, "Please keep this under 257 characters."),
    ],
)
def test_over_long_fields_on_joining(app, client, make_circle, make_account, field, value, message):
    token = _invite_token(app, make_circle, make_account)
    before = _accounts()
    form = {
        "username": "newcomer",
        "display_name": "New",
        "password": PASSWORD,
        "password_again": PASSWORD,
    }
    form[field] = value
    if field == "password":
        form["password_again"] = value

    response = client.post_form(f"/join/{token}", form)

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _accounts() == before


def test_over_long_sign_in_fields(client, make_account):
    make_account("lata")
    response = client.post_form("/sign-in", {"username": "l" * 41, "password": "p" * 257})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Please keep this under 41 characters." in html
    assert "Please keep this under 257 characters." in html


def test_over_long_display_name_on_the_account_page(client, make_account):
    account = make_account("lata", display_name="Lata")
    sign_in(client, "lata")
    response = client.post_form(
        "/account",
        {"profile-display_name": "n" * 81, "profile-locale": "", "profile-submit": "Save"},
    )
    assert response.status_code == 422
    assert "Please keep this under 81 characters." in response.get_data(as_text=True)
    db.session.refresh(account)
    assert account.display_name == "Lata"


def test_over_long_new_password(client, make_account):
    account = make_account("lata")
    before = account.password_hash
    sign_in(client, "lata")
    response = client.post_form(
        "/account/password",
        {
            "password-current_password": PASSWORD,
            "password-new_password": "p" * 257,
            "password-new_password_again": "p" * 257,
        },
        page="/account",
    )
    assert response.status_code == 422
    assert "Please keep this under 257 characters." in response.get_data(as_text=True)
    db.session.refresh(account)
    assert account.password_hash == before


@pytest.mark.parametrize(
    "username, password",
    [
        ("a" * 41, PASSWORD),
        ("ab", PASSWORD),
        ("has space", PASSWORD),
        ("fine_name", "short"),
        ("fine_name", "p" * 257),
    ],
)
def test_create_account_refuses_bad_fields(request_context, username, password):
    with pytest.raises(Refused):
        ops.create_account(username, password)
    db.session.rollback()
    assert _accounts() == 0


def test_duplicate_username_ignores_case(request_context, make_account):
    make_account("Asha")
    with pytest.raises(Refused) as refused:
        ops.create_account("asha", PASSWORD)
    assert refused.value.field == "username"
    assert "taken" in str(refused.value.message)
    db.session.rollback()
    assert _accounts() == 1


def test_duplicate_username_in_another_unicode_form(request_context, make_account):
    make_account("Zoë")  # NFC ë
    with pytest.raises(Refused):
        ops.create_account("zoe\u0308", PASSWORD)  # e + combining diaeresis


def test_devanagari_username(client, make_account):
    make_account("आशा")
    sign_in(client, "आशा")
    assert client.get("/account").status_code == 200


# --- redirects after sign-in --------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "evil.example",
    ],
)
def test_sign_in_never_redirects_off_site(client, make_account, target):
    make_account("lata")
    response = client.post_form(
        "/sign-in?" + urlencode({"next": target}), {"username": "lata", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.location == "/"


def test_sign_in_returns_to_a_page_on_this_site(client, make_account):
    make_account("lata")
    response = client.post_form(
        "/sign-in?next=/account", {"username": "lata", "password": PASSWORD}
    )
    assert response.location == "/account"


# --- rate limit ---------------------------------------------------------------------------


def test_sign_in_is_rate_limited(make_app):
    app = make_app(SIGN_IN_ADDRESS_LIMIT="3 per minute")
    client = BrowserLikeClient(app.test_client())
    wrong = {"username": "nobody", "password": "not it at all"}
    for _ in range(3):
        assert client.post_form("/sign-in", wrong).status_code == 422

    response = client.post_form("/sign-in", wrong)

    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "Please wait a little" in html
    assert '<html lang="en">' in html
    assert "Traceback" not in html
    assert client.get("/sign-in").status_code == 200  # the page itself still opens


# --- API tokens on the account page -------------------------------------------------------

TOKEN = re.compile(r"\bla_[A-Za-z0-9_\-]{40,}")


def _stored_bytes(tmp_path) -> bytes:
    if postgres.backend() == "postgresql":
        return postgres.database_contents(db.engine.url.render_as_string(hide_password=False))
    return b"".join(path.read_bytes() for path in tmp_path.glob("test.sqlite3*"))


def test_create_and_revoke_a_token_on_the_web(client, make_account, tmp_path):
    account = make_account("lata")
    sign_in(client, "lata")

    response = client.post_form(
        "/account/tokens",
        {"token-label": "my phone", "token-current_password": PASSWORD},
        page="/account",
        follow_redirects=True,
    )

    assert response.status_code == 200
    secret = TOKEN.search(response.get_data(as_text=True)).group(0)
    db.session.expire_all()
    row = db.session.scalar(select(ApiToken).where(ApiToken.account_id == account.id))
    assert row.label == "my phone"
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr([getattr(row, c.key) for c in ApiToken.__table__.columns])
    assert secret.encode() not in _stored_bytes(tmp_path)
    assert ops.account_for_token(secret).id == account.id
    db.session.commit()  # (it notes the time of use)
    assert secret not in client.get("/account").get_data(as_text=True)  # shown only once

    revoked = client.post_form(f"/account/tokens/{row.id}/revoke", page="/account")

    assert revoked.status_code == 302
    db.session.expire_all()
    assert ops.account_for_token(secret) is None


def test_cannot_revoke_someone_elses_token(client, make_account):
    owner = make_account("owner")
    make_account("lata")
    secret = ops.create_token(owner, "theirs")
    db.session.commit()
    token_id = db.session.scalar(select(ApiToken.id))
    sign_in(client, "lata")

    client.post_form(f"/account/tokens/{token_id}/revoke", page="/account")

    db.session.expire_all()
    assert ops.account_for_token(secret).id == owner.id


def test_token_of_an_inactive_account_does_not_work(app, make_account):
    account = make_account("lata")
    secret = ops.create_token(account)
    account.active = False
    db.session.commit()
    assert ops.account_for_token(secret) is None
    assert ops.account_for_token("la_not-a-real-token") is None


def test_an_over_long_token_label_makes_no_token(client, make_account):
    make_account("lata")
    sign_in(client, "lata")
    response = client.post_form("/account/tokens", {"token-label": "l" * 81}, page="/account")
    assert response.status_code == 422
    assert "Please keep this under 81 characters." in response.get_data(as_text=True)
    assert not TOKEN.search(response.get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
