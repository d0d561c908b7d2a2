"""JSON API v1 for items: the same operations and access rule as the pages, with bearer tokens
and JSON errors."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from archive import access
from archive.db import db
from archive.models import ApiToken, Item
from archive.operations.accounts import create_token, revoke_token
from archive.operations.consent import code_hash
from tests.items_helpers import (  # noqa: F401
    ALT_TEXT,
    KHUSHI,
    KHUSHI_TYPED,
    POEM_BODY,
    UDASI,
    api_headers,
    assert_clean_webp,
    circle_people,
    gps_photo,
    media_files,
    multipart,
    only_item,
    row_counts,
    sha256,
    templates_compiled_once,
)


@pytest.fixture
def tokens(circle_people):
    made = {
        name: create_token(circle_people[name])
        for name in ("asha", "meera", "ravi", "sunil", "farah", "admin")
    }
    db.session.commit()
    return made


@pytest.fixture
def api(client, tokens):
    """``api(method, path, as_=None, **kwargs)``: a request with that person's token."""

    def call(method, path, as_=None, **kwargs):
        headers = {**api_headers(tokens.get(as_)), **kwargs.pop("headers", {})}
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    return call


def new_poem(**overrides) -> dict:
    review_by = (access.today() + timedelta(days=60)).isoformat()
    payload = {
        "kind": "poem",
        "title": UDASI,
        "body": POEM_BODY,
        "language": "hi",
        "tags": ["उम्मीद", "नींद"],
        "content_notes": ["grief"],
        "circle": "ghar",
        "consent": {
            "audience": "circle",
            "attribution": "pseudonym",
            "pseudonym": "नीला",
            "collections": True,
            "embeds": False,
            "packs": True,
            "review_by": review_by,
            "method": "self",
        },
    }
    payload.update(overrides)
    return payload


def with_image(item: dict, image: bytes, filename="photo.jpg") -> dict:
    return multipart(
        {
            "item": json.dumps(item, ensure_ascii=False),
            "image": (io.BytesIO(image), filename, "image/jpeg"),
        }
    )


# --- contributing -----------------------------------------------------------------------------


def test_contribute_a_poem(app, api, circle_people):
    response = api("POST", "/items", "asha", json=new_poem())

    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.json
    assert set(body) == {"id", "url", "revision", "state", "receipt"}
    assert body["state"] == "active"
    assert set(body["receipt"]) == {"id", "withdrawal_code"}
    assert body["revision"] == 1
    assert body["url"].endswith(f"/items/{body['id']}")
    assert response.headers["Location"] == body["url"]
    item = only_item()
    consent = item.consent
    assert item.public_id == body["id"]
    assert (
        item.kind,
        item.current.title,
        item.current.body,
        item.current.language,
        item.current.tags,
    ) == ("poem", UDASI, POEM_BODY, "hi", ["उम्मीद", "नींद"])
    assert item.contributor.account_id == circle_people["asha"].id
    assert (
        consent.audience,
        consent.attribution,
        consent.pseudonym,
        consent.allow_collections,
        consent.allow_embeds,
        consent.allow_packs,
        consent.method,
        consent.content_notes,
        consent.review_by.isoformat(),
    ) == (
        "circle",
        "pseudonym",
        "नीला",
        True,
        False,
        True,
        "self",
        ["grief"],
        new_poem()["consent"]["review_by"],
    )
    assert consent.receipt_id == body["receipt"]["id"]
    assert consent.withdrawal_code_hash == code_hash(body["receipt"]["withdrawal_code"])
    assert body["receipt"]["withdrawal_code"] not in consent.withdrawal_code_hash


