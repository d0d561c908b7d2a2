"""A participant's own export: everything they contributed, as a zip they can keep.

Every revision as Markdown with its facts on top, the artwork (the largest derivative: the
uploaded file itself is never kept), and each consent receipt. Built through the access
rule: only items the person is the contributor of, and only while they are active.
"""
from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from archive.db import db
from archive.media.storage import storage_from_config
from archive.models import Account, Contributor, Item
from archive.operations.items import revisions
from archive.receipts import kantara_receipt

README = """Living Archive: your own copy
=============================

One folder for each piece you shared. In each folder:
- revision-N.md: every saved version, oldest first (the highest number is the current one)
- artwork-N.webp: the artwork of that version, if any
- receipt.json: your consent receipt (the withdrawal code is never stored, so it is not here)

Made on {date}.
"""


def my_items(account: Account) -> list[Item]:
    return list(db.session.scalars(
        select(Item).join(Contributor).where(Contributor.account_id == account.id,
                                             Item.state == "active")
        .order_by(Item.created_at)))


def build_zip(account: Account) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README.format(date=datetime.now().date().isoformat()))
        for item in my_items(account):
            _add_item(archive, item)
    return buffer.getvalue()


def _add_item(archive: zipfile.ZipFile, item: Item) -> None:
    folder = f"{item.created_at:%Y-%m-%d}-{item.public_id}"
    storage = storage_from_config(current_app.config)
    for rev in reversed(revisions(item)):
        archive.writestr(f"{folder}/revision-{rev.number}.md", _markdown(item, rev))
        if rev.media is not None:
            name, entry = max(rev.media.derivatives.items(), key=lambda p: p[1]["width"])
            archive.writestr(f"{folder}/artwork-{rev.number}.webp", storage.get(entry["key"]))
    archive.writestr(f"{folder}/receipt.json",
                     json.dumps(kantara_receipt(item), ensure_ascii=False, indent=2))


def _markdown(item: Item, rev) -> str:
    facts = {"title": rev.title, "kind": item.kind, "language": rev.language,
             "tags": rev.tags, "version": rev.number, "saved": rev.created_at.isoformat(),
             "alt_text": rev.alt_text or None, "note": rev.note or None}
    front = "\n".join(f"{key}: {json.dumps(value, ensure_ascii=False)}"
                      for key, value in facts.items() if value is not None)
    return f"---\n{front}\n---\n\n{rev.body}\n"
