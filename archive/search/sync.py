"""Keeping this machine's index in line with the database.

The database is the source of truth. A change writes an ``IndexTask`` in its own
transaction; after commit, ``catch_up`` reads the items' *current* state and updates or
deletes their entries with a timed writer, so several workers serialise safely and a task
applied twice does no harm. Never a writer kept open between requests, never an
asynchronous writer (it loses updates when a worker exits).

Each machine keeps its own index. Tasks therefore stay in the database for
``INDEX_TASK_DAYS`` and each index folder holds a mark of the tasks it has applied
(`Mark`): every machine catches up after its own commits and before every search, so a
change made on one machine — an erasure above all — reaches the others' indexes too. A
machine that was away longer than tasks are kept rebuilds its index (``flask setup``,
`rebuild.needs_rebuild`).
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Optional

from flask import current_app
from sqlalchemy import bindparam, delete, func, select
from whoosh.index import LockError

from archive.db import db, rows_changed, utcnow
from archive.models import IndexTask, Item
from archive.search import index
from archive.search.compaction import schedule_compaction
from archive.search.schema import document

#: the health check waits this long for another worker that is catching up
SEARCH_WAIT = 2.0
#: more tasks than this between the settled mark and the newest applied one: read them all
#: rather than ask for the unapplied ones by number
GAPS_ASKED = 500
#: a task older than this is taken to be committed: no transaction of the site stays open
#: so long between writing its task and committing (a request is cut off long before)
SETTLE = timedelta(minutes=10)
MARK_FILE = "archive-applied.json"


@dataclass
class Mark:
    """Which tasks an index folder has applied: every task numbered up to ``settled``, and
    the later ones in ``recent``. Numbers alone are not enough: on PostgreSQL a transaction
    can take number 7, another number 8 and commit first; 7 must still be applied when it
    commits. So a number is only counted as settled once its task is older than `SETTLE`.
    ``checked`` is when this folder last knew itself up to date (seconds since the epoch);
    ``whole`` says the folder holds every piece: it was rebuilt, or it started when every
    active piece still had a task kept (a new site), not merely caught up with the tasks."""

    settled: int = 0
    recent: set[int] = field(default_factory=set)
    checked: Optional[float] = None
    whole: bool = False

    @classmethod
    def read(cls, path: Optional[Path] = None) -> Optional[Mark]:
        try:
            data = json.loads((Path(path or index.folder()) / MARK_FILE).read_text())
            return cls(
                int(data["settled"]),
                set(map(int, data["recent"])),
                float(data["checked"]),
                bool(data["whole"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, path: Optional[Path] = None) -> None:
        """Replace the file in one step: a reader sees the old mark or the new one."""
        target = Path(path or index.folder()) / MARK_FILE
        temporary = target.with_name(f".{MARK_FILE}.{os.getpid()}.{threading.get_ident()}")
        temporary.write_text(
            json.dumps(
                {
                    "settled": self.settled,
                    "recent": sorted(self.recent),
                    "checked": self.checked,
                    "whole": self.whole,
                }
            )
        )
        os.replace(temporary, target)

    @classmethod
    def first(cls) -> Mark:
        """The mark of a folder that has none yet (new, or from an older version)."""
        return cls(whole=_every_piece_has_a_task())

    def lost(self) -> bool:
        """Away longer than tasks are kept: some it needed may be gone."""
        days = current_app.config["INDEX_TASK_DAYS"]
        return self.checked is not None and time.time() - self.checked > days * 86400 - 3600

    def behind(self) -> bool:
        """Whether a task this folder has not applied is waiting (one cheap count)."""
        waiting = db.session.scalar(_waiting(), {"settled": self.settled})
        return waiting != len(self.recent)

    def advance(self, tasks: list[tuple[int, datetime]]) -> None:
        """Note ``tasks`` (every task after ``settled``: (id, created_at)) as applied."""
        self.recent |= {task_id for task_id, _at in tasks}
        old_enough = utcnow() - SETTLE
        self.settled = max(
            [task_id for task_id, at in tasks if at < old_enough], default=self.settled
        )
        self.recent = {task_id for task_id in self.recent if task_id > self.settled}
        if not self.lost():  # catching up with the kept tasks cannot make good what was lost
            self.checked = time.time()


@cache
def _waiting():
    """How many tasks come after a number (built once: every search asks it first)."""
    return select(func.count()).select_from(IndexTask).where(IndexTask.id > bindparam("settled"))


def queue(item: Item) -> None:
    """Within the change's transaction: bring this item's entry up to date after commit
    (`archive.background`: by this process's thread, the request has answered by then),
    here and on every other machine that keeps an index."""
    from archive import background

    db.session.add(IndexTask(item_public_id=item.public_id))
    background.after_commit(upkeep)


def upkeep() -> None:
    """Follow-up work of a change (`queue`), and of each process's start: catch up, and
    forget old tasks now and then. (A search catches up too, but never writes to the
    database: `catch_up` only reads it.)"""
    catch_up()
    _prune_now_and_then()


def catch_up(wait: float = index.WRITER_TIMEOUT) -> int:
    """Apply every task this machine's index has not applied yet; returns how many. Any
    worker may; several at once serialise on the writer, and the second finds nothing left.
    Gives up quietly (returns 0) if the writer stays busy for ``wait`` seconds."""
    mark = Mark.read() or Mark.first()
    if not mark.behind():
        _refresh_checked(mark)
        return 0
    try:
        w = index.writer(timeout=wait)
    except LockError:
        return 0
    try:
        mark = Mark.read() or Mark.first()  # another worker may have caught up meanwhile
        tasks = list(
            db.session.execute(
                select(IndexTask.id, IndexTask.item_public_id, IndexTask.created_at)
                .where(IndexTask.id > mark.settled)
                .order_by(IndexTask.id)
            )
        )
        fresh = [
            (task_id, public_id) for task_id, public_id, _at in tasks if task_id not in mark.recent
        ]
        removed = _update(w, {public_id for _id, public_id in fresh}) if fresh else 0
        merging = index.Merging(index.merge_when_many)
        if fresh:
            w.commit(mergetype=merging)
        else:
            index.cancel(w)
    except BaseException:
        index.cancel(w)
        raise
    mark.advance([(task_id, at) for task_id, _p, at in tasks])
    mark.write()
    merging.let_go(index.get_index())
    if removed:
        schedule_compaction()
    return len(fresh)


def catch_up_or_stale() -> frozenset[str]:
    """For a search, which must never wait for the writer: apply what this machine's index
    has not applied if the writer is free at once; returns the public ids of the items
    whose changes are still not applied (another worker is applying them). A search leaves
    their entries out until then: an item withdrawn or narrowed a moment ago is not counted
    from its old entry, and a new one is found a moment later."""
    mark = Mark.read() or Mark.first()
    if not mark.behind():
        _refresh_checked(mark)
        return frozenset()
    catch_up(wait=0)
    mark = Mark.read() or Mark.first()
    return _unapplied(mark) if mark.behind() else frozenset()


def _unapplied(mark: Mark) -> frozenset[str]:
    """The items of the tasks after ``mark`` that it has not applied."""
    newest = max(mark.recent, default=mark.settled)
    gaps = [number for number in range(mark.settled + 1, newest) if number not in mark.recent]
    query = select(IndexTask.id, IndexTask.item_public_id)
    if len(gaps) <= GAPS_ASKED:
        query = query.where((IndexTask.id > newest) | IndexTask.id.in_(gaps))
    else:
        query = query.where(IndexTask.id > mark.settled)
    return frozenset(
        public_id for task_id, public_id in db.session.execute(query) if task_id not in mark.recent
    )


def _refresh_checked(mark: Mark) -> None:
    """Keep ``checked`` roughly current on a quiet site (one small write an hour)."""
    if mark.checked is None or (time.time() - mark.checked > 3600 and not mark.lost()):
        mark.checked = time.time()
        try:
            mark.write()
        except OSError:
            pass


def _update(w, public_ids: set[str]) -> int:
    """Read the items only once the writer is ours: read before, a worker that saved a
    newer revision and wrote it meanwhile would be overwritten with the older one."""
    items = {
        item.public_id: item
        for item in db.session.scalars(select(Item).where(Item.public_id.in_(public_ids)))
    }
    removed = 0
    for public_id in sorted(public_ids):
        item = items.get(public_id)
        if item is not None and item.active and item.current is not None:
            w.update_document(**document(item))
        else:
            removed += w.delete_by_term("id", public_id) or 0
    return removed


_last_pruned: list[Optional[float]] = [None]


def _prune_now_and_then() -> None:
    if _last_pruned[0] is None or time.monotonic() - _last_pruned[0] > 3600:
        _last_pruned[0] = time.monotonic()
        prune_tasks()


def prune_tasks() -> int:
    """Forget tasks older than ``INDEX_TASK_DAYS``: every machine has applied them by then,
    or rebuilds its index when it comes back (`needs_rebuild`)."""
    cutoff = utcnow() - timedelta(days=current_app.config["INDEX_TASK_DAYS"])
    pruned = rows_changed(delete(IndexTask).where(IndexTask.created_at < cutoff))
    db.session.commit()
    return pruned


def active_count() -> int:
    return (
        db.session.scalar(select(func.count()).select_from(Item).where(Item.state == "active")) or 0
    )


def _every_piece_has_a_task() -> bool:
    """Whether applying the kept tasks alone builds a complete index (true on a new site;
    false once tasks have been forgotten, or on an index from before tasks were kept)."""
    without = (
        select(func.count())
        .select_from(Item)
        .where(
            Item.state == "active",
            ~select(IndexTask.id).where(IndexTask.item_public_id == Item.public_id).exists(),
        )
    )
    return not db.session.scalar(without)
