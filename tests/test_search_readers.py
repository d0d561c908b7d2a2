"""A thread's new searcher keeps the readers of the segments its last one had
(`archive.search.index.Index.open_searcher`): it must find and count exactly what a searcher
opened from nothing finds, however the index changed in between."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import numpy as np
from whoosh import index as whoosh_index
from whoosh.query import Every, Term
from whoosh.writing import CLEAR, MERGE_SMALL, NO_MERGE, OPTIMIZE

from archive.search import compaction, docsets, index, rebuild
from archive.search.engine import searching
from archive.search.schema import entry, make_schema

WORDS = "उदासी नींद झोप पाऊस sleep river hope दोस्त शाळा evening".split()


def _entry(public_id: str, rng: random.Random) -> dict:
    return entry(
        public_id=public_id,
        kind="poem",
        circle_id=rng.randint(1, 3),
        contributor_id=1,
        has_account=True,
        updated_at=datetime(2026, 11, 1, tzinfo=UTC),
        title=" ".join(rng.sample(WORDS, 2)),
        body=" ".join(rng.sample(WORDS, 4)),
        tags=rng.sample(WORDS, 1),
        alt_text="",
        language="hi",
        audience="public",
        review_by=None,
        byline=None,
    )


def _found(s, query) -> set[str]:
    """Ids of the entries ``query`` matches, through the site's per-segment sets."""
    bitmap = docsets.docs(s, query)
    return {s.stored_fields(int(n))["id"] for n in np.flatnonzero(bitmap)}


def _whole(ix) -> tuple[dict, dict]:
    """What a searcher opened from nothing finds: every entry's words, and the count."""
    with ix.searcher() as fresh:
        found = {
            word: {hit["id"] for hit in fresh.search(Term("content", word), limit=None)}
            for word in WORDS
        }
        return found, {
            "count": fresh.doc_count(),
            "ids": {fields["id"] for fields in fresh.all_stored_fields()},
        }


def test_a_new_searcher_finds_what_the_index_holds_after_every_kind_of_change(tmp_path):
    ix = whoosh_index.create_in(tmp_path, make_schema())
    rng = random.Random(7)
    live: set[str] = set()
    handle = index.Index(tmp_path, ix)
    s = handle.open_searcher()
    reused = opened = 0
    for step in range(120):
        kind = rng.random()
        w = index.writer(ix)
        if kind < 0.45 or len(live) < 3:
            for number in range(rng.randint(1, 3)):
                public_id = f"p{step}-{number}"
                w.update_document(**_entry(public_id, rng))
                live.add(public_id)
        elif kind < 0.8:
            gone = rng.choice(sorted(live))
            w.delete_by_term("id", gone)
            live.discard(gone)
        else:
            w.update_document(**_entry(rng.choice(sorted(live)), rng))
        merge = rng.choice((NO_MERGE, NO_MERGE, index.merge_when_many, MERGE_SMALL))
        if step % 37 == 36:
            merge = CLEAR
            w = _rebuilt(ix, w, live, rng)
        w.commit(mergetype=merge)
        if step % 29 == 28:  # a compaction swaps segments for new ones without deletions
            for segment in [seg for seg in ix._segments() if seg.has_deletions()]:
                compaction._rewrite(ix, tmp_path, segment)

        before = {id(reader) for reader, _ in s.reader().leaf_readers()}
        s = handle.open_searcher(s)
        now = [reader for reader, _ in s.reader().leaf_readers()]
        reused += sum(id(reader) in before for reader in now)
        opened += sum(id(reader) not in before for reader in now)

        assert s.up_to_date()
        words, whole = _whole(ix)
        assert whole["ids"] == live
        assert s.doc_count() == whole["count"] == len(live)
        assert {fields["id"] for fields in s.all_stored_fields()} == live
        assert _found(s, Every()) == live
        for word in WORDS:
            assert _found(s, Term("content", word)) == words[word], (step, word)
            assert {hit["id"] for hit in s.search(Term("content", word), limit=None)} == words[word]
        assert not any(reader.is_closed for reader in now)
    # most segments were carried over; each change opened only its new one(s)
    assert reused > 2 * opened


