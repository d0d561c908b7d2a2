"""Which index entries a query matches, as arrays over the searcher's document numbers,
worked out per segment and kept per process.

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
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from functools import reduce
from typing import Optional

import numpy as np
from whoosh.query import And, AndNot, Not, Or, Query, Term
from whoosh.reading import TermNotFound

from archive.search.lengths import length_table
from archive.search.postings import posting_arrays

#: bytes kept in all per process, over every segment's sets, postings and tables
MAX_KEPT_BYTES = 96 * 1024 * 1024
#: bytes of whole-searcher bitmaps kept per searcher (100 KB each at 100k entries)
PER_SEARCHER_BYTES = 12 * 1024 * 1024

_kept: OrderedDict = OrderedDict()
_kept_size = [0]
_lock = threading.Lock()
_EMPTY = np.zeros(0, dtype=np.int32)


def docs(s, query: Query) -> np.ndarray:
    """A bitmap over the entries of searcher ``s``: True where ``query`` matches an entry
    that is not deleted."""
    memo = s.__dict__.setdefault("_archive_docsets", OrderedDict())
    found = memo.get(query)
    if found is None:
        found = _combine(s, query)
        found.flags.writeable = False
        size = s.__dict__.get("_archive_docsets_size", 0) + found.nbytes
        while memo and size > PER_SEARCHER_BYTES:
            size -= memo.popitem(last=False)[1].nbytes
        memo[query] = found
        s.__dict__["_archive_docsets_size"] = size
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
    for leaf, offset in s.leaf_searchers():
        reader = leaf.reader()
        segment = _segment_id(reader)
        if segment is None:  # an empty index
            local = np.fromiter(query.docs(leaf), dtype=np.int64)
        else:
            local = _segment_docs(leaf, reader, segment, query)
        found[local + offset if offset else local] = True
    found &= ~deleted(s)
    return found


def deleted(s) -> np.ndarray:
    """A bitmap of the searcher's deleted entries."""
    memo = s.__dict__
    if "_archive_deleted" not in memo:
        found = _none(s)
        for leaf, offset in s.leaf_searchers():
            reader = leaf.reader()
            if reader.has_deletions():
                found[np.fromiter(reader.deleted_docs_set, dtype=np.int64) + offset] = True
        found.flags.writeable = False
        memo["_archive_deleted"] = found
    return memo["_archive_deleted"]


def _segment_id(reader):
    segment = reader.segment() if hasattr(reader, "segment") else None
    return None if segment is None else segment.segment_id()


def _segment_docs(leaf, reader, segment: str, query: Query) -> np.ndarray:
    if type(query) is Term:
        return term_postings(reader, query.fieldname, query.text)[0]
    key = (segment, query)
    found = _recall(key)
    if found is None:
        found = np.fromiter(query.docs(leaf), dtype=np.int32)
        _keep(key, found)
    return found


