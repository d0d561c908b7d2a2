"""Collections on the pages: curating (create, intro versions, entries, order, notes, states),
the collective document, entries leaving when consent changes, share links, visibility."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from archive.db import commit, db, utcnow
from archive.models import Collection, CollectionIntro, Consent, Entry, ShareLink
from archive.operations import collections as ops
from tests.collections_helpers import (
    collection,
    count,
    entry_id,
    entry_titles,
    make_collection,
    share_piece,
    snapshot,
)
from tests.conftest import without_csrf_token
from tests.erasure_helpers import Piece, change_consent, text, withdraw_signed_in
from tests.items_helpers import OWNER, circle_people, main_html, parse, templates_compiled_once  # noqa: F401

pytestmark = pytest.mark.both_databases


# --- helpers ------------------------------------------------------------------------------


def page(client, slug: str, suffix: str = "") -> str:
    response = client.get(f"/collections/{slug}{suffix}")
    assert response.status_code == 200, response.status_code
    return text(response)


@pytest.fixture
def people(circle_people):
    return circle_people


@pytest.fixture
def curator(people, signed_in):
    return signed_in(people["meera"])


@pytest.fixture
def stock(people):
    """Pieces of the home circle: two public, one for the circle, one without collections."""
    asha, home = people["asha"], people["home"]
    return {
        "a": share_piece(asha, home, "Alpha know-how"),
        "b": share_piece(asha, home, "Beta know-how"),
        "circle": share_piece(asha, home, "Circle-only know-how", audience="circle"),
        "no": share_piece(asha, home, "Not-for-collections know-how", collections=False),
    }


# --- creating -----------------------------------------------------------------------------


def test_a_facilitator_makes_a_collection(app, people, curator):
    response = curator.post_form(
        "/circles/ghar/collections/new",
        {"title": "Screen time", "slug": "screen-time", "intro": "What *helped* us."},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/collections/screen-time")
    made = collection("screen-time")
    assert (made.title, made.state, made.circle.slug) == ("Screen time", "draft", "ghar")
    assert made.curator_id == people["meera"].id
    html = page(curator, "screen-time")
    assert "<em>helped</em>" in html and "Screen time" in html


@pytest.mark.any_database
def test_a_participant_cannot_make_one(app, people, signed_in):
    asha = signed_in(people["asha"])
    assert asha.get("/circles/ghar/collections/new").status_code == 404
    response = asha.post_form(
        "/circles/ghar/collections/new", {"title": "Mine", "slug": "mine"}, page="/account"
    )
    assert response.status_code in (403, 404)
    assert count(Collection) == 0


@pytest.mark.any_database
def test_a_facilitator_of_another_circle_cannot_edit(app, people, stock, signed_in):
    slug = make_collection(people["meera"], people["home"], "ours", [stock["a"]], intro="Our words")
    before = snapshot(slug)
    farah = signed_in(people["farah"])
    assert farah.get(f"/collections/{slug}").status_code == 404
    entry = entry_id(slug, "Alpha know-how")
    attempts = [
        (f"/collections/{slug}/edit", {"title": "Taken", "intro": "Taken over"}),
        (f"/collections/{slug}/state", {"state": "public"}),
        (f"/collections/{slug}/entries", {"item": stock["b"].public_id}),
        (f"/collections/{slug}/entries/{entry}/remove", {}),
        (f"/collections/{slug}/entries/{entry}/note", {"note": "mine now"}),
        (f"/collections/{slug}/share-links", {"days": "30"}),
    ]
    for url, data in attempts:
        assert farah.post_form(url, data, page="/account").status_code == 404, url
    assert snapshot(slug) == before
    # and the same once the collection is open to the circle (still not theirs to curate)
    ops.set_state(people["meera"], collection(slug), "circle")
    commit()
    before = snapshot(slug)
    for url, data in attempts:
        assert farah.post_form(url, data, page="/account").status_code == 404, url
    assert snapshot(slug) == before


@pytest.mark.any_database
def test_an_admin_can_make_and_edit_one(app, people, signed_in):
    admin = signed_in(people["admin"])
    response = admin.post_form(
        "/circles/ghar/collections/new", {"title": "By the admin", "slug": "by-admin"}
    )
    assert response.status_code == 302
    response = admin.post_form(
        "/collections/by-admin/edit",
        {"title": "Renamed", "intro": "Hello"},
        page="/collections/by-admin",
    )
    assert response.status_code == 302
    assert collection("by-admin").title == "Renamed"


def test_a_slug_clash_is_refused(app, people, curator):
    make_collection(people["meera"], people["home"], "taken")
    response = curator.post_form(
        "/circles/ghar/collections/new", {"title": "Another", "slug": "taken"}
    )
    assert response.status_code == 422
    assert TAKEN in text(response)
    assert count(Collection) == 1 and collection("taken").title == "Know-hows"


@pytest.mark.any_database
@pytest.mark.parametrize("slug", ["!!", "ab", "x" * 201])
def test_a_bad_slug_is_refused(app, curator, slug):
    """What a curator types is written in Latin letters ("Not A Slug!" becomes not-a-slug,
    tests/test_wording.py); an address with too few letters, or far too long, is refused."""
    response = curator.post_form("/circles/ghar/collections/new", {"title": "Bad", "slug": slug})
    assert response.status_code == 422
    assert count(Collection) == 0


# --- the introduction is versioned --------------------------------------------------------


def test_the_intro_is_versioned(app, people, curator):
    slug = make_collection(people["meera"], people["home"], "versions", intro="First words")
    for words in ("Second words", "Third words"):
        response = curator.post_form(
            f"/collections/{slug}/edit",
            {"title": "Know-hows", "intro": words},
            page=f"/collections/{slug}",
        )
        assert response.status_code == 302
    bodies = [
        intro.body
        for intro in db.session.scalars(select(CollectionIntro).order_by(CollectionIntro.number))
    ]
    assert bodies == ["First words", "Second words", "Third words"]
    assert collection(slug).intro.number == 3
    html = main_html(page(curator, slug))
    shown = html.split('<section id="curate"')[0]
    assert "Third words" in shown and "First words" not in shown
    assert "Second words" not in shown
    assert "Third words" in page(curator, slug, "/read")


@pytest.mark.any_database
def test_saving_the_same_intro_makes_no_new_version(app, people, curator):
    slug = make_collection(people["meera"], people["home"], "same", intro="Same words")
    curator.post_form(
        f"/collections/{slug}/edit",
        {"title": "New title", "intro": "Same words"},
        page=f"/collections/{slug}",
    )
    assert count(CollectionIntro) == 1
    assert collection(slug).title == "New title"


# --- adding: consent decides --------------------------------------------------------------


def add(client, slug: str, piece: Piece, note: str = ""):
    return client.post_form(
        f"/collections/{slug}/entries",
        {"item": piece.public_id, "note": note},
        page=f"/collections/{slug}",
    )


@pytest.mark.any_database
def test_only_pieces_that_allow_collections_can_be_added(app, people, stock, curator):
    slug = make_collection(people["meera"], people["home"], "consented")
    html = page(curator, slug)
    assert "Alpha know-how" in html and "Not-for-collections know-how" not in html
    before = snapshot(slug)
    response = add(curator, slug, stock["no"])
    assert response.status_code == 302
    assert "its author has not agreed" in text(curator.get(response.headers["Location"]))
    assert snapshot(slug) == before

    assert add(curator, slug, stock["circle"], "From our Thursday").status_code == 302
    assert entry_titles(slug) == ["Circle-only know-how"]
    assert collection(slug).entries[0].note == "From our Thursday"


def test_a_piece_goes_in_once(app, people, stock, curator):
    slug = make_collection(people["meera"], people["home"], "once", [stock["a"]])
    before = snapshot(slug)
    response = add(curator, slug, stock["a"])
    assert "already in the collection" in text(curator.get(response.headers["Location"]))
    assert snapshot(slug) == before


@pytest.mark.any_database
def test_a_piece_of_another_circle_cannot_be_added(app, people, stock, curator):
    outside = share_piece(people["sunil"], people["elsewhere"], "Elsewhere know-how")
    slug = make_collection(people["meera"], people["home"], "ours-only")
    add(curator, slug, outside)
    assert entry_titles(slug) == []


@pytest.mark.any_database
def test_a_public_collection_takes_only_public_pieces(app, people, stock, curator):
    slug = make_collection(people["meera"], people["home"], "open", [stock["a"]], "public")
    before = snapshot(slug)
    response = add(curator, slug, stock["circle"])
    assert response.status_code == 302
    assert snapshot(slug) == before
    assert add(curator, slug, stock["b"]).status_code == 302
    assert entry_titles(slug) == ["Alpha know-how", "Beta know-how"]


@pytest.mark.any_database
def test_publishing_with_a_piece_that_is_not_public_is_refused(app, people, stock, curator):
    slug = make_collection(
        people["meera"], people["home"], "mixed", [stock["a"], stock["circle"]], "circle"
    )
    before = snapshot(slug)
    response = curator.post_form(
        f"/collections/{slug}/state", {"state": "public"}, page=f"/collections/{slug}"
    )
    assert response.status_code == 422  # named: tests/test_collection_publish.py
    assert "Circle-only know-how" in text(response).split('id="not-public"')[1]
    assert snapshot(slug) == before and collection(slug).state == "circle"


# --- order, notes, taking out -------------------------------------------------------------


def move(client, slug: str, title: str, direction: str):
    return client.post_form(
        f"/collections/{slug}/entries/{entry_id(slug, title)}/{direction}",
        page=f"/collections/{slug}",
    )


def test_reordering_with_plain_forms(app, people, stock, curator):
    slug = make_collection(
        people["meera"],
        people["home"],
        "order",
        [stock["a"], stock["b"], stock["circle"]],
        "circle",
    )
    html = page(curator, slug)
    forms = [tag.attrs for tag in parse(html).tags if tag.name == "form"]
    for title in ("Alpha know-how", "Beta know-how", "Circle-only know-how"):
        for action in ("up", "down"):
            url = f"/collections/{slug}/entries/{entry_id(slug, title)}/{action}"
            assert {"method": "post", "action": url, "class": "inline"} in forms
    assert "<script" not in html

    assert move(curator, slug, "Beta know-how", "up").status_code == 302
    assert entry_titles(slug) == ["Beta know-how", "Alpha know-how", "Circle-only know-how"]
    move(curator, slug, "Beta know-how", "down")
    move(curator, slug, "Beta know-how", "down")
    assert entry_titles(slug) == ["Alpha know-how", "Circle-only know-how", "Beta know-how"]
    html = main_html(page(curator, slug))
    assert (
        html.index("Alpha know-how")
        < html.index("Circle-only know-how")
        < html.index("Beta know-how")
    )


def test_moving_past_either_end_is_refused(app, people, stock, curator):
    slug = make_collection(people["meera"], people["home"], "ends", [stock["a"], stock["b"]])
    before = snapshot(slug)
    for title, direction in (("Alpha know-how", "up"), ("Beta know-how", "down")):
        response = move(curator, slug, title, direction)
        assert response.status_code == 302
        assert "already at that end" in text(curator.get(response.headers["Location"]))
        assert snapshot(slug) == before


@pytest.mark.any_database
def test_curator_notes(app, people, stock, curator):
    slug = make_collection(people["meera"], people["home"], "notes", [stock["a"]], "circle")
    entry = entry_id(slug, "Alpha know-how")
    response = curator.post_form(
        f"/collections/{slug}/entries/{entry}/note",
        {"note": "Read this one first"},
        page=f"/collections/{slug}",
    )
    assert response.status_code == 302
    assert collection(slug).entries[0].note == "Read this one first"
    for suffix in ("", "/read"):  # the collection page and the collective view carry it
        assert '<p class="curator-note">Read this one first</p>' in page(curator, slug, suffix)


def test_taking_a_piece_out(app, people, stock, curator):
    slug = make_collection(people["meera"], people["home"], "out", [stock["a"], stock["b"]])
    entry = entry_id(slug, "Alpha know-how")
    response = curator.post_form(
        f"/collections/{slug}/entries/{entry}/remove", page=f"/collections/{slug}"
    )
    assert response.status_code == 302
    assert entry_titles(slug) == ["Beta know-how"]
    assert count(Entry) == 1
    assert stock["a"].item().active  # only the entry went, never the piece


# --- the collective document --------------------------------------------------------------


@pytest.mark.any_database
def test_the_collective_document(app, people, make_client):
    asha, ravi, home = people["asha"], people["ravi"], people["home"]
    named = share_piece(asha, home, "Named know-how")
    penned = share_piece(asha, home, "Pen-named poem", attribution="pseudonym", pseudonym="नीला")
    hidden = share_piece(
        ravi, home, "उदासी के दिन", attribution="anonymous", language="hi", body="खिड़की खोलता हूँ"
    )
    slug = make_collection(
        people["meera"],
        home,
        "woven",
        [named, penned, hidden],
        "public",
        intro="Welcome to *our* document.",
    )
    html = main_html(page(make_client(), slug, "/read"))
    assert (
        html.index("<em>our</em>")
        < html.index("Named know-how")
        < html.index("Pen-named poem")
        < html.index("उदासी के दिन")
    )
    assert f"by {OWNER}" in html
    assert "by नीला" in html and asha.shown_name not in html.split("Pen-named poem")[1]
    pieces = html.split('<section class="piece"')
    assert len(pieces) == 4
    assert "Shared anonymously" in pieces[3]
    assert "Ravi Member" not in html and ravi.username not in html
    tags = parse(pieces[3]).tags
    assert any(
        t.name == "div" and "text" in t.attrs.get("class", "") and t.attrs.get("lang") == "hi"
        for t in tags
    )
    assert any(t.name == "h2" and t.attrs.get("lang") == "hi" for t in tags)
    english = parse(pieces[1]).tags
    assert any(t.name == "div" and t.attrs.get("lang") == "en" for t in english)


# --- consent changes take entries out at once ---------------------------------------------


@pytest.fixture
def woven(people, stock):
    """Alpha is in a public collection and a circle collection."""
    meera, home = people["meera"], people["home"]
    return {
        "public": make_collection(meera, home, "for-all", [stock["a"], stock["b"]], "public"),
        "circle": make_collection(meera, home, "for-us", [stock["a"], stock["circle"]], "circle"),
    }


def test_narrowing_to_the_circle_leaves_the_public_collection(app, people, stock, woven, signed_in):
    asha = signed_in(people["asha"])
    assert change_consent(asha, stock["a"], audience="circle").status_code == 302
    assert entry_titles(woven["public"]) == ["Beta know-how"]
    assert entry_titles(woven["circle"]) == ["Alpha know-how", "Circle-only know-how"]
    assert collection(woven["public"]).removed_unseen == 1
    assert collection(woven["circle"]).removed_unseen == 0
    assert "Alpha know-how" not in page(asha, woven["public"], "/read")
    assert "Alpha know-how" in page(asha, woven["circle"], "/read")


def test_switching_off_collections_leaves_every_collection(app, people, stock, woven, signed_in):
    asha = signed_in(people["asha"])
    assert change_consent(asha, stock["a"], collections=False).status_code == 302
    assert entry_titles(woven["public"]) == ["Beta know-how"]
    assert entry_titles(woven["circle"]) == ["Circle-only know-how"]
    for slug in woven.values():
        assert "Alpha know-how" not in page(asha, slug, "/read")


def test_withdrawal_takes_it_out_of_every_view(app, people, stock, woven, signed_in, make_client):
    asha = signed_in(people["asha"])
    assert withdraw_signed_in(asha, stock["a"]).status_code in (200, 302)
    assert not stock["a"].item().active
    assert count(Entry) == 2
    for slug in woven.values():
        assert "Alpha know-how" not in page(asha, slug, "/read")
    assert "Alpha know-how" not in page(make_client(), woven["public"], "/read")
    curator = signed_in(people["meera"])
    assert "Alpha know-how" not in page(curator, woven["circle"])


def test_the_curator_is_told_how_many_left_but_not_which(app, people, stock, woven, signed_in):
    asha = signed_in(people["asha"])
    change_consent(asha, stock["a"], collections=False)
    change_consent(asha, stock["circle"], collections=False)
    curator = signed_in(people["meera"])
    html = page(curator, woven["circle"])
    assert "2 pieces left this collection because their authors changed their consent." in html
    assert "Alpha know-how" not in html and "Circle-only know-how" not in html
    # the member who is not curating is not told
    assert "left this collection" not in page(signed_in(people["ravi"]), woven["circle"])
    response = curator.post_form(
        f"/collections/{woven['circle']}/seen", page=f"/collections/{woven['circle']}"
    )
    assert response.status_code == 302
    assert collection(woven["circle"]).removed_unseen == 0
    assert "left this collection" not in page(curator, woven["circle"])


# --- share links --------------------------------------------------------------------------

LINK = re.compile(r'value="(http://localhost/shared/[^"]+)"')


def make_link(client, slug: str) -> str:
    response = client.post_form(
        f"/collections/{slug}/share-links",
        {"days": "30"},
        page=f"/collections/{slug}",
        follow_redirects=True,
    )
    assert response.status_code == 200
    html = text(response)
    assert "1 piece will be left out of a share link." in html
    return LINK.search(html).group(1).removeprefix("http://localhost")


def test_a_share_link_shows_only_public_consented_pieces(
    app, people, stock, woven, curator, make_client, signed_in
):
    assert "1 piece will be left out of a share link." in page(curator, woven["circle"])
    link = make_link(curator, woven["circle"])
    response = make_client().get(link)
    assert response.status_code == 200
    html = text(response)
    assert "Alpha know-how" in html and "Circle-only know-how" not in html
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert any(
        t.name == "meta"
        and t.attrs.get("name") == "robots"
        and "noindex" in t.attrs.get("content", "")
        for t in parse(html).tags
    )
    assert response.headers["Cache-Control"] == "no-store"
    # a piece whose author switches off collections leaves the link at once
    change_consent(signed_in(people["asha"]), stock["a"], collections=False)
    assert "Alpha know-how" not in text(make_client().get(link))


def test_an_expired_link_shows_nothing(app, people, woven, curator, make_client):
    link = make_link(curator, woven["circle"])
    found = db.session.scalar(select(ShareLink))
    found.expires_at = utcnow() - timedelta(minutes=1)
    commit()
    response = make_client().get(link)
    assert response.status_code == 404
    assert "Alpha know-how" not in text(response)


@pytest.mark.any_database
def test_a_revoked_link_shows_nothing(app, people, woven, curator, make_client):
    link = make_link(curator, woven["circle"])
    link_id = db.session.scalar(select(ShareLink.id))
    response = curator.post_form(
        f"/collections/{woven['circle']}/share-links/{link_id}/revoke",
        page=f"/collections/{woven['circle']}",
    )
    assert response.status_code == 302
    response = make_client().get(link)
    assert response.status_code == 404 and "Alpha know-how" not in text(response)


@pytest.mark.any_database
def test_a_draft_cannot_be_shared(app, people, stock, curator, make_client):
    slug = make_collection(people["meera"], people["home"], "not-yet", [stock["a"]])
    assert "Share with partners" not in page(curator, slug)
    response = curator.post_form(
        f"/collections/{slug}/share-links", {"days": "30"}, page=f"/collections/{slug}"
    )
    assert response.status_code == 302
    assert count(ShareLink) == 0
    # and a link made earlier stops working when the collection goes back to draft
    ops.set_state(people["meera"], collection(slug), "circle")
    commit()
    link = make_link_without_left_out(curator, slug)
    assert make_client().get(link).status_code == 200
    ops.set_state(people["meera"], collection(slug), "draft")
    commit()
    assert make_client().get(link).status_code == 404


def make_link_without_left_out(client, slug: str) -> str:
    response = client.post_form(
        f"/collections/{slug}/share-links",
        {"days": "7"},
        page=f"/collections/{slug}",
        follow_redirects=True,
    )
    assert response.status_code == 200
    return LINK.search(text(response)).group(1).removeprefix("http://localhost")


@pytest.mark.any_database
def test_an_unknown_link_shows_nothing(app, make_client):
    assert make_client().get("/shared/not-a-real-token").status_code == 404


# --- who sees what ------------------------------------------------------------------------


def statuses(clients: dict, url: str) -> dict:
    return {name: client.get(url).status_code for name, client in clients.items()}


@pytest.fixture
def viewers(people, signed_in, make_client):
    clients = {
        name: signed_in(people[name])
        for name in ("meera", "asha", "ravi", "sunil", "farah", "admin")
    }
    clients["anonymous"] = make_client()
    return clients


@pytest.mark.any_database
def test_a_draft_is_seen_only_by_its_curators(app, people, stock, viewers):
    slug = make_collection(people["meera"], people["home"], "quiet", [stock["a"]])
    for suffix in ("", "/read"):
        assert statuses(viewers, f"/collections/{slug}{suffix}") == {
            "meera": 200,
            "admin": 200,
            "asha": 404,
            "ravi": 404,
            "sunil": 404,
            "farah": 404,
            "anonymous": 404,
        }


@pytest.mark.any_database
def test_a_circle_collection_is_seen_by_members(app, people, stock, viewers):
    slug = make_collection(people["meera"], people["home"], "inside", [stock["a"]], "circle")
    for suffix in ("", "/read"):
        assert statuses(viewers, f"/collections/{slug}{suffix}") == {
            "meera": 200,
            "admin": 200,
            "asha": 200,
            "ravi": 200,
            "sunil": 404,
            "farah": 404,
            "anonymous": 404,
        }


@pytest.mark.any_database
def test_a_public_collection_is_seen_by_everyone(app, people, stock, viewers):
    slug = make_collection(people["meera"], people["home"], "everyone", [stock["a"]], "public")
    for suffix in ("", "/read"):
        assert set(statuses(viewers, f"/collections/{slug}{suffix}").values()) == {200}


@pytest.mark.any_database
def test_anonymous_readers_see_only_public_entries(app, people, stock, viewers):
    """A passed review date makes a piece private at read time: it leaves what strangers
    see of a public collection without waiting for any job."""
    slug = make_collection(
        people["meera"], people["home"], "reviewed", [stock["a"], stock["b"]], "public"
    )
    consent = db.session.scalar(select(Consent).where(Consent.item_id == stock["b"].id))
    consent.review_by = utcnow().date() - timedelta(days=1)
    commit()
    for name in ("anonymous", "sunil"):
        html = page(viewers[name], slug, "/read")
        assert "Alpha know-how" in html and "Beta know-how" not in html
        html = page(viewers[name], slug)
        assert "Alpha know-how" in html and "Beta know-how" not in html


def test_the_circle_collection_shows_members_only_what_they_may_see(app, people, stock, viewers):
    slug = make_collection(
        people["meera"], people["home"], "members", [stock["a"], stock["circle"]], "circle"
    )
    html = page(viewers["ravi"], slug, "/read")
    assert "Alpha know-how" in html and "Circle-only know-how" in html


# --- nothing reveals what the curator may not see -----------------------------------------

FLASH = re.compile(r'<p class="flash (\w+)">(.*?)</p>', re.S)
TAKEN = "Please choose another web address for this collection."


def flashed(client, response) -> list[tuple[str, str]]:
    assert response.status_code == 302, response.status_code
    return FLASH.findall(text(client.get(response.headers["Location"])))


@pytest.fixture
def unseen(people, stock, signed_in):
    """Pieces the home circle's facilitator may not see, each its own way: an account
    holder's private piece, another circle's circle-only piece, a withdrawn piece."""
    home, asha = people["home"], people["asha"]
    gone = share_piece(asha, home, "Taken-back know-how")
    assert withdraw_signed_in(signed_in(asha), gone).status_code in (200, 302)
    return {
        "private": share_piece(asha, home, "Private know-how", audience="private"),
        "elsewhere": share_piece(
            people["sunil"], people["elsewhere"], "Their know-how", audience="circle"
        ),
        "withdrawn": gone,
    }


@pytest.mark.any_database
def test_a_hidden_piece_is_refused_like_an_unknown_one(app, people, stock, unseen, curator):
    slug = make_collection(people["meera"], people["home"], "unseen")
    before = snapshot(slug)
    unknown = curator.post_form(
        f"/collections/{slug}/entries", {"item": "no-such-piece"}, page=f"/collections/{slug}"
    )
    expected = flashed(curator, unknown)
    assert expected == [("error", "That piece was not found.")]
    for name, piece in unseen.items():
        answer = flashed(curator, add(curator, slug, piece))
        assert answer == expected, name
    assert snapshot(slug) == before


@pytest.mark.any_database
def test_a_taken_slug_answers_the_same_whoever_holds_it(app, people, curator, signed_in):
    make_collection(people["meera"], people["home"], "ours")
    make_collection(people["farah"], people["elsewhere"], "their-draft")
    answers = {}
    for slug in ("ours", "their-draft"):
        response = curator.post_form(
            "/circles/ghar/collections/new", {"title": "Another", "slug": slug}
        )
        html = without_csrf_token(text(response))
        assert TAKEN in html and "already exists" not in html
        answers[slug] = (response.status_code, html.replace(slug, "SLUG"))
    assert answers["ours"] == answers["their-draft"]
    assert count(Collection) == 2


@pytest.mark.any_database
def test_the_operation_says_the_same_for_a_taken_slug(app, people, request_context):
    make_collection(people["farah"], people["elsewhere"], "their-draft")
    with pytest.raises(ops.Refused) as refused:
        ops.create(people["meera"], people["home"], "their-draft", "Mine")
    assert (str(refused.value.message), refused.value.field) == (TAKEN, "slug")


@pytest.fixture
def with_unseen_entry(people, stock):
    """A circle collection holding Alpha, a circle-only piece and Beta, curated by an admin
    who is not a member of the circle: the circle-only piece is hidden from them."""
    return make_collection(
        people["meera"],
        people["home"],
        "mixed-view",
        [stock["a"], stock["circle"], stock["b"]],
        "circle",
    )


@pytest.mark.any_database
def test_a_curator_cannot_touch_an_entry_hidden_from_them(
    app, people, stock, with_unseen_entry, signed_in
):
    slug = with_unseen_entry
    admin = signed_in(people["admin"])
    assert "Circle-only know-how" not in page(admin, slug)
    hidden = entry_id(slug, "Circle-only know-how")
    before = snapshot(slug)
    for action, data in (("up", {}), ("down", {}), ("remove", {}), ("note", {"note": "seen you"})):
        answers = [
            flashed(
                admin,
                admin.post_form(
                    f"/collections/{slug}/entries/{number}/{action}",
                    data,
                    page=f"/collections/{slug}",
                ),
            )
            for number in (hidden, 999_999)
        ]
        assert answers[0] == answers[1] == [("error", "That entry is not in this collection.")]
    assert snapshot(slug) == before


@pytest.mark.any_database
def test_moving_skips_entries_hidden_from_the_curator(
    app, people, stock, with_unseen_entry, signed_in
):
    """Beta moves above Alpha in one step: a step past a hidden entry would look like no
    move at all, and tell the curator something is there."""
    slug = with_unseen_entry
    admin = signed_in(people["admin"])
    assert move(admin, slug, "Beta know-how", "up").status_code == 302
    html = main_html(page(admin, slug))
    assert html.index("Beta know-how") < html.index("Alpha know-how")
    assert entry_titles(slug) == ["Beta know-how", "Circle-only know-how", "Alpha know-how"]
    response = move(admin, slug, "Alpha know-how", "down")
    assert "already at that end" in text(admin.get(response.headers["Location"]))
