"""Whoosh indexes in memory for the search tests."""
from __future__ import annotations

import atexit
import shutil
import tempfile

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
