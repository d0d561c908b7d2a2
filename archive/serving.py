"""Gunicorn's hooks for the site: ``scripts/serve`` runs gunicorn with
``--config python:archive.serving``.

A new worker is warmed before it takes its first request (`post_worker_init`). Cold, a
worker compiles each page's templates, reads each language's translations, opens the
search index and builds its query parser the first time a request needs them: its first
requests took 50–130 ms more each, and on a restart under load those were the slowest
answers of the minute. Warming does the same work once, up front (one to two seconds
per worker on two busy cores).
"""
from __future__ import annotations

import logging
import time

from flask import Flask

log = logging.getLogger(__name__)

#: pages every language asks for first; answered through the app's own test client, so the
#: statements, translations and templates they use are ready (read-only, anonymous)
WARM_PAGES = ("/", "/search?q=warm", "/sign-in", "/withdraw")


def warm_up(app: Flask) -> float:
    """Compile every template, then ask for `WARM_PAGES` in every language. Returns the
    seconds it took. Never fails: a page that cannot be answered now is just left cold."""
    from archive.extensions import LOCALES

    started = time.monotonic()
    env = app.jinja_env
    for name in env.list_templates(extensions=("html", "xml", "txt")):
        try:
            env.get_template(name)
        except Exception:  # noqa: BLE001 — the page itself will say what is wrong
            log.exception("template %s did not compile", name)
    client = app.test_client()
    for locale in LOCALES:
        for path in WARM_PAGES:
            try:
                client.get(path, headers={"Accept-Language": locale})
            except Exception:  # noqa: BLE001 — logged; the worker still serves
                log.exception("warming %s failed", path)
    return time.monotonic() - started


def post_worker_init(worker) -> None:
    app = worker.wsgi
    if isinstance(app, Flask):
        seconds = warm_up(app)
        worker.log.info("worker %s warmed in %.2f s", worker.pid, seconds)
