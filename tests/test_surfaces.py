"""THE SURFACE WALK (design.md, "INVARIANT: one access rule" and "INVARIANT: withdrawal erases").

Every surface in ``archive.access.SURFACES`` has one entry in ``SURFACE_WALK``: a function that
takes a viewer (a web client and the same person's API headers) and a piece, and says whether
the piece shows there (its title marker, its id, its artwork) and what the viewer got.

The walk is checked against the whole rule, so a withdrawal, a narrowing or a change of
attribution is seen on every surface at once. When a surface is added to ``SURFACES``,
``test_every_surface_is_walked`` fails until it gets an entry here.
"""

from __future__ import annotations

import html
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from archive import access
from archive.db import commit, db
from tests.conftest import hold_receipt_code
from tests.erasure_helpers import (
    CONTRIBUTOR_NAME,
    MARKER,
    PSEUDONYM,
    ROLES,
    Piece,
    Viewer,
    World,
    change_consent,
    json_text,
    revise,
    share,
    text,
    withdraw_signed_in,
    world,  # noqa: F401  (fixture)
)
from tests.public_helpers import curate, open_graph, share_link


@dataclass
class Sight:
    """What one viewer got from one surface: whether the piece shows, and all the text."""

    shown: bool
    text: str


def _mentions(page: str, piece: Piece) -> bool:
    return MARKER in page or piece.public_id in page or any(asset in page for asset in piece.media)


def _page(viewer: Viewer, url: str, piece: Piece) -> Sight:
    """A page of the piece itself: it shows if it answers at all, or names the piece."""
    response = viewer.client.get(url)
    page = html.unescape(text(response))
    return Sight(response.status_code == 200 or MARKER in page, page)


def _listing(viewer: Viewer, url: str, piece: Piece) -> Sight:
    """A page listing many pieces: it shows if the piece is named or linked in it."""
    response = viewer.client.get(url)
    page = html.unescape(text(response))
    return Sight(response.status_code == 200 and _mentions(page, piece), page)


def _receipt_text(viewer: Viewer, piece: Piece) -> Sight:
    """The receipt's code as a text file. Only a session that holds the code (the one that
    shared the piece, for 30 minutes) gets it, so every signed-in viewer is given the code in
    their session here, as sharing would: the file must still follow the receipt's rule."""
    if viewer.account is not None:
        hold_receipt_code(viewer.client, viewer.account.id, piece.public_id, piece.code)
    return _page(viewer, f"{piece.url}/receipt.txt", piece)


def _api(viewer: Viewer, url: str, piece: Piece) -> Sight:
    response = viewer.client.get(url, headers=viewer.headers)
    body = json_text(response)
    return Sight(response.status_code == 200 or MARKER in body, body)


def _media(viewer: Viewer, piece: Piece) -> Sight:
    statuses = [viewer.client.get(url).status_code for url in piece.media_urls]
    assert statuses, "the walk needs a piece with artwork"
    return Sight(any(status == 200 for status in statuses), "")


def _export(viewer: Viewer, piece: Piece) -> Sight:
    response = viewer.client.get("/account/export")
    if response.status_code != 200:
        return Sight(False, text(response))
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    contents = "\n".join(
        archive.read(name).decode("utf-8")
        for name in names
        if name.endswith((".md", ".json", ".txt"))
    )
    everything = "\n".join(names) + "\n" + contents
    return Sight(_mentions(everything, piece), everything)


# Each walked piece sits in a public and a circle collection, each with a live share link.
PUBLIC_SHELF, CIRCLE_SHELF = "open-shelf", "inner-shelf"
SHELVES = (PUBLIC_SHELF, CIRCLE_SHELF)
#: collection slug -> the path of its share link, made by ``shelve``
SHARE_LINKS: dict[str, str] = {}


def _circle_tags(viewer: Viewer, piece: Piece) -> Sight:
    """The circle's Tags page and its API twin, for those who manage its tags: the piece
    shows there as its tag, listed and counted."""
    page = viewer.client.get(f"/circles/{piece.circle_slug}/tags")
    listed = viewer.client.get(f"/api/v1/circles/{piece.circle_slug}/tags", headers=viewer.headers)
    texts = [
        html.unescape(text(page)) if page.status_code == 200 else "",
        json_text(listed) if listed.status_code == 200 else "",
    ]
    shown = f'value="{piece.tag}"' in texts[0] or f'"tag": "{piece.tag}"' in texts[1]
    return Sight(shown, "\n".join(texts))


