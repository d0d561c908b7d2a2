"""Field lengths read once per segment instead of once per posting.

Whoosh asks a segment for a document's field length for every posting it writes (to keep
each block's shortest length, used to skip blocks when ranking) and for every document it
scores. Each ask is a file seek and read of one byte — or, for fields that keep no lengths
(ids, keywords), a ``stat`` of a file that is not there. A rebuild spends a quarter of its
time on this. `install` replaces the lookup with one read of the whole column, kept with the
segment's reader (segment files never change, so the copy cannot go stale).
"""
from __future__ import annotations

import numpy as np
from whoosh.codec import whoosh3
from whoosh.columns import NumericColumn
from whoosh.util.numeric import byte_to_length

_original = whoosh3.W3PerDocReader.doc_field_length
_MISSING = object()


def _byte_lengths():
    table = np.array([byte_to_length(n) for n in range(256)], dtype=np.float64)
    table[0] = 0
    return table


_BYTE_LENGTHS = _byte_lengths()


def doc_field_length(self, docnum, fieldname, default=0):
    tables = self.__dict__.setdefault("_archive_lengths", {})
    table = tables.get(fieldname, _MISSING)
    if table is _MISSING:
        table = tables[fieldname] = _load(self, fieldname)
    if table is _MISSING:
        return _original(self, docnum, fieldname, default)
    if table is None:
        return default
    if docnum > self._doccount:
        raise IndexError(f"Asked for docnum {docnum!r} of {self._doccount}")
    lbyte = table[docnum] if docnum < len(table) else 0
    return byte_to_length(lbyte) if lbyte else None  # as Whoosh does for a zero byte


def _load(reader, fieldname):
    """The column's bytes, None when the field keeps no lengths, or _MISSING when the
    column is not the one-byte kind this knows how to read."""
    column = reader._cached_reader(whoosh3._lenfield(fieldname), whoosh3.LENGTHS_COLUMN)
    if column is None:
        return None
    if not isinstance(column, NumericColumn.Reader) or column._fixedlen != 1:
        return _MISSING
    return bytes(column._dbfile.get(column._basepos, column._count))


def length_table(reader, fieldname: str):
    """Every entry's length in ``fieldname`` as Whoosh scores it (from its one-byte form;
    0 where it has none), as a NumPy array; None when the field keeps no lengths. ``reader``:
    a segment's reader, or its per-document reader (a segment being written)."""
    perdoc = reader if isinstance(reader, whoosh3.W3PerDocReader) \
        else getattr(reader, "_perdoc", None)
    found = _load(perdoc, fieldname) if isinstance(perdoc, whoosh3.W3PerDocReader) \
        else _MISSING
    count = reader.doc_count_all()
    if found is None:
        return None
    if found is _MISSING or not isinstance(found, bytes):
        return np.array([reader.doc_field_length(n, fieldname) or 0 for n in range(count)],
                        dtype=np.float64)
    table = np.zeros(count, dtype=np.float64)
    known = _BYTE_LENGTHS[np.frombuffer(found, dtype=np.uint8)][:count]
    table[:len(known)] = known
    return table


def install() -> None:
    whoosh3.W3PerDocReader.doc_field_length = doc_field_length
