"""Lighthouse scores for the pages people open most: home, one piece, one public collection.

Usage: .venv/bin/python scripts/bench_pages.py [--keep-reports DIR]

Goal (design.md, on a phone on a thin connection): performance >= 98 and accessibility 100
on each page. Lighthouse runs as a phone would (mobile form factor, its default simulated
throttling: a slow 4G network and a 4x slower processor) against Debian's Chromium.

What it does:
1. installs npm's ``lighthouse`` (pinned below) into ``scripts/.lighthouse/`` if it is not
   there yet (git-ignored; delete the folder to reinstall);
2. makes a throwaway instance folder, loads the demo data (``flask setup``) and starts the
   site with gunicorn on 127.0.0.1 at a free port;
3. finds a public piece (an artwork when there is one) and a public collection in the
   sitemap, runs Lighthouse on the three pages, prints a table of the four category scores
   and, for any page short of the goal, the audits that cost it points;
4. stops the server and removes the folder. Exits 1 when a page is short of the goal.

Not part of the test suite: it takes about a minute and needs ``npm`` and Chromium.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
LIGHTHOUSE_VERSION = "12.8.2"  # 13.x needs Node 22; Debian's Node is 20
LIGHTHOUSE_DIR = ROOT / "scripts" / ".lighthouse"
LIGHTHOUSE = LIGHTHOUSE_DIR / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run"
)
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
GOAL = {"performance": 98, "accessibility": 100}


def install_lighthouse() -> None:
    if LIGHTHOUSE.exists() and installed_version() == LIGHTHOUSE_VERSION:
        return
    print(f"• installing lighthouse {LIGHTHOUSE_VERSION} into {LIGHTHOUSE_DIR.relative_to(ROOT)}")
    LIGHTHOUSE_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "npm",
            "install",
            "--prefix",
            str(LIGHTHOUSE_DIR),
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            f"lighthouse@{LIGHTHOUSE_VERSION}",
        ],
        check=True,
    )


def installed_version() -> str:
    package = LIGHTHOUSE_DIR / "node_modules" / "lighthouse" / "package.json"
    return json.loads(package.read_text())["version"] if package.exists() else ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def site_environment(folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ARCHIVE_INSTANCE_DIR": str(folder / "instance"),
        "ARCHIVE_MEDIA_URL": str(folder / "media"),
        "ARCHIVE_DEMO": "1",
        "ARCHIVE_LOGIN_RATE_LIMIT": "1000 per minute",
    }


def start_site(folder: Path, port: int) -> subprocess.Popen:
    env = site_environment(folder)
    subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "archive", "setup"],
        check=True,
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    server = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "--worker-class",
            "gthread",
            "--workers",
            "2",
            "--threads",
            "4",
            "--bind",
            f"127.0.0.1:{port}",
            "--no-control-socket",
            "--log-level",
            "warning",
            "archive:create_app()",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
            return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit("gunicorn stopped before it served a page") from None
            time.sleep(0.3)
    stop_site(server)
    raise SystemExit("the site did not answer within 30 seconds")


def stop_site(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def pages_to_measure(site: str) -> dict[str, str]:
    """Home, a public piece (an artwork if the demo has one public) and a public collection,
    as the sitemap lists them."""
    urls = re.findall(r"<loc>([^<]+)</loc>", fetch(f"{site}/sitemap.xml"))
    items = [url for url in urls if "/items/" in url]
    collections = [url for url in urls if "/collections/" in url]
    if not items or not collections:
        raise SystemExit("the demo has no public piece or no public collection to measure")
    artwork = next((url for url in items if 'class="artwork"' in fetch(url)), items[0])
    return {"home": f"{site}/", "item": artwork, "collection": collections[0]}


def lighthouse(url: str, report: Path) -> dict:
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={report}",
            f"--chrome-flags={CHROME_FLAGS}",
            "--form-factor=mobile",
            "--only-categories=" + ",".join(CATEGORIES),
        ],
        check=True,
        env=env,
    )
    return json.loads(report.read_text())


def scores(result: dict) -> dict[str, int]:
    return {name: round(result["categories"][name]["score"] * 100) for name in CATEGORIES}


def shortfalls(result: dict) -> list[str]:
    """The audits that cost points, with what they say, for the categories short of the goal."""
    lines = []
    for name in GOAL:
        for ref in result["categories"][name]["auditRefs"]:
            audit = result["audits"][ref["id"]]
            if ref["weight"] > 0 and audit["score"] is not None and audit["score"] < 1:
                value = audit.get("displayValue", "")
                lines.append(
                    f"    {name}: {audit['id']} ({audit['score']:.2f}) "
                    f"{audit['title']}{' — ' + value if value else ''}"
                )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep-reports", type=Path, help="keep the JSON reports here")
    args = parser.parse_args()
    install_lighthouse()
    folder = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    server = None
    try:
        port = free_port()
        server = start_site(folder, port)
        results = {
            page: lighthouse(url, folder / f"{page}.json")
            for page, url in pages_to_measure(f"http://127.0.0.1:{port}").items()
        }
    finally:
        if server is not None:
            stop_site(server)
        if args.keep_reports:
            args.keep_reports.mkdir(parents=True, exist_ok=True)
            for report in folder.glob("*.json"):
                shutil.copy(report, args.keep_reports / report.name)
        shutil.rmtree(folder, ignore_errors=True)
    return report_table(results)


def report_table(results: dict[str, dict]) -> int:
    print(f"\nLighthouse {LIGHTHOUSE_VERSION}, mobile, default throttling")
    print(f"{'page':<12}" + "".join(f"{name:>16}" for name in CATEGORIES))
    short = False
    for page, result in results.items():
        got = scores(result)
        print(f"{page:<12}" + "".join(f"{got[name]:>16}" for name in CATEGORIES))
        if any(got[name] < goal for name, goal in GOAL.items()):
            short = True
            print("\n".join(shortfalls(result)))
    for page, result in results.items():
        print(
            f"  {page}: {result['finalDisplayedUrl']} "
            f"(CPU benchmark index {result['environment']['benchmarkIndex']:.0f})"
        )
    # e.g. a machine busy with other work: its slow CPU shows up as Total Blocking Time
    for warning in sorted({w for result in results.values() for w in result["runWarnings"]}):
        print(f"  Lighthouse warns: {warning}")
    print("goal met" if not short else "short of the goal (performance >= 98, accessibility 100)")
    return 1 if short else 0


if __name__ == "__main__":
    sys.exit(main())
