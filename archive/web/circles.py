"""Circle pages, their members, the invites facilitators hand out, and the links they make
for a member to choose a new password."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from archive import access
from archive.db import db, utcnow
from archive.models import Account, Circle, CircleEvent, Invite, Membership
from archive.numbers import db_int, page_number
from archive.operations import Refused
from archive.operations import accounts as account_ops
from archive.operations import circles as ops
from archive.web import once
from archive.web.forms import InviteForm, PlainForm
from archive.web.items import circle_items

bp = Blueprint("circles", __name__, url_prefix="/circles")


def _circle(slug: str) -> Circle:
    """The circle, if the viewer may see it; otherwise 404, so nothing is revealed."""
    circle = db.session.scalar(select(Circle).where(Circle.slug == slug))
    if circle is None or not access.may_view_circle(current_user, circle):
        abort(404)
    return circle


def _managed_circle(slug: str) -> Circle:
    circle = _circle(slug)
    if not access.may_manage_circle(current_user, circle):
        abort(403)
    return circle


@bp.get("/")
@login_required
def index():
    return render_template("circles/index.html", circles=access.circles_of(current_user))


@bp.get("/<slug>")
@login_required
def show(slug: str):
    circle = _circle(slug)
    page = page_number()
    items, more = circle_items(circle, page)
    return render_template(
        "circles/show.html",
        circle=circle,
        items=items,
        page=page,
        more=more,
        is_member=access.is_member(current_user, circle),
        is_facilitator=access.is_facilitator(current_user, circle),
        may_manage=access.may_manage_circle(current_user, circle),
        events=_recent_events(circle),
    )


#: how many changes of who runs a circle its page lists
SHOWN_EVENTS = 20


def _recent_events(circle: Circle) -> list[CircleEvent]:
    """The newest changes to who facilitates the circle, for those who may see them."""
    if not access.may_view_circle_events(current_user, circle):
        return []
    return list(
        db.session.scalars(
            select(CircleEvent)
            .where(
                CircleEvent.circle_id == circle.id, access.password_help_shown(current_user, circle)
            )
            .order_by(CircleEvent.id.desc())
            .limit(SHOWN_EVENTS)
            .options(selectinload(CircleEvent.subject), selectinload(CircleEvent.actor))
        )
    )


@bp.get("/<slug>/members")
@login_required
def members(slug: str):
    circle = _managed_circle(slug)
    return render_template("circles/members.html", **_members_context(circle))


@bp.post("/<slug>/invites")
@login_required
def create_invite(slug: str):
    circle = _managed_circle(slug)
    form = InviteForm()
    if not form.validate_on_submit():
        return render_template("circles/members.html", **_members_context(circle, form)), 422
    try:
        token = account_ops.create_invite(
            circle,
            current_user,
            form.days.data,
            form.role.data if current_user.is_admin else "participant",
        )
    except Refused as refused:
        flash(refused.message, "error")
        return redirect(url_for("circles.members", slug=slug))
    return once.show_once(
        url_for("circles.invite_created", slug=slug),
        {"link": url_for("auth.join", token=token, _external=True), "days": form.days.data},
    )


@bp.get("/<slug>/invites/new")
@login_required
def invite_created(slug: str):
    """The new invite link, to this session for 30 minutes."""
    circle = _managed_circle(slug)
    shown = once.shown(url_for("circles.invite_created", slug=slug))
    if shown is None:
        return redirect(url_for("circles.members", slug=slug))
    return render_template(
        "circles/invite_created.html", circle=circle, link=shown["link"], days=shown["days"]
    )


@bp.post("/<slug>/invites/<int:invite_id>/revoke")
@login_required
def revoke_invite(slug: str, invite_id: int):
    circle = _managed_circle(slug)
    invite = db.session.get(Invite, invite_id)
    if invite is None or invite.circle_id != circle.id:
        abort(404)
    if PlainForm().validate_on_submit():
        account_ops.revoke_invite(invite)
        flash(_("That invite link no longer works."), "info")
    return redirect(url_for("circles.members", slug=slug))


@bp.post("/<slug>/members/<int:account_id>/password-link")
@login_required
def make_password_link(slug: str, account_id: int):
    """A one-time link for a member of this circle to choose a new password, shown once."""
    circle = _managed_circle(slug)
    account = _member(circle, account_id)
    return make_password_link_for(account, url_for("circles.members", slug=slug))


@bp.get("/<slug>/members/<int:account_id>/password-link")
@login_required
def password_link(slug: str, account_id: int):
    circle = _managed_circle(slug)
    return password_link_page(
        _member(circle, account_id),
        url_for("circles.members", slug=slug),
        _("Members of %(circle)s", circle=circle.name),
    )


def make_password_link_for(account: Account, back: str):
    """Make the link (the operation decides whether this person may) and show it once at
    this same address (admin pages too); a form that is not this site's goes ``back``."""
    if not PlainForm().validate_on_submit():
        return redirect(back)
    try:
        token = account_ops.create_password_reset(current_user, account)
    except Refused as refused:
        abort(refused.status)
    return once.show_once(
        request.path, {"link": url_for("auth.reset_password", token=token, _external=True)}
    )


