"""Light stemming for Hindi and Marathi, and the stem keys of the ``stem`` field.

A word is found by its inflected forms: उदासी by उदास, बच्चों by बच्चे, शाळेतून by शाळा,
दुपट्ट्याशी by दुपट्टा. Hindi follows the light stemmer of Ramanathan and Rao (2003), as
Lucene's HindiStemmer does: the longest inflectional ending goes. Marathi attaches its case
endings (ला, ना, शी, तून, चा/ची/चे…) to an oblique stem (शाळे-, दुपट्ट्या-): the case ending
goes first, then the oblique or inflectional ending. A word keeps at least two aksharas
(letters with their signs), so short words stay apart; उदार keeps its र and stays apart
from उदासी.

Before stemming, spellings that people mix freely are made one (as Lucene's
HindiNormalizer does): the nukta goes (फ़ोन, फोन), chandrabindu becomes anusvara (आँख,
आंख), joiners go; after it, long and short i and u are one (उम्मीद, उम्मिद).

The ``stem`` field holds, for each word, its stem keys (`stem_keys`): the stem itself and
its romanized forms without their final vowels, so that ``udas``, ``udaas`` and उदास all
meet उदासी, and ``shala`` meets शाळेतून; a Latin word (English, or Hindi typed in Latin
letters: "bahut udaas hoon") is keyed by its folded spelling without final vowels, so a
Devanagari query finds it too. Index and query use the same keys.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from whoosh.analysis import Filter, RegexTokenizer

from archive.search.analyzer import (
    DEVANAGARI,
    LATIN_LETTERS,
    NUKTA_SIGN,
    VIRAMA,
    WORD,
    _FromWords,
    fold,
    roman_forms,
)

#: letters that start an akshara (a consonant or an independent vowel)
_LETTER = re.compile(r"[\u0904-\u0939\u0958-\u0961\u0972-\u097f]")

#: Marathi case endings and postpositions written as one word with the oblique stem;
#: the longest first
MARATHI_CASE = sorted(
    """
    साठी पर्यंत मध्ये पासून सोबत बरोबर कडून कडे खाली वरून वर ऐवजी प्रमाणे सारखा सारखी सारखे
    तून हून शी ला ना ने नी चा ची चे च्या त ही
""".split(),
    key=len,
    reverse=True,
)

#: Hindi inflectional endings (Ramanathan and Rao's list, as Lucene's HindiStemmer has it,
#: less the bare verb endings ना ने नी ता ते ती, which took सपना to सप and गलती to गल: a
#: verb keeps its न or त, the same in all its forms) and the Marathi oblique and plural
#: endings; the longest first
INFLECTION = sorted(
    """
    ाएंगी ाएंगे ाऊंगी ाऊंगा ाइयां ाइयों
    ाएगी ाएगा ाओगी ाओगे एंगी ेंगी एंगे ेंगे ूंगी ूंगा ातीं नाओं नाएं ताओं ताएं ियां ियों
    ाकर ाइए ाईं ाया ेगी ेगा ोगी ोगे ाने ाना ाते ाती ाता तीं ाओं ाएं ुओं ुएं ुआं ्या ्ये ्यां
    कर ाओ िए ाई ाए ीं ां ों ें
    ो े ू ु ी ि ा