def test_read_revise_list_and_diff(app, api):
    created = api("POST", "/items", "asha", json=new_poem()).json
    public_id = created["id"]

    item = api("GET", f"/items/{public_id}", "ravi")
    assert item.status_code == 200 and item.is_json
    got = item.json
    assert {
        k: got[k]
        for k in (
            "id",
            "kind",
            "circle",
            "revision",
            "current_revision",
            "title",
            "body",
            "language",
            "tags",
            "content_notes",
            "byline",
            "media",
        )
    } == {
        "id": public_id,
        "kind": "poem",
        "circle": "ghar",
        "revision": 1,
        "current_revision": 1,
        "title": UDASI,
        "body": POEM_BODY,
        "language": "hi",
        "tags": ["उम्मीद", "नींद"],
        "content_notes": ["grief"],
        "byline": "नीला",
        "media": None,
    }
    assert "<br" in got["html"] and "consent" not in got  # ravi reads; he does not edit
    assert api("GET", f"/items/{public_id}", "asha").json["consent"]["audience"] == "circle"

    revised = api(
        "POST",
        f"/items/{public_id}/revisions",
        "asha",
        json={"body": POEM_BODY.replace(UDASI, KHUSHI_TYPED), "note": "बदला"},
    )
    assert revised.status_code == 201, revised.get_data(as_text=True)
    assert revised.json["revision"] == 2 and revised.json["id"] == public_id

    history = api("GET", f"/items/{public_id}/revisions", "ravi")
    assert history.status_code == 200
    assert [(r["number"], r["note"], r["restored_from"]) for r in history.json["revisions"]] == [
        (2, "बदला", None),
        (1, "", None),
    ]
    assert api("GET", f"/items/{public_id}", "ravi").json["body"] == POEM_BODY.replace(
        UDASI, KHUSHI
    )

    diff = api("GET", f"/items/{public_id}/diff?from=1&to=2", "ravi")
    assert diff.status_code == 200
    assert (
        diff.json["from"],
        diff.json["to"],
        diff.json["words_added"],
        diff.json["words_removed"],
    ) == (1, 2, 1, 1)
    changed = [line for line in diff.json["lines"] if line["change"] == "changed"]
    assert len(changed) == 1
    assert [(s["text"], s["change"]) for s in changed[0]["segments"]] == [
        ("आज मन में ", "same"),
        (UDASI, "removed"),
        (KHUSHI, "added"),
        (" है", "same"),
    ]
    assert api("GET", f"/items/{public_id}/diff?from=1", "ravi").status_code == 400
    assert api("GET", f"/items/{public_id}/diff?from=1&to=7", "ravi").status_code == 404

    unchanged = api("POST", f"/items/{public_id}/revisions", "asha", json={})
    assert unchanged.status_code == 409 and "Nothing has changed" in unchanged.json["error"]


def test_contribute_artwork_as_multipart(app, api, make_client):
    upload = gps_photo()
    item = {
        "kind": "artwork",
        "title": "मेरी पेंटिंग",
        "language": "hi",
        "circle": "ghar",
        "alt_text": ALT_TEXT,
        "consent": {"audience": "public", "attribution": "anonymous"},
    }
    response = api("POST", "/items", "asha", **with_image(item, upload))
    assert response.status_code == 201, response.get_data(as_text=True)

    got = api("GET", f"/items/{response.json['id']}").json  # public: no token needed
    assert got["media"]["alt_text"] == ALT_TEXT and got["byline"] is None
    derivatives = got["media"]["derivatives"]
    assert set(derivatives) == {"display", "medium", "thumb"}
    reader = make_client()
    for entry in derivatives.values():
        served = reader.get(entry["url"])
        assert served.status_code == 200 and served.mimetype == "image/webp"
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in served.headers["Content-Security-Policy"]
        assert_clean_webp(served.data)
    assert sha256(upload) not in {sha256(p.read_bytes()) for p in media_files(app)}

    replaced = api(
        "POST",
        f"/items/{response.json['id']}/revisions",
        "asha",
        **with_image({"note": "नई फ़ोटो"}, gps_photo(colour=(10, 150, 60))),
    )
    assert replaced.status_code == 201
    again = api("GET", f"/items/{response.json['id']}").json["media"]["derivatives"]
    assert {e["url"] for e in again.values()}.isdisjoint(e["url"] for e in derivatives.values())
    for entry in derivatives.values():  # the first version's picture is still there
        assert reader.get(entry["url"]).status_code == 200


# --- recording for someone ------------------------------------------------------------------


