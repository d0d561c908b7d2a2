"""THE access matrix (design.md, "INVARIANT: one access rule"), walked on every surface.

Who sees an active item:

    audience | contributor | facilitators of the circle    | other members | anyone else
    private  | yes         | only if contributor has no account | no        | no
    circle   | yes         | yes                           | yes           | no
    public   | yes         | yes                           | yes           | yes

A passed review date counts as private. Admins get no extra view.

One world is built per module (items are only read here); each surface is one test that walks
every viewer and every piece and reports all disagreements at once. A new surface is one more
entry in ``SURFACES``; ``test_every_surface_named_by_the_access_rule_is_walked`` fails until
each name in ``archive.access.SURFACES`` has one.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Optional

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from archive import access, create_app
from archive.db import db
from archive.models import Account, Item
from archive.operations import items as ops
from archive.operations.accounts import create_account, create_token
from archive.operations.circles import add_member, create_circle
from archive.operations.consent import ConsentChoice
from tests.conftest import PASSWORD, BrowserLikeClient, config_for_tests, hold_receipt_code, sign_in
from tests.items_helpers import (  # noqa: F401
    KHUSHI,
    OWNER,
    UDASI,
    api_headers,
    circle_people,
    contribute,
    gps_photo,
    item_url,
    main_html,
    newest_item,
    poem_form,
    templates_compiled_once,
)

pytestmark = pytest.mark.both_databases

TAG = "भरोसा"
AUDIENCES = ("private", "circle", "public")
VIEWERS = (
    "contributor",
    "facilitator",
    "member",
    "other circle's member",
    "other circle's facilitator",
    "anonymous",
    "admin",
)
#: who may open the circle page at all (members, and admins to manage the circle)
CIRCLE_PAGE_OPEN = {"contributor", "facilitator", "member", "admin"}


@dataclass(frozen=True)
class Piece:
    """One item of the matrix: its audience, whose it is, and whether its review date passed."""

    audience: str
    owner: str  # "account": a participant's own; "profile": no account
    review_passed: bool = False

    @property
    def label(self) -> str:
        return f"{self.audience}/{self.owner}" + ("/review-passed" if self.review_passed else "")

    @property
    def marker(self) -> str:
        """In the title, and unique: no marker is part of another."""
        return f"«{self.label}»"

    @property
    def tag(self) -> str:
        """Its own tag, beside the one all pieces share: the circle's Tags page lists it."""
        return "zq " + self.label.replace("/", " ")


PIECES = [Piece(audience, owner) for audience in AUDIENCES for owner in ("account", "profile")] + [
    Piece(audience, owner, review_passed=True)
    for audience in ("circle", "public")
    for owner in ("account", "profile")
]


def relation(viewer: str, piece: Piece) -> str:
    """The viewer's place in the table's columns for this piece."""
    if viewer == "contributor":
        return "contributor" if piece.owner == "account" else "member"
    if viewer in ("facilitator", "member"):
        return viewer
    return "anyone else"


def sees(viewer: str, piece: Piece) -> bool:
    """The design table, written out independently of ``archive.access``."""
    audience = "private" if piece.review_passed else piece.audience
    who = relation(viewer, piece)
    if who == "contributor" or audience == "public":
        return True
    if audience == "circle":
        return who in ("facilitator", "member")
    return who == "facilitator" and piece.owner == "profile"


def holds_consent(viewer: str, piece: Piece) -> bool:
    """Receipts: the contributor, and a facilitator of the circle who may see the piece."""
    who = relation(viewer, piece)
    return who == "contributor" or (who == "facilitator" and sees(viewer, piece))


# --- the world ----------------------------------------------------------------------------------


@dataclass
class Ref:
    public_id: str
    marker: str
    media_urls: list[str]
    tag: str = ""


@dataclass
class Viewer:
    name: str
    web: BrowserLikeClient
    token: Optional[str] = None
    account_id: Optional[int] = None

    def api(self, path: str):
        return self.web.get(path, headers=api_headers(self.token))


@dataclass
class World:
    app: object
    viewers: dict[str, Viewer]
    refs: dict[str, Ref] = field(default_factory=dict)


