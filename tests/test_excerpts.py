"""Excerpts keep a poem's lines, and the embed an advocate copies fits any page.

`plain_excerpt` gives a piece's first lines as plain text, one line per line of the poem (a
run-on line reads as nonsense); where a newline cannot be shown (a meta attribute, a feed's
subtitle) `excerpt_line` joins them with " / ". The embed snippet and oEmbed's html follow
their container's width (no pixel width), so a 320 px phone never scrolls sideways
(tests/browser/a11y/test_phone_width.py looks at it in Chromium)."""

from __future__ import annotations

import html
import re

from archive.text import excerpt_line, plain_excerpt
from tests.erasure_helpers import MARKER, text, world  # noqa: F401  (fixture)
from tests.public_helpers import offer, open_graph

POEM = "आज मन में **उदासी** है\nकल फिर सुबह होगी\n\nहम  साथ   चलेंगे\nधीरे धीरे, बिना डरे।"
LINES = ["आज मन में उदासी है", "कल फिर सुबह होगी", "हम साथ चलेंगे", "धीरे धीरे, बिना डरे।"]


# --- plain_excerpt ----------------------------------------------------------------------------


def test_a_poems_first_lines_stay_lines():
    assert plain_excerpt(POEM) == "\n".join(LINES)
    assert excerpt_line(POEM) == " / ".join(LINES)
    assert plain_excerpt(None) == "" and excerpt_line("  \n\n ") == ""


def test_a_long_poem_is_cut_at_a_word_within_its_lines():
    long = "\n".join(f"पंक्ति {n} में कुछ शब्द हैं" for n in range(1, 30))

    cut = plain_excerpt(long, 60)
    assert len(cut) <= 61 and cut.endswith("…")
    assert cut.split("\n")[0] == "पंक्ति 1 में कुछ शब्द हैं"
    for line in cut.removesuffix("…").split("\n"):  # never half a letter or word
        assert line.strip() == line and f"{line} " in long.replace("\n", " ") + " "

    assert plain_excerpt(long, 500, lines=2) == "पंक्ति 1 में कुछ शब्द हैं\nपंक्ति 2 में कुछ शब्द हैं…"
    one_line = excerpt_line(long, 60)
    assert "\n" not in one_line and " / " in one_line and len(one_line) <= 61


def test_prose_is_still_cut_at_a_word_and_markup_never_shows():
    prose = "उसने <script>alert(1)</script> *धीरे से* कहा & हँसी। " * 20
    cut = plain_excerpt(prose, 80)
    assert "<" not in cut and "*" not in cut and "alert" not in cut
    assert "धीरे से कहा & हँसी" in cut and cut.endswith("…") and len(cut) <= 81
    assert not cut.removesuffix("…").endswith(("।", " "))


# --- where the excerpt shows ------------------------------------------------------------------


def test_embeds_and_previews_keep_the_lines_and_the_snippet_follows_its_page(world):
    poem = offer(world["contributor"], world.home, title=f"{MARKER} सुबह", body=POEM, language="hi")
    anonymous = world.viewers["anonymous"].client

    card = text(anonymous.get(f"/embed/items/{poem.public_id}"))
    assert re.search('<p class="excerpt"[^>]*>' + re.escape("\n".join(LINES)) + "</p>", card)
    with anonymous.get("/static/embed.css") as stylesheet:
        assert re.search(
            r"\.excerpt\s*\{[^}]*white-space:\s*pre-line", stylesheet.get_data(as_text=True)
        )

    item_page = text(anonymous.get(poem.url))
    tags = open_graph(item_page)
    assert html.unescape(tags["og:description"]) == " / ".join(LINES)
    description = re.search(r'<meta name="description" content="([^"]*)"', item_page)
    assert html.unescape(description.group(1)) == " / ".join(LINES)

    snippet = html.unescape(
        re.search(r'<textarea id="embed-snippet"[^>]*>([^<]*)</textarea>', item_page).group(1)
    )
    answer = anonymous.get(
        "/oembed", query_string={"url": f"http://localhost{poem.url}", "maxwidth": 320}
    ).get_json()
    for code in (snippet, answer["html"]):
        assert code.startswith("<iframe ") and 'width="100%"' in code
        assert not re.search(r'width="\d+"', code), "no fixed pixel width"
        assert "style=" not in code
        assert 'frameborder="0"' in code, "a border would add 4 px to the full width"
    assert answer["width"] == 320 and answer["height"] > 0
