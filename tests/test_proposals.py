"""Recording a piece for a member who has an account is a proposal: it waits, seen by that
member alone, until they agree (then the receipt and its code are theirs), change it first,
or decline (then it is erased like a withdrawal). The facilitator never receives a code."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from sqlalchemy import func, select

from archive.db import db
from archive.models import ConsentEvent, Item, Revision, RevisionTag
from archive.operations.accounts import create_token
from tests.items_helpers import (  # noqa: F401
    api_headers,
    circle_people,
    contribute,
    item_url,
    only_item,
    poem_form,
)

pytestmark = pytest.mark.both_databases

CODE = re.compile(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}")
TITLE = "माँ की रसोई"


@pytest.fixture
def people(circle_people):
    return circle_people


def text_of(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def propose(client, ravi, **consent):
    form = poem_form(
        contributor=f"account:{ravi.id}",
        method="verbal",
        title=TITLE,
        audience="public",
        attribution="name",
        collections="y",
        embeds="y",
    )
    form.update(consent)
    return contribute(client, "ghar", form)


def test_a_proposal_waits_for_its_member_and_only_they_see_it(app, people, signed_in, make_client):
    meera, ravi = signed_in(people["meera"]), signed_in(people["ravi"])
    response = propose(meera, people["ravi"])
    assert response.status_code == 200
    page = text_of(response)
    assert "Waiting for Ravi Member" in page and not CODE.search(page)
    item = only_item()
    assert item.state == "proposed"

    for client in (meera, signed_in(people["asha"]), signed_in(people["admin"]), make_client()):
        assert client.get(item_url(item)).status_code == 404
        assert TITLE not in text_of(client.get("/circles/ghar"))
        assert TITLE not in text_of(client.get("/"))
    assert client.get(f"/api/v1/items/{item.public_id}").status_code == 404
    assert TITLE not in text_of(make_client().get("/feeds/public.atom"))

    home = text_of(ravi.get("/"))
    assert "A piece is waiting for you" in home and TITLE in home
    own = text_of(ravi.get(item_url(item)))
    assert "Recorded for you by Meera Facilitator" in own and "Yes, share it like this" in own
    ledger = text_of(ravi.get("/account/ledger"))
    assert "Changes someone else made" in ledger and TITLE in ledger
    assert "Meera Facilitator, a facilitator" in ledger


def test_agreeing_shares_it_and_gives_the_receipt_to_the_member_alone(
    app, people, signed_in, make_client
):
    meera, ravi = signed_in(people["meera"]), signed_in(people["ravi"])
    propose(meera, people["ravi"])
    item = only_item()
    response = ravi.post_form(
        f"{item_url(item)}/agree",
        {"audience": "circle", "attribution": "anonymous", "collections": "y"},
        page=item_url(item),
        follow_redirects=True,
    )
    assert response.status_code == 200, text_of(response)[:2000]
    assert CODE.search(text_of(response))
    item = only_item()
    assert item.state == "active" and item.consent.audience == "circle"
    assert item.consent.attribution == "anonymous" and item.consent.method == "self"
    assert not item.consent.allow_embeds
    assert meera.get(item_url(item)).status_code == 200  # the circle sees it now
    assert make_client().get(item_url(item)).status_code == 404  # not public: he chose
    events = [e.event for e in db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id))]
    assert events == ["proposed", "agreed"]
    # agreeing twice does nothing more
    assert ravi.post_form(
        f"{item_url(item)}/agree",
        {"audience": "circle", "attribution": "anonymous"},
        page=item_url(item),
    ).status_code in (404, 422, 400)


def test_declining_erases_the_proposal(app, people, signed_in):
    meera, ravi = signed_in(people["meera"]), signed_in(people["ravi"])
    propose(meera, people["ravi"])
    item = only_item()
    response = ravi.post_form(f"{item_url(item)}/decline", {}, page=item_url(item))
    assert response.status_code == 303 and response.headers["Location"] == "/withdrawn"
    item = only_item()
    assert item.state == "withdrawn" and item.current_revision_id is None
    for model in (Revision, RevisionTag):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0
    assert ravi.get(item_url(item)).status_code == 410
    assert [
        e.event for e in db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id))
    ] == ["proposed", "declined"]


def test_nobody_else_agrees_or_declines_for_the_member(app, people, signed_in):
    meera = signed_in(people["meera"])
    propose(meera, people["ravi"])
    item = only_item()
    for who in ("meera", "asha", "admin"):
        client = signed_in(people[who])
        token = client.get("/").get_data(as_text=True)
        assert token
        for action in ("agree", "decline"):
            response = client.post_form(
                f"{item_url(item)}/{action}",
                {"audience": "public", "attribution": "name"},
                page="/account",
            )
            assert response.status_code == 404, (who, action)
    assert only_item().state == "proposed"


def test_the_api_proposes_and_the_member_agrees_through_it(app, people):
    meera_token = create_token(people["meera"], "laptop")
    ravi_token = create_token(people["ravi"], "phone")
    db.session.commit()
    created = app.test_client().post(
        "/api/v1/items",
        headers=api_headers(meera_token),
        json={
            "kind": "poem",
            "title": TITLE,
            "body": "दाल\nभात",
            "language": "hi",
            "circle": "ghar",
            "contributor": "ravi",
            "consent": {"audience": "public", "attribution": "name", "method": "verbal"},
        },
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["state"] == "proposed" and body["receipt"] is None
    public_id = body["id"]
    client = app.test_client()
    assert (
        client.get(f"/api/v1/items/{public_id}", headers=api_headers(meera_token)).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/items/{public_id}", headers=api_headers(ravi_token)).get_json()[
            "state"
        ]
        == "proposed"
    )
    agreed = client.post(
        f"/api/v1/items/{public_id}/agree",
        headers=api_headers(ravi_token),
        json={"consent": {"audience": "circle"}},
    )
    assert agreed.status_code == 200, agreed.get_json()
    assert CODE.fullmatch(agreed.get_json()["receipt"]["withdrawal_code"])
    item = db.session.scalar(select(Item).where(Item.public_id == public_id))
    db.session.refresh(item)
    assert item.state == "active" and item.consent.audience == "circle"
