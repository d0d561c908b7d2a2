"""The Whoosh index of this machine: opening it, each thread's searcher, the writer.

An index folder is opened once per process, as an `Index` handle, which owns what the
process keeps of it: the searchers its threads hold (`held.Searchers`) and the sets worked
out per segment (`docsets.SegmentCache`).

Reads: one searcher per thread, replaced by a new one when it is no longer up to date
(refreshing a searcher in place returns stale and duplicate documents in every Whoosh fork).
The new one keeps the last one's readers of the segments it still has (a segment's files
never change: only its deletions are brought up to date). Opening a segment reads its word
table and columns in many small reads; after a save every thread of every worker opens a
new searcher, and without this each paid for every segment again. Readers of segments that
leave the index are closed in every thread (`held`).

Keeping the index in line with the database is `sync`; rewriting segments that hold erased
text, `compaction`; rebuilding, `rebuild`.
"""

from __future__ import annotations

import fcntl
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

from flask import current_app
from whoosh import index as whoosh_index
from whoosh.writing import MERGE_SMALL

from archive.search import held
from archive.search.docsets import SegmentCache
from archive.search.engine.searching import ArchiveSearcher, open_searcher, table
from archive.search.engine.writers import open_writer
from archive.search.schema import make_schema

WRITER_TIMEOUT = 30.0
#: how often a worker waiting for the index writer tries the lock again (Whoosh's own
#: default, 0.1 s, added up to a tenth of a second to a search or a save behind another)
WRITER_POLL = 0.005
#: a segment with fewer entries than this is small; that many small ones are merged
SMALL_SEGMENT, SMALL_SEGMENTS = 1000, 8


class Index:
    """One index folder as this process uses it: the Whoosh index (opened, or created
    empty, the first time it is asked for, unless given as ``ix``), its threads' searchers
    and its kept sets."""

    def __init__(self, path: Path, ix: Optional[whoosh_index.Index] = None) -> None:
        self.path = path
        self.cache = SegmentCache()
        self.searchers = held.Searchers(str(path), self.cache)
        self._ix = ix
        self._lock = threading.Lock()

    def whoosh(self) -> whoosh_index.Index:
        """The Whoosh index in the folder, created empty the first time."""
        with self._lock:
            if self._ix is not None and self.path.exists():
                return self._ix
            self.path.mkdir(parents=True, exist_ok=True)
            # several worker processes may open a new folder at once: one creates the index
            with open(self.path / "archive-create.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                self._ix = _open_or_create(self.path)
            return self._ix

    def forget(self) -> None:
        """The folder's index was replaced: every thread lets go of what it held of it."""
        with self._lock:
            self._ix = None
        self.searchers.drop_all()
        self.cache.forget_segments(self.cache.segments())

    def open_searcher(self, previous=None) -> ArchiveSearcher:
        """A searcher of the index as it is now, keeping the readers of ``previous`` (the
        thread's last searcher, not to be used afterwards, or the readers left of it) of
        the segments it still has."""
        if isinstance(previous, dict):
            kept = previous
        else:
            kept = held.segment_readers(previous) if previous is not None else {}
        return open_searcher(self.whoosh(), kept, self.cache)

    @contextmanager
    def searching(self):
        """This thread's searcher, up to date, for the length of a search: until it ends,
        no other thread closes its readers (see `held`)."""
        holder = self.searchers.holder()
        with holder.lock:
            current = holder.searcher
            if current is None or not current.up_to_date():
                holder.hold(self.open_searcher(current if current is not None else holder.spare))
            yield holder.searcher

    def let_go_of_removed(self) -> set[str]:
        """Close this process's readers of segments no longer in the index (another
        process compacted or merged them away); returns their ids."""
        if not self.searchers.holding():
            return set()
        toc = table(self.whoosh())
        return self.searchers.let_go_unless(
            {segment.segment_id() for segment in toc.segments}, toc.generation
        )


_handles: dict[str, Index] = {}
_handles_lock = threading.Lock()


def folder() -> Path:
    return Path(current_app.config["INDEX_DIR"])


def handle(path: Optional[Path] = None) -> Index:
    """This process's handle of the index in ``path`` (the app's index folder)."""
    key = str(Path(path or folder()))
    with _handles_lock:
        found = _handles.get(key)
        if found is None:
            found = _handles[key] = Index(Path(key))
        return found


def get_index(path: Optional[Path] = None) -> whoosh_index.Index:
    """The Whoosh index in ``path`` (the app's index folder), created empty the first time."""
    return handle(path).whoosh()


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
    handle(path).forget()


def searching():
    """This thread's searcher of the app's index, for the length of a search."""
    return handle().searching()


def let_go_of_removed(path: Optional[Path] = None) -> set[str]:
    return handle(path).let_go_of_removed()


def let_go_if_changed() -> None:
    """Before a request: when the index folder has changed (one ``stat``), let go of the
    segments that have left it."""
    index = handle()
    if index.searchers.changed():
        try:
            index.let_go_of_removed()
        except Exception:
            index.searchers.unseen()
            raise


def holding() -> bool:
    """Whether a thread of this process holds a searcher of the app's index."""
    return handle().searchers.holding()


def writer(ix: Optional[whoosh_index.Index] = None, timeout: float = WRITER_TIMEOUT, **options):
    return open_writer(ix or get_index(), timeout=timeout, delay=WRITER_POLL, **options)


@contextmanager
def writing(
    ix: Optional[whoosh_index.Index] = None,
    timeout: float = WRITER_TIMEOUT,
    limitmb: int = 128,
    mergetype=None,
    **commit_options,
):
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
        cancel(w)
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
            handle(Path(folder_of)).searchers.let_go(self.gone)


def cancel(w) -> None:
    """Cancel a writer, its lock released whatever happens."""
    try:
        w.cancel()
    finally:
        if w.writelock is not None:
            try:
                w.writelock.release()
            except Exception:  # noqa: BLE001 — already released by cancel()
                pass


def merge_when_many(w, segments):
    """Merge policy for everyday changes: small segments are merged once there are
    `SMALL_SEGMENTS` of them. Whoosh's own policy merges at nearly every commit, rewriting
    the small segment the last commit merged into: a third of the time a one-item change
    held the writer, which every other save waits for."""
    small = sum(1 for segment in segments if segment.doc_count_all() < SMALL_SEGMENT)
    return segments if small < SMALL_SEGMENTS else MERGE_SMALL(w, segments)
