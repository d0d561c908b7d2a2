"""Search sets kept per index segment and ranking by skipping (archive/search/docsets.py,
postings.py). They stand in for Whoosh's own answers, so they must agree with them: across
segments, after deletions, and in a new searcher opened after a change."""
from __future__ import annotations

import random

import pytest
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.query import And, AndNot, Not, NumericRange, Or, Phrase, Term

from archive.search import docsets, postings, ranking
from archive.search.query import parse
from archive.search.schema import make_schema
from tests.search_helpers import memory_index

WORDS = "उदासी नींद मुझे भी माझ्या झोप ख़ुशी sleep rain school hope".split()
TAGS = ["नींद", "झोप", "school", "screen time"]


def entries(count: int, seed: int = 5, prefix: str = "e") -> list[dict]:
    rng = random.Random(seed)
    out = []
    for n in range(count):
        # word frequencies from everywhere to rare, so some posting lists span many blocks
        text = " ".join(rng.choices(WORDS, weights=range(len(WORDS), 0, -1),
                                    k=rng.randint(3, 40)))
        out.append({"id": f"{prefix}{n}", "title": text.split()[0], "content": text, "roman": text,
                    "tags": ",".join(rng.sample(TAGS, rng.randint(0, 2))),
                    "audience": rng.choice(("public", "circle", "private")),
                    "review": rng.choice((20250101, 20270101, 99991231))})
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
    Term("content", "उदासी"), Term("content", "नींद"), Term("content", "hope"),
    Term("content", "absent"), Term("tags", "screen time"), Term("audience", "public"),
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
            found = (found - expected_docs(s, sub.query) if type(sub) is Not
                     else found & expected_docs(s, sub))
        return found - frozenset(d for d in found if s.reader().is_deleted(d))
    if kind is AndNot:
        return expected_docs(s, query.a) - expected_docs(s, query.b)
    return whoosh_docs(s, query)


@pytest.fixture(autouse=True)
def nothing_kept():
    docsets.forget_all()
    yield
    docsets.forget_all()


def test_sets_agree_with_whoosh_across_segments_deletions_and_new_searchers():
    all_entries = entries(900)
    ix = build([all_entries[:600], all_entries[600:800], all_entries[800:]])
    with ix.searcher() as s:
        assert len(s.leaf_searchers()) == 3
        for query in QUERIES:
            assert docsets.docs(s, query) == expected_docs(s, query), query
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
            assert docsets.docs(s, query) == expected_docs(s, query), query


def test_a_new_searcher_works_out_only_the_segments_it_did_not_have(monkeypatch):
    ix = build([entries(300), entries(100, seed=6, prefix="f")])
    worked = []
    original = docsets._term_docs
    monkeypatch.setattr(docsets, "_term_docs",
                        lambda reader, *term: worked.append(term) or original(reader, *term))
    word = Term("content", "नींद")
    with ix.searcher() as s:
        docsets.docs(s, word)
    assert len(worked) == 2
    w = ix.writer()
    w.add_document(id="late", content="नींद आई", title="नींद")
    w.commit(merge=False)
    with ix.searcher() as s:
        assert docsets.docs(s, word) == whoosh_docs(s, word)
    assert len(worked) == 3  # the new segment only


def test_facet_values_per_entry_agree_with_the_terms():
    ix = build([entries(200), entries(150, seed=8, prefix="f")])
    delete(ix, ["e7"])
    with ix.searcher() as s:
        tags = docsets.values(s, "tags", multiple=True)
        audience = docsets.values(s, "audience")
        assert len(tags) == len(audience) == s.doc_count_all()
        for value in TAGS:
            with_tag = {n for n, found in enumerate(tags) if value in found}
            assert with_tag >= whoosh_docs(s, Term("tags", value))
            assert with_tag - whoosh_docs(s, Term("tags", value)) <= {7}  # deleted only
        for value in ("public", "circle", "private"):
            assert ({n for n, found in enumerate(audience) if found == value} - {7} ==
                    whoosh_docs(s, Term("audience", value)) - {7})


def test_what_is_kept_stays_within_its_bound(monkeypatch):
    monkeypatch.setattr(docsets, "MAX_KEPT", 500)
    ix = build([entries(400)])
    with ix.searcher() as s:
        for query in QUERIES:
            docsets.docs(s, query)
    assert docsets._kept_size[0] <= 500 or len(docsets._kept) == 1
    assert docsets._kept_size[0] == sum(len(found) for found in docsets._kept.values())


@pytest.fixture(scope="module")
def two_segments():
    all_entries = entries(700)
    ix = build([all_entries[:400], all_entries[400:]])
    delete(ix, ["e1", "e450"])
    return ix


@pytest.mark.parametrize("text", ["उदासी", "नींद sleep", "नींद OR hope", "मुझे भी",
                                  '"मुझे भी"', "sleep NOT school", "udasi", "boosted group",
                                  "with a range", "a NOT inside a group"])
def test_ranking_only_the_allowed_entries_agrees_with_whoosh(two_segments, text):
    rng = random.Random(text)
    with two_segments.searcher() as s:
        if text == "boosted group":  # scored through Whoosh's matchers
            query = Or([Term("content", "नींद"), Term("content", "rain", boost=3.0)], boost=2.0)
        elif text == "a NOT inside a group":
            query = Or([And([Term("content", "नींद"), Not(Term("content", "rain"))]),
                        Term("content", "hope")])
        elif text == "with a range":
            query = And([parse("उदासी", s.schema), NumericRange("review", 20260601, None)])
        else:
            query = parse(text, s.schema).accept(
                lambda q: And([Term(q.fieldname, w) for w in q.words])
                if type(q) is Phrase else q)
        assert (ranking._words(query) is None) == (
            text in ("boosted group", "with a range", "a NOT inside a group"))
        # every match scored (Whoosh's own top-k shortcuts lose the best of a query of two
        # or more words), then the allowed ones in that order
        everything = s.search(query, limit=None)
        whoosh_scores = {hit.docnum: hit.score for hit in everything}
        matching = sorted(whoosh_scores)
        assert len(matching) > 20, text
        for share in (1.0, 0.3, 0.02):
            allowed = frozenset(rng.sample(matching, max(1, int(len(matching) * share))))
            expected = [hit.docnum for hit in everything if hit.docnum in allowed][:15]
            assert ranking.best(s, query, allowed, 15) == expected, (text, share)
            ours = ranking.scores(s, query, allowed)
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
                assert isinstance(ours, W3LeafMatcher)
                target = 0
                while ours.is_active():
                    target += rng.randint(1, 60)
                    ours.skip_to(target)
                    postings._original_skip_to(theirs, target)
                    assert ours.is_active() == theirs.is_active()
                    if ours.is_active():
                        assert ours.id() == theirs.id() and ours.id() >= target
                        assert ours.score() == theirs.score()


def test_posting_ids_reads_every_block_and_inline_postings_too():
    ix = build([entries(900), [{"id": "rare", "content": "एकदम अकेला शब्द", "title": ""}]])
    with ix.reader() as reader:
        for segment_reader, _offset in reader.leaf_readers():
            for word in ("उदासी", "नींद", "hope", "अकेला"):
                try:
                    expected = list(segment_reader.postings("content", word).all_ids())
                except Exception:  # the word is not in this segment
                    continue
                raw = segment_reader._terms.matcher(
                    "content", segment_reader._text_to_bytes("content", word),
                    segment_reader.schema["content"].format)
                assert postings.posting_ids(raw) == expected
