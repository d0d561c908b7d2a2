"""Which index entries a query matches, as sets of document numbers, worked out per segment
and kept per process.

A segment's files never change once written; only its list of deleted entries grows. So
what a query matches in a segment stays true while the segment lives, less the entries
deleted since. Every change to the index makes a new generation and each worker then opens
a new searcher, but most of that searcher's segments are the ones the last searcher had:
kept per segment, the sets for the access filter, words, tags and facets cost a search
after a change only the work for the new, small segment — not a pass over every posting.

Unions and intersections of words are done on these sets: Whoosh's matchers would step
through their documents one at a time.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Optional

from whoosh.query import And, AndNot, Not, Or, Query, Term
from whoosh.reading import TermNotFound

from archive.search.postings import posting_ids

#: document numbers kept in all, over every segment set (~55 bytes each in a frozenset)
MAX_KEPT = 1_000_000
#: sets kept per searcher (whole-index sets, built from the segments' sets)
PER_SEARCHER = 512

_kept: OrderedDict = OrderedDict()
_kept_size = [0]
_lock = threading.Lock()


def docs(s, query: Query) -> frozenset:
    """The entries of searcher ``s`` (deleted ones left out) that ``query`` matches."""
    memo = s.__dict__.setdefault("_archive_docsets", OrderedDict())
    found = memo.get(query)
    if found is None:
        found = _combine(s, query)
        if len(memo) >= PER_SEARCHER:
            memo.popitem(last=False)
        memo[query] = found
    else:
        memo.move_to_end(query)
    return found


def _combine(s, query: Query) -> frozenset:
    kind = type(query)
    if kind is Or and not query.minmatch:
        return frozenset().union(*(docs(s, sub) for sub in query.subqueries))
    if kind is And:
        wanted = [sub for sub in query.subqueries if type(sub) is not Not]
        unwanted = [sub.query for sub in query.subqueries if type(sub) is Not]
        if wanted:
            found = sorted((docs(s, sub) for sub in wanted), key=len)
            return found[0].intersection(*found[1:]).difference(
                *(docs(s, sub) for sub in unwanted))
    if kind is AndNot:
        return docs(s, query.a) - docs(s, query.b)
    return _from_segments(s, query)


def _from_segments(s, query: Query) -> frozenset:
    parts = []
    for leaf, offset in s.leaf_searchers():
        reader = leaf.reader()
        segment = _segment_id(reader)
        if segment is None:  # an empty index
            parts.append(frozenset(d + offset for d in query.docs(leaf)))
            continue
        local = _segment_docs(leaf, reader, segment, query)
        if reader.has_deletions():
            local = local - reader.deleted_docs_set
        parts.append(frozenset(map(offset.__add__, local)) if offset else local)
    if len(parts) == 1:
        return parts[0]
    return frozenset().union(*parts)


def _segment_id(reader):
    segment = reader.segment() if hasattr(reader, "segment") else None
    return None if segment is None else segment.segment_id()


def _segment_docs(leaf, reader, segment: str, query: Query) -> frozenset:
    key = (segment, query)
    found = _recall(key)
    if found is None:
        found = (_term_docs(reader, query.fieldname, query.text) if type(query) is Term
                 else frozenset(query.docs(leaf)))
        _keep(key, found, len(found))
    return found


def _term_docs(reader, fieldname: str, text) -> frozenset:
    """A word's entries in one segment, deleted ones included, read a block at a time."""
    if fieldname not in reader.schema:
        return frozenset()
    try:
        matcher = reader._terms.matcher(fieldname, reader._text_to_bytes(fieldname, text),
                                        reader.schema[fieldname].format)
    except (TermNotFound, KeyError):
        return frozenset()
    return frozenset(posting_ids(matcher))


def known_weights(reader, fieldname: str, btext: bytes) -> Optional[dict[int, float]]:
    """A word's weight in each entry of one segment that holds it (deleted ones too), if
    kept: ranking keeps it once it has read the word's every posting (`keep_weights`)."""
    segment = _segment_id(reader)
    return None if segment is None else _recall((segment, ("weights", fieldname, btext)))


def keep_weights(reader, fieldname: str, btext: bytes, weights: dict[int, float]) -> None:
    segment = _segment_id(reader)
    if segment is not None:
        _keep((segment, ("weights", fieldname, btext)), weights, len(weights))


def values(s, fieldname: str, multiple: bool = False) -> list:
    """For every entry of ``s`` (by document number), its value in ``fieldname`` — None
    if it has none; with ``multiple``, a tuple of its values (tags)."""
    memo = s.__dict__.setdefault("_archive_values", {})
    if fieldname not in memo:
        table: list = []
        for leaf, _offset in s.leaf_searchers():
            reader = leaf.reader()
            segment = _segment_id(reader)
            if segment is None:  # an empty index
                table.extend([() if multiple else None] * reader.doc_count_all())
                continue
            key = (segment, ("values", fieldname))
            local = _recall(key)
            if local is None:
                local = _segment_values(reader, fieldname, multiple)
                _keep(key, local, len(local))
            table.extend(local)
        memo[fieldname] = table
    return memo[fieldname]


def _segment_values(reader, fieldname: str, multiple: bool) -> list:
    table: list = [() if multiple else None] * reader.doc_count_all()
    if fieldname not in reader.schema:
        return table
    for value in reader.lexicon(fieldname):
        text = value.decode() if isinstance(value, bytes) else value
        for docnum in _term_docs(reader, fieldname, text):
            table[docnum] = table[docnum] + (text,) if multiple else text
    return table


def _recall(key):
    with _lock:
        found = _kept.get(key)
        if found is not None:
            _kept.move_to_end(key)
        return found


def _keep(key, found, size: int) -> None:
    with _lock:
        if key in _kept:
            return
        _kept[key] = found
        _kept_size[0] += size
        while _kept_size[0] > MAX_KEPT and len(_kept) > 1:
            _old, dropped = _kept.popitem(last=False)
            _kept_size[0] -= len(dropped)


def forget_all() -> None:
    with _lock:
        _kept.clear()
        _kept_size[0] = 0
