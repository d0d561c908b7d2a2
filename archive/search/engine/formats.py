"""How the index keeps a word's positions and counts in a posting, as Whoosh's formats do
but compactly, and analyzed from the archive's analyzers' word lists.

Whoosh pickles these classes with the schema: their names must stay importable
(`archive.search.codec` keeps the names indexes written before this package recorded).
"""

from __future__ import annotations

from array import array
from collections import Counter
from itertools import accumulate, chain, pairwise
from typing import Optional

from whoosh.formats import Frequency, Positions
from whoosh.system import pack_uint

from archive.search.engine.codec import from_bytes, to_bytes


def _analyzed(value, analyzer, options: dict) -> Optional[list[str]]:
    """An entry's words straight from the archive's analyzers, which hand them over as a
    list (`analyzer._FromWords.words`), without a token object per word; None for any
    other analyzer or call."""
    words = getattr(analyzer, "words", None)
    if (
        words is None
        or not isinstance(value, str)
        or options.get("mode", "index") != "index"
        or options.keys() - {"mode"}
    ):
        return None
    return words(value)


class WordPositions(Positions):
    """Word positions in a posting, as Whoosh's `Positions` keeps them but compactly: a
    type letter, then the gaps between positions as an array (16-bit when they fit).
    Whoosh's own encoding is a pickled list (14 bytes for one position, 3 here), and
    unpickling it for every candidate of a phrase was most of a phrase's time."""

    def word_values(self, value, analyzer, **options):
        words = _analyzed(value, analyzer, options)
        if words is None:
            yield from super().word_values(value, analyzer, **options)
            return
        places: dict[str, list[int]] = {}
        for position, word in enumerate(words):
            found = places.get(word)
            if found is None:
                places[word] = [position]
            else:
                found.append(position)
        boost, encode = self.field_boost, self.encode
        for word, found in places.items():
            yield word, len(found), len(found) * boost, encode(found)

    def encode(self, poslist):
        if len(poslist) == 1:
            position = poslist[0]
            return (
                b"H" + position.to_bytes(2, "little")
                if position < 1 << 16
                else b"I" + position.to_bytes(4, "little")
            )
        gaps = [after - before for before, after in pairwise(chain((0,), poslist))]
        try:
            return b"H" + to_bytes(array("H", gaps))
        except OverflowError:
            return b"I" + to_bytes(array("I", gaps))

    def decode_positions(self, valuestring):
        return list(accumulate(from_bytes(chr(valuestring[0]), valuestring[1:])))

    def decode_frequency(self, valuestring):
        return (len(valuestring) - 1) // (2 if valuestring[:1] == b"H" else 4)


class WordCounts(Frequency):
    """Whoosh's `Frequency`, counting the words the archive's analyzers hand over as a
    list (see `_analyzed`)."""

    def word_values(self, value, analyzer, **options):
        words = _analyzed(value, analyzer, options)
        if words is None:
            yield from super().word_values(value, analyzer, **options)
            return
        boost = self.field_boost
        for word, count in Counter(words).items():
            yield word, count, count * boost, pack_uint(count)
