"""JSON API v1 for collections: reading what the viewer may open, curating with a facilitator's
token, and every refusal as a JSON error that leaves nothing changed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from archive.db import db
from archive.models import Collection, CollectionIntro, Entry
from archive.operations.accounts import create_token
from tests.collections_helpers import collection, count, make_collection, share_piece, snapshot
from tests.erasure_helpers import change_consent, withdraw_signed_in
from tests.items_helpers import api_headers, circle_people, templates_compiled_once  # noqa: F401


@pytest.fixture
def people(circle_people):
    return circle_people


@pytest.fixture
def tokens(people):
    made = {
        name: create_token(people[name])
        for name in ("asha", "meera", "ravi", "sunil", "farah", "admin")
    }
    db.session.commit()
    return made


@pytest.fixture
def api(client, tokens):
    """``api(method, path, as_=None, **kwargs)``: a request with that person's token."""

    def call(method, path, as_=None, **kwargs):
        headers = {**api_headers(tokens.get(as_)), **kwargs.pop("headers", {})}
        response = client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)
        if response.status_code >= 400:
            assert response.is_json, response.get_data(as_text=True)[:300]
            assert response.json["status"] == response.status_code
            assert isinstance(response.json["error"], str) and response.json["error"]
        return response

    return call


@pytest.fixture
def stock(people):
    asha, home = people["asha"], people["home"]
    return {
        "a": share_piece(asha, home, "Alpha know-how"),
        "b": share_piece(asha, home, "Beta know-how", attribution="anonymous", language="hi"),
        "circle": share_piece(asha, home, "Circle-only know-how", audience="circle"),
        "no": share_piece(asha, home, "Not-for-collections know-how", collections=False),
    }


@pytest.fixture
def shelves(people, stock):
    """One collection in each state, all in the home circle."""
    meera, home = people["meera"], people["home"]
    return {
        "draft": make_collection(meera, home, "quiet", [stock["a"]]),
        "circle": make_collection(
            meera, home, "inside", [stock["a"], stock["circle"]], "circle", intro="For *us*"
        ),
        "public": make_collection(
            meera, home, "open", [stock["a"], stock["b"]], "public", intro="Welcome, **everyone**."
        ),
    }


def slugs(response) -> set[str]:
    assert response.status_code == 200
    return {found["slug"] for found in response.json["collections"]}


# --- reading ------------------------------------------------------------------------------


def test_the_list_holds_what_each_viewer_may_open(app, api, shelves):
    assert slugs(api("GET", "/collections")) == {"open"}
    assert slugs(api("GET", "/collections", "sunil")) == {"open"}
    assert slugs(api("GET", "/collections", "farah")) == {"open"}
    assert slugs(api("GET", "/collections", "asha")) == {"open", "inside"}
    assert slugs(api("GET", "/collections", "meera")) == {"open", "inside", "quiet"}
    assert slugs(api("GET", "/collections", "admin")) == {"open", "inside", "quiet"}
    found = api("GET", "/collections").json["collections"][0]
    assert found["title"] == "Know-hows" and found["circle"] == "ghar"
    assert found["state"] == "public" and found["url"].endswith("/collections/open")


def test_a_public_collection_as_anyone_reads_it(app, api, shelves, stock):
    response = api("GET", "/collections/open")
    assert response.status_code == 200
    body = response.json
    assert (body["slug"], body["title"], body["state"], body["circle"]) == (
        "open",
        "Know-hows",
        "public",
        "ghar",
    )
    assert body["intro"] == {
        "markdown": "Welcome, **everyone**.",
        "html": "<p>Welcome, <strong>everyone</strong>.</p>",
        "version": 1,
    }
    assert body["read_url"].endswith("/collections/open/read")
    assert "pieces_left" not in body
    alpha, beta = body["entries"]
    assert alpha["note"] == "note 1" and isinstance(alpha["id"], int)
    assert alpha["item"] == {
        "id": stock["a"].public_id,
        "title": "Alpha know-how",
        "byline": "Asha Secretname",
        "kind": "knowhow",
        "language": "en",
        "url": f"http://localhost/items/{stock['a'].public_id}",
    }
    assert beta["item"]["byline"] is None and beta["item"]["language"] == "hi"


def test_a_collection_the_viewer_may_not_open_is_not_found(app, api, shelves):
    for who in (None, "asha", "sunil", "farah"):
        assert api("GET", "/collections/quiet", who).status_code == 404, who
    for who in (None, "sunil", "farah"):
        assert api("GET", "/collections/inside", who).status_code == 404, who
    assert api("GET", "/collections/nowhere", "meera").status_code == 404


