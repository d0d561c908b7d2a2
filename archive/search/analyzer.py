"""Analyzers for Hindi, Marathi and English. Whoosh pickles the schema, so everything here
must stay importable under this name.

Python's ``\\w`` does not match Devanagari vowel signs or the virama: the stock analyzers
cut उदासी to उद. Words here are runs of word characters *and* Devanagari combining marks
(U+0900–U+0963, U+0971–U+097F, ZWNJ, ZWJ) — never the danda । ॥.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from whoosh.analysis import Filter, RegexTokenizer, StemFilter

WORD = r"[\w\u0900-\u0963\u0971-\u097F\u200c\u200d]+(?:['’][\w]+)?"
DEVANAGARI = re.compile(r"[\u0900-\u097F]")
LATIN_LETTERS = re.compile(r"^[a-z0-9'’]+$")


class WordFilter(Filter):
    """NFC, lower case and English stemming of Latin words in one pass (one generator
    instead of three: indexing is mostly this loop)."""

    def __init__(self):
        self.stem = StemFilter(lang="en", cachesize=50000).stemfn

    def __eq__(self, other):
        return type(other) is type(self)

    def __call__(self, tokens):
        stem, normalize, is_nfc = self.stem, unicodedata.normalize, unicodedata.is_normalized
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


def text_analyzer():
    return RegexTokenizer(WORD) | WordFilter()


def roman_analyzer():
    return RegexTokenizer(WORD) | RomanWordFilter()


# --- Devanagari → folded Latin ------------------------------------------------------------

VOWELS = {"अ": "a", "आ": "a", "इ": "i", "ई": "i", "उ": "u", "ऊ": "u", "ऋ": "ri", "ए": "e",
          "ऐ": "ai", "ओ": "o", "औ": "au", "ऍ": "a", "ऑ": "o", "ऎ": "e", "ऒ": "o"}
SIGNS = {"ा": "a", "ि": "i", "ी": "i", "ु": "u", "ू": "u", "ृ": "ri", "े": "e", "ै": "ai",
         "ो": "o", "ौ": "au", "ॅ": "a", "ॉ": "o", "ॆ": "e", "ॊ": "o"}
CONSONANTS = {
    "क": "k", "ख": "kh", "ग": "g", "घ": "gh", "ङ": "n", "च": "ch", "छ": "chh", "ज": "j",
    "झ": "jh", "ञ": "n", "ट": "t", "ठ": "th", "ड": "d", "ढ": "dh", "ण": "n", "त": "t",
    "थ": "th", "द": "d", "ध": "dh", "न": "n", "प": "p", "फ": "ph", "ब": "b", "भ": "bh",
    "म": "m", "य": "y", "र": "r", "ल": "l", "ळ": "l", "व": "v", "श": "sh", "ष": "sh",
    "स": "s", "ह": "h"}
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
    if (kept and kept[-1][0] == "A" and len(kept) > 2
            and not (kept[-2][0] == "C" and kept[-3][0] == "C")):
        kept.pop()
    for i in range(len(kept) - 3, 1, -1):
        if kept[i][0] != "A":
            continue
        before, after = kept[i - 2:i], kept[i + 1:i + 3]
        if (before[0][0] in "VA" and before[1][0] == "C" and len(after) == 2
                and after[0][0] == "C" and after[1][0] == "V"):
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
    return "".join(letters if kind != "M" or letters != "h" else ""
                   for kind, letters in segments)


def fold(text: str) -> str:
    """Latin letters as people type them: no diacritics, doubled vowels collapsed."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    for long, short in (("aa", "a"), ("ee", "i"), ("ii", "i"), ("oo", "u"), ("uu", "u"),
                        ("w", "v"), ("z", "j"), ("f", "ph"), ("q", "k"), ("sh", "s"),
                        ("jh", "j")):
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
        for reading in ((letters.replace("jn", "gy"), letters.replace("jn", "dny"))
                        if "jn" in letters else (letters,)):
            form = fold(reading)
            if form not in forms:
                forms.append(form)
    return tuple(forms)
