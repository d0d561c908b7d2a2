"""Forgiving search and "did you mean": words of the index close to the words typed.

When a search finds few pieces, each word of it is widened (`widen`) to the words it
begins (one of `PREFIX_FROM` letters or more typed without its end: "scho", "khid") and,
when the word finds nothing itself, to the index's words one letter away (a word of
`TYPO_FROM` letters or more: "schoool", "अकेलपन"). The pieces found only so are ranked
after every piece the words themselves, their stems or their romanized forms found.

When a search finds nothing at all, `suggestions` offers the words of the index two
letters away that are in a piece the viewer may see, and only those: a word of a piece
hidden from them is never shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from itertools import islice
from typing import Optional

import numpy as np
from whoosh.query import Or, Query, Term

from archive.search import docsets
from archive.search.analyzer import WORD, normal_word

#: a word this long or longer is also found by words one letter away from it
TYPO_FROM = 6
#: a word this long or longer is also found by the words it begins
PREFIX_FROM = 4
#: at most this many words are added for one word typed (the commonest are not preferred:
#: the index's order, alphabetical, is kept)
MAX_WIDER = 20
#: a suggestion is at most this many letters away from the word typed
SUGGEST_DISTANCE = 2
MAX_SUGGESTIONS = 3
#: the fields whose words are widened: the words, their romanized forms, their stem keys
WIDENED = ("content", "roman", "stem")
#: widened words weigh this much of the word typed
WIDER_BOOST = 0.5
_WORDS = re.compile(WORD)


def distance(a: str, b: str, limit: int) -> int:
    """The edit distance of ``a`` and ``b`` (a swap of two neighbouring letters counts as
    one edit), or ``limit + 1`` once it is known to be more than ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: Optional[list[int]] = None
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, other in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            if before is not None and j > 1 and char == b[j - 2] and a[i - 2] == other:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]


def _terms(reader, fieldname: str, prefix: str) -> Iterable[str]:
    if fieldname not in reader.schema:
        return ()
    return (
        term.decode() if isinstance(term, bytes) else term
        for term in reader.expand_prefix(fieldname, prefix)
    )


def near(reader, fieldname: str, word: str, limit: int) -> list[str]:
    """The index's words of ``fieldname`` at most ``limit`` letters away from ``word`` and
    starting with its first letter (as most typing slips keep it), ``word`` left out."""
    if not word:
        return []
    return [
        term
        for term in _terms(reader, fieldname, word[0])
        if term != word and distance(word, term, limit) <= limit
    ]


def slips(reader, fieldname: str, word: str) -> list[str]:
    """The index's words of ``fieldname`` one letter away from ``word`` (a letter more,
    less, another or two swapped) that start with its first two letters, or with them
    swapped: the words read are those few, not every word of the index."""
    found = []
    for start in dict.fromkeys((word[:2], word[1::-1])):
        for term in _terms(reader, fieldname, start):
            if term != word and one_apart(word, term):
                found.append(term)
    return found


def one_apart(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` are one edit apart (swapped neighbours count as one)."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    pairs = enumerate(zip(a, b, strict=False))
    at = next((i for i, (x, y) in pairs if x != y), min(len(a), len(b)))
    if len(a) == len(b):
        return a[at + 1 :] == b[at + 1 :] or (
            at + 1 < len(a)
            and a[at] == b[at + 1]
            and a[at + 1] == b[at]
            and a[at + 2 :] == b[at + 2 :]
        )
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer[at + 1 :] == shorter[at:]


def begun(reader, fieldname: str, word: str) -> list[str]:
    """The index's words of ``fieldname`` that ``word`` begins, ``word`` left out."""
    return [
        term for term in islice(_terms(reader, fieldname, word), MAX_WIDER + 1) if term != word
    ][:MAX_WIDER]


def _wider_words(reader, fieldname: str, word: str, typos: bool) -> list[str]:
    found: list[str] = []
    if typos and len(word) >= TYPO_FROM and not any(char.isdigit() for char in word):
        found += slips(reader, fieldname, word)[:MAX_WIDER]
    if len(word) >= PREFIX_FROM and fieldname != "stem":  # a stem key is begun already
        found += [term for term in begun(reader, fieldname, word) if term not in found]
    return found


def widen(s, query: Query, viewable: np.ndarray) -> Optional[Query]:
    """``query`` with each of its words also matching the index's words it begins and,
    unless the word itself is found in a piece the viewer may see (then it is taken as
    meant) or holds a digit (zqx1 and zqx2 are not slips of each other), those one letter
    away — in the words themselves, their romanized forms and their stem keys ("sleepign"
    is one letter from the key of "sleeping"); None when no word widens."""
    reader = s.reader()
    widened = [False]

    def wider(q: Query) -> Query:
        if type(q) is not Or or not _word_group(q):
            return q
        typos = not (docsets.docs(s, q) & viewable).any()
        extra = []
        for sub in q.subqueries:
            if type(sub) is Term and sub.fieldname in WIDENED:
                extra += [
                    Term(sub.fieldname, term, boost=sub.boost * WIDER_BOOST)
                    for term in _wider_words(reader, sub.fieldname, sub.text, typos)
                ]
        if not extra:
            return q
        widened[0] = True
        return Or(list(q.subqueries) + extra)

    result = query.accept(wider)
    return result if widened[0] else None


def _word_group(q: Or) -> bool:
    """Whether ``q`` is the query parser's group for one word typed (its forms in each
    field)."""
    return any(type(sub) is Term and sub.fieldname == "content" for sub in q.subqueries)


def suggestions(
    s, text: str, query: Query, viewable: np.ndarray, finds: Callable[[str], bool]
) -> list[str]:
    """Other queries like ``text``, each with one word replaced by a word of the index two
    letters away, found in an entry of ``viewable`` (the entries the viewer may see), and
    finding something (``finds``). Closest and most found first."""
    reader = s.reader()
    typed = _WORDS.findall(text)
    out: list[str] = []
    for group in _groups(query):
        word = next(
            sub.text for sub in group.subqueries if type(sub) is Term and sub.fieldname == "content"
        )
        limit = 1 if len(word) < 5 else SUGGEST_DISTANCE
        ranked = []
        for term in near(reader, "content", word, limit):
            seen = int(np.count_nonzero(docsets.docs(s, Term("content", term)) & viewable))
            if seen:
                ranked.append((distance(word, term, limit), -seen, term))
        for _d, _n, term in sorted(ranked):
            suggested = " ".join(
                term if normal_word(typed_word) == word else typed_word for typed_word in typed
            )
            if suggested not in out and suggested != text and finds(suggested):
                out.append(suggested)
            if len(out) == MAX_SUGGESTIONS:
                return out
    return out


def _groups(query: Query) -> list[Or]:
    found: list[Or] = []

    def collect(q: Query) -> Query:
        if type(q) is Or and _word_group(q):
            found.append(q)
        return q

    query.accept(collect)
    return found
