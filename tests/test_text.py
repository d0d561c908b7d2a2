"""Markdown rendering, sanitising and word diffs as the archive's writers will meet them."""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from markupsafe import Markup

from archive.text import (
    DiffLine,
    DiffSummary,
    Segment,
    render_diff,
    render_markdown,
    summarise,
    tokens,
    word_diff,
)

# ख़ in NFC: U+0959 is a composition exclusion, so NFC keeps it decomposed
KHA_NUKTA = "\u0916\u093c"
HAPPINESS = KHA_NUKTA + "\u0941\u0936\u0940"  # ख़ुशी


def changed_words(lines: list[DiffLine], change: str) -> list[str]:
    """The texts of every segment of one kind, stripped, as a reader would see them marked."""
    return [s.text.strip() for line in lines for s in line.segments if s.change == change]


# --- render_markdown ---------------------------------------------------------------------------


def test_poem_lines_keep_their_breaks_and_stanzas_are_paragraphs() -> None:
    html = render_markdown("I sit by the window\nthe rain keeps time\n\nand then I rest")
    assert isinstance(html, Markup)
    assert html.count("<p>") == 2
    assert "I sit by the window<br>" in html
    assert "<p>and then I rest</p>" in html


def test_indented_verse_stays_verse_not_code() -> None:
    html = render_markdown("the first line\n\n    an indented line")
    assert "<pre" not in html and "<code" not in html
    assert "an indented line" in html


def test_lists_render() -> None:
    html = render_markdown("What helped:\n\n- a walk\n- tea with a friend\n\n1. breathe\n2. call")
    assert "<ul>" in html and "<li>a walk</li>" in html
    assert "<ol>" in html and "<li>call</li>" in html


def test_headings_stay_below_the_page_title() -> None:
    html = render_markdown("# A title\n\n###### Small")
    assert "<h1" not in html and "<h6" not in html
    assert "<h2>A title</h2>" in html and "<h4>Small</h4>" in html


def test_safe_links_are_kept_with_rel() -> None:
    html = render_markdown('[help](https://example.org/help "Help line")')
    assert 'href="https://example.org/help"' in html
    assert 'title="Help line"' in html
    assert 'rel="nofollow noopener noreferrer ugc"' in html


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<iframe src="https://evil.example/"></iframe>',
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[x](vbscript:msgbox(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<a href=' jav&#x09;ascript:alert(1)'>x</a>",
        "<svg onload=alert(1)><circle r=1 /></svg>",
        "![photo](https://tracker.example/pixel.png)",
        '<p onclick="alert(1)" style="color:red">x</p>',
    ],
)
def test_hostile_markup_is_inert(source: str) -> None:
    html = render_markdown(f"before\n\n{source}\n\nafter").lower()
    for forbidden in (
        "<script",
        "onerror",
        "onload",
        "onclick",
        "javascript:",
        "vbscript:",
        "data:",
        "<iframe",
        "<img",
        "<svg",
        "style=",
    ):
        assert forbidden not in html
    assert "<p>before</p>" in html and "<p>after</p>" in html


def test_script_and_style_contents_are_dropped_not_shown() -> None:
    html = render_markdown("<script>steal()</script><style>body{display:none}</style>words")
    assert "steal" not in html and "display" not in html
    assert "words" in html


def test_empty_input_gives_empty_markup() -> None:
    assert render_markdown(None) == Markup("")
    assert render_markdown("") == Markup("")
    assert render_markdown("  \n ") == Markup("")


def test_devanagari_round_trips() -> None:
    poem = "कभी कभी हमें उदासी होती है।\nक्षमा, ज्ञान और श्रम — हँसी ॥"
    html = render_markdown(poem)
    assert "कभी कभी हमें उदासी होती है।<br>" in html
    assert "क्षमा, ज्ञान और श्रम — हँसी ॥" in html


def test_output_is_nfc() -> None:
    decomposed_nnna = "\u0928\u093c"  # न + nukta composes to U+0929 under NFC
    precomposed_qa = "\u0958"  # क़ as one code point decomposes under NFC
    html = render_markdown(f"{decomposed_nnna} {precomposed_qa}")
    assert "\u0929" in html and decomposed_nnna not in html
    assert "\u0915\u093c" in html and precomposed_qa not in html
    assert html == unicodedata.normalize("NFC", html)