ACCOUNTS = {  # viewer: (username, site role, circle, circle role)
    "contributor": ("asha", "participant", "home", "participant"),
    "facilitator": ("meera", "facilitator", "home", "facilitator"),
    "member": ("ravi", "participant", "home", "participant"),
    "other circle's member": ("sunil", "participant", "elsewhere", "participant"),
    "other circle's facilitator": ("farah", "facilitator", "elsewhere", "facilitator"),
    "admin": ("root", "admin", None, None),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory, database):  # made again for each kind of database
    app = create_app(config_for_tests(tmp_path_factory.mktemp("matrix")))
    viewers: dict[str, Viewer] = {}
    with app.app_context():
        db.create_all()
        circles = {
            "home": create_circle("ghar", "घर"),
            "elsewhere": create_circle("elsewhere", "Elsewhere"),
        }
        accounts = {}
        for viewer, (username, role, circle, circle_role) in ACCOUNTS.items():
            accounts[viewer] = create_account(username, PASSWORD, role, f"{username} shown")
            if circle:
                add_member(circles[circle], accounts[viewer], circle_role)
        world = World(app, viewers)
        _make_pieces(world, circles["home"], accounts)
        tokens = {viewer: create_token(account) for viewer, account in accounts.items()}
        db.session.commit()
        ids = {viewer: account.id for viewer, account in accounts.items()}
    for viewer in VIEWERS:
        client = BrowserLikeClient(app.test_client())
        if viewer != "anonymous":
            sign_in(client, ACCOUNTS[viewer][0])
        viewers[viewer] = Viewer(viewer, client, tokens.get(viewer), ids.get(viewer))
    return world


def _make_pieces(world: World, home, accounts) -> None:
    items = {}
    photo = gps_photo()
    asha, meera = accounts["contributor"], accounts["facilitator"]
    profile = ops.create_profile(meera, home, "छाया")
    for piece in PIECES:
        by, contributor = (
            (asha, ops.contributor_for(asha)) if piece.owner == "account" else (meera, profile)
        )
        draft = ops.Draft(
            kind="artwork",
            title=f"चित्र {piece.marker}",
            body=f"{UDASI} का रंग",
            language="hi",
            tags=[TAG, piece.tag],
            alt_text="एक चित्र",
            image=photo,
        )
        choice = ConsentChoice(
            audience=piece.audience,
            attribution="name",
            method="self" if piece.owner == "account" else "verbal",
            collections=True,
            embeds=True,
            packs=True,
        )
        item = ops.contribute(by, home, contributor, draft, choice).item
        ops.revise(
            by,
            item,
            ops.Draft(
                kind="artwork",
                title=draft.title,
                body=f"{KHUSHI} का रंग",
                language="hi",
                tags=[TAG, piece.tag],
                alt_text="एक चित्र",
            ),
        )
        items[piece] = item
        media = item.current.media
        world.refs[piece.label] = Ref(
            item.public_id,
            piece.marker,
            [f"/media/{media.public_id}/{name}" for name in media.derivatives],
            piece.tag,
        )
    _make_collections(meera, home, items)
    for piece, item in items.items():
        if piece.review_passed:
            item.consent.review_by = access.today() - timedelta(days=1)
    assert len(PIECES) <= 12, "the home page lists the 12 newest: keep the matrix within it"


def _make_collections(meera, home, items) -> None:
    """A public collection of every public piece, and a circle collection of every piece its
    facilitator may see (all but someone's own private one), each with a share link."""
    from archive.operations import collections as curating

    for slug, state in ((OPEN_COLLECTION, "public"), (CIRCLE_COLLECTION, "circle")):
        collection = curating.create(meera, home, slug, f"{slug} collection")
        for piece, item in items.items():
            if access.may_view_item(meera, item) and access.may_enter_collection(item, collection):
                if state == "circle" or piece.audience == "public":
                    curating.add_entry(meera, collection, item)
        curating.set_state(meera, collection, state)
        SHARE_LINKS[slug] = "/shared/" + curating.create_share_link(meera, collection, 30)


# --- surfaces -----------------------------------------------------------------------------------


def _shown(response, what: str, marker: Optional[str] = None) -> bool:
    """200 means shown (and then it must really be this piece); 404 means not shown."""
    if response.status_code == 404:
        return False
    assert response.status_code == 200, f"{what}: HTTP {response.status_code}"
    if marker is not None:
        assert marker in response.get_data(as_text=True), f"{what}: 200 without the piece"
    return True


