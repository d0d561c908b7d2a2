"""Search sets kept per index segment, and ranking of the allowed entries
(archive/search/docsets.py, ranking.py, engine/postings.py). They stand in for Whoosh's own
answers, so they must agree with them: across segments, after deletions, and in a new
searcher opened after a change."""

from __future__ import annotations

import random

import pytest
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.query import And, AndNot, Not, NumericRange, Or, Phrase, Term

from archive.search import docsets, ranking
from archive.search.engine import postings
from archive.search.engine.codec import ArchiveLeafMatcher
from archive.search.query import parse
from archive.search.schema import make_schema
from tests.search_helpers import bitmap, memory_index, numbers

WORDS = "उदासी नींद मुझे भी माझ्या झोप ख़ुशी sleep rain school hope".split()
TAGS = ["नींद", "झोप", "school", "screen time"]


def entries(count: int, seed: int = 5, prefix: str = "e") -> list[dict]:
    rng = random.Random(seed)
    out = []
    for n in range(count):
        # word frequencies from everywhere to rare, so some posting lists span many blocks
        text = " ".join(rng.choices(WORDS, weights=range(len(WORDS), 0, -1), k=rng.randint(3, 40)))
        out.append(
            {
                "id": f"{prefix}{n}",
                "title": text.split()[0],
                "content": text,
                "roman": text,
                "tags": ",".join(rng.sample(TAGS, rng.randint(0, 2))),
                "audience": rng.choice(("public", "circle", "private")),
                "review": rng.choice((20250101, 20270101, 99991231)),
            }
        )
    return out


def build(batches: list[list[dict]]):
    """An index with one segment per batch (no merging)."""
    ix = memory_index(make_schema())
    for batch in batches:
        w = ix.writer()
        for entry in batch:
            w.add_document(**entry)
        w.commit(merge=False)
    return ix


def delete(ix, ids: list[str]) -> None:
    w = ix.writer()
    for entry_id in ids:
        w.delete_by_term("id", entry_id)
    w.commit(merge=False)


QUERIES = [
    Term("content", "उदासी"),
    Term("content", "नींद"),
    Term("content", "hope"),
    Term("content", "absent"),
    Term("tags", "screen time"),
    Term("audience", "public"),
    Or([Term("content", "उदासी"), Term("content", "sleep")]),
    And([Term("content", "नींद"), Term("content", "rain")]),
    And([Term("content", "मुझे"), Not(Term("content", "school"))]),
    AndNot(Term("audience", "circle"), Term("tags", "झोप")),
    NumericRange("review", 20260601, None),
    And([Term("audience", "public"), NumericRange("review", 20260601, None)]),
    Phrase("content", ["मुझे", "भी"]),
]


def whoosh_docs(s, query) -> frozenset:
    return frozenset(s.docs_for_query(query))


def expected_docs(s, query) -> frozenset:
    """Whoosh's answer for a word, range or phrase; the set logic for the rest (Whoosh's own
    AndNot matcher keeps an entry that has both sides, e.g. `e1` below)."""
    kind = type(query)
    if kind is Or:
        return frozenset().union(*(expected_docs(s, sub) for sub in query.subqueries))
    if kind is And:
        found = s.doc_count_all() and frozenset(range(s.doc_count_all()))
        for sub in query.subqueries:
            found = (
                found - expected_docs(s, sub.query)
                if type(sub) is Not
                else found & expected_docs(s, sub)
            )
        return found - frozenset(d for d in found if s.reader().is_deleted(d))
    if kind is AndNot:
        return expected_docs(s, query.a) - expected_docs(s, query.b)
    return whoosh_docs(s, query)


def test_sets_agree_with_whoosh_across_segments_deletions_and_new_searchers():
    all_entries = entries(900)
    ix = build([all_entries[:600], all_entries[600:800], all_entries[800:]])
    with ix.searcher() as s:
        assert len(s.leaf_searchers()) == 3
        for query in QUERIES:
            assert numbers(docsets.docs(s, query)) == expected_docs(s, query), query
    # deletions in the first and last segment, then a new segment: a new searcher must
    # leave the deleted entries out of sets kept from before and find the new ones
    delete(ix, ["e3", "e10", "e599", "e850"])
    w = ix.writer()
    for entry in entries(50, seed=9):
        w.add_document(**{**entry, "id": "new-" + entry["id"]})
    w.commit(merge=False)
    with ix.searcher() as s:
        assert len(s.leaf_searchers()) == 4
        for query in QUERIES:
            assert numbers(docsets.docs(s, query)) == expected_docs(s, query), query


def test_a_new_searcher_works_out_only_the_segments_it_did_not_have(monkeypatch):
    ix = build([entries(300), entries(100, seed=6, prefix="f")])
    worked = []
    original = docsets.posting_arrays
    monkeypatch.setattr(
        docsets, "posting_arrays", lambda *word: worked.append(word) or original(*word)
    )
    word = Term("content", "नींद")
    with ix.searcher() as s:
        docsets.docs(s, word)
    assert len(worked) == 2
    w = ix.writer()
    w.add_document(id="late", content="नींद आई", title="नींद")
    w.commit(merge=False)
    with ix.searcher() as s:
        assert numbers(docsets.docs(s, word)) == whoosh_docs(s, word)
    assert len(worked) == 3  # the new segment only


