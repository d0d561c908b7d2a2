"""The Whoosh index: opening it, keeping it in line with the database, rebuilding it.

Writes: the database is the source of truth. A change writes an ``IndexTask`` in its own
transaction; after commit, ``catch_up`` reads the items' *current* state and updates or
deletes their entries with a timed writer, so several workers serialise safely and a task
applied twice does no harm. Never a writer kept open between requests, never an
asynchronous writer (it loses updates when a worker exits).

Each machine keeps its own index. Tasks therefore stay in the database for
``INDEX_TASK_DAYS`` and each index folder holds a mark of the tasks it has applied
(`Mark`): every machine catches up after its own commits and before every search, so a
change made on one machine — an erasure above all — reaches the others' indexes too. A
machine that was away longer than tasks are kept rebuilds its index (``flask setup``).

Reads: one searcher per thread, replaced by a new one when it is no longer up to date
(refreshing a searcher in place returns stale and duplicate documents in every Whoosh fork).
Readers of segments that leave the index are closed in every thread (`held`).
"""
from __future__ import annotations

import fcntl
import gc
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Optional

from flask import current_app
from sqlalchemy import bindparam, delete, func, select
from whoosh import index as whoosh_index
from whoosh.index import LockError
from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.searching import Searcher
from whoosh.writing import MERGE_SMALL, NO_MERGE

from archive.db import db, rows_changed, utcnow
from archive.models import Contributor, IndexTask, Item
from archive.search import files, held, lengths, pool, postings
from archive.search.codec import ArchiveCodec
from archive.search.schema import document, entry, make_schema

files.install()
lengths.install()
pool.install()
postings.install()

