"""The home page and the language switcher."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from archive import access
from archive.db import db
from archive.extensions import LANGUAGE_COOKIE, LOCALES
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


#: how long a browser keeps the language someone chose
LANGUAGE_DAYS = 365


@bp.get("/language/<locale>")
def language(locale: str):
    """The switcher's links, for someone not signed in (no JavaScript, no form, no session):
    they only set the language cookie, so a link from another site can do no harm."""
    response = redirect(safe_next(request.args.get("next"), url_for("pages.home")), 303)
    if locale in LOCALES:
        remember_language(response, locale)
    return response


@bp.post("/language")
def choose_language():
    """The switcher of someone signed in: their account's language (a form with its CSRF
    token, as it changes the account), and the cookie, so it stays after signing out."""
    chosen = request.form.get("locale")
    response = redirect(safe_next(request.form.get("next"), url_for("pages.home")), 303)
    if PlainForm().validate_on_submit() and chosen in LOCALES:
        remember_language(response, chosen)
        if current_user.is_authenticated:
            ops.update_profile(current_user, current_user.display_name or "", chosen)
    return response


def remember_language(response: Response, locale: str) -> None:
    """The language cookie: not the session, so choosing a language starts no session."""
    config = current_app.config
    response.set_cookie(
        LANGUAGE_COOKIE,
        locale,
        max_age=LANGUAGE_DAYS * 24 * 3600,
        path=config.get("SESSION_COOKIE_PATH") or config.get("APPLICATION_ROOT") or "/",
        secure=bool(config["SESSION_COOKIE_SECURE"]),
        httponly=True,
        samesite="Lax",
    )
