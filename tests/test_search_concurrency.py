"""The index kept in line with the database when several workers write at once
(design.md, "Search": index tasks in the change's transaction, applied after commit with a
timed writer, never a writer kept open).

Four separate processes (``python -c``, as gunicorn workers would be) contribute through the
operations layer against the same SQLite file and index folder, while a fifth searches;
afterwards the index matches the database exactly. A second test interleaves two workers
deterministically: one applying an old task while the other saves a newer revision."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select

from archive.db import commit, db
from archive.models import Account, Circle, Contributor, IndexTask, Item
from archive.operations import items as item_ops
from archive.operations.consent import ConsentChoice
from archive.search import index, rebuild, sync
from archive.search.query import search

pytestmark = pytest.mark.both_databases

ROOT = Path(__file__).resolve().parent.parent
WORKERS, PER_WORKER = 4, 15
ANONYMOUS = AnonymousUserMixin()

WRITER = """
import json, sys, time
from pathlib import Path
from archive import create_app
from archive.db import commit, db
from archive.models import Account, Circle
from archive.operations import items as item_ops
from archive.operations.consent import ConsentChoice

go, worker, count, account_id, circle_id = Path(sys.argv[1]), *map(int, sys.argv[2:])
app = create_app()
made = []
with app.app_context():
    account = db.session.get(Account, account_id)
    circle = db.session.get(Circle, circle_id)
    contributor = item_ops.contributor_for(account)
    while not go.exists():
        time.sleep(0.01)
    for number in range(count):
        # the varying letter is not last: stems drop a final vowel (udasi, udas)
        word = f"zqxw{'abcd'[worker]}n{'abcdefghijklmnopqrstuvwxyz'[number]}r"
        draft = item_ops.Draft(kind="poem", title=f"Together {worker}-{number}",
                               body=f"{word} साथ मिलकर", language="hi")
        result = item_ops.contribute(account, circle, contributor, draft,
                                     ConsentChoice(audience="public"))
        commit()
        made.append([result.item.public_id, word])
print(json.dumps(made))
"""

READER = """
import sys, time
from pathlib import Path
from flask_login import AnonymousUserMixin
from archive import create_app
from archive.search.query import search

go, done = Path(sys.argv[1]), Path(sys.argv[2])
app = create_app()
searches = 0
with app.app_context():
    while not go.exists():
        time.sleep(0.01)
    while not done.exists():
        search(AnonymousUserMixin(), "साथ", order="newest")
        search(AnonymousUserMixin(), "milakar")
        searches += 2
print(searches)
"""


def environment(app) -> dict[str, str]:
    """The same ARCHIVE_* settings as the test's app, for a separate process."""
    config = app.config
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARCHIVE_")}
    env.update(
        {
            "ARCHIVE_INSTANCE_DIR": str(config["INSTANCE_DIR"]),
            "ARCHIVE_DATABASE_URL": config["DATABASE_URL"],
            "ARCHIVE_MEDIA_URL": str(config["MEDIA_URL"]),
            "ARCHIVE_INDEX_DIR": str(config["INDEX_DIR"]),
            "ARCHIVE_SECRET_KEY": config["SECRET_KEY"],
            "ARCHIVE_DEMO": "0",
            "ARCHIVE_INDEX_COMPACT_DELAY": "-1",
            "ARCHIVE_ARGON2_TIME_COST": "1",
            "ARCHIVE_ARGON2_MEMORY_COST": "1024",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def start(code: str, *args, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-W", "error", "-c", code, *map(str, args)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_four_processes_contribute_at_once_and_the_index_keeps_up(
    app, make_circle, make_account, tmp_path
):
    circle = make_circle("together", "Together")
    accounts = [make_account(f"writer{n}", circle=circle) for n in range(WORKERS)]
    for account in accounts:
        item_ops.contributor_for(account)
    commit()
    go, done = tmp_path / "go", tmp_path / "done"
    env = environment(app)
    writers = [
        start(WRITER, go, n, PER_WORKER, account.id, circle.id, env=env)
        for n, account in enumerate(accounts)
    ]
    reader = start(READER, go, done, env=env)
    time.sleep(0.5)  # let them import and open the app first
    go.touch()
    try:
        outcomes = [process.communicate(timeout=180) for process in writers]
    finally:
        done.touch()
        for process in writers:
            if process.poll() is None:
                process.kill()
                process.communicate()
    read_out, read_err = reader.communicate(timeout=180)

    for process, (_out, err) in zip(writers, outcomes, strict=True):
        assert process.returncode == 0, err[-3000:]
        assert not err.strip(), err[-3000:]
    assert reader.returncode == 0 and not read_err.strip(), read_err[-3000:]
    assert int(read_out) > 0
    made = [pair for out, _err in outcomes for pair in json.loads(out)]
    assert len(made) == WORKERS * PER_WORKER == len({public_id for public_id, _w in made})

    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Item)) == WORKERS * PER_WORKER
    assert db.session.scalar(select(func.count()).select_from(IndexTask)) == WORKERS * PER_WORKER
    assert not sync.Mark.read().behind(), "the workers applied every task themselves"
    assert rebuild.check() == {"missing": [], "extra": []}
    for public_id, word in made:
        assert [hit.item.public_id for hit in search(ANONYMOUS, word).hits] == [public_id]
    everyone = search(ANONYMOUS, "saath", per_page=100)
    assert everyone.total == WORKERS * PER_WORKER == len(everyone.hits)


