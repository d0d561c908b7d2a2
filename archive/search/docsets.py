"""Which index entries a query matches, as arrays over the searcher's document numbers,
worked out per segment and kept by the index handle.

A segment's files never change once written; only its list of deleted entries grows. So
what a query matches in a segment stays true while the segment lives, less the entries
deleted since. Every change to the index makes a new generation and each worker then opens
a new searcher, but most of that searcher's segments are the ones the last searcher had:
kept per segment, the sets for the access filter, words, tags and facets cost a search
after a change only the work for the new, small segment — not a pass over every posting.

Per segment a set is kept as a sorted array of document numbers (4 bytes each); for a
whole searcher it is a bitmap (one byte per entry), so unions and intersections, counts and
facet tallies are single passes in NumPy. Whoosh's matchers would step through documents
one at a time, and Python sets of a million numbers made each garbage collection walk them
(a tenth of a search's time at 100k entries). Sets are read-only: combine them into new
ones (``a & b``), never in place.

What is kept per segment lives in the index handle's `SegmentCache` (``s.kept``); what is
worked out for a whole searcher, in the searcher's ``memo`` (`engine.searching`). A stock
Whoosh searcher (a test's, a check's) keeps nothing between calls.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import reduce
from typing import Optional

import numpy as np
from whoosh.query import And, AndNot, Not, Or, Query, Term

from archive.search.engine.lengths import length_table
from archive.search.engine.postings import posting_arrays, word_bytes

#: bytes kept per index handle, over every segment's sets, postings and tables
MAX_KEPT_BYTES = 96 * 1024 * 1024
#: bytes of whole-searcher bitmaps kept per searcher (100 KB each at 100k entries)
PER_SEARCHER_BYTES = 12 * 1024 * 1024

_EMPTY = np.zeros(0, dtype=np.int32)


class SegmentCache:
    """What has been worked out per segment (keys: (segment id, what)), least recently used
    dropped first past `MAX_KEPT_BYTES`; shared by the threads of a process."""

    def __init__(self, max_bytes: Optional[int] = None) -> None:
        self.max_bytes = MAX_KEPT_BYTES if max_bytes is None else max_bytes
        self._kept: OrderedDict = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def recall(self, key):
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def keep(self, key, found) -> None:
        for part in found if isinstance(found, tuple) else (found,):
            if isinstance(part, np.ndarray):
                part.flags.writeable = False
        with self._lock:
            if key in self._kept:
                return
            self._kept[key] = found
            self._size += _size(found)
            while self._size > self.max_bytes and len(self._kept) > 1:
                _old, dropped = self._kept.popitem(last=False)
                self._size -= _size(dropped)

    def forget_segments(self, segments) -> None:
        """Drop what is kept of segments that have left the index (their word lists hold
        the words of the entries erased from them)."""
        segments = set(segments)
        if not segments:
            return
        with self._lock:
            for key in [key for key in self._kept if key[0] in segments]:
                self._size -= _size(self._kept.pop(key))

    def segments(self) -> set[str]:
        """The segments something is kept of."""
        with self._lock:
            return {key[0] for key in self._kept}


class _Nothing:
    """Keeps nothing: the per-segment sets of a searcher without an index handle."""

    def recall(self, key):
        return None

    def keep(self, key, found) -> None:
        pass


_NOTHING = _Nothing()


def cache_of(s):
    """The per-segment sets searcher ``s`` (or a leaf of it) keeps them in."""
    kept = getattr(s, "kept", None)
    return kept if kept is not None else _NOTHING


def memo_of(s) -> dict:
    """What has been worked out for searcher ``s`` (nothing kept for a stock searcher)."""
    memo = getattr(s, "memo", None)
    return memo if memo is not None else {}


def docs(s, query: Query) -> np.ndarray:
    """A bitmap over the entries of searcher ``s``: True where ``query`` matches an entry
    that is not deleted."""
    whole = memo_of(s)
    memo = whole.setdefault("docsets", OrderedDict())
    found = memo.get(query)
    if found is None:
        found = _combine(s, query)
        found.flags.writeable = False
        size = whole.get("docsets_size", 0) + found.nbytes
        while memo and size > PER_SEARCHER_BYTES:
            size -= memo.popitem(last=False)[1].nbytes
        memo[query] = found
        whole["docsets_size"] = size
    else:
        memo.move_to_end(query)
    return found


def _combine(s, query: Query) -> np.ndarray:
    kind = type(query)
    if kind is Or and not query.minmatch:
        parts = [docs(s, sub) for sub in query.subqueries]
        return reduce(np.bitwise_or, parts[1:], parts[0].copy()) if parts else _none(s)
    if kind is And:
        wanted = [sub for sub in query.subqueries if type(sub) is not Not]
        unwanted = [sub.query for sub in query.subqueries if type(sub) is Not]
        if wanted:
            found = docs(s, wanted[0]).copy()
            for sub in wanted[1:]:
                found &= docs(s, sub)
            for sub in unwanted:
                found &= ~docs(s, sub)
            return found
    if kind is AndNot:
        return docs(s, query.a) & ~docs(s, query.b)
    return _from_segments(s, query)


def _none(s) -> np.ndarray:
    return np.zeros(s.doc_count_all(), dtype=bool)


def _from_segments(s, query: Query) -> np.ndarray:
    found = _none(s)
    cache = cache_of(s)
    for leaf, offset in s.leaf_searchers():
        reader = leaf.reader()
        segment = _segment_id(reader)
        if segment is None:  # an empty index
            local = np.fromiter(query.docs(leaf), dtype=np.int64)
        else:
            local = _segment_docs(leaf, reader, segment, query, cache)
        found[local + offset if offset else local] = True
    found &= ~deleted(s)
    return found


def deleted(s) -> np.ndarray:
    """A bitmap of the searcher's deleted entries."""
    memo = memo_of(s)
    if "deleted" not in memo:
        found = _none(s)
        for leaf, offset in s.leaf_searchers():
            reader = leaf.reader()
            if reader.has_deletions():
                found[np.fromiter(reader.deleted_docs_set, dtype=np.int64) + offset] = True
        found.flags.writeable = False
        memo["deleted"] = found
    return memo["deleted"]