def page(path: str) -> Callable[[Viewer, Ref], bool]:
    def probe(viewer: Viewer, ref: Ref) -> bool:
        url = path.format(id=ref.public_id)
        return _shown(viewer.web.get(url), url, ref.marker)

    return probe


def api(path: str) -> Callable[[Viewer, Ref], bool]:
    def probe(viewer: Viewer, ref: Ref) -> bool:
        response = viewer.api(path.format(id=ref.public_id))
        assert response.is_json, path
        if response.status_code == 404:
            assert response.json["error"]
            return False
        assert response.status_code == 200, f"{path}: HTTP {response.status_code}"
        assert response.json["id"] == ref.public_id
        return True

    return probe


def media(viewer: Viewer, ref: Ref) -> bool:
    """Every derivative answers alike: all served, or all 404."""
    shown = {url: _shown(viewer.web.get(url), url) for url in ref.media_urls}
    assert len(shown) >= 2 and len(set(shown.values())) == 1, shown
    return next(iter(shown.values()))


#: pages that list many pieces, fetched once per viewer and surface (cleared per test)
_fetched: dict[tuple[str, str], object] = {}


def _once(viewer: Viewer, path: str):
    key = (viewer.name, path)
    if key not in _fetched:
        _fetched[key] = viewer.web.get(path)
    return _fetched[key]


def listing(path: str) -> Callable[[Viewer, Ref], bool]:
    """A page listing items: shown means the piece's title is on it. A page the viewer may
    not open (sign-in redirect, 404) shows nothing."""

    def probe(viewer: Viewer, ref: Ref) -> bool:
        response = _once(viewer, path)
        if response.status_code in (302, 404):
            return False
        assert response.status_code == 200, f"{path}: HTTP {response.status_code}"
        return ref.marker in response.get_data(as_text=True)

    return probe


def receipt_page(viewer: Viewer, ref: Ref) -> bool:
    response = viewer.web.get(f"/items/{ref.public_id}/receipt")
    return response.status_code != 302 and _shown(response, "receipt", ref.marker)


def receipt_text(viewer: Viewer, ref: Ref) -> bool:
    """The receipt's code as a text file. Only a session holding the code (the one that shared
    the piece, for 30 minutes) gets it; here every signed-in viewer is given a code in their
    session, as sharing would, and the file must still follow the receipt's rule."""
    receipt = f"/items/{ref.public_id}/receipt"
    if viewer.account_id is not None:
        hold_receipt_code(viewer.web, viewer.account_id, ref.public_id, "ZQX-CODE-1234")
    response = viewer.web.get(f"{receipt}.txt")
    if response.status_code in (302, 404):
        return False
    assert response.status_code == 200 and "ZQX-CODE-1234" in response.get_data(as_text=True)
    return True


def waiting_page(viewer: Viewer, ref: Ref) -> bool:
    """Only a piece still waiting for its member has one; none of these pieces waits."""
    response = viewer.web.get(f"/items/{ref.public_id}/waiting")
    return response.status_code != 302 and _shown(response, "waiting page", ref.marker)


def receipt_json(viewer: Viewer, ref: Ref) -> bool:
    response = viewer.web.get(f"/items/{ref.public_id}/receipt.json")
    if response.status_code in (302, 404):
        return False
    assert response.status_code == 200
    assert ref.public_id in json.dumps(response.json)
    return True


def participant_export(viewer: Viewer, ref: Ref) -> bool:
    response = _once(viewer, "/account/export")
    if response.status_code == 302:
        return False
    assert response.status_code == 200 and response.mimetype == "application/zip"
    export = zipfile.ZipFile(io.BytesIO(response.data))
    folders = {name.split("/")[0] for name in export.namelist()}  # title, then a short id
    return any(folder.endswith((ref.public_id[:8], ref.public_id)) for folder in folders)


# --- what the whole world sees, and collections ----------------------------------------------

OPEN_COLLECTION, CIRCLE_COLLECTION = "ghar-open", "ghar-circle"
#: collection slug -> its share link's path (made with the world)
SHARE_LINKS: dict[str, str] = {}


