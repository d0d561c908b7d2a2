"""The archive's postings format (`archive.search.engine.codec`) reads back exactly what
Whoosh's own format does: ids, weights, values and block statistics, for every kind of
field."""

from __future__ import annotations

import random
from io import BytesIO

import pytest
from whoosh.codec.whoosh3 import W3Codec, W3TermInfo
from whoosh.fields import ID, TEXT, Schema
from whoosh.filedb.structfile import StructFile
from whoosh.formats import Existence, Frequency, Positions
from whoosh.qparser import QueryParser
from whoosh.system import pack_uint

from archive.search import rebuild
from archive.search.engine.codec import ArchiveCodec, ArchiveLeafMatcher
from archive.search.engine.formats import WordPositions
from tests.search_helpers import memory_index


def _postings(rng: random.Random, count: int, top_id: int, fmt, weights: str):
    ids = sorted(rng.sample(range(top_id), count))
    postings = []
    for docnum in ids:
        positions = sorted(
            rng.sample(range(1, 70_000 if rng.random() < 0.05 else 300), rng.randint(1, 6))
        )
        weight = {"ones": 1.0, "same": 2.5}.get(weights, float(len(positions)))
        value = (
            fmt.encode(positions)
            if isinstance(fmt, Positions)
            else pack_uint(len(positions))
            if isinstance(fmt, Frequency)
            else b""
        )
        postings.append((docnum, weight, value, rng.randint(1, 900)))
    return postings


def _write_and_read(codec, fmt, postings):
    dbfile = StructFile(BytesIO())
    writer = codec.postings_writer(dbfile)
    writer.start_postings(fmt, W3TermInfo())
    for posting in postings:
        writer.add_posting(*posting)
    info = writer.finish_postings()
    matcher = codec.postings_reader(dbfile, info, fmt)
    read, blocks = [], []
    while matcher.is_active():
        blocks.append(
            (
                matcher.block_max_id(),
                matcher.block_max_weight(),
                matcher.block_min_length(),
                matcher.block_max_length(),
            )
        )
        block_end = matcher._maxid
        while matcher.is_active() and matcher.id() <= block_end:
            read.append((matcher.id(), matcher.weight(), matcher.value()))
            if matcher.next():
                break
    return (
        type(matcher),
        read,
        blocks,
        (info.weight(), info.doc_frequency(), info.min_length(), info.max_length()),
    )


@pytest.mark.parametrize(
    "fmt",
    [Existence(), Frequency(), Positions(), WordPositions()],
    ids=["existence", "frequency", "positions", "word-positions"],
)
@pytest.mark.parametrize("weights", ["ones", "same", "each"])
@pytest.mark.parametrize("top_id", [60_000, 5_000_000], ids=["16-bit", "32-bit"])
def test_postings_read_back_as_whoosh_writes_them(fmt, weights, top_id):
    rng = random.Random(f"{fmt}{weights}{top_id}")
    postings = _postings(rng, 128 * 3 + 41, top_id, fmt, weights)
    kind, ours, our_blocks, our_info = _write_and_read(ArchiveCodec(), fmt, postings)
    _kind, theirs, their_blocks, their_info = _write_and_read(W3Codec(), fmt, postings)
    assert kind is ArchiveLeafMatcher
    assert ours == theirs
    assert len(ours) == len(postings)
    assert our_blocks == their_blocks and our_info == their_info


def test_word_positions_round_trip_short_and_long_gaps():
    fmt = WordPositions()
    for positions in ([1], [3, 4, 9], [0, 70_000, 70_001], list(range(0, 5000, 7))):
        value = fmt.encode(positions)
        assert fmt.decode_positions(value) == positions
        assert fmt.decode_frequency(value) == len(positions)
    assert len(fmt.encode([12])) == 3


def test_skipping_reads_the_same_postings_as_stepping():
    rng = random.Random(5)
    fmt = WordPositions()
    postings = _postings(rng, 128 * 5, 90_000, fmt, "each")
    dbfile = StructFile(BytesIO())
    writer = ArchiveCodec().postings_writer(dbfile)
    writer.start_postings(fmt, W3TermInfo())
    for posting in postings:
        writer.add_posting(*posting)
    info = writer.finish_postings()
    for target in sorted(rng.sample(range(90_000), 40)):
        matcher = ArchiveCodec().postings_reader(dbfile, info, fmt)
        matcher.skip_to(target)
        expected = [p for p in postings if p[0] >= target]
        if not expected:
            assert not matcher.is_active()
            continue
        assert (matcher.id(), matcher.weight(), matcher.value()) == expected[0][:3]
        assert matcher.value_as("positions") == fmt.decode_positions(expected[0][2])


WORDS = ["उदासी", "ख़ुशी", "माझ्या", "hope", "rain", "tea", "walk", "मन", "घर", "sleep"]


def _texts(count: int) -> list[str]:
    rng = random.Random(9)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 40))) for _ in range(count)]


def _schema():
    body = TEXT()
    body.format = WordPositions()
    return Schema(id=ID(stored=True), body=body, plain=TEXT(phrase=False))


