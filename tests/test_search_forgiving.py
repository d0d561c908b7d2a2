"""The ways search reaches past the words typed — stems, words one letter away, the start
of a word, "did you mean" — and the access rule on each: a piece the viewer may not see,
holding the only word that matches, is never found, counted or suggested; its author finds
it the same way. Also the order (the words themselves first) and the marks in snippets."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from tests.test_search import assert_nothing, look, share, world  # noqa: F401 — fixture

OTHERS = ("member", "facilitator", "stranger", "anonymous")


def hidden(world, body: str):
    """A private piece of the author's, holding ``body``."""
    return share(world["author"], world.home, title="Mera apna", body=body, audience="private")


def suggestions(found) -> list[str]:
    block = re.search(r'<p class="suggestions">(.*?)</p>', found.main, re.S)
    return (
        [
            html_lib.unescape(text)
            for text in re.findall(r'<a href="[^"]*"[^>]*>(.*?)</a>', block.group(1))
        ]
        if block
        else []
    )


@pytest.mark.parametrize(
    "body, query",
    [
        ("आज गुप्तकथाएँ लिखीं", "गुप्तकथा"),  # the stem
        ("zqxkhidkiyaan wali raat", "zqxkhidkiyan"),  # a chat spelling's stem key
        ("zqxlehrein aati hain", "zqxlehrien"),  # one letter away
        ("zqxsamandar ke paas", "zqxsaman"),  # the start of a word
    ],
)
def test_a_hidden_piece_is_not_reached_by_a_looser_match(world, body, query):
    secret = hidden(world, body)
    mine = look(world.viewers["author"], query)
    assert mine.ids == [secret.public_id]
    word = body.split()[0]
    assert "<mark>" in mine.snippets[secret.public_id]
    for who in OTHERS:
        found = look(world.viewers[who], query)
        assert_nothing(found, word, secret.public_id)
        assert suggestions(found) == []


def test_did_you_mean_offers_only_words_the_viewer_may_see(world):
    visible = share(world["author"], world.home, title="Pahad", body="zqxpahadiya ki dhoop")
    secret = hidden(world, "zqxpahadiyo ka raaz")
    query = "zqxpahadxyz"  # two letters from both
    for who in OTHERS:
        found = look(world.viewers[who], query)
        assert_nothing(found, "zqxpahadiyo", secret.public_id)
        assert suggestions(found) == ["zqxpahadiya"]
        link = re.search(r'<p class="suggestions">.*?<a href="([^"]+)"', found.main, re.S)
        assert look(world.viewers[who], "zqxpahadiya").ids == [visible.public_id]
        assert "q=zqxpahadiya" in html_lib.unescape(link.group(1))
    assert sorted(suggestions(look(world.viewers["author"], query))) == [
        "zqxpahadiya",
        "zqxpahadiyo",
    ]


def test_did_you_mean_is_said_in_hindi_and_marathi(world):
    share(world["author"], world.home, title="Pahad", body="zqxpahadiya ki dhoop")
    client = world.viewers["anonymous"].client
    for lang, words in (("hi", "क्या आप यह ढूँढ रहे थे:"), ("mr", "तुम्हाला हे शोधायचं होतं का:")):
        page = client.get(
            "/search", query_string={"q": "zqxpahadxyz"}, headers={"Accept-Language": lang}
        ).get_data(as_text=True)
        assert words in page, lang


def test_the_words_themselves_rank_before_their_stems_and_slips(world):
    author = world["author"]
    stem_only = share(author, world.home, title="Ek", body="दरियाओं के किनारे")
    exact = share(author, world.home, title="Do", body="दरिया के किनारे")
    assert look(world.viewers["anonymous"], "दरिया").ids == [exact.public_id, stem_only.public_id]
    near = share(author, world.home, title="Teen", body="muskurahat bani rahe")
    slip = look(world.viewers["anonymous"], "muskurahta")
    assert slip.ids == [near.public_id]
    assert "<mark>muskurahat</mark>" in slip.snippets[near.public_id]


def test_snippets_mark_stemmed_and_romanized_matches(world):
    author = world["author"]
    marathi = share(
        author, world.home, title="Shala", language="mr", body="शाळेतून घरी आल्यावर ती शांत असते"
    )
    roman = share(author, world.home, title="Din", language="hi", body="aaj bahut udaas hoon")
    found = look(world.viewers["anonymous"], "शाळा")
    assert found.ids == [marathi.public_id]
    assert "<mark>शाळेतून</mark>" in found.snippets[marathi.public_id]
    found = look(world.viewers["anonymous"], "उदासी")
    assert found.ids == [roman.public_id]
    assert "<mark>udaas</mark>" in found.snippets[roman.public_id]


def test_one_apart_agrees_with_the_edit_distance():
    import random

    from archive.search.suggest import distance, one_apart

    rng = random.Random(5)
    for _ in range(5000):
        a, b = ("".join(rng.choice("abउ") for _ in range(rng.randint(0, 5))) for _ in "ab")
        assert one_apart(a, b) == (a != b and distance(a, b, 1) == 1), (a, b)