WRITER_TIMEOUT = 30.0
#: how often a worker waiting for the index writer tries the lock again (Whoosh's own
#: default, 0.1 s, added up to a tenth of a second to a search or a save behind another)
WRITER_POLL = 0.005
#: the health check waits this long for another worker that is catching up
SEARCH_WAIT = 2.0
#: more tasks than this between the settled mark and the newest applied one: read them all
#: rather than ask for the unapplied ones by number
GAPS_ASKED = 500
#: a task older than this is taken to be committed: no transaction of the site stays open
#: so long between writing its task and committing (a request is cut off long before)
SETTLE = timedelta(minutes=10)
MARK_FILE = "archive-applied.json"
#: a word found in at least this many entries is "common": phrases of two common words are
#: matched through their pair term (see `CommonPairs`); with a rarer word, at most this many
#: entries have their word positions checked
COMMON_MIN_ENTRIES = 500
COMMON_SAMPLE = 4000
COMMON_MAX_WORDS = 4000
REINDEX_MEMORY_MB = 2048
#: a segment with fewer entries than this is small; that many small ones are merged
SMALL_SEGMENT, SMALL_SEGMENTS = 1000, 8
_opened: dict[str, whoosh_index.Index] = {}
_open_lock = threading.Lock()


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
        # several worker processes may open a new folder at once: one creates the index
        with open(path / "archive-create.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            opened = _open_or_create(path)
        _opened[str(path)] = opened
        return opened


def _open_or_create(path: Path, tries: int = 10) -> whoosh_index.Index:
    """Open the index in ``path``, or create it there. Another worker's commit can replace
    the generation being opened between finding its table of contents and reading it;
    then the newer one is opened (as Whoosh's own ``reader()`` does)."""
    failed = 0
    while True:
        try:
            if whoosh_index.exists_in(path):
                return whoosh_index.open_dir(path)
            return whoosh_index.create_in(path, make_schema())
        except FileNotFoundError:
            failed += 1
            if failed == tries:
                raise
            time.sleep(0.01)


def forget(path: Path) -> None:
    """The folder's index was replaced: every thread lets go of what it held of it."""
    with _open_lock:
        _opened.pop(str(path), None)
    held.drop_all(str(path))


def searcher():
    """This thread's searcher, replaced when the index has changed since. (A search uses
    `searching`, which keeps other threads from closing its readers meanwhile.)"""
    with searching() as current:
        return current


@contextmanager
def searching():
    """This thread's searcher, up to date, for the length of a search: until it ends, no
    other thread closes its readers (see `archive.search.held`)."""
    holder = held.holder(str(folder()))
    with holder.lock:
        current = holder.searcher
        if current is None or not current.up_to_date():
            holder.hold(_open_searcher(get_index(), current if current is not None
                                       else holder.spare))
        yield holder.searcher


def let_go_of_removed(path: Optional[Path] = None) -> set[str]:
    """Close this process's readers of segments no longer in the index (another process
    compacted or merged them away); returns their ids."""
    key = str(path or folder())
    if not held.holding(key):
        return set()
    toc = _table(get_index(Path(key)))
    return held.let_go_unless(key, {segment.segment_id() for segment in toc.segments},
                              toc.generation)


def let_go_if_changed() -> None:
    """Before a request: when the index folder has changed (one ``stat``), let go of the
    segments that have left it."""
    key = str(folder())
    if held.changed(key):
        try:
            let_go_of_removed(Path(key))
        except Exception:
            held.unseen(key)
            raise


def _open_searcher(ix: whoosh_index.Index, previous=None, tries: int = 10) -> Searcher:
    """A searcher of the index as it is now. Its segments that ``previous`` (this thread's
    last searcher, which must not be used afterwards, or the readers left of it) also had
    keep their opened readers: a segment's files never change, so only its deletions are
    brought up to date. Opening a segment reads its word table and columns in many small
    reads; after a save every thread of every worker opens a new searcher, and without
    this each paid for every segment again. (Whoosh's own reuse keeps a segment's old
    deletions, and adds segments merged away since: removed entries would be counted and
    found.)"""
    if isinstance(previous, dict):
        kept = previous
    else:
        kept = held.segment_readers(previous) if previous is not None else {}
    failed = 0
    while True:
        opened: list = []
        try:
            toc = ix._read_toc()
            readers = [_reused(kept[segment.segment_id()], segment, toc.generation)
                       if segment.segment_id() in kept else
                       _opened_reader(ix, toc, segment, opened) for segment in toc.segments]
            break
        except OSError:
            # a commit replaced the table of contents, or merged a segment away between
            # reading the table and opening its files: read the newer one (as Whoosh's own
            # reader() does)
            for reader in opened:
                reader.close()
            failed += 1
            if failed == tries:
                raise
            time.sleep(0.01)
    using = {id(reader) for reader in readers}
    for reader in kept.values():
        if id(reader) not in using:
            reader.close()
    if not readers:
        reader = EmptyReader(toc.schema)
    elif len(readers) == 1:
        reader = readers[0]
    else:
        reader = MultiReader(readers, generation=toc.generation)
    return Searcher(reader, fromindex=ix)


def _table(ix: whoosh_index.Index, tries: int = 10):
    """The index's newest table of contents (schema, segments), read again if a commit
    replaced it between finding and reading it."""
    for attempt in range(tries):
        try:
            return ix._read_toc()
        except FileNotFoundError:
            if attempt == tries - 1:
                raise
            time.sleep(0.01)


def _segments(ix: whoosh_index.Index) -> list:
    return _table(ix).segments


def _opened_reader(ix, toc, segment, opened: list) -> SegmentReader:
    reader = SegmentReader(ix.storage, toc.schema, segment, generation=toc.generation)
    opened.append(reader)
    return reader


def _reused(reader: SegmentReader, segment, generation: int) -> SegmentReader:
    """An opened segment reader told of ``segment``'s deletions as they are now."""
    reader._segment = reader._perdoc._segment = segment
    reader._gen = generation
    reader.__dict__.pop("deleted_docs_set", None)   # Whoosh keeps it once asked
    return reader


def writer(ix: Optional[whoosh_index.Index] = None, timeout: float = WRITER_TIMEOUT,
           **options):
    return (ix or get_index()).writer(timeout=timeout, delay=WRITER_POLL,
                                      codec=ArchiveCodec(), **options)


@contextmanager
def writing(ix: Optional[whoosh_index.Index] = None, timeout: float = WRITER_TIMEOUT,
            limitmb: int = 128, mergetype=None, **commit_options):
    """A timed writer that is committed, or cancelled if anything fails — including the
    commit itself (a full disk): the index lock is never left held. ``limitmb``: the memory
    its postings may take before they are written to temporary files. Segments the commit
    merges away are let go of by every thread of this process before it returns."""
    ix = ix or get_index()
    w = writer(ix, timeout, limitmb=limitmb)
    merging = Merging(mergetype or merge_when_many)
    try:
        yield w
        w.commit(mergetype=merging, **commit_options)
    except BaseException:
        _cancel(w)
        raise
    merging.let_go(ix)


class Merging:
    """A merge policy that notes the segments a commit leaves out (merged away, or swapped
    out by a compaction), so that this process's readers of them are closed after it: a
    mapped file stays on disk, erased words and all, however deleted."""

    def __init__(self, policy) -> None:
        self.policy = policy
        self.gone: set[str] = set()

    def __call__(self, w, segments):
        kept = self.policy(w, segments)
        self.gone = {s.segment_id() for s in segments} - {s.segment_id() for s in kept}
        return kept

    def let_go(self, ix: whoosh_index.Index) -> None:
        folder_of = getattr(ix.storage, "folder", None)
        if self.gone and folder_of is not None:
            held.let_go(str(folder_of), self.gone)


def _cancel(w) -> None:
    try:
        w.cancel()
    finally:
        if w.writelock is not None:
            try:
                w.writelock.release()
            except Exception:  # noqa: BLE001 — already released by cancel()
                pass


# --- keeping in line with the database ---------------------------------------------------

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
            data = json.loads((Path(path or folder()) / MARK_FILE).read_text())
            return cls(int(data["settled"]), set(map(int, data["recent"])),
                       float(data["checked"]), bool(data["whole"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, path: Optional[Path] = None) -> None:
        """Replace the file in one step: a reader sees the old mark or the new one."""
        target = Path(path or folder()) / MARK_FILE
        temporary = target.with_name(f".{MARK_FILE}.{os.getpid()}.{threading.get_ident()}")
        temporary.write_text(json.dumps({"settled": self.settled,
                                         "recent": sorted(self.recent),
                                         "checked": self.checked, "whole": self.whole}))
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
        self.settled = max([task_id for task_id, at in tasks if at < old_enough],
                           default=self.settled)
        self.recent = {task_id for task_id in self.recent if task_id > self.settled}
        if not self.lost():  # catching up with the kept tasks cannot make good what was lost
            self.checked = time.time()


@cache
def _waiting():
    """How many tasks come after a number (built once: every search asks it first)."""
    return select(func.count()).select_from(IndexTask).where(
        IndexTask.id > bindparam("settled"))


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


def catch_up(wait: float = WRITER_TIMEOUT) -> int:
    """Apply every task this machine's index has not applied yet; returns how many. Any
    worker may; several at once serialise on the writer, and the second finds nothing left.
    Gives up quietly (returns 0) if the writer stays busy for ``wait`` seconds."""
    mark = Mark.read() or Mark.first()
    if not mark.behind():
        _refresh_checked(mark)
        return 0
    try:
        w = writer(timeout=wait)
    except LockError:
        return 0
    try:
        mark = Mark.read() or Mark.first()  # another worker may have caught up meanwhile
        tasks = list(db.session.execute(
            select(IndexTask.id, IndexTask.item_public_id, IndexTask.created_at)
            .where(IndexTask.id > mark.settled).order_by(IndexTask.id)))
        fresh = [(task_id, public_id) for task_id, public_id, _at in tasks
                 if task_id not in mark.recent]
        removed = _update(w, {public_id for _id, public_id in fresh}) if fresh else 0
        merging = Merging(merge_when_many)
        if fresh:
            w.commit(mergetype=merging)
        else:
            _cancel(w)
    except BaseException:
        _cancel(w)
        raise
    mark.advance([(task_id, at) for task_id, _p, at in tasks])
    mark.write()
    merging.let_go(get_index())
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
    return frozenset(public_id for task_id, public_id in db.session.execute(query)
                     if task_id not in mark.recent)


def _refresh_checked(mark: Mark) -> None:
    """Keep ``checked`` roughly current on a quiet site (one small write an hour)."""
    if mark.checked is None or (time.time() - mark.checked > 3600 and not mark.lost()):
        mark.checked = time.time()
        try:
            mark.write()
        except OSError:
            pass


def update_entries(public_ids: Iterable[str]) -> int:
    """Bring these items' entries in line with the database now; returns how many entries
    were removed (their items are gone or withdrawn)."""
    public_ids = set(public_ids)
    with writing() as w:
        return _update(w, public_ids)


def _update(w, public_ids: set[str]) -> int:
    """Read the items only once the writer is ours: read before, a worker that saved a
    newer revision and wrote it meanwhile would be overwritten with the older one."""
    items = {item.public_id: item for item in db.session.scalars(
        select(Item).where(Item.public_id.in_(public_ids)))}
    removed = 0
    for public_id in sorted(public_ids):
        item = items.get(public_id)
        if item is not None and item.active and item.current is not None:
            w.update_document(**document(item))
        else:
            removed += w.delete_by_term("id", public_id) or 0
    return removed


def remove_entry(public_id: str) -> None:
    with writing() as w:
        w.delete_by_term("id", public_id)


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
    return pruned or 0


def needs_rebuild() -> Optional[str]:
    """Why this machine's index cannot be brought up to date from the kept tasks, if so."""
    if outdated():
        return "the index was built by another version"
    mark = Mark.read() or Mark.first()
    if not mark.whole and _active_count():
        return "the index has no record of being complete"
    if mark.lost():
        days = current_app.config["INDEX_TASK_DAYS"]
        return f"the index was last brought up to date more than {days} days ago"
    return None


def _active_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Item)
                             .where(Item.state == "active")) or 0


def _every_piece_has_a_task() -> bool:
    """Whether applying the kept tasks alone builds a complete index (true on a new site;
    false once tasks have been forgotten, or on an index from before tasks were kept)."""
    without = select(func.count()).select_from(Item).where(
        Item.state == "active",
        ~select(IndexTask.id).where(IndexTask.item_public_id == Item.public_id).exists())
    return not db.session.scalar(without)


def schedule_compaction(delay: Optional[float] = None) -> None:
    """Rewrite, soon, the segments that still hold removed entries' text, by the background
    thread. One pending compaction per process: removals close together share it
    (``INDEX_COMPACT_DELAY`` seconds; below zero, only ``flask purge`` compacts). One that
    fails is tried again (`archive.background`); ``flask purge`` compacts too."""
    from archive import background
    delay = current_app.config["INDEX_COMPACT_DELAY"] if delay is None else delay
    if delay >= 0:
        background.later(compact, delay)


def merge_when_many(w, segments):
    """Merge policy for everyday changes: small segments are merged once there are
    `SMALL_SEGMENTS` of them. Whoosh's own policy merges at nearly every commit, rewriting
    the small segment the last commit merged into: a third of the time a one-item change
    held the writer, which every other save waits for."""
    small = sum(1 for segment in segments if segment.doc_count_all() < SMALL_SEGMENT)
    return segments if small < SMALL_SEGMENTS else MERGE_SMALL(w, segments)


# --- compaction: erased text must not linger in segment files -----------------------------

COMPACT_LOCK = "archive-compact.lock"
#: where a segment is rewritten, inside the index folder (a rebuild's swap takes it along)
ASIDE_PREFIX = "compacting-"
#: passes over the segments: entries removed while one pass rewrote are rewritten by the next
COMPACT_PASSES = 4


def compact() -> str:
    """Rewrite every segment that holds removed entries (their text is still in its files)
    without them. Each is rewritten aside, in a folder of its own, while the writer stays
    free: saves and removals go on meanwhile. The writer is held only to put the new
    segment in the old one's place, with the removals made meanwhile carried over; a
    segment merged away or rebuilt meanwhile is left to whoever did that. One compaction
    at a time per index folder; what one left behind in a crash is removed by the next."""
    ix = get_index()
    path = folder()
    rewritten = removed = 0
    with open(path / COMPACT_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for left in path.glob(ASIDE_PREFIX + "*"):
            shutil.rmtree(left, ignore_errors=True)
        for _ in range(COMPACT_PASSES):
            holding = [segment for segment in _segments(ix) if segment.has_deletions()]
            if not holding:
                break
            for segment in holding:
                if _rewrite(ix, path, segment):
                    rewritten += 1
                    removed += segment.deleted_count()
    if not rewritten:
        return "no segment holds deleted documents"
    return f"rewrote {rewritten} segment(s) holding {removed} deleted document(s)"


def _rewrite(ix: whoosh_index.Index, path: Path, segment) -> bool:
    """``segment`` (as the table of contents had it) rewritten without its removed entries
    and swapped in; False if it was gone by then."""
    aside = path / f"{ASIDE_PREFIX}{segment.segid}"
    shutil.rmtree(aside, ignore_errors=True)
    aside.mkdir()
    try:
        kept = [doc for doc in range(segment.doc_count_all()) if not segment.is_deleted(doc)]
        try:
            fresh = _without_deletions(ix, segment, aside) if kept else None
        except FileNotFoundError:
            if any(s.segid == segment.segid for s in _segments(ix)):
                raise
            return False   # merged away meanwhile: the merge left its removed entries out
        swapped = []

        def swap(_w, segments):
            current = next((s for s in segments if s.segid == segment.segid), None)
            if current is None:
                return segments
            if fresh is not None:
                # entries removed while it was rewritten: the same entries of the new one
                # (it holds the kept ones in the same order)
                number = {old: new for new, old in enumerate(kept)}
                for old in current.deleted_docs():
                    if old in number:
                        fresh.delete_document(number[old])
                for name in os.listdir(aside):
                    if name.startswith(fresh.segment_id() + "."):
                        os.replace(aside / name, path / name)
            swapped.append(True)
            return [fresh if s is current else s for s in segments
                    if s is not current or fresh is not None]

        with writing(ix, mergetype=swap):
            pass
        return bool(swapped)
    finally:
        shutil.rmtree(aside, ignore_errors=True)


def _without_deletions(ix: whoosh_index.Index, segment, aside: Path):
    """A new segment, written in ``aside``, holding ``segment``'s kept entries in order."""
    schema = ix.schema
    scratch = whoosh_index.create_in(aside, schema, indexname=ix.indexname)
    # its postings all go through the writer's pool: kept in memory, as a rebuild's
    w = scratch.writer(limitmb=REINDEX_MEMORY_MB, codec=ArchiveCodec())
    try:
        reader = SegmentReader(ix.storage, schema, segment)
        try:
            w.add_reader(reader)
        finally:
            reader.close()
        w.commit(mergetype=NO_MERGE)
    except BaseException:
        _cancel(w)
        raise
    (fresh,) = scratch._segments()
    return fresh


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
    w = ix.writer(procs=procs, limitmb=limit, multisegment=procs > 1, codec=ArchiveCodec()) \
        if procs > 1 else ix.writer(limitmb=limit, codec=ArchiveCodec())
    # go on from the live index's generation: a searcher held by another thread or worker
    # compares generation numbers only, and would take a fresh 1 for the 1 it has open
    w.generation = max(w.generation, _generation(target) + 1)
    # every task committed so far is in what is read below; later ones are applied after
    mark = Mark(whole=True)
    mark.advance(list(db.session.execute(select(IndexTask.id, IndexTask.created_at))))
    count = 0
    # a rebuild makes millions of small objects it keeps (postings) and no reference
    # cycles: the collector's passes over them took a tenth of the time (the writer's
    # processes, forked meanwhile, inherit this)
    collecting = gc.isenabled()
    gc.disable()
    try:
        for chunk in _active_entries(batch):
            for fields in chunk:
                w.add_document(**fields)
            count += len(chunk)
            progress(len(chunk))
        w.commit()
    finally:
        if collecting:
            gc.enable()
    mark.write(fresh)
    _swap(fresh, target)
    catch_up()
    return count


def common_words(min_entries: Optional[int] = None, sample: int = COMMON_SAMPLE) -> frozenset:
    """The words found in at least ``min_entries`` (`COMMON_MIN_ENTRIES`) active entries,
    estimated from an even sample of them (the index is being rebuilt: it cannot be asked)."""
    from collections import Counter

    from archive.search.analyzer import index_words
    min_entries = min_entries or COMMON_MIN_ENTRIES
    total = _active_count()
    if total < min_entries:
        return frozenset()
    step = max(1, total // sample)
    ids = select(Item.id).where(Item.state == "active").order_by(Item.id)
    chosen = list(db.session.scalars(ids))[::step]
    counts: Counter = Counter()
    for start in range(0, len(chosen), 500):
        for _id, fields in _entries(Item.id.in_(chosen[start:start + 500])):
            counts.update(set(index_words(fields["content"])))
    needed = min_entries * len(chosen) / total
    return frozenset(word for word, n in counts.most_common(COMMON_MAX_WORDS) if n >= needed)


def outdated(ix: Optional[whoosh_index.Index] = None) -> bool:
    """Whether the index was built with other fields or analyzers than this version's, or
    holds segments in another postings format (it is then rebuilt by ``flask setup``)."""
    try:
        toc = _table(ix or get_index())
        current, segments = toc.schema, toc.segments
    except Exception:  # noqa: BLE001 — a schema this version cannot even read
        return True
    if any(type(segment.codec()) is not ArchiveCodec for segment in segments):
        return True
    wanted = make_schema()
    return (sorted(current.names()) != sorted(wanted.names()) or any(
        type(getattr(current[name], part, None)) is not type(getattr(wanted[name], part, None))
        for name in wanted.names() for part in ("analyzer", "format")))


def _generation(path: Path) -> int:
    try:
        return whoosh_index.open_dir(path).latest_generation()
    except Exception:  # noqa: BLE001 — no index there, or one this version cannot read
        return -1


def _active_entries(batch: int):
    """The index entries of every active item, ``batch`` at a time."""
    last = 0
    while True:
        chunk = _entries(Item.id > last, limit=batch)
        if not chunk:
            return
        last = chunk[-1][0]
        yield [fields for _id, fields in chunk]


def _entries(condition, limit: Optional[int] = None) -> list[tuple[int, dict]]:
    """(item id, index entry) of the active items meeting ``condition``, in id order, read
    as rows: loading each item, revision, consent and contributor as objects took two
    thirds of the time of the process feeding a rebuild (`schema.entry` makes the same
    entry as `schema.document` does from the objects)."""
    from archive.access import shown_as
    from archive.models import Account, Consent, Revision
    query = (select(Item.id, Item.public_id, Item.kind, Item.circle_id, Item.contributor_id,
                    Item.updated_at, Revision.title, Revision.body, Revision.tags_json,
                    Revision.alt_text, Revision.language, Consent.audience,
                    Consent.review_by, Consent.attribution, Consent.pseudonym,
                    Contributor.account_id, Contributor.pseudonym, Account.display_name,
                    Account.username)
             .join(Revision, Revision.id == Item.current_revision_id)
             .join(Consent, Consent.item_id == Item.id)
             .join(Contributor, Contributor.id == Item.contributor_id)
             .outerjoin(Account, Account.id == Contributor.account_id)
             .where(Item.state == "active", condition).order_by(Item.id).limit(limit))
    found = []
    for (item_id, public_id, kind, circle_id, contributor_id, updated_at, title, body,
         tags_json, alt_text, language, audience, review_by, attribution, pseudonym,
         account_id, contributor_pseudonym, display_name, username) in db.session.execute(query):
        # as `Contributor.name`: the account's shown name, else the pseudonym its steward keeps
        name = (display_name or username) if username is not None \
            else contributor_pseudonym or ""
        found.append((item_id, entry(
            public_id=public_id, kind=kind or "", circle_id=circle_id,
            contributor_id=contributor_id, has_account=account_id is not None,
            updated_at=updated_at, title=title, body=body,
            tags=json.loads(tags_json or "[]"), alt_text=alt_text, language=language,
            audience=audience, review_by=review_by,
            byline=shown_as(attribution, pseudonym, name))))
    return found


def _swap(fresh: Path, target: Path) -> None:
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    forget(target)
    if target.exists():
        target.rename(old)
    fresh.rename(target)
    forget(target)   # and what a search opened meanwhile
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

