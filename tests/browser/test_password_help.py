"""A facilitator helps a member who forgot her password, both on 320 px phones in Marathi with
JavaScript off: on the circle's members page she makes a link, which shows whole and can be
sent on WhatsApp or by SMS; the member opens it, chooses a new password and is signed in.
Buttons and labels are found by the words a person reads, from the app's own catalogs."""

from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext

from archive.db import db
from archive.operations.accounts import authenticate, create_account
from archive.operations.circles import add_member, create_circle
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 640}
NEW = "पावसाळ्यातली पहिली सकाळ"


def test_a_member_chooses_a_new_password_with_a_link_her_facilitator_made(live_server, browser):
    app = live_server.server.app
    with app.app_context():
        circle = create_circle("ghar", "घर", languages="mr hi")
        add_member(circle, create_account("meera", PASSWORD, "facilitator", "मीरा"), "facilitator")
        add_member(circle, create_account("asha", PASSWORD, display_name="आशा"))
        db.session.commit()
        db.session.remove()

    def mr(message: str, **values) -> str:
        with app.test_request_context(), force_locale("mr"):
            return gettext(message, **values)

    def phone():
        return browser.new_context(
            java_script_enabled=False, locale="mr-IN", viewport=PHONE
        ).new_page()

    facilitator = phone()
    facilitator.goto(f"{live_server.url}/sign-in")
    facilitator.get_by_label(mr("Username")).fill("meera")
    facilitator.get_by_label(mr("Password"), exact=True).fill(PASSWORD)
    facilitator.get_by_role("button", name=mr("Sign in")).click()
    facilitator.goto(f"{live_server.url}/circles/ghar/members")
    facilitator.get_by_role("button", name=mr("Link for a new password")).click()

    box = facilitator.get_by_label(mr("Link to copy"))
    link = box.input_value()
    assert link.startswith(f"{live_server.url}/reset/")
    shown = box.bounding_box()
    assert shown["x"] >= 0 and shown["x"] + shown["width"] <= PHONE["width"]
    assert shown["height"] >= 2 * 16, "the link wraps onto more than one line"
    for label in ("Send on WhatsApp", "Send by SMS"):
        assert link.replace(":", "%3A") in facilitator.get_by_role(
            "link", name=mr(label)
        ).get_attribute("href")

    member = phone()
    member.goto(link)
    assert member.locator("h1").inner_text() == mr("Choose a new password")
    member.get_by_label(mr("New password"), exact=True).fill(NEW)
    member.get_by_label(mr("Type the new password again")).fill(NEW)
    member.get_by_role("button", name=mr("Save my new password")).click()

    assert (
        mr(
            "Your new password is saved and you are signed in. Anywhere else you were "
            "signed in, you are now signed out."
        )
        in member.locator("main").inner_text()
    )
    assert member.locator("form[action='/sign-out']").count() == 1
    member.goto(link)
    assert (
        mr(
            "This link to choose a new password does not work any more. Please ask your "
            "facilitator for a new one."
        )
        in member.locator("main").inner_text()
    )
    with app.app_context():
        assert authenticate("asha", NEW) is not None
        assert authenticate("asha", PASSWORD) is None
        db.session.remove()
    facilitator.context.close()
    member.context.close()
