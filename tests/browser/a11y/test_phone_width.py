"""On a 320 px phone, the embed an advocate copies never makes her page scroll sideways, and
the embed card fits its frame: the snippet follows its container's width (no pixel width),
the card its frame's."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 640}
#: how far a document reaches past its own box, sideways and down
OVERFLOW = """() => { const root = document.documentElement;
  return [root.scrollWidth - root.clientWidth, root.scrollHeight - root.clientHeight]; }"""
#: whether an element is wholly inside its window (for a card: inside its frame)
IN_VIEW = """selector => { const box = document.querySelector(selector).getBoundingClientRect();
  return box.top >= 0 && box.left >= 0 && box.bottom <= innerHeight && box.right <= innerWidth; }"""


def test_an_embed_fits_a_320_px_phone(site, open_page):
    page = open_page("hi")
    page.set_viewport_size(PHONE)
    for piece in (site.story, site.artwork_plain):
        page.goto(f"{site.url}/items/{piece}")
        snippet = page.locator("#embed-snippet").input_value()
        assert "/embed/items/" in snippet

        page.set_content(
            "<!doctype html><html lang=hi><meta name=viewport "
            "content='width=device-width, initial-scale=1'><title>ब्लॉग</title>"
            f"<h1>हमारे मंडल से</h1>{snippet}<p>आगे की बात</p></html>"
        )
        frame = page.frame_locator("iframe")
        frame.locator(".embed-card .source a").wait_for()

        assert page.evaluate(OVERFLOW)[0] <= 0, "the advocate's page scrolls sideways"
        assert page.locator("iframe").bounding_box()["width"] <= PHONE["width"]
        card = page.frames[1]
        assert card.evaluate(OVERFLOW) == [0, 0], "the card spills out of its frame"
        assert card.evaluate(IN_VIEW, ".source a") and card.evaluate(IN_VIEW, "h1")

        page.goto(f"{site.url}/embed/items/{piece}")
        assert page.evaluate(OVERFLOW)[0] <= 0, "the embed page itself scrolls sideways"
