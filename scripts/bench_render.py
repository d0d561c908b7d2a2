#!/usr/bin/env python3
"""How long the pages people open most take to make, in process, and how many SQL
statements each runs.

    .venv/bin/python scripts/bench_render.py                 # 200 GETs of each small page
    .venv/bin/python scripts/bench_render.py --runs 50 --big-runs 5

What it does: builds a throwaway site (SQLite and a Whoosh index in a temporary folder)
through the archive's own operations: one circle, 500 public poems, stories and know-hows
with Markdown bodies in English, Hindi and Marathi (a poem's lines, emphasis, lists, links),
and one public collection holding all 500. Then, signed out, it asks the test client for
each page ``--runs`` times (the two pages of the 500-piece collection ``--big-runs`` times),
after three unmeasured warm-up requests, and prints the median and 95th percentile in
milliseconds, the median CPU time of the thread that answered, and the number of SQL
statements the page ran.

The time is the whole request through the WSGI test client (routing, the view, the
queries, the template, the after-request hooks), without a network or a server. On a
machine shared with other work the wall-clock figures are noisy (the load average is
printed before and after): compare runs made close together, and lean on the CPU time,
which other processes' work disturbs less.
Not part of the test suite; the query counts are held by tests/test_query_counts.py.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PIECES = 500
LINES = (
    "the river remembers every name we gave it",
    "नदी हर उस नाम को याद रखती है जो हमने दिया",
    "नदी आपण दिलेलं प्रत्येक नाव लक्षात ठेवते",
    "when sleep would not come, *we sang* instead",
    "जब नींद नहीं आई, हमने **गाना** गाया",
    "my mother's hands, the rain, the long school day",
    "screen time ended when the [story](https://example.org/story) began",
    "उदासी के दिन भी गुज़र जाते हैं",
    "माझ्या आईचे हात, पाऊस, शाळेचा लांब दिवस",
    "hope is a small lamp in a big dark room",
)


def body(rng: random.Random, kind: str) -> str:
    """A Markdown body: a poem's stanzas, or a know-how's paragraphs and a list."""
    if kind == "poem":
        stanzas = ["\n".join(rng.choices(LINES, k=4)) for _ in range(3)]
        return "\n\n".join(stanzas)
    steps = "\n".join(f"- {line}" for line in rng.choices(LINES, k=3))
    return f"{' '.join(rng.choices(LINES, k=3))}\n\n## What helped\n\n{steps}\n"


def build_site(folder: Path):
    """A site with ``PIECES`` public pieces and one public collection of them all."""
    from archive import create_app
    from archive.db import commit, db
    from archive.operations import collections as collection_ops
    from archive.operations import items as item_ops
    from archive.operations.accounts import create_account
    from archive.operations.circles import add_member, create_circle
    from archive.operations.consent import ConsentChoice

    app = create_app(
        {
            "INSTANCE_DIR": folder / "instance",
            "DATABASE_URL": f"sqlite:///{folder / 'site.db'}",
            "MEDIA_URL": folder / "media",
            "INDEX_DIR": folder / "index",
            "SECRET_KEY": "bench",
            "DEMO": False,
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 1024,
            "BACKGROUND_WORK": False,
            "INDEX_COMPACT_DELAY": -1,
        }
    )
    rng = random.Random(5)
    with app.app_context():
        db.create_all()
        circle = create_circle("river-circle", "River circle", languages="en hi mr")
        curator = create_account("asha", "a calm river at dawn", "facilitator", "Asha", None)
        add_member(circle, curator, "facilitator")
        commit()
        choice = ConsentChoice(
            audience="public",
            attribution="name",
            pseudonym="",
            collections=True,
            embeds=True,
            packs=True,
            content_notes=[],
        )
        contributor = item_ops.contributor_for(curator)
        items = []
        for number in range(PIECES):
            kind = ("poem", "story", "knowhow")[number % 3]
            draft = item_ops.Draft(
                kind=kind,
                title=f"{rng.choice(LINES)[:40]} {number}",
                body=body(rng, kind),
                language=("en", "hi", "mr")[number % 3],
                tags=["nadi", f"tag{number % 7}"],
                alt_text="",
                image=None,
            )
            items.append(item_ops.contribute(curator, circle, contributor, draft, choice).item)
        commit()  # the index catches up once, after this commit
        collection = collection_ops.create(
            curator, circle, "river-songs", "Songs of the river", "What our circle *knows*."
        )
        db.session.flush()
        for item in items:
            collection_ops.add_entry(curator, collection, item, "")
        collection_ops.set_state(curator, collection, "public")
        commit()
        public_id = items[len(items) // 2].public_id
    return app, public_id


class Statements:
    """Counts the SQL statements the engine runs."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args) -> None:
        self.count += 1


def measure(client, statements: Statements, url: str, runs: int) -> tuple:
    """(median ms, p95 ms, median CPU ms, statements of one request) of ``runs`` GETs."""
    for _ in range(3):
        assert client.get(url).status_code == 200, url
    before = statements.count
    assert client.get(url).status_code == 200
    queries = statements.count - before
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.thread_time()
        response = client.get(url)
        response.get_data()
        cpu.append((time.thread_time() - start_cpu) * 1000)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, url
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, statistics.median(cpu), queries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="GETs of each small page")
    parser.add_argument(
        "--big-runs", type=int, default=20, help="GETs of the 500-piece collection pages"
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-render-"))
    try:
        started = time.perf_counter()
        app, public_id = build_site(folder)
        print(f"site of {PIECES} pieces built in {time.perf_counter() - started:.1f} s")
        pages = {
            "home": ("/", args.runs),
            "public piece": (f"/items/{public_id}", args.runs),
            "collection (500)": ("/collections/river-songs", args.big_runs),
            "collection /read (500)": ("/collections/river-songs/read", args.big_runs),
            "search results": ("/search?q=river", args.runs),
            "site feed": ("/feeds/public.atom", args.runs),
        }
        from archive.db import db

        with app.app_context():
            statements = Statements(db.engine)
        client = app.test_client()
        print(f"load average before: {' '.join(f'{n:.2f}' for n in os.getloadavg())}")
        print(f"{'page':<24}{'runs':>6}{'median ms':>12}{'p95 ms':>10}{'CPU ms':>9}{'queries':>9}")
        for name, (url, runs) in pages.items():
            median, p95, cpu, queries = measure(client, statements, url, runs)
            print(f"{name:<24}{runs:>6}{median:>12.2f}{p95:>10.2f}{cpu:>9.2f}{queries:>9}")
        print(f"load average after: {' '.join(f'{n:.2f}' for n in os.getloadavg())}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
