"""THE FAULT TESTS: a worker killed mid-request, a full disk, Redis and the S3 store stopping.

A serving worker here is a process of its own, forked from a process that has imported the
site once (`FORKS`, so each costs a fraction of a second, not an interpreter start). It builds
the site from the test's settings, signs in and sends one request through the whole stack; at
a chosen point inside that request it says so (a file) and waits, and the test kills it with
SIGKILL: in the middle of an edit (its revision and new picture flushed, not committed), of a
withdrawal (the erasure flushed, not committed; and committed, before any follow-up work: ledger
line, index entry, purges), of an artwork upload (the picture half processed; a derivative
half written), and of an index compaction run after a withdrawal (the segment copied aside;
the copy being swapped in).

Then the site restarts on the same folders: a new app answers its first request (its
background thread finishes what a stopped worker left), ``flask purge`` and ``flask search
check`` run, and someone edits and searches again. Nothing may be half-written (a revision
that is not its item's current one, tags or a media row no revision holds, a file no media
row names or a media row without its file, a partial file), nothing taken back may show (410
on its pages, nothing on lists, search, feeds, API; its words in no file the site keeps), no
purge may be pending, and the index must hold exactly the active pieces.

Also: the disk filling up while a derivative is written; Redis stopping in the middle of a
request; the S3 store going away in the middle of an upload and of a withdrawal (a door in
front of the test's SeaweedFS that is shut and opened again).

test_erasure_crash.py already kills a process with ``os._exit`` right after an erasure
commits and checks the media purge; here the kill comes earlier (before the ledger line, the
index and the purges) and the index, the ledger file and every file's contents are checked.
"""

from __future__ import annotations

import errno
import io
import multiprocessing
import os
import shutil
import signal
import socket
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import func, select

from archive import background, ledger_file
from archive.db import commit, db
from archive.media import images, leftovers, s3
from archive.media.storage import LocalStorage, media_folder
from archive.models import Consent, Item, MediaAsset, Revision, RevisionTag
from archive.operations import items as item_ops
from archive.operations import withdraw as withdraw_ops
from archive.operations.consent import ConsentChoice
from archive.search import compaction, index, rebuild
from tests.conftest import BrowserLikeClient, config_for_tests, sign_in
from tests.erasure_helpers import (
    DEVANAGARI_MARKER,
    MARKER,
    Piece,
    item_rows,
    json_text,
    media_files,
    pending_purges,
    photo,
    piece_of,
    rows_of,
    text,
)
from tests.search_helpers import in_index, segments
from tests.test_erasure_residue import let_go_of_files, residue

pytestmark = pytest.mark.both_databases

#: serving workers are forked from one process that has imported the site (and this module)
FORKS = multiprocessing.get_context("forkserver")
FORKS.set_forkserver_preload([__name__])
#: how long a worker may take to reach its point, and waits there to be killed
ARRIVAL_TIMEOUT = 30.0


@pytest.fixture(scope="module", autouse=True)
def _forks_end_with_the_module():
    yield
    from multiprocessing import forkserver

    forkserver._forkserver._stop()  # (its own method for stopping it, used by its tests)


# --- a tiny site --------------------------------------------------------------------------------


@dataclass
class Site:
    folder: Path
    config: dict
    circle: str
    painter: str
    kept: Piece  # a poem that stays throughout
    artwork: Piece  # the painter's artwork, carrying the marker words everywhere


@pytest.fixture
def site(app, make_circle, make_account, tmp_path, media_url) -> Site:
    """Two public pieces saved in one commit (so their index entries share one segment, and
    a compaction after the artwork's withdrawal has to copy the poem's entry aside)."""
    circle = make_circle("rang", "Rang circle")
    painter = make_account("chitra", circle=circle)
    contributor = item_ops.contributor_for(painter)
    public = ConsentChoice(audience="public", attribution="name")
    kept = item_ops.contribute(
        painter,
        circle,
        contributor,
        item_ops.Draft(
            kind="poem", title="The river at dawn", body="Slow water, and the birds.", tags=["nadi"]
        ),
        public,
    )
    artwork = item_ops.contribute(
        painter,
        circle,
        contributor,
        item_ops.Draft(
            kind="artwork",
            title=f"{MARKER} {DEVANAGARI_MARKER} the kitchen wall",
            body=f"I painted {MARKER} on the wall. {DEVANAGARI_MARKER} आज फिर।",
            language="hi",
            tags=[MARKER, DEVANAGARI_MARKER],
            alt_text=f"A painting of {MARKER}",
            image=photo(),
        ),
        public,
    )
    commit()
    site = Site(
        tmp_path,
        config_for_tests(tmp_path, MEDIA_URL=media_url),
        circle.slug,
        painter.username,
        piece_of(kept.item),
        piece_of(artwork.item),
    )
    db.session.remove()
    return site


