"""Several machines, one database, an index on each (README, "The search index on each node").

Two apps share the test's database, each with its own index folder, as two application
machines would. A change made on one reaches the other's search; an erasure leaves the
other's results and, once compacted, its index files; a task that commits out of number
order is still applied; old tasks are forgotten, and a machine that was away longer than
they are kept rebuilds its index in ``flask setup`` and is unhealthy until then."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from flask_login import AnonymousUserMixin
from sqlalchemy import select, update

from archive import background, migrate
from archive.db import commit, db, utcnow
from archive.models import Account, Circle, IndexTask, Item
from archive.operations import items as item_ops
from archive.operations import withdraw
from archive.operations.consent import ConsentChoice
from archive.search import index, rebuild, sync
from archive.search.query import search
from tests.search_helpers import remove_from_index

pytestmark = pytest.mark.both_databases

ANONYMOUS = AnonymousUserMixin()
MARKER = "zqxnodeword"
DEVANAGARI_MARKER = "क्षदूसरापन"


@pytest.fixture
def machines(app, make_app, make_circle, make_account, tmp_path):
    """Machine A (the test's app, context pushed), machine B (another index folder, which
    compacts right after a removal), and a public contributor on A."""
    circle = make_circle()
    author = make_account(circle=circle)
    item_ops.contributor_for(author)
    commit()
    other = make_app(INDEX_DIR=tmp_path / "index-b", INDEX_COMPACT_DELAY=0)
    return app, other, author.id, circle.id


def share(author_id: int, circle_id: int, body: str) -> str:
    author = db.session.get(Account, author_id)
    result = item_ops.contribute(
        author,
        db.session.get(Circle, circle_id),
        item_ops.contributor_for(author),
        item_ops.Draft(kind="poem", title="Across machines", body=body, language="hi"),
        ConsentChoice(audience="public"),
    )
    public_id = result.item.public_id
    commit()
    return public_id


def found_on(machine, word: str) -> list[str]:
    with machine.app_context():
        try:
            return [hit.item.public_id for hit in search(ANONYMOUS, word).hits]
        finally:
            db.session.remove()


def files_holding(machine, marker: str) -> list[str]:
    encoded = marker.encode("utf-8")
    return [
        path.name
        for path in Path(machine.config["INDEX_DIR"]).rglob("*")
        if path.is_file() and encoded in path.read_bytes()
    ]


def item(public_id: str) -> Item:
    return db.session.scalar(select(Item).where(Item.public_id == public_id))


def test_a_change_on_one_machine_reaches_the_others_search(machines):
    a, b, author_id, circle_id = machines
    public_id = share(author_id, circle_id, f"{MARKER} उदासी की शाम")
    assert found_on(a, MARKER) == [public_id]

    assert found_on(b, MARKER) == [public_id]
    assert found_on(b, "udasi") == [public_id]

    item_ops.revise(
        db.session.get(Account, author_id),
        item(public_id),
        item_ops.Draft(kind="poem", title="Across machines", body="सुबह की धूप", language="hi"),
    )
    commit()
    assert found_on(b, MARKER) == []
    assert found_on(b, "धूप") == [public_id]


def test_an_erasure_on_one_machine_leaves_the_others_index_and_its_files(machines):
    a, b, author_id, circle_id = machines
    public_id = share(author_id, circle_id, f"{MARKER} {DEVANAGARI_MARKER} रात")
    assert found_on(b, MARKER) == [public_id]
    assert files_holding(b, DEVANAGARI_MARKER)

    withdraw.erase(item(public_id), db.session.get(Account, author_id))
    commit()
    assert found_on(a, MARKER) == []

    assert found_on(b, MARKER) == []
    assert found_on(b, DEVANAGARI_MARKER) == []
    assert background.wait(b), "machine B's thread compacts its own index"
    assert files_holding(b, MARKER) == []
    assert files_holding(b, DEVANAGARI_MARKER) == []
    with b.app_context():
        assert rebuild.check() == {"missing": [], "extra": []}
        db.session.remove()


def test_a_task_that_commits_out_of_number_order_is_still_applied(machines):
    """On PostgreSQL a transaction can take task number 11, another 12 and commit first.
    Machine B catches up with 10 and 12; when 11 commits, B still applies it."""
    a, b, author_id, circle_id = machines
    first, third, second = (
        share(author_id, circle_id, f"{word} {n}")
        for n, word in enumerate(("zqxfirst", "zqxthird", "zqxsecond"))
    )
    db.session.execute(IndexTask.__table__.delete())
    db.session.execute(
        IndexTask.__table__.insert(),
        [
            {"id": 10, "item_public_id": first, "created_at": utcnow()},
            {"id": 12, "item_public_id": third, "created_at": utcnow()},
        ],
    )
    db.session.commit()
    with b.app_context():
        index.forget(Path(b.config["INDEX_DIR"]))
        remove_from_index(second)  # B has not seen the second piece yet
        db.session.remove()
    assert found_on(b, "zqxthird") == [third]
    assert found_on(b, "zqxsecond") == []

    db.session.execute(
        IndexTask.__table__.insert(), [{"id": 11, "item_public_id": second, "created_at": utcnow()}]
    )
    db.session.commit()

    assert found_on(b, "zqxsecond") == [second]
    with b.app_context():
        mark = sync.Mark.read()
        assert mark.settled < 10 and mark.recent == {10, 11, 12}
        db.session.remove()


def test_settled_tasks_leave_the_mark_and_old_tasks_are_forgotten(machines, monkeypatch):
    a, b, author_id, circle_id = machines
    public_ids = [share(author_id, circle_id, f"zqxold{n}") for n in range(3)]
    ids = sorted(db.session.scalars(select(IndexTask.id)))
    db.session.execute(
        update(IndexTask)
        .where(IndexTask.id.in_(ids[:2]))
        .values(created_at=utcnow() - timedelta(days=8))
    )
    db.session.execute(
        update(IndexTask)
        .where(IndexTask.id == ids[2])
        .values(created_at=utcnow() - sync.SETTLE - timedelta(minutes=1))
    )
    db.session.commit()
    monkeypatch.setattr(sync, "_last_pruned", [None])  # this process has not pruned yet

    assert found_on(b, "zqxold1") == [public_ids[1]]
    db.session.expire_all()
    assert len(list(db.session.scalars(select(IndexTask.id)))) == 3  # a search writes none
    db.session.commit()
    with b.app_context():
        sync.upkeep()  # the background thread's catching up, after a change
        db.session.remove()

    db.session.expire_all()
    # older than INDEX_TASK_DAYS (7): forgotten by the catching up (once an hour at most)
    assert list(db.session.scalars(select(IndexTask.id))) == [ids[2]]
    with b.app_context():
        mark = sync.Mark.read()
        assert (mark.settled, mark.recent, mark.whole) == (ids[2], set(), True)
        assert not mark.behind()
        assert sync.prune_tasks() == 0
        db.session.remove()


def test_a_machine_away_longer_than_tasks_are_kept_is_rebuilt_by_setup(machines):
    a, b, author_id, circle_id = machines
    public_id = share(author_id, circle_id, "zqxawayword")
    with b.app_context():
        assert found_on(b, "zqxawayword") == [public_id]
        mark = sync.Mark.read()
        mark.checked = time.time() - 8 * 86400
        mark.write()
        remove_from_index(public_id)  # what it missed while away
        assert "more than 7 days" in rebuild.needs_rebuild()
        assert b.test_client().get("/healthz").status_code == 503
        with db.engine.begin() as connection:  # the tables came from the models
            command.stamp(migrate.alembic_config(connection), "head")

        result = b.test_cli_runner().invoke(args=["setup", "--no-demo"], catch_exceptions=False)

        assert "rebuilding the search index: the index was last brought up to date" in result.output
        assert rebuild.needs_rebuild() is None
        assert b.test_client().get("/healthz").status_code == 200
        db.session.remove()
    assert found_on(b, "zqxawayword") == [public_id]


def test_a_new_machine_rebuilds_before_it_serves_search(machines, make_app, tmp_path):
    """A machine joining with an empty index folder cannot catch up from the kept tasks
    alone (older pieces have none left): it is unhealthy until ``flask setup`` rebuilds."""
    a, b, author_id, circle_id = machines
    public_id = share(author_id, circle_id, "zqxjoinword")
    db.session.execute(IndexTask.__table__.delete())  # forgotten long ago
    db.session.commit()
    newcomer = make_app(INDEX_DIR=tmp_path / "index-new")
    with newcomer.app_context():
        assert newcomer.test_client().get("/healthz").status_code == 503
        assert "no record of being complete" in rebuild.needs_rebuild()
        with db.engine.begin() as connection:
            command.stamp(migrate.alembic_config(connection), "head")
        newcomer.test_cli_runner().invoke(args=["setup", "--no-demo"], catch_exceptions=False)
        assert newcomer.test_client().get("/healthz").status_code == 200
        db.session.remove()
    assert found_on(newcomer, "zqxjoinword") == [public_id]


def test_a_change_during_a_rebuild_is_applied_after_the_swap(machines, monkeypatch):
    """A piece revised on machine A after B's rebuild has read it: B's rebuilt index holds
    the old words until B catches up, which the rebuild does right after its swap."""
    a, b, author_id, circle_id = machines
    public_id = share(author_id, circle_id, "zqxbeforerebuild")
    real_items = rebuild._active_entries

    def items_while_someone_edits(batch):
        for number, chunk in enumerate(real_items(batch)):
            if number == 0:
                with a.app_context():  # another worker saves a revision meanwhile
                    item_ops.revise(
                        db.session.get(Account, author_id),
                        item(public_id),
                        item_ops.Draft(
                            kind="poem",
                            title="Across machines",
                            body="zqxduringrebuild",
                            language="hi",
                        ),
                    )
                    commit()
                    db.session.remove()
            yield chunk

    monkeypatch.setattr(rebuild, "_active_entries", items_while_someone_edits)
    with b.app_context():
        rebuild.reindex()
        db.session.remove()
    monkeypatch.setattr(index, "writer", _refuse_writers)
    # caught up by the rebuild itself: no search had to
    assert found_on(b, "zqxduringrebuild") == [public_id]
    assert found_on(b, "zqxbeforerebuild") == []


def _refuse_writers(*args, **kwargs):
    raise AssertionError("no writer was needed")


def test_a_rebuild_reads_the_very_entries_the_site_writes(app, make_circle, make_account):
    """A rebuild reads rows (`rebuild._entries`), a save reads objects (`schema.document`):
    the same entry for every way a contributor can be named, with and without an account."""
    from datetime import date

    from archive.models import Account as AccountRow
    from archive.search.schema import document

    circle = make_circle()
    named = make_account(circle=circle, display_name="मीरा ताई")
    plain = make_account(circle=circle)  # no display name: the username shows
    steward = make_account(circle=circle, role="facilitator")
    profile = item_ops.create_profile(steward, circle, "आजी")
    unnamed_profile = item_ops.create_profile(steward, circle, "नानी")
    commit()
    unnamed_profile.pseudonym = None
    cases = [
        (named, None, "name", ""),
        (named, None, "pseudonym", "चाँद"),
        (named, None, "anonymous", ""),
        (plain, None, "name", ""),
        (steward, profile, "name", ""),
        (steward, profile, "pseudonym", "रात की रानी"),
        (steward, unnamed_profile, "name", ""),
    ]
    for number, (by, contributor, attribution, pseudonym) in enumerate(cases):
        item_ops.contribute(
            by,
            circle,
            contributor or item_ops.contributor_for(by),
            item_ops.Draft(
                kind="poem",
                title=f"कविता {number}",
                body="नींद\nआती है",
                language="hi",
                tags=["नींद", "rain"] if number % 2 else [],
            ),
            ConsentChoice(
                audience=("public", "circle", "private")[number % 3],
                attribution=attribution,
                pseudonym=pseudonym,
                method="self" if contributor is None else "verbal",
                review_by=date(2031, 5, 1) if number % 2 else None,
            ),
        )
    commit()
    db.session.get(AccountRow, plain.id).display_name = None
    commit()
    rows = dict(rebuild._entries(Item.id > 0))
    items = db.session.scalars(select(Item).where(Item.state == "active")).all()
    assert len(items) == len(cases) == len(rows)
    for found in items:
        assert rows[found.id] == document(found)
    bylines = {rows[found.id]["content"].rsplit("\n", 1)[-1] for found in items}
    assert bylines == {"मीरा ताई", "चाँद", "", plain.username, "आजी", "रात की रानी"}