def test_an_older_task_applied_late_does_not_undo_a_newer_revision(
    app, make_circle, make_account, monkeypatch
):
    """Worker A starts applying a task for an item; before A has the index writer, worker B
    saves a new revision (without a word the contributor took out) and applies its own
    task. A must not then write the old revision back: the removed word must not find the
    item, and no task would be left to correct it."""
    circle = make_circle()
    author = make_account(circle=circle)
    result = item_ops.contribute(
        author,
        circle,
        item_ops.contributor_for(author),
        item_ops.Draft(kind="poem", title="Changing", body="zqxtakenout and the rest"),
        ConsentChoice(audience="public"),
    )
    public_id, author_id = result.item.public_id, author.id
    db.session.commit()  # A's task waits (its after-commit is lost)
    db.session.info.pop("after_commit", None)

    real_writer = index.writer
    interleaved = []

    def writer_after_b_saves(*args, **kwargs):
        if not interleaved:
            interleaved.append("B")
            with app.app_context():  # worker B: its own session
                by = db.session.get(Account, author_id)
                item = db.session.scalar(select(Item).where(Item.public_id == public_id))
                item_ops.revise(
                    by,
                    item,
                    item_ops.Draft(kind="poem", title="Changing", body="only the rest now"),
                )
                commit()  # B applies its task (and A's) after commit
                db.session.remove()
        return real_writer(*args, **kwargs)

    monkeypatch.setattr(index, "writer", writer_after_b_saves)

    assert sync.catch_up() == 0  # worker A: B has applied both tasks

    assert interleaved == ["B"]
    assert [hit.item.public_id for hit in search(ANONYMOUS, "rest").hits] == [public_id]
    assert search(ANONYMOUS, "zqxtakenout").total == 0
    assert search(ANONYMOUS, "zqxtakenout").hits == []


