"""Text as people write it: NFC normalisation everywhere, so one word is always one word."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal
from xml.etree.ElementTree import Element

import markdown
import nh3
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def nfc(value: str | None) -> str:
    """NFC-normalised text with stray control characters removed and line ends unified."""
    if not value:
        return ""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", _CONTROL.sub("", value))


def one_line(value: str | None) -> str:
    """A single-line field (a name, a title): NFC, inner whitespace collapsed, trimmed."""
    return " ".join(nfc(value).split())


def key(value: str | None) -> str:
    """The form in which two names count as the same: NFC, trimmed, case-folded."""
    return unicodedata.normalize("NFC", one_line(value).casefold())


# --- Markdown → safe HTML -------------------------------------------------------------------

_ALLOWED_TAGS = {
    "p",
    "br",
    "em",
    "strong",
    "ul",
    "ol",
    "li",
    "blockquote",
    "h2",
    "h3",
    "h4",
    "a",
    "code",
    "pre",
    "hr",
}
# Dropped with everything inside, so a pasted script or stylesheet never shows up as text.
_DROPPED_TAGS = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "template",
    "noscript",
    "svg",
    "math",
    "title",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
_URL_SCHEMES = {"http", "https", "mailto"}
_LINK_REL = "nofollow noopener noreferrer ugc"
_HEADING_TAGS = {f"h{level}" for level in range(1, 7)}
_local = threading.local()


class _HeadingLevels(Treeprocessor):
    """Keep body headings between h2 and h4: the page's own title is the only h1, so the
    outline screen-reader users move through stays whole."""

    def run(self, root: Element) -> None:
        for element in root.iter():
            if element.tag in _HEADING_TAGS:
                element.tag = f"h{min(max(int(element.tag[1]), 2), 4)}"


def _new_converter() -> markdown.Markdown:
    """A Markdown converter fit for poems: one newline is a line break, a blank line a stanza.

    Indented code blocks are switched off because poets indent lines; an indented verse must
    stay a verse, not turn into a monospaced code box."""
    converter = markdown.Markdown(extensions=["nl2br", "sane_lists"], output_format="html")
    converter.parser.blockprocessors.deregister("code")
    converter.treeprocessors.register(_HeadingLevels(converter), "heading_levels", 5)
    return converter


def _converter() -> markdown.Markdown:
    """This thread's converter, freshly reset: Markdown instances keep state between calls and
    must never be shared by two requests at once."""
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = _local.converter = _new_converter()
    return converter.reset()


def sanitise(html: str) -> Markup:
    """HTML reduced to the archive's allow-list: no script, no event handler, no image or frame
    (the site never makes a third-party request), links only to http(s) and mailto."""
    return Markup(
        nh3.clean(
            html,
            tags=_ALLOWED_TAGS,
            clean_content_tags=_DROPPED_TAGS,
            attributes=_ALLOWED_ATTRIBUTES,
            url_schemes=_URL_SCHEMES,
            link_rel=_LINK_REL,
            strip_comments=True,
        )
    )


def render_markdown(source: str | None) -> Markup:
    """A revision's Markdown body as HTML that is safe to put in a page, whoever wrote it."""
    text = nfc(source)
    if not text.strip():
        return Markup("")
    return sanitise(_converter().convert(text))


def without_links(html: str) -> Markup:
    """Safe HTML with every link turned into its plain words: offline packs reach no site."""
    return Markup(
        nh3.clean(
            str(html),
            tags=_ALLOWED_TAGS - {"a"},
            attributes={},
            clean_content_tags=_DROPPED_TAGS,
            strip_comments=True,
        )
    )


# where a rendered body breaks a line: a poem's <br>, the end of a paragraph, item or heading
_LINE_ENDS = re.compile(r"<br\s*/?>|</(?:p|li|h[1-6]|blockquote|pre)>", re.IGNORECASE)
_CUT_AT = " ,;:.।॥-"


def excerpt_lines(source: str | None) -> list[str]:
    """A Markdown body's lines as plain text: each line of a poem, each paragraph, with no
    markup, entities read, inner spaces collapsed and empty lines (between stanzas) left out."""
    return _html_lines(render_markdown(source))


def _html_lines(html: str) -> list[str]:
    return [line for line in (Markup(part).striptags() for part in _LINE_ENDS.split(html)) if line]


