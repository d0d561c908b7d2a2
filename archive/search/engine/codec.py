"""How the index stores its postings: Whoosh's own format (whoosh3), except that each
block's ids and weights are plain arrays and each posting's value (its word positions) can
be read alone.

Whoosh 3 writes each block of up to 128 postings as one zlib-compressed pickle of (ids,
weights, values), and a word position list as a pickled list. Reading a block's ids meant
decompressing and unpickling the positions too; checking a phrase in one entry meant doing
so for its whole block. At 100k entries a block of the content field (which keeps
positions) took 134 µs to read — 43 µs zlib, 81 µs unpickling, 10 µs undoing the id
deltas — and a block of a field without positions 34 µs; a phrase with one common word
spent up to 70 ms reading positions. Here ids and weights go straight into arrays, and
positions (`formats.WordPositions`: the gaps as an array, 3 bytes for one position where Whoosh
pickles 14) are cut out of the block one posting at a time, when a phrase asks for them.

The codec is also where the archive reads segments its own way, through the hooks Whoosh
gives a codec: each segment (`ArchiveSegment`) opens its compound file as a `files.ViewStorage`
(parts read in place from the memory map), its word table with `files.OneReadHashReader`,
and its field lengths with `lengths.LengthsReader`; `ArchiveLeafMatcher` skips within a block
by bisection.

Each segment records its class and the codec that wrote it (pickled with the segment, and
the formats with the schema, so these names must stay importable: `archive.search.codec`
keeps the names indexes written before this package recorded). An index holding segments
of another kind is rebuilt by `flask setup` (`rebuild.outdated`).
"""

from __future__ import annotations

import struct
import sys
from array import array
from bisect import bisect_left
from itertools import accumulate
from typing import Optional

from whoosh.codec import whoosh3
from whoosh.codec.base import OutOfOrderError
from whoosh.filedb.structfile import StructFile
from whoosh.matching import ReadTooFar
from whoosh.util.numeric import byte_to_length, length_to_byte

from archive.search.engine.files import OneReadHashReader, ViewStorage
from archive.search.engine.lengths import LengthsReader, length_table

MAGIC = b"ArB1"
#: a block's head: the length of what follows it (negative for a term's last block), the
#: number of postings, the highest id, the highest weight, the shortest and longest field
#: length (as Whoosh's length bytes), then how ids, weights and values are stored
_HEAD = struct.Struct("<iIIfBBBBB")
_LENGTH = struct.Struct("<i")
_FLOAT = struct.Struct("<f")
_ID_TYPES = ("H", "I")
_WEIGHTS_ONES, _WEIGHTS_SAME, _WEIGHTS_EACH = 0, 1, 2
_VALUES_NONE, _VALUES_FIXED, _VALUES_EACH = 0, 1, 2
#: arrays are stored little-endian
_SWAP = sys.byteorder == "big"


def to_bytes(numbers: array) -> bytes:
    if _SWAP:
        numbers = array(numbers.typecode, numbers)
        numbers.byteswap()
    return numbers.tobytes()


def from_bytes(typecode: str, data: bytes) -> array:
    numbers = array(typecode)
    numbers.frombytes(data)
    if _SWAP:
        numbers.byteswap()
    return numbers


class ArchiveCodec(whoosh3.W3Codec):
    """Whoosh 3's codec with `ArchivePostingsWriter`'s block layout for term postings, and
    the segment, word table and lengths readers of the module's docstring."""

    def new_segment(self, storage, indexname):
        return ArchiveSegment(self, indexname)

    def per_document_reader(self, storage, segment):
        return LengthsReader(storage, segment)

    def terms_reader(self, storage, segment):
        name = segment.make_filename(self.TERMS_EXT)
        return ArchiveTermsReader(
            self,
            storage.open_file(name),
            storage.file_length(name),
            segment.open_file(storage, self.POSTS_EXT),
        )

    def field_writer(self, storage, segment):
        return ArchiveFieldWriter(self, storage, segment)

    def postings_writer(self, dbfile, byteids=False):
        if byteids:  # term vectors are read back by Whoosh's own matcher: its own layout
            return super().postings_writer(dbfile, byteids=True)
        return ArchivePostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term, scorer)
        offset, length = terminfo.extent()
        return ArchiveLeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)


class ArchiveSegment(whoosh3.W3Segment):
    """Whoosh 3's segment, whose compound file is read in place (`files.ViewStorage`)."""

    def open_compound_file(self, storage):
        name = self.make_filename(self.COMPOUND_EXT)
        return ViewStorage(storage.open_file(name), use_mmap=storage.supports_mmap)


class ArchiveTermsReader(whoosh3.W3TermsReader):
    """Whoosh 3's word table reader, over a `files.OneReadHashReader`."""

    def __init__(self, codec, dbfile, length, postfile):
        self._codec = codec
        self._dbfile = dbfile
        self._tindex = OneReadHashReader(dbfile, length)
        self._fieldmap = self._tindex.extras["fieldmap"]
        self._postfile = postfile
        self._fieldunmap = [None] * len(self._fieldmap)
        for fieldname, number in self._fieldmap.items():
            self._fieldunmap[number] = fieldname


