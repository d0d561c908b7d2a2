"""Consent that the contributor holds: receipts, changes, review prompts and withdrawal."""
from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template,
                   request, url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from archive import access
from archive.db import db
from archive.extensions import limiter
from archive.models import Item
from archive.operations import Refused
from archive.operations import consent as ops
from archive.operations.consent import ConsentChoice
from archive.operations.withdraw import erase, item_for_code, withdraw_with_code
from archive.receipts import kantara_receipt
from archive.web import form_refused
from archive.web.consent_forms import (CodeConfirmForm, CodeForm, ConfirmForm, ConsentForm,
                                       WithdrawForm)

bp = Blueprint("consent", __name__)


def _item_for_consent(public_id: str) -> Item:
    from archive.web.items import visible_item
    item = visible_item(public_id)
    if not access.may_change_consent(current_user, item):
        abort(404)
    return item


def _code_limit() -> str:
    return current_app.config["CODE_RATE_LIMIT"]


@bp.get("/items/<public_id>/receipt")
@login_required
def receipt(public_id: str):
    item = _item_for_consent(public_id)
    return render_template("items/receipt.html", item=item, receipt=None)


@bp.get("/items/<public_id>/receipt.json")
@login_required
def receipt_json(public_id: str):
    item = _item_for_consent(public_id)
    return jsonify(kantara_receipt(item))


@bp.route("/items/<public_id>/consent", methods=["GET", "POST"])
@login_required
def change(public_id: str):
    item = _item_for_consent(public_id)
    form = ConsentForm(obj=_form_values(item) if request.method == "GET" else None)
    role = access.acting_role(current_user, item)
    context = {"item": item, "role": role}
    if not form.validate_on_submit():
        return render_template("consent/change.html", form=form, **context), \
            422 if form.errors else 200
    choice = ConsentChoice(audience=form.audience.data, attribution=form.attribution.data,
                           pseudonym=form.pseudonym.data or "",
                           collections=form.collections.data, embeds=form.embeds.data,
                           packs=form.packs.data, content_notes=form.content_notes.data or [],
                           review_by=form.review_by.data)
    try:
        ops.change(item, choice, current_user, role,
                   may_widen=access.may_widen_consent(current_user, item),
                   reason=form.reason.data if role == "facilitator" else None)
    except Refused as refused:
        return form_refused(form, refused, "consent/change.html", **context)
    flash(_("Your choices are saved. They apply everywhere from now on."), "info")
    return redirect(url_for("items.show", public_id=public_id))


def _form_values(item: Item):
    consent = item.consent

    class Values:
        audience, attribution = consent.audience, consent.attribution
        pseudonym, review_by = consent.pseudonym, consent.review_by
        collections, embeds, packs = (consent.allow_collections, consent.allow_embeds,
                                      consent.allow_packs)
        content_notes = consent.content_notes
    return Values


@bp.post("/items/<public_id>/consent/confirm")
@login_required
def confirm(public_id: str):
    item = _item_for_consent(public_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            ops.confirm(item, current_user, access.acting_role(current_user, item),
                        form.review_by.data)
        except Refused as refused:
            flash(refused.message, "error")
        else:
            flash(_("Thank you. It is shared again as you chose."), "info")
    return redirect(url_for("items.show", public_id=public_id))


@bp.route("/items/<public_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(public_id: str):
    item = _item_for_consent(public_id)
    role = access.acting_role(current_user, item)
    form = WithdrawForm()
    context = {"item": item, "role": role}
    if not form.validate_on_submit():
        return render_template("consent/withdraw.html", form=form, **context), \
            422 if form.errors else 200
    try:
        erase(item, current_user, role, form.reason.data if role == "facilitator" else None)
    except Refused as refused:
        return form_refused(form, refused, "consent/withdraw.html", **context)
    return render_template("consent/withdrawn.html")


@bp.route("/withdraw", methods=["GET", "POST"])
@limiter.limit(_code_limit, methods=["POST"])
def withdraw_by_code():
    """The door without an account. Step 1 checks the code and names the piece; step 2
    erases it. A wrong code learns only that it is wrong."""
    confirm_form = CodeConfirmForm(prefix="confirm")
    if confirm_form.submit.data and confirm_form.validate_on_submit():
        try:
            withdraw_with_code(confirm_form.code.data)
        except Refused:
            flash(_("That code does not match anything we hold. Please check it against "
                    "your receipt and try again."), "error")
            return redirect(url_for("consent.withdraw_by_code"))
        return render_template("consent/withdrawn.html")
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("consent/code.html", form=form), 422 if form.errors else 200
    item = item_for_code(form.code.data)
    if item is None:
        form.code.errors = [_("That code does not match anything we hold. Please check it "
                              "against your receipt and try again.")]
        return render_template("consent/code.html", form=form), 422
    confirm_form.code.data = form.code.data
    return render_template("consent/code_confirm.html", item=item, form=confirm_form)


@bp.get("/account/ledger")
@login_required
def my_ledger():
    from archive.models import ConsentEvent, Contributor
    mine = select(Contributor.id).where(Contributor.account_id == current_user.id)
    events = db.session.scalars(select(ConsentEvent)
                                .where(ConsentEvent.contributor_id.in_(mine))
                                .order_by(ConsentEvent.id.desc()).limit(500))
    return render_template("consent/ledger.html", events=list(events), circle=None)


@bp.get("/circles/<slug>/ledger")
@login_required
def circle_ledger(slug: str):
    from archive.models import Circle, ConsentEvent
    circle = db.session.scalar(select(Circle).where(Circle.slug == slug))
    if circle is None or not access.is_facilitator(current_user, circle):
        abort(404)
    events = db.session.scalars(select(ConsentEvent).where(ConsentEvent.circle_id == circle.id)
                                .order_by(ConsentEvent.id.desc()).limit(500))
    return render_template("consent/ledger.html", events=list(events), circle=circle)


@bp.get("/account/export")
@login_required
def export():
    """Everything I contributed, as a zip (see ``archive.export``)."""
    from archive.export import build_zip
    response = current_app.response_class(build_zip(current_user), mimetype="application/zip")
    response.headers["Content-Disposition"] = "attachment; filename=living-archive-mine.zip"
    return response