# --- a serving worker, killed at a point ------------------------------------------------------


@dataclass
class Order:
    """What one worker does (plain values: it goes to another process)."""

    config: dict
    username: str
    action: str
    point: str
    piece_url: str
    circle: str
    folder: str


def serve(order: Order) -> None:
    """A serving worker, in a process of its own: one request, stopped at ``order.point``."""
    folder = Path(order.folder)
    log = os.open(folder / "worker.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    warnings.simplefilter("error")
    from archive import create_app

    app = create_app(order.config)
    client = BrowserLikeClient(app.test_client())
    sign_in(client, order.username)

    def stop_here() -> None:
        POINTS[order.point](lambda: _arrive(folder / "arrived"))

    ACTIONS[order.action](app, client, order, stop_here)
    (folder / "finished").write_text("the request ended without stopping")


def _arrive(path: Path) -> None:
    """Say the worker is at its point, and wait there to be killed."""
    path.write_text(str(os.getpid()))
    time.sleep(ARRIVAL_TIMEOUT)
    os._exit(3)


def _edit(app, client, order, stop_here) -> None:
    stop_here()
    client.post_form(
        f"{order.piece_url}/edit",
        {
            "title": "The kitchen wall, painted again",
            "body": "A second coat, in blue.",
            "language": "en",
            "tags": "rangoli",
            "alt_text": "A blue wall",
            "note": "new photo",
            "image": (io.BytesIO(photo((30, 140, 90))), "again.jpg", "image/jpeg"),
        },
        content_type="multipart/form-data",
    )


def _withdraw(app, client, order, stop_here) -> None:
    stop_here()
    client.post_form(f"{order.piece_url}/withdraw", {"sure": "y"})


def _contribute(app, client, order, stop_here) -> None:
    stop_here()
    client.post_form(
        f"/circles/{order.circle}/contribute", contribution(), content_type="multipart/form-data"
    )


def _withdraw_then_compact(app, client, order, stop_here) -> None:
    assert client.post_form(f"{order.piece_url}/withdraw", {"sure": "y"}).status_code == 303
    stop_here()
    with app.app_context():
        compaction.compact()


ACTIONS = {
    "edit": _edit,
    "withdraw": _withdraw,
    "contribute": _contribute,
    "compact": _withdraw_then_compact,
}


def contribution(**fields) -> dict:
    form = {
        "kind": "artwork",
        "title": "Rangoli by the door",
        "body": "Colours for Diwali.",
        "language": "en",
        "tags": "rangoli",
        "alt_text": "A rangoli of many colours",
        "audience": "public",
        "attribution": "name",
        "pseudonym": "",
        "review_by": "",
        "contributor": "me",
        "image": (io.BytesIO(photo((200, 160, 20))), "rangoli.jpg", "image/jpeg"),
    }
    form.update(fields)
    return form


def _after(owner, name: str, arrive, nth: int = 1) -> None:
    """Stop once the ``nth`` call of ``owner.name`` has returned."""
    original = getattr(owner, name)
    calls = []

    def stopping(*args, **kwargs):
        result = original(*args, **kwargs)
        calls.append(name)
        if len(calls) == nth:
            arrive()
        return result

    setattr(owner, name, stopping)


def _before(owner, name: str, arrive) -> None:
    def stopping(*args, **kwargs):
        arrive()

    setattr(owner, name, stopping)


def _half_written(arrive) -> None:
    """The second derivative's bytes are in its temporary file, not yet synced or renamed."""
    original = LocalStorage.put
    calls = []

    def put(self, key, data, content_type):
        calls.append(key)
        if len(calls) == 2:
            os.fsync = lambda fd: arrive()
        return original(self, key, data, content_type)

    LocalStorage.put = put


def _swapping_in(arrive) -> None:
    """The compacted copy's files are in the index folder, its table of contents not yet
    written (the writer is held)."""
    original = index.writing

    @contextmanager
    def writing(ix=None, *args, mergetype=None, **kwargs):
        def swap_then_stop(w, segments):
            swapped = mergetype(w, segments)
            arrive()
            return swapped

        with original(ix, *args, mergetype=mergetype and swap_then_stop, **kwargs) as w:
            yield w

    index.writing = writing


POINTS = {
    "revision flushed": lambda arrive: _after(item_ops, "_new_revision", arrive),
    "erasure flushed": lambda arrive: _after(withdraw_ops, "_erase", arrive),
    "erasure committed": lambda arrive: _before(background, "soon", arrive),
    "picture half processed": lambda arrive: _after(images, "_encode", arrive),
    "derivative half written": _half_written,
    "segment copied aside": lambda arrive: _after(compaction, "_without_deletions", arrive),
    "copy swapping in": _swapping_in,
}


def kill_at(site: Site, action: str, point: str) -> None:
    """Start a worker doing ``action`` (to the artwork), and SIGKILL it once it reaches
    ``point``."""
    folder = site.folder / f"worker-{action}"
    folder.mkdir()
    order = Order(
        site.config, site.painter, action, point, site.artwork.url, site.circle, str(folder)
    )
    db.session.remove()  # the test holds no transaction, as a browser holds none
    worker = FORKS.Process(target=serve, args=(order,), daemon=True)
    worker.start()
    try:
        deadline = time.monotonic() + ARRIVAL_TIMEOUT
        while not (folder / "arrived").exists():
            if not worker.is_alive() or time.monotonic() > deadline:
                log = folder / "worker.log"
                pytest.fail(
                    f"the worker never reached {point!r}:\n"
                    + (log.read_text()[-3000:] if log.exists() else "")
                )
            time.sleep(0.01)
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(10)
        assert worker.exitcode == -signal.SIGKILL
    finally:
        if worker.is_alive():
            worker.kill()
            worker.join(10)
        worker.close()
    shutil.rmtree(folder)


# --- the site after a restart ---------------------------------------------------------------


@pytest.fixture
def restart(make_app):
    """Start the site again on the same folders and run what an operator runs."""
    opened = []

    def start() -> Restarted:
        app = make_app(BACKGROUND_WORK=True)
        context = app.app_context()
        context.push()
        opened.append(context)
        restarted = Restarted(app, BrowserLikeClient(app.test_client()))
        assert restarted.client.get("/").status_code == 200
        assert background.wait(app), "what the killed worker left was not finished"
        return restarted

    yield start
    for context in reversed(opened):
        db.session.remove()
        context.pop()


@dataclass
class Restarted:
    app: Flask
    client: BrowserLikeClient

    def command(self, *args: str) -> str:
        """A ``flask --app archive`` command, as the operator runs it; its output."""
        db.session.remove()
        result = self.app.test_cli_runner().invoke(args=list(args))
        db.session.remove()
        assert result.exit_code == 0, f"flask {' '.join(args)}: {result.output}"
        return result.output

    def an_hour_later(self) -> None:
        """Time passes: every stored file is older than an upload can take (files of a
        killed upload are removed by the next ``flask purge`` once they are)."""
        then = time.time() - leftovers.LEFT_FOR - 60
        for path in media_folder(self.app.config).rglob("*"):
            os.utime(path, (then, then))

    def signed_in(self, username: str) -> BrowserLikeClient:
        client = BrowserLikeClient(self.app.test_client())
        sign_in(client, username)
        return client


def half_written(app) -> list[str]:
    """Everything a stopped worker may have left half-done, as sentences."""
    db.session.expire_all()
    found = []
    for item in db.session.scalars(select(Item).order_by(Item.id)):
        revisions = list(
            db.session.scalars(
                select(Revision.id).where(Revision.item_id == item.id).order_by(Revision.number)
            )
        )
        tags = db.session.scalar(
            select(func.count()).select_from(RevisionTag).where(item_rows(RevisionTag, item.id))
        )
        consent = db.session.scalar(
            select(func.count()).select_from(Consent).where(Consent.item_id == item.id)
        )
        if item.state == "withdrawn":
            if revisions or tags or consent:
                found.append(f"withdrawn {item.public_id} keeps rows")
            continue
        if not revisions or item.current_revision_id != revisions[-1]:
            found.append(f"{item.public_id}: its newest revision is not its current one")
        if consent != 1:
            found.append(f"{item.public_id}: {consent} consents")
    named = set()
    for asset in db.session.scalars(select(MediaAsset)):
        if (
            db.session.scalar(
                select(func.count())
                .select_from(Revision)
                .where(Revision.media_asset_id == asset.id)
            )
            == 0
        ):
            found.append(f"media row {asset.public_id} that no revision shows")
        named |= {entry["key"] for entry in asset.derivatives.values()}
    stored = media_files(app)
    found += [f"a file no media row names: {name}" for name in sorted(stored - named)]
    found += [f"a media row whose file is missing: {key}" for key in sorted(named - stored)]
    found += [f"a pending {task.kind} purge" for task in pending_purges()]
    found += [f"{name} in the index: {ids}" for name, ids in rebuild.check().items() if ids]
    db.session.remove()
    return found


def assert_taken_back(restarted: Restarted, piece: Piece, *clients) -> None:
    """Nowhere to be seen, for anyone; its words in no file the site keeps."""
    for client in (restarted.client, *clients):
        for url in (
            piece.url,
            f"{piece.url}/history",
            f"/api/v1/items/{piece.public_id}",
            f"/embed/items/{piece.public_id}",
        ):
            assert client.get(url).status_code == 410, url
        for url in piece.media_urls:
            assert client.get(url).status_code == 404, url
        for url in ("/", "/feeds/public.atom", "/sitemap.xml", f"/circles/{piece.circle_slug}"):
            page = text(client.get(url))
            assert MARKER not in page and piece.public_id not in page, url
        found = text(client.get(f"/search?q={MARKER}")) + text(client.get(f"/tags/{MARKER}"))
        found += json_text(client.get(f"/api/v1/search?q={MARKER}"))
        assert piece.public_id not in found and "kitchen wall" not in found
    db.session.remove()
    assert [line["event"] for line in ledger_file.read() if line["item"] == piece.public_id][
        -1
    ] == "withdrawn"


def assert_no_residue(restarted: Restarted, *apps) -> None:
    db.session.remove()  # no connection is checked out when the engines let go of theirs
    for app in (restarted.app, *apps):
        with app.app_context():
            let_go_of_files(app)
    assert residue(restarted.app, restarted.app.config["INSTANCE_DIR"].parent) == []


def assert_life_goes_on(restarted: Restarted, site: Site) -> None:
    """Nothing the killed worker held (the database's write lock, the item's row lock, the
    index writer) stops the next person: an edit saves, and search finds it at once."""
    client = restarted.signed_in(site.painter)
    saved = client.post_form(
        f"{site.kept.url}/edit",
        {
            "title": "The river at dawn",
            "body": "Slow water, and the kingfisher.",
            "language": "en",
            "tags": "nadi",
            "note": "",
        },
        content_type="multipart/form-data",
    )
    assert saved.status_code == 302, text(saved)[:1000]
    assert background.wait(restarted.app)
    found = text(restarted.client.get("/search?q=kingfisher"))
    assert site.kept.public_id in found


# --- killed in the middle of a request ------------------------------------------------------


def test_an_edit_killed_while_its_revision_is_saved(site, restart):
    kill_at(site, "edit", "revision flushed")

    restarted = restart()
    restarted.an_hour_later()
    restarted.command("purge")
    restarted.command("search", "check")

    assert half_written(restarted.app) == []
    item = site.artwork.item()
    assert [r.number for r in item_ops.revisions(item)] == [1]
    page = text(restarted.client.get(site.artwork.url))
    assert "painted again" not in page and MARKER in page
    assert all(restarted.client.get(url).status_code == 200 for url in site.artwork.media_urls)
    assert_life_goes_on(restarted, site)


def test_a_withdrawal_killed_before_its_commit_leaves_the_piece_whole(site, restart):
    kill_at(site, "withdraw", "erasure flushed")

    restarted = restart()
    assert half_written(restarted.app) == []
    assert restarted.client.get(site.artwork.url).status_code == 200
    assert site.artwork.public_id in text(restarted.client.get(f"/search?q={MARKER}"))
    assert not [line for line in ledger_file.read() if line["event"] == "withdrawn"]

    # taken back again, it is erased everywhere
    painter = restarted.signed_in(site.painter)
    assert painter.post_form(f"{site.artwork.url}/withdraw", {"sure": "y"}).status_code == 303
    assert background.wait(restarted.app)
    restarted.command("purge")
    restarted.command("search", "check")
    assert half_written(restarted.app) == []
    assert_taken_back(restarted, site.artwork, painter)
    assert_no_residue(restarted)


def test_a_withdrawal_killed_after_its_commit_is_finished_by_the_restarted_site(site, restart, app):
    kill_at(site, "withdraw", "erasure committed")
    assert rows_of(site.artwork.id) == {
        "Revision": 0,
        "RevisionTag": 0,
        "MediaAsset": 0,
        "Consent": 0,
    }
    assert in_index(site.artwork.public_id), "the index was updated before the kill"
    assert {task.kind for task in pending_purges()} >= {"database", "media"}
    db.session.remove()

    restarted = restart()
    assert half_written(restarted.app) == [], "the restarted site's first request left work"
    assert_taken_back(restarted, site.artwork, restarted.signed_in(site.painter))
    restarted.command("purge")
    restarted.command("search", "check")
    assert_no_residue(restarted, app)
    assert_life_goes_on(restarted, site)


@pytest.mark.parametrize("point", ["picture half processed", "derivative half written"])
def test_an_upload_killed_midway_leaves_nothing(site, restart, point):
    kill_at(site, "contribute", point)

    restarted = restart()
    restarted.an_hour_later()
    restarted.command("purge")
    restarted.command("search", "check")

    assert half_written(restarted.app) == []
    assert db.session.scalar(select(func.count()).select_from(Item)) == 2
    assert len(media_files(restarted.app)) == len(site.artwork.media_keys)
    assert_life_goes_on(restarted, site)


@pytest.mark.parametrize("point", ["segment copied aside", "copy swapping in"])
def test_a_compaction_killed_midway_is_redone(site, restart, app, point):
    kill_at(site, "compact", point)
    assert list(index.folder().glob(compaction.ASIDE_PREFIX + "*")), "killed before copying"

    restarted = restart()
    restarted.command("search", "check")
    restarted.command("purge")

    assert half_written(restarted.app) == []
    assert not list(index.folder().glob(compaction.ASIDE_PREFIX + "*"))
    in_use = {segment.segid for segment in segments()}
    left = {
        path.name
        for path in index.folder().glob("MAIN_*.*")
        if path.name.split(".")[0].removeprefix("MAIN_") not in in_use
    }
    assert not left, "segment files the index does not use"
    assert_taken_back(restarted, site.artwork)
    assert site.kept.public_id in text(restarted.client.get("/search?q=river"))
    assert_no_residue(restarted, app)
    assert_life_goes_on(restarted, site)


# --- a full disk ------------------------------------------------------------------------------


class FullDisk:
    """The media disk fills up halfway through writing the second derivative of an upload
    (every other file the process opens is left alone)."""

    def __init__(self, folder: Path) -> None:
        self.folder = str(folder)
        self.opened = 0
        self.real = os.fdopen

    def fdopen(self, fd, *args, **kwargs):
        file = self.real(fd, *args, **kwargs)
        if os.readlink(f"/proc/self/fd/{fd}").startswith(self.folder):
            self.opened += 1
            if self.opened == 2:
                return Filling(file)
        return file


class Filling:
    def __init__(self, file) -> None:
        self.file = file

    def write(self, data) -> None:
        self.file.write(data[: len(data) // 2])
        self.file.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.file, name)

    def __enter__(self):
        return self

    def __exit__(self, *_exc) -> None:
        self.file.close()


def counts() -> dict[str, int]:
    db.session.expire_all()
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Item, Revision, RevisionTag, MediaAsset, Consent)
    }


