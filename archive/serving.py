"""Gunicorn's settings and hooks for the site: ``scripts/serve`` runs gunicorn with
``--config python:archive.serving``.

The access log (`AccessLog`) keeps the method, the route, the status and the time, and
nothing a person gave: invite, password-link and share-link tokens, tags (words people
wrote, which would outlive an erasure in the log), the item a withdrawal or receipt page is
about, any part of a path that is not a plain name or id, and every query string (searches)
are left out. So are addresses, user agents, referrers and headers.

A new worker is warmed before it takes its first request (`post_worker_init`). Cold, a
worker compiles each page's templates, reads each language's translations, opens the
search index and builds its query parser the first time a request needs them: its first
requests took 50–130 ms more each, and on a restart under load those were the slowest
answers of the minute. Warming does the same work once, up front (one to two seconds
per worker on two busy cores).

Gunicorn names itself in a ``Server`` header on every answer and has no setting to stop it;
`hide_server_software` takes the line out of its HTTP/1 responses in each worker (`post_fork`),
so the site does not tell every visitor which software, to look up its weaknesses, it runs.
"""

from __future__ import annotations

import logging
import re
import time

from flask import Flask
from gunicorn.glogging import Logger
from gunicorn.http import wsgi

log = logging.getLogger(__name__)

#: gunicorn settings read from this module
logger_class = "archive.serving.AccessLog"
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(L)ss'

HIDDEN = "…"
#: a path part after one of these is a secret or someone's words
HIDDEN_AFTER = {"join", "reset", "shared", "tags"}
#: pages about taking a piece back (or its receipt, which holds the code): the item is hidden
WITHDRAWAL_PAGES = {"withdraw", "receipt", "receipt.json", "receipt.txt"}
PLAIN_PART = re.compile(r"[A-Za-z0-9._~-]{1,64}")
#: for free text (gunicorn's own error messages): a secret after these, and query strings
_SECRET_IN_TEXT = re.compile(r"/(join|reset|shared|tags)/[^\s/?\"']+")
_WITHDRAWAL_IN_TEXT = re.compile(r"/items/[^\s/?\"']+/(withdraw|receipt)")
_QUERY_IN_TEXT = re.compile(r"\?[^\s\"']*")


def safe_route(path: str) -> str:
    """The request's path with tokens, words and withdrawal targets replaced by "…"."""
    parts = (path or "/").partition("?")[0].split("/")
    shown = []
    for number, part in enumerate(parts):
        before = parts[number - 1] if number else ""
        after = parts[number + 1] if number + 1 < len(parts) else ""
        hidden = (
            before in HIDDEN_AFTER
            or (before == "items" and after in WITHDRAWAL_PAGES)
            or (part and not PLAIN_PART.fullmatch(part))
        )
        shown.append(HIDDEN if hidden else part)
    return "/".join(shown) or "/"


def scrub(text: str) -> str:
    """Free text with the same things left out as `safe_route` leaves out of a path."""
    text = _SECRET_IN_TEXT.sub(lambda m: f"/{m.group(1)}/{HIDDEN}", text)
    text = _WITHDRAWAL_IN_TEXT.sub(lambda m: f"/items/{HIDDEN}/{m.group(1)}", text)
    return _QUERY_IN_TEXT.sub("", text)


class AccessLog(Logger):
    """Gunicorn's logger with an access log that holds no secret and no one's words (see the
    module's docstring); its error messages about a request are scrubbed the same way."""

    #: the atoms a format may use; any other (``%(q)s``, ``%(h)s``, headers) logs "-"
    SAFE_ATOMS = ("m", "s", "t", "T", "D", "M", "L", "p", "H", "b", "B")

    def atoms(self, resp, req, environ, request_time):
        every = super().atoms(resp, req, environ, request_time)
        atoms = {name: value for name, value in every.items() if name in self.SAFE_ATOMS}
        atoms["U"] = safe_route(environ.get("PATH_INFO") or "")
        atoms["r"] = f"{atoms.get('m')} {atoms['U']} {atoms.get('H')}"
        return atoms

    def _log_scrubbed(self, level: int, msg, args, kwargs) -> None:
        try:
            text = str(msg) % args if args else str(msg)
        except (TypeError, ValueError):  # not a format after all: its arguments are left out
            text = str(msg)
        self.error_log.log(level, scrub(text), **kwargs)

    def error(self, msg, *args, **kwargs):
        self._log_scrubbed(logging.ERROR, msg, args, kwargs)

    def warning(self, msg, *args, **kwargs):
        self._log_scrubbed(logging.WARNING, msg, args, kwargs)

    def exception(self, msg, *args, **kwargs):
        kwargs.setdefault("exc_info", True)
        self._log_scrubbed(logging.ERROR, msg, args, kwargs)


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
        except Exception:  # the page itself will say what is wrong
            log.exception("template %s did not compile", name)
    client = app.test_client()
    for locale in LOCALES:
        for path in WARM_PAGES:
            try:
                client.get(path, headers={"Accept-Language": locale})
            except Exception:  # logged; the worker still serves
                log.exception("warming %s failed", path)
    return time.monotonic() - started


def hide_server_software() -> None:
    """Gunicorn's responses leave out its ``Server:`` line (once per process)."""
    default_headers = wsgi.Response.default_headers
    if getattr(default_headers, "hides_server", False):
        return

    def without_server(response: wsgi.Response) -> list[str]:
        return [
            line for line in default_headers(response) if not line.lower().startswith("server:")
        ]

    without_server.hides_server = True  # type: ignore[attr-defined]
    wsgi.Response.default_headers = without_server  # type: ignore[method-assign,assignment]


def post_fork(server, worker) -> None:
    hide_server_software()


def post_worker_init(worker) -> None:
    app = worker.wsgi
    if isinstance(app, Flask):
        seconds = warm_up(app)
        worker.log.info("worker %s warmed in %.2f s", worker.pid, seconds)
