"""The access rule is said three times in ``archive.access`` — in Python (``may_view_item``),
as SQL (``select_visible``) and as a search index filter (``index_filter``) — and the three
must always give the same answer. Random worlds (fixed seeds) of pieces with every audience,
review date, contributor kind and state are asked about by every kind of viewer."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import update

from archive import access
from archive.db import commit, db
from archive.models import Consent, Item
from archive.operations import items as item_ops
from archive.operations.consent import ConsentChoice
from archive.operations.withdraw import erase
from archive.search import docsets, index, sync
from archive.search import queue as queue_for_index

pytestmark = pytest.mark.both_databases

PIECES = 36


@pytest.fixture
def people(make_circle, make_account):
    home, other = make_circle("ghar", "Ghar"), make_circle("bahar", "Bahar")
    accounts = {
        "contributor": make_account("asha", circle=home),
        "member": make_account("ravi", circle=home),
        "facilitator": make_account("meera", role="facilitator", circle=home),
        "other facilitator": make_account("farah", role="facilitator", circle=other),
        "other member": make_account("sunil", circle=other),
        "admin": make_account("root", role="admin"),
    }
    profile = item_ops.create_profile(accounts["facilitator"], home, "आजी")
    commit()
    return home, other, accounts, profile


def _world(seed: int, home, other, accounts, profile) -> list[Item]:
    rng = random.Random(seed)
    items = []
    for number in range(PIECES):
        circle = home if rng.random() < 0.8 else other
        if circle is home:
            kind = rng.choice(["contributor", "member", "profile"])
            by = accounts["facilitator"] if kind == "profile" else accounts[kind]
            contributor = profile if kind == "profile" else item_ops.contributor_for(by)
        else:
            by = accounts["other member"]
            contributor = item_ops.contributor_for(by)
        choice = ConsentChoice(
            audience=rng.choice(["private", "circle", "public"]),
            attribution="anonymous",
            method="verbal" if contributor is profile else "self",
        )
        draft = item_ops.Draft(
            kind="poem", title=f"कविता {seed}-{number}", body="नींद\nआती", language="hi"
        )
        item = item_ops.contribute(by, circle, contributor, draft, choice).item
        items.append(item)
        review = rng.choice([None, None, -3, 40])
        if review is not None:
            db.session.execute(
                update(Consent)
                .where(Consent.item_id == item.id)
                .values(review_by=access.today() + timedelta(days=review))
            )
            queue_for_index(item)
        commit()
        if rng.random() < 0.15:
            erase(item, by, "in-person" if contributor is profile else None)
            commit()
    sync.catch_up()
    return items


def _by_python(viewer, items) -> set[str]:
    db.session.expire_all()
    return {
        item.public_id
        for item in items
        if access.may_view_item(viewer, db.session.get(Item, item.id))
    }


def _by_sql(viewer) -> set[str]:
    return set(db.session.scalars(access.select_visible(viewer).with_only_columns(Item.public_id)))


def _by_index(viewer) -> set[str]:
    with index.searching() as searcher:
        allowed = docsets.docs(searcher, access.index_filter(viewer))
        return {searcher.stored_fields(int(docnum))["id"] for docnum in allowed.nonzero()[0]}


@pytest.mark.parametrize("seed", [7, 2026])
def test_python_sql_and_the_index_give_the_same_answer(app, people, seed, request_context):
    home, other, accounts, profile = people
    items = _world(seed, home, other, accounts, profile)
    viewers = {**accounts, "anonymous": None}
    disagree = []
    for name, viewer in viewers.items():
        python, sql, indexed = _by_python(viewer, items), _by_sql(viewer), _by_index(viewer)
        if not python == sql == indexed:
            disagree.append((name, sorted(python ^ sql), sorted(python ^ indexed)))
    assert disagree == []
    # the worlds hold every case the rule distinguishes
    seen = {name: _by_python(viewer, items) for name, viewer in viewers.items()}
    assert seen["anonymous"] < seen["member"] < seen["contributor"] | seen["member"]
    assert seen["facilitator"] - seen["member"], "no stewarded private piece in this world"
    assert not seen["admin"] - seen["anonymous"], "an admin sees more than anyone"
