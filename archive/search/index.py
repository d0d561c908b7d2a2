"""The Whoosh index: opening it, keeping it in line with the database, rebuilding it.

Writes: the database is the source of truth. A change writes an ``IndexTask`` in its own
transaction; after commit, ``apply_pending`` reads the items' *current* state and updates
or deletes their entries with a timed writer, so several workers serialise safely and a
task applied twice does no harm. Never a writer kept open between requests, never an
asynchronous writer (it loses updates when a worker exits). Reads: one searcher per
thread, replaced by a new one when it is no longer up to date (refreshing a searcher in
place returns stale and duplicate documents in every Whoosh fork).
"""
from __future__ import annotations

import shutil
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Optional

from flask import current_app
from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import selectinload
from whoosh import index as whoosh_index
from whoosh.reading import SegmentReader
from whoosh.writing import MERGE_SMALL

from archive.db import db
from archive.models import Contributor, IndexTask, Item
from archive.search import lengths
from archive.search.schema import document, make_schema

lengths.install()

WRITER_TIMEOUT = 30.0
#: a word found in at least this many entries is "common": phrases of two common words are
#: matched through their pair term (see `CommonPairs`); with a rarer word, at most this many
#: entries have their word positions checked
COMMON_MIN_ENTRIES = 500
COMMON_SAMPLE = 4000
COMMON_MAX_WORDS = 4000
REINDEX_MEMORY_MB = 2048
_opened: dict[str, whoosh_index.Index] = {}
_open_lock = threading.Lock()
_local = threading.local()


def folder() -> Path:
    return Path(current_app.config["INDEX_DIR"])


def get_index(path: Optional[Path] = None) -> whoosh_index.Index:
    """The index in ``path`` (the app's index folder), created empty the first time."""
    path = Path(path or folder())
    with _open_lock:
        cached = _opened.get(str(path))
        if cached is not None and path.exists():
            return cached
        path.mkdir(parents=True, exist_ok=True)
        if whoosh_index.exists_in(path):
            opened = whoosh_index.open_dir(path)
        else:
            opened = whoosh_index.create_in(path, make_schema())
        _opened[str(path)] = opened
        return opened


def forget(path: Path) -> None:
    with _open_lock:
        _opened.pop(str(path), None)
    cached = getattr(_local, "searchers", {}).pop(str(path), None)
    if cached is not None:
        cached.close()


def searcher():
    """This thread's searcher, reopened when the index has changed since."""
    key = str(folder())
    searchers = _local.__dict__.setdefault("searchers", {})
    current = searchers.get(key)
    if current is None or not current.up_to_date():
        if current is not None:
            current.close()
        current = searchers[key] = get_index().searcher()
    return current


def writer(ix: Optional[whoosh_index.Index] = None):
    return (ix or get_index()).writer(timeout=WRITER_TIMEOUT)


@contextmanager
def writing(ix: Optional[whoosh_index.Index] = None, **commit_options):
    """A timed writer that is committed, or cancelled if anything fails — including the
    commit itself (a full disk): the index lock is never left held."""
    w = writer(ix)
    try:
        yield w
        w.commit(**commit_options)
    except BaseException:
        try:
            w.cancel()
        finally:
            if w.writelock is not None:
                try:
                    w.writelock.release()
                except Exception:  # noqa: BLE001 — already released by cancel()
                    pass
        raise


# --- keeping in line with the database ---------------------------------------------------

def queue(item: Item) -> None:
    """Within the change's transaction: bring this item's entry up to date after commit."""
    from archive.db import after_commit
    db.session.add(IndexTask(item_public_id=item.public_id))
    after_commit(apply_pending)


def apply_pending(limit: int = 2000) -> int:
    """Apply queued index tasks (any worker may; applying twice is harmless)."""
    tasks = list(db.session.execute(select(IndexTask.id, IndexTask.item_public_id,
                                           IndexTask.created_at)
                                    .order_by(IndexTask.id).limit(limit)))
    if not tasks:
        return 0
    update_entries({public_id for _id, public_id, _at in tasks})
    # SQLite gives a deleted row's id to the next row: match the time too, or a newer task
    # of another worker that got a reused id would be deleted unapplied
    done = [(task_id, created_at) for task_id, _p, created_at in tasks]
    db.session.execute(delete(IndexTask).where(
        tuple_(IndexTask.id, IndexTask.created_at).in_(done)))
    db.session.commit()
    return len(tasks)


def update_entries(public_ids: Iterable[str]) -> None:
    """Read the items only once the writer is ours: read before, a worker that saved a
    newer revision and wrote it meanwhile would be overwritten with the older one."""
    public_ids = list(public_ids)
    with writing() as w:
        items = {item.public_id: item for item in db.session.scalars(
            select(Item).where(Item.public_id.in_(public_ids)))}
        for public_id in public_ids:
            item = items.get(public_id)
            if item is not None and item.active and item.current is not None:
                w.update_document(**document(item))
            else:
                w.delete_by_term("id", public_id)


def remove_entry(public_id: str) -> None:
    with writing() as w:
        w.delete_by_term("id", public_id)


# --- compaction: erased text must not linger in segment files -----------------------------

