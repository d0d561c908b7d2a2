"""The search analyzer (design.md, "Search"): Hindi and Marathi words are never cut, one word
is one token whatever form it was typed in, English words are stemmed, and Latin-typed
queries find Devanagari originals through the romanized shadow field.

The romanized tests go through the real search (``archive.search.query.search``) against
items contributed through the operations layer, so the schema, query parser, access filter
and re-check are all on the path."""

from __future__ import annotations

import unicodedata

import pytest
from flask_login import AnonymousUserMixin
from whoosh.analysis import StandardAnalyzer
from whoosh.qparser import MultifieldParser

from archive.db import commit
from archive.operations import items as item_ops
from archive.operations.consent import ConsentChoice
from archive.search.analyzer import fold, roman_analyzer, roman_forms, romanize, text_analyzer
from archive.search.query import FIELDS, search
from archive.search.schema import make_schema
from tests.search_helpers import memory_index

ZWJ, ZWNJ, NUKTA = "\u200d", "\u200c", "\u093c"
#: precomposed nukta letters (Unicode composition exclusions: NFC decomposes them)
QA, ZA, DDDHA = "\u0958", "\u095b", "\u095c"


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def tokens(text: str, analyzer=None) -> list[str]:
    return [token.text for token in (analyzer or text_analyzer())(text)]


# --- the tokenizer: whole Devanagari words, one form per word -----------------------------


@pytest.mark.parametrize(
    "word",
    [
        "उदासी",  # matras ा ी
        "क्षमा",  # conjunct क्ष
        "त्रास",  # conjunct त्र
        "ज्ञान",  # conjunct ज्ञ
        "श्रद्धा",  # conjuncts श्र and द्ध
        "बुद्धि",  # द्ध with a vowel sign
        "माझ्या",  # Marathi: virama + य
        "नींद",  # anusvara
        "दुःख",  # visarga
        "आत्मविश्वास",  # several conjuncts in one word
        "मैं",  # candrabindu-like anusvara on ai
        "टॅबलेट",  # Marathi candra-e for the English "a"
        "डॉक्टर",  # candra-o
    ],
)
def test_a_devanagari_word_is_one_whole_token(word):
    assert tokens(word) == [word]
    assert tokens(f"आज {word} है।") == ["आज", word, "है"]


def test_the_stock_analyzer_cuts_words_which_is_why_ours_exists():
    """Python's \\w does not match vowel signs or the virama: StandardAnalyzer keeps उद of
    उदासी, makes षम of क्षमा and loses ज्ञान altogether to fragments."""
    stock = [token.text for token in StandardAnalyzer()("उदासी क्षमा ज्ञान")]
    assert "उदासी" not in stock and "उद" in stock
    assert "क्षमा" not in stock
    assert tokens("उदासी क्षमा ज्ञान") == ["उदासी", "क्षमा", "ज्ञान"]


@pytest.mark.parametrize("precomposed, letter", [(QA, "क"), (ZA, "ज"), (DDDHA, "ड")])
def test_precomposed_and_decomposed_nukta_letters_are_one_token(precomposed, letter):
    decomposed = letter + NUKTA
    for word_of in (lambda c: c + "लम", lambda c: "ज़िं" + c + "गी", lambda c: "ल" + c + "की"):
        one, other = tokens(word_of(precomposed)), tokens(word_of(decomposed))
        assert one == other and len(one) == 1
        assert one[0] == nfc(word_of(decomposed))
        assert roman_forms(one[0]) == roman_forms(nfc(word_of(precomposed)))


@pytest.mark.parametrize("danda", ["।", "॥"])
def test_the_danda_is_not_part_of_a_word(danda):
    assert tokens(f"मन उदास{danda}कल{danda}{danda}") == ["मन", "उदास", "कल"]
    assert tokens(f"उदासी{danda} ") == ["उदासी"]
    assert all(danda not in form for form in tokens(f"उदासी{danda}", roman_analyzer()))


def test_zero_width_joiners_stay_inside_the_word():
    """Marathi writes the eyelash ra as र + virama + ZWJ (दुसर्‍या); ZWNJ asks for a visible
    virama. Neither splits the word."""
    eyelash = "दुसर" + "्" + ZWJ + "या"
    explicit = "क्" + ZWNJ + "षण"
    assert tokens(f"{eyelash} {explicit}") == [eyelash, explicit]
    assert tokens(f"{eyelash}।") == [eyelash]
    # the shadow form ignores the joiners: they change the look, not the word
    assert roman_forms(eyelash) == roman_forms("दुसर्या")


