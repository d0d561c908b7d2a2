"""Content notes and "quote or show on other websites" on every surface (design.md, "INVARIANT:
one access rule", last paragraph).

Where a reader cannot open a note first (Atom feeds, Open Graph and the meta description,
oEmbed), a noted piece shows its title, its notes and a link; a piece whose author did not
allow quoting shows its title and a link: never the words or the picture of either. Where a
click-through is possible (search results, lists, collections, the reading view, share links,
embeds, offline packs), the words and pictures of a noted piece wait behind a closed
``<details>`` that names its notes. An embed of a piece not shared there answers exactly like
one of a piece that never existed.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from datetime import timedelta
from xml.etree.ElementTree import tostring

import pytest

from archive import access
from archive.db import commit
from tests.erasure_helpers import (
    DEVANAGARI_MARKER,
    change_consent,
    text,
    withdraw_signed_in,
    world,  # noqa: F401  (fixture)
)
from tests.items_helpers import main_html
from tests.public_helpers import ATOM, atom, curate, offer, open_graph, share_link

pytestmark = pytest.mark.both_databases

BASE = "http://localhost"
#: words that occur only in the body (or alt text) of one piece each
NOTED_WORDS = f"{DEVANAGARI_MARKER} आज मन में उदासी है"
NOTED_ART_WORDS = "zqxpaintedpain"
QUIET_WORDS = "zqxquietwords"
QUIET_ART_WORDS = "zqxquietpicture"
OPEN_WORDS = "zqxopenwords"
GRIEF = "Content note: this piece speaks of grief and loss."
SELF_HARM = "Content note: this piece speaks of self-harm."
NOTE_BLOCK = re.compile(r'<details class="content-note">.*?</details>', re.S)
DESCRIPTION = re.compile(r'<meta name="description" content="([^"]*)">')


@pytest.fixture
def shelf(world):
    """Five public pieces, all allowing collections and packs, in a public collection:
    a Hindi poem with a content note, an artwork with one, a poem and an artwork whose
    author did not allow quoting, and an open poem (no note, quoting allowed)."""
    me = world["contributor"]
    pieces = {
        "noted": offer(
            me,
            world.home,
            title="शाम की बात",
            language="hi",
            body=f"{NOTED_WORDS}\n\nकल फिर सुबह होगी",
            content_notes=("grief",),
        ),
        "noted art": offer(
            me,
            world.home,
            title="Red window",
            kind="artwork",
            body=f"{NOTED_ART_WORDS} in the session",
            alt_text=f"{NOTED_ART_WORDS} in red",
            content_notes=("self-harm",),
        ),
        "quiet": offer(
            me, world.home, title="Kept at home", embeds=False, body=f"{QUIET_WORDS} that stay here"
        ),
        "quiet art": offer(
            me,
            world.home,
            title="Kept picture",
            kind="artwork",
            embeds=False,
            body=f"{QUIET_ART_WORDS} in the session",
            alt_text=f"{QUIET_ART_WORDS} in blue",
        ),
        "open": offer(me, world.home, title="Open road", body=f"{OPEN_WORDS} for everyone"),
    }
    curate(world["facilitator"], world.home, "evenings", list(pieces.values()))
    return pieces


def get(viewer, url: str, **kwargs) -> str:
    response = viewer.client.get(url, **kwargs)
    assert response.status_code == 200, (url, response.status_code)
    return text(response)


def outside_notes(page: str) -> str:
    return NOTE_BLOCK.sub("", page)


def inside_notes(page: str) -> str:
    return "\n".join(NOTE_BLOCK.findall(page))


def kept_behind_note(page: str, words: str, note: str) -> None:
    """The words are on the page, only inside a closed note that names what it speaks of."""
    assert words in inside_notes(page), "the words are not there to open"
    assert words not in outside_notes(page), "the words show outside the note"
    assert '<details class="content-note" open' not in page
    assert f"<summary>{note}" in inside_notes(page)


def picture_kept_behind_note(page: str, piece) -> None:
    ((asset, _derivatives),) = piece.media.items()
    assert asset in inside_notes(page) and asset not in outside_notes(page)


def never_shown(page: str, piece, *words: str) -> None:
    for word in words:
        assert word not in page, word
    for asset in piece.media:
        assert asset not in page, "its picture is shown"


# --- the rule itself --------------------------------------------------------------------------


@pytest.mark.any_database
def test_the_rule_is_in_access_and_reaches_templates_as_two_answers(app, world, shelf):
    item = {name: piece.item() for name, piece in shelf.items()}
    assert [access.may_republish(item[n]) for n in shelf] == [False, False, False, False, True]
    assert access.noted(item["noted"]) == ["grief"]
    assert access.noted(item["open"]) == [] and access.noted(None) == []
    assert not access.may_republish(None)
    assert "may_republish" not in app.jinja_env.globals  # the item page is told by its view
    assert app.jinja_env.globals["noted"] is access.noted
    assert access not in app.jinja_env.globals.values()


def test_a_passed_review_date_or_a_narrowing_stops_republishing(world, shelf):
    item = shelf["open"].item()
    item.consent.review_by = access.today() - timedelta(days=1)
    commit()
    assert not access.may_republish(shelf["open"].item())
    assert (
        change_consent(
            world.viewers["contributor"].client, shelf["noted"], audience="circle"
        ).status_code
        == 302
    )
    assert not access.may_republish(shelf["noted"].item())


# --- where no note can be opened first: feeds -------------------------------------------------


def entries(response) -> dict[str, str]:
    """Each entry of a feed, whole, by title."""
    return {
        entry.findtext(f"{ATOM}title"): html.unescape(tostring(entry, encoding="unicode"))
        for entry in atom(response).iter(f"{ATOM}entry")
    }


@pytest.mark.any_database
@pytest.mark.parametrize("url", ["/feeds/public.atom", "/collections/evenings/feed.atom"])
def test_feeds_give_noted_pieces_only_title_notes_and_link(world, shelf, url):
    found = entries(world.viewers["anonymous"].client.get(url))

    for name, note, words in (
        ("noted", GRIEF, NOTED_WORDS),
        ("noted art", SELF_HARM, NOTED_ART_WORDS),
    ):
        piece = shelf[name]
        entry = found[piece.title]
        assert note in entry
        assert f'<a href="{BASE}{piece.url}">' in entry
        never_shown(entry, piece, words, DEVANAGARI_MARKER, "उदासी", "<img")


@pytest.mark.any_database
@pytest.mark.parametrize("url", ["/feeds/public.atom", "/collections/evenings/feed.atom"])
def test_feeds_give_pieces_not_to_be_quoted_only_title_and_link(world, shelf, url):
    response = world.viewers["anonymous"].client.get(url)
    found = entries(response)

    for name, words in (("quiet", QUIET_WORDS), ("quiet art", QUIET_ART_WORDS)):
        piece = shelf[name]
        entry = found[piece.title]
        assert f'<a href="{BASE}{piece.url}">' in entry
        assert "Content note" not in entry
        never_shown(entry, piece, words, "<img")
    raw = html.unescape(text(response))
    for words in (NOTED_WORDS, NOTED_ART_WORDS, QUIET_WORDS, QUIET_ART_WORDS):
        assert words not in raw


@pytest.mark.any_database
@pytest.mark.parametrize("url", ["/feeds/public.atom", "/collections/evenings/feed.atom"])
def test_feeds_still_carry_the_words_of_open_pieces(world, shelf, url):
    art = offer(world["contributor"], world.home, title="Open painting", kind="artwork")
    found = entries(world.viewers["anonymous"].client.get(url))

    assert f"<p>{OPEN_WORDS} for everyone</p>" in found[shelf["open"].title]
    if url == "/feeds/public.atom":
        ((asset, _derivatives),) = art.media.items()
        assert f'<img src="{BASE}/media/{asset}/display"' in found["Open painting"]


@pytest.mark.any_database
def test_the_feed_names_notes_in_the_readers_language(world, shelf):
    found = entries(
        world.viewers["anonymous"].client.get(
            "/feeds/public.atom", headers={"Accept-Language": "hi"}
        )
    )
    entry = found[shelf["noted"].title]

    assert "ध्यान दें: इस रचना में दुख और बिछड़ने की बात है।" in entry
    assert "जीवंत अभिलेख पर पढ़ें" in entry
    assert "उदासी" not in entry and DEVANAGARI_MARKER not in entry


# --- previews: Open Graph, the meta description, oEmbed ---------------------------------------


def description(page: str) -> str:
    found = DESCRIPTION.findall(page)
    assert len(found) == 1, found
    return html.unescape(found[0])


@pytest.mark.any_database
@pytest.mark.parametrize(
    "name, note, words",
    [("noted", "grief and loss", NOTED_WORDS), ("noted art", "self-harm", NOTED_ART_WORDS)],
)
def test_previews_of_noted_pieces_show_the_note_never_words_or_picture(
    world, shelf, name, note, words
):
    piece = shelf[name]
    page = get(world.viewers["anonymous"], piece.url)
    tags = {key: html.unescape(value) for key, value in open_graph(page).items()}

    assert tags["og:title"] == piece.title
    assert note in tags["og:description"] and note in description(page)
    preview = "\n".join(tags.values()) + description(page)
    never_shown(preview, piece, words, "उदासी")
    assert not any(key.startswith("og:image") for key in tags)
    assert tags["twitter:card"] == "summary"


@pytest.mark.any_database
@pytest.mark.parametrize("name, words", [("quiet", QUIET_WORDS), ("quiet art", QUIET_ART_WORDS)])
def test_previews_of_pieces_not_to_be_quoted_give_only_title_and_link(world, shelf, name, words):
    piece = shelf[name]
    page = get(world.viewers["anonymous"], piece.url)
    tags = {key: html.unescape(value) for key, value in open_graph(page).items()}

    assert tags["og:title"] == piece.title and tags["og:url"] == BASE + piece.url
    assert "og:description" not in tags
    assert not any(key.startswith("og:image") for key in tags)
    never_shown("\n".join(tags.values()) + description(page), piece, words)
    assert words in page, "its own page still shows it"


@pytest.mark.any_database
def test_previews_of_open_pieces_still_quote_them(world, shelf):
    page = get(world.viewers["anonymous"], shelf["open"].url)
    assert OPEN_WORDS in open_graph(page)["og:description"]
    assert OPEN_WORDS in description(page)


def oembed(client, url: str):
    return client.get("/oembed", query_string={"url": f"{BASE}{url}", "format": "json"})


@pytest.mark.any_database
def test_oembed_of_a_noted_piece_gives_title_notes_and_the_card_only(world, shelf):
    client = world.viewers["anonymous"].client
    for name, note, words in (
        ("noted", GRIEF, NOTED_WORDS),
        ("noted art", SELF_HARM, NOTED_ART_WORDS),
    ):
        piece = shelf[name]
        response = oembed(client, piece.url)
        assert response.status_code == 200
        answer = response.get_json()
        assert answer["title"] == piece.title and answer["content_note"] == note
        assert f'src="{BASE}/embed/items/{piece.public_id}"' in answer["html"]
        assert "thumbnail_url" not in answer
        never_shown(response.get_data(as_text=True), piece, words, "उदासी")


@pytest.mark.any_database
def test_oembed_refuses_alike_what_may_not_be_quoted_hidden_or_unknown(world, shelf):
    me, client = world["contributor"], world.viewers["anonymous"].client
    hidden = [
        offer(me, world.home, title="Circle poem", audience="circle").url,
        offer(me, world.home, title="Private poem", audience="private").url,
        shelf["quiet"].url,
        shelf["quiet art"].url,
    ]
    answers = [oembed(client, url) for url in hidden + ["/items/nosuchpiece123"]]
    assert {answer.status_code for answer in answers} == {404}
    assert len({main_html(text(answer)) for answer in answers}) == 1, "the same error page"


# --- where the reader can click through: the words wait behind the note -----------------------


def search_page(viewer, words: str, **kwargs) -> str:
    """The list of results (the page also repeats the words looked for)."""
    page = get(viewer, "/search", query_string={"q": words}, **kwargs)
    return page[page.index('<ol class="results">') : page.index("</ol>")]


def test_search_snippets_of_noted_pieces_wait_behind_the_note(world, shelf):
    anonymous = world.viewers["anonymous"]

    page = search_page(anonymous, DEVANAGARI_MARKER)
    assert shelf["noted"].title in page
    kept_behind_note(page, DEVANAGARI_MARKER, GRIEF)
    assert "<mark>" in inside_notes(page)
    kept_behind_note(search_page(anonymous, "udasi"), "मन में", GRIEF)
    kept_behind_note(search_page(anonymous, NOTED_ART_WORDS), NOTED_ART_WORDS, SELF_HARM)
    hindi = search_page(anonymous, DEVANAGARI_MARKER, headers={"Accept-Language": "hi"})
    kept_behind_note(hindi, DEVANAGARI_MARKER, "ध्यान दें: इस रचना में दुख और बिछड़ने की बात है।")


@pytest.mark.any_database
def test_search_snippets_of_pieces_without_notes_show_as_before(world, shelf):
    anonymous = world.viewers["anonymous"]
    for words in (OPEN_WORDS, QUIET_WORDS):
        page = search_page(anonymous, words)
        assert "content-note" not in page
        assert f'<p class="snippet" lang="en"><mark>{words}</mark>' in page


@pytest.mark.any_database
@pytest.mark.parametrize(
    "who, url",
    [
        ("anonymous", "/"),
        ("member", "/"),
        ("anonymous", "/tags/nadi"),
        ("member", "/circles/kshetra"),
        ("anonymous", "/collections/evenings"),
    ],
)
def test_lists_name_a_pieces_notes_and_never_show_its_words_outside_them(world, shelf, who, url):
    page = get(world.viewers[who], url)

    for name, note, words in (
        ("noted", GRIEF, NOTED_WORDS),
        ("noted art", SELF_HARM, NOTED_ART_WORDS),
    ):
        piece = shelf[name]
        assert piece.title in page and note in page
        never_shown(outside_notes(page), piece, words, DEVANAGARI_MARKER)
    assert page.count("Content note:") == 2, "pieces without notes carry none"


@pytest.mark.any_database
@pytest.mark.parametrize("where", ["reading view", "share link"])
def test_collections_read_as_one_keep_noted_words_and_pictures_behind_the_note(world, shelf, where):
    url = (
        "/collections/evenings/read"
        if where == "reading view"
        else share_link(world["facilitator"], "evenings")
    )
    page = get(world.viewers["anonymous"], url)

    kept_behind_note(page, DEVANAGARI_MARKER, GRIEF)
    kept_behind_note(page, NOTED_ART_WORDS, SELF_HARM)
    picture_kept_behind_note(page, shelf["noted art"])
    assert OPEN_WORDS in outside_notes(page) and QUIET_WORDS in outside_notes(page)
    assert page.count('<details class="content-note">') == 2


@pytest.mark.any_database
def test_embed_cards_keep_noted_words_and_pictures_behind_the_note(world, shelf):
    client = world.viewers["anonymous"].client

    poem = client.get(f"/embed/items/{shelf['noted'].public_id}")
    assert poem.status_code == 200
    kept_behind_note(text(poem), DEVANAGARI_MARKER, GRIEF)
    art = client.get(f"/embed/items/{shelf['noted art'].public_id}")
    assert art.status_code == 200
    picture_kept_behind_note(text(art), shelf["noted art"])
    assert f"<summary>{SELF_HARM}" in text(art)
    assert 'loading="lazy"' in inside_notes(text(art)), "not fetched until opened"
    opened = client.get(f"/embed/items/{shelf['open'].public_id}")
    assert OPEN_WORDS in outside_notes(text(opened)) and "<details" not in text(opened)
    assert "<script" not in text(poem) + text(art) and len(art.data) < 4000


def pack_pages(client, slug: str = "evenings") -> dict[str, str]:
    with client.get(f"/collections/{slug}/pack.zip") as response:
        response.direct_passthrough = False
        assert response.status_code == 200
        data = response.get_data()
    with zipfile.ZipFile(io.BytesIO(data)) as pack:
        return {
            name: pack.read(name).decode() for name in pack.namelist() if name.endswith(".html")
        }


@pytest.mark.any_database
def test_an_offline_pack_keeps_noted_words_pictures_and_thumbnails_behind_the_note(world, shelf):
    pages = pack_pages(world.viewers["anonymous"].client)
    index = pages["index.html"]

    kept_behind_note(pages["pieces/1.html"], DEVANAGARI_MARKER, GRIEF)
    kept_behind_note(pages["pieces/2.html"], NOTED_ART_WORDS, SELF_HARM)
    assert "images/2.webp" in inside_notes(pages["pieces/2.html"])
    assert "images/2.webp" not in outside_notes(pages["pieces/2.html"])
    assert "images/2-thumb.webp" in inside_notes(index)
    assert "images/2-thumb.webp" not in outside_notes(index)
    assert "images/4-thumb.webp" in outside_notes(index), "an open thumbnail shows as before"
    assert f"<summary>{SELF_HARM}" in inside_notes(index) and GRIEF in index
    assert OPEN_WORDS in outside_notes(pages["pieces/5.html"])


# --- an embed of a hidden piece answers like one that never existed ---------------------------


def answer(client, public_id: str) -> tuple[int, bytes, dict]:
    response = client.get(f"/embed/items/{public_id}")
    return response.status_code, response.data, dict(response.headers)


@pytest.mark.any_database
def test_embeds_of_hidden_and_unknown_pieces_answer_identically(world, shelf):
    me = world["contributor"]
    hidden = [
        offer(me, world.home, title="zqxcircle poem", audience="circle"),
        offer(me, world.home, title="zqxprivate poem", audience="private"),
        shelf["quiet"],
        shelf["quiet art"],
    ]
    for who in ("anonymous", "member", "contributor"):
        client = world.viewers[who].client
        unknown = answer(client, "nosuchpiece123")
        assert unknown[0] == 404
        for piece in hidden:
            assert answer(client, piece.public_id) == unknown, (who, piece.title)
        assert b"zqx" not in unknown[1] and b"Kept" not in unknown[1]


@pytest.mark.any_database
def test_an_embed_of_a_withdrawn_piece_still_says_it_was_taken_back(world, shelf):
    client = world.viewers["anonymous"].client
    assert withdraw_signed_in(world.viewers["contributor"].client, shelf["open"]).status_code == 200

    status, body, _headers = answer(client, shelf["open"].public_id)
    assert status == 410 and "taken it back" in body.decode()
    assert body != answer(client, "nosuchpiece123")[1]


@pytest.mark.any_database
def test_a_noted_pieces_diff_waits_behind_its_note_and_the_api_search_names_the_notes(world, shelf):
    from tests.erasure_helpers import revise

    piece = revise(world["contributor"], shelf["noted"], body=f"{NOTED_WORDS}\n\nपरसों भी सुबह होगी")
    page = get(world.viewers["anonymous"], f"{piece.url}/diff?from=1&to=2")
    assert "परसों" in inside_notes(page) and "परसों" not in outside_notes(page)
    found = world.viewers["anonymous"].client.get("/api/v1/search?q=nadi").get_json()
    notes = {hit["title"]: hit["content_notes"] for hit in found["results"]}
    assert notes["शाम की बात"] == ["grief"] and notes["Open road"] == []
