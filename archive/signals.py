"""What other parts of the archive do when a piece's consent changes or it is erased.

Both signals are sent inside the transaction of the change, with the item as sender, so
what their receivers write (an index task, a purge of cached packs, collection entries
taken out) commits or rolls back with it. Receivers are connected in ``init_app`` code
(`archive.create_app`, `archive.search.init_app`); connecting again (every app a process
builds) changes nothing. They are called in the order they were first connected: cached
packs look up the collection entries that the collection receivers then take out.
"""

from __future__ import annotations

from blinker import NamedSignal


class _InOrder(dict):
    """The set blinker keeps receivers in, remembering the order they were connected."""

    def add(self, value) -> None:
        self[value] = None

    def discard(self, value) -> None:
        self.pop(value, None)

    def copy(self) -> _InOrder:
        return _InOrder(self)

    def __or__(self, other) -> _InOrder:
        joined = _InOrder(self)
        joined.update(other)
        return joined


class _Signal(NamedSignal):
    # blinker only adds, discards, copies and joins: an ordered dict does all four
    set_class = _InOrder  # type: ignore[assignment]


#: sent inside the transaction of a consent change (a narrowing, a confirmation, …)
consent_changed = _Signal("consent-changed", doc="a piece's consent changed")
#: sent inside an erasure's transaction, before the item's rows are deleted
item_erasing = _Signal("item-erasing", doc="a piece is being erased")
