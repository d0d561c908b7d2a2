"""The index's writers: Whoosh's, writing the archive's codec with a `pool.TermPool`.

Whoosh's ``SegmentWriter`` makes its own ``PostingPool`` (its ``poolclass`` argument is not
used), so `ArchiveWriter` puts a `TermPool` in its place as soon as it is made, before
anything is added. A multi-process writer (a rebuild) runs an `ArchiveWriter` in each
process, each finishing a segment of its own (``multisegment``): a `TermPool` is not
handed from process to process as Whoosh's pool runs are.
"""

from __future__ import annotations

from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.writing import SegmentWriter

from archive.search.engine.codec import ArchiveCodec
from archive.search.engine.pool import TermPool


class ArchiveWriter(SegmentWriter):
    """Whoosh's segment writer, gathering postings in a `TermPool`, with the archive's
    codec unless told otherwise."""

    def __init__(self, ix, limitmb: int = 128, codec=None, **kwargs):
        super().__init__(ix, limitmb=limitmb, codec=codec or ArchiveCodec(), **kwargs)
        self.pool = TermPool(self._tempstorage, self.newsegment, limitmb=limitmb)


class _ArchiveSubWriter(SubWriterTask):
    """One process of `ArchiveMpWriter`: an `ArchiveWriter` that finishes its segment."""

    def run(self):
        ix = self.storage.open_index(self.indexname)
        writer = self.writer = ArchiveWriter(ix, _lk=False, **self.kwargs)
        while self.running:
            job = self.jobqueue.get()
            if job is None:
                break
            self._process_file(*job)
        if not self.running:
            writer.cancel()
            return
        fieldnames = writer.pool.fieldnames
        self.resultqueue.put((None, fieldnames, writer._finalize_segment()), timeout=5)


class ArchiveMpWriter(MpWriter):
    """Whoosh's multi-process writer, with an `ArchiveWriter` in every process."""

    def __init__(self, ix, procs: int, limitmb: int = 128, codec=None, **kwargs):
        if not kwargs.pop("multisegment", True):
            raise ValueError("each process writes a segment of its own: multisegment=True")
        codec = codec or ArchiveCodec()
        super().__init__(ix, procs=procs, multisegment=True, limitmb=limitmb, codec=codec, **kwargs)
        self.pool = TermPool(self._tempstorage, self.newsegment, limitmb=limitmb)

    def _new_task(self):
        task = _ArchiveSubWriter(
            self.storage, self.indexname, self.jobqueue, self.resultqueue, self.subargs, True
        )
        self.tasks.append(task)
        task.start()
        return task


def open_writer(ix, procs: int = 1, **kwargs) -> SegmentWriter:
    """A writer of ``ix`` (``procs`` processes), as ``ix.writer(procs=…, …)`` makes one."""
    if procs > 1:
        return ArchiveMpWriter(ix, procs=procs, **kwargs)
    return ArchiveWriter(ix, **kwargs)