def test_segments_of_both_formats_search_alike_and_merge():
    texts = _texts(900)
    ours, theirs = memory_index(_schema()), memory_index(_schema())
    for start in range(0, 900, 300):  # three segments each; the second of Whoosh's format
        for ix, codec in (
            (ours, W3Codec() if start == 300 else ArchiveCodec()),
            (theirs, W3Codec()),
        ):
            with ix.writer(codec=codec) as w:
                for number in range(start, start + 300):
                    w.add_document(id=str(number), body=texts[number], plain=texts[number])
    assert len(ours._segments()) == 3

    def found(ix, text):
        with ix.searcher() as s:
            query = QueryParser("body", ix.schema).parse(text)
            return [(hit["id"], round(hit.score, 5)) for hit in s.search(query, limit=None)]

    queries = ['"उदासी माझ्या"', '"hope rain tea"', "ख़ुशी walk", "plain:मन", "घर -sleep"]
    expected = {text: found(theirs, text) for text in queries}
    assert all(expected.values())
    assert {text: found(ours, text) for text in queries} == expected
    # merged into one segment (Whoosh's merge re-adds field lengths from their one-byte
    # form, which moves the scores a little: both are merged)
    with ours.writer() as w:
        w.optimize = True
    with theirs.writer(codec=W3Codec()) as w:
        w.optimize = True
    assert [type(segment.codec()) for segment in ours._segments()] == [ArchiveCodec]
    assert {text: found(ours, text) for text in queries} == {
        text: found(theirs, text) for text in queries
    }


def test_an_index_holding_whoosh_format_segments_is_rebuilt(app):
    from archive.search.schema import make_schema

    with app.app_context():
        ix = memory_index(make_schema())
        with ix.writer(codec=W3Codec()) as w:
            w.add_document(id="a", content="उदासी")
        assert rebuild.outdated(ix)
        fresh = memory_index(make_schema())
        with fresh.writer() as w:
            w.add_document(id="a", content="उदासी")
        assert not rebuild.outdated(fresh)


def test_words_counted_from_the_analyzers_list_as_whoosh_counts_them():
    """The formats' quick path (the analyzers' word lists) gives exactly what Whoosh's
    token-by-token path gives, for every text field of the site's schema."""
    from archive.search.schema import make_schema

    schema = make_schema(common=frozenset({"मुझे", "भी", "the", "rain"}))
    text = (
        "मुझे भी the rain उदासी और ख़ुशी, माझ्या मनात उदासी आहे. The rain falls; मुझे भी "
        "rain rain 12 ज्ञान " + " ".join(["नींद"] * 70_001) + " उदासी"
    )
    for name in ("title", "content", "pairs", "roman"):
        field = schema[name]
        fmt = field.format
        whoosh_format = (Positions if isinstance(fmt, WordPositions) else Frequency)(
            field_boost=fmt.field_boost
        )
        ours = sorted(fmt.word_values(text, field.analyzer, mode="index"))
        theirs = sorted(whoosh_format.word_values(text, field.analyzer, mode="index"))
        assert [(w, n, weight) for w, n, weight, _v in ours] == [
            (w, n, weight) for w, n, weight, _v in theirs
        ], name
        decode = fmt.decode_positions if isinstance(fmt, WordPositions) else fmt.decode_frequency
        assert [decode(v) for *_rest, v in ours] == [
            whoosh_format.decode_as(
                "positions" if isinstance(fmt, WordPositions) else "frequency", v
            )
            for *_rest, v in theirs
        ], name
        assert ours, name


def test_a_segment_written_by_the_archive_holds_what_whoosh_writes():
    """Every term's postings, weights, values and statistics, and every entry's field
    lengths, for the site's own schema: written by the archive's field writer and codec,
    and by Whoosh's own."""
    from archive.search.schema import make_schema

    rng = random.Random(12)
    entries = []
    for number in range(700):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 60)))
        entries.append(
            {
                "id": f"e{number}",
                "title": text[:30],
                "content": text,
                "roman": text,
                "pairs": text,
                "tags": rng.choice(["नींद", "", "rain"]),
                "audience": rng.choice(["public", "circle"]),
                "review": rng.choice([20250101, 99991231]),
            }
        )
    common = frozenset({"उदासी", "hope", "मन"})
    ours, theirs = memory_index(make_schema(common)), memory_index(make_schema(common))
    for ix, codec in ((ours, ArchiveCodec()), (theirs, W3Codec())):
        with ix.writer(codec=codec) as w:
            for entry in entries:
                w.add_document(**entry)
    with ours.reader() as a, theirs.reader() as b:
        assert list(a.all_terms()) == list(b.all_terms())
        for fieldname, btext in a.all_terms():
            x, y = a.postings(fieldname, btext), b.postings(fieldname, btext)
            assert list(x.items_as("weight")) == list(y.items_as("weight"))
            assert list(a.postings(fieldname, btext).items_as("frequency")) == list(
                b.postings(fieldname, btext).items_as("frequency")
            )
            ta, tb = a.term_info(fieldname, btext), b.term_info(fieldname, btext)
            assert (
                ta.weight(),
                ta.doc_frequency(),
                ta.min_length(),
                ta.max_length(),
                ta.max_weight(),
            ) == (
                tb.weight(),
                tb.doc_frequency(),
                tb.min_length(),
                tb.max_length(),
                tb.max_weight(),
            )
        for fieldname in ("title", "content", "roman", "pairs"):
            assert [a.doc_field_length(n, fieldname) for n in range(700)] == [
                b.doc_field_length(n, fieldname) for n in range(700)
            ]
