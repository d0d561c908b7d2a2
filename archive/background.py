"""Follow-up work after a commit, done by a thread of the process instead of the request.

A change commits first; what follows from it — bringing this machine's search index up to
date (`search.index.catch_up`), purging what an erasure leaves in the database's files and
the media store (`purge.run_pending`) — is asked for with `after_commit` and done by one
thread per process (`Worker`), so the request answers at once. Under load each of those
waits for others (the index writer, readers of SQLite's write-ahead log): saves spent a
fifth of their time waiting for the index writer, erasures more than half of theirs in the
purge.

Nothing is lost if the process ends first: both kinds of work are kept in the database
(index tasks, purge tasks) and picked up by the next catch-up, start-up or ``flask purge``.
A process that exits normally waits a few seconds for its thread (``Worker.EXIT_WAIT``).
With ``BACKGROUND_WORK`` off (as in the tests), the work is done in the request, after
commit. Work asked for several times before the thread gets to it is done once.
"""
from __future__ import annotations

import atexit
import os
import threading
import time
from typing import Callable, Optional

from flask import Flask, current_app

from archive.db import after_commit as _after_commit
from archive.db import db

Job = Callable[[], object]


def after_commit(job: Job) -> None:
    """Within a unit of work: do ``job`` once it has committed (a plain function, run in an
    app context of its own)."""
    _after_commit(lambda: soon(job))


def soon(job: Job) -> None:
    app = current_app._get_current_object()
    if app.config["BACKGROUND_WORK"]:
        Worker.of(app).ask(job)
    else:
        job()


def later(job: Job, delay: float) -> None:
    """Do ``job`` in ``delay`` seconds, by this process's thread (with ``BACKGROUND_WORK``
    off too: nothing else would). Asked again before then, it is done once, at the earlier
    of the two times."""
    Worker.of(current_app._get_current_object()).ask(job, delay)


def wait(app: Flask, timeout: float = 30.0) -> bool:
    """Until the work due so far in this process is done (work asked for later does not
    count); False on ``timeout``."""
    worker = app.extensions.get("archive_background")
    return worker is None or worker.wait(timeout)


class Worker:
    """The thread of one process and app that does the work asked for after commits. It
    ends after `IDLE` seconds with nothing asked, and starts again when asked."""

    EXIT_WAIT = 10.0
    IDLE = 30.0
    _made = threading.Lock()

    def __init__(self, app: Flask):
        self.app = app
        self._state = threading.Condition()
        self._asked: dict[Job, float] = {}      # job -> when it is due (time.monotonic)
        self._busy = False
        self._thread: Optional[threading.Thread] = None
        self._pid: Optional[int] = None
        atexit.register(self.wait, self.EXIT_WAIT)

    @classmethod
    def of(cls, app: Flask) -> "Worker":
        with cls._made:
            worker = app.extensions.get("archive_background")
            if worker is None:
                worker = app.extensions["archive_background"] = cls(app)
            return worker

    def ask(self, job: Job, delay: float = 0.0) -> None:
        due = time.monotonic() + max(delay, 0.0)
        with self._state:
            if due < self._asked.get(job, float("inf")):
                self._asked[job] = due
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()  # a forked worker starts a thread of its own
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="archive-background")
                self._thread.start()
            self._state.notify_all()

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._state:
            while (self._due() or self._busy) and self._thread is not None \
                    and self._thread.is_alive() and self._pid == os.getpid():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._state.wait(left)
        return True

    def _due(self) -> list[Job]:
        now = time.monotonic()
        return [job for job, at in self._asked.items() if at <= now]

    def _next(self) -> Optional[list[Job]]:
        """The jobs due, once there are some; None when idle long enough to end."""
        idle_since = time.monotonic()
        with self._state:
            while True:
                due = self._due()
                if due:
                    for job in due:
                        del self._asked[job]
                    self._busy = True
                    return due
                if not self._asked and time.monotonic() - idle_since >= self.IDLE:
                    self._thread = None
                    return None
                soonest = min(self._asked.values(), default=idle_since + self.IDLE)
                self._state.wait(max(soonest - time.monotonic(), 0.001))

    def _run(self) -> None:
        while True:
            jobs = self._next()
            if jobs is None:
                return
            try:
                for job in jobs:
                    self._do(job)
            finally:
                with self._state:
                    self._busy = False
                    self._state.notify_all()

    def _do(self, job: Job) -> None:
        with self.app.app_context():
            try:
                job()
            except Exception:  # noqa: BLE001 — kept in the database for a retry
                self.app.logger.exception("background work %s failed; it is retried later",
                                          getattr(job, "__qualname__", job))
            finally:
                db.session.remove()
