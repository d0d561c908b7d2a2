"""``/api/v1/items``: contribute, read, revise, list revisions and diff — as the web does."""
from __future__ import annotations

import json
from datetime import date

from flask import jsonify, request, url_for
from sqlalchemy import select

from archive import access
from archive.api import ApiError, bp, token_required, viewer
from archive.db import db
from archive.models import Account, Circle, Contributor, Item
from archive.operations import items as ops
from archive.operations.consent import ConsentChoice
from archive.text import key, render_markdown, summarise, word_diff


def _item(public_id: str) -> Item:
    item = db.session.scalar(select(Item).where(Item.public_id == public_id))
    if item is not None and item.state == "withdrawn":
        raise ApiError(410, "This item was withdrawn by its author.")
    if not access.may_view_item(viewer(), item):
        raise ApiError(404, "No such item.")
    return item


def _payload() -> tuple[dict, bytes | None]:
    """JSON body, or multipart with the JSON in a part named ``item`` and a file ``image``."""
    if request.mimetype == "multipart/form-data":
        try:
            data = json.loads(request.form.get("item") or "{}")
        except ValueError:
            raise ApiError(400, "The 'item' part is not valid JSON.") from None
        upload = request.files.get("image")
        image = upload.read() if upload else None
    else:
        data = request.get_json(silent=True)
        image = None
    if not isinstance(data, dict):
        raise ApiError(400, "Send a JSON object (Content-Type: application/json).")
    return data, image


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
    return ops.Draft(kind=kind, title=_text(data, "title"), body=_text(data, "body"),
                     language=_text(data, "language", "en"), tags=_list(data, "tags"),
                     alt_text=_text(data, "alt_text"), image=image, note=_text(data, "note"))


def _consent(data: dict, for_self: bool) -> ConsentChoice:
    consent = data.get("consent") or {}
    if not isinstance(consent, dict):
        raise ApiError(422, "'consent' must be an object.", "consent")
    review_by = consent.get("review_by")
    if review_by is not None:
        try:
            review_by = date.fromisoformat(review_by)
        except (TypeError, ValueError):
            raise ApiError(422, "'consent.review_by' must be a date (YYYY-MM-DD) or null.",
                           "review_by") from None
    return ConsentChoice(
        audience=_text(consent, "audience", "private"),
        attribution=_text(consent, "attribution", "anonymous"),
        pseudonym=_text(consent, "pseudonym"), collections=_flag(consent, "collections"),
        embeds=_flag(consent, "embeds"), packs=_flag(consent, "packs"),
        content_notes=_list(data, "content_notes"), review_by=review_by,
        method=_text(consent, "method", "self" if for_self else ""))


def _circle(data: dict) -> Circle:
    circle = db.session.scalar(select(Circle).where(Circle.slug == _text(data, "circle")))
    if circle is None or not access.is_member(viewer(), circle):
        raise ApiError(422, "'circle' must be the slug of a circle you belong to.", "circle")
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
        found = db.session.get(Contributor, given["profile"]) \
            if isinstance(given["profile"], int) else None
    else:
        account = db.session.scalar(select(Account).where(
            Account.username_key == key(_text(given, "username"))))
        found = ops.contributor_for(account) if account is not None else None
    if found is None or not access.may_contribute_for(viewer(), found, circle):
        raise ApiError(403, "You cannot record an item for that person.", "contributor")
    return found


def _url(item: Item) -> str:
    return url_for("items.show", public_id=item.public_id, _external=True)


def represent(item: Item, rev=None) -> dict:
    """What a viewer may see of an item, attribution exactly as consented."""
    rev = rev or item.current
    body = {
        "id": item.public_id, "url": _url(item), "kind": item.kind,
        "circle": item.circle.slug, "revision": rev.number,
        "current_revision": item.current.number, "title": rev.title, "body": rev.body,
        "html": str(render_markdown(rev.body)), "language": rev.language, "tags": rev.tags,
        "content_notes": item.consent.content_notes, "byline": access.byline(item),
        "created_at": item.created_at.isoformat() + "Z",
        "updated_at": item.updated_at.isoformat() + "Z", "media": None,
    }
    if rev.media is not None:
        body["media"] = {"alt_text": rev.alt_text, "width": rev.media.width,
                         "height": rev.media.height, "derivatives": {
                             name: {"url": url_for("items.media", asset_id=rev.media.public_id,
                                                   name=name, _external=True),
                                    "width": e["width"], "height": e["height"]}
                             for name, e in rev.media.derivatives.items()}}
    if access.may_edit_item(viewer(), item):
        body["consent"] = _consent_view(item)
    return body


