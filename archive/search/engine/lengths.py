"""Field lengths read once per segment instead of once per posting.

Whoosh asks a segment for a document's field length for every posting it writes (to keep
each block's shortest length, used to skip blocks when ranking) and for every document it
scores. Each ask is a file seek and read of one byte — or, for fields that keep no lengths
(ids, keywords), a ``stat`` of a file that is not there. A rebuild spent a quarter of its
time on this. `LengthsReader` (the per-document reader `codec.ArchiveCodec` opens) reads the
whole column once and keeps it (segment files never change, so the copy cannot go stale).
"""

from __future__ import annotations

import numpy as np
from whoosh.codec import whoosh3
from whoosh.columns import NumericColumn
from whoosh.util.numeric import byte_to_length

_MISSING = object()


def _byte_lengths():
    table = np.array([byte_to_length(n) for n in range(256)], dtype=np.float64)
    table[0] = 0
    return table


_BYTE_LENGTHS = _byte_lengths()


class LengthsReader(whoosh3.W3PerDocReader):
    """Whoosh 3's per-document reader, answering field lengths from each field's length
    column read whole, once."""

    def __init__(self, storage, segment):
        super().__init__(storage, segment)
        self._length_bytes: dict[str, object] = {}

    def length_bytes(self, fieldname: str):
        """The field's length column as bytes (one per entry), None when the field keeps no
        lengths, or `_MISSING` when the column is not the one-byte kind read here."""
        found = self._length_bytes.get(fieldname, _MISSING)
        if found is _MISSING:
            found = self._length_bytes[fieldname] = _load(self, fieldname)
        return found

    def doc_field_length(self, docnum, fieldname, default=0):
        table = self.length_bytes(fieldname)
        if table is _MISSING:
            return super().doc_field_length(docnum, fieldname, default)
        if table is None:
            return default
        if docnum > self._doccount:
            raise IndexError(f"Asked for docnum {docnum!r} of {self._doccount}")
        lbyte = table[docnum] if docnum < len(table) else 0
        return byte_to_length(lbyte) if lbyte else None  # as Whoosh does for a zero byte


def _load(reader: whoosh3.W3PerDocReader, fieldname: str):
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
    perdoc = (
        reader if isinstance(reader, whoosh3.W3PerDocReader) else getattr(reader, "_perdoc", None)
    )
    if isinstance(perdoc, LengthsReader):
        found = perdoc.length_bytes(fieldname)
    elif isinstance(perdoc, whoosh3.W3PerDocReader):
        found = _load(perdoc, fieldname)
    else:
        found = _MISSING
    count = reader.doc_count_all()
    if found is None:
        return None
    if found is _MISSING or not isinstance(found, bytes):
        return np.array(
            [reader.doc_field_length(n, fieldname) or 0 for n in range(count)], dtype=np.float64
        )
    table = np.zeros(count, dtype=np.float64)
    known = _BYTE_LENGTHS[np.frombuffer(found, dtype=np.uint8)][:count]
    table[: len(known)] = known
    return table
