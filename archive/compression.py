"""Pages, stylesheets, JSON and XML go out compressed (gzip, or Brotli where the browser
takes it) when they are big enough to gain from it; pictures, zips and offline packs never
(they are compressed already). Flask-Compress does the work.

It runs after every other step of the answer, so the ETag is made from the page itself
(`archive.caching`) and Flask-Compress names the compressed copy apart (``"…:gzip"``) and
answers 304 to it. Only a whole answer (200) is compressed: a range of a file (206) or a
304 keeps its bytes as they are. A file sent in pieces (a stylesheet) is compressed piece
by piece, as it is read.
"""

from __future__ import annotations

from flask import Flask, Response

from archive.extensions import compress

TYPES = [
    "text/html",
    "text/css",
    "text/xml",
    "application/json",
    "application/xml",
    "application/atom+xml",
    "application/rss+xml",
    "application/feed+json",
    "application/json+oembed",
]


def init_app(app: Flask) -> None:
    """Bind Flask-Compress without its own hook: ours decides which answers it gets, and is
    registered before every other, so that Flask runs it last."""
    app.config.setdefault("COMPRESS_MIMETYPES", TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "gzip", "deflate"])
    app.config["COMPRESS_REGISTER"] = False
    compress.init_app(app)
    app.after_request(_compress)


def _compress(response: Response) -> Response:
    if response.mimetype not in compress.compress_mimetypes_set:
        return response
    if response.status_code != 200 or "Content-Range" in response.headers:
        response.vary.add("Accept-Encoding")
        return response
    source = response.response
    compressed = compress.after_request(response)
    if compressed.response is not source and hasattr(source, "close"):
        # a file sent in pieces is read through a new generator: the file itself must
        # still be closed when the answer is (Flask-Compress leaves it open)
        compressed.call_on_close(source.close)
    return compressed
