"""Ranking the entries a viewer may see, and only those, by Whoosh's own scores (BM25F).

The search already knows the exact set of entries to rank (`docsets`: matches, the access
filter, the narrowing, as a bitmap). Whoosh's ``Searcher.search(filter=…)`` would step
through every match, the viewer's or not — and its top-k shortcuts (whoosh-reloaded 2.7.5)
lose the best entry of a query of two or more words (`tests/test_search_topk.py` shows it
on stock Whoosh; docs/whoosh-topk-report.md is the report for Whoosh's maintainers). Here
every allowed entry is scored, and nothing else.

A query of words (``Or``/``And`` of terms, with ``Not`` parts that score nothing) scores an
entry as the sum, over its words found in the entry, of the word's score times its boost —
what Whoosh's union and intersection matchers add up. Each word's postings and weights are
kept per segment as arrays (`docsets.term_postings`), and BM25F is worked out for all the
word's allowed entries at once, with the same arithmetic as Whoosh's ``bm25`` in the same
order, so the scores are Whoosh's to the last bit. Any other query is scored through its
Whoosh matcher, skipping straight to each allowed entry.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from whoosh.query import And, AndNot, Not, Or, Query, Term
from whoosh.scoring import BM25F

from archive.search import docsets
from archive.search.engine.postings import bm25_parameters
from archive.search.engine.postings import matcher as word_matcher


def best(s, query: Query, allowed: np.ndarray, upto: int) -> list[int]:
    """The ``upto`` best of the ``allowed`` entries (a bitmap over the searcher's entries;
    ties: the lower document number first)."""
    docnums, found = _scored(s, query, allowed)
    if len(docnums) > upto:  # only those scoring at least the upto-th best can be among them
        bar = np.partition(found, len(found) - upto)[len(found) - upto]
        keep = found >= bar
        docnums, found = docnums[keep], found[keep]
    order = np.lexsort((docnums, -found))[:upto]
    return docnums[order].tolist()


def _scored(s, query: Query, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The allowed entries ``query`` matches, in order, and their scores."""
    words, constant = _words(query) or (None, 0.0)
    total = np.zeros(len(allowed), dtype=np.float64)
    touched = np.zeros(len(allowed), dtype=bool)
    context = None
    for leaf, offset in s.leaf_searchers():
        end = offset + leaf.doc_count_all()
        mine = allowed[offset:end]
        if not mine.any():
            continue
        if words is None:
            context = context or s.context(needs_current=True, top_query=query)
            _through_matcher(
                query.matcher(leaf, context),
                np.flatnonzero(mine).tolist(),
                offset,
                total,
                touched,
                1.0,
            )
            continue
        for fieldname, text, boost in words:
            _add_word(leaf, fieldname, text, boost, mine, offset, total, touched)
    docnums = np.flatnonzero(touched)
    found = total[docnums]
    if constant:
        found = found + constant
    return docnums, found


def _words(
    query: Query, top: bool = True
) -> Optional[tuple[list[tuple[str, object, float]], float]]:
    """(field, text, boost) of every word that adds to an entry's score, and what the
    ``NOT`` parts of the whole query add (Whoosh scores each 1.0, in every entry) — or None
    when the query is more than words (phrases, ranges, boosted groups, a ``NOT`` deeper
    down, which adds only where its own group matches)."""
    kind = type(query)
    if kind is Term:
        return [(query.fieldname, query.text, query.boost)], 0.0
    if query.boost != 1.0:
        return None
    if kind is And or (kind is Or and not query.minmatch and query.scale is None):
        words: list = []
        constant = 0.0
        for sub in query.subqueries:
            if type(sub) is Not:
                if not (top and kind is And):
                    return None
                constant += 1.0
                continue
            found = _words(sub, top=False)
            if found is None:
                return None
            words += found[0]
            constant += found[1]
        return words, constant
    if kind is AndNot:
        return _words(query.a, top)
    return None


def _add_word(
    leaf,
    fieldname: str,
    text,
    boost: float,
    mine: np.ndarray,
    offset: int,
    total: np.ndarray,
    touched: np.ndarray,
) -> None:
    reader = leaf.reader()
    cache = docsets.cache_of(leaf)
    if fieldname not in leaf.schema:
        return
    field = leaf.schema[fieldname]
    try:
        btext = field.to_bytes(text)
    except ValueError:
        return
    if (fieldname, btext) not in reader:
        return
    weighting = leaf.weighting
    lengths = (
        docsets.lengths(cache, reader, fieldname)
        if type(weighting) is BM25F and field.scorable
        else None
    )
    if lengths is None:
        scorer = weighting.scorer(leaf, fieldname, btext)
        matcher = word_matcher(reader, fieldname, btext, scorer=scorer)
        if matcher is not None:
            _through_matcher(matcher, np.flatnonzero(mine).tolist(), offset, total, touched, boost)
        return
    ids, weights = docsets.term_postings(cache, reader, fieldname, text, btext)
    keep = mine[ids]
    ids, tf = ids[keep], weights[keep]
    if not len(ids):
        return
    # what Whoosh's BM25FScorer takes (without making one: it also looks the word up again
    # for a bound only its own matchers use), then its bm25(), term by term in the same
    # order: the same float64 results
    top = leaf.get_parent()
    idf, avgfl = top.idf(fieldname, btext), _average_length(top, fieldname)
    B, K1 = bm25_parameters(weighting, fieldname)
    fl = lengths[ids]
    score = idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl)))
    at = ids + offset
    total[at] += score * boost
    touched[at] = True


def _average_length(top, fieldname: str) -> float:
    """The searcher's average length of ``fieldname`` (as BM25FScorer takes it), kept with
    the searcher: a sum over every segment otherwise."""
    kept = docsets.memo_of(top).setdefault("average_lengths", {})
    if fieldname not in kept:
        kept[fieldname] = top.avg_field_length(fieldname) or 1
    return kept[fieldname]


def _through_matcher(
    matcher, mine: list[int], offset: int, total: np.ndarray, touched: np.ndarray, boost: float
) -> None:
    for local in mine:
        if not matcher.is_active():
            return
        if matcher.id() < local:
            matcher.skip_to(local)
            if not matcher.is_active():
                return
        if matcher.id() == local:
            key = local + offset
            total[key] += matcher.score() * boost
            touched[key] = True
