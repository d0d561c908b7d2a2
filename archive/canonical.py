"""One canonical address: with ``ARCHIVE_BASE_URL`` set (``https://archive.example.org``, or
with a path, ``https://example.org/archive``), every absolute link the site makes — feeds,
the sitemap, robots.txt, oEmbed, Open Graph tags, receipts, invite and share links — starts
with it, and a request naming any other host is refused (400) before a page is made.

Without it, links follow the request's own address, as a site on 127.0.0.1 needs. With it, a
forged ``Host`` header can no longer put another site's address into a feed, a sitemap or an
invite link that people trust and pass on.

Flask builds links from ``SERVER_NAME``, ``PREFERRED_URL_SCHEME`` and ``APPLICATION_ROOT``
outside a request (the command line), and from the request's WSGI environment inside one;
`CanonicalAddress` checks the host and then sets that environment to the base URL, so both
agree. It sits inside ``ProxyFix``, so behind a proxy it checks the forwarded host.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Optional
from urllib.parse import SplitResult, urlsplit

from flask import Flask, abort, request

#: a load balancer's or monitor's health check may name the machine rather than the site
UNCHECKED_PATHS = {"/healthz"}
DEFAULT_PORTS = {"http": "80", "https": "443"}
FOREIGN = "archive.foreign_host"


def parse(url: str) -> SplitResult:
    """The base URL, checked: http(s), a host, perhaps a port and a path, nothing else."""
    parts = urlsplit(url.strip())
    if (
        parts.scheme not in DEFAULT_PORTS
        or not parts.hostname
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
    ):
        raise ValueError(
            f"ARCHIVE_BASE_URL must look like https://archive.example.org or "
            f"https://example.org/archive, not {url!r}"
        )
    netloc = parts.netloc.lower()
    if netloc.endswith(":" + DEFAULT_PORTS[parts.scheme]):
        netloc = netloc.rsplit(":", 1)[0]
    return parts._replace(netloc=netloc, path=parts.path.rstrip("/"))


def init_app(app: Flask) -> None:
    """Use ``BASE_URL`` for every link and refuse other hosts; nothing when it is unset."""
    if not app.config.get("BASE_URL"):
        return
    base = parse(str(app.config["BASE_URL"]))
    app.config.update(
        SERVER_NAME=base.netloc, PREFERRED_URL_SCHEME=base.scheme, APPLICATION_ROOT=base.path or "/"
    )
    app.wsgi_app = CanonicalAddress(app.wsgi_app, base)  # type: ignore[method-assign]  # Flask's way
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_foreign_host)


def _refuse_foreign_host() -> None:
    if request.environ.get(FOREIGN):
        abort(400)


class CanonicalAddress:
    """WSGI middleware: note a request for another host (the app answers it 400, in its own
    error page), then answer every request as made to the base URL: its scheme, host and
    path prefix (taken off the path when the proxy passed it on)."""

    def __init__(self, app: Callable, base: SplitResult) -> None:
        self.app, self.base = app, base
        self.hosts = {base.netloc}
        if base.port is None:
            self.hosts.add(f"{base.netloc}:{DEFAULT_PORTS[base.scheme]}")

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or ""
        prefix = self.base.path
        if prefix and environ.get("SCRIPT_NAME", "") != prefix:
            if path == prefix or path.startswith(prefix + "/"):
                path = path[len(prefix) :]
            environ["SCRIPT_NAME"], environ["PATH_INFO"] = prefix, path
        if self._host(environ) not in self.hosts and path not in UNCHECKED_PATHS:
            environ[FOREIGN] = True
        environ["HTTP_HOST"] = self.base.netloc
        environ["SERVER_NAME"] = self.base.hostname
        environ["SERVER_PORT"] = str(self.base.port or DEFAULT_PORTS[self.base.scheme])
        environ["wsgi.url_scheme"] = self.base.scheme
        return self.app(environ, start_response)

    @staticmethod
    def _host(environ: dict) -> Optional[str]:
        host = environ.get("HTTP_HOST")
        return host.strip().lower() if host else None
