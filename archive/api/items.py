"""``/api/v1/items``: contribute, read, revise, list revisions and diff — as the web does."""

from __future__ import annotations

import json
from datetime import date

from flask import jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from archive import access
from archive.api import ApiError, bp, request_body, token_required, viewer
from archive.api.contract import checked
from archive.api.openapi import SCHEMAS
from archive.db import db
from archive.media.images import WEBP
from archive.models import Account, Circle, Contributor, Item
from archive.numbers import db_int
from archive.operations import consent as consent_ops
from archive.operations import items as ops
from archive.operations.consent import ConsentChoice
from archive.operations.withdraw import erase
from archive.text import key, summarise, word_diff


def _item(public_id: str, proposals: bool = False) -> Item:
    return access.item_for(viewer(), public_id, proposals=proposals)


def _payload(schema: str, item_required: bool) -> tuple[dict, bytes | None]:
    """JSON body, or multipart with the JSON in a part named ``item`` and a file ``image``;
    either checked against the document's ``schema``."""
    if request.mimetype != "multipart/form-data":
        return request_body(schema), None
    part = request.form.get("item")
    if part is None and "item" in request.files:
        part = request.files["item"].read().decode("utf-8", "replace")
    if part is None:
        checked({}, {"type": "object", "required": ["item"] if item_required else []}, SCHEMAS)
        data: object = {}
    else:
        try:
            data = json.loads(part)
        except ValueError:
            raise ApiError(400, "The 'item' part is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The 'item' part must be a JSON object.")
    upload = request.files.get("image")
    return checked(data, SCHEMAS[schema], SCHEMAS), upload.read() if upload else None


def _text(data: dict, name: str, default: str = "") -> str:
    value = data.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ApiError(422, f"'{name}' must be a string.", name)
    return value


def _list(data: dict, name: str) -> list[str]:
    value = data.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(422, f"'{name}' must be a list of strings.", name)
    return value


def _flag(data: dict, name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise ApiError(422, f"'consent.{name}' must be true or false.", name)
    return value


def _draft(data: dict, kind: str, image: bytes | None) -> ops.Draft:
    return ops.Draft(
        kind=kind,
        title=_text(data, "title"),
        body=_text(data, "body"),
        language=_text(data, "language", "en"),
        tags=_list(data, "tags"),
        alt_text=_text(data, "alt_text"),
        image=image,
        note=_text(data, "note"),
    )


def _consent(data: dict, for_self: bool) -> ConsentChoice:
    consent = data.get("consent", {})
    review_by = _date(consent.get("review_by"))
    return ConsentChoice(
        audience=_text(consent, "audience", "private"),
        attribution=_text(consent, "attribution", "anonymous"),
        pseudonym=_text(consent, "pseudonym"),
        collections=_flag(consent, "collections"),
        embeds=_flag(consent, "embeds"),
        packs=_flag(consent, "packs"),
        content_notes=_list(data, "content_notes"),
        review_by=review_by,
        method=_text(consent, "method", "self" if for_self else ""),
    )


def _date(value) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):  # in the form of a date, but not a day of the calendar
        message = _("'%(field)s' is not a day of the calendar.", field="review_by")
        raise ApiError(409, message, "review_by") from None


def _circle(data: dict) -> Circle:
    circle = db.session.scalar(select(Circle).where(Circle.slug == _text(data, "circle")))
    if circle is None or not access.is_member(viewer(), circle):
        raise ApiError(403, "'circle' must be the slug of a circle you belong to.", "circle")
    return circle


def _contributor(data: dict, circle: Circle) -> Contributor:
    """Oneself; or, for a facilitator: a member (username) or a profile (id or new pseudonym)."""
    given = data.get("contributor")
    if given is None:
        return ops.contributor_for(viewer())
    if isinstance(given, str):
        given = {"username": given}
    if not isinstance(given, dict):
        raise ApiError(422, "'contributor' must be a username or an object.", "contributor")
    if "pseudonym" in given and "profile" not in given:
        if not access.is_facilitator(viewer(), circle):
            raise ApiError(403, "Only a facilitator records for someone else.", "contributor")
        return ops.create_profile(viewer(), circle, _text(given, "pseudonym"))
    if "profile" in given:
        found = (
            db.session.get(Contributor, db_int(given["profile"]) or 0)
            if isinstance(given["profile"], int)
            else None
        )
    else:
        account = db.session.scalar(
            select(Account).where(Account.username_key == key(_text(given, "username")))
        )
        found = ops.contributor_for(account) if account is not None else None
    if found is None:
        raise ApiError(403, "You cannot record an item for that person.", "contributor")
    return found


