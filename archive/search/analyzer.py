"""Analyzers for Hindi, Marathi and English. Whoosh pickles the schema, so everything here
must stay importable under this name.

Python's ``\\w`` does not match Devanagari vowel signs or the virama: the stock analyzers
cut उदासी to उद. Words here are runs of word characters *and* Devanagari combining marks
(U+0900–U+0963, U+0971–U+097F, ZWNJ, ZWJ) — never the danda । ॥.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from itertools import pairwise
from typing import Optional

from whoosh.analysis import Analyzer, Filter, RegexTokenizer, StemFilter, Token

WORD = r"[\w\u0900-\u0963\u0971-\u097F\u200c\u200d]+(?:['’][\w]+)?"
DEVANAGARI = re.compile(r"[\u0900-\u097F]")
LATIN_LETTERS = re.compile(r"^[a-z0-9'’]+$")


#: the English stemmer, remembering its answers (a text repeats its words)
_stem = lru_cache(maxsize=100_000)(StemFilter(lang="en").stemfn)


class WordFilter(Filter):
    """NFC, lower case and English stemming of Latin words in one pass (one generator
    instead of three: indexing is mostly this loop)."""

    def __eq__(self, other):
        return type(other) is type(self)

    def __call__(self, tokens):
        stem, normalize, is_nfc = _stem, unicodedata.normalize, unicodedata.is_normalized
        for token in tokens:
            text = token.text.lower()
            if text.isascii():
                if LATIN_LETTERS.match(text):
                    text = stem(text)
            elif not is_nfc("NFC", text):
                text = normalize("NFC", text)
            token.text = text
            yield token


class RomanWordFilter(Filter):
    """NFC, lower case and the romanized shadow forms in one pass. Only Devanagari words
    are indexed here (Latin words are found in the text itself); a query folds both."""

    def __call__(self, tokens):
        for token in tokens:
            text = token.text.lower()
            if text.isascii():
                if token.mode == "index":
                    continue
            else:
                text = unicodedata.normalize("NFC", text)
            for form in roman_forms(text):
                token.text = form
                yield token


@lru_cache(maxsize=200_000)
def normal_word(word: str) -> str:
    """One word as `WordFilter` indexes it (for marking words in snippets)."""
    text = word.lower()
    if text.isascii():
        return _stem(text) if LATIN_LETTERS.match(text) else text
    return unicodedata.normalize("NFC", text)


def word_roman_forms(word: str) -> tuple[str, ...]:
    """The romanized forms of one word of a text, as it is compared with a romanized query
    word (a Latin word folded as typed, a Devanagari one romanized)."""
    normal = normal_word(word)
    return roman_forms(normal if not normal.isascii() else word.lower())


def text_analyzer():
    return RegexTokenizer(WORD) | WordFilter()


def roman_analyzer():
    return RegexTokenizer(WORD) | RomanWordFilter()


# --- indexing: one analysis per entry, shared by its fields --------------------------------

_TEXT = text_analyzer()
_last: tuple[str, list[str]] = ("", [])


def index_words(text: str) -> list[str]:
    """The words of ``text`` as the content field indexes them.

    An entry's content, word-pair and shadow fields are all made from the same text, and
    Whoosh indexes the fields of a document one after another: remembering the last text
    analyzed lets the three share one analysis instead of three."""
    global _last
    last = _last
    if last[0] is text or last[0] == text:
        return last[1]
    words = [token.text for token in _TEXT(text, mode="index")]
    _last = (text, words)
    return words


def pair_token(first: str, second: str) -> str:
    """Two adjacent words as one term ("+" is never part of a word)."""
    return f"{first}+{second}"


class _FromWords(Analyzer):
    """Indexing reads the words from `index_words`; a query is analyzed in full."""

    def __init__(self):
        self.full = text_analyzer()

    def words(self, text: str) -> list[str]:
        raise NotImplementedError

    def query_tokens(self, value, **kwargs):
        return self.full(value, **kwargs)

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ):
        if mode != "index" or chars or keeporiginal or not tokenize:
            return self.query_tokens(
                value,
                positions=positions,
                chars=chars,
                keeporiginal=keeporiginal,
                removestops=removestops,
                start_pos=start_pos,
                start_char=start_char,
                tokenize=tokenize,
                mode=mode,
                **kwargs,
            )
        return self._tokens(self.words(value), positions, removestops, start_pos, mode, kwargs)

    @staticmethod
    def _tokens(words, positions, removestops, start_pos, mode, kwargs):
        token = Token(positions, False, removestops=removestops, mode=mode, **kwargs)
        for pos, word in enumerate(words, start_pos):
            token.text = word
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = pos
            yield token


class IndexWords(_FromWords):
    """The words themselves (title and content)."""

    def words(self, text):
        return index_words(text)


class RomanWords(_FromWords):
    """The romanized forms of the Devanagari words (see `RomanWordFilter`)."""

    def __init__(self):
        self.full = roman_analyzer()

    def words(self, text):
        return [
            form for word in index_words(text) if not word.isascii() for form in roman_forms(word)
        ]


class CommonPairs(_FromWords):
    """Adjacent pairs of common words, as single terms ("common grams").

    A phrase of two common words ("मुझे भी", "in the") would otherwise check the positions
    of every entry holding both words — tens of thousands in a large archive — while its
    pair term is one short posting list. A phrase with a rarer word is already quick, since
    only entries holding that word are checked, so only pairs of common words are kept; the
    common words are learned from the archive when the index is rebuilt and travel with the
    index's schema, so writers and searchers always agree on them."""

    def __init__(self, common: frozenset = frozenset()):
        self.full = text_analyzer()
        self.common = frozenset(common)

    def __repr__(self):
        return f"CommonPairs({len(self.common)} common words)"

    def words(self, text):
        common, words = self.common, index_words(text)
        return [pair_token(a, b) for a, b in pairwise(words) if a in common and b in common]

    def query_tokens(self, value, positions=False, mode="", **kwargs):
        words = [token.text for token in self.full(value, mode=mode, **kwargs)]
        return self._tokens(
            [pair_token(a, b) for a, b in pairwise(words)], positions, True, 0, mode, {}
        )


