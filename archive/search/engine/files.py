"""Segment files read where they lie, not copied whole each time a searcher opens.

A segment is one compound file, memory-mapped when opened. Whoosh hands each part of it
(terms, postings, stored fields, columns) to its readers as a ``BufferFile``, which copies
the whole part into a ``BytesIO`` first — at 20k entries about 2 ms a part and 40 ms a
searcher; at 100k, tens of megabytes. Every change to the index makes each worker open a new
searcher at its next search, so on a busy site nearly every search paid for the copy.

`ViewFile` reads the mapped part through its memory view instead: only the bytes asked
for are copied. `ViewStorage` (the compound storage `codec.ArchiveSegment` opens) hands them
out, and `OneReadHashReader` reads a word table's directory in one read.
"""

from __future__ import annotations

import os

from whoosh.filedb import filetables
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filetables import FileFormatError
from whoosh.filedb.structfile import BufferFile, StructFile


class _ViewReader:
    """The file-like reading `StructFile` and pickle need, over a memory view."""

    __slots__ = ("_view", "_at")

    def __init__(self, view: memoryview) -> None:
        self._view = view
        self._at = 0

    def read(self, size: int = -1) -> bytes:
        start = self._at
        end = len(self._view) if size is None or size < 0 else min(start + size, len(self._view))
        self._at = max(start, end)
        return self._view[start : self._at].tobytes()

    def readinto(self, buffer) -> int:
        count = max(0, min(len(buffer), len(self._view) - self._at))
        buffer[:count] = self._view[self._at : self._at + count]
        self._at += count
        return count

    def readline(self, size: int = -1) -> bytes:
        limit = (
            len(self._view) if size is None or size < 0 else min(self._at + size, len(self._view))
        )
        at = self._at
        while at < limit:
            at += 1
            if self._view[at - 1] == 10:  # b"\n"
                break
        line = self._view[self._at : at].tobytes()
        self._at = at
        return line

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._at, os.SEEK_END: len(self._view)}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._at = base + offset
        return self._at

    def tell(self) -> int:
        return self._at

    def close(self) -> None:
        self._view.release()
        self._view = memoryview(b"")


class ViewFile(BufferFile):
    """A `BufferFile` that does not copy its buffer (see the module's docstring)."""

    def __init__(self, buf, name=None, onclose=None):
        self._buf = buf
        self._name = name
        self.file = _ViewReader(memoryview(buf))
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False

    def close(self) -> None:
        """Closed, its views of the memory map are released: the segment's storage can then
        unmap the file (a map with views still on it stays until they are collected, and
        with it the segment's file: deleted, but still on disk)."""
        super().close()
        if isinstance(self._buf, memoryview):
            self._buf.release()


class ViewStorage(CompoundStorage):
    """Whoosh's compound storage (a segment's one file, memory-mapped), handing out its
    parts as `ViewFile`s."""

    def open_file(self, name, *args, **kwargs) -> StructFile:
        if self._source is None or self.is_closed:
            # not mapped (no memory for the map): Whoosh's own sub-files, or its error
            return super().open_file(name, *args, **kwargs)
        offset, length = self.range(name)
        return ViewFile(memoryview(self._source)[offset : offset + length], name=name)


class OneReadHashReader(filetables.OrderedHashReader):
    """Whoosh's ordered hash file reader (a segment's word table), reading the directory
    of 256 hash tables in one read instead of 256: the table is opened by every new
    searcher, and each small read went through three layers of Python."""

    def __init__(self, dbfile, length=None, magic=b"HSH3", startoffset=0):
        self.dbfile = dbfile
        self.startoffset = startoffset
        self.is_closed = False
        if length is None:
            dbfile.seek(0, os.SEEK_END)
            length = dbfile.tell() - startoffset
        dbfile.seek(startoffset)
        filemagic = dbfile.read(4)
        if filemagic != magic:
            raise FileFormatError(f"Unknown file header {filemagic!r}")
        self.hashtype = dbfile.read_byte()
        self.hashfn = filetables._hash_functions[self.hashtype]
        dbfile.read_int()  # unused expansion bits
        dbfile.read_int()
        self.startofdata = dbfile.tell()
        exptr = startoffset + length - filetables._INT_SIZE
        exlen = dbfile.get_int(exptr)
        expos = exptr - exlen
        dbfile.seek(expos)
        self._read_extras()
        dbfile.seek(expos - filetables._directory_size)
        directory = dbfile.read(filetables._directory_size)
        if len(directory) != filetables._directory_size:
            raise FileFormatError("Hash file directory cut short")
        self.tables = list(filetables._dir_entry.iter_unpack(directory))
        self.endofdata = self.tables[0][0]
