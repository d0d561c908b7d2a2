"""Collection pages, the collective document, curating, and unlisted share links."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from archive import access, slugs
from archive.db import db, utcnow
from archive.models import Circle, Collection, Item, ShareLink
from archive.operations import Refused
from archive.operations import collections as ops
from archive.web import form_refused, once
from archive.web.collection_forms import (
    AddEntryForm,
    CollectionForm,
    EditForm,
    NoteForm,
    ShareLinkForm,
    StateForm,
)
from archive.web.forms import PlainForm

bp = Blueprint("collections", __name__)


def visible_collection(slug: str) -> Collection:
    collection = db.session.scalar(select(Collection).where(Collection.slug == slug))
    if collection is None or not access.may_view_collection(current_user, collection):
        abort(404)
    return collection


def curated_collection(slug: str) -> Collection:
    collection = visible_collection(slug)
    if not access.may_curate(current_user, collection):
        abort(404)
    return collection


@bp.get("/collections/")
def index():
    found = db.session.scalars(
        access.visible_collections(current_user).order_by(Collection.updated_at.desc()).limit(200)
    )
    return render_template(
        "collections/index.html",
        collections=list(found),
        circles=[
            c for c in access.circles_of(current_user) if access.may_manage_circle(current_user, c)
        ],
    )


@bp.route("/circles/<slug>/collections/new", methods=["GET", "POST"])
@login_required
def create(slug: str):
    circle = db.session.scalar(select(Circle).where(Circle.slug == slug))
    if circle is None or not access.may_manage_circle(current_user, circle):
        abort(404)
    form = CollectionForm()
    if form.is_submitted() and (form.title.data or "").strip():
        # the address it will have, made from the title if left empty: shown, and editable,
        # whenever the form comes back
        form.slug.data = slugs.asked_or_made(form.slug.data or "", form.title.data or "")
    if not form.validate_on_submit():
        return render_template(
            "collections/new.html", form=form, circle=circle
        ), 422 if form.errors else 200
    try:
        collection = ops.create(
            current_user, circle, form.slug.data, form.title.data or "", form.intro.data or ""
        )
    except Refused as refused:
        return form_refused(form, refused, "collections/new.html", circle=circle)
    return redirect(url_for("collections.show", slug=collection.slug))


@bp.get("/collections/<slug>")
def show(slug: str):
    collection = visible_collection(slug)
    curating = access.may_curate(current_user, collection)
    entries = access.shown_entries(
        current_user, collection, public_only=not current_user.is_authenticated
    )
    context = {"collection": collection, "entries": entries, "curating": curating}
    if curating:
        context.update(_curator_context(collection))
    return render_template("collections/show.html", **context)


@bp.get("/collections/<slug>/read")
def read(slug: str):
    """The collection as one flowing living document (and a clean zine when printed)."""
    collection = visible_collection(slug)
    entries = access.shown_entries(
        current_user, collection, public_only=not current_user.is_authenticated
    )
    return render_template("collections/read.html", collection=collection, entries=entries)


@bp.get("/shared/<token>")
def shared(token: str):
    """An unlisted link for partners: only public entries that allow collections."""
    collection = ops.open_share_link(token)
    if collection is None:
        abort(404)
    entries = access.shown_entries(None, collection, public_only=True)
    response = render_template(
        "collections/read.html", collection=collection, entries=entries, unlisted=True
    )
    return (
        response,
        200,
        {
            "X-Robots-Tag": "noindex, nofollow",
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        },
    )


# --- curating -------------------------------------------------------------------------------


def _curator_context(collection: Collection, **forms) -> dict:
    present = {entry.item_id for entry in collection.entries}
    candidates = [
        item
        for item in db.session.scalars(
            access.select_visible(current_user, listed=True)
            .where(Item.circle_id == collection.circle_id)
            .order_by(Item.updated_at.desc())
            .limit(300)
        )
        if item.id not in present and access.may_enter_collection(item, collection)
    ]
    add = forms.get("add") or AddEntryForm(formdata=None)
    add.item.choices = [(item.public_id, item.current.title) for item in candidates]
    edit = forms.get("edit") or EditForm(
        formdata=None,
        data={
            "title": collection.title,
            "intro": collection.intro.body if collection.intro else "",
        },
    )
    state = forms.get("state") or StateForm(formdata=None, data={"state": collection.state})
    links = db.session.scalars(
        select(ShareLink)
        .where(
            ShareLink.collection_id == collection.id,
            ShareLink.revoked_at.is_(None),
            ShareLink.expires_at > utcnow(),
        )
        .order_by(ShareLink.created_at.desc())
    )
    return {
        "add": add,
        "edit": edit,
        "state_form": state,
        "plain": PlainForm(),
        "note_form": NoteForm(formdata=None),
        "share": ShareLinkForm(formdata=None),
        "links": list(links),
        "left_out": ops.left_out_by_share_link(collection),
    }


def _back(collection: Collection):
    return redirect(url_for("collections.show", slug=collection.slug) + "#curate")


def _refused(collection: Collection, refused: Refused, **forms):
    if not forms:
        flash(refused.message, "error")
        return _back(collection)
    form = next(iter(forms.values()))
    return form_refused(
        form,
        refused,
        "collections/show.html",
        collection=collection,
        entries=access.shown_entries(current_user, collection),
        curating=True,
        **_curator_context(collection, **forms),
    )


@bp.post("/collections/<slug>/edit")
@login_required
def edit(slug: str):
    collection = curated_collection(slug)
    form = EditForm()
    if form.validate_on_submit():
        try:
            ops.update(current_user, collection, form.title.data or "", form.intro.data or "")
        except Refused as refused:
            return _refused(collection, refused, edit=form)
        flash(_("Saved."), "info")
    return _back(collection)


@bp.post("/collections/<slug>/state")
@login_required
def set_state(slug: str):
    collection = curated_collection(slug)
    form = StateForm()
    if form.validate_on_submit():
        try:
            ops.set_state(current_user, collection, form.state.data)
        except ops.NotPublic as refused:
            return _not_public(collection, form, refused)
        except Refused as refused:
            return _refused(collection, refused)
        flash(_("Saved."), "info")
    return _back(collection)


def _not_public(collection: Collection, form: StateForm, refused: ops.NotPublic):
    """The page again (422), naming beside the choice each piece that keeps the collection
    from being public, with who may see it, and counting those the curator cannot see."""
    form.state.errors = [
        _(
            "A public collection holds only public pieces. Take these out "
            "first, or keep the collection for the circle."
        )
    ]
    return render_template(
        "collections/show.html",
        collection=collection,
        entries=access.shown_entries(current_user, collection),
        curating=True,
        not_public=refused,
        **_curator_context(collection, state=form),
    ), refused.status


@bp.post("/collections/<slug>/entries")
@login_required
def add_entry(slug: str):
    collection = curated_collection(slug)
    form = AddEntryForm()
    form.item.choices = [(request.form.get("item", ""), "")]
    if form.validate_on_submit():
        item = db.session.scalar(select(Item).where(Item.public_id == form.item.data))
        try:  # an unknown piece and one hidden from the curator get the same answer
            ops.add_entry(current_user, collection, item, form.note.data or "")
        except Refused as refused:
            return _refused(collection, refused)
        flash(_("Added."), "info")
    return _back(collection)


@bp.post("/collections/<slug>/entries/<int:entry_id>/<action>")
@login_required
def entry_action(slug: str, entry_id: int, action: str):
    collection = curated_collection(slug)
    if action not in ("up", "down", "remove", "note"):
        abort(404)
    form = NoteForm() if action == "note" else PlainForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if action == "remove":
            ops.remove_entry(current_user, collection, entry_id)
        elif action == "note":
            ops.set_note(current_user, collection, entry_id, form.note.data or "")
        else:
            ops.move_entry(current_user, collection, entry_id, -1 if action == "up" else 1)
    except Refused as refused:
        return _refused(collection, refused)
    return _back(collection)


@bp.post("/collections/<slug>/seen")
@login_required
def seen(slug: str):
    collection = curated_collection(slug)
    if PlainForm().validate_on_submit():
        ops.seen_removals(current_user, collection)
    return _back(collection)


@bp.post("/collections/<slug>/share-links")
@login_required
def create_share_link(slug: str):
    collection = curated_collection(slug)
    form = ShareLinkForm()
    if not form.validate_on_submit():
        return _back(collection)
    try:
        token = ops.create_share_link(current_user, collection, form.days.data)
    except Refused as refused:
        return _refused(collection, refused)
    return once.show_once(
        url_for("collections.share_link_created", slug=slug),
        {
            "link": url_for("collections.shared", token=token, _external=True),
            "days": form.days.data,
        },
    )


@bp.get("/collections/<slug>/share-links/new")
@login_required
def share_link_created(slug: str):
    """The new share link, to this session for 30 minutes."""
    collection = curated_collection(slug)
    shown = once.shown(url_for("collections.share_link_created", slug=slug))
    if shown is None:
        return _back(collection)
    return render_template(
        "collections/share_link.html",
        collection=collection,
        link=shown["link"],
        days=shown["days"],
        left_out=ops.left_out_by_share_link(collection),
    )


@bp.post("/collections/<slug>/share-links/<int:link_id>/revoke")
@login_required
def revoke_share_link(slug: str, link_id: int):
    collection = curated_collection(slug)
    if PlainForm().validate_on_submit():
        try:
            ops.revoke_share_link(current_user, collection, link_id)
        except Refused as refused:
            return _refused(collection, refused)
        flash(_("That link no longer works."), "info")
    return _back(collection)
