"""Follow-up work after a commit, done in one place: a thread of the process.

A change commits first; what follows from it — bringing this machine's search index up to
date (`search.sync.upkeep`), purging what an erasure leaves in the media store, cached
packs and the database's files (`purge.run_pending`), compacting the index
(`search.compaction.compact`), copying ledger lines to the file on disk
(`ledger_file.write_pending`) — is asked for with `after_commit` and done by one thread per
process (`Worker`), so the request answers at once. Under load each of those waits for
others (the index writer, readers of SQLite's write-ahead log): saves spent a fifth of
their time waiting for the index writer, erasures more than half of theirs in the purge.

Work that must wait is asked for with `later`; work that failed (it raised, or called
`again` for what it left undone) is tried again after each of `RETRY_DELAYS`. Nothing is
lost if the process ends first: every kind of work is kept in the database (index, purge
and ledger tasks) and picked up by the next catch-up, by each process's thread when it
starts (`init_app`: asked before its first request is answered, never done by the
request), by ``flask setup`` and by ``flask purge``. A process that exits normally waits a
few seconds for work that is due (``Worker.EXIT_WAIT``). With ``BACKGROUND_WORK`` off (as
in the tests), work asked for after a commit is done in the request, after commit; its
retries and work asked for later still go to the thread, and there is no start-up work.
Work asked for several times before the thread gets to it is done once.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Optional

from flask import Flask, current_app

from archive.db import after_commit as _after_commit
from archive.db import db

Job = Callable[[], object]
log = logging.getLogger("archive.background")

#: seconds before each retry of work that failed; after the last, start-up, the next change
#: asking for it and ``flask purge`` (cron) try again
RETRY_DELAYS = (2, 5, 15, 60, 300)
_running = threading.local()


def after_commit(job: Job) -> None:
    """Within a unit of work: do ``job`` once it has committed (a plain function, run in an
    app context of its own)."""
    _after_commit(lambda: soon(job))


def soon(job: Job) -> None:
    """Do ``job`` now, by the thread (or here, with ``BACKGROUND_WORK`` off)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy
    if app.config["BACKGROUND_WORK"]:
        Worker.of(app).ask(job)
    else:
        _do_here(job)


def later(job: Job, delay: float) -> None:
    """Do ``job`` in ``delay`` seconds, by this process's thread (with ``BACKGROUND_WORK``
    off too: nothing else would). Asked again before then, it is done once, at the earlier
    of the two times."""
    Worker.of(current_app._get_current_object()).ask(job, delay)  # type: ignore[attr-defined]  # a LocalProxy


def again(job: Job) -> None:
    """``job`` left work undone (it is kept in the database): try it again after the next
    of `RETRY_DELAYS`."""
    Worker.of(current_app._get_current_object()).retry(job)  # type: ignore[attr-defined]  # a LocalProxy


def wait(app: Flask, timeout: float = 30.0) -> bool:
    """Until the work due so far in this process is done (work asked for later does not
    count); False on ``timeout``."""
    worker = app.extensions.get("archive_background")
    return worker is None or worker.wait(timeout)


def init_app(app: Flask) -> None:
    """Each process's thread first finishes what a stopped process may have left: its
    purges, ledger lines, index tasks (asked for before the process's first request; the
    request itself does none of it)."""
    from archive import ledger_file, purge
    from archive.search import sync

    app.extensions["archive_start_up"] = (ledger_file.write_pending, purge.run_pending, sync.upkeep)
    app.before_request(_start_up)


def _start_up() -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy
    if app.config["BACKGROUND_WORK"]:
        Worker.of(app).start_up(app.extensions.get("archive_start_up", ()))


class Worker:
    """The thread of one process and app that does the work asked for after commits. It
    ends after `IDLE` seconds with nothing asked, and starts again when asked."""

    EXIT_WAIT = 10.0
    IDLE = 10.0
    _made = threading.Lock()

    def __init__(self, app: Flask):
        self.app = app
        self._state = threading.Condition()
        self._asked: dict[Job, float] = {}  # job -> when it is due (time.monotonic)
        self._failed: dict[Job, int] = {}  # job -> retries asked for since it last ran
        self._busy = False
        self._thread: Optional[threading.Thread] = None
        self._pid: Optional[int] = None
        self._started: Optional[int] = None  # the process whose start-up work was asked
        atexit.register(self.wait, self.EXIT_WAIT)

    @classmethod
    def of(cls, app: Flask) -> Worker:
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
                self._thread = threading.Thread(
                    target=self._run, daemon=True, name="archive-background"
                )
                self._thread.start()
            self._state.notify_all()

    def start_up(self, jobs) -> None:
        """Ask for ``jobs`` once per process."""
        if self._started == os.getpid():
            return
        with self._state:
            if self._started == os.getpid():
                return
            self._started = os.getpid()
        for job in jobs:
            self.ask(job)

    def retry(self, job: Job) -> None:
        """Ask for ``job`` again after the next of `RETRY_DELAYS`; after the last, leave it
        (kept in the database) to start-up, the next change and ``flask purge``."""
        if getattr(_running, "job", None) is job:
            _running.again = True
        with self._state:
            rounds = self._failed.get(job, 0)
            if rounds >= len(RETRY_DELAYS):
                self._failed.pop(job, None)
                log.warning(
                    "%s still failing after %d retries; left for start-up and flask purge",
                    _name(job),
                    rounds,
                )
                return
            self._failed[job] = rounds + 1
        self.ask(job, RETRY_DELAYS[rounds])

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._state:
            while (
                (self._due() or self._busy)
                and self._thread is not None
                and self._thread.is_alive()
                and self._pid == os.getpid()
            ):
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
        _running.job, _running.again = job, False
        with self.app.app_context():
            try:
                _do_here(job)
            finally:
                db.session.remove()
                if not _running.again:
                    with self._state:
                        self._failed.pop(job, None)
                _running.job = None


def _do_here(job: Job) -> None:
    """Do ``job`` here and now; if it fails, the thread tries it again later."""
    try:
        job()
    except Exception:  # kept in the database for a retry
        log.exception("%s failed; it is retried later", _name(job))
        again(job)


def _name(job: Job) -> str:
    return getattr(job, "__qualname__", repr(job))
