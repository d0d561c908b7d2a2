"""Whoosh indexes in memory, and search bitmaps read and made, for the search tests."""
from __future__ import annotations

import atexit
import shutil
import tempfile

import numpy as np
from whoosh.filedb.filestore import FileStorage, RamStorage

from archive.search.codec import ArchiveCodec

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
    """An index in memory whose writers use the archive's postings format, as the site's
    do (``index.writer``)."""
    ix = _OwnTempStorage().create_index(schema)
    whoosh_writer = ix.writer

    def writer(procs=1, **options):
        options.setdefault("codec", ArchiveCodec())
        return whoosh_writer(procs, **options)

    ix.writer = writer
    return ix


def numbers(found) -> frozenset:
    """The document numbers of a search bitmap (`archive.search.docsets`)."""
    return frozenset(np.flatnonzero(found).tolist())


def bitmap(s, docnums) -> np.ndarray:
    """A bitmap over the entries of searcher ``s`` holding ``docnums``."""
    found = np.zeros(s.doc_count_all(), dtype=bool)
    found[np.fromiter(docnums, dtype=np.int64)] = True
    return found