def _segment_id(reader):
    segment = reader.segment() if hasattr(reader, "segment") else None
    return None if segment is None else segment.segment_id()


def _segment_docs(leaf, reader, segment: str, query: Query, cache) -> np.ndarray:
    if type(query) is Term:
        return term_postings(cache, reader, query.fieldname, query.text)[0]
    key = (segment, query)
    found = cache.recall(key)
    if found is None:
        found = np.fromiter(query.docs(leaf), dtype=np.int32)
        cache.keep(key, found)
    return found


def term_postings(
    cache, reader, fieldname: str, text, btext: Optional[bytes] = None
) -> tuple[np.ndarray, np.ndarray]:
    """A word's entries in one segment (deleted ones included), in order, and its weight
    in each; kept per segment in ``cache``."""
    btext = btext if btext is not None else word_bytes(reader, fieldname, text)
    if btext is None or fieldname not in reader.schema:
        return _EMPTY, np.zeros(0)
    segment = _segment_id(reader)
    key = (segment, ("postings", fieldname, btext))
    found = cache.recall(key) if segment is not None else None
    if found is None:
        found = posting_arrays(reader, fieldname, btext)
        if segment is not None:
            cache.keep(key, found)
    return found


def lengths(cache, reader, fieldname: str) -> Optional[np.ndarray]:
    """Each entry's length in ``fieldname`` (as Whoosh keeps it, one byte), kept per
    segment in ``cache``; None if the field keeps no lengths."""
    segment = _segment_id(reader)
    key = (segment, ("lengths", fieldname))
    found = cache.recall(key) if segment is not None else None
    if found is None:
        found = length_table(reader, fieldname)
        if found is None:
            return None
        if segment is not None:
            cache.keep(key, found)
    return found


