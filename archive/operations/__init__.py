"""Every write the archive makes. Web views, the JSON API and the CLI all call these.

Operations ``flush()`` and never commit: the request or command that called them commits
once, or rolls back. When an operation refuses, it raises :class:`Refused` with a message
for the person, in their language.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Optional

from flask import has_request_context, request

#: WSGI environ key: a refusal was made in this request, so its unit of work is rolled back
#: (kept on the request itself, not on ``g``: an app context may outlive one request)
REFUSED = "archive.refused"


class Refused(Exception):
    """An operation declined to act; ``message`` is shown to the person, ``field`` names the
    form field it belongs to (if any). Nothing the operation did before raising is kept:
    a request in which one was made is rolled back, whatever the view answers (a view may
    catch it, flash its message and redirect; ``security._finish_unit_of_work``).

    ``problems`` lists every (field, message) a check found, so a form shows them all at
    once; ``field`` and ``message`` are the first of them."""

    def __init__(
        self,
        message=None,
        field: str | None = None,
        status: int = 422,
        problems: Optional[list[tuple[Optional[str], object]]] = None,
    ):
        self.problems = list(problems) if problems else [(field, message)]
        field, message = self.problems[0]
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.status = status
        if has_request_context():
            request.environ[REFUSED] = True


class Problems:
    """Every problem a check finds, raised together as one :class:`Refused`."""

    def __init__(self) -> None:
        self.found: list[tuple[Optional[str], object]] = []

    def add(self, message, field: str | None = None) -> None:
        self.found.append((field, message))

    @contextmanager
    def gathered(self) -> Iterator[None]:
        """Run a check; what it refuses is noted here instead of ending the checking."""
        try:
            yield
        except Refused as refused:
            self.found.extend(refused.problems)

    def raise_any(self) -> None:
        if self.found:
            raise Refused(problems=self.found)
