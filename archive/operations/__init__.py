"""Every write the archive makes. Web views, the JSON API and the CLI all call these.

Operations ``flush()`` and never commit: the request or command that called them commits
once, or rolls back. When an operation refuses, it raises :class:`Refused` with a message
for the person, in their language.
"""
from __future__ import annotations


class Refused(Exception):
    """An operation declined to act; ``message`` is shown to the person, ``field`` names the
    form field it belongs to (if any). Nothing the operation did before raising is kept."""

    def __init__(self, message, field: str | None = None, status: int = 422):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.status = status