def test_a_facilitator_records_for_a_new_profile_and_for_a_member(app, api, circle_people):
    meera, ravi = circle_people["meera"], circle_people["ravi"]
    verbal = {"audience": "private", "attribution": "anonymous", "method": "verbal"}
    profile = api(
        "POST", "/items", "meera", json=new_poem(contributor={"pseudonym": "छाया"}, consent=verbal)
    )
    assert profile.status_code == 201, profile.get_data(as_text=True)
    member = api(
        "POST",
        "/items",
        "meera",
        json=new_poem(contributor="ravi", consent={**verbal, "method": "written"}),
    )
    assert member.status_code == 201, member.get_data(as_text=True)

    by_id = {item.public_id: item for item in db.session.scalars(select(Item))}
    stewarded, ravis = by_id[profile.json["id"]], by_id[member.json["id"]]
    assert (stewarded.contributor.account_id, stewarded.contributor.pseudonym) == (None, "छाया")
    assert ravis.contributor.account_id == ravi.id
    assert (stewarded.consent.method, stewarded.consent.recorded_by_id) == ("verbal", meera.id)
    assert profile.json["receipt"]["withdrawal_code"]
    # for a member with an account it is a proposal: his to agree to, with his own receipt
    assert (member.json["state"], member.json["receipt"]) == ("proposed", None)
    assert (ravis.state, ravis.consent.method, ravis.consent.recorded_by_id) == (
        "proposed",
        "self",
        meera.id,
    )
    # the facilitator steward reads and edits the profile's item; ravi's is his alone
    assert api("GET", f"/items/{stewarded.public_id}", "meera").status_code == 200
    assert api("GET", f"/items/{ravis.public_id}", "meera").status_code == 404
    assert api("GET", f"/items/{ravis.public_id}", "ravi").status_code == 200
    # a profile recorded again by id
    again = api(
        "POST",
        "/items",
        "meera",
        json=new_poem(contributor={"profile": stewarded.contributor_id}, consent=verbal),
    )
    assert again.status_code == 201


@pytest.mark.parametrize(
    "who, contributor, circle, status",
    [
        ("asha", "ravi", "ghar", 403),  # a participant, for a member
        ("asha", {"pseudonym": "कोई"}, "ghar", 403),  # a participant, for a new profile
        ("farah", "ravi", "elsewhere", 403),  # another circle's facilitator, in hers
        ("farah", "ravi", "ghar", 403),  # ... or in ours: not her circle
        ("farah", {"pseudonym": "कोई"}, "ghar", 403),
        ("meera", "sunil", "ghar", 403),  # not a member of this circle
        ("meera", "nobody-at-all", "ghar", 403),
        ("meera", {"profile": 999}, "ghar", 403),
        ("meera", 42, "ghar", 422),
    ],
)
def test_recording_for_someone_else_is_refused(
    app, api, circle_people, who, contributor, circle, status
):
    before = row_counts()
    response = api(
        "POST",
        "/items",
        who,
        json=new_poem(
            contributor=contributor,
            circle=circle,
            consent={"audience": "circle", "method": "written"},
        ),
    )
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json and response.json["error"]
    assert row_counts() == before


def test_a_facilitator_cannot_record_with_method_self(app, api):
    before = row_counts()
    response = api(
        "POST",
        "/items",
        "meera",
        json=new_poem(
            contributor={"pseudonym": "छाया"}, consent={"audience": "private", "method": "self"}
        ),
    )
    assert response.status_code == 409
    assert response.json["error"] == "Please say how the person gave their consent."
    assert response.json["field"] == "method"
    assert row_counts() == before