def _consent_view(item: Item) -> dict:
    c = item.consent
    return {"audience": c.audience, "effective_audience": access.effective_audience(c),
            "attribution": c.attribution, "pseudonym": c.pseudonym,
            "collections": c.allow_collections, "embeds": c.allow_embeds,
            "packs": c.allow_packs,
            "review_by": c.review_by.isoformat() if c.review_by else None,
            "method": c.method, "receipt_id": c.receipt_id}


@bp.post("/items")
@token_required
def create_item():
    data, image = _payload()
    circle = _circle(data)
    contributor = _contributor(data, circle)
    kind = _text(data, "kind")
    result = ops.contribute(viewer(), circle, contributor, _draft(data, kind, image),
                            _consent(data, contributor.account_id == viewer().id))
    reply = {"id": result.item.public_id, "url": _url(result.item), "revision": 1,
             "receipt": {"id": result.receipt.receipt_id,
                         "withdrawal_code": result.receipt.withdrawal_code}}
    return jsonify(reply), 201, {"Location": _url(result.item)}


@bp.get("/items/<public_id>")
def get_item(public_id: str):
    return jsonify(represent(_item(public_id)))


@bp.post("/items/<public_id>/revisions")
@token_required
def create_revision(public_id: str):
    item = _item(public_id)
    if not access.may_edit_item(viewer(), item):
        raise ApiError(403, "You may read this item but not edit it.")
    data, image = _payload()
    current = item.current
    merged = {"title": current.title, "body": current.body, "language": current.language,
              "tags": current.tags, "alt_text": current.alt_text, **data}
    rev = ops.revise(viewer(), item, _draft(merged, item.kind, image))
    return jsonify({"id": item.public_id, "revision": rev.number, "url": _url(item)}), 201


@bp.get("/items/<public_id>/revisions")
def list_revisions(public_id: str):
    item = _item(public_id)
    return jsonify({"id": item.public_id, "revisions": [
        {"number": r.number, "title": r.title, "language": r.language, "tags": r.tags,
         "note": r.note, "restored_from": r.restored_from,
         "created_at": r.created_at.isoformat() + "Z"} for r in ops.revisions(item)]})


@bp.get("/items/<public_id>/diff")
def diff(public_id: str):
    item = _item(public_id)
    numbers = (request.args.get("from", type=int), request.args.get("to", type=int))
    if None in numbers:
        raise ApiError(400, "Give both 'from' and 'to' revision numbers.")
    older, newer = (ops.revision(item, n) for n in numbers)
    if older is None or newer is None:
        raise ApiError(404, "No such revision.")
    lines = word_diff(ops.revision_text(older), ops.revision_text(newer))
    summary = summarise(lines)
    return jsonify({
        "id": item.public_id, "from": older.number, "to": newer.number,
        "title": {"from": older.title, "to": newer.title},
        "words_added": summary.words_added, "words_removed": summary.words_removed,
        "lines": [{"change": line.change, "old_number": line.old_number,
                   "new_number": line.new_number,
                   "segments": [{"text": s.text, "change": s.change} for s in line.segments]}
                  for line in lines]})


@bp.post("/items/<public_id>/withdraw")
@token_required
def withdraw(public_id: str):
    """Erase the item; the contributor, or a facilitator with the contributor's reason."""
    from archive.operations.withdraw import erase
    item = _item(public_id)
    if not access.may_change_consent(viewer(), item):
        raise ApiError(404, "No such item.")
    data = request.get_json(silent=True)
    data = data if isinstance(data, dict) else {}
    role = access.acting_role(viewer(), item)
    erase(item, viewer(), role, data.get("reason") if role == "facilitator" else None)
    return jsonify({"id": public_id, "state": "withdrawn"})