def _url(item: Item) -> str:
    return url_for("items.show", public_id=item.public_id, _external=True)


def represent(item: Item, rev=None) -> dict:
    """What a viewer may see of an item, attribution exactly as consented."""
    rev = rev or item.current
    current, circle, consent = item.current, item.circle, item.consent
    # a piece that may be seen is not taken back: it has all of these
    assert rev is not None and current is not None and circle is not None
    assert consent is not None
    body = {
        "id": item.public_id,
        "url": _url(item),
        "kind": item.kind,
        "circle": circle.slug,
        "revision": rev.number,
        "current_revision": current.number,
        "title": rev.title,
        "body": rev.body,
        "html": rev.html,
        "language": rev.language,
        "tags": rev.tags,
        "content_notes": consent.content_notes,
        "byline": access.byline(item),
        "created_at": item.created_at.isoformat() + "Z",
        "updated_at": item.updated_at.isoformat() + "Z",
        "media": None,
    }
    if rev.media is not None:
        body["media"] = {
            "alt_text": rev.alt_text,
            "width": rev.media.width,
            "height": rev.media.height,
            "derivatives": {
                name: {
                    "url": url_for(
                        "items.media", asset_id=rev.media.public_id, name=name, _external=True
                    ),
                    "width": e["width"],
                    "height": e["height"],
                }
                for name, e in rev.media.derivatives.items()
                if e["content_type"] == WEBP
            },
        }  # the link preview is for pages
    if item.state == "proposed":
        body["state"] = "proposed"
    if access.consent_role(viewer(), item) is not None:
        body["consent"] = _consent_view(item)
    return body


def _consent_view(item: Item) -> dict:
    c = item.consent
    assert c is not None  # shown only for a piece whose consent may change
    return {
        "audience": c.audience,
        "effective_audience": access.effective_audience(c),
        "attribution": c.attribution,
        "pseudonym": c.pseudonym,
        "collections": c.allow_collections,
        "embeds": c.allow_embeds,
        "packs": c.allow_packs,
        "review_by": c.review_by.isoformat() if c.review_by else None,
        "content_notes": c.content_notes,
        "method": c.method,
        "receipt_id": c.receipt_id,
    }


@bp.post("/items")
@token_required
def create_item():
    data, image = _payload("NewItem", item_required=True)
    circle = _circle(data)
    contributor = _contributor(data, circle)
    kind = _text(data, "kind")
    result = ops.contribute(
        viewer(),
        circle,
        contributor,
        _draft(data, kind, image),
        _consent(data, contributor.account_id == viewer().id),
    )
    reply = {
        "id": result.item.public_id,
        "url": _url(result.item),
        "revision": 1,
        "state": result.item.state,
        "receipt": _receipt(result.receipt),
    }
    return jsonify(reply), 201, {"Location": _url(result.item)}


def _receipt(receipt) -> dict | None:
    """Only ever to the contributor: a proposal's receipt waits for its member to agree."""
    if receipt is None:
        return None
    return {"id": receipt.receipt_id, "withdrawal_code": receipt.withdrawal_code}


@bp.get("/items/<public_id>")
def get_item(public_id: str):
    return jsonify(represent(_item(public_id, proposals=True)))


@bp.post("/items/<public_id>/revisions")
@token_required
def create_revision(public_id: str):
    item = _item(public_id)
    data, image = _payload("RevisionEdit", item_required=False)
    base = data.get("base_revision")
    current = item.current
    if current is None:  # taken back since it was looked up
        raise access.Unavailable(410)
    merged = {
        "title": current.title,
        "body": current.body,
        "language": current.language,
        "tags": current.tags,
        "alt_text": current.alt_text,
        **data,
    }
    try:
        rev = ops.revise(viewer(), item, _draft(merged, item.kind or "", image), base=base)
    except ops.EditConflict as conflict:
        return jsonify(
            {
                "error": "Someone saved a newer revision since the one this edit "
                "started from. Nothing was saved.",
                "status": 409,
                "field": "base_revision",
                "current_revision": conflict.current.number,
            }
        ), 409
    return jsonify({"id": item.public_id, "revision": rev.number, "url": _url(item)}), 201


