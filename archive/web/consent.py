"""Consent that the contributor holds: receipts, changes, review prompts and withdrawal."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
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
from archive.web import form_refused, ledger, once
from archive.web.consent_forms import (
    AgreeForm,
    CodeConfirmForm,
    CodeForm,
    ConfirmForm,
    ConsentForm,
    DeclineForm,
    WithdrawForm,
    form_values,
)
from archive.web.forms import PlainForm

bp = Blueprint("consent", __name__)


def _item_for_consent(public_id: str) -> Item:
    item = access.item_for(current_user, public_id)
    if not access.may_change_consent(current_user, item):
        abort(404)
    return item


def _code_limit() -> str:
    return current_app.config["CODE_RATE_LIMIT"]


@bp.get("/items/<public_id>/receipt")
@login_required
def receipt(public_id: str):
    """The receipt; for 30 minutes after sharing, to the session that shared, with its
    withdrawal code (`once`): Back, reload and a look at the piece never lose it."""
    item = _item_for_consent(public_id)
    return render_template("items/receipt.html", item=item, code=_code_shown(item))


@bp.get("/items/<public_id>/receipt.txt")
@login_required
def receipt_text(public_id: str):
    """The receipt with its code as a small text file in the person's language, to keep on
    the phone; only while the receipt page shows the code."""
    item = _item_for_consent(public_id)
    code = _code_shown(item)
    if code is None:
        return redirect(url_for("consent.receipt", public_id=public_id), 303)
    assert item.consent is not None  # a piece whose consent may change has one
    response = current_app.response_class(_receipt_file(item, code), mimetype="text/plain")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="receipt-{item.consent.receipt_id[:8]}.txt"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/items/<public_id>/receipt/kept")
@login_required
def code_kept(public_id: str):
    """ "I have kept my code": the session and the database let go of it at once."""
    item = _item_for_consent(public_id)
    if PlainForm().validate_on_submit():
        once.forget(_receipt_path(item))
        flash(_("Thank you. The code is no longer shown here."), "info")
    return redirect(url_for("consent.receipt", public_id=public_id), 303)


def _receipt_file(item: Item, code: str) -> str:
    withdraw = url_for("consent.withdraw_by_code", _external=True)
    assert item.current is not None and item.consent is not None  # not taken back
    return "\n".join(
        [
            f"{_('Living Archive')} — {_('Consent receipt')}",
            "",
            f"{_('Piece')}: {item.current.title}",
            f"{_('Receipt number')}: {item.consent.receipt_id}",
            f"{_('Your withdrawal code')}: {code}",
            "",
            _(
                "With this code anyone can take this piece back at any time, without an account: "
                "open %(url)s and type the code.",
                url=withdraw,
            ),
            "",
        ]
    )


def _receipt_path(item: Item) -> str:
    return url_for("consent.receipt", public_id=item.public_id)


def _code_shown(item: Item):
    return (once.shown(_receipt_path(item)) or {}).get("code")


@bp.get("/items/<public_id>/receipt.json")
@login_required
def receipt_json(public_id: str):
    item = _item_for_consent(public_id)
    return jsonify(kantara_receipt(item))


@bp.route("/items/<public_id>/consent", methods=["GET", "POST"])
@login_required
def change(public_id: str):
    item = _item_for_consent(public_id)
    form = ConsentForm(obj=form_values(item.consent) if request.method == "GET" else None)
    context = {"item": item, "role": access.consent_role(current_user, item)}
    if not form.validate_on_submit():
        return render_template(
            "consent/change.html", form=form, **context
        ), 422 if form.errors else 200
    try:
        ops.change(item, _choice(form), current_user, reason=form.reason.data)
    except Refused as refused:
        return form_refused(form, refused, "consent/change.html", **context)
    flash(_("Your choices are saved. They apply everywhere from now on."), "info")
    return redirect(url_for("items.show", public_id=public_id))


def _choice(form: ConsentForm) -> ConsentChoice:
    return ConsentChoice(
        audience=form.audience.data,
        attribution=form.attribution.data,
        pseudonym=form.pseudonym.data or "",
        collections=form.collections.data,
        embeds=form.embeds.data,
        packs=form.packs.data,
        content_notes=form.content_notes.data or [],
        review_by=form.review_by.data,
    )


@bp.post("/items/<public_id>/consent/confirm")
@login_required
def confirm(public_id: str):
    item = _item_for_consent(public_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            ops.confirm(item, current_user, form.review_by.data)
        except Refused as refused:
            flash(refused.message, "error")
        else:
            flash(_("Thank you. It is shared again as you chose."), "info")
    return redirect(url_for("items.show", public_id=public_id))


@bp.post("/items/<public_id>/agree")
@login_required
def agree(public_id: str):
    """A member agrees to a piece recorded for them: it is shared, and the receipt is theirs
    (a redirect to it; the same form sent again leads there too)."""
    form = AgreeForm()
    token = once.token_of(form)
    sent_before = once.earlier(token) if token else None
    if sent_before is not None:
        return sent_before
    item = access.item_for(current_user, public_id, proposals=True)
    if token is None:
        return once.too_old(form, "items/proposal.html", item=item, rev=item.current)
    if not form.validate_on_submit():
        return render_template("items/proposal.html", item=item, rev=item.current, form=form), 422
    sent_before = once.claim(token)
    if sent_before is not None:
        return sent_before
    try:
        receipt = ops.agree(item, current_user, _choice(form))
    except Refused as refused:
        return form_refused(form, refused, "items/proposal.html", item=item, rev=item.current)
    return once.done(token, _receipt_path(item), shown={"code": receipt.withdrawal_code})


@bp.post("/items/<public_id>/decline")
@login_required
def decline(public_id: str):
    """A member declines a piece recorded for them: it is erased like a withdrawal."""
    item = access.item_for(current_user, public_id, proposals=True)
    if not DeclineForm().validate_on_submit():
        abort(400)
    erase(item, current_user)
    return redirect(url_for("consent.withdrawn"), 303)


@bp.route("/items/<public_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(public_id: str):
    item = _item_for_consent(public_id)
    form = WithdrawForm()
    context = {"item": item, "role": access.consent_role(current_user, item)}
    if not form.validate_on_submit():
        return render_template(
            "consent/withdraw.html", form=form, **context
        ), 422 if form.errors else 200
    try:
        erase(item, current_user, form.reason.data)
    except Refused as refused:
        return form_refused(form, refused, "consent/withdraw.html", **context)
    return redirect(url_for("consent.withdrawn"), 303)


@bp.get("/withdrawn")
def withdrawn():
    """Where every taking back leads (a page of its own, so Back never erases twice)."""
    return render_template("consent/withdrawn.html")


@bp.route("/withdraw", methods=["GET", "POST"])
@limiter.limit(_code_limit, methods=["POST"])
def withdraw_by_code():
    """The door without an account. Step 1 checks the code and names the piece; step 2
    erases it. A wrong code learns only that it is wrong."""
    confirm_form = CodeConfirmForm(prefix="confirm")
    if confirm_form.submit.data and confirm_form.validate_on_submit():
        try:
            withdraw_with_code(confirm_form.code.data or "")
        except Refused:
            flash(
                _(
                    "That code does not match anything we hold. Please check it against "
                    "your receipt and try again."
                ),
                "error",
            )
            return redirect(url_for("consent.withdraw_by_code"))
        return redirect(url_for("consent.withdrawn"), 303)
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("consent/code.html", form=form), 422 if form.errors else 200
    item = item_for_code(form.code.data or "")
    if item is None:
        form.code.errors = [
            _(
                "That code does not match anything we hold. Please check it "
                "against your receipt and try again."
            )
        ]
        return render_template("consent/code.html", form=form), 422
    confirm_form.code.data = form.code.data
    return render_template("consent/code_confirm.html", item=item, form=confirm_form)


@bp.get("/account/ledger")
@login_required
def my_ledger():
    """Every consent entry of my pieces; changes someone else made first."""
    found = ledger.lines(ledger.own_events(current_user), current_user, own=True)
    return render_template(
        "consent/ledger.html",
        lines=found,
        circle=None,
        by_others=[line for line in found if line.by_someone_else],
    )


@bp.get("/circles/<slug>/ledger")
@login_required
def circle_ledger(slug: str):
    from archive.models import Circle

    circle = db.session.scalar(select(Circle).where(Circle.slug == slug))
    if circle is None or not access.is_facilitator(current_user, circle):
        abort(404)
    from archive.web.tags import tag_changes

    found = ledger.lines(ledger.circle_events(circle), current_user, own=False)
    return render_template(
        "consent/ledger.html", lines=found, circle=circle, by_others=[], changes=tag_changes(circle)
    )


@bp.get("/account/export")
@login_required
def export():
    """Everything I contributed, as a zip (see ``archive.export``)."""
    from archive.export import build_zip

    response = current_app.response_class(build_zip(current_user), mimetype="application/zip")
    response.headers["Content-Disposition"] = "attachment; filename=living-archive-mine.zip"
    return response
