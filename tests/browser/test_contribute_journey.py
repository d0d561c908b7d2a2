"""A participant's whole journey in Hindi, in Chromium with JavaScript switched off: sign in,
choose हिन्दी, share a poem, keep the withdrawal code, edit the poem, read the word diff, and
share a photo of an artwork whose location never reaches the served picture."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from archive.db import db
from archive.operations.accounts import create_account
from archive.operations.circles import add_member, create_circle
from tests.conftest import PASSWORD
from tests.items_helpers import KHUSHI, POEM_LINES, UDASI, assert_clean_webp, gps_photo, nfc

pytestmark = pytest.mark.browser

CODE = re.compile(r"^[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}$")
SUBMIT = 'main form input[type="submit"]'
SEE_THE_PIECE = 'main a[href^="/items/"]:not([download])'


@pytest.fixture
def journey(live_server, browser):
    """The live site with one circle and one participant, and a browser context without
    JavaScript that records every request it makes."""
    app = live_server.server.app
    with app.app_context():
        circle = create_circle("ghar", "घर के लोग", languages="hi mr en")
        add_member(circle, create_account("asha", PASSWORD, display_name="आशा"))
        db.session.commit()
        db.session.remove()
    context = browser.new_context(java_script_enabled=False, locale="en-US")
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    try:
        yield live_server.url, context, context.new_page(), requested
    finally:
        context.close()


def submit(page, selector: str = SUBMIT):
    with page.expect_navigation() as navigation:
        page.click(selector)
    return navigation.value


def test_share_edit_and_compare_a_hindi_poem_then_an_artwork(journey, tmp_path):
    site, context, page, requested = journey

    # sign in, then switch the site to Hindi with the visible language buttons
    assert page.goto(f"{site}/sign-in").status == 200
    page.fill('input[name="username"]', "asha")
    page.fill('input[name="password"]', PASSWORD)
    submit(page)
    assert urlsplit(page.url).path == "/"
    submit(page, 'form.languages button[value="hi"]')
    assert page.get_attribute("html", "lang") == "hi"
    assert page.locator('form.languages button[aria-current="true"]').inner_text() == "हिन्दी"

    # share a poem with the circle
    assert page.goto(f"{site}/circles/ghar/contribute").status == 200
    assert page.get_attribute("html", "lang") == "hi"
    page.check('input[name="kind"][value="poem"]')
    page.fill('input[name="title"]', UDASI)
    page.fill('textarea[name="body"]', "\n".join(POEM_LINES))
    page.select_option('select[name="language"]', "hi")
    page.check('input[name="audience"][value="circle"]')
    receipt = submit(page)
    assert receipt.status == 200, page.locator("main").inner_text()
    assert re.fullmatch(r"/items/[A-Za-z0-9_-]{16}/receipt", urlsplit(page.url).path)
    assert page.locator("h1").inner_text() == "सहमति की रसीद"
    code = page.locator(".withdrawal-code code").inner_text().strip()
    assert CODE.match(code), code

    # the piece itself, with its line break and its language
    submit(page, SEE_THE_PIECE)
    item_path = urlsplit(page.url).path
    assert re.fullmatch(r"/items/[A-Za-z0-9_-]{16}", item_path)
    assert page.locator("h1").inner_text() == UDASI
    text = page.locator("div.text.poem")
    assert text.get_attribute("lang") == "hi"
    assert text.locator("br").count() == 1
    assert code not in page.content()

    # edit: उदासी becomes ख़ुशी
    submit(page, f'a[href="{item_path}/edit"]')
    page.fill('textarea[name="body"]', "\n".join(POEM_LINES).replace(UDASI, KHUSHI))
    page.fill('input[name="note"]', "एक शब्द बदला")
    submit(page)
    assert urlsplit(page.url).path == item_path
    assert KHUSHI in nfc(text.inner_text())
    shot = tmp_path / "poem.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 1000

    # history, then what changed
    submit(page, f'a[href="{item_path}/history"]')
    assert page.locator("ol.history > li").count() == 2
    assert "एक शब्द बदला" in page.locator("ol.history").inner_text()
    submit(page, 'ol.history a[href*="/diff?"]')
    assert [nfc(t) for t in page.locator(".diff-view del").all_inner_texts()] == [UDASI]
    assert [nfc(t) for t in page.locator(".diff-view ins").all_inner_texts()] == [KHUSHI]

    # an artwork photo that carries GPS and the camera's make
    photo = tmp_path / "IMG_20240601_location.jpg"
    photo.write_bytes(gps_photo())
    page.goto(f"{site}/circles/ghar/contribute")
    page.check('input[name="kind"][value="artwork"]')
    page.fill('input[name="title"]', "मेरी पेंटिंग")
    page.set_input_files('input[name="image"]', str(photo))
    page.fill('textarea[name="alt_text"]', "नीले और लाल रंग की एक पेंटिंग")
    page.check('input[name="audience"][value="circle"]')
    assert submit(page).status == 200
    submit(page, SEE_THE_PIECE)
    image = page.locator("figure.artwork img")
    assert image.get_attribute("alt") == "नीले और लाल रंग की एक पेंटिंग"
    sources = [image.get_attribute("src")] + [
        candidate.strip().split()[0] for candidate in image.get_attribute("srcset").split(",")
    ]
    for source in dict.fromkeys(sources):
        served = page.request.get(f"{site}{source}")
        assert served.status == 200, source
        assert served.headers["content-type"] == "image/webp"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in served.headers["content-security-policy"]
        assert_clean_webp(served.body())
    shot = tmp_path / "artwork.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 1000

    foreign = [
        url
        for url in requested
        if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).hostname != "127.0.0.1"
    ]
    assert requested and foreign == [], foreign
