"""Compaction: erased text must not linger in segment files.

Deleting an entry only marks it deleted; its words stay in its segment's files until the
segment is rewritten. `compact` rewrites every segment that holds deleted entries, aside,
while saves go on, and swaps the new one in under the writer.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path
from typing import Optional

from flask import current_app
from whoosh import index as whoosh_index
from whoosh.writing import NO_MERGE

from archive.search import index
from archive.search.engine.searching import segment_reader, table
from archive.search.engine.writers import open_writer

#: memory the postings of a rewritten segment may take before they go to temporary files
REWRITE_MEMORY_MB = 2048


def schedule_compaction(delay: Optional[float] = None) -> None:
    """Rewrite, soon, the segments that still hold removed entries' text, by the background
    thread. One pending compaction per process: removals close together share it
    (``INDEX_COMPACT_DELAY`` seconds; below zero, only ``flask purge`` compacts). One that
    fails is tried again (`archive.background`); ``flask purge`` compacts too."""
    from archive import background

    delay = current_app.config["INDEX_COMPACT_DELAY"] if delay is None else delay
    if delay >= 0:
        background.later(compact, delay)


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
    ix = index.get_index()
    path = index.folder()
    rewritten = removed = 0
    with open(path / COMPACT_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for left in path.glob(ASIDE_PREFIX + "*"):
            shutil.rmtree(left, ignore_errors=True)
        for _ in range(COMPACT_PASSES):
            holding = [segment for segment in table(ix).segments if segment.has_deletions()]
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
            if any(s.segid == segment.segid for s in table(ix).segments):
                raise
            return False  # merged away meanwhile: the merge left its removed entries out
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
            return [
                fresh if s is current else s
                for s in segments
                if s is not current or fresh is not None
            ]

        with index.writing(ix, mergetype=swap):
            pass
        return bool(swapped)
    finally:
        shutil.rmtree(aside, ignore_errors=True)


def _without_deletions(ix: whoosh_index.Index, segment, aside: Path):
    """A new segment, written in ``aside``, holding ``segment``'s kept entries in order."""
    schema = ix.schema
    scratch = whoosh_index.create_in(aside, schema, indexname=ix.indexname)
    # its postings all go through the writer's pool: kept in memory, as a rebuild's
    w = open_writer(scratch, limitmb=REWRITE_MEMORY_MB)
    try:
        reader = segment_reader(ix.storage, schema, segment)
        try:
            w.add_reader(reader)
        finally:
            reader.close()
        w.commit(mergetype=NO_MERGE)
    except BaseException:
        index.cancel(w)
        raise
    (fresh,) = table(scratch).segments
    return fresh
