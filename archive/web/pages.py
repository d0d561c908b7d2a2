"""The home page and the language switcher."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user

from archive import access
from archive.db import db
from archive.extensions import LOCALES
from archive.models import Item
from archive.operations import accounts as ops
from archive.web import safe_next
from archive.web.forms import PlainForm

bp = Blueprint("pages", __name__)
RECENT = 12


@bp.get("/")
def home():
    recent = db.session.scalars(
        access.select_visible(current_user, listed=True)
        .order_by(Item.updated_at.desc())
        .limit(RECENT)
    )
    return render_template(
        "pages/home.html",
        circles=access.circles_of(current_user),
        recent=list(recent),
        proposals=access.proposals_for(current_user),
        member=bool(access.roles(current_user)),
    )


@bp.post("/language")
def choose_language():
    """The switcher: kept in the session, and on the account for someone signed in."""
    chosen = request.form.get("locale")
    if PlainForm().validate_on_submit() and chosen in LOCALES:
        session["locale"] = chosen
        if current_user.is_authenticated:
            ops.update_profile(current_user, current_user.display_name or "", chosen)
    return redirect(safe_next(request.form.get("next"), url_for("pages.home")), 303)
