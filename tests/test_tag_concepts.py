"""Tag concepts: a circle's facilitators join tags that mean the same ("sleep", "नींद",
"झोप") into one, named in each language; tag pages, search and its facets treat it as one,
and count only what the viewer may see; the circle's changes are noted without words; an
erased piece's last tag leaves its concept; the forms offer the concepts while tagging."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from archive.db import commit, db
from archive.models import CircleEvent, ConceptTag, Item, TagConcept
from archive.operations import Refused, withdraw
from archive.operations import items as item_ops
from archive.operations import tags as ops
from archive.operations.accounts import create_token
from archive.operations.consent import ConsentChoice
from tests.conftest import sign_in

LABELS = {"en": "Sleep", "hi": "नींद", "mr": "झोप"}


def share(by, circle, title: str, tags: list[str], audience: str = "circle") -> Item:
    body = f"{title} body"
    draft = item_ops.Draft(kind="story", title=title, body=body, language="en", tags=tags)
    contributor = item_ops.contributor_for(by)
    result = item_ops.contribute(by, circle, contributor, draft, ConsentChoice(audience=audience))
    commit()
    return result.item


@pytest.fixture
def world(app, make_circle, make_account, make_client):
    home = make_circle("ghar", "Ghar")
    other = make_circle("bahar", "Bahar")
    people = {
        "facilitator": make_account("meenal", role="facilitator", circle=home, locale="en"),
        "member": make_account("rohan", circle=home, locale="hi"),
        "writer": make_account("kavita", circle=home, locale="mr"),
        "private": make_account("asha", circle=home),
        "other facilitator": make_account("farida", role="facilitator", circle=other),
        "stranger": make_account("sahil", circle=other),
        "admin": make_account("root", role="admin"),
    }
    pieces = {
        "english": share(people["writer"], home, "Zqxenglish", ["sleep", "night"]),
        "marathi": share(people["member"], home, "Zqxmarathi", ["झोप"]),
        # only its contributor sees it: its tag is never counted nor joinable by others
        "hidden": share(people["private"], home, "Zqxhidden", ["नींद"], audience="private"),
        # another circle's "झोप" is not the home circle's to join
        "elsewhere": share(people["stranger"], other, "Zqxelsewhere", ["झोप"], "public"),
    }
    return home, other, people, pieces, Clients(people, make_client)


class Clients(dict):
    """A signed-in client for each person, signed in when first asked for (a sign-in
    hashes a password: only those a test uses)."""

    def __init__(self, people, make_client):
        super().__init__()
        self.people, self.make_client = people, make_client

    def __missing__(self, name):
        client = self[name] = self.make_client()
        sign_in(client, self.people[name].username)
        return client


def found(client, url: str) -> set[str]:
    page = client.get(url).get_data(as_text=True)
    return set(re.findall(r"Zqx[a-z]+", page))


def tag_facets(page: str) -> dict[str, str]:
    """The tag facet of a results page: {name shown: count}."""
    return dict(re.findall(r'tag=[^"]*">([^<]+)</a> <span class="muted">\((\d+)\)', page))


def test_joining_renaming_and_splitting_are_the_facilitators_and_noted_without_words(
    world, request_context
):
    home, other, people, _pieces, clients = world
    for name in ("member", "other facilitator", "stranger"):
        with pytest.raises(Refused) as refused:
            ops.join(people[name], home, ["sleep", "झोप"], LABELS)
        assert refused.value.status == 404
        db.session.rollback()
        assert clients[name].get("/circles/ghar/tags").status_code == 404
    # a tag of a piece the facilitator may not see cannot be joined (nor learned of)
    with pytest.raises(Refused) as refused:
        ops.join(people["facilitator"], home, ["sleep", "नींद"], LABELS)
    assert refused.value.field == "tags"
    db.session.rollback()
    with pytest.raises(Refused) as refused:
        ops.join(people["facilitator"], home, ["sleep"], {"en": "", "hi": " ", "mr": ""})
    assert refused.value.field == "label_en"
    db.session.rollback()

    concept = ops.join(people["facilitator"], home, ["Sleep ", "झोप"], LABELS)
    commit()
    assert concept.tags == ["sleep", "झोप"]
    assert [concept.label(locale) for locale in ("en", "hi", "mr", "other")] == [
        "Sleep",
        "नींद",
        "झोप",
        "Sleep",
    ]
    # joining a tag of a concept again brings the concept along
    # through the page: a refused form comes back with its message, then it is sent right
    web = clients["facilitator"]
    sent = {"join-tags": ["night", "sleep"], "join-label_en": ""}
    refused_page = web.post_form("/circles/ghar/tags/join", sent, page="/circles/ghar/tags")
    assert refused_page.status_code == 422
    assert "Please give it a name in at least one language." in refused_page.get_data(as_text=True)
    sent["join-label_en"] = "Rest"
    assert (
        web.post_form("/circles/ghar/tags/join", sent, page="/circles/ghar/tags").status_code == 303
    )
    again = db.session.get(TagConcept, concept.id)
    db.session.refresh(again)
    assert again.id == concept.id and again.tags == ["night", "sleep", "झोप"]
    assert again.label("hi") == "Rest"  # the names are the ones given last
    ops.relabel(people["admin"], home, concept.id, LABELS)  # an admin manages it too
    commit()
    assert again.label("mr") == "झोप"
    with pytest.raises(Refused) as refused:
        ops.relabel(people["other facilitator"], other, concept.id, LABELS)
    assert refused.value.status == 404
    db.session.rollback()

    page = clients["facilitator"].get("/circles/ghar/tags").get_data(as_text=True)
    assert "Sleep" in page and "joined tags on" in page and "renamed a concept on" in page
    assert "नींद" in page  # the Hindi name, written by the facilitator
    assert ">नींद<" not in page.split("Join tags that mean the same")[1]  # not the hidden tag
    response = clients["facilitator"].post_form(
        f"/circles/ghar/tags/{concept.id}/split", page="/circles/ghar/tags"
    )
    assert response.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(TagConcept)) == 0

    events = db.session.scalars(select(CircleEvent).order_by(CircleEvent.id)).all()
    noted = [(e.event, e.actor_id, e.subject_id) for e in events if e.event.startswith("tags_")]
    facilitator, admin = people["facilitator"].id, people["admin"].id
    assert noted == [
        ("tags_joined", facilitator, None),
        ("tags_joined", facilitator, None),
        ("tags_relabelled", admin, None),
        ("tags_split", facilitator, None),
    ]
    ledger = clients["facilitator"].get("/circles/ghar/ledger").get_data(as_text=True)
    assert "split a concept on" in ledger and "Changes to the tags" in ledger
    # the circle's page lists who runs it, not the changes to its tags
    circle_page = clients["member"].get("/circles/ghar").get_data(as_text=True)
    assert "concept" not in circle_page


def test_tag_pages_search_and_facets_treat_a_concept_as_one_and_count_what_may_be_seen(
    world, request_context
):
    home, _other, people, pieces, clients = world
    ops.join(people["facilitator"], home, ["sleep", "झोप"], LABELS)
    commit()
    member, writer, private = clients["member"], clients["writer"], clients["private"]

    # a search for any word of the concept finds the pieces carrying any of its tags, in
    # its circle only; the piece tagged "नींद" (a name of the concept) only for its author
    assert found(member, "/search?q=झोप") == {"Zqxenglish", "Zqxmarathi", "Zqxelsewhere"}
    assert found(member, "/search?q=sleep") == {"Zqxenglish", "Zqxmarathi"}
    assert found(private, "/search?q=sleep") == {"Zqxenglish", "Zqxmarathi", "Zqxhidden"}
    assert found(clients["stranger"], "/search?q=sleep") == set()
    token = {"Authorization": "Bearer " + create_token(people["member"], "concepts")}
    commit()
    api = member.get("/api/v1/search?q=झोप", headers=token).get_json()
    assert api["total"] == 3
    # one facet value for the concept: the tag found most, with what narrowing to it finds
    assert api["facets"]["tags"] == [{"value": "झोप", "count": 3}, {"value": "night", "count": 1}]

    # the tag page of any word, in the reader's own language; the hidden piece not counted
    page = member.get("/tags/sleep").get_data(as_text=True)
    assert "नींद" in page and found(member, "/tags/sleep") == {"Zqxenglish", "Zqxmarathi"}
    assert "झोप" in writer.get("/tags/sleep").get_data(as_text=True)  # Marathi
    assert found(writer, "/tags/नींद") == {"Zqxenglish", "Zqxmarathi"}
    # another circle's names are its own: its tag page is named by the tag itself
    assert "<h1>Tag: sleep</h1>" in clients["stranger"].get("/tags/sleep").get_data(as_text=True)
    assert found(private, "/tags/नींद") == {"Zqxenglish", "Zqxmarathi", "Zqxhidden"}

    # one facet for the concept, named in the reader's language, counting each piece once
    results = member.get("/search?q=body").get_data(as_text=True)
    assert tag_facets(results) == {"नींद": "3", "night": "1"}
    narrowed = found(member, "/search?q=body&tag=%E0%A4%9D%E0%A5%8B%E0%A4%AA")
    assert narrowed == {"Zqxenglish", "Zqxmarathi", "Zqxelsewhere"}
    hidden_too = private.get("/search?q=body").get_data(as_text=True)
    assert tag_facets(hidden_too) == {"Sleep": "4", "night": "1"}

    # the facilitator's tags page: the hidden piece's tag is not there, nor counted
    tags_page = clients["facilitator"].get("/circles/ghar/tags").get_data(as_text=True)
    assert "2 pieces" in tags_page and "नींद (" not in tags_page
    assert ">नींद<" not in tags_page.split("Join tags that mean the same")[1]


def test_erasing_the_last_piece_of_a_tag_takes_its_word_out_of_the_concept(world, request_context):
    home, _other, people, pieces, _clients = world
    concept = ops.join(people["facilitator"], home, ["sleep", "झोप", "night"], LABELS)
    commit()
    concept_id = concept.id
    withdraw.erase(db.session.get(Item, pieces["marathi"].id), people["member"])
    commit()
    assert sorted(db.session.scalars(select(ConceptTag.tag))) == ["night", "sleep"]
    withdraw.erase(db.session.get(Item, pieces["english"].id), people["writer"])
    commit()
    # no tag left: the concept goes with its names
    assert db.session.scalar(select(func.count()).select_from(ConceptTag)) == 0
    assert db.session.get(TagConcept, concept_id) is None


def test_the_forms_offer_the_concepts_in_the_persons_language(world, request_context):
    home, _other, people, pieces, clients = world
    ops.join(people["facilitator"], home, ["sleep", "झोप"], LABELS)
    commit()
    page = clients["member"].get("/circles/ghar/contribute").get_data(as_text=True)
    offered = page.split('id="tag-suggestions"')[1].split("</p>")[0]
    assert re.findall(r'<span class="tag">([^<]+)</span>', offered) == [
        "नींद",
        "night",
        "sleep",
        "झोप",
    ]
    edit = clients["writer"].get(f"/items/{pieces['english'].public_id}/edit")
    offered = edit.get_data(as_text=True).split('id="tag-suggestions"')[1].split("</p>")[0]
    assert '<span class="tag">झोप</span>' in offered and "नींद" not in offered


def test_the_api_joins_renames_and_splits_for_those_who_may(world, request_context):
    home, _other, people, _pieces, clients = world
    tokens = {}
    for name in ("facilitator", "member", "other facilitator"):
        tokens[name] = {"Authorization": "Bearer " + create_token(people[name], "concepts")}
    commit()
    api = clients.make_client()

    def call(method, url, who, **kwargs):
        return api.open(f"/api/v1{url}", method=method, headers=tokens[who], **kwargs)

    for who in ("member", "other facilitator"):
        assert call("GET", "/circles/ghar/tags", who).status_code == 404
        refused = call("POST", "/circles/ghar/concepts", who, json={"tags": ["sleep"]})
        assert refused.status_code == 404
    vocabulary = call("GET", "/circles/ghar/tags", "facilitator").get_json()
    assert vocabulary["tags"] == [
        {"tag": "night", "count": 1},
        {"tag": "sleep", "count": 1},
        {"tag": "झोप", "count": 1},
    ]  # not the hidden piece's "नींद"
    bad = call("POST", "/circles/ghar/concepts", "facilitator", json={"tags": ["sleep"]})
    assert bad.status_code == 422 and bad.get_json()["field"] == "labels"  # not as documented
    nameless = {"tags": ["sleep"], "labels": {}}
    refused = call("POST", "/circles/ghar/concepts", "facilitator", json=nameless)
    assert refused.status_code == 409 and refused.get_json()["field"] == "label_en"  # a rule
    made = call(
        "POST",
        "/circles/ghar/concepts",
        "facilitator",
        json={"tags": ["sleep", "झोप"], "labels": LABELS},
    )
    assert made.status_code == 201
    concept = made.get_json()
    assert concept["tags"] == ["sleep", "झोप"] and concept["count"] == 2
    renamed = call(
        "POST",
        f"/circles/ghar/concepts/{concept['id']}/labels",
        "facilitator",
        json={"hi": "निद्रा"},
    )
    assert renamed.get_json()["labels"] == {"en": "", "hi": "निद्रा", "mr": ""}
    elsewhere = call("POST", f"/circles/ghar/concepts/{concept['id']}/split", "other facilitator")
    assert elsewhere.status_code == 404
    split = call("POST", f"/circles/ghar/concepts/{concept['id']}/split", "facilitator")
    assert split.status_code == 200 and split.get_json()["concepts"] == []
