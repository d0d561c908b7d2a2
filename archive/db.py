"""The database: one declarative base with stable constraint names, one session per request.

Operations only ``flush()``; the request (or CLI command) commits once at the end, and the
error handlers roll back.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import CheckConstraint, Delete, MetaData, Update, event, text
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.orm import DeclarativeBase, Session

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

if TYPE_CHECKING:
    # A type checker cannot take a base class from an attribute: to it the models derive
    # from the declarative base that ``db.Model`` is built from.
    Model = Base
else:
    Model = db.Model


def one_of_sql(column: str, values: Iterable[str]) -> str:
    """``column IN ('a', 'b')``: the SQL of an enumeration's CHECK (NULL passes, as in SQL;
    a column that must have a value says so with NOT NULL)."""
    quoted = []
    for value in values:
        if "'" in value:
            raise ValueError(f"an enumerated value holds a quote: {value!r}")
        quoted.append(f"'{value}'")
    return f"{column} IN ({', '.join(quoted)})"


def one_of(column: str, values: Iterable[str]) -> CheckConstraint:
    """The database's own check that ``column`` holds one of ``values`` — the same constant
    the operations check against — named ``ck_<table>_<column>``."""
    return CheckConstraint(one_of_sql(column, values), name=column)


#: columns that hold what people wrote. On PostgreSQL, ANALYZE copies sample values of a
#: column into ``pg_statistic`` (most common values, histogram bounds), and it never
#: rewrites them once a table is empty: an erased title could stay there. These columns
#: get a statistics target of 0, so their values are never sampled (nothing queries them;
#: search has its own index). Migrations 0007 and 0014 did the same for existing databases,
#: each with its own copy of the list as it stood then: this is the only live definition.
CONTENT_COLUMNS = {
    "revision": ("title", "body", "alt_text", "note", "html", "excerpt", "description"),
    "revision_tag": ("tag",),
    "concept_tag": ("tag",),
    "media_asset": ("derivatives",),
    "consent": ("pseudonym",),
    "contributor": ("pseudonym",),
    "entry": ("note",),
}


@event.listens_for(Base.metadata, "after_create")
def _content_out_of_statistics(_metadata, connection, **_kw) -> None:
    if connection.dialect.name != "postgresql":
        return
    for table, columns in CONTENT_COLUMNS.items():
        for column in columns:
            connection.execute(
                text(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET STATISTICS 0')
            )


#: the tables whose rows belong to one item: none may be added to a withdrawn item. (A
#: revision's tags, ``revision_tag``, hang from a revision, which a withdrawn item has none of:
#: its foreign key refuses them.)
ITEM_PARTS = ("revision", "media_asset", "consent", "entry")


def withdrawn_item_guards(dialect: str, tables: Iterable[str] = ITEM_PARTS) -> list[str]:
    """The database's own refusal of a new revision, media row, consent or collection entry
    for a withdrawn item: a second line behind the operations' item lock, so no code path,
    present or future, can attach words to a tombstone. Migrations 0010 and 0014 pass the
    tables as they stood then."""
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION withdrawn_item_keeps_nothing() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "IF EXISTS (SELECT 1 FROM item WHERE id = NEW.item_id AND state = 'withdrawn') "
            "THEN RAISE EXCEPTION 'item was withdrawn' "
            "USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$"
        ] + [
            statement
            for table in tables
            for statement in (
                f'DROP TRIGGER IF EXISTS withdrawn_item_keeps_no_{table} ON "{table}"',
                f'CREATE TRIGGER withdrawn_item_keeps_no_{table} BEFORE INSERT ON "{table}" '
                "FOR EACH ROW EXECUTE FUNCTION withdrawn_item_keeps_nothing()",
            )
        ]
    return [
        f"CREATE TRIGGER IF NOT EXISTS withdrawn_item_keeps_no_{table} "
        f'BEFORE INSERT ON "{table}" '
        "FOR EACH ROW WHEN (SELECT state FROM item WHERE id = NEW.item_id) = 'withdrawn' "
        "BEGIN SELECT RAISE(ABORT, 'item was withdrawn'); END"
        for table in tables
    ]


def drop_withdrawn_item_guards(dialect: str, tables: Iterable[str] = ITEM_PARTS) -> list[str]:
    drops = [
        f"DROP TRIGGER IF EXISTS withdrawn_item_keeps_no_{table}"
        + (f' ON "{table}"' if dialect == "postgresql" else "")
        for table in tables
    ]
    if dialect == "postgresql":
        drops.append("DROP FUNCTION IF EXISTS withdrawn_item_keeps_nothing()")
    return drops


@event.listens_for(Base.metadata, "after_create")
def _guard_withdrawn_items(_metadata, connection, **_kw) -> None:
    for statement in withdrawn_item_guards(connection.dialect.name):
        connection.exec_driver_sql(statement)


def utcnow() -> datetime:
    """Naive UTC, the form SQLite and PostgreSQL ``timestamp`` columns round-trip alike."""
    return datetime.now(UTC).replace(tzinfo=None)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL for concurrent readers, foreign keys enforced, erased bytes overwritten on disk.
    (PostgreSQL needs none of these: it always enforces foreign keys and lets readers and a
    writer work at once; how it forgets erased rows is ``archive.purge``'s business.)"""
    module = type(dbapi_connection).__module__
    if not module.startswith(("sqlite3", "pysqlite")):
        return
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "foreign_keys=ON",
        "secure_delete=ON",
        "busy_timeout=10000",
        "synchronous=NORMAL",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