def test_members_see_circle_entries_and_curators_see_what_left(app, api, shelves):
    body = api("GET", "/collections/inside", "ravi").json
    assert [e["item"]["title"] for e in body["entries"]] == [
        "Alpha know-how",
        "Circle-only know-how",
    ]
    assert body["intro"]["html"] == "<p>For <em>us</em></p>"
    assert "pieces_left" not in body
    assert api("GET", "/collections/inside", "meera").json["pieces_left"] == 0
    assert api("GET", "/collections/quiet", "admin").status_code == 200


def test_a_piece_whose_consent_narrows_leaves_the_reply(
    app, api, shelves, stock, people, signed_in
):
    change_consent(signed_in(people["asha"]), stock["a"], collections=False)
    body = api("GET", "/collections/open").json
    assert [e["item"]["title"] for e in body["entries"]] == ["Beta know-how"]
    assert api("GET", "/collections/open", "meera").json["pieces_left"] == 1


# --- creating -----------------------------------------------------------------------------

NEW = {"slug": "screen-time", "title": "Screen time", "intro": "What *helped*.", "circle": "ghar"}


def test_a_facilitator_makes_a_collection(app, api, people):
    response = api("POST", "/collections", "meera", json=NEW)
    assert response.status_code == 201, response.json
    assert response.headers["Location"].endswith("/collections/screen-time")
    body = response.json
    assert (body["slug"], body["state"], body["entries"]) == ("screen-time", "draft", [])
    assert body["intro"]["html"] == "<p>What <em>helped</em>.</p>"
    made = collection("screen-time")
    assert made.curator_id == people["meera"].id and count(CollectionIntro) == 1


def test_an_admin_makes_one_in_any_circle(app, api):
    response = api("POST", "/collections", "admin", json={**NEW, "circle": "elsewhere"})
    assert response.status_code == 201
    assert collection("screen-time").circle.slug == "elsewhere"


def test_a_collection_can_start_open_to_the_circle(app, api):
    response = api("POST", "/collections", "meera", json={**NEW, "state": "circle"})
    assert response.status_code == 201 and response.json["state"] == "circle"


@pytest.mark.parametrize(
    "who, payload, status, field",
    [
        (None, NEW, 401, None),
        ("asha", NEW, 403, None),
        ("sunil", NEW, 403, "circle"),
        ("farah", NEW, 403, "circle"),
        ("meera", {**NEW, "circle": "nowhere"}, 403, "circle"),
        ("meera", {**NEW, "slug": "Not A Slug"}, 422, "slug"),
        ("meera", {**NEW, "slug": 7}, 422, "slug"),
        ("meera", {**NEW, "title": ""}, 422, "title"),
        ("meera", {**NEW, "title": "x" * 201}, 422, "title"),
        ("meera", {**NEW, "intro": "x" * 20_001}, 422, "intro"),
        ("meera", {**NEW, "state": "everywhere"}, 422, "state"),
        ("meera", [NEW], 400, None),
    ],
)
def test_making_a_collection_refused(app, api, who, payload, status, field):
    response = api("POST", "/collections", who, json=payload)
    assert response.status_code == status, response.json
    assert response.json.get("field") == field
    assert count(Collection) == 0 and count(CollectionIntro) == 0