def term_postings(reader, fieldname: str, text, btext: Optional[bytes] = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """A word's entries in one segment (deleted ones included), in order, and its weight
    in each; kept per segment."""
    if fieldname not in reader.schema:
        return _EMPTY, np.zeros(0)
    try:
        btext = btext if btext is not None else reader._text_to_bytes(fieldname, text)
    except ValueError:
        return _EMPTY, np.zeros(0)
    segment = _segment_id(reader)
    key = (segment, ("postings", fieldname, btext))
    found = _recall(key) if segment is not None else None
    if found is None:
        try:
            matcher = reader._terms.matcher(fieldname, btext, reader.schema[fieldname].format)
        except (TermNotFound, KeyError):
            found = _EMPTY, np.zeros(0)
        else:
            found = posting_arrays(matcher)
        if segment is not None:
            _keep(key, found)
    return found


def lengths(reader, fieldname: str) -> Optional[np.ndarray]:
    """Each entry's length in ``fieldname`` (as Whoosh keeps it, one byte), kept per
    segment; None if the field keeps no lengths."""
    segment = _segment_id(reader)
    key = (segment, ("lengths", fieldname))
    found = _recall(key) if segment is not None else None
    if found is None:
        found = length_table(reader, fieldname)
        if found is None:
            return None
        if segment is not None:
            _keep(key, found)
    return found


def column(s, fieldname: str) -> np.ndarray:
    """A numeric column's value for every entry of ``s``, kept per segment."""
    memo = s.__dict__.setdefault("_archive_columns", {})
    if fieldname not in memo:
        parts = []
        for leaf, _offset in s.leaf_searchers():
            reader = leaf.reader()
            segment = _segment_id(reader)
            key = (segment, ("column", fieldname))
            local = _recall(key) if segment is not None else None
            if local is None:
                count = reader.doc_count_all()
                values = reader.column_reader(fieldname) if reader.has_column(fieldname) \
                    else [0] * count
                local = np.fromiter((values[n] for n in range(count)), dtype=np.int64,
                                    count=count)
                if segment is not None:
                    _keep(key, local)
            parts.append(local)
        memo[fieldname] = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    return memo[fieldname]


def counts(s, fieldnames, allowed: np.ndarray) -> dict[str, list[tuple[str, int]]]:
    """For each of ``fieldnames``: how many allowed entries have each of its values (an
    entry may have several: tags), most first. Counted per segment from a table kept with
    it, for the allowed entries only."""
    chosen = np.flatnonzero(allowed)
    tallies: dict[str, dict[str, int]] = {name: {} for name in fieldnames}
    for leaf, offset in s.leaf_searchers():
        reader = leaf.reader()
        end = offset + reader.doc_count_all()
        mine = chosen[np.searchsorted(chosen, offset):np.searchsorted(chosen, end)] - offset
        if not len(mine):
            continue
        for fieldname, tally in tallies.items():
            names, starts, codes = _values(reader, fieldname)
            first, last = starts[mine], starts[mine + 1]
            sizes = last - first
            # every value of every chosen entry: runs codes[first:last], laid end to end
            runs = np.repeat(first - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())
            found = np.bincount(codes[runs], minlength=len(names))
            for code in np.flatnonzero(found):
                tally[names[code]] = tally.get(names[code], 0) + int(found[code])
    return {name: sorted(tally.items(), key=lambda pair: (-pair[1], pair[0]))
            for name, tally in tallies.items()}


def _values(reader, fieldname: str):
    """The values of ``fieldname`` in one segment, kept with it: (names, starts, codes) —
    entry ``n`` has the values ``names[c]`` for ``c`` in ``codes[starts[n]:starts[n+1]]``."""
    segment = _segment_id(reader)
    key = (segment, ("values", fieldname))
    found = _recall(key) if segment is not None else None
    if found is None:
        names: list[str] = []
        held: list[np.ndarray] = []
        coded: list[np.ndarray] = []
        if fieldname in reader.schema:
            for value in reader.lexicon(fieldname):
                holders = term_postings(reader, fieldname, None, value)[0]
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
            _keep(key, found)
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


def _recall(key):
    with _lock:
        found = _kept.get(key)
        if found is not None:
            _kept.move_to_end(key)
        return found


def _keep(key, found) -> None:
    for part in found if isinstance(found, tuple) else (found,):
        if isinstance(part, np.ndarray):
            part.flags.writeable = False
    with _lock:
        if key in _kept:
            return
        _kept[key] = found
        _kept_size[0] += _size(found)
        while _kept_size[0] > MAX_KEPT_BYTES and len(_kept) > 1:
            _old, dropped = _kept.popitem(last=False)
            _kept_size[0] -= _size(dropped)


def forget_all() -> None:
    with _lock:
        _kept.clear()
        _kept_size[0] = 0


def forget_segments(segments) -> None:
    """Drop what is kept of segments that have left the index (their word lists hold the
    words of the entries erased from them)."""
    segments = set(segments)
    if not segments:
        return
    with _lock:
        for key in [key for key in _kept if key[0] in segments]:
            _kept_size[0] -= _size(_kept.pop(key))
