"""A segment swapped out by a compaction, or merged away, leaves no searcher holding it.

A thread's searcher reads its segments' files through a memory map, and keeps the opened
readers between its searchers (`archive.search.index.Index.open_searcher`). Once a compaction
swapped out the segment that held an erased piece's words, a searcher still holding the old
segment would keep that file mapped (deleted, but still on disk) until its thread searched
again. Here no removed segment file is left in the process's memory maps or open files:
not in the process that compacted (at once), nor in another worker (at its next request, or
by its background check without one)."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from flask_login import AnonymousUserMixin
from whoosh.writing import OPTIMIZE

from archive.db import commit, db
from archive.models import Account, Circle
from archive.operations import items as item_ops
from archive.operations import withdraw
from archive.operations.consent import ConsentChoice
from archive.search import compaction, index
from archive.search.query import search
from tests.test_search_concurrency import environment

ROOT = Path(__file__).resolve().parent.parent
ANONYMOUS = AnonymousUserMixin()
ERASED = "zqxmitjaye"
WORDS = ("zqxek", "zqxdo", "zqxteen", "zqxchaar")

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/maps").exists(), reason="reads /proc/<pid>/maps and /proc/<pid>/fd"
)


def segment_files(folder: Path) -> set[str]:
    return {str(path) for path in Path(folder).glob("*.seg")}


def held_by(pid: int | str = "self") -> set[str]:
    """Every file path process ``pid`` maps or has open ("(deleted)" marks removed ones)."""
    held = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[5].startswith("/"):
            held.add(parts[5])
    fds = Path(f"/proc/{pid}/fd")
    for fd in os.listdir(fds):
        try:
            held.add(os.readlink(fds / fd))
        except OSError:  # closed meanwhile
            pass
    return held


def still_held(removed: set[str], pid: int | str = "self") -> list[str]:
    return sorted(path for path in held_by(pid) if path.removesuffix(" (deleted)") in removed)


def share(author_id: int, circle_id: int, body: str) -> tuple[str, str]:
    """A public piece; its public id and withdrawal code."""
    author = db.session.get(Account, author_id)
    result = item_ops.contribute(
        author,
        db.session.get(Circle, circle_id),
        item_ops.contributor_for(author),
        item_ops.Draft(kind="poem", title="शाम की चाय", body=body, language="hi"),
        ConsentChoice(audience="public"),
    )
    shared = result.item.public_id, result.receipt.withdrawal_code
    commit()
    return shared


@pytest.fixture
def pieces(app, make_circle, make_account):
    """Four public pieces, each in a segment of its own; the first holds `ERASED`. Returns
    their ids, the first one's withdrawal code, the author's and the circle's ids."""
    circle = make_circle()
    author = make_account(circle=circle)
    shared = [
        share(author.id, circle.id, f"{word} {ERASED if n == 0 else ''} धीरे धीरे")
        for n, word in enumerate(WORDS)
    ]
    return [public_id for public_id, _code in shared], shared[0][1], author.id, circle.id


class SearchingThreads:
    """Threads that stay alive between searches, as a server's threads do: each searches
    when asked and keeps its searcher until it searches again."""

    def __init__(self, app, count: int) -> None:
        self.app = app
        self.asked = [queue.Queue() for _ in range(count)]
        self.answers: queue.Queue = queue.Queue()
        self.threads = [
            threading.Thread(target=self._run, args=(asked,), daemon=True) for asked in self.asked
        ]
        for thread in self.threads:
            thread.start()

    def _run(self, asked: queue.Queue) -> None:
        while True:
            word = asked.get()
            if word is None:
                return
            with self.app.app_context():
                try:
                    found = sorted(hit.item.public_id for hit in search(ANONYMOUS, word).hits)
                    self.answers.put(found)
                except Exception as error:  # noqa: BLE001 — handed to the test
                    self.answers.put(error)
                finally:
                    db.session.remove()

    def search(self, word: str) -> list[list[str]]:
        """Every thread searches for ``word``; what each found."""
        for asked in self.asked:
            asked.put(word)
        found = [self.answers.get(timeout=30) for _ in self.asked]
        for answer in found:
            if isinstance(answer, Exception):
                raise answer
        return found

    def stop(self) -> None:
        for asked in self.asked:
            asked.put(None)
        for thread in self.threads:
            thread.join(timeout=10)


def test_a_compaction_leaves_no_removed_segment_mapped_in_its_process(app, pieces):
    ids, code, _author_id, _circle_id = pieces
    folder = Path(app.config["INDEX_DIR"])
    threads = SearchingThreads(app, 3)
    try:
        assert threads.search(ERASED) == [[ids[0]]] * 3
        assert threads.search("धीरे") == [sorted(ids)] * 3  # every segment opened
        before = segment_files(folder)
        assert len(before) == len(WORDS)

        withdraw.withdraw_with_code(code)
        commit()
        assert threads.search("धीरे") == [sorted(ids[1:])] * 3
        compaction.compact()

        removed = before - segment_files(folder)
        assert removed, "the compaction swapped out the segment that held the erased words"
        assert still_held(removed) == []
        assert threads.search("धीरे") == [sorted(ids[1:])] * 3
        assert threads.search(ERASED) == [[]] * 3
    finally:
        threads.stop()