def public_now(viewer: str, piece: Piece) -> bool:
    """Feeds, sitemap, embeds, Open Graph, packs, share links: only what is public now."""
    return piece.audience == "public" and not piece.review_passed


def in_a_collection_they_open(viewer: str, piece: Piece) -> bool:
    """Collection pages: the piece must be seen by the viewer, and sit in a collection they may
    open (the public one; the circle one for its members and admins; someone's own private
    piece is in neither, as its facilitator cannot add it)."""
    return sees(viewer, piece) and (
        public_now(viewer, piece)
        or (viewer in CIRCLE_PAGE_OPEN and piece.label != "private/account")
    )


def in_any(*probes: Callable[[Viewer, Ref], bool]) -> Callable[[Viewer, Ref], bool]:
    return lambda viewer, ref: any([probe(viewer, ref) for probe in probes])


def _text_once(viewer: Viewer, path: str) -> str:
    response = _once(viewer, path)
    if response.status_code in (302, 404):
        return ""
    assert response.status_code == 200, f"{path}: HTTP {response.status_code}"
    return response.get_data(as_text=True)


def feeds(viewer: Viewer, ref: Ref) -> bool:
    from xml.etree.ElementTree import fromstring

    texts = [
        _text_once(viewer, path)
        for path in ("/feeds/public.atom", f"/collections/{OPEN_COLLECTION}/feed.atom")
    ]
    for body in texts:
        fromstring(body.encode())
    return any(ref.marker in body for body in texts)


def sitemap(viewer: Viewer, ref: Ref) -> bool:
    return f"/items/{ref.public_id}<" in _text_once(viewer, "/sitemap.xml")


def embeds(viewer: Viewer, ref: Ref) -> bool:
    """The card names the piece exactly when oEmbed answers for it."""
    card = viewer.web.get(f"/embed/items/{ref.public_id}")
    oembed = viewer.web.get(
        "/oembed", query_string={"url": f"http://localhost/items/{ref.public_id}"}
    )
    assert oembed.status_code in (200, 404)
    assert card.status_code == oembed.status_code, "a hidden card answers as an unknown one"
    named = ref.marker in card.get_data(as_text=True)
    assert named == (oembed.status_code == 200), ref.marker
    return named


def open_graph(viewer: Viewer, ref: Ref) -> bool:
    response = viewer.web.get(f"/items/{ref.public_id}")
    return 'property="og:' in response.get_data(as_text=True)


_packs: dict[str, str] = {}


def offline_pack(viewer: Viewer, ref: Ref) -> bool:
    if viewer.name not in _packs:
        with viewer.web.get(f"/collections/{OPEN_COLLECTION}/pack.zip") as response:
            assert response.status_code == 200
            response.direct_passthrough = False
            with zipfile.ZipFile(io.BytesIO(response.get_data())) as pack:
                _packs[viewer.name] = "\n".join(
                    pack.read(name).decode() for name in pack.namelist() if name.endswith(".html")
                )
    return ref.marker in _packs[viewer.name]


def circle_tags(viewer: Viewer, ref: Ref) -> bool:
    """The circle's Tags page and its API twin: whether the piece's own tag is listed (and
    so counted); for anyone who may not manage the circle's tags, 404."""
    page = viewer.web.get("/circles/ghar/tags")
    listed = viewer.api("/api/v1/circles/ghar/tags")
    assert page.status_code in (200, 302, 404) and listed.status_code in (200, 401, 404)
    in_page = page.status_code == 200 and f'value="{ref.tag}"' in page.get_data(as_text=True)
    in_api = listed.status_code == 200 and ref.tag in {t["tag"] for t in listed.json["tags"]}
    assert in_page == in_api, ref.tag
    return in_page


def manages_and_sees(viewer: str, piece: Piece) -> bool:
    """The circle's tags are for its facilitators and admins, from the pieces they may see."""
    return viewer in ("facilitator", "admin") and sees(viewer, piece)


def collection_pages(suffix: str = "") -> Callable[[Viewer, Ref], bool]:
    return in_any(
        *(listing(f"/collections/{slug}{suffix}") for slug in (OPEN_COLLECTION, CIRCLE_COLLECTION))
    )


def share_links(viewer: Viewer, ref: Ref) -> bool:
    return in_any(*(listing(path) for path in SHARE_LINKS.values()))(viewer, ref)


