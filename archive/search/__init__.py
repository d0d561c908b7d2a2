"""Search: the analyzer (importable: Whoosh pickles it), schema, index upkeep and queries.

Other modules call ``queue(item)`` within the transaction that changed an item (an erasure
too); ``init_app`` wires the hooks and the purge handlers."""
from __future__ import annotations

from flask import Flask

from archive.search.index import queue

__all__ = ["queue", "init_app"]


def init_app(app: Flask) -> None:
    from archive import purge
    from archive.operations.consent import CHANGE_HOOKS
    from archive.operations.withdraw import ERASE_HOOKS
    from archive.search import index

    if queue not in CHANGE_HOOKS:
        CHANGE_HOOKS.append(queue)
    if _queue_removal not in ERASE_HOOKS:
        ERASE_HOOKS.append(_queue_removal)
    purge.HANDLERS["index"] = _purge_entry
    purge.COMPACTORS["index"] = index.compact


def _purge_entry(payload: dict) -> None:
    """Index purges queued by an older version: delete the entry, compact soon after.
    (An erasure now queues an index task, which every machine applies.)"""
    from archive.search import index
    index.remove_entry(payload["item"])
    index.schedule_compaction()


def _queue_removal(item) -> None:
    """Every machine removes the entry when it catches up with this task (this one right
    after the erasure commits), then compacts the segments that held its text."""
    queue(item)