# --- work that must follow the transaction ----------------------------------------------
# Files are not transactional. An operation that stores a file registers its removal with
# ``on_rollback``; one that must delete files or index entries only once the database change
# is durable registers that with ``after_commit``. ``commit()`` and ``rollback()`` below are
# the only places a unit of work ends.


def after_commit(callback: Callable[[], None]) -> None:
    db.session.info.setdefault("after_commit", []).append(callback)


def on_rollback(callback: Callable[[], None]) -> None:
    db.session.info.setdefault("on_rollback", []).append(callback)


def first_time(key) -> bool:
    """True the first time ``key`` is asked about in this unit of work (for work that is
    queued once per transaction however many changes ask for it)."""
    seen = db.session.info.setdefault("seen", set())
    if key in seen:
        return False
    seen.add(key)
    return True


@contextmanager
def savepoint() -> Iterator[None]:
    """``db.session.begin_nested()`` on both databases: a failure inside is undone and the
    rest of the unit of work carries on, still to be committed or rolled back as one.

    SQLite's driver opens its transaction only before a write, so a SAVEPOINT coming first
    would open one itself, and releasing it would commit everything so far before the
    request decided. The transaction is opened first here, IMMEDIATE: it waits for the one
    writer SQLite allows, as the write inside would."""
    write_lock()
    with db.session.begin_nested():
        yield


def write_lock() -> None:
    """Make this unit of work the writer now, before it reads what it will decide on.

    SQLite: ``BEGIN IMMEDIATE``, which waits for the one writer SQLite allows; every read
    after it sees the newest committed state, and no other write can commit until this one
    ends. (Its driver begins a transaction only before a write, so one already begun holds
    the lock already.) PostgreSQL needs nothing here: operations lock the rows they decide
    on (``SELECT … FOR UPDATE``)."""
    connection = db.session.connection()
    if (
        connection.dialect.name == "sqlite"
        and not cast(sqlite3.Connection, connection.connection.dbapi_connection).in_transaction
    ):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def rows_changed(statement: Update | Delete) -> int:
    """Run an UPDATE or DELETE in the session; how many rows it changed."""
    return cast("CursorResult[Any]", db.session.execute(statement)).rowcount


def commit() -> None:
    db.session.commit()
    db.session.info.pop("on_rollback", None)
    _run(db.session.info.pop("after_commit", []))


def rollback() -> None:
    db.session.rollback()


#: ``session.info`` key of what `archive.access.roles` has read: forgotten at every write
ROLES_KEY = "archive_roles"
#: ``session.info`` key of the tag concepts `archive.vocabulary` has read: likewise
VOCABULARY_KEY = "archive_vocabulary"
READ_ONCE = (ROLES_KEY, VOCABULARY_KEY)


def _forget(session: Session) -> None:
    for key in READ_ONCE:
        session.info.pop(key, None)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    _forget(session)


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state) -> None:
    if not state.is_select:  # a bulk update or delete
        _forget(state.session)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop("seen", None)
    _forget(session)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("after_commit", None)
    session.info.pop("seen", None)
    _forget(session)
    _run(session.info.pop("on_rollback", []))


def _run(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:  # one failed clean-up must not stop the others; it is retried later
            logging.getLogger("archive").exception("post-transaction task failed")
