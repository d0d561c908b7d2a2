"""Search: the analyzer (importable: Whoosh pickles it), schema, index upkeep and queries.

Other modules call ``queue(item)`` within the transaction that changed an item (an erasure
too); ``init_app`` connects it to the consent signals and registers the index's compaction
with ``flask purge``."""

from __future__ import annotations

from flask import Flask, current_app

from archive import background
from archive.search.sync import queue

__all__ = ["queue", "init_app"]


def init_app(app: Flask) -> None:
    from archive import purge, signals
    from archive.search import compaction

    signals.consent_changed.connect(queue, weak=False)
    signals.item_erasing.connect(_queue_removal, weak=False)
    purge.COMPACTORS["index"] = compaction.compact
    app.before_request(_let_go_of_removed_segments)
    app.teardown_request(_keep_checking)


def _let_go_of_removed_segments() -> None:
    """Segments another process removed are let go of before this process answers
    anything (one ``stat`` of the index folder when nothing changed)."""
    from archive.search import index

    try:
        index.let_go_if_changed()
    except Exception:  # the page is still answered; the check runs again
        current_app.logger.exception("could not check the index for removed segments")


def _keep_checking(_error=None) -> None:
    """Once a thread of this process holds a searcher, the background thread checks every
    `held.CHECK_EVERY` seconds for segments other processes removed, so that one that
    receives no request lets go of them too."""
    from archive.search import held, index

    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy
    if app.config["BACKGROUND_WORK"] and not app.extensions.get(_CHECKING) and index.holding():
        app.extensions[_CHECKING] = True
        background.later(_check_segments, held.CHECK_EVERY)


_CHECKING = "archive_segment_check"


def _check_segments() -> None:
    from archive.search import held, index

    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy
    try:
        _let_go_of_removed_segments()
    finally:
        if index.holding():
            background.later(_check_segments, held.CHECK_EVERY)
        else:
            app.extensions[_CHECKING] = False


def _queue_removal(item) -> None:
    """Every machine removes the entry when it catches up with this task (this one right
    after the erasure commits), then compacts the segments that held its text."""
    queue(item)
