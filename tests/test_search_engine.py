"""The archive's search changes nothing of Whoosh: with the archive's search imported and
used, a plain Whoosh index in the same process is written, merged and searched by Whoosh's
own classes — also by its multi-process writer, which the archive's old global patches broke
(its processes hand their postings over in Whoosh's pool files)."""

from __future__ import annotations

import sys
import types

from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher, W3PerDocReader, W3Segment
from whoosh.fields import ID, TEXT, Schema
from whoosh.filedb.filetables import OrderedHashReader
from whoosh.filedb.structfile import BufferFile
from whoosh.matching import ListMatcher
from whoosh.multiproc import MpWriter
from whoosh.qparser import QueryParser
from whoosh.reading import SegmentReader
from whoosh.searching import Searcher
from whoosh.writing import PostingPool, SegmentWriter

import archive.search.compaction
import archive.search.query
import archive.search.rebuild  # noqa: F401
from archive.search import index
from archive.search.engine.codec import ArchiveSegment
from tests.search_helpers import memory_index

POEMS = [
    "rain on the roof",
    "उदासी की शाम",
    "the rain and the river",
    "माझ्या मनात पाऊस",
    "river stones",
    "rain again",
]


def _archive_defined(value) -> bool:
    return (getattr(value, "__module__", None) or "").startswith("archive")


def test_no_whoosh_name_is_replaced_by_the_archive():
    """Every class and function Whoosh's loaded modules hold, and every method of their
    classes, is Whoosh's own."""
    from archive.search.schema import make_schema

    archive_index = memory_index(make_schema())  # the archive's writers and searchers, used
    with archive_index.writer() as w:
        w.add_document(id="a", content="उदासी की शाम")
    with archive_index.searcher() as s:
        assert s.document_number(id="a") == 0
    replaced = []
    for name, module in list(sys.modules.items()):
        if not (name == "whoosh" or name.startswith("whoosh.")) or module is None:
            continue
        for attribute, value in vars(module).items():
            if isinstance(value, (type, types.FunctionType)) and _archive_defined(value):
                replaced.append(f"{name}.{attribute}")
            if isinstance(value, type) and value.__module__.startswith("whoosh"):
                replaced += [
                    f"{name}.{attribute}.{method}"
                    for method, function in vars(value).items()
                    if _archive_defined(function)
                ]
    assert replaced == []


def _stock_index(path):
    schema = Schema(id=ID(stored=True, unique=True), body=TEXT(stored=True))
    return whoosh_index.create_in(path, schema)


def _found(ix, text: str) -> list[str]:
    with ix.searcher() as s:
        assert type(s) is Searcher
        return sorted(
            hit["id"] for hit in s.search(QueryParser("body", ix.schema).parse(text), limit=None)
        )


def test_a_plain_whoosh_index_beside_the_archives_is_stock_whoosh(app, tmp_path):
    with app.app_context():  # the site's own index, written and searched first
        with index.writing() as w:
            w.add_document(id="a1", content="rain on the roof", title="rain")
        with index.searching() as s:
            ((segment_reader, _offset),) = s.reader().leaf_readers()
            assert type(segment_reader.segment()) is ArchiveSegment
            assert s.document_number(id="a1") is not None
    ix = _stock_index(tmp_path)
    w = ix.writer()
    assert type(w) is SegmentWriter and type(w.pool) is PostingPool
    assert type(w.codec) is W3Codec
    for number, poem in enumerate(POEMS[:3]):
        w.add_document(id=f"p{number}", body=poem)
    w.commit()
    # Whoosh's multi-process writer: its processes hand their pool runs over to be merged
    # into one segment (multisegment=False)
    w = ix.writer(procs=2, batchsize=1)
    assert type(w) is MpWriter and not w.multisegment
    for number, poem in enumerate(POEMS[3:], start=3):
        w.add_document(id=f"p{number}", body=poem)
    w.commit()
    _assert_stock_readers(ix)
    assert _found(ix, "rain") == ["p0", "p2", "p5"]
    assert _found(ix, "river") == ["p2", "p4"]
    w = ix.writer(procs=2, multisegment=True)
    w.delete_by_term("id", "p0")
    w.add_document(id="p6", body="rain at night")
    w.commit(optimize=True)
    _assert_stock_readers(ix)
    assert _found(ix, "rain") == ["p2", "p5", "p6"]
    with ix.searcher() as s:
        assert s.doc_count() == 6


def _assert_stock_readers(ix) -> None:
    with ix.reader() as reader:
        for segment_reader, _offset in reader.leaf_readers():
            assert type(segment_reader) is SegmentReader
            assert type(segment_reader.segment()) is W3Segment
            assert type(segment_reader.segment().codec()) is W3Codec
            assert type(segment_reader._perdoc) is W3PerDocReader
            assert type(segment_reader._terms._tindex) is OrderedHashReader
            if segment_reader.segment().is_compound():
                assert type(segment_reader._terms._dbfile) is BufferFile
            if ("body", b"rain") in segment_reader:
                matcher = segment_reader.postings("body", "rain")
                assert type(matcher) in (W3LeafMatcher, ListMatcher)