def merge_deletions(w, segments):
    """Merge policy: rewrite every segment that holds deleted documents (their text is
    still in its files until then), and merge small segments as usual."""
    keep = []
    for segment in segments:
        if segment.has_deletions():
            reader = SegmentReader(w.storage, w.schema, segment)
            w.add_reader(reader)
            reader.close()
        else:
            keep.append(segment)
    return MERGE_SMALL(w, keep)


def compact() -> str:
    ix = get_index()
    with ix.reader() as reader:
        holding = sum(1 for segment in ix._segments() if segment.has_deletions())
        deleted = reader.doc_count_all() - reader.doc_count()
    if not holding:
        return "no segment holds deleted documents"
    with writing(ix, mergetype=merge_deletions):
        pass
    return f"rewrote {holding} segment(s) holding {deleted} deleted document(s)"


# --- rebuilding and checking --------------------------------------------------------------

def reindex(progress: Callable[[int], None] = lambda n: None, procs: int = 1,
            batch: int = 500) -> int:
    """Rebuild the whole index from the database into a fresh folder, then swap it in."""
    target = folder()
    fresh = target.with_name(target.name + ".new")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    ix = whoosh_index.create_in(fresh, make_schema(common_words()))
    # postings are sorted in memory when they fit, else pickled to temporary files one by
    # one and merged (a third of the time of a rebuild): ~170 bytes each, ~150 per entry,
    # so 100k entries over two processes need ~1.3 GB each
    limit = REINDEX_MEMORY_MB
    w = ix.writer(procs=procs, limitmb=limit, multisegment=procs > 1) if procs > 1 \
        else ix.writer(limitmb=limit)
    # go on from the live index's generation: a searcher held by another thread or worker
    # compares generation numbers only, and would take a fresh 1 for the 1 it has open
    w.generation = max(w.generation, _generation(target) + 1)
    count = 0
    for chunk in _active_items(batch):
        for item in chunk:
            w.add_document(**document(item))
        count += len(chunk)
        progress(len(chunk))
        db.session.expunge_all()
    w.commit()
    _swap(fresh, target)
    return count


def common_words(min_entries: Optional[int] = None, sample: int = COMMON_SAMPLE) -> frozenset:
    """The words found in at least ``min_entries`` (`COMMON_MIN_ENTRIES`) active entries,
    estimated from an even sample of them (the index is being rebuilt: it cannot be asked)."""
    from collections import Counter
    from sqlalchemy import func
    from archive.search.analyzer import index_words
    min_entries = min_entries or COMMON_MIN_ENTRIES
    total = db.session.scalar(select(func.count()).select_from(Item)
                              .where(Item.state == "active")) or 0
    if total < min_entries:
        return frozenset()
    step = max(1, total // sample)
    ids = select(Item.id).where(Item.state == "active").order_by(Item.id)
    chosen = list(db.session.scalars(ids))[::step]
    counts: Counter = Counter()
    for start in range(0, len(chosen), 500):
        for item in db.session.scalars(
                select(Item).where(Item.id.in_(chosen[start:start + 500]))
                .options(selectinload(Item.current), selectinload(Item.consent),
                         selectinload(Item.contributor).selectinload(Contributor.account))):
            counts.update(set(index_words(document(item)["content"])))
        db.session.expunge_all()
    needed = min_entries * len(chosen) / total
    return frozenset(word for word, n in counts.most_common(COMMON_MAX_WORDS) if n >= needed)


def outdated(ix: Optional[whoosh_index.Index] = None) -> bool:
    """Whether the index was built with other fields or analyzers than this version's (it
    is then rebuilt by ``flask setup``)."""
    try:
        current = (ix or get_index()).schema
    except Exception:  # noqa: BLE001 — a schema this version cannot even read
        return True
    wanted = make_schema()
    return (sorted(current.names()) != sorted(wanted.names()) or any(
        type(getattr(current[name], "analyzer", None)) is not
        type(getattr(wanted[name], "analyzer", None)) for name in wanted.names()))


def _generation(path: Path) -> int:
    try:
        return whoosh_index.open_dir(path).latest_generation()
    except Exception:  # noqa: BLE001 — no index there, or one this version cannot read
        return -1


def _active_items(batch: int):
    last = 0
    while True:
        chunk = list(db.session.scalars(
            select(Item).where(Item.state == "active", Item.id > last)
            .options(selectinload(Item.current), selectinload(Item.consent),
                     selectinload(Item.contributor).selectinload(Contributor.account))
            .order_by(Item.id).limit(batch)))
        if not chunk:
            return
        last = chunk[-1].id
        yield chunk


def _swap(fresh: Path, target: Path) -> None:
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    forget(target)
    if target.exists():
        target.rename(old)
    fresh.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def check() -> dict[str, list[str]]:
    """Where the database and the index disagree: items missing from the index, entries
    for items that are gone or withdrawn."""
    in_db = set(db.session.scalars(select(Item.public_id).where(Item.state == "active")))
    with get_index().searcher() as s:
        in_index = {fields["id"] for fields in s.all_stored_fields()}
    return {"missing": sorted(in_db - in_index), "extra": sorted(in_index - in_db)}


def has_entry(public_id: str) -> bool:
    with get_index().searcher() as s:
        return s.document_number(id=public_id) is not None

