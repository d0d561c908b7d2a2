"""Blueprints by feature. Views stay thin: parse the request, call an operation, render."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, flash, render_template
from flask_login import current_user

from archive import access
from archive.operations import Refused


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: never an open redirect."""
    if not target:
        return default
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return default
    return target


def admin_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            from archive.extensions import login_manager

            return login_manager.unauthorized()
        if not access.may_administer(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def form_refused(form, refused: Refused, template: str, **context):
    """Show a refused form again with every message next to its field (or at the top)."""
    mark_problems(form, refused.problems)
    return render_template(template, form=form, **context), refused.status


def mark_problems(form, problems) -> None:
    """Each (field, message) next to its field — unless the field is marked already, by the
    form's own checks — or, for no field of this form, at the top of the page."""
    for name, message in problems:
        field = getattr(form, name, None) if name else None
        if field is None:
            flash(message, "error")
        elif not field.errors:
            field.errors = [message]


def invalid(template: str, form, **context):
    """A form that failed validation: shown again, nothing stored (422 rolls back)."""
    return render_template(template, form=form, **context), 422