def test_every_problem_of_a_new_piece_is_answered_at_once(app, api):
    """A phone app fixes them all in one go: what does not match the document (no title, an
    audience that is not one, a tag too long) in one 422 naming each field, the first also
    as ``error``; then what the archive's rules refuse (no words for a poem, a tag with
    markup) in one 409, the same way."""
    before = row_counts()
    response = api(
        "POST",
        "/items",
        "asha",
        json=new_poem(
            title="  ",
            body="",
            tags=["<b>", "x" * 41],
            consent={"audience": "everyone", "method": "self"},
        ),
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    problems = response.json["problems"]
    fields = ["title", "tags", "consent.audience"]
    assert [problem.get("field") for problem in problems] == fields
    assert all(problem["error"] for problem in problems)
    assert (response.json["error"], response.json["field"]) == (problems[0]["error"], "title")
    response = api("POST", "/items", "asha", json=new_poem(body="", tags=["<b>"]))
    assert response.status_code == 409, response.get_data(as_text=True)
    problems = response.json["problems"]
    assert [problem.get("field") for problem in problems] == ["body", "tags"]
    assert (response.json["error"], response.json["field"]) == (problems[0]["error"], "body")
    assert row_counts() == before


# --- tokens and errors ----------------------------------------------------------------------


def test_writes_need_a_token(app, api, client):
    public_id = api("POST", "/items", "asha", json=new_poem()).json["id"]
    before = row_counts()
    for path in ("/items", f"/items/{public_id}/revisions"):
        response = api("POST", path, json=new_poem())
        assert response.status_code == 401 and response.is_json
        assert "token" in response.json["error"]
    for header in ("Bearer", "Bearer nonsense", "Basic YXNoYTpwYXNz", "la_nothing"):
        response = api("POST", "/items", headers={"Authorization": header}, json=new_poem())
        assert response.status_code == 401 and response.json["error"], header
    # a session cookie is no credential here
    from tests.conftest import sign_in

    sign_in(client, "ashaunique")
    assert client.post("/api/v1/items", json=new_poem()).status_code == 401
    assert row_counts() == before


def test_a_revoked_token_is_refused(app, api, circle_people, tokens):
    asha = circle_people["asha"]
    public_id = api("POST", "/items", "asha", json=new_poem()).json["id"]
    token = db.session.scalar(select(ApiToken).where(ApiToken.account_id == asha.id))
    revoke_token(asha, token.id)
    db.session.commit()
    for method, path in (
        ("GET", f"/items/{public_id}"),
        ("POST", "/items"),
        ("POST", f"/items/{public_id}/revisions"),
    ):
        response = api(method, path, "asha", json=new_poem())
        assert response.status_code == 401, (method, path)
        assert response.json["error"] == "The API token is missing, wrong or revoked."


def test_someone_elses_private_item_is_404(app, api):
    public_id = api("POST", "/items", "asha", json=new_poem(consent={"audience": "private"})).json[
        "id"
    ]
    for who in ("ravi", "meera", "sunil", "admin", None):
        for path in ("", "/revisions", "/diff?from=1&to=1"):
            response = api("GET", f"/items/{public_id}{path}", who)
            assert response.status_code == 404, (who, path)
            assert response.json["error"] == "No such item."
    assert api("GET", f"/items/{public_id}", "asha").status_code == 200
    assert api("GET", "/items/does-not-exist", "asha").json["error"] == "No such item."


def test_errors_are_json(app, api):
    cases = [
        api("GET", "/nothing-here"),
        api("DELETE", "/items"),
        api("POST", "/items", "asha", data="{not json", content_type="application/json"),
        api("POST", "/items", "asha", json=["a", "list"]),
        api("POST", "/items", "asha", data={"item": "{broken"}, content_type="multipart/form-data"),
        api("POST", "/items", "asha", json=new_poem(title=7)),
        api("POST", "/items", "asha", json=new_poem(tags="a, b")),
        api("POST", "/items", "asha", json=new_poem(consent={"collections": "yes"})),
        api("POST", "/items", "asha", json=new_poem(consent="public")),
        api("POST", "/items", "asha", json=new_poem(consent={"review_by": "tomorrow"})),
        api("POST", "/items", "asha", json=new_poem(circle="nope")),
    ]
    for response in cases:
        assert 400 <= response.status_code < 500, response.status_code
        assert response.is_json, response.get_data(as_text=True)[:200]
        assert isinstance(response.json["error"], str) and response.json["error"]


# --- the OpenAPI document -------------------------------------------------------------------


def test_openapi_describes_every_route(app, api):
    response = api("GET", "/openapi.json")
    assert response.status_code == 200 and response.is_json
    document = response.json
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] and document["info"]["version"]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    paths = document["paths"]
    expected = {
        "/items": {"post"},
        "/items/{id}": {"get"},
        "/items/{id}/revisions": {"get", "post"},
        "/items/{id}/diff": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    # every API route the app really has is described (a new route needs its paths entry)
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.openapi_json":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        path = path.replace("{public_id}", "{id}")
        assert path in paths, f"{rule.rule} is missing from openapi.json"
        assert {m.lower() for m in rule.methods - {"HEAD", "OPTIONS"}} <= set(paths[path]), (
            rule.rule
        )
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert operation["responses"], (path, method)
            for ref in _refs(operation):
                name = ref.rsplit("/", 1)[1]
                assert name in document["components"]["schemas"], ref
    new_item = document["components"]["schemas"]["NewItem"]["properties"]
    assert {
        "kind",
        "title",
        "body",
        "language",
        "tags",
        "content_notes",
        "circle",
        "contributor",
        "consent",
    } <= set(new_item)
    consent = document["components"]["schemas"]["Consent"]["properties"]
    assert {
        "audience",
        "attribution",
        "pseudonym",
        "collections",
        "embeds",
        "packs",
        "review_by",
        "method",
    } <= set(consent)


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)
