"""Reading Whoosh's postings faster, in the two ways search uses them.

Both lean on the block layout of Whoosh's own postings format (``W3LeafMatcher``): a word's
postings are stored in blocks, each with its ids in order and its highest id in a header.

- `skip_to`: Whoosh moves to a later document one posting at a time inside a block (a
  Python call per posting). Ranking a viewer's matches skips to each of them, and the ids of
  a block are a sorted sequence: a bisection finds the place at once.
- `posting_arrays`: every id of a word and its weight in each, a whole block at a time,
  for the sets and ranking in `docsets`.
"""
from __future__ import annotations

from bisect import bisect_left

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import ReadTooFar

_original_skip_to = W3LeafMatcher.skip_to


def skip_to(self, targetid):
    """Move to the first posting at or after ``targetid`` (as Whoosh's own, by bisection
    within the block)."""
    if not self.is_active():
        raise ReadTooFar
    if targetid <= self.id():
        return
    if targetid > self._maxid:
        self._skip_to_block(lambda: targetid > self._maxid)
        if not self.is_active():
            return
    if self._ids is None:
        self._read_ids()
    # the block's last id is its highest, and not below the target: the place is inside it
    self._i = bisect_left(self._ids, targetid, self._i)


def posting_arrays(matcher) -> tuple[np.ndarray, np.ndarray]:
    """Every id of a fresh postings matcher (int32) and its weight in each (float64): whole
    blocks at a time where the postings are in Whoosh's block format, else one by one."""
    if not isinstance(matcher, W3LeafMatcher):
        ids, weights = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        return np.array(ids, dtype=np.int32), np.array(weights, dtype=np.float64)
    id_blocks, weight_blocks = [], []
    while matcher.is_active():
        if matcher._ids is None:
            matcher._read_ids()
        if matcher._weights is None:
            matcher._read_weights()
        id_blocks.append(np.asarray(matcher._ids)[matcher._i:])
        weight_blocks.append(np.asarray(matcher._weights)[matcher._i:])
        matcher._next_block()
    if not id_blocks:
        return np.zeros(0, dtype=np.int32), np.zeros(0)
    return (np.concatenate(id_blocks).astype(np.int32, copy=False),
            np.concatenate(weight_blocks).astype(np.float64))


def install() -> None:
    W3LeafMatcher.skip_to = skip_to
