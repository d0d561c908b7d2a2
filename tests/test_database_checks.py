"""The database itself refuses what the code never writes: a value outside an enumeration, a
live item without its kind, circle or contributor, a tombstone that kept any of them.

Every row here is written with plain SQL, past the models and the operations, on SQLite and on
PostgreSQL. Each rule is tried with a value it must refuse and with every value it must take,
so a check that refused everything would fail here too; and the rules tried are compared with
the CHECK constraints the models declare, and with those the migrations made."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from archive import create_app, migrate
from archive.db import db
from archive.models import (
    ATTRIBUTIONS,
    AUDIENCES,
    CIRCLE_EVENTS,
    CIRCLE_ROLES,
    CONSENT_ACTORS,
    CONSENT_EVENTS,
    EVENT_ACTOR_ROLES,
    ITEM_STATES,
    KINDS,
    LANGUAGES,
    LOCALES,
    METHODS,
    PURGE_KINDS,
    ROLES,
    STATES,
)
from tests.conftest import config_for_tests
from tests.services.postgres import empty_database_url

pytestmark = pytest.mark.both_databases

NOW = datetime(2026, 12, 7, 18, 30)
REFUSED = "zz"  # short enough for every column it is tried in
#: rows every case can point at (explicit ids, far from any the tests make)
BASE = (
    "INSERT INTO account (id, username, username_key, password_hash, role, session_version, "
    "active, created_at) VALUES (901, 'asha', 'asha', 'x', 'participant', 1, :yes, :now)",
    "INSERT INTO circle (id, slug, name, description, languages, created_at) "
    "VALUES (901, 'c901', 'Circle', '', 'en', :now)",
    "INSERT INTO contributor (id, account_id, circle_id, created_at) VALUES (901, 901, 901, :now)",
    "INSERT INTO item (id, public_id, kind, circle_id, contributor_id, state, created_at, "
    "updated_at) VALUES (901, 'i901', 'poem', 901, 901, 'active', :now, :now)",
)


@dataclass
class Rule:
    """One CHECK: the row that tries it, the columns it varies, what it must refuse and take."""

    name: str
    table: str
    row: dict
    refused: list[dict]
    taken: list[dict]
    literals: dict = field(default_factory=dict)  # JSON columns, written as SQL literals


def one_of(name: str, table: str, row: dict, column: str, values) -> Rule:
    return Rule(
        name, table, row, refused=[{column: REFUSED}], taken=[{column: value} for value in values]
    )


ACCOUNT = {
    "username": "ravi",
    "username_key": "ravi",
    "password_hash": "x",
    "role": "participant",
    "session_version": 1,
    "active": True,
    "created_at": NOW,
}
MEMBERSHIP = {"account_id": 901, "circle_id": 901, "role": "participant", "joined_at": NOW}
INVITE = {
    "token_hash": "t" * 64,
    "circle_id": 901,
    "role": "participant",
    "created_at": NOW,
    "expires_at": NOW,
}
CIRCLE_EVENT = {
    "circle_id": 901,
    "event": "admin_joined",
    "subject_id": 901,
    "actor_id": 901,
    "actor_role": "admin",
    "created_at": NOW,
}
ITEM = {
    "public_id": "i902",
    "kind": "poem",
    "circle_id": 901,
    "contributor_id": 901,
    "state": "active",
    "created_at": NOW,
    "updated_at": NOW,
}
REVISION = {
    "item_id": 901,
    "number": 1,
    "title": "t",
    "body": "b",
    "language": "en",
    "alt_text": "",
    "note": "",
    "created_at": NOW,
}
CONSENT = {
    "item_id": 901,
    "audience": "private",
    "attribution": "anonymous",
    "allow_collections": False,
    "allow_embeds": False,
    "allow_packs": False,
    "method": "self",
    "receipt_id": "r901",
    "withdrawal_code_hash": "h" * 64,
    "language": "en",
    "created_at": NOW,
    "updated_at": NOW,
}
CONSENT_EVENT = {
    "item_public_id": "i901",
    "event": "granted",
    "actor_role": "contributor",
    "created_at": NOW,
}
COLLECTION = {
    "slug": "k901",
    "title": "t",
    "circle_id": 901,
    "state": "draft",
    "removed_unseen": 0,
    "created_at": NOW,
    "updated_at": NOW,
}
PURGE_TASK = {"kind": "database", "attempts": 0, "created_at": NOW}
GONE = {
    "kind": None,
    "circle_id": None,
    "contributor_id": None,
    "state": "withdrawn",
    "withdrawn_at": NOW,
}

RULES = [
    one_of("ck_account_role", "account", ACCOUNT, "role", ROLES),
    one_of("ck_account_locale", "account", ACCOUNT, "locale", (*LOCALES, None)),
    one_of("ck_membership_role", "membership", MEMBERSHIP, "role", CIRCLE_ROLES),
    one_of("ck_invite_role", "invite", INVITE, "role", CIRCLE_ROLES),
    one_of("ck_circle_event_event", "circle_event", CIRCLE_EVENT, "event", CIRCLE_EVENTS),
    one_of(
        "ck_circle_event_actor_role", "circle_event", CIRCLE_EVENT, "actor_role", EVENT_ACTOR_ROLES
    ),
    one_of("ck_item_kind", "item", ITEM, "kind", KINDS),
    Rule(
        "ck_item_state",
        "item",
        ITEM,
        refused=[{"state": REFUSED}],
        taken=[GONE if state == "withdrawn" else {"state": state} for state in ITEM_STATES],
    ),
    one_of("ck_revision_language", "revision", REVISION, "language", LANGUAGES),
    Rule(
        "ck_consent_audience",
        "consent",
        CONSENT,
        refused=[{"audience": REFUSED}],
        taken=[{"audience": value} for value in AUDIENCES],
        literals={"content_notes": "'[]'"},
    ),
    Rule(
        "ck_consent_attribution",
        "consent",
        CONSENT,
        refused=[{"attribution": REFUSED}],
        taken=[{"attribution": value} for value in ATTRIBUTIONS],
        literals={"content_notes": "'[]'"},
    ),
    Rule(
        "ck_consent_method",
        "consent",
        CONSENT,
        refused=[{"method": REFUSED}],
        taken=[{"method": value} for value in METHODS],
        literals={"content_notes": "'[]'"},
    ),
    Rule(
        "ck_consent_language",
        "consent",
        CONSENT,
        refused=[{"language": REFUSED}],
        taken=[{"language": value} for value in LANGUAGES],
        literals={"content_notes": "'[]'"},
    ),
    Rule(
        "ck_consent_event_event",
        "consent_event",
        CONSENT_EVENT,
        refused=[{"event": REFUSED}],
        taken=[{"event": value} for value in CONSENT_EVENTS],
        literals={"change": "'{}'"},
    ),
    Rule(
        "ck_consent_event_actor_role",
        "consent_event",
        CONSENT_EVENT,
        refused=[{"actor_role": REFUSED}],
        taken=[{"actor_role": value} for value in CONSENT_ACTORS],
        literals={"change": "'{}'"},
    ),
    one_of("ck_collection_state", "collection", COLLECTION, "state", STATES),
    Rule(
        "ck_purge_task_kind",
        "purge_task",
        PURGE_TASK,
        refused=[{"kind": REFUSED}],
        taken=[{"kind": value} for value in PURGE_KINDS],
        literals={"payload": "'{}'"},
    ),
    # a live item (active, or proposed to a member) has its kind, circle and contributor
    Rule(
        "ck_item_live_item_is_whole",
        "item",
        ITEM,
        refused=[
            {"state": state, missing: None}
            for state in ("active", "proposed")
            for missing in ("kind", "circle_id", "contributor_id")
        ],
        taken=[{"state": "active"}, {"state": "proposed"}, GONE],
    ),
    # a tombstone keeps no kind, circle, contributor or revision
    Rule(
        "ck_item_tombstone_keeps_nothing",
        "item",
        ITEM,
        refused=[
            {**GONE, "kind": "poem"},
            {**GONE, "circle_id": 901},
            {**GONE, "contributor_id": 901},
            {**GONE, "current_revision_id": 901},
        ],
        taken=[GONE],
    ),
]


def _insert(rule: Rule, values: dict) -> None:
    row = {**rule.row, **values}
    columns = [*row, *rule.literals]
    placeholders = [f":{name}" for name in row] + list(rule.literals.values())
    db.session.execute(
        sa.text(
            f'INSERT INTO "{rule.table}" ({", ".join(columns)}) VALUES ({", ".join(placeholders)})'
        ),
        row,
    )


@pytest.fixture
def base(app):
    for statement in BASE:
        db.session.execute(sa.text(statement), {"now": NOW, "yes": True})
    db.session.execute(
        sa.text(
            "INSERT INTO revision (id, item_id, number, title, body, "
            "language, alt_text, note, created_at) VALUES (901, 901, 9, "
            "'t', '', 'en', '', '', :now)"
        ),
        {"now": NOW},
    )
    db.session.commit()


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_the_database_refuses_what_a_check_forbids(app, base, rule):
    for values in rule.taken:
        _insert(rule, values)  # the same row with an allowed value is taken
        db.session.rollback()
    for values in rule.refused:
        with pytest.raises(IntegrityError) as refused:
            _insert(rule, values)
        db.session.rollback()
        assert rule.name in str(refused.value.orig), (values, str(refused.value.orig))


def test_every_check_of_the_models_is_tried_here():
    declared = {
        constraint.name
        for table in db.metadata.tables.values()
        for constraint in table.constraints
        if isinstance(constraint, sa.CheckConstraint)
    }
    assert declared == {rule.name for rule in RULES}


@pytest.fixture
def migrated_app(tmp_path):
    app = create_app(config_for_tests(tmp_path, DATABASE_URL=empty_database_url(tmp_path)))
    with app.app_context():
        migrate.upgrade()
        yield app
        db.session.remove()


def test_the_migrations_make_the_checks_the_models_declare(migrated_app):
    inspector = sa.inspect(db.engine)
    made = {
        check["name"]
        for table in inspector.get_table_names()
        for check in inspector.get_check_constraints(table)
    }
    assert made == {rule.name for rule in RULES}


@pytest.mark.parametrize(
    "rule",
    [
        rule
        for rule in RULES
        if rule.name in ("ck_item_state", "ck_item_live_item_is_whole", "ck_consent_audience")
    ],
    ids=lambda rule: rule.name,
)
def test_a_migrated_database_refuses_them_too(migrated_app, rule):
    for statement in BASE:
        db.session.execute(sa.text(statement), {"now": NOW, "yes": True})
    db.session.commit()
    for values in rule.refused:
        with pytest.raises(IntegrityError, match=rule.name):
            _insert(rule, values)
        db.session.rollback()
