"""Friendly error pages in the reader's language; the 500 handler rolls back."""

from __future__ import annotations

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from archive.access import Unavailable
from archive.db import db

MESSAGES = {
    400: (_l("Something in that request was not right"), _l("Please go back and try again.")),
    403: (
        _l("This page is not open to you"),
        _l("If you think you should be able to see it, ask a facilitator of your circle."),
    ),
    404: (
        _l("We could not find that page"),
        _l("It may have moved, or the link may be incomplete."),
    ),
    405: (_l("That did not work"), _l("Please go back and try again.")),
    410: (_l("This is no longer here"), _l("The person who shared it has taken it back.")),
    413: (_l("That file is too large"), _l("Please choose a smaller file.")),
    429: (
        _l("Please wait a little"),
        _l("There were too many tries in a short time. Try again in a few minutes."),
    ),
    500: (
        _l("Something went wrong on our side"),
        _l("Nothing you entered was half-saved. Please try again in a moment."),
    ),
}


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Unavailable, _unavailable)
    app.register_error_handler(Exception, _server_error)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def render_error(status: int, title=None, detail=None):
    default_title, default_detail = MESSAGES.get(status, MESSAGES[400])
    title, detail = title or default_title, detail or default_detail
    if _wants_json():
        return jsonify(error=str(title), message=str(detail), status=status), status
    return render_template("errors/error.html", status=status, title=title, detail=detail), status


def _csrf_error(error: CSRFError):
    db.session.rollback()
    return render_error(
        400,
        _l("This form has expired"),
        _l(
            "For your safety, forms work only for a while after they open. "
            "Please go back, reload the page and send it again."
        ),
    )


def _http_error(error: HTTPException):
    """Our page or JSON for the error, with the headers that belong to it (a 405's
    ``Allow``: the methods the address does answer)."""
    db.session.rollback()
    response = make_response(render_error(error.code or 500))
    for name, value in error.get_headers(request.environ):
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _unavailable(error: Unavailable):
    """An item looked up through ``access.item_for`` that this viewer cannot have."""
    db.session.rollback()
    return render_error(error.status)


def _server_error(error: Exception):
    db.session.rollback()
    from flask import current_app

    current_app.logger.exception("unhandled error on %s %s", request.method, request.endpoint)
    return render_error(500)
