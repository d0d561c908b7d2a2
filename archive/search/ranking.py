"""Ranking the entries a viewer may see, and only those, by Whoosh's own scores (BM25F).

The search already knows the exact set of entries to rank (`docsets`: matches, the access
filter, the narrowing). Whoosh's ``Searcher.search(filter=…)`` would step through every
match, the viewer's or not — and its top-k shortcuts (whoosh-reloaded 2.7.5) lose the best
entry of a query of two or more words: in `tests/test_search_sets.py` it ranks an entry
scoring 10.7 first and leaves out one scoring 11.3. Here every allowed entry is scored,
and nothing else.

A query of words (``Or``/``And`` of terms, with ``Not`` parts that score nothing) scores an
entry as the sum, over its words found in the entry, of the word's score times its boost —
what Whoosh's union and intersection matchers add up. A word's postings are read a block at
a time, skipping blocks that hold no allowed entry; when every block had to be read, the
word's weight per entry is kept per segment with the sets (`docsets.known_weights`), and
the next search for it looks only at its allowed entries. Any other query is scored
through its Whoosh matcher, skipping straight to each allowed entry.
"""
from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from typing import Optional

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.query import And, AndNot, Not, Or, Query, Term
from whoosh.scoring import WeightLengthScorer

from archive.search import docsets


def best(s, query: Query, allowed: frozenset, upto: int) -> list[int]:
    """The ``upto`` best of ``allowed`` (ties: the lower document number first)."""
    found = scores(s, query, allowed)
    return [docnum for docnum, _score in
            heapq.nsmallest(upto, found.items(), key=lambda pair: (-pair[1], pair[0]))]


def scores(s, query: Query, allowed: frozenset) -> dict[int, float]:
    """Each allowed entry's score for ``query``; entries it does not match are left out."""
    words, constant = _words(query) or (None, 0.0)
    wanted = sorted(allowed)
    found: dict[int, float] = {}
    context = s.context(needs_current=True, top_query=query)
    for leaf, offset in s.leaf_searchers():
        first = bisect_left(wanted, offset)
        mine = [docnum - offset for docnum in
                wanted[first:bisect_left(wanted, offset + leaf.doc_count_all(), first)]]
        if not mine:
            continue
        if words is None:
            _through_matcher(query.matcher(leaf, context), mine, offset, found, 1.0)
            continue
        for fieldname, text, boost in words:
            _add_word(leaf, fieldname, text, boost, mine, offset, found)
    if constant:
        for docnum in found:
            found[docnum] += constant
    return found


def _words(query: Query, top: bool = True
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


def _add_word(leaf, fieldname: str, text, boost: float, mine: list[int], offset: int,
              found: dict[int, float]) -> None:
    reader = leaf.reader()
    if fieldname not in leaf.schema:
        return
    field = leaf.schema[fieldname]
    try:
        btext = field.to_bytes(text)
    except ValueError:
        return
    if (fieldname, btext) not in reader:
        return
    scorer = leaf.weighting.scorer(leaf, fieldname, btext)
    if not isinstance(scorer, WeightLengthScorer):
        matcher = reader._terms.matcher(fieldname, btext, field.format, scorer=scorer)
        _through_matcher(matcher, mine, offset, found, boost)
        return
    score, length = scorer._score, scorer.dfl
    weights = docsets.known_weights(reader, fieldname, btext)
    if weights is None:
        # the raw postings: deleted entries are never among the allowed ones
        matcher = reader._terms.matcher(fieldname, btext, field.format, scorer=scorer)
        if not isinstance(matcher, W3LeafMatcher):
            _through_matcher(matcher, mine, offset, found, boost)
            return
        weights = _score_blocks(matcher, score, length, boost, mine, offset, found)
        if weights is not None:
            docsets.keep_weights(reader, fieldname, btext, weights)
        return
    if len(weights) < len(mine):
        allowed = frozenset(mine)
        pairs = [(docnum, weight) for docnum, weight in weights.items() if docnum in allowed]
    else:
        pairs = [(docnum, weights[docnum]) for docnum in mine if docnum in weights]
    for docnum, weight in pairs:
        key = docnum + offset
        found[key] = found.get(key, 0.0) + score(weight, length(docnum)) * boost


def _score_blocks(matcher, score, length, boost: float, mine: list[int], offset: int,
                  found: dict[int, float]) -> Optional[dict[int, float]]:
    """Score a word's postings a block at a time, skipping blocks that hold no allowed
    entry. Returns the word's weight per entry when every block was read (to be kept)."""
    allowed = frozenset(mine)
    read, skipped = [], False
    at, last = 0, len(mine)
    while matcher.is_active():
        if at == last:
            skipped = True
            break
        if mine[at] > matcher._maxid:  # no allowed entry in this block
            skipped = True
            matcher._next_block()
            continue
        if matcher._ids is None:
            matcher._read_ids()
        if matcher._weights is None:
            matcher._read_weights()
        ids, weights = matcher._ids, matcher._weights
        read.append((ids, weights))
        for i, docnum in enumerate(ids):
            if docnum in allowed:
                key = docnum + offset
                found[key] = found.get(key, 0.0) + score(weights[i], length(docnum)) * boost
        at = bisect_right(mine, matcher._maxid, at)
        matcher._next_block()
    if skipped:
        return None
    table: dict[int, float] = {}
    for ids, weights in read:
        table.update(zip(ids, weights))
    return table


def _through_matcher(matcher, mine: list[int], offset: int, found: dict[int, float],
                     boost: float) -> None:
    for local in mine:
        if not matcher.is_active():
            return
        if matcher.id() < local:
            matcher.skip_to(local)
            if not matcher.is_active():
                return
        if matcher.id() == local:
            key = local + offset
            found[key] = found.get(key, 0.0) + matcher.score() * boost