def test_segments_merged_away_leave_no_searcher_holding_them(app, pieces, monkeypatch):
    ids, _code, author_id, circle_id = pieces
    folder = Path(app.config["INDEX_DIR"])
    threads = SearchingThreads(app, 2)
    try:
        assert threads.search("धीरे") == [sorted(ids)] * 2
        before = segment_files(folder)
        monkeypatch.setattr(index, "merge_when_many", OPTIMIZE)  # the next save merges all
        newest, _code = share(author_id, circle_id, "zqxpaanch धीरे")
        removed = before - segment_files(folder)
        assert removed == before
        assert still_held(removed) == []
        assert threads.search("धीरे") == [sorted(ids + [newest])] * 2
    finally:
        threads.stop()


COMPACTING_WORKER = """
import sys
from archive import create_app
from archive.db import commit
from archive.operations import withdraw
from archive.search import compaction

app = create_app()
with app.app_context():
    withdraw.withdraw_with_code(sys.argv[1])
    commit()
    print(compaction.compact())
"""


def compact_in_another_worker(app, code: str) -> str:
    """Another worker takes the piece back by its code and compacts the index."""
    env = environment(app)
    env["ARCHIVE_BACKGROUND_WORK"] = "0"  # the removal is applied before it compacts
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", COMPACTING_WORKER, code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_another_workers_compaction_is_let_go_of_at_the_next_request(app, pieces):
    """The erasure and the compaction happen in another worker; this one has searched in
    several threads and drops the removed segment when it next answers anything."""
    ids, code, _author_id, _circle_id = pieces
    folder = Path(app.config["INDEX_DIR"])
    threads = SearchingThreads(app, 3)
    try:
        assert threads.search("धीरे") == [sorted(ids)] * 3
        before = segment_files(folder)
        assert "rewrote 1 segment" in compact_in_another_worker(app, code)
        removed = before - segment_files(folder)
        assert removed and still_held(removed)  # not yet: nothing has happened here

        assert app.test_client().get("/robots.txt").status_code == 200
        assert still_held(removed) == []
        assert threads.search("धीरे") == [sorted(ids[1:])] * 3
    finally:
        threads.stop()


# --- a separately started server -----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _workers_of(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    if children.exists():
        return [int(pid) for pid in children.read_text().split()]
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            found.append(int(stat.parent.name))
    return found


@pytest.fixture
def server(app, tmp_path):
    """The site served by gunicorn (one worker, four threads) over the test's database and
    index folder, on 127.0.0.1; yields (address, the worker's pid)."""
    port = _free_port()
    env = environment(app)
    env["ARCHIVE_BACKGROUND_WORK"] = "1"
    log = tmp_path / "server.log"
    with log.open("w") as out:
        master = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                "--worker-class",
                "gthread",
                "--workers",
                "1",
                "--threads",
                "4",
                "--bind",
                f"127.0.0.1:{port}",
                "--no-control-socket",
                "archive:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    address = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{address}/robots.txt", timeout=5).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or master.poll() is not None:
                pytest.fail(log.read_text()[-3000:])
            time.sleep(0.2)
        (worker,) = _workers_of(master.pid)
        yield address, worker
    finally:
        master.send_signal(signal.SIGTERM)
        try:
            master.wait(timeout=30)
        except subprocess.TimeoutExpired:
            master.kill()
            master.wait()


def _search_at_once(address: str, word: str, count: int) -> None:
    """``count`` searches at the same moment, so that several of the worker's threads
    open a searcher."""
    barrier = threading.Barrier(count)
    statuses = []

    def one() -> None:
        barrier.wait()
        statuses.append(
            requests.get(f"{address}/search", params={"q": word}, timeout=30).status_code
        )

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * count


def test_a_serving_worker_lets_go_of_segments_another_worker_swapped_out(app, pieces, server):
    """Without a request of its own, the worker's background check lets go of the segment
    another worker's compaction removed; its next search finds what the index holds."""
    ids, code, _author_id, _circle_id = pieces
    address, worker = server
    folder = Path(app.config["INDEX_DIR"])
    for _ in range(3):
        _search_at_once(address, "धीरे", 4)
    before = segment_files(folder)
    assert set(before) & {path.removesuffix(" (deleted)") for path in held_by(worker)}

    assert "rewrote 1 segment" in compact_in_another_worker(app, code)
    removed = before - segment_files(folder)
    assert removed
    deadline = time.monotonic() + 15
    while still_held(removed, worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert still_held(removed, worker) == []

    page = requests.get(f"{address}/search", params={"q": ERASED}, timeout=30)
    assert page.status_code == 200 and ids[0] not in page.text
    assert still_held(removed, worker) == []
