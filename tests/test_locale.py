"""Which language a page is in: the account's choice, then the switcher, then the browser.
Signed out, the switcher is three links that set a cookie of its own (no session, no form);
signed in, a form that also saves the account's language."""

from __future__ import annotations

import html as html_module
import re

import pytest

from archive.db import db
from archive.models import Account
from tests.conftest import sign_in

CURRENT = re.compile(
    r'<button[^>]*name="locale"[^>]*value="(\w+)"[^>]*aria-current="true"'
    r'|<a href="/language/(\w+)\?[^>]*aria-current="true"'
)


def page_language(response) -> str:
    html = response.get_data(as_text=True)
    match = re.search(r'<html lang="([\w-]+)">', html)
    assert match, "the page has no <html lang>"
    current = ["".join(found) for found in CURRENT.findall(html)]
    assert current == [match.group(1)], "the switcher marks another language as current"
    return match.group(1)


def choose(client, locale, page="/", **headers):
    """The switcher's link, as the page shows it."""
    html = client.get(page, headers=headers).get_data(as_text=True)
    link = re.search(rf'<a href="(/language/{re.escape(locale)}\?next=[^"]*)"', html)
    url = html_module.unescape(link.group(1)) if link else f"/language/{locale}?next={page}"
    return client.get(url, headers=headers)


def choose_signed_in(client, locale, page="/"):
    return client.post_form("/language", {"locale": locale, "next": page}, page=page)


def chosen_cookie(client):
    cookie = client.get_cookie("language")
    return cookie.value if cookie else None


def test_default_is_english(client):
    assert page_language(client.get("/")) == "en"


@pytest.mark.parametrize(
    "header, expected",
    [
        ("hi", "hi"),
        ("mr-IN,mr;q=0.9,en;q=0.5", "mr"),
        ("en-GB,en;q=0.9", "en"),
        ("fr,de;q=0.8", "en"),
        ("fr, hi;q=0.3", "hi"),
    ],
)
def test_browser_language(client, header, expected):
    assert page_language(client.get("/", headers={"Accept-Language": header})) == expected