@dataclass(frozen=True)
class Surface:
    name: str
    shows: Callable[[Viewer, Ref], bool]
    expect: Callable[[str, Piece], bool] = sees


SURFACES = [
    Surface("item page", page("/items/{id}")),
    Surface("history page", page("/items/{id}/history")),
    Surface("revision page", page("/items/{id}/versions/1")),
    Surface("diff page", page("/items/{id}/diff?from=1&to=2")),
    Surface("media (every derivative)", media),
    Surface("tag pages", listing(f"/tags/{TAG}")),
    Surface("circle tags page", circle_tags, manages_and_sees),
    Surface(
        "circle pages",
        listing("/circles/ghar"),
        lambda viewer, piece: viewer in CIRCLE_PAGE_OPEN and sees(viewer, piece),
    ),
    Surface("home page", listing("/")),
    Surface("search results", listing(f"/search?q={TAG}")),
    Surface("JSON API item", api("/api/v1/items/{id}")),
    Surface("JSON API revisions", api("/api/v1/items/{id}/revisions")),
    Surface("JSON API diff", api("/api/v1/items/{id}/diff?from=1&to=2")),
    Surface("receipt page", receipt_page, holds_consent),
    Surface("receipt JSON", receipt_json, holds_consent),
    Surface("receipt text file", receipt_text, holds_consent),
    Surface("waiting page", waiting_page, lambda viewer, piece: False),
    Surface(
        "participant export",
        participant_export,
        lambda viewer, piece: relation(viewer, piece) == "contributor",
    ),
    Surface("collection pages", collection_pages(), in_a_collection_they_open),
    Surface("collective-document view", collection_pages("/read"), in_a_collection_they_open),
    Surface("share links", share_links, public_now),
    Surface("Atom feeds", feeds, public_now),
    Surface("sitemap", sitemap, public_now),
    Surface("embeds and oEmbed", embeds, public_now),
    Surface("Open Graph tags", open_graph, public_now),
    Surface("offline packs", offline_pack, public_now),
    Surface(
        "my pieces page",
        listing("/account/pieces"),
        lambda viewer, piece: relation(viewer, piece) == "contributor",
    ),
]


def test_every_surface_named_by_the_access_rule_is_walked():
    walked = {surface.name for surface in SURFACES}
    assert set(access.SURFACES) <= walked, set(access.SURFACES) - walked


def test_the_table_itself():
    """The expectations read like design.md's table (a guard against a typo in ``sees``)."""

    def row(audience: str, owner: str) -> list[bool]:
        return [sees(viewer, Piece(audience, owner)) for viewer in VIEWERS]

    #                                contrib facil  member other  o.fac  anon   admin
    assert row("private", "account") == [True, False, False, False, False, False, False]
    assert row("private", "profile") == [False, True, False, False, False, False, False]
    assert row("circle", "account") == [True, True, True, False, False, False, False]
    assert row("public", "profile") == [True] * len(VIEWERS)
    assert [sees(v, Piece("public", "account", True)) for v in VIEWERS] == row("private", "account")


@pytest.mark.parametrize("surface", SURFACES, ids=lambda surface: surface.name)
def test_who_sees_what(world, surface):
    _fetched.clear()
    _packs.clear()
    wrong = []
    for viewer in VIEWERS:
        for piece in PIECES:
            expected = surface.expect(viewer, piece)
            shown = surface.shows(world.viewers[viewer], world.refs[piece.label])
            if shown != expected:
                wrong.append(f"{viewer:>28} · {piece.label:<28} shown={shown} expected={expected}")
    assert not wrong, f"{surface.name}:\n" + "\n".join(wrong)


def test_select_visible_agrees_with_may_view_item(world):
    with world.app.app_context():
        items = {
            ref.public_id: db.session.scalar(select(Item).where(Item.public_id == ref.public_id))
            for ref in world.refs.values()
        }
        for name, viewer in world.viewers.items():
            who = (
                db.session.get(Account, viewer.account_id)
                if viewer.account_id
                else AnonymousUserMixin()
            )
            listed = {item.public_id for item in db.session.scalars(access.select_visible(who))}
            for piece in PIECES:
                public_id = world.refs[piece.label].public_id
                allowed = access.may_view_item(who, items[public_id])
                assert (public_id in listed) == allowed == sees(name, piece), (
                    name,
                    piece.label,
                    public_id in listed,
                    allowed,
                )
        assert not access.may_view_item(AnonymousUserMixin(), None)
        assert not access.may_view_item(None, next(iter(items.values())))