def test_a_body_that_is_not_json_is_refused(app, api):
    response = api(
        "POST",
        "/collections",
        "meera",
        data="slug=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert count(Collection) == 0


def test_a_wrong_token_is_refused(app, api):
    response = api("GET", "/collections", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_a_slug_clash_is_refused(app, api, people):
    make_collection(people["meera"], people["home"], "screen-time")
    response = api("POST", "/collections", "meera", json=NEW)
    assert response.status_code == 409 and response.json["field"] == "slug"
    assert response.json["error"] == "Please choose another web address for this collection."
    assert count(Collection) == 1 and collection("screen-time").title == "Know-hows"


# --- editing ------------------------------------------------------------------------------


def test_the_intro_is_versioned(app, api, shelves):
    for words in ("Second", "Third"):
        response = api("PATCH", "/collections/inside", "meera", json={"intro": words})
        assert response.status_code == 200
    assert response.json["intro"] == {"markdown": "Third", "html": "<p>Third</p>", "version": 3}
    assert response.json["title"] == "Know-hows"  # left out: kept
    bodies = db.session.scalars(
        select(CollectionIntro.body)
        .where(CollectionIntro.collection_id == collection("inside").id)
        .order_by(CollectionIntro.number)
    )
    assert list(bodies) == ["For *us*", "Second", "Third"]
    response = api("PATCH", "/collections/inside", "meera", json={"title": "Ours"})
    assert response.json["title"] == "Ours" and response.json["intro"]["version"] == 3


@pytest.mark.parametrize(
    "who, slug, payload, status",
    [
        (None, "inside", {"title": "x"}, 401),
        ("asha", "inside", {"title": "x"}, 403),
        ("farah", "inside", {"title": "x"}, 404),
        ("farah", "open", {"title": "x"}, 403),
        ("meera", "nowhere", {"title": "x"}, 404),
        ("meera", "inside", {"title": "x", "intro": "y" * 20_001}, 422),
        ("meera", "inside", {"title": ""}, 422),
        ("meera", "inside", {"title": 3}, 422),
        ("meera", "inside", "just words", 400),
    ],
)
def test_editing_refused_changes_nothing(app, api, shelves, who, slug, payload, status):
    before = snapshot("inside")
    assert api("PATCH", f"/collections/{slug}", who, json=payload).status_code == status
    assert snapshot("inside") == before


# --- entries ------------------------------------------------------------------------------


def test_adding_a_piece(app, api, shelves, stock):
    response = api(
        "POST",
        "/collections/quiet/entries",
        "meera",
        json={"item": stock["circle"].public_id, "note": "From Thursday"},
    )
    assert response.status_code == 201, response.json
    assert response.json["note"] == "From Thursday"
    assert response.json["item"]["id"] == stock["circle"].public_id
    assert [e.item_id for e in collection("quiet").entries] == [stock["a"].id, stock["circle"].id]


@pytest.mark.parametrize(
    "who, slug, piece, status, field",
    [
        ("meera", "quiet", "no", 409, "item"),  # its author said no to collections
        ("meera", "open", "circle", 409, "item"),  # a public collection: public only
        ("meera", "quiet", "a", 409, "item"),  # already in it
        ("meera", "quiet", "missing", 409, "item"),
        ("meera", "quiet", "elsewhere", 409, "item"),  # another circle's piece, unseen
        ("asha", "inside", "b", 403, None),
        ("farah", "open", "b", 403, None),
        ("farah", "quiet", "b", 404, None),
        (None, "quiet", "b", 401, None),
    ],
)
def test_adding_refused_changes_nothing(
    app, api, shelves, stock, people, who, slug, piece, status, field
):
    stock["elsewhere"] = share_piece(
        people["sunil"], people["elsewhere"], "Theirs", audience="circle"
    )
    public_id = stock[piece].public_id if piece in stock else "no-such-item"
    before = snapshot(slug)
    response = api("POST", f"/collections/{slug}/entries", who, json={"item": public_id})
    assert response.status_code == status, response.json
    assert response.json.get("field") == field
    assert snapshot(slug) == before
    if piece == "no":
        assert "has not agreed" in response.json["error"]


def test_moving_entries(app, api, shelves, stock):
    first, second = (e.id for e in collection("inside").entries)
    response = api(
        "POST", f"/collections/inside/entries/{second}/move", "meera", json={"direction": "up"}
    )
    assert response.status_code == 200
    assert [e["id"] for e in response.json["entries"]] == [second, first]
    response = api(
        "POST", f"/collections/inside/entries/{second}/move", "meera", json={"direction": "down"}
    )
    assert [e["id"] for e in response.json["entries"]] == [first, second]


@pytest.mark.parametrize(
    "who, which, direction, status",
    [
        ("meera", 0, "up", 409),  # already first
        ("meera", 1, "down", 409),  # already last
        ("meera", 0, "sideways", 422),
        ("meera", 0, None, 422),
        ("meera", "other", "down", 404),  # an entry of another collection
        ("meera", "missing", "down", 404),
        ("asha", 1, "up", 403),
        ("farah", 1, "up", 404),
        (None, 1, "up", 401),
    ],
)
def test_moving_refused_changes_nothing(app, api, shelves, who, which, direction, status):
    ids = [e.id for e in collection("inside").entries]
    special = {"other": collection("quiet").entries[0].id, "missing": 99999}
    entry = special[which] if isinstance(which, str) else ids[which]
    before = snapshot("inside")
    response = api(
        "POST", f"/collections/inside/entries/{entry}/move", who, json={"direction": direction}
    )
    assert response.status_code == status, response.json
    assert snapshot("inside") == before


def test_taking_an_entry_out(app, api, shelves, stock):
    entry = collection("inside").entries[0].id
    response = api("DELETE", f"/collections/inside/entries/{entry}", "meera")
    assert response.status_code == 200
    assert [e["item"]["id"] for e in response.json["entries"]] == [stock["circle"].public_id]
    assert api("DELETE", f"/collections/inside/entries/{entry}", "meera").status_code == 404
    assert stock["a"].item().active


def test_taking_out_refused(app, api, shelves):
    entry = collection("inside").entries[0].id
    before = snapshot("inside")
    for who, status in ((None, 401), ("asha", 403), ("farah", 404), ("ravi", 403)):
        response = api("DELETE", f"/collections/inside/entries/{entry}", who)
        assert response.status_code == status, who
    other = collection("quiet").entries[0].id
    assert api("DELETE", f"/collections/inside/entries/{other}", "meera").status_code == 404
    assert snapshot("inside") == before and count(Entry) == 5


# --- states -------------------------------------------------------------------------------


def test_changing_the_state(app, api, shelves):
    response = api("POST", "/collections/quiet/state", "meera", json={"state": "public"})
    assert response.status_code == 200 and response.json["state"] == "public"
    assert api("GET", "/collections/quiet").status_code == 200
    assert (
        api("POST", "/collections/quiet/state", "meera", json={"state": "draft"}).json["state"]
        == "draft"
    )
    assert api("GET", "/collections/quiet").status_code == 404


@pytest.mark.parametrize(
    "who, payload, status, field",
    [
        ("meera", {"state": "public"}, 409, "state"),  # holds a circle-only piece
        ("meera", {"state": "everywhere"}, 422, "state"),
        ("meera", {}, 422, "state"),
        ("meera", {"state": ["public"]}, 422, "state"),
        ("asha", {"state": "draft"}, 403, None),
        ("farah", {"state": "draft"}, 404, None),
        (None, {"state": "draft"}, 401, None),
    ],
)
def test_changing_the_state_refused(app, api, shelves, who, payload, status, field):
    before = snapshot("inside")
    response = api("POST", "/collections/inside/state", who, json=payload)
    assert response.status_code == status, response.json
    assert response.json.get("field") == field
    assert snapshot("inside") == before
    if payload == {"state": "public"}:
        assert "not public" in response.json["error"]


# --- the OpenAPI document -----------------------------------------------------------------


def test_every_collection_route_is_described(app, api):
    paths = api("GET", "/openapi.json").json["paths"]
    assert {"get", "post"} <= set(paths["/collections"])
    assert {"get", "patch"} <= set(paths["/collections/{slug}"])
    assert "post" in paths["/collections/{slug}/entries"]
    assert "post" in paths["/collections/{slug}/entries/{entry_id}/move"]
    assert "delete" in paths["/collections/{slug}/entries/{entry_id}"]
    assert "post" in paths["/collections/{slug}/state"]


# --- nothing reveals what the curator may not see -----------------------------------------


def test_a_hidden_piece_is_refused_like_an_unknown_one(app, api, shelves, stock, people, signed_in):
    home, asha = people["home"], people["asha"]
    gone = share_piece(asha, home, "Taken back")
    assert withdraw_signed_in(signed_in(asha), gone).status_code in (200, 302)
    hidden = {
        "private": share_piece(asha, home, "Private", audience="private").public_id,
        "elsewhere": share_piece(
            people["sunil"], people["elsewhere"], "Theirs", audience="circle"
        ).public_id,
        "withdrawn": gone.public_id,
    }
    before = snapshot("quiet")
    unknown = api("POST", "/collections/quiet/entries", "meera", json={"item": "no-such"})
    assert unknown.status_code == 409 and unknown.json["field"] == "item"
    for name, public_id in hidden.items():
        answer = api("POST", "/collections/quiet/entries", "meera", json={"item": public_id})
        assert (answer.status_code, answer.json) == (unknown.status_code, unknown.json), name
    assert snapshot("quiet") == before


def test_a_taken_slug_answers_the_same_whoever_holds_it(app, api, people):
    make_collection(people["meera"], people["home"], "ours")
    make_collection(people["farah"], people["elsewhere"], "their-draft")
    answers = [
        api("POST", "/collections", "meera", json={**NEW, "slug": slug})
        for slug in ("ours", "their-draft")
    ]
    assert (answers[0].status_code, answers[0].json) == (answers[1].status_code, answers[1].json)
    assert answers[0].json["field"] == "slug"
    assert answers[0].json["error"] == "Please choose another web address for this collection."
    assert count(Collection) == 2


def test_an_entry_hidden_from_the_curator_is_not_found(app, api, shelves, stock):
    """The admin curates but is not a member: the circle-only entry is not theirs to see."""
    hidden = next(e.id for e in collection("inside").entries if e.item_id == stock["circle"].id)
    before = snapshot("inside")
    for method, path, body in (
        ("POST", "/entries/{}/move", {"direction": "up"}),
        ("DELETE", "/entries/{}", None),
    ):
        answers = [
            api(method, "/collections/inside" + path.format(number), "admin", json=body)
            for number in (hidden, 999_999)
        ]
        assert (answers[0].status_code, answers[0].json) == (404, answers[1].json)
    assert snapshot("inside") == before