def column(s, fieldname: str) -> np.ndarray:
    """A numeric column's value for every entry of ``s``, kept per segment."""
    memo = memo_of(s).setdefault("columns", {})
    cache = cache_of(s)
    if fieldname not in memo:
        parts = []
        for leaf, _offset in s.leaf_searchers():
            reader = leaf.reader()
            segment = _segment_id(reader)
            key = (segment, ("column", fieldname))
            local = cache.recall(key) if segment is not None else None
            if local is None:
                count = reader.doc_count_all()
                values = (
                    reader.column_reader(fieldname) if reader.has_column(fieldname) else [0] * count
                )
                local = np.fromiter((values[n] for n in range(count)), dtype=np.int64, count=count)
                if segment is not None:
                    cache.keep(key, local)
            parts.append(local)
        memo[fieldname] = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    return memo[fieldname]


def counts(s, fieldnames, allowed: np.ndarray) -> dict[str, list[tuple[str, int]]]:
    """For each of ``fieldnames``: how many allowed entries have each of its values (an
    entry may have several: tags), most first. Counted per segment from a table kept with
    it, for the allowed entries only."""
    chosen = np.flatnonzero(allowed)
    cache = cache_of(s)
    tallies: dict[str, dict[str, int]] = {name: {} for name in fieldnames}
    for leaf, offset in s.leaf_searchers():
        reader = leaf.reader()
        end = offset + reader.doc_count_all()
        mine = chosen[np.searchsorted(chosen, offset) : np.searchsorted(chosen, end)] - offset
        if not len(mine):
            continue
        for fieldname, tally in tallies.items():
            names, starts, codes = _values(cache, reader, fieldname)
            first, last = starts[mine], starts[mine + 1]
            sizes = last - first
            # every value of every chosen entry: runs codes[first:last], laid end to end
            runs = np.repeat(first - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())
            found = np.bincount(codes[runs], minlength=len(names))
            for code in np.flatnonzero(found):
                tally[names[code]] = tally.get(names[code], 0) + int(found[code])
    return {
        name: sorted(tally.items(), key=lambda pair: (-pair[1], pair[0]))
        for name, tally in tallies.items()
    }


def _values(cache, reader, fieldname: str):
    """The values of ``fieldname`` in one segment, kept with it: (names, starts, codes) —
    entry ``n`` has the values ``names[c]`` for ``c`` in ``codes[starts[n]:starts[n+1]]``."""
    segment = _segment_id(reader)
    key = (segment, ("values", fieldname))
    found = cache.recall(key) if segment is not None else None
    if found is None:
        names: list[str] = []
        held: list[np.ndarray] = []
        coded: list[np.ndarray] = []
        if fieldname in reader.schema:
            for value in reader.lexicon(fieldname):
                holders = term_postings(cache, reader, fieldname, None, value)[0]
                held.append(holders)
                coded.append(np.full(len(holders), len(names), dtype=np.int32))
                names.append(value.decode() if isinstance(value, bytes) else value)
        entries = np.concatenate(held) if held else _EMPTY
        codes = np.concatenate(coded) if coded else _EMPTY
        order = np.argsort(entries, kind="stable")
        starts = np.zeros(reader.doc_count_all() + 1, dtype=np.int64)
        np.cumsum(np.bincount(entries, minlength=reader.doc_count_all()), out=starts[1:])
        found = (names, starts, codes[order])
        if segment is not None:
            cache.keep(key, found)
    return found


def _size(found) -> int:
    """Bytes held, roughly (an array's own ~100 bytes counted too)."""
    if isinstance(found, np.ndarray):
        return found.nbytes + 100
    if isinstance(found, tuple):
        return sum(_size(part) for part in found)
    if isinstance(found, list):
        return sum(len(str(part)) + 50 for part in found)
    return 64