def _either(*sights: Sight) -> Sight:
    return Sight(any(sight.shown for sight in sights), "\n".join(s.text for s in sights))


def _xml(viewer: Viewer, url: str, piece: Piece) -> Sight:
    """A feed or the sitemap: it shows the piece if it names or links it."""
    response = viewer.client.get(url)
    body = html.unescape(text(response))
    return Sight(response.status_code == 200 and _mentions(body, piece), body)


def _feeds(viewer: Viewer, piece: Piece) -> Sight:
    return _either(
        _xml(viewer, "/feeds/public.atom", piece),
        _xml(viewer, f"/collections/{PUBLIC_SHELF}/feed.atom", piece),
    )


def _embeds(viewer: Viewer, piece: Piece) -> Sight:
    """The card shows the piece only if it names it; oEmbed only if it answers."""
    card = viewer.client.get(f"/embed/items/{piece.public_id}")
    page = html.unescape(text(card))
    oembed = viewer.client.get(
        "/oembed", query_string={"url": f"http://localhost{piece.url}", "format": "json"}
    )
    return Sight(MARKER in page or oembed.status_code == 200, page + "\n" + json_text(oembed))


def _open_graph(viewer: Viewer, piece: Piece) -> Sight:
    page = text(viewer.client.get(piece.url))
    tags = open_graph(page)
    return Sight(bool(tags), html.unescape(page))


def _pack(viewer: Viewer, piece: Piece) -> Sight:
    with viewer.client.get(f"/collections/{PUBLIC_SHELF}/pack.zip") as response:
        response.direct_passthrough = False
        data = response.get_data()
        if response.status_code != 200:
            return Sight(False, data.decode("utf-8", "replace"))
    with zipfile.ZipFile(io.BytesIO(data)) as pack:
        names = pack.namelist()
        everything = (
            "\n".join(names)
            + "\n"
            + "\n".join(pack.read(name).decode("utf-8") for name in names if name.endswith(".html"))
        )
    return Sight(_mentions(html.unescape(everything), piece), html.unescape(everything))


SURFACE_WALK: dict[str, Callable[[Viewer, Piece], Sight]] = {
    "item page": lambda v, p: _page(v, p.url, p),
    "history page": lambda v, p: _page(v, f"{p.url}/history", p),
    "diff page": lambda v, p: _page(v, f"{p.url}/diff?from=1&to=2", p),
    "revision page": lambda v, p: _page(v, f"{p.url}/versions/1", p),
    "media (every derivative)": _media,
    "tag pages": lambda v, p: _listing(v, f"/tags/{p.tag}", p),
    "circle tags page": lambda v, p: _circle_tags(v, p),
    "circle pages": lambda v, p: _listing(v, f"/circles/{p.circle_slug}", p),
    "home page": lambda v, p: _listing(v, "/", p),
    "search results": lambda v, p: _either(
        _listing(v, f"/search?q={p.tag}", p), _listing(v, f"/api/v1/search?q={p.tag}", p)
    ),
    "JSON API item": lambda v, p: _api(v, f"/api/v1/items/{p.public_id}", p),
    "JSON API revisions": lambda v, p: _api(v, f"/api/v1/items/{p.public_id}/revisions", p),
    "JSON API diff": lambda v, p: _api(v, f"/api/v1/items/{p.public_id}/diff?from=1&to=2", p),
    "receipt page": lambda v, p: _page(v, f"{p.url}/receipt", p),
    "receipt JSON": lambda v, p: _page(v, f"{p.url}/receipt.json", p),
    "receipt text file": lambda v, p: _receipt_text(v, p),
    # only for a piece still waiting for its member, to the one who recorded it: never an
    # active piece (proposals are walked in test_proposals and test_phone_forms)
    "waiting page": lambda v, p: _page(v, f"{p.url}/waiting", p),
    "participant export": _export,
    "collection pages": lambda v, p: _either(
        *(_listing(v, f"/collections/{slug}", p) for slug in SHELVES)
    ),
    "collective-document view": lambda v, p: _either(
        *(_listing(v, f"/collections/{slug}/read", p) for slug in SHELVES)
    ),
    "share links": lambda v, p: _either(*(_listing(v, SHARE_LINKS[slug], p) for slug in SHELVES)),
    "Atom feeds": _feeds,
    "sitemap": lambda v, p: _xml(v, "/sitemap.xml", p),
    "embeds and oEmbed": _embeds,
    "Open Graph tags": _open_graph,
    "offline packs": _pack,
    "my pieces page": lambda v, p: _listing(v, "/account/pieces", p),
}


