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
    """Delete the entry now; rewrite the segments that still hold its text soon after."""
    from flask import current_app
    from archive.search import index
    index.remove_entry(payload["item"])
    delay = current_app.config["INDEX_COMPACT_DELAY"]
    if delay >= 0:
        _schedule_compaction(current_app._get_current_object(), delay)


_timer: list = []


def _schedule_compaction(app, delay: float) -> None:
    """One pending compaction per process: erasures close together share it."""
    import threading
    if _timer and _timer[0].is_alive():
        return

    def run() -> None:
        from archive.search import index
        with app.app_context():
            try:
                index.compact()
            except Exception:  # noqa: BLE001 — `flask purge` compacts too; log without content
                app.logger.exception("background index compaction failed")
    timer = threading.Timer(delay, run)
    timer.daemon = True
    _timer[:] = [timer]
    timer.start()


def _queue_removal(item) -> None:
    from archive import purge
    purge.queue("index", item=item.public_id)