def plain_excerpt(
    source: str | None, limit: int = 160, lines: int | None = None, joiner: str = "\n"
) -> str:
    """The first lines of a Markdown body as plain text for previews, a poem's lines kept as
    lines (joined by ``joiner``): at most ``limit`` characters and ``lines`` lines, cut at a
    word and ended with "…" when there is more."""
    return _excerpt(excerpt_lines(source), limit, lines, joiner)


def _excerpt(every: list[str], limit: int, lines: int | None, joiner: str) -> str:
    wanted = every[:lines] if lines else every
    kept: list[str] = []
    room = limit
    for line in wanted:
        if len(line) <= room:
            kept.append(line)
            room -= len(line) + len(joiner)
            continue
        head = line[: max(room, 0) + 1]  # a space just after the room still ends a word
        cut = head.rsplit(" ", 1)[0] if " " in head else ""
        if cut or not kept:
            kept.append(cut or line[: max(room, 1)])
        return _ended(joiner.join(kept))
    text = joiner.join(kept)
    return _ended(text) if len(wanted) < len(every) else text


def _ended(text: str) -> str:
    return text.rstrip(_CUT_AT) + "…"


def excerpt_line(source: str | None, limit: int = 160) -> str:
    """`plain_excerpt` on one line, its lines joined by " / ", for a meta attribute or a feed's
    subtitle, where a line break cannot show."""
    return plain_excerpt(source, limit, joiner=" / ")


#: a revision's excerpt (embed cards): at most this many characters and lines
EXCERPT_LIMIT, EXCERPT_LINES = 220, 6


@dataclass(frozen=True, slots=True)
class Rendered:
    """What readers are shown of a revision's words, made once when it is saved and kept
    with it (``Revision.html``, ``excerpt``, ``description``): a page never converts
    Markdown. ``description`` (meta tags, link previews) falls back to the alt text."""

    html: str
    excerpt: str
    description: str


def rendered(body: str | None, alt_text: str | None = "") -> Rendered:
    """A revision's body as safe HTML, its plain excerpt with a poem's lines kept, and its
    one-line description, from one Markdown conversion of the body."""
    html = render_markdown(body)
    lines = _html_lines(html)
    description = _excerpt(lines, 160, None, " / ")
    if not description and alt_text:
        description = excerpt_line(alt_text)
    return Rendered(
        html=str(html),
        excerpt=_excerpt(lines, EXCERPT_LIMIT, EXCERPT_LINES, "\n"),
        description=description,
    )


# --- Word diff for history pages -------------------------------------------------------------

# Python's \w misses Devanagari vowel signs, virama, nukta, anusvara and chandrabindu, so they
# are named here (with ZWNJ/ZWJ and the common combining-mark blocks); । and ॥ stay punctuation.
_WORD_CLASS = (
    r"\w\u0900-\u0963\u0971-\u097F\u200c\u200d\uA8E0-\uA8FF\u1CD0-\u1CFF"
    r"\u0300-\u036F\u1AB0-\u1AFF\u1DC0-\u1DFF\u20D0-\u20FF\uFE20-\uFE2F"
)
_WORD = re.compile(f"[{_WORD_CLASS}]+")
_TOKEN = re.compile(f"[{_WORD_CLASS}]+|\\s+|[^{_WORD_CLASS}\\s]+")
# Below this similarity a changed line reads better as one line removed and one line added.
_PAIRING_RATIO = 0.5

Change = Literal["same", "added", "removed"]
LineChange = Literal["same", "added", "removed", "changed"]


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of text within a line that was kept, added or removed as a whole."""

    text: str
    change: Change


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One line of a history diff; a "changed" line mixes kept, added and removed segments.
    Line numbers are 1-based; the side a line does not exist on has None."""

    change: LineChange
    segments: tuple[Segment, ...]
    old_number: int | None = None
    new_number: int | None = None


@dataclass(frozen=True, slots=True)
class DiffSummary:
    """How many words a revision added and removed, for the one-line history summary."""

    words_added: int
    words_removed: int


def tokens(text: str) -> list[str]:
    """Words, whitespace runs and punctuation runs; never cuts a letter from its matra, virama,
    nukta or anusvara, so a conjunct such as क्ष or ज्ञ stays inside its word."""
    return _TOKEN.findall(text)


def _lines(text: str | None) -> list[str]:
    """A text's lines; an empty text has none (so a first revision shows every line added)."""
    text = nfc(text)
    return text.split("\n") if text else []