@bp.get("/items/<public_id>/revisions")
def list_revisions(public_id: str):
    item = _item(public_id)
    return jsonify(
        {
            "id": item.public_id,
            "revisions": [
                {
                    "number": r.number,
                    "title": r.title,
                    "language": r.language,
                    "tags": r.tags,
                    "note": r.note,
                    "restored_from": r.restored_from,
                    "created_at": r.created_at.isoformat() + "Z",
                }
                for r in ops.revisions(item)
            ],
        }
    )


@bp.get("/items/<public_id>/diff")
def diff(public_id: str):
    item = _item(public_id)
    first, last = request.args.get("from", type=int), request.args.get("to", type=int)
    if first is None or last is None:
        raise ApiError(400, "Give both 'from' and 'to' revision numbers.")
    older, newer = ops.revision(item, first), ops.revision(item, last)
    if older is None or newer is None:
        raise ApiError(404, "No such revision.")
    lines = word_diff(ops.revision_text(older), ops.revision_text(newer))
    summary = summarise(lines)
    return jsonify(
        {
            "id": item.public_id,
            "from": older.number,
            "to": newer.number,
            "title": {"from": older.title, "to": newer.title},
            "words_added": summary.words_added,
            "words_removed": summary.words_removed,
            "lines": [
                {
                    "change": line.change,
                    "old_number": line.old_number,
                    "new_number": line.new_number,
                    "segments": [{"text": s.text, "change": s.change} for s in line.segments],
                }
                for line in lines
            ],
        }
    )


@bp.post("/items/<public_id>/withdraw")
@token_required
def withdraw(public_id: str):
    """Erase the item; the contributor, or a facilitator with the contributor's reason."""
    item = _item(public_id, proposals=True)
    erase(item, viewer(), request_body("Withdrawal", required=False).get("reason"))
    return jsonify({"id": public_id, "state": "withdrawn"})


@bp.patch("/items/<public_id>/consent")
@token_required
def change_consent(public_id: str):
    """Change the consent: the fields given, the rest as they are. Only the contributor
    widens; a facilitator (with the contributor's ``reason``) only narrows."""
    item = _item(public_id)
    if not access.may_change_consent(viewer(), item):
        raise ApiError(404, "No such item.")
    data = request_body("ConsentChange")
    reason = data.get("reason")
    changed = consent_ops.change(item, _consent_change(item, data), viewer(), reason=reason)
    return jsonify(
        {
            "id": item.public_id,
            "consent": _consent_view(item),
            "changed": sorted(name for name in changed if name != "reason"),
        }
    )


def _consent_change(item: Item, data: dict) -> ConsentChoice:
    assert item.consent is not None  # held by `_item_for_consent`
    choice = consent_ops.current_choice(item.consent)
    for name in ("audience", "attribution", "pseudonym"):
        if name in data:
            setattr(choice, name, _text(data, name))
    for name in ("collections", "embeds", "packs"):
        if name in data:
            setattr(choice, name, _flag(data, name))
    if "content_notes" in data:
        choice.content_notes = _list(data, "content_notes")
    if "review_by" in data:
        choice.review_by = _date(data.get("review_by"))
    return choice


@bp.post("/items/<public_id>/agree")
@token_required
def agree(public_id: str):
    """The member agrees to a piece recorded for them (optionally with other ``consent``);
    the receipt, with its withdrawal code, comes only here."""
    item = _item(public_id, proposals=True)
    data = request_body("Agreement", required=False)
    choice = _consent_change(item, data["consent"]) if "consent" in data else None
    receipt = consent_ops.agree(item, viewer(), choice)
    return jsonify(
        {"id": item.public_id, "state": item.state, "url": _url(item), "receipt": _receipt(receipt)}
    )


@bp.post("/items/<public_id>/decline")
@token_required
def decline(public_id: str):
    """The member declines a piece recorded for them: it is erased."""
    item = _item(public_id, proposals=True)
    if item.state != "proposed":
        raise ApiError(409, "This item is not waiting for agreement: withdraw it instead.")
    erase(item, viewer())
    return jsonify({"id": public_id, "state": "withdrawn"})
