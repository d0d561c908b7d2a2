"""A word's postings in one segment, read as arrays a whole block at a time.

Leans on the block layout of Whoosh's postings (`whoosh3.W3LeafMatcher`, and the archive's
own `codec.ArchiveLeafMatcher`): a word's postings are stored in blocks, each with its ids
in order. The sets and ranking in `docsets` and `ranking` take every id of a word and its
weight in each, deleted entries included (they are left out by the caller's bitmaps).
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.reading import TermNotFound

_EMPTY_IDS = np.zeros(0, dtype=np.int32)


def word_bytes(reader, fieldname: str, text) -> Optional[bytes]:
    """``text`` as the field stores it; None if the field cannot hold it."""
    if fieldname not in reader.schema:
        return None
    try:
        return reader.schema[fieldname].to_bytes(text)
    except ValueError:
        return None


def matcher(reader, fieldname: str, btext: bytes, scorer=None):
    """A segment's postings of one word, deleted entries included (Whoosh's
    ``reader.postings`` leaves them out, one set lookup per posting); None if the segment
    does not hold the word."""
    try:
        return reader._terms.matcher(
            fieldname, btext, reader.schema[fieldname].format, scorer=scorer
        )
    except (TermNotFound, KeyError):
        return None


def posting_arrays(reader, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Every id of a word in one segment (int32) and its weight in each (float64): whole
    blocks at a time where the postings are in a block format, else one by one."""
    found = matcher(reader, fieldname, btext)
    if found is None:
        return _EMPTY_IDS, np.zeros(0)
    if not isinstance(found, W3LeafMatcher):
        ids, weights = [], []
        while found.is_active():
            ids.append(found.id())
            weights.append(found.weight())
            found.next()
        return np.array(ids, dtype=np.int32), np.array(weights, dtype=np.float64)
    id_blocks, weight_blocks = [], []
    while found.is_active():
        if found._ids is None:
            found._read_ids()
        if found._weights is None:
            found._read_weights()
        id_blocks.append(np.asarray(found._ids)[found._i :])
        weight_blocks.append(np.asarray(found._weights)[found._i :])
        found._next_block()
    if not id_blocks:
        return _EMPTY_IDS, np.zeros(0)
    return (
        np.concatenate(id_blocks).astype(np.int32, copy=False),
        np.concatenate(weight_blocks).astype(np.float64),
    )


def bm25_parameters(weighting, fieldname: str) -> tuple[float, float]:
    """(B, K1) that Whoosh's BM25F uses for ``fieldname``."""
    return weighting._field_B.get(fieldname, weighting.B), weighting.K1
