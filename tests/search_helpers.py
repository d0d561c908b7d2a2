"""Whoosh indexes in memory, and search bitmaps read and made, for the search tests."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import numpy as np
from whoosh.filedb.filestore import FileStorage, RamStorage

from archive.search import index
from archive.search.engine.searching import table
from archive.search.engine.writers import open_writer

_FOLDER = tempfile.mkdtemp(prefix="archive-index-")
atexit.register(shutil.rmtree, _FOLDER, ignore_errors=True)


class _OwnTempStorage(RamStorage):
    """Whoosh's RamStorage puts every writer's temporary files in one folder,
    ``/tmp/<indexname>.tmp``, and removes it when done: two test processes writing at once
    pull it from under each other. Here each writer gets a folder of its own (inside one
    folder per test process, removed when the process ends)."""

    def temp_storage(self, name=None):
        return FileStorage(tempfile.mkdtemp(dir=_FOLDER)).create()


def memory_index(schema):
    """An index in memory whose writers are the archive's (its codec and postings pool),
    as the site's are (``index.writer``), and whose searchers are the archive's, opened
    through one index handle (``index.Index``): what they work out per segment is kept
    from one searcher to the next, as the site's is."""
    ix = _OwnTempStorage().create_index(schema)
    handle = index.Index(Path(_FOLDER), ix)

    def writer(procs=1, **options):
        return open_writer(ix, procs=procs, **options)

    def searcher(**_options):
        return handle.open_searcher()

    ix.writer, ix.searcher, ix.handle = writer, searcher, handle
    return ix


def in_index(public_id: str) -> bool:
    """Whether the app's index holds an entry for ``public_id`` (deleted ones do not
    count), asked of a fresh searcher."""
    with index.get_index().searcher() as s:
        return s.document_number(id=public_id) is not None


def numbers(found) -> frozenset:
    """The document numbers of a search bitmap (`archive.search.docsets`)."""
    return frozenset(np.flatnonzero(found).tolist())


def bitmap(s, docnums) -> np.ndarray:
    """A bitmap over the entries of searcher ``s`` holding ``docnums``."""
    found = np.zeros(s.doc_count_all(), dtype=bool)
    found[np.fromiter(docnums, dtype=np.int64)] = True
    return found


def remove_from_index(public_id: str) -> None:
    """Delete ``public_id``'s entry from the app's index behind the database's back (a
    damaged or lagging index)."""
    with index.writing() as w:
        w.delete_by_term("id", public_id)


def segments() -> list:
    """The segments of the app's index, as its newest table of contents lists them."""
    return table(index.get_index()).segments