def test_someone_elses_private_item_is_404_not_403(world):
    ref = world.refs["private/account"]
    ravi = world.viewers["member"]
    for path in ("", "/edit", "/history", "/versions/1", "/diff", "/receipt"):
        assert ravi.web.get(f"/items/{ref.public_id}{path}").status_code == 404, path
    restore = ravi.web.post_form(f"/items/{ref.public_id}/versions/1/restore", {}, page="/")
    assert restore.status_code == 404
    assert ravi.api(f"/api/v1/items/{ref.public_id}").status_code == 404
    revise = ravi.web.post(
        f"/api/v1/items/{ref.public_id}/revisions",
        json={"body": "मेरा"},
        headers=api_headers(ravi.token),
    )
    assert revise.status_code == 404 and revise.json["error"]
    # an id that does not exist answers exactly the same
    missing = ravi.web.get("/items/AAAAAAAAAAAAAAAA")
    assert missing.status_code == 404
    assert main_html(missing.get_data(as_text=True)) == main_html(
        ravi.web.get(f"/items/{ref.public_id}").get_data(as_text=True)
    )


def test_a_member_may_read_but_not_edit_a_circle_item(world):
    ref = world.refs["circle/account"]
    ravi, meera = world.viewers["member"], world.viewers["facilitator"]
    for viewer in (ravi, meera):  # meera facilitates, but asha has an account: asha decides
        assert viewer.web.get(f"/items/{ref.public_id}").status_code == 200
        assert viewer.web.get(f"/items/{ref.public_id}/edit").status_code == 403
        response = viewer.web.post(
            f"/api/v1/items/{ref.public_id}/revisions",
            json={"body": "बदला"},
            headers=api_headers(viewer.token),
        )
        assert response.status_code == 403 and response.json["error"]


# --- a review date passing, and withdrawal, over time ------------------------------------------


def test_a_passed_review_date_makes_a_public_item_private(
    app, circle_people, signed_in, make_client
):
    asha, meera, ravi = circle_people["asha"], circle_people["meera"], circle_people["ravi"]
    clients = {
        "asha": signed_in(asha),
        "meera": signed_in(meera),
        "ravi": signed_in(ravi),
        "anonymous": make_client(),
    }
    review_by = (access.today() + timedelta(days=30)).isoformat()
    assert (
        contribute(
            clients["asha"], "ghar", poem_form(audience="public", review_by=review_by)
        ).status_code
        == 200
    )
    assert (
        contribute(
            clients["meera"],
            "ghar",
            poem_form(
                title="छाया की कविता",
                audience="public",
                contributor="new",
                new_pseudonym="छाया",
                method="verbal",
            ),
        ).status_code
        == 200
    )
    own, stewarded = db.session.scalars(select(Item).order_by(Item.id)).all()

    def statuses(item):
        return {name: client.get(item_url(item)).status_code for name, client in clients.items()}

    assert statuses(own) == dict.fromkeys(clients, 200)
    for item in (own, stewarded):
        item.consent.review_by = access.today() - timedelta(days=1)
    db.session.commit()

    assert statuses(own) == {"asha": 200, "meera": 404, "ravi": 404, "anonymous": 404}
    assert statuses(stewarded) == {"asha": 404, "meera": 200, "ravi": 404, "anonymous": 404}
    assert access.effective_audience(own.consent) == "private"
    assert own.consent.audience == "public"  # the choice is kept; it waits for confirmation
    assert UDASI not in clients["anonymous"].get("/").get_data(as_text=True)


def test_a_withdrawn_item_shows_nothing_to_anyone(app, circle_people, signed_in, make_client):
    from archive.operations.withdraw import erase

    asha = circle_people["asha"]
    client = signed_in(asha)
    response = contribute(client, "ghar", poem_form(audience="public", tags="भरोसा"))
    assert response.status_code == 200
    item = newest_item()
    public_id = item.public_id
    erase(item, asha)
    db.session.commit()
    for viewer in (client, make_client(), signed_in(circle_people["meera"])):
        assert viewer.get(f"/items/{public_id}").status_code == 410
        assert viewer.get(f"/items/{public_id}/history").status_code == 410
        assert viewer.get("/api/v1/items/" + public_id).status_code == 410
        assert UDASI not in viewer.get("/tags/भरोसा").get_data(as_text=True)
        assert UDASI not in viewer.get("/").get_data(as_text=True)