def test_a_full_disk_during_an_upload_is_refused_clearly_and_keeps_nothing(site, app, monkeypatch):
    client = BrowserLikeClient(app.test_client())
    client.raw.environ_base["HTTP_ACCEPT_LANGUAGE"] = "hi"
    sign_in(client, site.painter)
    rows, files = counts(), media_files(app)
    disk = FullDisk(media_folder(app.config))

    with monkeypatch.context() as patched:
        patched.setattr(os, "fdopen", disk.fdopen)
        answer = client.post_form(
            f"/circles/{site.circle}/contribute", contribution(), content_type="multipart/form-data"
        )

    assert disk.opened == 2, "the disk never filled"
    assert answer.status_code == 507
    page = text(answer)
    assert "अभी आपकी तस्वीर रखने की जगह नहीं है, इसलिए कुछ भी सहेजा नहीं गया।" in page
    assert 'value="Rangoli by the door"' in page, "what the person wrote is not kept"
    assert counts() == rows
    assert media_files(app) == files, "a derivative, whole or in part, was kept"


# --- Redis stops ------------------------------------------------------------------------------


@pytest.mark.both_databases("sqlite")
def test_redis_stopping_mid_request_leaves_each_worker_limiting(make_app, tmp_path, monkeypatch):
    """Counted in Redis until it stops, in the middle of a sign-in; from then on the worker
    counts in its own memory, with the same limits, and no request fails."""
    import redis

    from tests.services import redis_server

    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.access(binary, os.X_OK):
        redis_server._missing("redis-server is not installed")
    server, url = redis_server._start(binary, tmp_path)
    try:
        app = make_app(
            REDIS_URL=url,
            RATELIMIT_STORAGE_URI=url,
            SIGN_IN_ACCOUNT_LIMIT="3 per minute",
            CODE_RATE_LIMIT="3 per 15 minutes",
        )
        client = BrowserLikeClient(app.test_client())

        def wrong_sign_in() -> int:
            return client.post_form(
                "/sign-in", {"username": "nobody", "password": "not it at all"}
            ).status_code

        def wrong_code() -> int:
            return client.post_form("/withdraw", {"code": "ABCD-EFGH-JKMN-PQRS-TVWX"}).status_code

        assert [wrong_sign_in(), wrong_code()] == [422, 422]
        with redis.Redis.from_url(url) as counted:
            assert counted.keys("*"), "the tries were not counted in Redis"

        from archive.web import auth

        authenticate = auth.ops.authenticate

        def stopping(*args, **kwargs):
            server.kill()
            server.wait(10)
            return authenticate(*args, **kwargs)

        with monkeypatch.context() as patched:
            patched.setattr(auth.ops, "authenticate", stopping)
            assert wrong_sign_in() == 422
        assert server.poll() is not None

        assert [wrong_sign_in() for _ in range(4)] == [422, 422, 422, 429]
        assert [wrong_code() for _ in range(4)] == [422, 422, 422, 429]
        health = app.test_client().get("/healthz").get_json()
        assert health["checks"]["rate_limits"] == "failing"
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(10)


