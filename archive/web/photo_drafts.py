"""A photo kept while the rest of its form is fixed.

On a thin connection a phone photo takes a minute to send. When an artwork form comes back
with a problem elsewhere, the photo it brought — if it could be used — is kept as a draft for
an hour: its processed derivatives (never the uploaded bytes: metadata already stripped by
`archive.media.images`) are stored under ``drafts/`` keys, and the session alone names them.
The form shows a thumbnail and carries the draft's id; sent again without a new photo, it
uses the kept one, copied to fresh keys like any new picture, and the draft goes.

Only the session that sent the photo sees or uses it (`thumbnail`, `photo_for`); no media row
names a draft, so no other page serves it, and ``flask purge`` removes drafts an hour old
with the other files nothing names (`archive.media.leftovers`).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from typing import Optional

from flask import Blueprint, Response, abort, current_app, session, url_for

from archive.db import after_commit
from archive.media import images
from archive.media.leftovers import LEFT_FOR
from archive.media.storage import (
    SUFFIXES,
    MediaNotFound,
    Streamed,
    check_key,
    new_key,
    storage_from_config,
)
from archive.operations import Refused
from archive.operations import items as item_ops

bp = Blueprint("photo_drafts", __name__)
PREFIX = "drafts/"
SESSION_KEY = "photo_draft"
#: a draft is used for this long after it was kept; `leftovers` removes it after LEFT_FOR
KEPT_FOR = LEFT_FOR - 60
log = logging.getLogger("archive.media")


def photo_for(form) -> Optional[images.ProcessedImage]:
    """The picture this form brings: a new upload, processed now (one that cannot be used is
    marked on the image field, saying why), or the photo kept from this session's last try."""
    upload = form.image.data
    if upload:
        form.photo_draft.data = ""
        try:
            return item_ops.process_image(upload.read())
        except Refused as refused:
            form.image.errors = list(form.image.errors) + [refused.message]
            return None
    return _kept_for(form)


def keep(form, processed: Optional[images.ProcessedImage]) -> None:
    """The form comes back with a problem: keep its photo, unless it is the kept one."""
    if processed is None or form.image.errors or _current(form.photo_draft.data):
        return
    storage = storage_from_config(current_app.config)
    files: dict[str, list] = {}
    try:
        for name, derivative in processed.files().items():
            key = check_key(PREFIX + new_key(SUFFIXES.get(derivative.content_type, "")))
            files[name] = [key, derivative.width, derivative.height, derivative.content_type]
            storage.put(key, derivative.data, derivative.content_type)
    except OSError as error:  # the store is full or away: the photo is simply not kept
        log.warning("a photo could not be kept as a draft: %s", error)
        _delete([entry[0] for entry in files.values()])
        return
    _discard(session.get(SESSION_KEY))
    draft_id = secrets.token_urlsafe(16)
    session[SESSION_KEY] = {"id": draft_id, "at": int(time.time()), "files": files}
    form.photo_draft.data = draft_id


def let_go() -> None:
    """After a save: the session's draft (used or replaced) goes once the save is committed."""
    draft = session.pop(SESSION_KEY, None)
    if draft:
        after_commit(lambda: _discard(draft))


def kept_photo(form) -> Optional[dict]:
    """For the form's template: the kept photo's thumbnail (address and size), or None."""
    field = getattr(form, "photo_draft", None)
    draft = _current(field.data if field is not None else None)
    if draft is None:
        return None
    _key, width, height, _type = draft["files"].get("thumb") or _smallest(draft)
    return {
        "src": url_for("photo_drafts.thumbnail", draft_id=draft["id"]),
        "width": width,
        "height": height,
    }


@bp.get("/photo-drafts/<draft_id>.webp")
def thumbnail(draft_id: str):
    """The kept photo, small, to the session that sent it; to anyone else, nothing."""
    draft = _current(draft_id)
    if draft is None:
        abort(404)
    key, _width, _height, content_type = draft["files"].get("thumb") or _smallest(draft)
    try:
        stream = storage_from_config(current_app.config).open(key)
    except MediaNotFound:
        abort(404)
    response = Response(Streamed(stream), mimetype=content_type, direct_passthrough=True)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "no-store"
    return response


def _current(draft_id: Optional[str]) -> Optional[dict]:
    draft = session.get(SESSION_KEY)
    if not draft_id or not isinstance(draft, dict) or draft.get("id") != draft_id:
        return None
    return draft if time.time() - draft.get("at", 0) < KEPT_FOR else None


def _kept_for(form) -> Optional[images.ProcessedImage]:
    draft = _current(form.photo_draft.data)
    if draft is None:
        form.photo_draft.data = ""
        return None
    try:
        return _load(draft)
    except (MediaNotFound, OSError):  # removed meanwhile: the form asks for the photo again
        form.photo_draft.data = ""
        session.pop(SESSION_KEY, None)
        return None


def _load(draft: dict) -> images.ProcessedImage:
    storage = storage_from_config(current_app.config)
    loaded = {}
    for name, (key, width, height, content_type) in draft["files"].items():
        data = storage.get(key)
        loaded[name] = images.Derivative(
            name, width, height, data, hashlib.sha256(data).hexdigest(), content_type
        )
    sizes = {name: loaded[name] for name, _side, _quality in images.DERIVATIVES if name in loaded}
    return images.ProcessedImage("kept", sizes, loaded.get(images.PREVIEW[0]))


def _smallest(draft: dict) -> list:
    return min(draft["files"].values(), key=lambda entry: entry[1] * entry[2])


def _discard(draft: Optional[dict]) -> None:
    if isinstance(draft, dict):
        _delete([entry[0] for entry in draft.get("files", {}).values()])


def _delete(keys: list[str]) -> None:
    """Best effort: what stays is removed by ``flask purge`` within the hour."""
    storage = storage_from_config(current_app.config)
    for key in keys:
        try:
            storage.delete(key)
        except OSError as error:
            log.warning("a kept photo was left for flask purge: %s", error)


def init_app(app) -> None:
    """The kept photo's thumbnail, and ``kept_photo`` for the forms' templates."""
    app.register_blueprint(bp)
    app.add_template_global(kept_photo)