# --- attribution: exactly as consented, and nothing more ----------------------------------------


def _everything_a_reader_gets(client, public_id: str) -> dict[str, str]:
    pages = {
        path: client.get(path)
        for path in (
            f"/items/{public_id}",
            f"/items/{public_id}/history",
            f"/items/{public_id}/versions/1",
            f"/items/{public_id}/diff?from=1&to=2",
            "/tags/भरोसा",
            "/",
            f"/api/v1/items/{public_id}",
            f"/api/v1/items/{public_id}/revisions",
            f"/api/v1/items/{public_id}/diff?from=1&to=2",
        )
    }
    for path, response in pages.items():
        assert response.status_code == 200, path
    return {path: response.get_data(as_text=True) for path, response in pages.items()}


def _shared_and_edited(client, slug: str, **consent) -> str:
    response = contribute(client, slug, poem_form(audience="public", tags="भरोसा", **consent))
    assert response.status_code == 200
    item = newest_item()
    edited = client.post_form(
        f"/items/{item.public_id}/edit",
        {"title": UDASI, "body": "नई पंक्ति", "language": "hi", "tags": "भरोसा"},
    )
    assert edited.status_code == 302
    return item.public_id


PROFILE_LINK = re.compile(r'href="[^"]*/(?:people|users?|profiles?|contributors?|u)/', re.I)


@pytest.mark.parametrize(
    "attribution, shown", [("anonymous", None), ("pseudonym", "नीली चिड़िया"), ("name", OWNER)]
)
def test_attribution_shows_exactly_what_was_chosen(
    app, circle_people, signed_in, make_client, attribution, shown
):
    asha = circle_people["asha"]
    public_id = _shared_and_edited(
        signed_in(asha),
        "ghar",
        attribution=attribution,
        pseudonym="नीली चिड़िया" if attribution == "pseudonym" else "",
    )
    hidden = {"asha's username": asha.username, "asha's name": OWNER}
    if attribution == "name":
        hidden = {"asha's username": asha.username}
    for reader in (
        make_client(),
        signed_in(circle_people["ravi"]),
        signed_in(circle_people["meera"]),
    ):
        got = _everything_a_reader_gets(reader, public_id)
        for path, text in got.items():
            for what, value in hidden.items():
                assert value.lower() not in text.lower(), f"{what} on {path}"
            assert not PROFILE_LINK.search(text), path
        item_page = got[f"/items/{public_id}"]
        head = item_page[: item_page.index("</head>")]
        assert asha.username not in head and "Secretname" not in head
        byline = re.search(r'<p class="byline">(.*?)</p>', item_page, re.S).group(1)
        api_byline = json.loads(got[f"/api/v1/items/{public_id}"])["byline"]
        if shown is None:
            assert "Shared anonymously" in byline and api_byline is None
        else:
            assert f"by {shown}" in byline and api_byline == shown
            assert f"by {shown}" in got["/tags/भरोसा"]


def test_an_anonymous_piece_recorded_for_someone_without_an_account(
    app, circle_people, signed_in, make_client
):
    meera = circle_people["meera"]
    client = signed_in(meera)
    response = contribute(
        client,
        "ghar",
        poem_form(
            audience="public",
            attribution="anonymous",
            contributor="new",
            new_pseudonym="गुप्त नाम",
            method="verbal",
            tags="भरोसा",
        ),
    )
    assert response.status_code == 200
    item = newest_item()
    assert item.contributor.pseudonym == "गुप्त नाम" and access.byline(item) is None
    assert (
        client.post_form(
            f"/items/{item.public_id}/edit",
            {"title": UDASI, "body": "नई पंक्ति", "language": "hi", "tags": "भरोसा"},
        ).status_code
        == 302
    )
    got = _everything_a_reader_gets(make_client(), item.public_id)
    for path, text in got.items():
        assert "गुप्त नाम" not in text, path
