"""Phrases (design.md, "Search"): words next to each other, in order — in Devanagari and in
Latin letters. A phrase of the archive's common words goes through their pair terms
(``CommonPairs``), every other phrase through word positions; both must find exactly the
same entries, across segments and after deletions."""

from __future__ import annotations

import pytest
from alembic import command
from flask_login import AnonymousUserMixin
from whoosh import index as whoosh_index
from whoosh.fields import ID, TEXT, Schema
from whoosh.query import Phrase, Term

from archive import migrate
from archive.db import commit, db
from archive.operations import items as item_ops
from archive.operations.consent import ConsentChoice
from archive.search import index, rebuild
from archive.search.query import CommonPhrase, parse, search
from archive.search.schema import make_schema
from tests.search_helpers import memory_index

ANONYMOUS = AnonymousUserMixin()
COMMON = frozenset({"मुझे", "भी", "नींद", "नहीं", "आती", "in", "the"})

DOCS = {
    "hindi-pair": "रात को मुझे भी नींद नहीं आती",
    "hindi-reversed": "नींद भी मुझे कभी कभी आती है",
    "hindi-apart": "मुझे लगा कि भी ठीक है, नींद आई",
    "hindi-three": "आज फिर मुझे भी नींद नहीं आई",
    "english": "a walk in the rain, in the park",
    "english-apart": "the walk in rain",
    "rare": "मुझे उदासी भी होती है, मुझे उदासी",
}


def ram_index(docs: dict[str, str], common=COMMON, split_after: int | None = None):
    """An index of ``docs`` (id → text), written in two segments when ``split_after``."""
    ix = memory_index(make_schema(common))
    pending = list(docs.items())
    batches = [pending[:split_after], pending[split_after:]] if split_after else [pending]
    for batch in batches:
        with ix.writer() as w:
            for doc_id, text in batch:
                w.add_document(id=doc_id, title="", content=text, pairs=text, roman=text)
    return ix


def found(ix, text: str) -> set[str]:
    with ix.searcher() as s:
        query = parse(text, s.schema)
        return {s.stored_fields(n)["id"] for n in s.docs_for_query(query)} if query else set()


def by_positions(ix, words: list[str]) -> set[str]:
    """The plain positional phrase, for comparison."""
    with ix.searcher() as s:
        return {s.stored_fields(n)["id"] for n in s.docs_for_query(Phrase("content", words))}


CASES = [
    ('"मुझे भी"', ["मुझे", "भी"], {"hindi-pair", "hindi-three"}),
    ('"भी मुझे"', ["भी", "मुझे"], {"hindi-reversed"}),
    ('"मुझे भी नींद नहीं"', ["मुझे", "भी", "नींद", "नहीं"], {"hindi-pair", "hindi-three"}),
    ('"भी नींद नहीं आती"', ["भी", "नींद", "नहीं", "आती"], {"hindi-pair"}),
    ('"in the"', ["in", "the"], {"english"}),
    ('"मुझे उदासी"', ["मुझे", "उदासी"], {"rare"}),  # a rare word: positions
]


@pytest.mark.parametrize("split_after", [None, 3])
@pytest.mark.parametrize("text, words, expected", CASES)
def test_a_phrase_finds_exactly_the_entries_with_its_words_in_order(
    text, words, expected, split_after
):
    ix = ram_index(DOCS, split_after=split_after)
    assert found(ix, text) == expected
    assert by_positions(ix, words) == expected


def test_common_words_go_through_pair_terms_and_others_through_positions():
    schema = make_schema(COMMON)
    assert parse('"मुझे भी"', schema) == Term("pairs", "मुझे+भी")
    assert isinstance(parse('"मुझे भी नींद"', schema), CommonPhrase)
    assert type(parse('"मुझे उदासी"', schema)) is Phrase
    # an archive too small to have common words uses positions throughout
    assert type(parse('"मुझे भी"', make_schema())) is Phrase


def test_a_deleted_entry_is_not_found_by_its_pairs():
    ix = ram_index(DOCS)
    with ix.writer() as w:
        w.delete_by_term("id", "hindi-pair")
    assert found(ix, '"मुझे भी"') == {"hindi-three"}
    assert found(ix, '"मुझे भी नींद नहीं"') == {"hindi-three"}
    assert found(ix, '"भी नींद नहीं आती"') == set()


