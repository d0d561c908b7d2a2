"""Embed cards and oEmbed honour "may be quoted or embedded" (design.md, Surfaces): a card
while the author allows it, a "no longer shared" card the moment they narrow, switch it off or
take the piece back. Only embed cards may be framed by other sites."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import pytest

from archive import security
from tests.erasure_helpers import (
    CONTRIBUTOR_NAME,
    MARKER,
    PSEUDONYM,
    change_consent,
    text,
    withdraw_signed_in,
    world,  # noqa: F401  (fixture)
)
from tests.public_helpers import curate, offer

BASE = "http://localhost"
GONE = "No longer shared by its author"


@pytest.fixture
def pieces(world):
    me = world["contributor"]
    return {
        "poem": offer(
            me,
            world.home,
            title=f"{MARKER} quiet hour",
            body="When the house sleeps I *write* to my son. " * 10,
        ),
        "artwork": offer(
            me,
            world.home,
            title=f"{MARKER} kite",
            kind="artwork",
            attribution="pseudonym",
            pseudonym=PSEUDONYM,
        ),
        "anonymous": offer(
            me, world.home, title=f"{MARKER} unsigned", kind="story", attribution="anonymous"
        ),
        "no embeds": offer(me, world.home, title=f"{MARKER} not for blogs", embeds=False),
        "circle": offer(me, world.home, title=f"{MARKER} circle only", audience="circle"),
    }


def card(client, piece):
    response = client.get(f"/embed/items/{piece.public_id}")
    return response, html.unescape(text(response))


# --- the card ---------------------------------------------------------------------------------


def test_an_embeddable_piece_gets_a_small_self_contained_card(world, pieces):
    poem = pieces["poem"]
    response, page = card(world.viewers["anonymous"].client, poem)

    assert response.status_code == 200
    assert poem.title in page and "When the house sleeps I write to my son." in page
    assert f"by {CONTRIBUTOR_NAME}" in page
    assert f'href="{BASE}{poem.url}" target="_blank" rel="noopener"' in page
    assert re.search(r'<link rel="stylesheet" href="/static/embed\.css\?v=[0-9a-f]{12}">', page)
    raw = text(response)
    assert "<script" not in raw and "<style" not in raw and "style=" not in raw
    assert not re.search(r"\son\w+=", raw), "no event handlers"
    assert len(response.data) < 4000
    assert response.headers["Cache-Control"] == "no-cache"
    with world.viewers["anonymous"].client.get("/static/embed.css") as stylesheet:
        assert stylesheet.status_code == 200 and b"url(" not in stylesheet.data


def test_an_artwork_card_shows_the_thumbnail_and_the_pseudonym(world, pieces):
    artwork = pieces["artwork"]
    client = world.viewers["anonymous"].client
    response, page = card(client, artwork)

    ((asset, _derivatives),) = artwork.media.items()
    assert f'<img src="/media/{asset}/thumb"' in page
    assert f"by {PSEUDONYM}" in page and CONTRIBUTOR_NAME not in page
    assert client.get(f"/media/{asset}/thumb").status_code == 200


def test_an_anonymous_card_names_no_one(world, pieces):
    _response, page = card(world.viewers["anonymous"].client, pieces["anonymous"])
    assert "Shared anonymously" in page
    assert CONTRIBUTOR_NAME not in page and "Kavita" not in page


@pytest.mark.parametrize("which", ["no embeds", "circle"])
def test_a_piece_not_open_to_embedding_shows_the_no_longer_shared_card(world, pieces, which):
    response, page = card(world.viewers["anonymous"].client, pieces[which])
    assert response.status_code == 404, "answered as for an unknown piece"
    assert GONE in page and MARKER not in page


@pytest.mark.parametrize("change", [{"audience": "circle"}, {"embeds": False}])
def test_narrowing_or_switching_embeds_off_turns_the_card_at_the_next_view(world, pieces, change):
    poem = pieces["poem"]
    anonymous = world.viewers["anonymous"].client
    assert card(anonymous, poem)[0].status_code == 200 and MARKER in card(anonymous, poem)[1]

    assert change_consent(world.viewers["contributor"].client, poem, **change).status_code == 302

    response, page = card(anonymous, poem)
    assert response.status_code == 404 and GONE in page
    assert MARKER not in page and CONTRIBUTOR_NAME not in page
    assert response.headers["Cache-Control"] == "no-cache"


def test_a_withdrawn_piece_answers_410_with_the_card(world, pieces):
    poem = pieces["poem"]
    assert withdraw_signed_in(world.viewers["contributor"].client, poem).status_code == 200

    response, page = card(world.viewers["anonymous"].client, poem)
    assert response.status_code == 410
    assert GONE in page and "taken it back" in page and MARKER not in page


def test_an_unknown_piece_gets_the_same_card(world):
    response = world.viewers["anonymous"].client.get("/embed/items/nosuchpiece123")
    assert response.status_code == 404 and GONE in text(response)


# --- framing ----------------------------------------------------------------------------------


def csp(response) -> dict[str, str]:
    return dict(
        part.strip().split(" ", 1)
        for part in response.headers["Content-Security-Policy"].split(";")
    )


def test_only_embed_routes_may_be_framed(world, pieces):
    client = world.viewers["anonymous"].client
    poem = pieces["poem"]
    slug = curate(world["facilitator"], world.home, "open-kites", [poem])
    embed = client.get(f"/embed/items/{poem.public_id}")
    gone = client.get(f"/embed/items/{pieces['circle'].public_id}")
    others = [
        client.get(url)
        for url in (
            "/",
            poem.url,
            f"/oembed?url={BASE}{poem.url}",
            "/feeds/public.atom",
            "/sitemap.xml",
            f"/collections/{slug}",
            f"/collections/{slug}/pack.zip",
            "/no/such/page",
            f"/oembed?url={BASE}{poem.url}&format=xml",
        )
    ]

    for framed in (embed, gone):
        assert csp(framed)["frame-ancestors"] == "*"
        assert "X-Frame-Options" not in framed.headers
    for response in others:
        response.close()
        assert csp(response)["frame-ancestors"] == "'none'", response.request.path
        assert response.headers["X-Frame-Options"] == "DENY"
    other_csp = csp(others[1])
    assert {k: v for k, v in csp(embed).items() if k != "frame-ancestors"} == {
        k: v for k, v in other_csp.items() if k != "frame-ancestors"
    }
    assert set(embed.headers.keys()) | {"X-Frame-Options"} >= set(security.HEADERS)
    for name, value in security.HEADERS.items():
        if name != "X-Frame-Options":
            assert embed.headers[name] == value


def test_a_signed_in_contributor_still_gets_frameable_no_store_cards(world, pieces):
    response = world.viewers["contributor"].client.get(f"/embed/items/{pieces['poem'].public_id}")
    assert response.status_code == 200
    assert csp(response)["frame-ancestors"] == "*"
    assert response.headers["Cache-Control"] == "no-store"


# --- oEmbed -----------------------------------------------------------------------------------


def oembed(client, piece, **params):
    query = {"url": f"{BASE}{piece.url}", "format": "json", **params}
    return client.get("/oembed", query_string=query)


def test_oembed_describes_an_embeddable_piece(world, pieces):
    artwork = pieces["artwork"]
    response = oembed(world.viewers["anonymous"].client, artwork)

    assert response.status_code == 200 and response.mimetype == "application/json"
    answer = response.get_json()
    assert answer["version"] == "1.0" and answer["type"] == "rich"
    assert answer["title"] == artwork.title
    assert answer["provider_name"] == "Living Archive"
    assert answer["author_name"] == PSEUDONYM
    assert (answer["width"], answer["height"]) == (480, 330)
    assert answer["html"] == (
        f'<iframe src="{BASE}/embed/items/{artwork.public_id}" width="100%" height="330" '
        f'frameborder="0" title="{artwork.title}" loading="lazy"></iframe>'
    )
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    # the JPEG link preview as its thumbnail, served to anyone, within the size asked for
    ((asset, _derivatives),) = artwork.media.items()
    assert answer["thumbnail_url"] == f"{BASE}/media/{asset}/preview"
    assert answer["thumbnail_width"] <= 1200 and answer["thumbnail_height"] <= 1200
    client = world.viewers["anonymous"].client
    picture = client.get(answer["thumbnail_url"].removeprefix(BASE))
    assert picture.status_code == 200 and picture.mimetype == "image/jpeg"
    small = oembed(client, artwork, maxwidth=400).get_json()
    assert small["thumbnail_url"] == f"{BASE}/media/{asset}/thumb"
    assert small["thumbnail_width"] <= 400
    assert "thumbnail_url" not in oembed(client, pieces["poem"]).get_json()
    # a content note first: no preview could show it before the picture
    notes = change_consent(world.viewers["contributor"].client, artwork, content_notes=["grief"])
    assert notes.status_code == 302
    noted = oembed(client, artwork).get_json()
    assert noted["content_note"] and not {"thumbnail_url", "thumbnail_width"} & set(noted)


def test_oembed_keeps_within_the_size_asked_for(world, pieces):
    answer = oembed(
        world.viewers["anonymous"].client, pieces["poem"], maxwidth=320, maxheight=200
    ).get_json()
    assert (answer["width"], answer["height"]) == (320, 200)
    assert 'width="100%" height="200"' in answer["html"]


def test_oembed_names_no_anonymous_author(world, pieces):
    answer = oembed(world.viewers["anonymous"].client, pieces["anonymous"]).get_json()
    assert "author_name" not in answer
    assert CONTRIBUTOR_NAME not in str(answer)


def test_oembed_answers_only_for_embeddable_pieces_of_this_site(world, pieces):
    client = world.viewers["anonymous"].client
    for which in ("no embeds", "circle"):
        assert oembed(client, pieces[which]).status_code == 404
    assert (
        client.get(
            "/oembed", query_string={"url": f"https://elsewhere.example{pieces['poem'].url}"}
        ).status_code
        == 404
    )
    assert client.get("/oembed", query_string={"url": f"{BASE}/tags/nadi"}).status_code == 404
    assert client.get("/oembed").status_code == 404
    assert oembed(client, pieces["poem"], format="xml").status_code == 501
    embed_url = f"{BASE}/embed/items/{pieces['poem'].public_id}"
    assert client.get("/oembed", query_string={"url": embed_url}).status_code == 200


def test_oembed_stops_at_once_after_narrowing_or_withdrawal(world, pieces):
    anonymous = world.viewers["anonymous"].client
    contributor = world.viewers["contributor"].client
    assert change_consent(contributor, pieces["poem"], embeds=False).status_code == 302
    assert withdraw_signed_in(contributor, pieces["artwork"]).status_code == 200

    assert oembed(anonymous, pieces["poem"]).status_code == 404
    assert oembed(anonymous, pieces["artwork"]).status_code == 404


# --- on the item page -------------------------------------------------------------------------

DISCOVERY = re.compile(r'<link rel="alternate" type="application/json\+oembed" href="([^"]+)"')


def test_embeddable_item_pages_offer_discovery_and_a_snippet(world, pieces):
    client = world.viewers["anonymous"].client
    page = text(client.get(pieces["poem"].url))

    href = html.unescape(DISCOVERY.search(page).group(1))
    assert f"url={quote(BASE + pieces['poem'].url, safe='')}&" in href, "percent-encoded"
    assert client.get(href.removeprefix(BASE)).status_code == 200
    snippet = html.unescape(
        page.split('<textarea id="embed-snippet" readonly rows="3">')[1].split("</textarea>")[0]
    )
    assert snippet == oembed(client, pieces["poem"]).get_json()["html"]
    assert "Embed on your website" in page


@pytest.mark.parametrize("which, who", [("no embeds", "anonymous"), ("circle", "member")])
def test_pages_of_pieces_that_may_not_be_embedded_offer_neither(world, pieces, which, who):
    page = text(world.viewers[who].client.get(pieces[which].url))
    assert "json+oembed" not in page and "embed-snippet" not in page