# --- Devanagari → folded Latin ------------------------------------------------------------

VOWELS = {
    "अ": "a",
    "आ": "a",
    "इ": "i",
    "ई": "i",
    "उ": "u",
    "ऊ": "u",
    "ऋ": "ri",
    "ए": "e",
    "ऐ": "ai",
    "ओ": "o",
    "औ": "au",
    "ऍ": "a",
    "ऑ": "o",
    "ऎ": "e",
    "ऒ": "o",
}
SIGNS = {
    "ा": "a",
    "ि": "i",
    "ी": "i",
    "ु": "u",
    "ू": "u",
    "ृ": "ri",
    "े": "e",
    "ै": "ai",
    "ो": "o",
    "ौ": "au",
    "ॅ": "a",
    "ॉ": "o",
    "ॆ": "e",
    "ॊ": "o",
}
CONSONANTS = {
    "क": "k",
    "ख": "kh",
    "ग": "g",
    "घ": "gh",
    "ङ": "n",
    "च": "ch",
    "छ": "chh",
    "ज": "j",
    "झ": "jh",
    "ञ": "n",
    "ट": "t",
    "ठ": "th",
    "ड": "d",
    "ढ": "dh",
    "ण": "n",
    "त": "t",
    "थ": "th",
    "द": "d",
    "ध": "dh",
    "न": "n",
    "प": "p",
    "फ": "ph",
    "ब": "b",
    "भ": "bh",
    "म": "m",
    "य": "y",
    "र": "r",
    "ल": "l",
    "ळ": "l",
    "व": "v",
    "श": "sh",
    "ष": "sh",
    "स": "s",
    "ह": "h",
}
#: nukta letters as people type them in Latin letters
NUKTA = {"क": "k", "ख": "kh", "ग": "g", "ज": "z", "ड": "d", "ढ": "dh", "फ": "f", "य": "y"}
MARKS = {"ं": "n", "ँ": "n", "ः": "h"}
VIRAMA, NUKTA_SIGN = "्", "़"


def _segments(word: str) -> list[tuple[str, str]]:
    """A word as (kind, letters) pairs: C consonant, V vowel, A inherent schwa, M mark."""
    word = unicodedata.normalize("NFD", word)
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(word):
        char = word[i]
        if char in CONSONANTS:
            nukta = i + 1 < len(word) and word[i + 1] == NUKTA_SIGN
            out.append(("C", NUKTA.get(char, CONSONANTS[char]) if nukta else CONSONANTS[char]))
            i += 2 if nukta else 1
            following = word[i] if i < len(word) else ""
            if following in SIGNS:
                out.append(("V", SIGNS[following]))
                i += 1
            elif following == VIRAMA:
                i += 1
            else:
                out.append(("A", "a"))
            continue
        if char in VOWELS:
            out.append(("V", VOWELS[char]))
        elif char in MARKS:
            out.append(("M", MARKS[char]))
        elif char.isascii():
            out.append(("V", char))
        i += 1
    return out