def _rebuilt(ix, w, live: set[str], rng: random.Random):
    """A writer that replaces every segment (as a rebuild does)."""
    w.cancel()
    w = index.writer(ix)
    for public_id in sorted(live):
        w.add_document(**_entry(public_id, rng))
    return w


def _one_entry_per_segment(tmp_path, count: int, seed: int):
    """An index of ``count`` entries (p0, p1, …), each in a segment of its own."""
    ix = whoosh_index.create_in(tmp_path, make_schema())
    rng = random.Random(seed)
    for number in range(count):
        with index.writing(ix, mergetype=NO_MERGE) as w:
            w.add_document(**_entry(f"p{number}", rng))
    return ix, rng


def test_readers_of_segments_gone_from_the_index_are_closed(tmp_path):
    ix, rng = _one_entry_per_segment(tmp_path, 4, seed=1)
    handle = index.Index(tmp_path, ix)
    s = handle.open_searcher()
    old = [reader for reader, _ in s.reader().leaf_readers()]
    assert len(old) == 4
    with index.writing(ix, mergetype=OPTIMIZE):
        pass
    s = handle.open_searcher(s)
    (merged,) = [reader for reader, _ in s.reader().leaf_readers()]
    assert all(reader.is_closed for reader in old) and not merged.is_closed
    assert s.doc_count() == 4


def test_a_table_of_contents_replaced_while_it_is_read_is_read_again(tmp_path, monkeypatch):
    """Another worker's commit removes the table of contents being opened, or a segment
    it lists: the newer table is read (a search must not fail for it)."""
    ix, rng = _one_entry_per_segment(tmp_path, 3, seed=2)
    handle = index.Index(tmp_path, ix)
    s = handle.open_searcher()
    with index.writing(ix, mergetype=NO_MERGE) as w:
        w.add_document(**_entry("p3", rng))
    read, opened, failures = ix._read_toc, [], ["toc", "segment"]

    def racing():
        if failures and failures[0] == "toc":
            failures.pop(0)
            raise FileNotFoundError("_MAIN_4.toc")
        return read()

    real_open = searching._opened

    def open_segment(ix_, toc, segment, opened_now):
        reader = real_open(ix_, toc, segment, opened_now)
        opened.append(reader)
        if failures:
            failures.pop(0)
            raise FileNotFoundError(f"{segment.segment_id()}.seg")
        return reader

    monkeypatch.setattr(ix, "_read_toc", racing)
    monkeypatch.setattr(searching, "_opened", open_segment)
    s = handle.open_searcher(s)
    assert not failures
    assert {fields["id"] for fields in s.all_stored_fields()} == {"p0", "p1", "p2", "p3"}
    assert opened[0].is_closed and not opened[-1].is_closed


def test_a_compaction_reads_a_table_of_contents_replaced_under_it_again(tmp_path, monkeypatch):
    ix = whoosh_index.create_in(tmp_path, make_schema())
    rng = random.Random(4)
    with index.writing(ix, mergetype=NO_MERGE) as w:
        for number in range(3):
            w.add_document(**_entry(f"p{number}", rng))
    with index.writing(ix, mergetype=NO_MERGE) as w:
        w.delete_by_term("id", "p1")
    read, failures = ix._read_toc, [1, 1]

    def racing():
        if failures:
            failures.pop()
            raise FileNotFoundError("_MAIN_3.toc")  # another worker's commit replaced it
        return read()

    monkeypatch.setattr(ix, "_read_toc", racing)
    monkeypatch.setattr(index, "get_index", lambda: ix)
    monkeypatch.setattr(index, "folder", lambda: tmp_path)
    assert compaction.compact() == "rewrote 1 segment(s) holding 1 deleted document(s)"
    assert not failures
    assert not rebuild.outdated(ix)
    with ix.searcher() as s:
        assert sorted(fields["id"] for fields in s.all_stored_fields()) == ["p0", "p2"]
