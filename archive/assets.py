"""Static files under addresses that carry a fingerprint of their content (``?v=…``).

A phone on a thin connection then keeps the stylesheet for a year and never asks for it
again, and a changed file is fetched at once because its address changed with it."""

from __future__ import annotations

import hashlib
import time
from functools import lru_cache
from pathlib import Path
from typing import Optional

from flask import Flask, Request, current_app

FOREVER = "public, max-age=31536000, immutable"


def init_app(app: Flask) -> None:
    app.url_defaults(_add_fingerprint)


def _add_fingerprint(endpoint: str, values: dict) -> None:
    if endpoint == "static" and "filename" in values and "v" not in values:
        version = fingerprint(values["filename"])
        if version:
            values["v"] = version


#: a file's fingerprint is trusted this long before the file is looked at again (every page
#: links two static files: resolving and looking at them was a millisecond of each page)
RECHECK_SECONDS = 1.0
#: fingerprints kept (addresses under /static/ come from anyone: the count is bounded)
KEPT = 256
_known: dict[tuple[str, str], tuple[float, Optional[str]]] = {}


def fingerprint(filename: str) -> Optional[str]:
    """The first 12 hex digits of the file's SHA-256, or None if there is no such file. A
    changed file gets its new fingerprint within `RECHECK_SECONDS`."""
    key = (str(current_app.static_folder), filename)
    now = time.monotonic()
    known = _known.get(key)
    if known is not None and now - known[0] < RECHECK_SECONDS:
        return known[1]
    version = _look_at(filename)
    if known is not None or len(_known) < KEPT:
        _known[key] = (now, version)
    return version


def _look_at(filename: str) -> Optional[str]:
    folder = Path(str(current_app.static_folder)).resolve()
    path = (folder / filename).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        return None
    return _digest(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=64)
def _digest(path: Path, _mtime_ns: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def cache_control(request: Request) -> str:
    """A year for the address of the file as it is now; otherwise ask again every time."""
    filename = (request.view_args or {}).get("filename", "")
    version = request.args.get("v")
    return FOREVER if version and version == fingerprint(filename) else "no-cache"