# --- the S3 store stops -----------------------------------------------------------------------


class Door:
    """A door on 127.0.0.1 in front of the S3 store. Shut, it cuts every connection and
    refuses new ones: as the archive sees it, the store has stopped."""

    def __init__(self, endpoint: str) -> None:
        target = urlsplit(endpoint)
        self.target = (target.hostname, target.port)
        self.port = 0
        self.closed = threading.Event()
        self.threads: list[threading.Thread] = []
        self.links: list[socket.socket] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def open(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        listener.settimeout(0.05)
        self.port = listener.getsockname()[1]
        self.closed.clear()
        self._start(self._let_in, listener)

    def shut(self) -> None:
        self.closed.set()
        with self.lock:
            for link in self.links:
                try:
                    link.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.links.clear()
        for thread in self.threads:
            thread.join(5)
        self.threads.clear()

    def _start(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _let_in(self, listener: socket.socket) -> None:
        with listener:
            while not self.closed.is_set():
                try:
                    near, _address = listener.accept()
                except TimeoutError:
                    continue
                far = socket.create_connection(self.target)
                with self.lock:
                    self.links += [near, far]
                self._start(self._carry, near, far)
                self._start(self._carry, far, near)

    @staticmethod
    def _carry(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            source.close()


@pytest.fixture
def door(seaweed, monkeypatch):
    """The archive reaches the store through a door; its client makes one try instead of
    four (botocore's back-off between tries would add seconds, not change the outcome)."""
    from botocore.config import Config

    door = Door(seaweed.endpoint)
    door.open()
    monkeypatch.setenv("AWS_ENDPOINT_URL", door.url)
    one_try = Config(
        connect_timeout=2, read_timeout=5, retries={"total_max_attempts": 1, "mode": "standard"}
    )
    client = s3.client
    monkeypatch.setattr(s3, "client", lambda config=one_try: client(config))
    yield door
    door.shut()


def operator(app, *args: str):
    db.session.remove()
    result = app.test_cli_runner().invoke(args=list(args))
    db.session.remove()
    return result


@pytest.mark.parametrize("media_backend", ["s3"], indirect=True)
def test_the_s3_store_stopping_during_an_upload(site, app, door, monkeypatch):
    client = BrowserLikeClient(app.test_client())
    sign_in(client, site.painter)
    rows, files = counts(), media_files(app)
    put = s3.S3Storage.put

    def put_then_stop(self, *args, **kwargs):
        put(self, *args, **kwargs)
        door.shut()

    monkeypatch.setattr(s3.S3Storage, "put", put_then_stop)

    answer = client.post_form(
        f"/circles/{site.circle}/contribute", contribution(), content_type="multipart/form-data"
    )

    assert answer.status_code == 503
    assert "Your picture could not be stored just now, so nothing was saved." in text(answer)
    assert counts() == rows
    assert len(media_files(app) - files) == 1, "the first derivative was stored"

    monkeypatch.setattr(s3.S3Storage, "put", put)
    door.open()  # the store is back,
    monkeypatch.setattr(leftovers, "LEFT_FOR", 0)  # and an hour has passed
    result = operator(app, "purge")
    assert result.exit_code == 0, result.output
    assert media_files(app) == files


@pytest.mark.parametrize("media_backend", ["s3"], indirect=True)
def test_the_s3_store_stopping_during_a_withdrawal(site, app, door, monkeypatch):
    client = BrowserLikeClient(app.test_client())
    sign_in(client, site.painter)
    erase = withdraw_ops._erase

    def erase_as_the_store_stops(*args, **kwargs):
        door.shut()
        return erase(*args, **kwargs)

    monkeypatch.setattr(withdraw_ops, "_erase", erase_as_the_store_stops)

    answer = client.post_form(f"{site.artwork.url}/withdraw", {"sure": "y"})

    assert answer.status_code == 303
    assert rows_of(site.artwork.id) == {
        "Revision": 0,
        "RevisionTag": 0,
        "MediaAsset": 0,
        "Consent": 0,
    }
    anonymous = BrowserLikeClient(app.test_client())
    assert anonymous.get(site.artwork.url).status_code == 410
    assert all(anonymous.get(url).status_code == 404 for url in site.artwork.media_urls)
    assert set(site.artwork.media_keys) <= media_files(app), "the store was not away"
    [task] = pending_purges()
    assert task.kind == "media" and task.attempts >= 1

    away = operator(app, "purge")
    assert away.exit_code == 1 and "still failing: 1" in away.output
    assert [task.kind for task in pending_purges()] == ["media"]

    door.open()
    back = operator(app, "purge")
    assert back.exit_code == 0, back.output
    assert pending_purges() == []
    assert not media_files(app) & set(site.artwork.media_keys)
