"""Search: the analyzer (importable: Whoosh pickles it), schema, index upkeep and queries.

Other modules call ``queue(item)`` within the transaction that changed an item; erasure
queues an index purge; ``init_app`` wires the hooks and the purge handler."""
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
    """Delete the entry here now and rewrite the segments that still hold its text soon
    after; other machines do the same when they catch up with the erasure's index task."""
    from archive.search import index
    index.remove_entry(payload["item"])
    index.schedule_compaction()


def _queue_removal(item) -> None:
    from archive import purge
    purge.queue("index", item=item.public_id)
    queue(item)
