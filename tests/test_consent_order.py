"""Only the contributor widens consent: every dimension × every actor × both directions,
through the web, the JSON API and the command line, on both databases.

Anyone else (a facilitator of the piece's circle, on the contributor's request) may only
move a piece's consent towards less; an admin or member who may not act on it learns
nothing (404); a refusal names the field, says why in the person's language, and changes
nothing — the consent and the ledger stay as they were."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from archive import access
from archive.db import commit, db
from archive.models import ConsentEvent, Item
from archive.operations import items as item_ops
from archive.operations.accounts import create_token
from archive.operations.consent import ConsentChoice
from tests.conftest import sign_in

pytestmark = pytest.mark.both_databases

SOON = access.today() + timedelta(days=30)
LATER = access.today() + timedelta(days=90)


@dataclass
class Case:
    name: str
    start: dict
    change: dict
    widens: bool
    fields: set = field(default_factory=set)  # the consent fields that must end up changed


START = {
    "audience": "public",
    "attribution": "pseudonym",
    "pseudonym": "Moonbeam",
    "collections": True,
    "embeds": True,
    "packs": True,
    "content_notes": ["grief"],
    "review_by": LATER,
}
CASES = [
    Case("audience down", {}, {"audience": "circle"}, False),
    Case("audience to private", {}, {"audience": "private"}, False),
    Case("audience up", {"audience": "circle"}, {"audience": "public"}, True),
    Case("pseudonym to anonymous", {}, {"attribution": "anonymous", "pseudonym": ""}, False),
    Case("pseudonym replaced by a name", {}, {"attribution": "name", "pseudonym": ""}, True),
    Case("pseudonym's text replaced", {}, {"pseudonym": "Asha Real-Name, Pune"}, True),
    Case(
        "name to a pseudonym",
        {"attribution": "name", "pseudonym": ""},
        {"attribution": "pseudonym", "pseudonym": "Someone Else"},
        True,
    ),
    Case(
        "anonymous to a name",
        {"attribution": "anonymous", "pseudonym": ""},
        {"attribution": "name"},
        True,
    ),
    Case("collections off", {}, {"collections": False}, False),
    Case("collections on", {"collections": False}, {"collections": True}, True),
    Case("embeds off", {}, {"embeds": False}, False),
    Case("embeds on", {"embeds": False}, {"embeds": True}, True),
    Case("packs off", {}, {"packs": False}, False),
    Case("packs on", {"packs": False}, {"packs": True}, True),
    Case("review date earlier", {}, {"review_by": SOON}, False),
    Case("review date later", {"review_by": SOON}, {"review_by": LATER}, True),
    Case("review date removed", {}, {"review_by": None}, True),
    Case("review date set", {"review_by": None}, {"review_by": SOON}, False),
    Case("content note added", {}, {"content_notes": ["grief", "self-harm"]}, False),
    Case("content note removed", {}, {"content_notes": []}, True),
]
FIELD_OF = {
    "audience": "audience",
    "attribution": "attribution",
    "pseudonym": "pseudonym",
    "collections": "allow_collections",
    "embeds": "allow_embeds",
    "packs": "allow_packs",
    "review_by": "review_by",
    "content_notes": "content_notes",
}


@pytest.fixture
def people(make_circle, make_account, make_client):
    home = make_circle("sangam", "Sangam")
    accounts = {
        "contributor": make_account("kiran", circle=home, display_name="Kiran Realname"),
        "facilitator": make_account("meenal", role="facilitator", circle=home),
        "member": make_account("rohan", circle=home),
        "admin": make_account("root", role="admin"),
    }
    clients, tokens = {}, {}
    for name, account in accounts.items():
        clients[name] = make_client()
        sign_in(clients[name], account.username)
        tokens[name] = create_token(account, "tests")
    commit()
    return home, accounts, clients, tokens


def _share(home, contributor, **start) -> Item:
    values = {**START, **start}
    choice = ConsentChoice(
        audience=values["audience"],
        attribution=values["attribution"],
        pseudonym=values["pseudonym"],
        collections=values["collections"],
        embeds=values["embeds"],
        packs=values["packs"],
        content_notes=list(values["content_notes"]),
        review_by=values["review_by"],
        method="self",
    )
    draft = item_ops.Draft(kind="poem", title="चाँद की रोशनी", body="रात\nबाक़ी है", language="hi")
    result = item_ops.contribute(
        contributor, home, item_ops.contributor_for(contributor), draft, choice
    )
    commit()
    return result.item


def _consent(item_id: int) -> dict:
    db.session.expire_all()
    consent = db.session.get(Item, item_id).consent
    return {
        name: (consent.content_notes if name == "content_notes" else getattr(consent, column))
        for name, column in FIELD_OF.items()
    }


def _ledger(item_id: int) -> int:
    public_id = db.session.get(Item, item_id).public_id
    return db.session.scalar(
        select(func.count())
        .select_from(ConsentEvent)
        .where(ConsentEvent.item_public_id == public_id)
    )


def _web(client, item, values: dict):
    form = {
        "audience": values["audience"],
        "attribution": values["attribution"],
        "pseudonym": values["pseudonym"] or "",
        "review_by": values["review_by"].isoformat() if values["review_by"] else "",
        "content_notes": values["content_notes"],
        "reason": "in-person",
    }
    form.update({name: "y" for name in ("collections", "embeds", "packs") if values[name]})
    return client.post_form(f"/items/{item.public_id}/consent", form)


def _api(app, token, item, change: dict):
    body = {
        name: (value.isoformat() if hasattr(value, "isoformat") else value)
        for name, value in change.items()
    }
    body["reason"] = "in-person"
    return app.test_client().patch(
        f"/api/v1/items/{item.public_id}/consent",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )


def test_every_dimension_by_every_actor_in_both_directions(app, people, database):
    """The whole matrix through the web pages on SQLite and through the JSON API on
    PostgreSQL: both doors call the one operation, whose locks are what differ between the
    databases (the Hindi refusal below goes through both doors on both)."""
    door = "web" if database == "sqlite" else "api"
    home, accounts, clients, tokens = people
    wrong = []
    for case in CASES:
        for actor in ("contributor", "facilitator", "member", "admin"):
            item = _share(home, accounts["contributor"], **case.start)
            before, events = _consent(item.id), _ledger(item.id)
            wanted = {**before, **case.change}
            response = (
                _web(clients[actor], item, wanted)
                if door == "web"
                else _api(app, tokens[actor], item, case.change)
            )
            after = _consent(item.id)
            if actor in ("member", "admin"):
                expected = 404
            elif actor == "facilitator" and case.widens:
                expected = 422 if door == "web" else 409  # the API: a rule refuses it
            else:
                expected = 302 if door == "web" else 200
            if response.status_code != expected:
                wrong.append(f"{case.name} by {actor}: {response.status_code}, not {expected}")
            elif expected in (302, 200):
                changed = {
                    k: v
                    for k, v in case.change.items()
                    if k != "pseudonym"
                    or case.change.get("attribution", before["attribution"]) == "pseudonym"
                }
                if any(after[name] != value for name, value in changed.items()):
                    wrong.append(f"{case.name} by {actor}: saved {after}")
                if _ledger(item.id) != events + 1:
                    wrong.append(f"{case.name} by {actor}: no ledger entry")
            elif after != before or _ledger(item.id) != events:
                wrong.append(f"{case.name} by {actor}: refused, yet something changed")
            if expected in (409, 422):
                said = response.get_data(as_text=True)
                if "Only the person who shared it can" not in said:
                    wrong.append(f"{case.name} by {actor}: the refusal does not say why")
    assert wrong == []


def test_a_refusal_names_the_field_and_is_said_in_hindi(app, people):
    home, accounts, clients, tokens = people
    item = _share(home, accounts["contributor"])
    response = _api(app, tokens["facilitator"], item, {"pseudonym": "Asha from Pune"})
    assert response.status_code == 409 and response.get_json()["field"] == "pseudonym"
    client = clients["facilitator"]
    client.post_form("/language", {"locale": "hi"}, page="/")
    page = _web(client, item, {**_consent(item.id), "audience": "public", "review_by": None})
    assert page.status_code == 422
    assert "सिर्फ़ साझा करने वाले" in page.get_data(as_text=True)
    assert _consent(item.id)["pseudonym"] == "Moonbeam"


def test_the_command_line_only_narrows(app, people):
    home, accounts, _clients, _tokens = people
    item = _share(home, accounts["contributor"])

    def run(args):
        result = app.test_cli_runner().invoke(args=args)
        db.session.remove()
        return result

    narrowed = run(
        [
            "items",
            "narrow",
            item.public_id,
            "--by",
            "meenal",
            "--reason",
            "in-person",
            "--audience",
            "circle",
            "--anonymous",
            "--no-embeds",
            "--note",
            "self-harm",
        ]
    )
    assert narrowed.exit_code == 0, narrowed.output
    after = _consent(item.id)
    assert (after["audience"], after["attribution"], after["embeds"]) == (
        "circle",
        "anonymous",
        False,
    )
    assert after["content_notes"] == ["grief", "self-harm"]
    for widening in (
        ["--audience", "public"],
        ["--review-by", LATER.replace(year=LATER.year + 1).isoformat()],
    ):
        refused = run(
            [
                "items",
                "narrow",
                item.public_id,
                "--by",
                "meenal",
                "--reason",
                "in-person",
                *widening,
            ]
        )
        assert refused.exit_code != 0
    assert _consent(item.id) == after
    hidden = run(["items", "narrow", item.public_id, "--by", "root", "--audience", "private"])
    assert hidden.exit_code != 0 and "no such item" in hidden.output
    assert _consent(item.id) == after