""".split(),
    key=len,
    reverse=True,
)

#: a stem keeps at least this many aksharas (आईला → आई, never आ)
MIN_AKSHARAS = 2
#: a romanized stem keeps at least this many letters
MIN_ROMAN = 3


def aksharas(word: str) -> int:
    """How many letters-with-signs a Devanagari word has: the consonants and independent
    vowels not joined to the next letter by a virama."""
    count = 0
    for i, char in enumerate(word):
        if _LETTER.match(char) and not (i + 1 < len(word) and word[i + 1] == VIRAMA):
            count += 1
    return count


@lru_cache(maxsize=200_000)
def normalize(word: str) -> str:
    """The spelling variants people mix freely made one: no nukta, no joiners,
    chandrabindu as anusvara (NFC otherwise)."""
    text = unicodedata.normalize("NFD", word)
    text = text.replace(NUKTA_SIGN, "").replace("\u200c", "").replace("\u200d", "")
    text = text.replace("\u0901", "\u0902")
    return unicodedata.normalize("NFC", text)


#: case endings that follow only an oblique vowel or a plural's anusvara: the locative त
#: (शाळेत, घरात, खिडकीत; बहुत and दोस्त keep theirs), ने (आईने, not सपने) and the plural's
#: ना, नी (मुलांना, डॉक्टरांनी; सपना keeps its ना)
_ONLY_AFTER = {"त": "ाीेंई", "ने": "ाीेंई", "ना": "ं", "नी": "ं"}


def _strip(word: str, endings: list[str]) -> str:
    for ending in endings:
        if word.endswith(ending) and aksharas(word[: -len(ending)]) >= MIN_AKSHARAS:
            rest = word[: -len(ending)]
            if rest.endswith(VIRAMA):
                continue
            if ending in _ONLY_AFTER and rest[-1] not in _ONLY_AFTER[ending]:
                continue
            return rest
    return word


_LENGTH = str.maketrans({"ी": "ि", "ू": "ु", "ई": "इ", "ऊ": "उ"})


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The light stem of a Devanagari word (see the module's docstring); other words are
    returned as they are."""
    if not DEVANAGARI.search(word):
        return word
    word = normalize(word)
    cased = _strip(word, MARATHI_CASE)
    stemmed = _strip(cased, INFLECTION)
    return stemmed.translate(_LENGTH)


#: chat spellings `analyzer.fold` leaves apart: बच्चे as bachche, bacche or bache
_CHAT = re.compile(r"c+h(?:c+h)+|cch")


def roman_stem(form: str) -> str:
    """A folded Latin form without its final vowels (``udasi`` → udas, ``shala`` → sal)
    and a plural's "on"/"en", keeping at least `MIN_ROMAN` letters."""
    form = _vowels_off(_CHAT.sub("ch", form))
    # the oblique plural, as typed: bachchon, ummeeden, kitaabein (ों, ें)
    if form.endswith(("on", "en")) and len(form) - 2 >= MIN_ROMAN + 1:
        form = _vowels_off(form[:-2])
    return form


def _vowels_off(form: str) -> str:
    end = len(form)
    while end > MIN_ROMAN and form[end - 1] in "aeiouy":
        end -= 1
    return form[:end]


@lru_cache(maxsize=200_000)
def stem_keys(word: str) -> tuple[str, ...]:
    """The terms a word is indexed and looked up by in the ``stem`` field: a Devanagari
    word's stem and its romanized stems; a Latin word's folded spelling without its final
    vowels. ``word`` is lower case and NFC (as `analyzer.normal_word` makes it)."""
    if DEVANAGARI.search(word):
        base = stem(word)
        keys = [base]
        for form in roman_forms(stem(unicodedata.normalize("NFC", word))):
            key = roman_stem(form)
            if key not in keys:
                keys.append(key)
        return tuple(keys)
    if LATIN_LETTERS.match(word):
        return (roman_stem(fold(word)),)
    return (word,)


_WORDS = re.compile(WORD)


class StemWords(_FromWords):
    """The ``stem`` field's analyzer: the stem keys of every word (`stem_keys`). Latin words
    are keyed as typed (lower case), not through the English stemmer of the content field:
    it reads "udaas" as a plural."""

    def __init__(self):
        self.full = RegexTokenizer(WORD) | StemKeyFilter()

    def words(self, text):
        return [key for word in _WORDS.findall(text) for key in stem_keys(_lower(word))]


def _lower(word: str) -> str:
    word = word.lower()
    return word if word.isascii() else unicodedata.normalize("NFC", word)


class StemKeyFilter(Filter):
    """A query word's stem keys, as `StemWords` indexes a text's."""

    def __call__(self, tokens):
        for token in tokens:
            for key in stem_keys(_lower(token.text)):
                token.text = key
                yield token
