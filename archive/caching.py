"""Who may keep an answer, and for how long.

A page anyone may read, asked for by someone who brought no cookie of ours (no session, no
language chosen), is the same for every such reader: it goes out with no cookie,
``Cache-Control: public`` and an ``ETag`` made from its bytes, and a matching
``If-None-Match`` gets 304. Browsers ask again every time (``max-age=0``: a language chosen
or a sign-in shows at once); a shared cache may answer from its copy for `SHARED_SECONDS`
(``s-maxage``) and then asks again. The page is made anew for every question, so a piece
withdrawn or narrowed since answers 410 or 404, never 304: nothing lingers longer than
`SHARED_SECONDS` in a shared cache, and not at all in one that asks again.

Anyone signed in, any page holding a secret, and a bearer's API answer get ``no-store``
(`archive.security`); an anonymous reader who carries our cookies gets ``private,
no-cache`` with an ETag, so their own browser may keep the page but no shared cache does.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request, session
from flask.sessions import SecureCookieSessionInterface

from archive.extensions import LANGUAGE_COOKIE

SHARED_SECONDS = 60
PUBLIC = f"public, max-age=0, s-maxage={SHARED_SECONDS}"
PRIVATE = "private, no-cache"
#: answers that keep their own rules: the health check is the machine's, the API's are its own
OWN_RULES = {"health", "api"}
#: marks a request whose answer is the same for everyone: "page" for a public page, "file" for
#: a static file (read by `CookieSession`)
SHARED = "archive.shared_answer"


def init_app(app: Flask) -> None:
    app.session_interface = CookieSession()


def same_for_everyone() -> None:
    """A static file: whoever asks, signed in or not, gets the same bytes."""
    request.environ[SHARED] = "file"


def carries_our_cookies() -> bool:
    names = (current_app.config["SESSION_COOKIE_NAME"], LANGUAGE_COOKIE)
    return any(name in request.cookies for name in names)


def set_anonymous(response: Response) -> None:
    """Caching for someone not signed in, on a page that holds no secret."""
    if (
        request.method not in ("GET", "HEAD")
        or response.status_code != 200
        or request.blueprint in OWN_RULES
    ):
        response.headers.setdefault("Cache-Control", "no-cache")
        response.vary.add("Cookie")
        return
    if "no-store" in response.headers.get("Cache-Control", ""):
        response.vary.add("Cookie")
        return
    shared = not carries_our_cookies() and not session
    response.headers.setdefault("Cache-Control", PUBLIC if shared else PRIVATE)
    if not (response.is_streamed or response.direct_passthrough):
        response.vary.add("Accept-Language")
        if "ETag" not in response.headers:
            response.add_etag()
    response.make_conditional(request)
    if shared:
        request.environ[SHARED] = "page"
    else:
        response.vary.add("Cookie")


class CookieSession(SecureCookieSessionInterface):
    """Flask's signed-cookie session, which marks every answer that looked at the session
    ``Vary: Cookie``. A public answer looked only to find it empty: the readers who bring a
    cookie get their own answer (a shared cache is told to pass them by, README), so it does
    not vary on it, and a cache keeps one copy for everyone instead of one per cookie."""

    def save_session(self, app, session, response) -> None:
        super().save_session(app, session, response)
        if not request.environ.get(SHARED):
            return
        if request.environ[SHARED] == "page" and (session or "Set-Cookie" in response.headers):
            # something wrote to the session after all: this answer is this reader's alone
            response.headers["Cache-Control"] = PRIVATE
            return
        kept = [name for name in response.vary if name.lower() != "cookie"]
        if kept:
            response.headers["Vary"] = ", ".join(kept)
        else:
            response.headers.pop("Vary", None)
