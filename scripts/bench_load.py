#!/usr/bin/env python3
"""Load benchmark: the site under gunicorn with several workers, and many people at once.

    .venv/bin/python scripts/bench_load.py                      # 50 people, 60 s, 4 workers
    .venv/bin/python scripts/bench_load.py --users 20 --seconds 30 --workers 2

A throwaway site (its own instance folder, media folder and, unless ARCHIVE_DATABASE_URL is
given, its own SQLite file) gets the demo, four more circles, one account per simulated
person and a seeded corpus of a few hundred items in Hindi, Marathi and English, each with
its receipt. Then ``scripts/serve`` starts it with gunicorn on 127.0.0.1 and a free port,
and every simulated person (a thread with its own ``requests`` session, signed in before the
clock starts) repeats, with a pause of ``--think`` seconds on average between steps (and
before the first, so people do not all arrive in the same instant):

  reading   home page, an item page, their circle's page, the public collection, the feed
  searching Hindi, Marathi, English, and Hindi typed in Latin letters ("udasi")
  sharing   the contribute form, then posting a poem through it with its CSRF token
  taking back  their own earlier poem (``/items/<id>/withdraw``), or a seeded piece by its
            receipt's withdrawal code on ``/withdraw`` (check, then erase), as someone
            without an account would

Every request is timed. An error is any 5xx, a connection error, or any status other than
the one the site answers that step with — except that a GET sent on a kept-alive connection
the site closed at that very moment (idle past gunicorn's --keep-alive) is sent again once,
as browsers do; these are counted and reported apart, and their time includes both tries.
The CPU time gunicorn's processes used during the run is reported per request (from
/proc). Afterwards the site is stopped and the search index is compared with the database
(``archive.search.rebuild.check``, the function behind ``flask --app archive search
check``) before any pending index task is applied, and the index's mark must show every
kept task applied.

Rate limits are raised for the run (ARCHIVE_LOGIN_RATE_LIMIT, ARCHIVE_CODE_RATE_LIMIT):
every simulated person comes from 127.0.0.1, and the real limits would answer 429 to the
withdrawal-code door within seconds. ARCHIVE_DATABASE_URL, ARCHIVE_MEDIA_URL and
ARCHIVE_REDIS_URL are passed through from the environment, to run against PostgreSQL, an
S3-compatible store or Redis. Goal: no errors, p95 ≤ 300 ms. Exits 1 when it is not met.
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import machine  # noqa: E402 — scripts/machine.py, beside this one

P95_BUDGET_MS = 300.0
PASSWORD = "a calm river at dawn, loaded"
PASSED_THROUGH = (
    "ARCHIVE_DATABASE_URL",
    "ARCHIVE_MEDIA_URL",
    "ARCHIVE_REDIS_URL",
    "ARCHIVE_THREADS",
)
CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'type="hidden" name="csrf_token" value="([^"]+)"'
)
CONFIRM_CODE = re.compile(r'name="confirm-code" type="hidden" value="([^"]*)"')
NEW_ITEM = re.compile(r'href="/items/([A-Za-z0-9_-]+)"')
CIRCLES = [
    ("bench-nagpur", "Caregivers' circle, Nagpur", "mr hi en"),
    ("bench-delhi", "Young voices, Delhi", "hi en"),
    ("bench-mumbai", "Evening circle, Mumbai", "mr en"),
    ("bench-online", "Wellbeing circle online", "en hi mr"),
]
HINDI = ("उदासी नींद उम्मीद ज़िंदगी दोस्त माँ स्कूल बारिश खुशी थकान रात सुबह साथ मिलकर धीरे कभी हमें घर").split()
MARATHI = ("झोप माझ्या आई शाळा पाऊस आनंद थकवा रात्र सकाळ सोबत हळूहळू घरी मुलगा टॅबलेट स्क्रीन").split()
ENGLISH = (
    "sleep school screen tablet doctor mother friend rain hope evening tired "
    "morning together slowly home"
).split()
SEARCHES = {
    "search hi": ["उदासी", "नींद", "उम्मीद", "ज़िंदगी", "बारिश"],
    "search mr": ["झोप", "माझ्या", "शाळा", "पाऊस", "सोबत"],
    "search en": ["sleep", "screen time", "school", "hope", "tired"],
    "search latin": ["udasi", "neend", "ummeed", "zindagi", "barish"],
}


# --- the site ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def site_environment(folder: Path, workers: int, port: int) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ARCHIVE_") or key in PASSED_THROUGH
    }
    env.setdefault("ARCHIVE_MEDIA_URL", str(folder / "media"))
    env.update(
        {
            "ARCHIVE_INSTANCE_DIR": str(folder / "instance"),
            "ARCHIVE_DEMO": "1",
            "ARCHIVE_WORKERS": str(workers),
            "ARCHIVE_LOGIN_RATE_LIMIT": "100000 per minute",
            "ARCHIVE_CODE_RATE_LIMIT": "100000 per minute",
            "HOST": "127.0.0.1",
            "PORT": str(port),
        }
    )
    return env


def prepare(env: dict[str, str]) -> None:
    """The virtualenv, migrations and the demo, as ``scripts/serve`` does before serving."""
    subprocess.run(
        [str(ROOT / "scripts" / "setup")], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "flask"), "--app", "archive", "setup"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


@dataclass
class Seeded:
    people: list[tuple[str, str]] = field(default_factory=list)  # (username, circle slug)
    public_items: list[str] = field(default_factory=list)
    circle_items: dict[str, list[str]] = field(default_factory=dict)
    codes: list[str] = field(default_factory=list)  # receipts of pieces set aside to erase


def seed(env: dict[str, str], users: int, items: int) -> Seeded:
    """Accounts and a corpus written through the operations layer, as the site writes them."""
    os.environ.update(env)
    from archive import create_app
    from archive.db import commit
    from archive.operations import items as item_ops
    from archive.operations.accounts import create_account
    from archive.operations.circles import add_member, create_circle
    from archive.operations.consent import ConsentChoice

    rng = random.Random(11)
    seeded = Seeded()
    app = create_app()
    with app.app_context():
        circles = [
            create_circle(slug, name, languages=languages) for slug, name, languages in CIRCLES
        ]
        accounts = []
        for number in range(users):
            circle = circles[number % len(circles)]
            account = create_account(f"bench{number}", PASSWORD, "participant", f"Person {number}")
            add_member(circle, account)
            accounts.append((account, circle))
            seeded.people.append((account.username, circle.slug))
        commit()
        for number in range(items):
            account, circle = accounts[number % len(accounts)]
            language, words = rng.choice((("hi", HINDI), ("mr", MARATHI), ("en", ENGLISH)))
            draft = item_ops.Draft(
                kind=rng.choice(("poem", "knowhow", "story")),
                title=" ".join(rng.sample(words, 3)),
                body="\n".join(" ".join(rng.sample(words, 6)) for _line in range(6)),
                language=language,
                tags=rng.sample(words, 2),
            )
            audience = rng.choices(("public", "circle", "private"), (50, 35, 15))[0]
            made = item_ops.contribute(
                account,
                circle,
                item_ops.contributor_for(account),
                draft,
                ConsentChoice(audience=audience, collections=True),
            )
            public_id = made.item.public_id
            if number % 4 == 3:
                seeded.codes.append(made.receipt.withdrawal_code)
            elif audience == "public":
                seeded.public_items.append(public_id)
            elif audience == "circle":
                seeded.circle_items.setdefault(circle.slug, []).append(public_id)
            if number % 50 == 49:
                commit()
        commit()
    return seeded


def start_site(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(ROOT / "scripts" / "serve")],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.2)
    stop_site(server)
    raise SystemExit(f"the site did not start; see {log}")


def site_cpu(server: subprocess.Popen) -> float | None:
    """CPU seconds gunicorn's master and workers have used so far (from /proc; None where
    there is none). Per request, it tells two runs of different code apart better than
    latency does: latency also depends on what else the machine is doing."""
    if not Path("/proc/self/stat").exists():
        return None
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that just ended
        if server.pid in (int(stat.parent.name), int(fields[1])):
            total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def stop_site(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # gunicorn: graceful stop of every worker
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- the people -------------------------------------------------------------------------------


class Results:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.retried: list[str] = []

    def add(self, action: str, seconds: float, problem: str | None) -> None:
        with self.lock:
            self.times[action].append(seconds * 1000)
            if problem:
                self.errors[action].append(problem)


class Person:
    """One simulated person: a session of their own, signed in before the clock starts."""

    def __init__(
        self,
        base: str,
        username: str,
        circle: str,
        seeded: Seeded,
        codes: queue.Queue,
        results: Results,
        rng: random.Random,
    ) -> None:
        self.base, self.username, self.circle = base, username, circle
        self.seeded, self.codes, self.results, self.rng = seeded, codes, results, rng
        self.session = requests.Session()
        self.mine: list[str] = []

    def request(self, action: str, method: str, path: str, expect: int, **kwargs):
        started = time.perf_counter()
        try:
            try:
                response = self.session.request(
                    method, self.base + path, timeout=30, allow_redirects=False, **kwargs
                )
            except requests.ConnectionError as error:
                # a kept-alive connection the site closed (idle past --keep-alive) just as
                # this request went out on it: browsers send a GET again on a new one.
                # Counted and reported, and the time includes both tries.
                if method != "GET" or "Connection aborted" not in str(error):
                    raise
                with self.results.lock:
                    self.results.retried.append(f"{action}: {error}")
                response = self.session.request(
                    method, self.base + path, timeout=30, allow_redirects=False, **kwargs
                )
        except requests.RequestException as error:
            self.results.add(
                action,
                time.perf_counter() - started,
                f"{type(error).__name__} on {method} {path}: {error}"[:300],
            )
            return None
        elapsed = time.perf_counter() - started
        problem = (
            None
            if response.status_code == expect
            else f"{response.status_code} (expected {expect}) on {method} {path}"
        )
        self.results.add(action, elapsed, problem)
        return response if problem is None else None

    def token(self, response) -> str | None:
        match = response is not None and CSRF.search(response.text)
        return (match.group(1) or match.group(2)) if match else None

    def sign_in(self) -> bool:
        page = self.session.get(self.base + "/sign-in", timeout=60)
        response = self.session.post(
            self.base + "/sign-in",
            timeout=60,
            allow_redirects=False,
            data={"csrf_token": self.token(page), "username": self.username, "password": PASSWORD},
        )
        return response.status_code == 302

    # reading
    def home(self):
        self.request("home", "GET", "/", 200)

    def item(self):
        pool = self.seeded.public_items + self.seeded.circle_items.get(self.circle, [])
        self.request("item", "GET", f"/items/{self.rng.choice(pool)}", 200)

    def circle_page(self):
        self.request("circle", "GET", f"/circles/{self.circle}", 200)

    def collection(self):
        self.request("collection", "GET", "/collections/screen-time", 200)

    def feed(self):
        self.request("feed", "GET", "/feeds/public.atom", 200)

    def search(self):
        action = self.rng.choice(sorted(SEARCHES))
        self.request(action, "GET", "/search", 200, params={"q": self.rng.choice(SEARCHES[action])})

    # sharing
    def contribute(self):
        path = f"/circles/{self.circle}/contribute"
        token = self.token(self.request("contribute form", "GET", path, 200))
        if token is None:
            return
        words = self.rng.choice((HINDI, MARATHI, ENGLISH))
        fields = {
            "csrf_token": token,
            "kind": "poem",
            "contributor": "me",
            "title": " ".join(self.rng.sample(words, 3)),
            "body": "\n".join(" ".join(self.rng.sample(words, 5)) for _ in range(4)),
            "language": {id(HINDI): "hi", id(MARATHI): "mr"}.get(id(words), "en"),
            "tags": ", ".join(self.rng.sample(words, 2)),
            "audience": self.rng.choice(("circle", "public")),
            "attribution": "name",
            "collections": "y",
        }
        multipart = {name: (None, value) for name, value in fields.items()}
        multipart["image"] = ("", b"", "application/octet-stream")  # as a browser sends it
        receipt = self.request("contribute post", "POST", path, 201, files=multipart)
        if receipt is not None:
            match = NEW_ITEM.search(receipt.text)
            if match:
                self.mine.append(match.group(1))

    # taking back
    def withdraw_own(self):
        if not self.mine:
            return self.contribute()
        public_id = self.mine.pop(0)
        path = f"/items/{public_id}/withdraw"
        token = self.token(self.request("withdraw own form", "GET", path, 200))
        if token is not None:
            self.request(
                "withdraw own post", "POST", path, 200, data={"csrf_token": token, "sure": "y"}
            )

    def withdraw_by_code(self):
        try:
            code = self.codes.get_nowait()
        except queue.Empty:
            return self.search()
        door = self.request("withdraw code form", "GET", "/withdraw", 200)
        token = self.token(door)
        if token is None:
            return
        confirm = self.request(
            "withdraw code check",
            "POST",
            "/withdraw",
            200,
            data={"csrf_token": token, "code": code},
        )
        match = confirm is not None and CONFIRM_CODE.search(confirm.text)
        if not match:
            if confirm is not None:
                self.results.add("withdraw code check", 0, "no confirm form on the page")
            return
        self.request(
            "withdraw code erase",
            "POST",
            "/withdraw",
            200,
            data={
                "csrf_token": self.token(confirm),
                "confirm-code": match.group(1),
                "confirm-submit": "Erase it everywhere",
            },
        )


STEPS = [
    ("home", 10),
    ("item", 22),
    ("circle_page", 8),
    ("collection", 5),
    ("feed", 5),
    ("search", 25),
    ("contribute", 12),
    ("withdraw_own", 6),
    ("withdraw_by_code", 7),
]


def live(person: Person, until: float, think: float) -> None:
    names, weights = zip(*STEPS, strict=True)
    # people arrive over the first moments, as they do on a site: a start in step sent
    # every person's first request in the same instant
    time.sleep(person.rng.uniform(0, 2 * think))
    while time.monotonic() < until:
        getattr(person, person.rng.choices(names, weights)[0])()
        time.sleep(person.rng.uniform(0, 2 * think))


# --- the report -------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def table(results: Results, seconds: float) -> tuple[str, float, int]:
    lines = [f"{'action':<22}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"]
    everything = []
    for action in sorted(results.times):
        times = results.times[action]
        everything += times
        lines.append(
            f"{action:<22}{len(times):>9}{len(results.errors[action]):>8}"
            f"{statistics.median(times):>9.0f}{percentile(times, 95):>9.0f}"
            f"{max(times):>9.0f}"
        )
    errors = sum(len(found) for found in results.errors.values())
    p95 = percentile(everything, 95) if everything else 0.0
    lines.append(
        f"{'overall':<22}{len(everything):>9}{errors:>8}"
        f"{statistics.median(everything):>9.0f}{p95:>9.0f}{max(everything):>9.0f}"
    )
    lines.append(f"throughput: {len(everything) / seconds:.1f} requests/s over {seconds:.0f} s")
    return "\n".join(lines), p95, errors


def index_report(env: dict[str, str]) -> tuple[str, bool]:
    """The index against the database, before anything pending is applied."""
    os.environ.update(env)
    from sqlalchemy import func, select

    from archive import create_app
    from archive.db import db, utcnow
    from archive.models import IndexTask, Item, PurgeTask
    from archive.search import rebuild, sync

    app = create_app()
    with app.app_context():
        count = lambda model, *where: db.session.scalar(  # noqa: E731
            select(func.count()).select_from(model).where(*where)
        )
        active, withdrawn = (
            count(Item, Item.state == "active"),
            count(Item, Item.state == "withdrawn"),
        )
        mark = sync.Mark.read()
        unapplied = mark is None or mark.behind()
        tasks, purges = count(IndexTask), count(PurgeTask)
        # an erasure's database clean-up waits DATABASE_PURGE_DELAY seconds by design: those
        # of the last seconds of the run are not overdue (the next start-up does them)
        waiting = count(
            PurgeTask,
            PurgeTask.kind == "database",
            PurgeTask.created_at
            > utcnow() - timedelta(seconds=app.config["DATABASE_PURGE_DELAY"] + 5),
        )
        report = rebuild.check()
    overdue = purges - waiting
    matches = not report["missing"] and not report["extra"] and not unapplied and not overdue
    return (
        f"database: {active} active items, {withdrawn} withdrawn; index tasks kept: "
        f"{tasks} ({'some' if unapplied else 'none'} left unapplied), pending purges: "
        f"{overdue} overdue, {waiting} waiting for their delay\n"
        f"index check: missing {len(report['missing'])}, extra {len(report['extra'])} -> "
        f"{'matches' if matches else 'DOES NOT MATCH'}",
        matches,
    )


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="simulated people (1–200)")
    parser.add_argument("--seconds", type=int, default=60, help="length of the run (5–600)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (1–16)")
    parser.add_argument("--items", type=int, default=400, help="seeded items (20–5000)")
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="average pause between one person's steps, seconds (0–10)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the site's folder")
    args = parser.parse_args()
    for name, low, high in (
        ("users", 1, 200),
        ("seconds", 5, 600),
        ("workers", 1, 16),
        ("items", 20, 5000),
        ("think", 0, 10),
    ):
        if not low <= getattr(args, name) <= high:
            parser.error(f"--{name} must be between {low} and {high}")
    return args


def main() -> int:
    args = arguments()
    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    port = free_port()
    env = site_environment(folder, args.workers, port)
    shown = {key: env[key] for key in PASSED_THROUGH if key in env}
    print(
        f"site folder {folder}; port {port}; {args.workers} workers; "
        f"passed through: {', '.join(shown) or 'nothing (SQLite, local media, memory limits)'}"
    )
    server = None
    try:
        started = time.monotonic()
        prepare(env)
        seeded = seed(env, args.users, args.items)
        print(
            f"seeded {args.items} items and {args.users} accounts in "
            f"{time.monotonic() - started:.0f} s"
        )
        server = start_site(env, port, folder / "serve.log")
        base = f"http://127.0.0.1:{port}"
        results, codes = Results(), queue.Queue()
        for code in seeded.codes:
            codes.put(code)
        people = [
            Person(base, username, circle, seeded, codes, results, random.Random(n))
            for n, (username, circle) in enumerate(seeded.people)
        ]
        for person in people:
            if not person.sign_in():
                raise SystemExit(f"{person.username} could not sign in; see {folder}/serve.log")
        print(
            f"{len(people)} people signed in; running for {args.seconds} s; "
            f"machine: {machine.describe()}"
        )
        cpu_before, began = time.process_time(), time.monotonic()
        site_before = site_cpu(server)
        until = began + args.seconds
        threads = [
            threading.Thread(target=live, args=(person, until, args.think)) for person in people
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed, client_cpu = time.monotonic() - began, time.process_time() - cpu_before
        site_after = site_cpu(server)
        stop_site(server)
        report, p95, errors = table(results, elapsed)
        print(report)
        print(
            f"client CPU: {client_cpu:.1f} s over {elapsed:.0f} s "
            f"({100 * client_cpu / elapsed:.0f} % of one core); load average now "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        if site_before is not None and site_after is not None:
            used, answered = site_after - site_before, sum(map(len, results.times.values()))
            print(
                f"site CPU: {used:.1f} s over {elapsed:.0f} s, "
                f"{1000 * used / max(answered, 1):.1f} ms per request "
                f"({100 * used / elapsed / os.cpu_count():.0f} % of {os.cpu_count()} cores)"
            )
        for action, found in sorted(results.errors.items()):
            for problem in sorted(set(found))[:5]:
                print(f"  error in {action}: {problem} (×{found.count(problem)})")
        if results.retried:
            print(
                f"sent again: {len(results.retried)} GET(s) on a kept-alive connection the "
                f"site had just closed (as a browser does), e.g. {results.retried[0]}"
            )
        said, matches = index_report(env)
        print(said)
        ok = errors == 0 and p95 <= P95_BUDGET_MS and matches
        print(
            f"goal (no errors, p95 ≤ {P95_BUDGET_MS:.0f} ms, index matches): "
            f"{'met' if ok else 'NOT met'}"
        )
        return 0 if ok else 1
    finally:
        if server is not None:
            stop_site(server)
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