def password_link_page(account: Account, back: str, back_label: str):
    """The page that shows a new password link, made by the POST to this same address, to
    this session for 30 minutes, to send or copy (admin pages too)."""
    from flask import current_app

    shown = once.shown(request.path)
    if shown is None:
        return redirect(back)
    return render_template(
        "circles/password_link.html",
        account=account,
        back=back,
        back_label=back_label,
        link=shown["link"],
        hours=current_app.config["PASSWORD_RESET_HOURS"],
    )


def _member(circle: Circle, account_id: int) -> Account:
    """A member of this circle, or 404."""
    found = db.session.scalar(
        select(Account)
        .join(Membership)
        .where(Membership.circle_id == circle.id, Account.id == db_int(account_id))
    )
    return found or abort(404)


@bp.post("/<slug>/members/<int:account_id>/remove")
@login_required
def remove_member(slug: str, account_id: int):
    circle = _managed_circle(slug)
    account = db.session.get(Account, account_id)
    if account is None:
        abort(404)
    if account.id == current_user.id:
        flash(_("You cannot remove yourself here. Ask an admin."), "error")
        return redirect(url_for("circles.members", slug=slug))
    if access.is_facilitator(account, circle) and not current_user.is_admin:
        flash(_("Only an admin can remove a facilitator."), "error")
        return redirect(url_for("circles.members", slug=slug))
    if PlainForm().validate_on_submit():
        try:
            ops.remove_member(circle, account, by=current_user)
        except Refused as refused:
            flash(refused.message, "error")
        else:
            flash(_("%(name)s is no longer in this circle.", name=account.shown_name), "info")
    return redirect(url_for("circles.members", slug=slug))


def _members_context(circle: Circle, form: InviteForm | None = None) -> dict:
    memberships = list(
        db.session.scalars(
            select(Membership)
            .join(Account)
            .where(Membership.circle_id == circle.id)
            .order_by(Membership.role.desc(), Account.username_key)
        )
    )
    invites = db.session.scalars(
        select(Invite)
        .where(
            Invite.circle_id == circle.id,
            Invite.used_at.is_(None),
            Invite.revoked_at.is_(None),
            Invite.expires_at > utcnow(),
        )
        .order_by(Invite.created_at.desc())
    )
    return {
        "circle": circle,
        "memberships": memberships,
        "invites": list(invites),
        "form": form or InviteForm(formdata=None),
        "plain": PlainForm(),
        "is_admin": current_user.is_admin,
        "may_help": {
            m.account_id
            for m in memberships
            if access.may_help_with_password(current_user, m.account)
        },
    }