def test_facet_counts_agree_with_the_terms():
    ix = build([entries(200), entries(150, seed=8, prefix="f")])
    delete(ix, ["e7"])
    rng = random.Random(4)
    with ix.searcher() as s:
        for allowed in (
            docsets.docs(s, Term("content", "नींद")),
            bitmap(s, rng.sample(range(349), 120)) & ~docsets.deleted(s),
        ):
            chosen = numbers(allowed)
            assert 7 not in chosen
            expected = {
                value: len(chosen & whoosh_docs(s, Term(name, value)))
                for name, names in (("tags", TAGS), ("audience", ("public", "circle", "private")))
                for value in names
            }
            found = docsets.counts(s, ("tags", "audience"), allowed)
            tags, audience = dict(found["tags"]), dict(found["audience"])
            assert {**tags, **audience} == {v: n for v, n in expected.items() if n}
            assert list(tags.values()) == sorted(tags.values(), reverse=True)


def test_what_is_kept_stays_within_its_bound(monkeypatch):
    monkeypatch.setattr(docsets, "MAX_KEPT_BYTES", 2000)
    ix = build([entries(400)])
    with ix.searcher() as s:
        for query in QUERIES:
            docsets.docs(s, query)
    kept = ix.handle.cache
    assert kept._size <= 2000 or len(kept._kept) == 1
    assert kept._size == sum(map(docsets._size, kept._kept.values()))


def test_newest_first_follows_the_updated_column():
    from archive.search.query import _ranked

    ix = build(
        [
            [{**entry, "updated": n % 7} for n, entry in enumerate(entries(60))],
            [{**entry, "updated": 3} for entry in entries(20, seed=2, prefix="f")],
        ]
    )
    with ix.searcher() as s:
        allowed = docsets.docs(s, Term("content", "नींद"))
        chosen = sorted(numbers(allowed))
        updated = [s.stored_fields(n) and (n % 7 if n < 60 else 3) for n in chosen]
        pairs = sorted(zip(updated, chosen, strict=True), key=lambda p: (-p[0], p[1]))
        expected = [n for _u, n in pairs]
        assert _ranked(s, None, allowed, "newest", 10) == expected[:10]


@pytest.fixture(scope="module")
def two_segments():
    all_entries = entries(700)
    ix = build([all_entries[:400], all_entries[400:]])
    delete(ix, ["e1", "e450"])
    return ix


@pytest.mark.parametrize(
    "text",
    [
        "उदासी",
        "नींद sleep",
        "नींद OR hope",
        "मुझे भी",
        '"मुझे भी"',
        "sleep NOT school",
        "udasi",
        "boosted group",
        "with a range",
        "a NOT inside a group",
    ],
)
def test_ranking_only_the_allowed_entries_agrees_with_whoosh(two_segments, text):
    rng = random.Random(text)
    with two_segments.searcher() as s:
        if text == "boosted group":  # scored through Whoosh's matchers
            query = Or([Term("content", "नींद"), Term("content", "rain", boost=3.0)], boost=2.0)
        elif text == "a NOT inside a group":
            query = Or(
                [
                    And([Term("content", "नींद"), Not(Term("content", "rain"))]),
                    Term("content", "hope"),
                ]
            )
        elif text == "with a range":
            query = And([parse("उदासी", s.schema), NumericRange("review", 20260601, None)])
        else:
            query = parse(text, s.schema).accept(
                lambda q: And([Term(q.fieldname, w) for w in q.words]) if type(q) is Phrase else q
            )
        assert (ranking._words(query) is None) == (
            text in ("boosted group", "with a range", "a NOT inside a group")
        )
        # every match scored (Whoosh's own top-k shortcuts lose the best of a query of two
        # or more words), then the allowed ones in that order
        everything = s.search(query, limit=None)
        whoosh_scores = {hit.docnum: hit.score for hit in everything}
        matching = sorted(whoosh_scores)
        assert len(matching) > 20, text
        for share in (1.0, 0.3, 0.02):
            allowed = frozenset(rng.sample(matching, max(1, int(len(matching) * share))))
            expected = [hit.docnum for hit in everything if hit.docnum in allowed][:15]
            chosen = bitmap(s, allowed)
            assert ranking.best(s, query, chosen, 15) == expected, (text, share)
            docnums, scores = ranking._scored(s, query, chosen)
            ours = dict(zip(docnums.tolist(), scores.tolist(), strict=True))
            assert ours.keys() == allowed
            assert all(ours[d] == pytest.approx(whoosh_scores[d], rel=1e-12) for d in allowed)


def test_skipping_by_bisection_lands_where_whoosh_does():
    ix = build([entries(900)])
    with ix.searcher() as s:
        for word in ("उदासी", "नींद", "hope"):
            for seed in range(5):
                rng = random.Random(seed)
                ours = s.postings("content", word)
                theirs = s.postings("content", word)
                assert isinstance(ours, ArchiveLeafMatcher)
                target = 0
                while ours.is_active():
                    target += rng.randint(1, 60)
                    ours.skip_to(target)
                    W3LeafMatcher.skip_to(theirs, target)  # Whoosh's own, a posting at a time
                    assert ours.is_active() == theirs.is_active()
                    if ours.is_active():
                        assert ours.id() == theirs.id() and ours.id() >= target
                        assert ours.score() == theirs.score()


def test_posting_arrays_read_every_block_and_inline_postings_too():
    ix = build([entries(900), [{"id": "rare", "content": "एकदम अकेला शब्द", "title": ""}]])
    with ix.reader() as reader:
        for segment_reader, _offset in reader.leaf_readers():
            for word in ("उदासी", "नींद", "hope", "अकेला"):
                try:
                    theirs = segment_reader.postings("content", word)
                except Exception:  # noqa: BLE001  (the word is not in this segment)
                    continue
                expected = list(theirs.items_as("weight"))
                ids, weights = postings.posting_arrays(
                    segment_reader, "content", postings.word_bytes(segment_reader, "content", word)
                )
                assert list(zip(ids.tolist(), weights.tolist(), strict=True)) == expected