def _drop_schwas(segments: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Hindi and Marathi speech drops the final schwa (kept after a cluster: स्वप्न is
    swapna), and a schwa in V C _ C V."""
    kept = list(segments)
    if (
        kept
        and kept[-1][0] == "A"
        and len(kept) > 2
        and not (kept[-2][0] == "C" and kept[-3][0] == "C")
    ):
        kept.pop()
    for i in range(len(kept) - 3, 1, -1):
        if kept[i][0] != "A":
            continue
        before, after = kept[i - 2 : i], kept[i + 1 : i + 3]
        if (
            before[0][0] in "VA"
            and before[1][0] == "C"
            and len(after) == 2
            and after[0][0] == "C"
            and after[1][0] == "V"
        ):
            del kept[i]
    return kept


def _terse(segments: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Every schwa after the first syllable dropped, as quick typing does (samjhna,
    zindgi, aplya)."""
    first = next((i for i, (kind, _l) in enumerate(segments) if kind in "VA"), 0)
    return [seg for i, seg in enumerate(segments) if seg[0] != "A" or i <= first]


def romanize(word: str) -> str:
    """One Devanagari word in plain Latin letters, as it is usually spoken and typed."""
    return _letters(_drop_schwas(_segments(word)))


def _letters(segments: list[tuple[str, str]]) -> str:
    if segments and segments[-1] == ("M", "h"):
        segments = segments[:-1] + [("V", "ah")]
    return "".join(letters if kind != "M" or letters != "h" else "" for kind, letters in segments)


def fold(text: str) -> str:
    """Latin letters as people type them: no diacritics, doubled vowels collapsed."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    for long, short in (
        ("aa", "a"),
        ("ee", "i"),
        ("ii", "i"),
        ("oo", "u"),
        ("uu", "u"),
        ("w", "v"),
        ("z", "j"),
        ("f", "ph"),
        ("q", "k"),
        ("sh", "s"),
        ("jh", "j"),
    ):
        text = text.replace(long, short)
    return re.sub(r"(.)\1+", r"\1", text)


@lru_cache(maxsize=200_000)
def roman_forms(token: str) -> tuple[str, ...]:
    """The folded forms a token is found by: as spoken, as tersely typed, and with every
    schwa written; ज्ञ both as gy (Hindi) and dny (Marathi)."""
    if not DEVANAGARI.search(token):
        return (fold(token),)
    segments = _segments(token)
    written = segments[:-1] if segments and segments[-1][0] == "A" else segments
    forms: list[str] = []
    for variant in (_drop_schwas(segments), _terse(_drop_schwas(segments)), written):
        letters = _letters(variant)
        for reading in (
            (letters.replace("jn", "gy"), letters.replace("jn", "dny"))
            if "jn" in letters
            else (letters,)
        ):
            form = fold(reading)
            if form not in forms:
                forms.append(form)
    return tuple(forms)


# --- which words may be found by a romanized form (for snippets) ---------------------------

#: first letters `fold` changes: w, z, f, q; a doubled e or o ("ee" → i, "oo" → u)
_FOLDED_FIRST = {"w": "v", "z": "j", "f": "p", "q": "k"}
_DOUBLED_FIRST = {"e": "i", "o": "u"}


def _folded_firsts(letters: str) -> set[str]:
    first = letters[0]
    return {_FOLDED_FIRST.get(first, first), *_DOUBLED_FIRST.get(first, "")}


@cache
def roman_first_letters(char: str) -> Optional[frozenset]:
    """The letters a romanized form (`roman_forms`) of a word starting with ``char`` may
    start with; None when any (a mark, a joiner, another script: skipped or kept as they
    are). Lets a snippet skip words that cannot be a romanized query word unread."""
    if len(char) != 1:
        return None
    letter = char.lower()
    if letter.isascii() and (letter.isalnum() or letter == "_"):
        firsts = _folded_firsts(letter)
        if letter == "j":  # "jn" in a word with Devanagari is read as gy or dny
            firsts |= {"g", "d"}
        return frozenset(firsts)
    base = unicodedata.normalize("NFD", char)[0]
    if base in CONSONANTS:
        firsts = _folded_firsts(CONSONANTS[base])
        firsts |= _folded_firsts(NUKTA.get(base, CONSONANTS[base]))  # with a nukta
        if base == "ज":  # ज्ञ, ज्न: jn, read as gy or dny
            firsts |= {"g", "d"}
        return frozenset(firsts)
    if base in VOWELS:
        return frozenset(_folded_firsts(VOWELS[base]))
    return None
