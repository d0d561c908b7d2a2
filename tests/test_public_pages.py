"""What the world sees of public pieces, and nothing more: Open Graph tags, the share box,
Atom feeds and the sitemap (design.md, "INVARIANT: one access rule"; the Surfaces list).

A public piece shows on all of them; a circle or private piece, a draft or circle collection,
a share link and an old version never do; a withdrawal or a narrowing takes a piece off at
once; an anonymous author is never named.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlsplit
from xml.etree.ElementTree import fromstring, tostring

import pytest

from tests.erasure_helpers import (
    CONTRIBUTOR_NAME,
    MARKER,
    PSEUDONYM,
    Piece,
    change_consent,
    revise,
    text,
    withdraw_signed_in,
    world,  # noqa: F401  (fixture)
)
from tests.public_helpers import (
    ATOM,
    SITEMAP,
    atom,
    curate,
    entry_titles,
    offer,
    open_graph,
    share_link,
)

BASE = "http://localhost"


@pytest.fixture
def shelf(world):
    """A public poem (two versions), a public artwork, an anonymous public story, and a
    circle piece and a private piece; a public, a circle and a draft collection."""
    me = world["contributor"]
    poem = offer(
        me,
        world.home,
        title=f"{MARKER} river song",
        body="The river *remembers* every stone. " * 12,
    )
    poem = revise(me, poem, body=f"Second version of the {MARKER} song. " * 8)
    pieces = {
        "poem": poem,
        "artwork": offer(
            me,
            world.home,
            title=f"{MARKER} mural",
            kind="artwork",
            body="Painted in the Tuesday session.",
        ),
        "anonymous": offer(
            me, world.home, title=f"{MARKER} unsigned story", kind="story", attribution="anonymous"
        ),
        "pseudonym": offer(
            me,
            world.home,
            title=f"{MARKER} signed lamp",
            kind="story",
            attribution="pseudonym",
            pseudonym=PSEUDONYM,
        ),
        "circle": offer(me, world.home, title="zqxcircleonly piece", audience="circle"),
        "private": offer(me, world.home, title="zqxprivateonly piece", audience="private"),
    }
    curator = world["facilitator"]
    curate(
        curator, world.home, "open-river", [pieces["poem"], pieces["artwork"], pieces["anonymous"]]
    )
    curate(
        curator,
        world.home,
        "inner-river",
        [pieces["circle"]],
        state="circle",
        title="zqxinnercollection",
    )
    curate(
        curator,
        world.home,
        "draft-river",
        [pieces["poem"]],
        state="draft",
        title="zqxdraftcollection",
    )
    return pieces


def page(viewer, url: str) -> str:
    response = viewer.client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return text(response)


# --- Open Graph -------------------------------------------------------------------------------


def test_a_public_poem_has_open_graph_tags_without_an_image(world, shelf):
    poem: Piece = shelf["poem"]
    tags = open_graph(page(world.viewers["anonymous"], poem.url))

    assert html.unescape(tags["og:title"]) == poem.title
    assert tags["og:type"] == "article"
    assert tags["og:url"] == BASE + poem.url
    assert tags["og:locale"] == "en_IN"
    assert tags["twitter:card"] == "summary"
    description = html.unescape(tags["og:description"])
    assert description.startswith(f"Second version of the {MARKER} song.")
    assert "*" not in description and "<" not in description
    assert 100 <= len(description) <= 161
    assert not any(name.startswith("og:image") for name in tags)


def test_public_artwork_offers_its_largest_derivative_as_the_image(world, shelf):
    artwork: Piece = shelf["artwork"]
    anonymous = world.viewers["anonymous"]
    tags = open_graph(page(anonymous, artwork.url))

    assert tags["twitter:card"] == "summary_large_image"
    ((asset, derivatives),) = artwork.media.items()
    assert tags["og:image"] == f"{BASE}/media/{asset}/display"
    assert (tags["og:image:width"], tags["og:image:height"]) == (
        str(derivatives["display"]["width"]),
        str(derivatives["display"]["height"]),
    )
    image = anonymous.client.get(tags["og:image"].removeprefix(BASE))
    assert image.status_code == 200 and image.mimetype == "image/webp"


def test_a_content_note_keeps_words_and_picture_out_of_the_preview(world):
    artwork = offer(
        world["contributor"],
        world.home,
        title="Heavy days",
        kind="artwork",
        body=f"{MARKER} what the days were like",
        content_notes=("grief",),
    )
    tags = open_graph(page(world.viewers["anonymous"], artwork.url))

    assert "grief" in tags["og:description"].lower()
    assert MARKER not in tags["og:description"]
    assert "og:image" not in tags and tags["twitter:card"] == "summary"


@pytest.mark.parametrize(
    "who, which", [("member", "circle"), ("contributor", "circle"), ("contributor", "private")]
)
def test_no_open_graph_on_pieces_that_are_not_public(world, shelf, who, which):
    assert open_graph(page(world.viewers[who], shelf[which].url)) == {}


def test_no_open_graph_on_old_versions_share_links_or_unpublished_collections(world, shelf):
    poem: Piece = shelf["poem"]
    contributor, curator = world.viewers["contributor"], world.viewers["facilitator"]
    assert open_graph(page(contributor, f"{poem.url}/versions/1")) == {}
    assert open_graph(page(curator, "/collections/draft-river")) == {}
    assert open_graph(page(curator, "/collections/inner-river")) == {}
    for slug in ("open-river", "inner-river"):
        link = share_link(world["facilitator"], slug)
        assert open_graph(page(world.viewers["anonymous"], link)) == {}


def test_a_public_collection_has_open_graph_tags(world, shelf):
    tags = open_graph(page(world.viewers["anonymous"], "/collections/open-river"))
    assert tags["og:type"] == "website"
    assert tags["og:title"] == "Songs of the river"
    assert tags["og:url"] == BASE + "/collections/open-river"
    assert tags["og:description"] == "What our circle knows about rivers."


def test_narrowing_removes_the_open_graph_tags_at_once(world, shelf):
    poem = shelf["poem"]
    assert (
        change_consent(world.viewers["contributor"].client, poem, audience="circle").status_code
        == 302
    )
    assert open_graph(page(world.viewers["member"], poem.url)) == {}


# --- sharing ----------------------------------------------------------------------------------


def test_a_public_piece_can_be_shared_without_script_or_third_party_requests(world, shelf):
    poem = shelf["poem"]
    body = page(world.viewers["anonymous"], poem.url)

    assert '<label for="share-url">' in body
    assert f'<input id="share-url" type="text" readonly value="{BASE}{poem.url}">' in body
    link = html.unescape(body.split('class="whatsapp" href="')[1].split('"')[0])
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "wa.me", "/")
    assert parse_qs(parts.query)["text"] == [f"{poem.title} {BASE}{poem.url}"]
    assert "<script" not in body
    assert body.count("https://") == body.count("https://wa.me/"), "no other outside address"
    assert 'src="http' not in body


def test_the_share_box_is_only_on_public_pieces_and_collections(world, shelf):
    assert "share-url" not in page(world.viewers["member"], shelf["circle"].url)
    assert "share-url" not in page(world.viewers["contributor"], shelf["private"].url)
    assert "share-url" not in page(world.viewers["facilitator"], "/collections/inner-river")
    assert "share-url" in page(world.viewers["anonymous"], "/collections/open-river")


# --- Atom feeds -------------------------------------------------------------------------------


def test_the_site_feed_is_well_formed_and_holds_only_public_pieces(world, shelf):
    feed = atom(world.viewers["anonymous"].client.get("/feeds/public.atom"))

    public = {shelf[name].title for name in ("poem", "artwork", "anonymous", "pseudonym")}
    assert set(entry_titles(feed)) == public
    assert feed.findtext(f"{ATOM}author/{ATOM}name") == "Living Archive"
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == BASE + "/feeds/public.atom"
    raw = world.viewers["anonymous"].client.get("/feeds/public.atom").get_data(as_text=True)
    assert "zqxcircleonly" not in raw and "zqxprivateonly" not in raw


def test_feed_entries_carry_the_current_version_as_html(world, shelf):
    feed = atom(world.viewers["anonymous"].client.get("/feeds/public.atom"))
    poem = next(
        e for e in feed.iter(f"{ATOM}entry") if e.findtext(f"{ATOM}title") == shelf["poem"].title
    )

    content = poem.find(f"{ATOM}content")
    assert content.get("type") == "html"
    assert content.text.startswith("<p>Second version of the")
    assert "remembers" not in content.text
    assert poem.find(f"{ATOM}link").get("href") == BASE + shelf["poem"].url
    assert poem.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    artwork = next(
        e for e in feed.iter(f"{ATOM}entry") if e.findtext(f"{ATOM}title") == shelf["artwork"].title
    )
    ((asset, _derivatives),) = shelf["artwork"].media.items()
    assert f'<img src="{BASE}/media/{asset}/display"' in artwork.findtext(f"{ATOM}content")


def test_feeds_name_authors_only_as_they_consented(world, shelf):
    response = world.viewers["anonymous"].client.get("/feeds/public.atom")
    feed = atom(response)
    authors = {
        e.findtext(f"{ATOM}title"): e.findtext(f"{ATOM}author/{ATOM}name")
        for e in feed.iter(f"{ATOM}entry")
    }

    assert authors[shelf["poem"].title] == CONTRIBUTOR_NAME
    assert authors[shelf["pseudonym"].title] == PSEUDONYM
    assert authors[shelf["anonymous"].title] is None
    anonymous_entry = next(
        e
        for e in feed.iter(f"{ATOM}entry")
        if e.findtext(f"{ATOM}title") == shelf["anonymous"].title
    )
    assert CONTRIBUTOR_NAME not in tostring(anonymous_entry, encoding="unicode")


def test_a_withdrawn_or_narrowed_piece_leaves_the_feeds_at_once(world, shelf):
    anonymous = world.viewers["anonymous"].client
    contributor = world.viewers["contributor"].client
    assert withdraw_signed_in(contributor, shelf["artwork"]).status_code == 200
    assert change_consent(contributor, shelf["poem"], audience="circle").status_code == 302

    for url in ("/feeds/public.atom", "/collections/open-river/feed.atom"):
        response = anonymous.get(url)
        titles = entry_titles(atom(response))
        assert shelf["artwork"].title not in titles and shelf["poem"].title not in titles
        assert "mural" not in response.get_data(as_text=True)
    assert shelf["anonymous"].title in entry_titles(atom(anonymous.get("/feeds/public.atom")))


def test_a_collection_feed_follows_the_collection(world, shelf):
    anonymous = world.viewers["anonymous"].client
    feed = atom(anonymous.get("/collections/open-river/feed.atom"))

    assert feed.findtext(f"{ATOM}title") == "Songs of the river"
    assert entry_titles(feed) == [
        shelf["poem"].title,
        shelf["artwork"].title,
        shelf["anonymous"].title,
    ]
    assert feed.findtext(f"{ATOM}author/{ATOM}name") == "Living Archive"
    for slug in ("inner-river", "draft-river", "no-such-river"):
        assert anonymous.get(f"/collections/{slug}/feed.atom").status_code == 404
        curator = world.viewers["facilitator"].client
        assert curator.get(f"/collections/{slug}/feed.atom").status_code == 404


def test_feeds_escape_what_people_write(world):
    awkward = offer(
        world["contributor"],
        world.home,
        title='Tea & <toast> "at" 5',
        body="A < B & C > D\n\n<script>alert(1)</script>",
    )
    feed = atom(world.viewers["anonymous"].client.get("/feeds/public.atom"))
    entry = next(e for e in feed.iter(f"{ATOM}entry"))
    assert entry.findtext(f"{ATOM}title") == awkward.title
    assert "script" not in entry.findtext(f"{ATOM}content")
    assert "A &lt; B &amp; C &gt; D" in entry.findtext(f"{ATOM}content")


def test_feeds_are_discoverable_from_the_home_page_and_public_collections(world, shelf):
    anonymous = world.viewers["anonymous"]
    assert '<link rel="alternate" type="application/atom+xml" href="/feeds/public.atom"' in page(
        anonymous, "/"
    )
    assert (
        '<link rel="alternate" type="application/atom+xml" '
        'href="/collections/open-river/feed.atom"' in page(anonymous, "/collections/open-river")
    )
    assert "application/atom+xml" not in page(
        world.viewers["facilitator"], "/collections/inner-river"
    )


# --- sitemap ----------------------------------------------------------------------------------


def sitemap(client) -> dict[str, str]:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = fromstring(response.data)
    return {
        url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod")
        for url in root.iter(f"{SITEMAP}url")
    }


def test_the_sitemap_lists_the_home_page_public_pieces_and_public_collections(world, shelf):
    share_link(world["facilitator"], "open-river")
    urls = sitemap(world.viewers["anonymous"].client)

    public = {BASE + shelf[name].url for name in ("poem", "artwork", "anonymous", "pseudonym")}
    assert set(urls) == {BASE + "/", BASE + "/collections/open-river"} | public
    for url, lastmod in urls.items():
        assert lastmod and len(lastmod) == 10 and lastmod[4] == "-", url


def test_the_sitemap_drops_withdrawn_and_narrowed_pieces_at_once(world, shelf):
    contributor = world.viewers["contributor"].client
    assert withdraw_signed_in(contributor, shelf["artwork"]).status_code == 200
    assert change_consent(contributor, shelf["poem"], audience="private").status_code == 302

    urls = sitemap(world.viewers["member"].client)
    assert BASE + shelf["artwork"].url not in urls and BASE + shelf["poem"].url not in urls
    assert BASE + shelf["anonymous"].url in urls
