"""Administration: circles, who facilitates them, account roles, and links for anyone to
choose a new password."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from archive import access
from archive.db import db
from archive.models import Account, Circle, Membership
from archive.numbers import db_int
from archive.operations import Refused
from archive.operations import accounts as account_ops
from archive.operations import circles as ops
from archive.text import key
from archive.web import admin_required, form_refused, invalid
from archive.web.forms import CircleForm, MemberForm, RoleForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@admin_required
def index():
    return render_template("admin/index.html", form=CircleForm(formdata=None), **_index_context())


@bp.post("/circles")
@admin_required
def create_circle():
    form = CircleForm()
    if not form.validate_on_submit():
        return invalid("admin/index.html", form, **_index_context())
    try:
        circle = ops.create_circle(
            form.slug.data or "",
            form.name.data or "",
            form.description.data or "",
            " ".join(form.languages.data or []),
        )
    except Refused as refused:
        return form_refused(form, refused, "admin/index.html", **_index_context())
    flash(_("The circle %(name)s is ready.", name=circle.name), "info")
    return redirect(url_for("admin.circle", slug=circle.slug))


@bp.route("/circles/<slug>", methods=["GET", "POST"])
@admin_required
def circle(slug: str):
    found = db.session.scalar(select(Circle).where(Circle.slug == slug)) or abort(404)
    form = MemberForm()
    if form.validate_on_submit():
        account = db.session.scalar(
            select(Account).where(Account.username_key == key(form.username.data))
        )
        if account is None:
            form.username.errors = [_("There is no account with that username.")]
            return invalid("admin/circle.html", form, circle=found)
        try:
            ops.add_member(found, account, form.role.data, by=current_user)
        except Refused as refused:
            return form_refused(form, refused, "admin/circle.html", circle=found)
        flash(_("%(name)s is now in this circle.", name=account.shown_name), "info")
        return redirect(url_for("admin.circle", slug=slug))
    return render_template(
        "admin/circle.html", form=form, circle=found
    ), 422 if form.errors else 200


@bp.get("/accounts")
@admin_required
def accounts():
    everyone = list(db.session.scalars(select(Account).order_by(Account.username_key)))
    return render_template(
        "admin/accounts.html",
        accounts=everyone,
        form=RoleForm(formdata=None),
        may_help={
            account.id
            for account in everyone
            if access.may_help_with_password(current_user, account)
        },
    )


@bp.post("/accounts/<int:account_id>/password-link")
@admin_required
def make_password_link(account_id: int):
    """A one-time link for anyone (but oneself) to choose a new password, shown once."""
    from archive.web.circles import make_password_link_for

    account = db.session.get(Account, db_int(account_id) or 0) or abort(404)
    return make_password_link_for(account, url_for("admin.accounts"))


@bp.get("/accounts/<int:account_id>/password-link")
@admin_required
def password_link(account_id: int):
    from archive.web.circles import password_link_page

    account = db.session.get(Account, db_int(account_id) or 0) or abort(404)
    return password_link_page(account, url_for("admin.accounts"), _("Accounts and roles"))


@bp.post("/accounts/<int:account_id>/role")
@admin_required
def set_role(account_id: int):
    account = db.session.get(Account, account_id) or abort(404)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            account_ops.set_role(account, form.role.data, by=current_user)
        except Refused as refused:
            flash(refused.message, "error")
        else:
            flash(_("Saved."), "info")
    return redirect(url_for("admin.accounts"))


def _index_context() -> dict:
    counts = dict(
        db.session.execute(
            select(Membership.circle_id, func.count()).group_by(Membership.circle_id)
        ).all()
    )
    circles = list(db.session.scalars(select(Circle).order_by(Circle.name)))
    return {"circles": circles, "counts": counts}