def test_pairs_hold_only_common_words():
    ix = ram_index({"one": "मुझे भी उदासी भी नींद"})
    with ix.searcher() as s:
        pairs = {term.decode() for term in s.lexicon("pairs")}
    assert pairs == {"मुझे+भी", "भी+नींद"}


# --- through the site: common words learned on rebuild ------------------------------------


@pytest.fixture
def publish(app, make_circle, make_account):
    circle = make_circle()
    author = make_account(circle=circle)
    contributor = item_ops.contributor_for(author)

    def share(body: str) -> str:
        draft = item_ops.Draft(kind="poem", title="रात", body=body, language="hi")
        result = item_ops.contribute(
            author, circle, contributor, draft, ConsentChoice(audience="public")
        )
        commit()
        return result.item.public_id

    return share


def ids(text: str) -> set[str]:
    return {hit.item.public_id for hit in search(ANONYMOUS, text, per_page=50).hits}


def test_rebuilding_learns_the_common_words_and_phrases_still_find_the_same(
    app, publish, monkeypatch
):
    together = [publish(f"रात {n} को मुझे भी नींद नहीं आती") for n in range(3)]
    apart = publish("नींद भी मुझे नहीं आती")
    other = publish("मुझे उदासी है")
    before = {text: ids(text) for text in ('"मुझे भी"', '"मुझे भी नींद"', '"नींद भी"')}
    assert before['"मुझे भी"'] == set(together)
    assert before['"नींद भी"'] == {apart}

    monkeypatch.setattr(rebuild, "COMMON_MIN_ENTRIES", 3)
    common = rebuild.common_words()
    assert {"मुझे", "भी", "नींद", "नहीं", "आती", "को"} <= common
    assert not {"उदासी", "है", "0"} & common
    rebuild.reindex()
    schema = index.get_index().schema
    assert {"मुझे", "भी"} <= schema["pairs"].analyzer.common
    assert "उदासी" not in schema["pairs"].analyzer.common
    assert parse('"मुझे भी"', schema) == Term("pairs", "मुझे+भी")
    assert {text: ids(text) for text in before} == before
    assert other not in ids('"मुझे भी"')

    # an entry written after the rebuild is indexed with the same common words
    later = publish("आज मुझे भी नींद नहीं आती")
    assert ids('"मुझे भी"') == set(together) | {later}


def test_setup_rebuilds_an_index_made_by_an_older_version(app, publish):
    item = publish("मुझे भी नींद नहीं आती")
    folder = index.folder()
    index.forget(folder)
    for path in folder.iterdir():
        path.unlink()
    # an older schema, written in the index folder itself
    ix = whoosh_index.create_in(folder, Schema(id=ID(stored=True, unique=True), content=TEXT()))
    with ix.writer() as w:
        w.add_document(id=item, content="मुझे")
    index.forget(folder)
    assert rebuild.outdated()
    with db.engine.begin() as connection:  # the tables came from the models, not migrations
        command.stamp(migrate.alembic_config(connection), "head")

    result = app.test_cli_runner().invoke(args=["setup", "--no-demo"], catch_exceptions=False)
    assert "rebuilding the search index" in result.output
    assert not rebuild.outdated()
    assert ids('"मुझे भी"') == {item}


# --- field lengths read per segment (archive/search/engine/lengths.py) --------------------


def test_field_lengths_read_per_segment_agree_with_whoosh():
    from whoosh.codec import whoosh3

    from archive.search.engine.lengths import LengthsReader

    docs = {f"d{n}": " ".join(["मुझे भी नींद"] * (n % 7 + 1)) + f" word{n}" for n in range(300)}
    ix = ram_index(docs, split_after=120)
    with ix.writer() as w:
        w.delete_by_term("id", "d5")
    with ix.reader() as reader:
        for segment_reader, _offset in reader.leaf_readers():
            perdoc = segment_reader._perdoc
            assert isinstance(perdoc, LengthsReader)
            for fieldname in ("content", "pairs", "roman", "title", "id", "tags"):
                for docnum in range(segment_reader.doc_count_all()):
                    assert perdoc.doc_field_length(
                        docnum, fieldname
                    ) == whoosh3.W3PerDocReader.doc_field_length(perdoc, docnum, fieldname), (
                        fieldname,
                        docnum,
                    )
