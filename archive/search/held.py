"""The searchers this process's threads hold, and letting go of segments that left the index.

Each thread keeps a searcher per index folder, and hands its opened segment readers on to
its next one (`engine.searching.open_searcher`). A reader maps its segment's file. When a compaction
swaps out the segment that held an erased piece's words, or a merge takes segments away,
Whoosh deletes their files — but a file still mapped stays on disk, words and all, until
the last map of it goes. A thread that does not search again would keep it for good.

So every thread's searcher is registered with the index handle's `Searchers` (`Holder`),
and readers of segments that are gone are closed in all of them: at once by the process
that removed the segments (`let_go`), and, for segments another process removed, by
comparing what each holder holds with the index's table of contents (`let_go_unless`) —
before a request when the folder has changed (`changed`: one ``stat``, no listing), and
by the background thread every `CHECK_EVERY` seconds. A holder's lock is held while its
thread searches, so a reader is never closed under a search; a thread whose searcher was
taken apart opens a new one next time, from the readers it still has (``spare``).
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
        self.spare = {
            segment: reader for segment, reader in readers.items() if segment not in dropped
        }
        return dropped


def segment_readers(searcher) -> dict[str, SegmentReader]:
    """A searcher's open segment readers by segment id."""
    return {
        reader.segment().segment_id(): reader
        for reader, _offset in searcher.reader().leaf_readers()
        if isinstance(reader, SegmentReader) and not reader.is_closed
    }


def close(reader: SegmentReader) -> None:
    if not reader.is_closed:
        reader.close()


class Searchers:
    """The searchers every thread of this process holds of one index folder (``folder``),
    owned by its index handle; ``cache``: the handle's per-segment sets, which forget the
    segments let go of."""

    def __init__(self, folder: str, cache) -> None:
        self.folder = folder
        self.cache = cache
        self._holders: weakref.WeakSet = weakref.WeakSet()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._seen: Optional[int] = None

    def holder(self) -> Holder:
        """This thread's holder."""
        found = getattr(self._local, "holder", None)
        if found is None:
            found = self._local.holder = Holder()
            with self._lock:
                self._holders.add(found)
        return found

    def holders(self) -> list[Holder]:
        with self._lock:
            return list(self._holders)

    def holding(self) -> bool:
        with self._lock:
            return bool(self._holders)

    def let_go(self, gone: Iterable[str]) -> set[str]:
        """Every thread's readers of the segments ``gone`` (this process removed them) are
        closed; waits for searches using them to end. Returns the segments let go of."""
        gone = set(gone)
        dropped: set[str] = set()
        if gone:
            for each in self.holders():
                with each.lock:
                    dropped |= each.let_go(gone)
            self.cache.forget_segments(gone)
        return dropped

    def let_go_unless(self, live: set[str], generation: int) -> set[str]:
        """Every thread's readers of segments that generation ``generation`` of the index
        no longer has (``live``: the segments it has) are closed. A holder already at that
        generation or newer is left alone: what it holds is newer than ``live`` knows."""
        dropped: set[str] = set()
        for each in self.holders():
            with each.lock:
                if each.generation < generation:
                    dropped |= each.let_go(each.readers().keys() - live)
                    if each.searcher is None:
                        each.generation = generation  # the spare readers are all live
        self.cache.forget_segments(dropped)
        return dropped

    def drop_all(self) -> None:
        """Every thread lets go of everything it holds of the folder (it was replaced)."""
        for each in self.holders():
            with each.lock:
                each.let_go(each.readers().keys())
                each.generation = -1

    def changed(self) -> bool:
        """Whether the folder may have changed since this was last asked (one ``stat``): a
        new table of contents or a removed segment changes its time. Only asked while some
        thread holds a searcher of it."""
        if not self.holding():
            return False
        try:
            stamp = os.stat(self.folder).st_mtime_ns
        except OSError:
            return False
        if self._seen == stamp:
            return False
        self._seen = stamp if time.time_ns() - stamp > SETTLED_NS else None
        return True

    def unseen(self) -> None:
        """Look at the folder again next time (a check of it failed)."""
        self._seen = None
