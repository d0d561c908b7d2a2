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
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
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
    """Show a refused form again with the message next to its field (or at the top)."""
    field = getattr(form, refused.field, None) if refused.field else None
    if field is not None:
        field.errors = list(field.errors) + [refused.message]
    else:
        flash(refused.message, "error")
    return render_template(template, form=form, **context), refused.status


def invalid(template: str, form, **context):
    """A form that failed validation: shown again, nothing stored (422 rolls back)."""
    return render_template(template, form=form, **context), 422

