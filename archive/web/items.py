"""Contributing, reading and revising items: item pages, history, diffs, restore, media."""

from __future__ import annotations

from typing import Optional

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from archive import access, vocabulary
from archive.db import db
from archive.media.storage import MediaNotFound, Streamed, storage_from_config
from archive.models import Account, Circle, Contributor, Item, MediaAsset, Membership
from archive.numbers import db_int, page_number
from archive.operations import Problems, Refused
from archive.operations import items as ops
from archive.operations.consent import ConsentChoice
from archive.text import one_line, render_diff, summarise, word_diff
from archive.web import form_refused, mark_problems, once, photo_drafts
from archive.web.consent_forms import AgreeForm, form_values
from archive.web.forms import PlainForm, options
from archive.web.item_forms import ContributeForm, EditForm

bp = Blueprint("items", __name__)
PAGE_SIZE = 30


# --- looking things up through the access rule -------------------------------------------


def visible_item(public_id: str) -> Item:
    """The item if this viewer may see it: 410 if it was withdrawn, else 404."""
    return access.item_for(current_user, public_id)


def editable_item(public_id: str) -> Item:
    item = visible_item(public_id)
    if not access.may_edit_item(current_user, item):
        abort(403)
    return item


def member_circle(slug: str) -> Circle:
    circle = db.session.scalar(select(Circle).where(Circle.slug == slug))
    if circle is None or not access.is_member(current_user, circle):
        abort(404)
    return circle


# --- contributing ---------------------------------------------------------------------------


@bp.get("/contribute")
@login_required
def choose_circle():
    circles = [c for c in access.circles_of(current_user) if access.is_member(current_user, c)]
    if len(circles) == 1:
        return redirect(url_for("items.contribute", slug=circles[0].slug))
    return render_template("items/choose_circle.html", circles=circles)


@bp.route("/circles/<slug>/contribute", methods=["GET", "POST"])
@login_required
def contribute(slug: str):
    """Share a piece. The answer is a redirect to its receipt (or, for a member's proposal,
    to the page saying it waits); the same form sent again leads there too (`once`)."""
    circle = member_circle(slug)
    form = ContributeForm()
    form.contributor.choices = options(*_contributor_choices(circle))
    context = {"circle": circle, "suggested_tags": _circle_tags(circle)}
    if not form.is_submitted():
        form.form_token.data = once.new_token()
        return render_template("items/contribute.html", form=form, **context)
    token = once.token_of(form)
    if token is None:
        return once.too_old(form, "items/contribute.html", **context)
    sent_before = once.earlier(token)
    if sent_before is not None:
        return sent_before
    valid = form.validate()
    if form.csrf_token.errors:
        return render_template("items/contribute.html", form=form, **context), 422
    photo = photo_drafts.photo_for(form)
    problems = Problems()
    with problems.gathered():
        for_self, proposal = _whose(form)
        ops.check_contribution(
            _draft(form, form.kind.data, photo),
            _consent_choice(form),
            for_self=for_self,
            proposal=proposal,
        )
    if not valid or problems.found or form.image.errors:
        mark_problems(form, problems.found)
        return _once_more(form, photo, "items/contribute.html", **context)
    return _share(form, circle, token, photo, context)


def _share(form: ContributeForm, circle: Circle, token: str, photo, context: dict):
    sent_before = once.claim(token)  # from here on, this send is the form's one send
    if sent_before is not None:
        return sent_before
    try:
        contributor = _chosen_contributor(form, circle)
        result = ops.contribute(
            current_user,
            circle,
            contributor,
            _draft(form, form.kind.data, photo),
            _consent_choice(form),
        )
    except Refused as refused:
        _keep_unless_stored(form, photo, refused)
        return form_refused(form, refused, "items/contribute.html", **context)
    photo_drafts.let_go()
    if result.receipt is None:
        return once.done(token, url_for("items.waiting", public_id=result.item.public_id))
    return once.done(
        token,
        url_for("consent.receipt", public_id=result.item.public_id),
        shown={"code": result.receipt.withdrawal_code},
    )


