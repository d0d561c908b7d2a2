"""Segment files read in place (`archive.search.engine.files`): a `ViewFile` reads exactly
as Whoosh's own `BufferFile` does, and the site's searchers read their segments through it
(while Whoosh's own compound storage stays as it is)."""

from __future__ import annotations

import os
import random
from array import array

from whoosh.filedb import compound
from whoosh.filedb.structfile import BufferFile

from archive.search import index
from archive.search.engine.files import ViewFile


def _content() -> bytes:
    from io import BytesIO

    from whoosh.filedb.structfile import StructFile

    out = StructFile(BytesIO())
    out.write_varint(300)
    out.write_pickle({"उदासी": [1, 2, 3], "line": "one\ntwo"})
    out.write(b"first line\nsecond line\n")
    out.write_array(array("i", range(50)))
    out.write_int(-7)
    out.write_long(2**40)
    out.write(bytes(range(256)) * 8)
    return out.file.getvalue()


def test_a_view_file_reads_as_a_buffer_file():
    data = _content()
    rng = random.Random(3)
    ours, theirs = ViewFile(memoryview(data)), BufferFile(memoryview(data))
    for other in (ours, theirs):
        assert other.read_varint() == 300
        assert other.read_pickle() == {"उदासी": [1, 2, 3], "line": "one\ntwo"}
        assert other.readline() == b"first line\n"
    assert ours.tell() == theirs.tell()
    for _ in range(2000):
        step = rng.randrange(8)
        if step == 0:
            size = rng.choice([-1, 0, 1, 7, 300, 5000])
            assert ours.read(size) == theirs.read(size)
        elif step == 1:
            at = rng.randrange(len(data) + 10)
            assert ours.seek(at) == theirs.seek(at)
        elif step == 2:
            delta = rng.randrange(-50, 50)
            if theirs.tell() + delta >= 0:
                assert ours.seek(delta, os.SEEK_CUR) == theirs.seek(delta, os.SEEK_CUR)
        elif step == 3:
            back = rng.randrange(0, 100)
            assert ours.seek(-back, os.SEEK_END) == theirs.seek(-back, os.SEEK_END)
        elif step == 4:
            assert ours.readline() == theirs.readline()
        elif step == 5:
            at, length = rng.randrange(len(data) - 8), rng.randrange(8)
            assert ours.get(at, length) == theirs.get(at, length)
        elif step == 6 and theirs.tell() + 4 <= len(data):
            assert ours.read_int() == theirs.read_int()
        else:
            size = rng.randrange(1, 64)
            a, b = bytearray(size), bytearray(size)
            assert ours.file.readinto(a) == theirs.file.readinto(b) and a == b
        assert ours.tell() == theirs.tell()


def test_the_sites_searchers_read_their_segments_in_place(app):
    from archive.search.schema import document  # noqa: F401

    assert compound.BufferFile is BufferFile
    ix = index.get_index()
    with index.writing(ix) as w:
        w.add_document(id="a1", content="उदासी की शाम", title="शाम")
    with index.searching() as searcher:
        reader = next(iter(searcher.leaf_searchers()))[0].reader()
        assert isinstance(reader._terms._dbfile, ViewFile), type(reader._terms._dbfile)
        assert [fields["id"] for fields in searcher.documents()] == ["a1"]


def test_a_hash_file_opens_as_whoosh_opens_it(tmp_path):
    """The directory of hash tables read in one go (`files.OneReadHashReader`, the word
    table's reader) holds what Whoosh's 256 small reads find, and keys are found."""
    from whoosh.filedb.filestore import FileStorage
    from whoosh.filedb.filetables import OrderedHashReader, OrderedHashWriter

    from archive.search.engine import files

    storage = FileStorage(str(tmp_path))
    rng = random.Random(5)
    keys = sorted({("उदासी" + str(rng.randrange(10**6))).encode() for _ in range(3000)})
    writer = OrderedHashWriter(storage.create_file("words"))
    for key in keys:
        writer.add(key, key[::-1])
    writer.close()
    for name in ("words",):
        ours = files.OneReadHashReader(storage.open_file(name), storage.file_length(name))
        theirs = OrderedHashReader.open(storage, name)
        assert type(theirs) is OrderedHashReader
        for attribute in ("tables", "endofdata", "startofdata", "hashtype", "extras"):
            assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
        assert len(ours.tables) == 256 and all(type(t) is tuple for t in ours.tables)
        for key in rng.sample(keys, 200):
            assert ours[key] == key[::-1] == theirs[key]
        assert b"missing" not in ours
        ours.close()
        theirs.close()
