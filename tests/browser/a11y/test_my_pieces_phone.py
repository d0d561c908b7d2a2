""" "My pieces" on a 320 px phone, in Hindi, with JavaScript off: every piece's labels, places
and buttons fit the screen, and nothing makes the page scroll sideways."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 640}


def test_my_pieces_fit_a_320_px_phone_without_sideways_scrolling(site, open_page):
    page = open_page("hi", "asha", javascript=False)
    page.set_viewport_size(PHONE)

    assert page.goto(site.url + "/account/pieces").status == 200

    assert page.locator("ol.mine > li").count() >= 7  # her pieces, and the proposal
    assert page.locator(f'ol.mine a[href="/items/{site.poem}/withdraw"]').count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    widest = page.evaluate("""() => Math.max(...[...document.querySelectorAll('main *')]
                                  .map(el => el.getBoundingClientRect().right))""")
    assert widest <= PHONE["width"], "something in the page reaches past the screen"