#: the surfaces a piece its contributor agreed to can be on, for its contributor: all but the
#: waiting page, which only a piece recorded for someone and not yet agreed to has, and the
#: circle's Tags page, which is its facilitators'
ANY_PIECE = set(SURFACE_WALK) - {"waiting page", "circle tags page"}


def walk(viewer: Viewer, piece: Piece) -> dict[str, Sight]:
    return {surface: look(viewer, piece) for surface, look in SURFACE_WALK.items()}


def shown_on(viewer: Viewer, piece: Piece) -> set[str]:
    return {surface for surface, sight in walk(viewer, piece).items() if sight.shown}


# --- what the rule says each viewer sees ------------------------------------------------------

#: surfaces every reader of a piece gets
READING = {
    "item page",
    "history page",
    "diff page",
    "revision page",
    "media (every derivative)",
    "tag pages",
    "home page",
    "search results",
    "JSON API item",
    "JSON API revisions",
    "JSON API diff",
    "collection pages",
    "collective-document view",
}
#: surfaces for the whole world: a piece is on them while it is public, and for no one else
PUBLIC = {
    "share links",
    "Atom feeds",
    "sitemap",
    "embeds and oEmbed",
    "Open Graph tags",
    "offline packs",
}
MEMBERS = {"contributor", "facilitator", "member"}


def expected(role: str, audience: str) -> set[str]:
    """The table of design.md for a piece whose contributor has an account."""
    may_see = (
        role == "contributor" or (audience == "circle" and role in MEMBERS) or audience == "public"
    )
    if not may_see:
        return set()
    surfaces = set(READING)
    if audience == "public":
        surfaces |= PUBLIC
    if role in MEMBERS:
        surfaces.add("circle pages")
    if role == "facilitator":  # the circle's tags are its facilitators' to manage
        surfaces.add("circle tags page")
    if role in ("contributor", "facilitator"):  # they may act on its consent
        surfaces |= {"receipt page", "receipt JSON", "receipt text file"}
    if role == "contributor":
        surfaces |= {"participant export", "my pieces page"}
    return surfaces


def seen_by_everyone(world, piece: Piece) -> dict[str, set[str]]:
    return {role: shown_on(world.viewers[role], piece) for role in ROLES}


def shelve(world: World, piece: Piece) -> Piece:
    """Its author says yes to collections, embeds and packs; a facilitator puts it in a
    public and a circle collection and makes a share link for each."""
    consent = piece.item().consent
    consent.allow_collections = consent.allow_embeds = consent.allow_packs = True
    commit()
    curator = world["facilitator"]
    curate(curator, world.home, PUBLIC_SHELF, [piece], title="The shelf for everyone")
    curate(curator, world.home, CIRCLE_SHELF, [piece], state="circle", title="The circle's shelf")
    for slug in SHELVES:
        SHARE_LINKS[slug] = share_link(curator, slug)
    return piece


@pytest.fixture
def piece(world) -> Piece:
    """A public artwork with two revisions (so there is a history and a diff to walk), in a
    public and a circle collection, open to embeds and packs."""
    contributor = world["contributor"]
    first = share(
        contributor,
        world.home,
        title=f"{MARKER} river",
        tags=("nadi",),
        body="The river at dawn.",
        audience="public",
        attribution="name",
    )
    return shelve(world, revise(contributor, first, body="The river at dawn, and the birds."))


# --- the walk itself --------------------------------------------------------------------------


def test_every_surface_is_walked():
    assert set(SURFACE_WALK) == set(access.SURFACES), (
        "a surface without a walk entry (or a walk entry for a surface that is gone): "
        f"missing {set(access.SURFACES) - set(SURFACE_WALK)}, "
        f"extra {set(SURFACE_WALK) - set(access.SURFACES)}"
    )