def _once_more(form, photo, template: str, **context):
    """The form again, with every problem marked and the photo it brought kept (422)."""
    photo_drafts.keep(form, photo)
    return render_template(template, form=form, **context), 422


def _keep_unless_stored(form, photo, refused: Refused) -> None:
    """A form refused for what it says keeps its photo; one refused because the store is full
    or away (or the person may not do this) does not try to store it again."""
    if refused.status == 422:
        photo_drafts.keep(form, photo)


def _whose(form: ContributeForm) -> tuple[bool, bool]:
    """Whether the chosen contributor is the one sharing, and whether it is a member with an
    account (a proposal): what the consent check needs, known before anything is written."""
    choice = form.contributor.data or "me"
    return choice == "me", choice.startswith("account:")


@bp.get("/items/<public_id>/waiting")
@login_required
def waiting(public_id: str):
    """To the one who recorded it: the piece waits for its member to agree."""
    item = access.item_for(current_user, public_id, proposed_by=True)
    return render_template(
        "items/proposed.html", item=item, member=item.contributor.name if item.contributor else ""
    )


def _contributor_choices(circle: Circle) -> list[tuple[str, str]]:
    choices = [("me", _("Me — I am sharing my own piece"))]
    if not access.is_facilitator(current_user, circle):
        return choices
    members = db.session.scalars(
        select(Account)
        .join(Membership)
        .where(Membership.circle_id == circle.id, Account.id != current_user.id)
        .order_by(Account.username_key)
    )
    choices += [
        (f"account:{a.id}", _("%(name)s (member of this circle)", name=a.shown_name))
        for a in members
    ]
    profiles = db.session.scalars(
        select(Contributor)
        .where(Contributor.circle_id == circle.id, Contributor.account_id.is_(None))
        .order_by(Contributor.pseudonym)
    )
    choices += [(f"profile:{p.id}", _("%(name)s (no account)", name=p.pseudonym)) for p in profiles]
    choices.append(("new", _("Someone without an account (give a pseudonym below)")))
    return choices


def _chosen_contributor(form: ContributeForm, circle: Circle) -> Contributor:
    choice = form.contributor.data or "me"
    if choice == "me":
        return ops.contributor_for(current_user)
    if choice == "new":
        return ops.create_profile(current_user, circle, form.new_pseudonym.data or "")
    kind, _sep, ident = choice.partition(":")
    contributor: Optional[Contributor]
    if kind == "account":
        account = db.session.get(Account, db_int(ident) or 0)
        contributor = ops.contributor_for(account) if account else None
    else:
        contributor = db.session.get(Contributor, db_int(ident) or 0)
    if contributor is None:
        raise Refused(_("Please choose whose piece this is."), field="contributor")
    return contributor


def _draft(form, kind: str, photo) -> ops.Draft:
    """``photo``: the form's picture, already processed (`photo_drafts.photo_for`)."""
    return ops.Draft(
        kind=kind,
        title=form.title.data or "",
        body=form.body.data or "",
        language=form.language.data,
        tags=form.tags.data or "",
        alt_text=form.alt_text.data or "",
        image=photo,
        note=getattr(form, "note", None) and form.note.data or "",
    )


def _consent_choice(form: ContributeForm) -> ConsentChoice:
    return ConsentChoice(
        audience=form.audience.data,
        attribution=form.attribution.data,
        pseudonym=form.pseudonym.data or "",
        collections=form.collections.data,
        embeds=form.embeds.data,
        packs=form.packs.data,
        content_notes=form.content_notes.data or [],
        review_by=form.review_by.data,
        method=form.method.data or "",
    )