def _whole(text: str, change: Change, old: int | None, new: int | None) -> DiffLine:
    """A line that is entirely kept, added or removed (an empty line has no segments)."""
    return DiffLine(change, (Segment(text, change),) if text else (), old, new)


def _run(lines: list[str], change: Change, old_start: int, new_start: int) -> list[DiffLine]:
    """Consecutive lines that are all kept, all added or all removed; starts are 0-based and
    a side the lines do not exist on gets no number."""
    return [
        _whole(
            line,
            change,
            None if change == "added" else old_start + n + 1,
            None if change == "removed" else new_start + n + 1,
        )
        for n, line in enumerate(lines)
    ]


def _merge(segments: list[Segment]) -> tuple[Segment, ...]:
    """Neighbouring segments of the same kind joined, so the markup stays small."""
    merged: list[Segment] = []
    for segment in segments:
        if merged and merged[-1].change == segment.change:
            segment = Segment(merged[-1].text + segment.text, segment.change)
            merged.pop()
        merged.append(segment)
    return tuple(merged)


def _word_segments(matcher: SequenceMatcher[str]) -> tuple[Segment, ...]:
    """The segments of a changed line, from a matcher over its old and new tokens."""
    old, new = matcher.a, matcher.b  # type: ignore[attr-defined]  # typeshed leaves them out
    segments: list[Segment] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            segments.append(Segment("".join(old[i1:i2]), "same"))
            continue
        if i2 > i1:
            segments.append(Segment("".join(old[i1:i2]), "removed"))
        if j2 > j1:
            segments.append(Segment("".join(new[j1:j2]), "added"))
    return _merge(segments)


def _changed_pair(old: str, new: str, old_number: int, new_number: int) -> list[DiffLine]:
    """A replaced line: word-marked when the two versions are alike, else removed + added."""
    matcher = SequenceMatcher(None, tokens(old), tokens(new), autojunk=False)
    if matcher.ratio() < _PAIRING_RATIO:
        return [_whole(old, "removed", old_number, None), _whole(new, "added", None, new_number)]
    return [DiffLine("changed", _word_segments(matcher), old_number, new_number)]


def _replaced(old: list[str], new: list[str], i1: int, j1: int) -> list[DiffLine]:
    """A block of replaced lines, paired in order; any lines left over are removed or added."""
    result: list[DiffLine] = []
    for offset, (before, after) in enumerate(zip(old, new, strict=False)):
        result += _changed_pair(before, after, i1 + offset + 1, j1 + offset + 1)
    paired = min(len(old), len(new))
    result += _run(old[paired:], "removed", i1 + paired, j1 + paired)
    result += _run(new[paired:], "added", i1 + paired, j1 + paired)
    return result


def word_diff(old: str | None, new: str | None) -> list[DiffLine]:
    """Two revisions compared line by line, and word by word within lines that changed, so a
    history page can show exactly which words someone changed in their poem."""
    old_lines, new_lines = _lines(old), _lines(new)
    matcher = SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    result: list[DiffLine] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            result += _run(old_lines[i1:i2], "same", i1, j1)
        elif tag == "delete":
            result += _run(old_lines[i1:i2], "removed", i1, j1)
        elif tag == "insert":
            result += _run(new_lines[j1:j2], "added", i1, j1)
        else:
            result += _replaced(old_lines[i1:i2], new_lines[j1:j2], i1, j1)
    return result


def summarise(lines: Iterable[DiffLine]) -> DiffSummary:
    """Words added and removed across a diff; spaces and punctuation are not counted."""
    counts = {"added": 0, "removed": 0, "same": 0}
    for line in lines:
        for segment in line.segments:
            counts[segment.change] += len(_WORD.findall(segment.text))
    return DiffSummary(words_added=counts["added"], words_removed=counts["removed"])


_SEGMENT_MARKUP: dict[Change, Markup] = {
    "same": Markup("{}"),
    "added": Markup("<ins>{}</ins>"),
    "removed": Markup("<del>{}</del>"),
}


def render_diff(lines: Iterable[DiffLine]) -> Markup:
    """A diff as an ordered list of lines with <ins>/<del>, which say "added" and "removed"
    without relying on colour; every piece of revision text is escaped."""
    items = [
        Markup('<li class="diff-line diff-{}">{}</li>').format(
            line.change,
            Markup("").join(_SEGMENT_MARKUP[s.change].format(s.text) for s in line.segments),
        )
        for line in lines
    ]
    return Markup('<ol class="diff">{}</ol>').format(Markup("").join(items))