@pytest.mark.parametrize(
    "text, query",
    [
        ("schools", "school"),
        ("school", "schools"),
        ("sleeping", "sleep"),
        ("sleep", "sleeping"),
        ("Sleeping", "SLEEP"),
        ("helped", "helping"),
    ],
)
def test_english_words_are_stemmed(text, query):
    assert tokens(text) == tokens(query)


@pytest.mark.parametrize("word", ["उदासी", "नींद", "कविता", "शाळेत", "झोपणे", "मुलांना"])
def test_devanagari_words_are_never_stemmed(word):
    assert tokens(word) == [word]


# --- the romanized shadow form ----------------------------------------------------------


@pytest.mark.parametrize(
    "word, forms",
    [
        ("उदासी", ["udasi"]),
        ("ख़ुशी", ["khusi"]),
        ("खुशी", ["khusi"]),
        ("माझ्या", ["majya"]),
        ("ज़िंदगी", ["jindagi", "jindgi"]),
        ("ज्ञान", ["gyan", "dnyan"]),
        ("समझना", ["samajna", "samjna", "samajana"]),
        ("लड़की", ["ladki", "ladaki"]),
        ("नींद", ["nind"]),
        ("टॅबलेट", ["tablet", "tabalet"]),
        ("स्वप्न", ["svapna", "svapn"]),
    ],
)
def test_roman_forms_of_devanagari_words(word, forms):
    assert list(roman_forms(nfc(word))) == forms
    assert fold(romanize(nfc(word)).replace("jn", "gy")) == forms[0]


def test_romanize_reads_as_people_type():
    """Before folding: nukta letters as typed (ज़ → z), final and medial schwas dropped."""
    assert romanize(nfc("ज़िंदगी")) == "zindagi"
    assert romanize("उदासी") == "udasi"
    assert romanize("समझना") == "samajhna"


@pytest.mark.parametrize(
    "typed, folded",
    [
        ("udaasi", "udasi"),
        ("udāsī", "udasi"),
        ("UDASEE", "udasi"),
        ("neend", "nind"),
        ("zindagi", "jindagi"),
        ("jindagi", "jindagi"),
        ("gyaan", "gyan"),
    ],
)
def test_latin_typing_is_folded(typed, folded):
    assert list(roman_forms(typed)) == [folded]


# --- the schema's analyzers on a bare index: both forms find each other ------------------


def ram_index(docs: dict[str, str]):
    ix = memory_index(make_schema())
    with ix.writer() as w:
        for doc_id, body in docs.items():
            w.add_document(id=doc_id, **{name: body for name in FIELDS})
    return ix


def found_in(ix, query_text: str) -> set[str]:
    with ix.searcher() as s:
        query = MultifieldParser(FIELDS, s.schema).parse(query_text)
        return {hit["id"] for hit in s.search(query, limit=None)}


@pytest.mark.parametrize("precomposed, letter", [(QA, "क"), (ZA, "ज"), (DDDHA, "ड")])
def test_raw_index_finds_nukta_words_either_way(precomposed, letter):
    """Without the NFC done by the operations: the analyzer alone makes them one."""
    raw_pre, raw_dec = f"{precomposed}ोर", f"{letter}{NUKTA}ोर"
    ix = ram_index({"pre": f"एक {raw_pre} दो", "dec": f"तीन {raw_dec} चार"})
    assert found_in(ix, raw_pre) == {"pre", "dec"}
    assert found_in(ix, raw_dec) == {"pre", "dec"}


# --- through the real search --------------------------------------------------------------

ANONYMOUS = AnonymousUserMixin()


@pytest.fixture
def publish(app, make_circle, make_account):
    """Contribute a public poem through the operations and commit (index applied after)."""
    circle = make_circle()
    author = make_account(circle=circle)
    contributor = item_ops.contributor_for(author)

    def share(
        body: str, title: str = "Untitled poem", language: str = "hi", now: bool = True
    ) -> str:
        draft = item_ops.Draft(kind="poem", title=title, body=body, language=language)
        result = item_ops.contribute(
            author, circle, contributor, draft, ConsentChoice(audience="public")
        )
        if now:
            commit()
        return result.item.public_id

    return share


def ids(text: str, viewer=ANONYMOUS) -> set[str]:
    return {hit.item.public_id for hit in search(viewer, text, per_page=50).hits}


def test_search_finds_whole_hindi_and_marathi_words(publish):
    hindi = publish("आज मन में उदासी है। कल फिर सुबह होगी॥")
    marathi = publish("माझ्या मनात श्रद्धा आणि क्षमा आहे", language="mr")
    assert ids("उदासी") == {hindi}
    assert ids("होगी") == {hindi}
    assert ids("श्रद्धा") == {marathi} and ids("क्षमा") == {marathi}
    assert ids("उद") == set()  # a fragment is not a word