def _circle_tags(circle: Optional[Circle]) -> list[str]:
    """What the form offers while tagging: the circle's concepts, by their name in the
    person's language, and the tags of its pieces they may already see."""
    if circle is None:
        return []
    return vocabulary.offered(current_user, circle, str(get_locale() or "en"))


# --- reading --------------------------------------------------------------------------------


@bp.get("/items/<public_id>")
def show(public_id: str):
    item = access.item_for(current_user, public_id, proposals=True)
    if item.state == "proposed":
        form = AgreeForm(obj=form_values(item.consent))
        form.form_token.data = once.new_token()
        return render_template("items/proposal.html", item=item, rev=item.current, form=form)
    return render_template(
        "items/show.html",
        item=item,
        rev=item.current,
        may_edit=access.may_edit_item(current_user, item),
        is_contributor=access.is_contributor(current_user, item),
        consent_role=access.consent_role(current_user, item),
        review_waiting=access.review_waiting(current_user, item),
        public=access.is_public(item),
        embeddable=access.may_embed(item),
        republish=access.may_republish(item),
    )


@bp.get("/items/<public_id>/history")
def history(public_id: str):
    item = visible_item(public_id)
    return render_template(
        "items/history.html",
        item=item,
        revisions=ops.revisions(item),
        may_edit=access.may_edit_item(current_user, item),
    )


@bp.get("/items/<public_id>/versions/<int:number>")
def version(public_id: str, number: int):
    item = visible_item(public_id)
    rev = ops.revision(item, number) or abort(404)
    return render_template(
        "items/show.html",
        item=item,
        rev=rev,
        old_version=True,
        may_edit=False,
        is_contributor=False,
    )


@bp.get("/items/<public_id>/diff")
def diff(public_id: str):
    item = visible_item(public_id)
    assert item.current is not None  # a piece that may be seen is not taken back
    current = item.current.number
    older = ops.revision(item, request.args.get("from", max(current - 1, 1), type=int))
    newer = ops.revision(item, request.args.get("to", current, type=int))
    if older is None or newer is None:
        abort(404)
    lines = word_diff(ops.revision_text(older), ops.revision_text(newer))
    return render_template(
        "items/diff.html",
        item=item,
        older=older,
        newer=newer,
        diff=render_diff(lines),
        summary=summarise(lines),
        numbers=[r.number for r in ops.revisions(item)],
    )


@bp.post("/items/<public_id>/versions/<int:number>/restore")
@login_required
def restore(public_id: str, number: int):
    item = editable_item(public_id)
    if not PlainForm().validate_on_submit():
        abort(400)
    try:
        ops.restore(current_user, item, number, base=request.form.get("base", type=int))
    except Refused as refused:
        flash(refused.message, "error")
        return redirect(url_for("items.history", public_id=public_id))
    flash(_("Version %(n)d is back, saved as a new version.", n=number), "info")
    return redirect(url_for("items.show", public_id=public_id))


@bp.route("/items/<public_id>/edit", methods=["GET", "POST"])
@login_required
def edit(public_id: str):
    item = editable_item(public_id)
    context = {"item": item, "suggested_tags": _circle_tags(item.circle)}
    form = EditForm(obj=item.current if request.method == "GET" else None)
    if request.method == "GET":
        assert item.current is not None  # an item edited is active
        form.tags.data = ", ".join(item.current.tags)
        form.note.data = ""  # the note says what this edit changes, not what the last one did
        form.base.data = str(item.current.number)
    if not form.is_submitted():
        return render_template("items/edit.html", form=form, **context)
    valid = form.validate()
    if form.csrf_token.errors:
        return render_template("items/edit.html", form=form, **context), 422
    photo = photo_drafts.photo_for(form)
    problems = Problems()
    with problems.gathered():
        ops.check_revision(item, _draft(form, item.kind or "", photo))
    if not valid or problems.found or form.image.errors:
        mark_problems(form, problems.found)
        return _once_more(form, photo, "items/edit.html", **context)
    base = _number(form.base.data)
    try:
        ops.revise(current_user, item, _draft(form, item.kind or "", photo), base=base)
    except ops.EditConflict as conflict:
        form.base.data = str(conflict.current.number)  # saving again goes on top of theirs
        photo_drafts.keep(form, photo)
        return render_template(
            "items/edit.html",
            form=form,
            conflict=_conflict(item, base, conflict.current),
            **context,
        ), 409
    except Refused as refused:
        _keep_unless_stored(form, photo, refused)
        return form_refused(form, refused, "items/edit.html", **context)
    photo_drafts.let_go()
    flash(_("Saved as a new version."), "info")
    return redirect(url_for("items.show", public_id=public_id))