def test_a_task_saved_while_a_worker_waits_for_the_writer_is_applied(
    app, make_circle, make_account, monkeypatch
):
    """Worker A is behind and waits for the writer; meanwhile worker C catches up (task 1,
    item X) and worker D saves item Z without applying its task. A, once it has the
    writer, applies what is still missing — Z's task — and not X's again."""
    circle = make_circle()
    author = make_account(circle=circle)
    ids = (author.id, circle.id, item_ops.contributor_for(author).id)
    db.session.commit()

    def save_without_applying(title: str) -> str:
        """Save an item in this worker's own session, as if it crashed after commit."""
        author_id, circle_id, contributor_id = ids
        result = item_ops.contribute(
            db.session.get(Account, author_id),
            db.session.get(Circle, circle_id),
            db.session.get(Contributor, contributor_id),
            item_ops.Draft(kind="story", title=title, body=title),
            ConsentChoice(audience="public"),
        )
        public_id = result.item.public_id
        db.session.commit()  # committed; its after-commit work is lost
        db.session.info.pop("after_commit", None)
        return public_id

    first = save_without_applying("zqxfirstitem")
    real_writer = index.writer
    others: list[str] = []
    later: list[str] = []

    def writer_after_c_and_d(*args, **kwargs):
        if not others:
            others.append("C")
            with app.app_context():  # worker C catches up with task 1
                assert sync.catch_up() == 1
                db.session.remove()
            with app.app_context():  # worker D saves Z
                later.append(save_without_applying("zqxseconditem"))
                db.session.remove()
        return real_writer(*args, **kwargs)

    monkeypatch.setattr(index, "writer", writer_after_c_and_d)

    assert sync.catch_up() == 1  # worker A: Z's task only

    second = later[0]
    monkeypatch.setattr(index, "writer", real_writer)
    assert sync.catch_up() == 0
    assert rebuild.check() == {"missing": [], "extra": []}
    for word, public_id in (("zqxfirstitem", first), ("zqxseconditem", second)):
        assert [hit.item.public_id for hit in search(ANONYMOUS, word).hits] == [public_id]


class SearchThread:
    """Another worker thread of the same process, with its own (cached) searcher."""

    def __init__(self, app):
        self.app, self.asks, self.answers = app, queue.Queue(), queue.Queue()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        with self.app.app_context():
            while (word := self.asks.get()) is not None:
                try:
                    found = search(ANONYMOUS, word)
                    self.answers.put((found.total, [hit.item.public_id for hit in found.hits]))
                except Exception as error:  # noqa: BLE001 — handed to the test to raise
                    self.answers.put(error)
            db.session.remove()
            index.forget(Path(self.app.config["INDEX_DIR"]))

    def search(self, word: str):
        self.asks.put(word)
        answer = self.answers.get(timeout=30)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def stop(self):
        self.asks.put(None)
        self.thread.join(timeout=30)


def test_a_rebuilt_index_reaches_searchers_other_threads_hold(app, make_circle, make_account):
    """``reindex`` builds a fresh folder whose generations start again; a searcher another
    thread (or worker process) holds must not take the rebuilt index for the one it has
    open just because the generation numbers happen to match."""
    circle = make_circle()
    author = make_account(circle=circle)
    result = item_ops.contribute(
        author,
        circle,
        item_ops.contributor_for(author),
        item_ops.Draft(kind="story", title="Rebuilt", body="zqxbefore"),
        ConsentChoice(audience="public"),
    )
    public_id = result.item.public_id
    commit()
    rebuild.reindex()
    other = SearchThread(app)
    try:
        assert other.search("zqxbefore") == (1, [public_id])

        item = db.session.scalar(select(Item).where(Item.public_id == public_id))
        item_ops.revise(
            author, item, item_ops.Draft(kind="story", title="Rebuilt", body="zqxafter")
        )
        db.session.commit()  # the index is not told: reindex mends it
        db.session.info.pop("after_commit", None)
        rebuild.reindex()

        assert other.search("zqxafter") == (1, [public_id])
        assert other.search("zqxbefore") == (0, [])
    finally:
        other.stop()


def test_opening_the_index_while_another_worker_replaces_its_generation(app, monkeypatch):
    """A worker opening the index finds the table of contents of generation n, and another
    worker's commit removes it before it is read (seen once in four processes saving at
    once): the newer generation is opened instead of the save failing."""
    from whoosh import index as whoosh_index

    from archive.search import index as search_index

    with search_index.writing() as w:
        w.add_document(id="first", content="उदासी")
    search_index.forget(search_index.folder())
    real_open = whoosh_index.open_dir
    vanished = []

    def open_dir(path, *args, **kwargs):
        if not vanished:
            vanished.append(path)
            raise FileNotFoundError(f"{path}/_MAIN_1.toc")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(whoosh_index, "open_dir", open_dir)
    assert search_index.get_index().doc_count() == 1
    assert vanished