def test_switcher_sets_a_cookie_and_no_session(client):
    response = choose(client, "mr")
    assert response.status_code == 303
    assert response.location == "/"
    (cookie,) = response.headers.getlist("Set-Cookie")
    assert cookie.startswith("language=mr;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get_cookie("session") is None
    assert page_language(client.get("/")) == "mr"
    assert page_language(client.get("/sign-in")) == "mr"


def test_switcher_beats_the_browser(client):
    choose(client, "mr", **{"Accept-Language": "hi"})
    assert page_language(client.get("/", headers={"Accept-Language": "hi"})) == "mr"


def test_switcher_returns_to_the_page(client):
    response = choose(client, "hi", page="/sign-in")
    assert response.location == "/sign-in"
    assert page_language(client.get(response.location)) == "hi"


def test_switcher_does_not_redirect_off_site(client):
    for evil in ("//evil.example", "https://evil.example/", "/\\evil.example"):
        response = client.get("/language/hi", query_string={"next": evil})
        assert response.location == "/", evil


@pytest.mark.parametrize("unknown", ["xx", "fr", "en_US", "hi-IN"])
def test_unknown_locale_is_ignored(client, unknown):
    choose(client, "mr")
    response = client.get(f"/language/{unknown}?next=/")
    assert response.status_code == 303
    assert "Set-Cookie" not in response.headers
    assert chosen_cookie(client) == "mr"
    assert page_language(client.get("/")) == "mr"


def test_a_made_up_cookie_is_ignored(client):
    client.set_cookie("language", "xx")
    assert page_language(client.get("/", headers={"Accept-Language": "hi"})) == "hi"


def test_signed_in_switcher_without_csrf_token_changes_nothing(client, make_account):
    make_account("asha")
    sign_in(client, "asha")
    response = client.post("/language", data={"locale": "mr"})
    assert response.status_code == 400
    assert chosen_cookie(client) is None
    assert page_language(client.get("/")) == "en"


def test_account_choice_beats_the_cookie(client, make_account):
    make_account("asha", locale="hi")
    sign_in(client, "asha")
    client.set_cookie("language", "mr")
    assert page_language(client.get("/", headers={"Accept-Language": "en"})) == "hi"
    assert page_language(client.get("/account")) == "hi"


def test_chosen_language_is_kept_when_signing_in(client, make_account):
    make_account("rohan")  # no language of his own
    choose(client, "mr")
    sign_in(client, "rohan")
    assert page_language(client.get("/account")) == "mr"


def test_signed_in_switcher_saves_the_account_choice(client, make_client, make_account):
    account = make_account("asha", locale="hi")
    sign_in(client, "asha")

    choose_signed_in(client, "mr", page="/account")

    db.session.expire_all()
    assert db.session.get(Account, account.id).locale == "mr"
    assert page_language(client.get("/account")) == "mr"
    elsewhere = make_client()  # a new phone, browser in English
    sign_in(elsewhere, "asha")
    assert page_language(elsewhere.get("/", headers={"Accept-Language": "en"})) == "mr"


def test_account_page_sets_the_language(client, make_account):
    account = make_account("asha")
    sign_in(client, "asha")
    response = client.post_form(
        "/account",
        {"profile-display_name": "Asha", "profile-locale": "hi", "profile-submit": "Save"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Account, account.id).locale == "hi"
    assert page_language(client.get("/account")) == "hi"


def test_account_page_refuses_an_unknown_language(client, make_account):
    account = make_account("asha", locale="hi")
    sign_in(client, "asha")
    response = client.post_form(
        "/account",
        {"profile-display_name": "Asha", "profile-locale": "xx", "profile-submit": "Save"},
    )
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Account, account.id).locale == "hi"


def test_language_survives_sign_out(client, make_account):
    make_account("rohan")
    sign_in(client, "rohan")
    choose_signed_in(client, "hi")
    client.post_form("/sign-out", page="/")
    assert page_language(client.get("/")) == "hi"


@pytest.mark.parametrize("locale", ["hi", "mr"])
def test_error_pages_follow_the_switcher(client, locale):
    choose(client, locale)
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert page_language(response) == locale


def test_switcher_names_each_language_in_itself(client, make_account):
    html = client.get("/").get_data(as_text=True)
    for code, name in (("en", "English"), ("hi", "हिन्दी"), ("mr", "मराठी")):
        assert re.search(rf'hreflang="{code}" lang="{code}"[^>]*>{name}</a>', html), code
    make_account("asha")
    sign_in(client, "asha")
    html = client.get("/").get_data(as_text=True)
    for code, name in (("en", "English"), ("hi", "हिन्दी"), ("mr", "मराठी")):
        assert re.search(rf'value="{code}" lang="{code}"[^>]*>{name}</button>', html), code


def test_templates_read_the_translations_of_their_own_rendering(app):
    """A rendering looks the translations up once (``archive.translating``) and so follows
    the language it was made in: the request's, or one forced around it (receipts and
    exports are written in their person's language); a macro imported without context,
    and a number, follow it too."""
    from flask import render_template_string
    from flask_babel import force_locale

    page = (
        '{% from "_form.html" import button_form %}{{ _("Search") }} '
        '{{ ngettext("%(num)d version", "%(num)d versions", 2) }} {{ format_number(1234567) }} '
        '{{ button_form("/x", _("Search")) }}'
    )
    with app.test_request_context(headers={"Accept-Language": "hi"}):
        hindi = render_template_string(page)
        with force_locale("mr"):
            marathi = render_template_string(page)
        again = render_template_string(page)
    assert hindi.startswith("खोजें 2 संस्करण 12,34,567") and hindi.count("खोजें") == 2
    assert marathi.startswith("शोधा ") and marathi.count("शोधा") == 2
    assert again == hindi
