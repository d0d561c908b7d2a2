"""Every main page in Hindi and Marathi carries no leftover English: the words a page shows in
the interface's own language (text, button values, labels read aloud, alt and title) hold no
Latin word except those of an allow-list: the language switcher's "English", brand names, and
what people wrote or are called (the site's own content, kept with its own ``lang``)."""

from __future__ import annotations

import pytest

from tests.browser.a11y.pages import MAIN_PAGES
from tests.browser.a11y.survey import UI_WORDS

pytestmark = pytest.mark.browser

ALLOWED = {
    "english",
    "whatsapp",
    "zip",  # names: the switcher's English, brands, formats
    "heic",
    "jpeg",
    "png",
    "webp",
    "mb",
    "am",
    "pm",  # CLDR's hi and mr times of day (Babel)
    "ist",  # the site's time zone, as times name it
    "udasi",  # the help's example of typing Hindi in Latin
    "zzqqxx",  # a search page's own query, in its title
    "asha",
    "meera",
    "ghar",
    "screen",
    "time",  # usernames, the circle's and a collection's slug
}


def leftover_english(words: list[str], allowed: set[str]) -> list[str]:
    return sorted({word for word in words if word.lower() not in allowed})


@pytest.mark.parametrize("lang", ["hi", "mr"])
@pytest.mark.parametrize("main_page", MAIN_PAGES, ids=lambda p: p.name)
def test_no_english_left_in_the_interface(site, survey, main_page, lang):
    found = survey(main_page, lang)

    assert found.html_lang == lang
    assert leftover_english(found.ui_words, ALLOWED | site.words) == []


def test_the_check_finds_english(site, open_page):
    page = open_page("mr")
    page.goto(site.url + "/sign-in")
    page.evaluate("() => document.querySelector('main').append('Please wait')")
    assert leftover_english(page.evaluate(UI_WORDS), ALLOWED | site.words) == ["Please", "wait"]


LANG_OF = """el => { const own = el.closest('[lang]'); return [own ? own.lang : null,
                                                          el.closest('[dir]')?.dir || null]; }"""


@pytest.mark.parametrize("lang", ["en", "hi"])
def test_content_keeps_its_own_language(site, open_page, lang):
    page = open_page(lang, "asha")
    poem = f'a[href="/items/{site.poem}"]'
    other = f'a[href="/items/{site.other}"]'

    page.goto(site.url + "/circles/ghar")
    assert page.locator(poem).evaluate(LANG_OF) == ["hi", None]
    assert page.locator(other).evaluate(LANG_OF) == ["", "auto"]
    page.goto(f"{site.url}/items/{site.poem}")
    assert page.locator("h1").evaluate(LANG_OF) == ["hi", None]
    assert page.locator("details .text").evaluate(LANG_OF)[0] == "hi"
    page.goto(f"{site.url}/items/{site.knowhow}")
    assert page.locator(".text").evaluate(LANG_OF)[0] == "en"
    page.goto(site.url + "/search?q=udasi")
    assert page.locator(f"ol.results {poem}").evaluate(LANG_OF) == ["hi", None]
    assert page.locator("ol.results .snippet").first.evaluate(LANG_OF)[0] == "hi"
    page.goto(site.url + "/collections/screen-time")
    assert page.locator(f'a[href="/items/{site.story}"]').evaluate(LANG_OF)[0] == "mr"
    assert page.locator(f'a[href="/items/{site.knowhow}"]').evaluate(LANG_OF)[0] == "en"
    page.goto(site.url + "/collections/screen-time/read")
    assert page.locator("section.piece h2").evaluate_all(
        "hs => hs.map(h => h.closest('[lang]').lang)"
    ) == ["en", "hi", "mr"]
    feed = page.request.get(site.url + "/collections/screen-time/feed.atom").text()
    for code in ("en", "hi", "mr"):
        assert f'<entry xml:lang="{code}">' in feed, code