class ArchiveFieldWriter(whoosh3.W3FieldWriter):
    """Whoosh 3's field writer, writing a word's postings a block at a time (`_add_words`)
    instead of one posting per call with its type checks: that was a third of a rebuild's
    writing time. Each field's lengths are read once."""

    def __init__(self, codec, storage, segment):
        super().__init__(codec, storage, segment)
        self._postfile = PositionedFile(self._postfile)  # type: ignore[has-type]  # Whoosh's

    def add_postings(self, schema, lengths, items):
        words = items.words() if hasattr(items, "words") else _grouped(items)
        return self._add_words(schema, lengths, words)

    def _add_words(self, schema, lengths, words):
        """Each word's postings as whole blocks: the block's ids, weights and values are
        slices of the word's lists."""
        last_field = None
        limit = self._codec._blocklimit
        for fieldname, btext, ids, weights, values in words:
            if fieldname != last_field:
                if last_field is not None:
                    self.finish_field()
                self.start_field(fieldname, schema[fieldname])
                last_field = fieldname
                postwriter = self._postwriter
                field_lengths = _length_list(lengths, fieldname)
            if ids[0] == -1:  # Whoosh's marker for spelling words: none kept here
                continue
            self.start_term(btext)
            count = len(ids)
            for start in range(0, count, limit):
                block = ids[start : start + limit]
                postwriter._ids = block
                block_weights = weights[start : start + limit]
                postwriter._maxweight = max(block_weights)
                postwriter._weights = array("f", block_weights)  # as add_posting keeps them
                postwriter._values = [value for value in values[start : start + limit] if value]
                if field_lengths is not None:
                    found = [field_lengths[docnum] for docnum in block]
                    postwriter._maxlength = max(found)
                    postwriter._minlength = (
                        min(found)
                        if all(found)
                        else min((length for length in found if length), default=None)
                    )
                if start + limit < count:
                    postwriter._write_block()
            self.finish_term()
        if last_field is not None:
            self.finish_field()


def _length_list(lengths, fieldname: str) -> Optional[list]:
    """Every entry's length in ``fieldname`` as the segment keeps it, by entry number;
    None when the field keeps none."""
    table = length_table(lengths, fieldname) if lengths else None
    return None if table is None else table.astype(int).tolist()


def _grouped(items):
    """Postings one (field, text, entry, weight, value) tuple at a time, in order, as words
    (field, text, entries, weights, values) — the form `TermPool` hands over."""
    last: tuple | None = None
    ids: list[int] = []
    weights: list[float] = []
    values: list = []
    for fieldname, btext, docnum, weight, value in items:
        if (fieldname, btext) != last:
            if last is not None:
                if (fieldname, btext) < last:
                    raise OutOfOrderError(f"{last!r} .. {(fieldname, btext)!r}")
                if ids:
                    yield (*last, ids, weights, values)
            last, ids, weights, values = (fieldname, btext), [], [], []
        if docnum != -1:  # Whoosh's marker for spelling words: none kept here
            ids.append(docnum)
            weights.append(weight)
            values.append(value)
    if ids and last is not None:
        yield (*last, ids, weights, values)


class PositionedFile(StructFile):
    """A file being written that keeps its position itself: the postings writer asks for
    it twice per word, and asking the file (a system call each time) was an eighth of the
    time of rewriting a segment."""

    def __init__(self, inner: StructFile):
        super().__init__(inner)
        self._position = inner.tell()

    def write(self, data) -> None:
        self._position += len(data)
        self.file.write(data)

    def tell(self) -> int:
        return self._position

    def seek(self, *args, **kwargs):
        raise NotImplementedError("a postings file is written straight through")


class ArchivePostingsWriter(whoosh3.W3PostingsWriter):
    """Writes a block as: head, ids (16-bit when they fit, else 32-bit), weights (none when
    all are 1.0, one when all are equal), values (fixed-size ones joined; others joined
    after the offset where each ends, so that one can be read without the rest)."""

    def _write_block(self, last=False):
        if not self._blockcount:
            self._postfile.write(MAGIC)
        self._terminfo.add_block(self)
        ids, weights, values = self._ids, self._weights, self._values
        id_type = 0 if ids[-1] < 1 << 16 else 1
        parts = [to_bytes(array(_ID_TYPES[id_type], ids))]
        first = weights[0]
        if all(weight == 1.0 for weight in weights):
            weights_kind = _WEIGHTS_ONES
        elif all(weight == first for weight in weights):
            weights_kind = _WEIGHTS_SAME
            parts.append(_FLOAT.pack(first))
        else:
            weights_kind = _WEIGHTS_EACH
            parts.append(to_bytes(array("f", weights)))
        fixed = self._format.fixed_value_size()
        if fixed == 0:
            values_kind = _VALUES_NONE
        elif fixed is not None and fixed > 0:
            values_kind = _VALUES_FIXED
            parts.append(b"".join(values))
        else:
            values_kind = _VALUES_EACH
            data = b"".join(values)
            ends = list(accumulate(map(len, values)))
            end_type = 0 if not ends or ends[-1] < 1 << 16 else 1
            parts += [
                bytes((end_type,)),
                _LENGTH.pack(len(ends)),
                to_bytes(array(_ID_TYPES[end_type], ends)),
                data,
            ]
        body = b"".join(parts)
        length = _HEAD.size - _LENGTH.size + len(body)
        self._postfile.write(
            _HEAD.pack(
                -length if last else length,
                len(ids),
                ids[-1],
                self._maxweight,
                length_to_byte(self._minlength),
                length_to_byte(self._maxlength),
                id_type,
                weights_kind,
                values_kind,
            )
        )
        self._postfile.write(body)
        self._blockcount += 1
        self._new_block()


