"""Light pages on a thin connection: every main page's HTML plus the same-site CSS it links
stays within 30 KB, artwork comes in the size the screen needs, and nothing is fetched from
any host but the site itself."""

from __future__ import annotations

import pytest

from tests.browser.a11y.pages import LANGUAGES, MAIN_PAGES

pytestmark = pytest.mark.browser

#: uncompressed bytes (Devanagari takes three bytes a letter in UTF-8), images not counted
BUDGET = 30 * 1024


@pytest.mark.parametrize("lang", LANGUAGES[::-1])
@pytest.mark.parametrize("main_page", MAIN_PAGES[::-1], ids=lambda p: p.name)
def test_html_and_css_within_30_kb(site, survey, main_page, lang):
    weights = survey(main_page, lang).weights

    assert "/static/style.css" in weights
    print(f"weight {main_page.name} {lang}: {sum(weights.values())} bytes {weights}")
    assert sum(weights.values()) <= BUDGET, (
        f"{main_page.name} in {lang} is {sum(weights.values())} bytes: {weights}"
    )


# the other way round from test_axe: a second test worker that starts here surveys the
# pages the first has not reached yet, instead of waiting for the same page
@pytest.mark.parametrize("lang", LANGUAGES[::-1])
@pytest.mark.parametrize("main_page", MAIN_PAGES[::-1], ids=lambda p: p.name)
def test_no_request_leaves_the_site(site, survey, main_page, lang):
    """Every request while the page loads and its content notes open (fonts, scripts,
    images, CSS, prefetch): all to the site itself."""
    found = survey(main_page, lang)

    assert found.requested and found.foreign(site.url) == [], (
        f"{main_page.name} reached outside the site: {found.foreign(site.url)}"
    )


IMAGES = """() => [...document.querySelectorAll('img')].map(img => ({
    src: img.getAttribute('src'), alt: img.getAttribute('alt'),
    width: img.getAttribute('width'), height: img.getAttribute('height'),
    loading: img.getAttribute('loading'), fetchpriority: img.getAttribute('fetchpriority'),
    srcset: img.getAttribute('srcset') || '', sizes: img.getAttribute('sizes'),
    inNote: !!img.closest('details')}))"""


@pytest.mark.parametrize(
    "path, who, main_artwork",
    [
        (lambda s: f"/items/{s.artwork_plain}", None, True),
        (lambda s: f"/items/{s.artwork}", None, True),  # behind a content note
        (lambda s: "/collections/screen-time/read", None, False),
    ],
    ids=["item", "item-with-content-note", "collective-view"],
)
def test_artwork_sized_for_the_screen(site, open_page, path, who, main_artwork):
    page = open_page("en", who)
    page.goto(site.url + path(site))

    images = page.evaluate(IMAGES)

    assert images, "no artwork on the page"
    for image in images:
        assert image["alt"], image
        assert int(image["width"]) > 0 and int(image["height"]) > 0, image
        widths = sorted(int(c.split()[1].rstrip("w")) for c in image["srcset"].split(","))
        assert len(widths) == 3 and widths[0] < widths[1] < widths[2], image  # thumb..display
        assert image["sizes"], image
        if main_artwork and not image["inNote"]:
            assert image["fetchpriority"] == "high" and image["loading"] != "lazy", image
        else:
            assert image["loading"] == "lazy" and image["fetchpriority"] is None, image


def test_foreign_requests_are_recognised():
    """The request check can fail: anything not on the site's own host and port is foreign."""
    from tests.browser.a11y.survey import Survey

    seen = Survey(
        "en",
        [],
        {},
        requested=[
            "http://127.0.0.1:5000/",
            "http://127.0.0.1:5000/static/style.css",
            "data:image/png;base64,AAAA",
            "https://fonts.example.org/font.woff2",
            "http://127.0.0.1:6000/other-port.css",
            "http://localhost:5000/same-machine-other-name",
        ],
    )
    assert seen.foreign("http://127.0.0.1:5000") == [
        "https://fonts.example.org/font.woff2",
        "http://127.0.0.1:6000/other-port.css",
        "http://localhost:5000/same-machine-other-name",
    ]