@pytest.mark.parametrize(
    "typed_in_doc, typed_in_query",
    [
        (QA + "लम", "क" + NUKTA + "लम"),
        ("क" + NUKTA + "लम", QA + "लम"),
        (ZA + "िंदगी", "ज" + NUKTA + "िंदगी"),
        ("ज" + NUKTA + "िंदगी", ZA + "िंदगी"),
        ("ल" + DDDHA + "की", "ल" + "ड" + NUKTA + "की"),
        ("लड" + NUKTA + "की", "ल" + DDDHA + "की"),
    ],
)
def test_search_finds_nukta_words_typed_either_way(publish, typed_in_doc, typed_in_query):
    public_id = publish(f"यह {typed_in_doc} है")
    assert ids(typed_in_query) == {public_id}
    assert ids(typed_in_doc) == {public_id}


def test_search_stems_english_and_devanagari(publish):
    schools = publish("The schools were kind to him", language="en")
    sleeping = publish("Sleeping through the night again", language="en")
    assert ids("school") == {schools}
    assert ids("sleep") == {sleeping}
    assert ids("sleeps") == {sleeping}
    udasi = publish("उदासी")
    generous = publish("उदार")
    assert ids("उदास") == {udasi}  # the light stem, never उदार
    assert ids("उदासी") == {udasi}
    assert ids("उदार") == {generous}


def test_zero_width_joiner_words_are_found(publish):
    eyelash = "दुसर" + "्" + ZWJ + "या"
    public_id = publish(f"{eyelash} दिवशी")
    assert ids(eyelash) == {public_id}
    assert ids("दिवशी") == {public_id}


ROMANIZED = [
    ("udasi", ["उदासी"]),
    ("udaasi", ["उदासी"]),
    ("udāsī", ["उदासी"]),
    ("Udasi", ["उदासी"]),
    ("khushi", ["ख़ुशी", "खुशी"]),
    ("majhya", ["माझ्या"]),
    ("zindagi", ["ज़िंदगी"]),
    ("jindagi", ["ज़िंदगी"]),
    ("gyan", ["ज्ञान"]),
    ("gyaan", ["ज्ञान"]),
    ("samajhna", ["समझना"]),
    ("ladki", ["लड़की"]),
    ("neend", ["नींद"]),
    ("nind", ["नींद"]),
    ("tablet", ["टॅबलेट"]),
    ("kshama", ["क्षमा"]),
    ("shraddha", ["श्रद्धा"]),
]
WORDS = sorted({word for _query, words in ROMANIZED for word in words})


@pytest.fixture
def romanized_corpus(publish):
    """One public item per Devanagari word (ख़ुशी typed with the precomposed U+0959)."""
    by_word = {}
    for word in WORDS:
        typed = word.replace("ख" + NUKTA, "\u0959")
        by_word[word] = publish(f"एक {typed} की बात", title=f"कविता {len(by_word)}", now=False)
    commit()
    return by_word


@pytest.mark.parametrize("query, words", ROMANIZED, ids=[q for q, _w in ROMANIZED])
def test_romanized_queries_find_devanagari_originals(romanized_corpus, query, words):
    assert ids(query) == {romanized_corpus[word] for word in words}


#: common spellings people type that the shadow field does not (yet) match; strict, so an
#: analyzer that learns one of them turns this red and the list gets updated
NOT_MATCHED = [
    ("larki", "लड़की")  # ड़ typed as r
]

#: spellings the shadow field learned: sh as s, a Marathi झ as z, quickly typed words
#: without their inner schwas, the final schwa after a cluster, ज्ञ read as dny
LEARNED = [
    ("khusi", "ख़ुशी"),
    ("zindgi", "ज़िंदगी"),
    ("samjhna", "समझना"),
    ("dnyan", "ज्ञान"),
    ("mazya", "माझ्या"),
    ("aplya", "आपल्या"),
    ("swapna", "स्वप्न"),
    # English loanwords in Devanagari (doktar, phon), by the loanword table and stem keys
    ("doctor", "डॉक्टर"),
    ("phone", "फ़ोन"),
]


@pytest.mark.parametrize("query, word", LEARNED, ids=[q for q, _w in LEARNED])
def test_spellings_people_type_quickly(publish, query, word):
    public_id = publish(f"एक {word} की बात")
    assert ids(query) == {public_id}


@pytest.mark.xfail(strict=True, reason="known gap of the romanized shadow field")
@pytest.mark.parametrize("query, word", NOT_MATCHED, ids=[q for q, _w in NOT_MATCHED])
def test_spellings_not_matched_yet(publish, query, word):
    public_id = publish(f"एक {word} की बात")
    assert ids(query) == {public_id}
