"""The searchers this process's threads hold, and letting go of segments that left the index.

Each thread keeps a searcher per index folder, and hands its opened segment readers on to
its next one (`index._open_searcher`). A reader maps its segment's file. When a compaction
swaps out the segment that held an erased piece's words, or a merge takes segments away,
Whoosh deletes their files — but a file still mapped stays on disk, words and all, until
the last map of it goes. A thread that does not search again would keep it for good.

So every thread's searcher is registered here (`Holder`), and readers of segments that are
gone are closed in all of them: at once by the process that removed the segments
(`let_go`), and, for segments another process removed, by comparing what each holder holds
with the index's table of contents (`let_go_unless`) — before a request when the folder
has changed (`changed`: one ``stat``, no listing), and by the background thread every
`CHECK_EVERY` seconds. A holder's lock is held while its thread searches, so a reader is
never closed under a search; a thread whose searcher was taken apart opens a new one next
time, from the readers it still has (``spare``).
"""
from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Iterable
from typing import Optional

from whoosh.reading import SegmentReader

#: seconds between the background thread's checks for segments other processes removed
CHECK_EVERY = 1.0
#: a folder changed this recently may change again within the file system's clock tick
#: without its time changing: it is looked at again until it is older than this
SETTLED_NS = 50_000_000

_holders: dict[str, weakref.WeakSet] = {}
_lock = threading.Lock()
_local = threading.local()
_seen: dict[str, Optional[int]] = {}


class Holder:
    """One thread's searcher of one index folder, and the readers it hands on to the
    thread's next searcher once this one has been taken apart (``spare``)."""

    __slots__ = ("lock", "searcher", "spare", "generation", "__weakref__")

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.searcher = None
        self.spare: dict[str, SegmentReader] = {}
        self.generation = -1

    def hold(self, searcher) -> None:
        self.searcher, self.spare = searcher, {}
        self.generation = searcher.reader().generation()
        if self.generation is None:  # an empty index
            self.generation = -1

    def readers(self) -> dict[str, SegmentReader]:
        if self.searcher is None:
            return self.spare
        return segment_readers(self.searcher)

    def let_go(self, gone: Iterable[str]) -> set[str]:
        """Close the readers of segments in ``gone``; the searcher goes with them. Returns
        the segments let go of. (Call with ``lock`` held.)"""
        readers = self.readers()
        dropped = set(gone) & readers.keys()
        if not dropped:
            return dropped
        for segment in dropped:
            close(readers[segment])
        self.searcher = None
        self.spare = {segment: reader for segment, reader in readers.items()
                      if segment not in dropped}
        return dropped


def segment_readers(searcher) -> dict[str, SegmentReader]:
    """A searcher's open segment readers by segment id."""
    return {reader.segment().segment_id(): reader
            for reader, _offset in searcher.reader().leaf_readers()
            if isinstance(reader, SegmentReader) and not reader.is_closed}


def close(reader: SegmentReader) -> None:
    if not reader.is_closed:
        reader.close()


def holder(key: str) -> Holder:
    """This thread's holder for the index folder ``key``."""
    mine = _local.__dict__.setdefault("holders", {})
    found = mine.get(key)
    if found is None:
        found = mine[key] = Holder()
        with _lock:
            _holders.setdefault(key, weakref.WeakSet()).add(found)
    return found


def holders(key: str) -> list[Holder]:
    with _lock:
        return list(_holders.get(key, ()))


def holding(key: str) -> bool:
    with _lock:
        return bool(_holders.get(key))


def let_go(key: str, gone: Iterable[str]) -> set[str]:
    """Every thread's readers of the segments ``gone`` (this process removed them) are
    closed; waits for searches using them to end. Returns the segments let go of."""
    from archive.search import docsets
    gone = set(gone)
    dropped: set[str] = set()
    if gone:
        for each in holders(key):
            with each.lock:
                dropped |= each.let_go(gone)
        docsets.forget_segments(gone)
    return dropped


def let_go_unless(key: str, live: set[str], generation: int) -> set[str]:
    """Every thread's readers of segments that generation ``generation`` of the index no
    longer has (``live``: the segments it has) are closed. A holder already at that
    generation or newer is left alone: what it holds is newer than ``live`` knows."""
    from archive.search import docsets
    dropped: set[str] = set()
    for each in holders(key):
        with each.lock:
            if each.generation < generation:
                dropped |= each.let_go(each.readers().keys() - live)
                if each.searcher is None:
                    each.generation = generation   # the spare readers are all still live
    docsets.forget_segments(dropped)
    return dropped


def drop_all(key: str) -> None:
    """Every thread lets go of everything it holds of the folder (it was replaced)."""
    for each in holders(key):
        with each.lock:
            each.let_go(each.readers().keys())
            each.generation = -1


def changed(key: str) -> bool:
    """Whether the folder ``key`` may have changed since this was last asked (one
    ``stat``): a new table of contents or a removed segment changes its time. Only asked
    while some thread holds a searcher of it."""
    if not holding(key):
        return False
    try:
        stamp = os.stat(key).st_mtime_ns
    except OSError:
        return False
    if _seen.get(key) == stamp:
        return False
    _seen[key] = stamp if time.time_ns() - stamp > SETTLED_NS else None
    return True


def unseen(key: str) -> None:
    """Look at the folder again next time (a check of it failed)."""
    _seen[key] = None