def test_the_walk_sees_the_piece_where_the_rule_allows(world, piece):
    assert seen_by_everyone(world, piece) == {role: expected(role, "public") for role in ROLES}
    assert shown_on(world.viewers["contributor"], piece) == ANY_PIECE


# --- withdrawal -------------------------------------------------------------------------------


def test_a_withdrawn_piece_is_on_no_surface_for_anyone(world, piece):
    contributor = world.viewers["contributor"]
    assert withdraw_signed_in(contributor.client, piece).status_code == 200

    assert seen_by_everyone(world, piece) == {role: set() for role in ROLES}
    for viewer in world.viewers.values():
        for sight in walk(viewer, piece).values():
            assert MARKER not in sight.text


@pytest.mark.parametrize("role", ROLES)
def test_a_withdrawn_piece_answers_with_a_tombstone(world, piece, role):
    assert withdraw_signed_in(world.viewers["contributor"].client, piece).status_code == 200
    viewer = world.viewers[role]

    response = viewer.client.get(piece.url)

    assert response.status_code == 410
    page = html.unescape(text(response))
    assert "This is no longer here" in page
    assert "The person who shared it has taken it back." in page
    assert MARKER not in page and piece.title not in page
    for url in piece.media_urls:
        assert viewer.client.get(url).status_code in (404, 410), url
    api = viewer.client.get(f"/api/v1/items/{piece.public_id}", headers=viewer.headers)
    assert api.status_code == 410 and MARKER not in json_text(api)


# --- narrowing --------------------------------------------------------------------------------


def test_narrowing_takes_effect_on_every_surface_at_once(world, piece):
    contributor = world.viewers["contributor"].client

    assert change_consent(contributor, piece, audience="circle").status_code == 302
    assert seen_by_everyone(world, piece) == {role: expected(role, "circle") for role in ROLES}
    assert seen_by_everyone(world, piece)["anonymous"] == set()

    assert change_consent(contributor, piece, audience="private").status_code == 302
    assert seen_by_everyone(world, piece) == {role: expected(role, "private") for role in ROLES}
    assert shown_on(world.viewers["contributor"], piece) == ANY_PIECE - PUBLIC


def test_a_narrowed_piece_leaves_every_public_surface_for_everyone(world, piece):
    assert shown_on(world.viewers["anonymous"], piece) >= PUBLIC

    response = change_consent(world.viewers["contributor"].client, piece, audience="circle")
    assert response.status_code == 302

    for role in ROLES:
        assert not shown_on(world.viewers[role], piece) & PUBLIC, role


def test_a_passed_review_date_counts_as_private_on_every_surface(world, piece):
    piece.item().consent.review_by = access.today() - timedelta(days=1)
    db.session.commit()

    assert seen_by_everyone(world, piece) == {role: expected(role, "private") for role in ROLES}


# --- attribution ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "attribution, shown_as", [("name", CONTRIBUTOR_NAME), ("pseudonym", PSEUDONYM)]
)
def test_switching_to_anonymous_removes_the_name_everywhere(world, attribution, shown_as):
    contributor = world["contributor"]
    first = share(
        contributor,
        world.home,
        title=f"{MARKER} lamp",
        tags=("diya",),
        audience="public",
        attribution=attribution,
        pseudonym=PSEUDONYM if attribution == "pseudonym" else "",
    )
    piece = shelve(world, revise(contributor, first, body="A second version."))
    anonymous = world.viewers["anonymous"]
    assert shown_as in walk(anonymous, piece)["item page"].text

    response = change_consent(
        world.viewers["contributor"].client, piece, attribution="anonymous", pseudonym=""
    )
    assert response.status_code == 302

    for role in ROLES:
        sights = walk(world.viewers[role], piece)
        assert {s for s, sight in sights.items() if sight.shown} == expected(role, "public")
        for surface, sight in sights.items():
            for part in (shown_as, *shown_as.split()):
                assert part not in sight.text, (role, surface, part)
    api = anonymous.client.get(f"/api/v1/items/{piece.public_id}").get_json()
    assert api["byline"] is None