def _number(value) -> int | None:
    """A revision number from a form, or None when it is missing or not a number."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def _conflict(item: Item, base: Optional[int], newer) -> dict:
    """What was saved since the edit began: the word diff from where the person started."""
    older = (ops.revision(item, base) if base is not None else None) or newer
    lines = word_diff(ops.revision_text(older), ops.revision_text(newer))
    author = newer.author.shown_name if newer.author else _("someone")
    return {"newer": newer, "diff": render_diff(lines), "author": author}


@bp.get("/media/<asset_id>/<name>")
def media(asset_id: str, name: str):
    """Artwork files go through the access rule like the pages that show them."""
    asset = db.session.scalar(select(MediaAsset).where(MediaAsset.public_id == asset_id))
    item = db.session.get(Item, asset.item_id) if asset is not None else None
    if asset is None or item is None or not access.may_view_item(current_user, item):
        abort(404)
    entry = asset.derivatives.get(name.removesuffix(".webp"))
    if entry is None:
        abort(404)
    response = Response(mimetype=entry["content_type"])
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Content-Disposition"] = "inline"
    response.set_etag(entry["sha256"])
    if access.effective_audience(item.consent) == "public" and not current_user.is_authenticated:
        # cached, but asked about again every time: a withdrawal shows at once
        response.headers["Cache-Control"] = "public, no-cache"
    else:
        response.headers["Cache-Control"] = "no-store"
    response.make_conditional(request)
    if response.status_code == 200:
        _stream_from_storage(response, entry)
    return response


def _stream_from_storage(response: Response, entry: dict) -> None:
    """Send the file as it is read from the store; it is closed once sent (or not sent)."""
    try:
        stream = storage_from_config(current_app.config).open(entry["key"])
    except MediaNotFound:
        abort(404)
    response.response = Streamed(stream)
    response.direct_passthrough = True
    response.content_length = entry["bytes"]


@bp.get("/tags/<tag>")
def tag(tag: str):
    """The pieces carrying a tag, or, in a circle that joined it into a concept, any tag
    of that concept; named by the concept in the reader's language."""
    wanted = one_line(tag).lower()
    page = page_number()
    query = (
        access.select_visible(current_user, listed=True)
        .where(Item.id.in_(vocabulary.carrying(wanted)))
        .order_by(Item.updated_at.desc())
    )
    found = list(db.session.scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    concepts = vocabulary.concepts_with([wanted]).get(wanted, [])
    shown = vocabulary.named(current_user, concepts, str(get_locale() or "en"))
    return render_template(
        "items/tag.html",
        tag=wanted,
        name=shown or wanted,
        items=found[:PAGE_SIZE],
        page=page,
        more=len(found) > PAGE_SIZE,
    )


def circle_items(circle: Circle, page: int) -> tuple[list[Item], bool]:
    """One page of a circle's items that the viewer may see, newest first."""
    query = (
        access.select_visible(current_user, listed=True)
        .where(Item.circle_id == circle.id)
        .order_by(Item.updated_at.desc())
    )
    found = list(db.session.scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    return found[:PAGE_SIZE], len(found) > PAGE_SIZE
