"""Response headers every page carries, and the one place a request's work is committed."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_login import current_user

from archive import assets, caching
from archive.db import commit, rollback
from archive.operations import REFUSED

CSP = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

#: embed cards are made to sit in other sites' pages; nothing else may be framed
FRAMEABLE_ENDPOINTS = {"public.embed_item"}
EMBED_CSP = CSP.replace("frame-ancestors 'none'", "frame-ancestors *")

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def init_app(app: Flask) -> None:
    caching.init_app(app)
    app.after_request(_finish_unit_of_work)
    app.after_request(_security_headers)
    assets.init_app(app)


def _finish_unit_of_work(response: Response) -> Response:
    """Commit what a successful request did; anything refused or failed leaves no trace —
    also when the view caught the refusal and answered with a redirect."""
    if response.status_code < 400 and not request.environ.get(REFUSED):
        commit()
    else:
        rollback()
    return response


def _security_headers(response: Response) -> Response:
    frameable = request.endpoint in FRAMEABLE_ENDPOINTS
    response.headers.setdefault("Content-Security-Policy", EMBED_CSP if frameable else CSP)
    for name, value in HEADERS.items():
        if not (frameable and name == "X-Frame-Options"):
            response.headers.setdefault(name, value)
    if "Authorization" in request.headers:
        # a bearer's answer (a private piece, a new piece's withdrawal code) is for them alone,
        # whatever the view chose: no cache on the way or on their machine keeps it
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("Expires", None)
        return response
    if request.endpoint == "static":
        # the same for everyone, signed in or not: no Vary on the cookie
        response.headers["Cache-Control"] = assets.cache_control(request)
        response.headers.pop("Expires", None)
        caching.same_for_everyone()
        return response
    if current_user.is_authenticated or request.endpoint in PRIVATE_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("Expires", None)
        response.vary.add("Cookie")
    else:
        caching.set_anonymous(response)
    return response


#: pages that hold a secret (an invite token or a password link's, a form with a CSRF token,
#: a withdrawal code and the title it belongs to) even when signed out
PRIVATE_ENDPOINTS = {"auth.sign_in", "auth.join", "auth.reset_password", "consent.withdraw_by_code"}