class ArchiveLeafMatcher(whoosh3.W3LeafMatcher):
    """Reads `ArchivePostingsWriter`'s blocks: each part only when it is asked for."""

    def skip_to(self, targetid):
        """Move to the first posting at or after ``targetid``: within a block by bisection
        of its ids (Whoosh's own steps one posting, one Python call, at a time; ranking a
        viewer's matches skips to each of them)."""
        if not self.is_active():
            raise ReadTooFar
        if targetid <= self.id():
            return
        # Whoosh's matcher sets these attributes in methods mypy cannot follow
        if targetid > self._maxid:  # type: ignore[has-type]
            self._skip_to_block(lambda: targetid > self._maxid)  # type: ignore[has-type]
            if not self.is_active():
                return
        if self._ids is None:
            self._read_ids()
        # the block's last id is its highest, and not below the target: the place is in it
        self._i = bisect_left(self._ids, targetid, self._i)  # type: ignore[has-type,arg-type]

    def _read_header(self):
        magic = self._postfile.get(self._startoffset, len(MAGIC))
        if magic != MAGIC:
            raise ValueError(f"not a postings list of the archive's codec: {magic!r}")
        self._baseoffset = self._startoffset + len(MAGIC)

    def _goto(self, position):
        self._data = self._ids = self._weights = self._values = None
        self._i = 0
        (
            length,
            self._blocklength,
            self._maxid,
            self._maxweight,
            shortest,
            longest,
            self._id_type,
            self._weights_kind,
            self._values_kind,
        ) = _HEAD.unpack(self._postfile.get(position, _HEAD.size))
        if length < 0:
            self._lastblock = True
            length = -length
        self._nextoffset = position + _LENGTH.size + length
        self._dataoffset = position + _HEAD.size
        self._minlength = byte_to_length(shortest)
        self._maxlength = byte_to_length(longest)

    def _weights_offset(self) -> int:
        return self._dataoffset + self._blocklength * (2 if self._id_type == 0 else 4)

    def _values_offset(self) -> int:
        kind = self._weights_kind
        size = 0 if kind == _WEIGHTS_ONES else 4 if kind == _WEIGHTS_SAME else 4 * self._blocklength
        return self._weights_offset() + size

    def _read_data(self):
        self._read_ids()
        self._read_weights()
        self._read_values()
        self._data = (self._ids, self._weights, self._values)

    def _read_ids(self):
        typecode = _ID_TYPES[self._id_type]
        size = self._blocklength * (2 if typecode == "H" else 4)
        self._ids = from_bytes(typecode, self._postfile.get(self._dataoffset, size))

    def _read_weights(self):
        kind, count = self._weights_kind, self._blocklength
        if kind == _WEIGHTS_ONES:
            self._weights = array("f", (1.0,)) * count
        elif kind == _WEIGHTS_SAME:
            weight = _FLOAT.unpack(self._postfile.get(self._weights_offset(), 4))[0]
            self._weights = array("f", (weight,)) * count
        else:
            self._weights = from_bytes("f", self._postfile.get(self._weights_offset(), 4 * count))

    def _read_values(self):
        kind, count = self._values_kind, self._blocklength
        if kind == _VALUES_NONE:
            self._values = (None,) * count
            return
        start = self._values_offset()
        data = self._postfile.get(start, self._nextoffset - start)
        if kind == _VALUES_FIXED:
            size = self._fixedsize
            self._values = tuple(data[i : i + size] for i in range(0, len(data), size))
        else:
            end_type = _ID_TYPES[data[0]]
            count = _LENGTH.unpack_from(data, 1)[0]
            start = 1 + _LENGTH.size + count * (2 if end_type == "H" else 4)
            self._values = _Values(
                from_bytes(end_type, data[1 + _LENGTH.size : start]), data[start:]
            )


class _Values:
    """A block's values, each cut out of the block's bytes only when asked for."""

    __slots__ = ("_ends", "_data")

    def __init__(self, ends: array, data: bytes):
        self._ends, self._data = ends, data

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, i: int) -> bytes:
        ends = self._ends
        if i < 0:
            i += len(ends)
        return self._data[ends[i - 1] if i else 0 : ends[i]]

    def __iter__(self):
        return (self[i] for i in range(len(self._ends)))
