"""Postings gathered word by word (`archive.search.engine.pool`) make the very segment Whoosh's own
sorting pool makes: every word's postings, blocks and statistics — also when the pool
overflows its memory limit into run files, and when a merge adds other segments' postings."""

from __future__ import annotations

import random

import pytest
from whoosh.externalsort import SortingPool
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import SegmentWriter

from archive.search.engine import pool
from archive.search.engine.codec import ArchiveCodec
from archive.search.schema import make_schema
from tests.search_helpers import memory_index

WORDS = [
    "उदासी",
    "ख़ुशी",
    "माझ्या",
    "क्षमा",
    "hope",
    "rain",
    "walking",
    "मन",
    "घर",
    "sleep",
    "नींद",
    "झोप",
    "tea",
]


def _entries(count: int, seed: int = 4) -> list[dict]:
    rng = random.Random(seed)
    entries = []
    for number in range(count):
        # a long tail of rare words too, so that words of one posting are inlined
        text = " ".join(
            rng.choice(WORDS) if rng.random() < 0.9 else f"शब्द{rng.randint(0, 3000)}"
            for _ in range(rng.randint(1, 90))
        )
        entries.append(
            {
                "id": f"e{number}",
                "title": text[:25],
                "content": text,
                "roman": text,
                "pairs": text,
                "tags": rng.choice(["नींद", "", "rain"]),
                "audience": rng.choice(["public", "circle"]),
                "review": rng.choice([20250101, 99991231]),
            }
        )
    return entries


def _everything(ix) -> dict:
    """Every word of every field: its statistics, blocks and postings as read back."""
    found = {}
    with ix.reader() as reader:
        for fieldname, btext in reader.all_terms():
            info = reader.term_info(fieldname, btext)
            matcher = reader.postings(fieldname, btext)
            blocks, postings = [], []
            while matcher.is_active():
                blocks.append(
                    (
                        matcher.block_max_id(),
                        matcher.block_max_weight(),
                        matcher.block_min_length(),
                        matcher.block_max_length(),
                    )
                )
                end = matcher._maxid if hasattr(matcher, "_maxid") else None
                while matcher.is_active() and (end is None or matcher.id() <= end):
                    postings.append((matcher.id(), matcher.weight(), matcher.value()))
                    if matcher.next():
                        break
            found[fieldname, btext] = (
                (
                    info.weight(),
                    info.doc_frequency(),
                    info.min_length(),
                    info.max_length(),
                    info.max_weight(),
                    info.min_id(),
                    info.max_id(),
                ),
                blocks,
                postings,
            )
    return found


@pytest.mark.parametrize("limitmb", [128, 0.5], ids=["in-memory", "run-files"])
def test_a_segment_gathered_word_by_word_is_the_one_whoosh_sorts(monkeypatch, limitmb):
    entries = _entries(400)
    schema = make_schema(frozenset({"उदासी", "hope", "मन"}))
    ours, theirs = memory_index(schema), memory_index(schema)
    with _whoosh_writer(theirs, limitmb=limitmb) as w:
        assert isinstance(w.pool, SortingPool)
        for entry in entries:
            w.add_document(**entry)
    spilled = []
    monkeypatch.setattr(pool.TermPool, "_spill", _counted(pool.TermPool._spill, spilled))
    with ours.writer(limitmb=limitmb) as w:
        assert isinstance(w.pool, pool.TermPool)
        for entry in entries:
            w.add_document(**entry)
    assert bool(spilled) == (limitmb < 1)
    expected = _everything(theirs)
    assert len(expected) > 1500
    assert any(len(blocks) > 3 for _info, blocks, _p in expected.values())
    assert _everything(ours) == expected


def _whoosh_writer(ix, **options) -> SegmentWriter:
    """Whoosh's own segment writer (its sorting pool), writing the archive's codec."""
    return SegmentWriter(ix, codec=ArchiveCodec(), **options)


def test_merged_segments_are_the_ones_whoosh_merges():
    """Merging adds each older segment's postings after the new entries' (`add_reader`),
    with deleted entries left out."""
    entries = _entries(300, seed=8)
    schema = make_schema()
    built = {}
    for name in ("whoosh", "ours"):
        ix = built[name] = memory_index(schema)
        writer = _whoosh_writer if name == "whoosh" else lambda ix: ix.writer()
        for start in range(0, 300, 100):
            with writer(ix) as w:
                for entry in entries[start : start + 100]:
                    w.add_document(**entry)
        with writer(ix) as w:
            for number in range(0, 300, 7):
                w.delete_by_term("id", f"e{number}")
            w.add_document(**entries[3])
            w.optimize = True
        assert len(ix._segments()) == 1
    assert _everything(built["ours"]) == _everything(built["whoosh"])


def test_postings_added_out_of_order_come_out_in_order(tmp_path):
    terms = pool.TermPool(FileStorage(str(tmp_path)).create(), None, limitmb=1)
    for docnum in (5, 2, 9, 1):
        terms.add(("content", b"rain", docnum, float(docnum), bytes([docnum])))
    terms.add(("content", b"hope", 3, 1.0, None))
    terms.add(("audience", b"public", 4, 1.0, None))
    assert list(terms.iter_postings()) == [
        ("audience", b"public", 4, 1.0, None),
        ("content", b"hope", 3, 1.0, None),
        ("content", b"rain", 1, 1.0, b"\x01"),
        ("content", b"rain", 2, 2.0, b"\x02"),
        ("content", b"rain", 5, 5.0, b"\x05"),
        ("content", b"rain", 9, 9.0, b"\x09"),
    ]


def test_run_files_are_removed(tmp_path):
    storage = FileStorage(str(tmp_path)).create()
    terms = pool.TermPool(storage, None, limitmb=0.001)
    for docnum in range(200):
        terms.add(("content", f"w{docnum % 17}".encode(), docnum, 1.0, None))
    assert len(terms.runs) > 5 and list(storage.list())
    words = list(terms.words())
    assert [word[1] for word in words] == sorted(f"w{n}".encode() for n in range(17))
    assert all(
        word[2] == list(range(n, 200, 17))
        for n, word in zip(sorted(range(17), key=lambda n: f"w{n}"), words, strict=True)
    )
    assert list(storage.list()) == []
    terms.add(("content", b"x", 1, 1.0, None))
    terms._spill()
    terms.cleanup()
    assert list(storage.list()) == []


def _counted(method, calls: list):
    def counted(self, *args):
        calls.append(1)
        return method(self, *args)

    return counted
