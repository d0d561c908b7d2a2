"""Opening the index's segments and searchers, through Whoosh's own classes.

A segment's files never change; only its list of deleted entries grows with each
generation. `ArchiveSegmentReader.caught_up` tells an opened reader of its segment's
deletions as they are now, so a new searcher keeps the readers the last one had
(`index.Index.open_searcher`). `ArchiveSearcher` carries what the search works out for it
(`memo`) and the per-segment sets of the index it reads (`kept`), owned by the index handle.
"""

from __future__ import annotations

import time
from typing import Optional

from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.searching import Searcher


class ArchiveSegmentReader(SegmentReader):
    """Whoosh's segment reader, which can be brought up to date with its segment."""

    def caught_up(self, segment, generation: int) -> ArchiveSegmentReader:
        """This reader, told of ``segment``'s deletions as generation ``generation`` has
        them (Whoosh's own reuse keeps a segment's old deletions)."""
        self._segment = self._perdoc._segment = segment
        self._gen = generation
        self.__dict__.pop("deleted_docs_set", None)  # Whoosh keeps it once asked
        return self


class ArchiveSearcher(Searcher):
    """Whoosh's searcher, carrying ``memo`` (what has been worked out for this searcher:
    bitmaps, columns, average lengths; it goes with the searcher) and ``kept`` (the index
    handle's per-segment sets, `docsets.SegmentCache`). Its leaf searchers share
    ``kept``."""

    def __init__(self, reader, kept=None, **kwargs):
        parent = kwargs.get("parent")
        # set first: Whoosh makes the leaf searchers while it sets this one up
        self.kept = kept if kept is not None or parent is None else parent.kept
        self.memo: dict = {}
        super().__init__(reader, **kwargs)


def table(ix, tries: int = 10):
    """The index's newest table of contents (schema, segments, generation), read again
    if a commit replaced it between finding and reading it."""
    for attempt in range(tries):
        try:
            return ix._read_toc()
        except FileNotFoundError:
            if attempt == tries - 1:
                raise
            time.sleep(0.01)


def open_searcher(ix, kept_readers: dict, cache, tries: int = 10) -> ArchiveSearcher:
    """A searcher of ``ix`` as it is now, keeping the readers in ``kept_readers`` (by
    segment id) of segments it still has, brought up to date; the others are closed.
    ``cache``: the index handle's per-segment sets."""
    failed = 0
    while True:
        opened: list = []
        try:
            toc = ix._read_toc()
            readers = [
                kept_readers[segment.segment_id()].caught_up(segment, toc.generation)
                if segment.segment_id() in kept_readers
                else _opened(ix, toc, segment, opened)
                for segment in toc.segments
            ]
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
    for reader in kept_readers.values():
        if id(reader) not in using:
            reader.close()
    return ArchiveSearcher(_joined(readers, toc), kept=cache, fromindex=ix)


def _joined(readers: list, toc):
    if not readers:
        return EmptyReader(toc.schema)
    if len(readers) == 1:
        return readers[0]
    return MultiReader(readers, generation=toc.generation)


def _opened(ix, toc, segment, opened: list) -> ArchiveSegmentReader:
    reader = segment_reader(ix.storage, toc.schema, segment, generation=toc.generation)
    opened.append(reader)
    return reader


def segment_reader(
    storage, schema, segment, generation: Optional[int] = None
) -> ArchiveSegmentReader:
    return ArchiveSegmentReader(storage, schema, segment, generation=generation)