@pytest.fixture
def eager_thread_switching() -> Iterator[None]:
    """Threads switch far more often than usual, so shared converter state would show."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


@pytest.mark.usefixtures("eager_thread_switching")
def test_concurrent_renders_match_single_threaded() -> None:
    documents = [
        f"# Doc {n}\n\nline {n}\nकविता {n} <em>raw {n}</em>\n\n- item {n}\n- <b>{n}</b>\n\n"
        f"[link {n}](https://example.org/{n}) <script>x({n})</script>" * (1 + n % 3)
        for n in range(200)
    ]
    expected = [render_markdown(document) for document in documents]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            assert list(pool.map(render_markdown, documents)) == expected


# --- word_diff -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "कभी कभी हमें उदासी होती है।",
        "क्षत्रिय ज्ञान श्रम त्रिकोण हँसी अंधेरा दुःख",
        "\u0915\u093c\u0932\u092e ॠषि मी ठीक आहे॥",
        "ज़िंदगी\u200cनामा प्र\u200dकाश",
    ],
)
def test_tokens_never_split_a_letter_from_its_signs(text: str) -> None:
    parts = tokens(text)
    assert "".join(parts) == text
    for part in parts:
        assert not unicodedata.category(part[0]).startswith("M")
        assert part[0] not in "\u200c\u200d"


def test_danda_is_punctuation_not_part_of_a_word() -> None:
    assert tokens("है।") == ["है", "।"]
    assert tokens("मन ॥") == ["मन", " ", "॥"]


def test_devanagari_diff_marks_whole_words() -> None:
    old = "कभी कभी हमें उदासी होती है।"
    new = "कभी कभी हमें \u0959\u0941\u0936\u0940 होती है।"  # ख़ typed precomposed: NFC first
    lines = word_diff(old, new)
    assert [line.change for line in lines] == ["changed"]
    assert lines[0].segments == (
        Segment("कभी कभी हमें ", "same"),
        Segment("उदासी", "removed"),
        Segment(HAPPINESS, "added"),
        Segment(" होती है।", "same"),
    )
    assert summarise(lines) == DiffSummary(words_added=1, words_removed=1)


def test_a_changed_vowel_sign_marks_the_whole_word() -> None:
    lines = word_diff("दिन", "दीन")
    assert changed_words(lines, "removed") == ["दिन"]
    assert changed_words(lines, "added") == ["दीन"]


def test_a_changed_matra_inside_a_line_marks_the_whole_word() -> None:
    lines = word_diff("आज का दिन अच्छा था", "आज का दीन अच्छा था")
    assert changed_words(lines, "removed") == ["दिन"]
    assert changed_words(lines, "added") == ["दीन"]


def test_line_insertion_and_deletion() -> None:
    lines = word_diff("first\nsecond\nthird", "first\nthird\nfourth")
    assert [(line.change, line.old_number, line.new_number) for line in lines] == [
        ("same", 1, 1),
        ("removed", 2, None),
        ("same", 3, 2),
        ("added", None, 3),
    ]
    assert summarise(lines) == DiffSummary(words_added=1, words_removed=1)


def test_replaced_block_with_extra_lines() -> None:
    lines = word_diff("we sat together\nend", "we sat quietly together\nand laughed\nend")
    assert [line.change for line in lines] == ["changed", "added", "same"]
    assert changed_words(lines[:1], "added") == ["quietly"]


def test_unrelated_line_reads_as_removed_and_added() -> None:
    lines = word_diff("the rain fell", "a bird sang")
    assert [line.change for line in lines] == ["removed", "added"]


def test_first_revision_is_all_added_and_identical_texts_have_no_changes() -> None:
    assert [line.change for line in word_diff("", "one\ntwo")] == ["added", "added"]
    assert summarise(word_diff(None, "one two\nतीन")) == DiffSummary(3, 0)
    same = word_diff("मन\n\nशांत", "मन\n\nशांत")
    assert {line.change for line in same} == {"same"}
    assert summarise(same) == DiffSummary(0, 0)


def test_diff_inputs_are_nfc() -> None:
    assert word_diff("\u0928\u093c", "\u0929") == [
        DiffLine("same", (Segment("\u0929", "same"),), 1, 1)
    ]


def test_rendered_diff_uses_ins_and_del() -> None:
    html = render_diff(word_diff("कभी कभी हमें उदासी होती है।", f"कभी कभी हमें {HAPPINESS} होती है।"))
    assert isinstance(html, Markup)
    assert f"<del>उदासी</del><ins>{HAPPINESS}</ins>" in html
    assert html.startswith('<ol class="diff">')


def test_rendered_diff_escapes_hostile_revisions() -> None:
    old = "<script>alert(1)</script>"
    new = '<img src=x onerror="alert(1)"> & <iframe src=//evil>'
    html = render_diff(word_diff(old, new))
    assert "<script" not in html and "<img" not in html and "<iframe" not in html
    assert "&lt;script&gt;" in html and "&lt;img" in html and "&amp;" in html
