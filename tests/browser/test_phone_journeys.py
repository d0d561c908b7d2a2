"""Everyday use on a 390 px phone, in Hindi, with JavaScript switched off.

A participant shares a poem and lands on its receipt; she taps "See the piece" and goes
Back: the receipt is still there with the same code (no "Confirm Form Resubmission"), and
reloading it makes no second piece. Then she shares a photo of an artwork but forgets the
title: the form comes back with the photo kept, and she sends it again without sending the
photo a second time. Both pages, new states of the receipt and of the form, pass axe.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from flask import request
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from archive.db import db
from archive.models import Item, MediaAsset
from archive.operations.accounts import create_account
from archive.operations.circles import add_member, create_circle
from tests.browser.a11y.survey import axe_violations
from tests.conftest import PASSWORD
from tests.items_helpers import POEM_LINES, UDASI, gps_photo

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
CODE = re.compile(r"^[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}$")
RECEIPT = re.compile(r"/items/[A-Za-z0-9_-]{16}/receipt")
#: how far the page reaches past the phone's width
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def phone(live_server, browser):
    """The live site with a circle and a participant, a Hindi phone without JavaScript, and
    every form the site receives (address and size)."""
    app = live_server.server.app
    with app.app_context():
        circle = create_circle("ghar", "घर के लोग", languages="hi mr en")
        add_member(circle, create_account("sunita", PASSWORD, display_name="सुनीता"))
        db.session.commit()
        db.session.remove()
    sent: list[tuple[str, int]] = []

    @app.before_request
    def note_what_is_sent():
        if request.method == "POST":
            sent.append((request.path, request.content_length or 0))

    context = browser.new_context(
        java_script_enabled=False, locale="hi-IN", viewport=PHONE, is_mobile=True, has_touch=True
    )

    def hi(message: str, **values) -> str:
        with app.test_request_context(), force_locale("hi"):
            return gettext(message, **values)

    def count(model) -> int:
        with app.app_context():
            try:
                return db.session.scalar(select(func.count()).select_from(model))
            finally:
                db.session.remove()

    page = context.new_page()
    page.set_default_timeout(10_000)

    def with_script():
        """A tab of the same session with script on, for axe-core (it cannot run without)."""
        tab = browser.new_context(
            storage_state=context.storage_state(), locale="hi-IN", viewport=PHONE
        ).new_page()
        opened.append(tab.context)
        return tab

    opened = [context]
    try:
        yield live_server.url, page, hi, sent, count, with_script
    finally:
        for each in opened:
            each.close()


def go(page, act):
    """Do what leads to another page (a tap, Back, reload), and wait for that page."""
    with page.expect_navigation() as navigation:
        act()
    return navigation.value


def test_receipt_survives_back_and_reload_and_a_photo_is_sent_once(phone, tmp_path):
    site, page, hi, sent, count, with_script = phone
    page.goto(f"{site}/sign-in")
    page.get_by_label(hi("Username")).fill("sunita")
    page.get_by_label(hi("Password")).fill(PASSWORD)
    go(page, page.get_by_role("button", name=hi("Sign in")).tap)
    assert page.get_attribute("html", "lang") == "hi"

    # share a poem: the answer is its receipt, at an address of its own
    page.goto(f"{site}/circles/ghar/contribute")
    page.get_by_role("radio", name=hi("A poem")).check()
    page.get_by_label(hi("Title"), exact=True).fill(UDASI)
    page.get_by_label(hi("Your words")).fill("\n".join(POEM_LINES))
    page.get_by_role("radio", name=hi("My circle: the members of this circle")).check()
    receipt = go(page, page.get_by_role("button", name=hi("Share it")).tap)
    assert receipt.status == 200 and RECEIPT.fullmatch(urlsplit(page.url).path)
    receipt_url = page.url
    code = page.locator(".withdrawal-code code").inner_text().strip()
    assert CODE.match(code), code
    assert page.get_by_role("link", name=hi("Download the receipt")).is_visible()
    assert page.get_by_role("button", name=hi("I have kept my code")).is_visible()
    assert page.evaluate(SIDEWAYS) <= 0, "the receipt scrolls sideways on a phone"
    assert len(receipt.body()) <= 30_000

    # "See the piece", then Back: the receipt again, with its code, nothing sent again
    go(page, page.get_by_role("link", name=hi("See the piece")).tap)
    assert page.locator("h1").inner_text() == UDASI
    posts = len(sent)
    back = go(page, page.go_back)
    assert back.status == 200 and page.url == receipt_url
    assert page.locator(".withdrawal-code code").inner_text().strip() == code
    # and a reload neither sends the form again nor makes a second piece
    assert go(page, page.reload).status == 200
    assert page.locator(".withdrawal-code code").inner_text().strip() == code
    assert len(sent) == posts and count(Item) == 1

    # an artwork without its title: the photo is kept while she fixes it
    photo = tmp_path / "IMG_20240601.jpg"
    photo.write_bytes(gps_photo())
    page.goto(f"{site}/circles/ghar/contribute")
    page.get_by_role("radio", name=hi("Artwork: a photo of something made")).check()
    page.get_by_label(hi("Photo of the artwork")).set_input_files(str(photo))
    page.get_by_label(hi("Describe the artwork for someone who cannot see it")).fill(
        "नीले और लाल रंग की एक पेंटिंग"
    )
    page.get_by_role("radio", name=hi("My circle: the members of this circle")).check()
    refused = go(page, page.get_by_role("button", name=hi("Share it")).tap)
    assert refused.status == 422
    assert hi("Your photo is kept; fix the fields below.") in page.locator("main").inner_text()
    kept = page.get_by_role("img", name=hi("The photo you chose"))
    assert kept.evaluate("image => image.complete && image.naturalWidth > 0")
    assert page.evaluate(SIDEWAYS) <= 0, "the form scrolls sideways on a phone"
    assert len(refused.body()) <= 30_000
    with_photo = sent[-1][1]
    assert with_photo > photo.stat().st_size

    page.get_by_label(hi("Title"), exact=True).fill("मेरी पेंटिंग")
    shared = go(page, page.get_by_role("button", name=hi("Share it")).tap)
    assert shared.status == 200 and RECEIPT.fullmatch(urlsplit(page.url).path)
    assert sent[-1][1] < 20_000, "the photo was sent a second time"
    assert count(Item) == 2 and count(MediaAsset) == 1

    # the receipt with its code, and the form with a kept photo, pass axe
    tab = with_script()
    tab.goto(receipt_url)
    assert tab.locator(".withdrawal-code code").inner_text().strip() == code
    assert axe_violations(tab) == []
    tab.goto(f"{site}/circles/ghar/contribute")
    tab.get_by_label(hi("Photo of the artwork")).set_input_files(str(photo))
    go(tab, tab.get_by_role("button", name=hi("Share it")).click)
    assert tab.get_by_role("img", name=hi("The photo you chose")).is_visible()
    assert axe_violations(tab) == []
