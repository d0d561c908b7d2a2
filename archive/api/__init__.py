"""JSON API v1: bearer-token authentication, JSON errors, the same operations and access rule
as the web pages."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, g, jsonify, request
from flask_login import AnonymousUserMixin

from archive.access import Unavailable
from archive.extensions import csrf
from archive.operations import Refused
from archive.operations.accounts import account_for_token

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookies here: a bearer token is the only credential


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        field: str | None = None,
        problems: list[dict] | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field
        self.problems = problems


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    body: dict = {"error": error.message, "status": error.status}
    if error.field:
        body["field"] = error.field
    if error.problems:
        body["problems"] = error.problems
    return jsonify(body), error.status


@bp.errorhandler(Refused)
def _refused(refused: Refused):
    """Every problem the operation found, so a client fixes them all in one go. The request
    matched the document (`archive.api.contract` checked it), so what an operation refuses
    for what it says is a rule of the archive as things stand: 409, not 422."""
    problems = [
        {"error": str(message), **({"field": field} if field else {})}
        for field, message in refused.problems
    ]
    status = 409 if refused.status == 422 else refused.status
    return _api_error(ApiError(status, str(refused.message), refused.field, problems))


@bp.errorhandler(Unavailable)
def _unavailable(error: Unavailable):
    if error.status == 410:
        return _api_error(ApiError(410, "This item was withdrawn by its author."))
    return _api_error(ApiError(404, "No such item."))


@bp.before_request
def _authenticate() -> None:
    """The viewer is the token's account, or an anonymous reader. Cookies are ignored."""
    g.api_viewer = AnonymousUserMixin()
    header = request.headers.get("Authorization", "")
    if not header:
        return
    scheme, _sep, secret = header.partition(" ")
    account = account_for_token(secret.strip()) if scheme.lower() == "bearer" else None
    if account is None:
        raise ApiError(401, "The API token is missing, wrong or revoked.")
    g.api_viewer = account


def request_body(schema: str, required: bool = True) -> dict:
    """The JSON body, checked against the document's schema ``schema``; ``{}`` for an
    optional body not sent."""
    from archive.api.contract import checked
    from archive.api.openapi import SCHEMAS

    data = request.get_json(silent=True)
    if data is None and not required and not request.get_data():
        return {}
    if not isinstance(data, dict):
        raise ApiError(400, "Send a JSON object (Content-Type: application/json).")
    return checked(data, SCHEMAS[schema], SCHEMAS)


def viewer():
    return g.api_viewer


def token_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not viewer().is_authenticated:
            raise ApiError(401, "This needs an API token: Authorization: Bearer <token>.")
        return view(*args, **kwargs)

    return wrapped


from archive.api import collections, items, openapi, search, tags  # noqa: E402,F401  (routes register on bp)
