"""A participant's own export: everything they contributed, as a zip they can keep.

Every revision as Markdown with its facts on top, the artwork (the largest derivative: the
uploaded file itself is never kept), and each consent receipt. Built through the access
rule: only items the person is the contributor of, and only while they are active.

Written for the person: the README and the receipts in their language (their account's,
else the page's), times in the site's zone with its offset (2026-12-07T18:30:00+05:30), and
one folder per piece named by its title in Latin letters (as search romanizes Devanagari;
other scripts kept as they are) and the first letters of its id.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
import zipfile
from collections import defaultdict

from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from archive.dates import iso, show_moment, zone_name
from archive.db import db, utcnow
from archive.labels import largest
from archive.media.storage import storage_from_config
from archive.models import Account, Contributor, Item, Revision
from archive.receipts import kantara_receipt
from archive.search.analyzer import romanize

SHORT_ID = 8
LONGEST_TITLE = 60
DEVANAGARI_WORD = re.compile(r"[\u0900-\u0963\u0971-\u097f]+")
DIGITS = {ord(digit): str(value) for value, digit in enumerate("०१२३४५६७८९")}


def readme() -> str:
    now = utcnow()
    lines = [
        _("Living Archive: your own copy"),
        "",
        _("One folder for each piece you shared, named by its title. In each folder:"),
        "- "
        + _(
            "revision-N.md: every saved version, oldest first (the highest number "
            "is the current one)"
        ),
        "- " + _("artwork-N.webp: the artwork of that version, if any"),
        "- "
        + _(
            "receipt.json: your consent receipt (the withdrawal code is never "
            "stored, so it is not here)"
        ),
        "",
        _(
            "Times are given in the site's time zone (%(zone)s, UTC%(offset)s).",
            zone=zone_name(now),
            offset=iso(now)[-6:],
        ),
        _("Made on %(moment)s.", moment=show_moment(now)),
    ]
    return "\n".join(lines) + "\n"


def my_items(account: Account) -> list[Item]:
    """The person's active pieces, oldest first, each with its consent and current version."""
    return list(
        db.session.scalars(
            _mine(select(Item), account)
            .order_by(Item.created_at)
            .options(joinedload(Item.consent), joinedload(Item.current))
        )
    )


def _mine(query, account: Account):
    return query.join(Contributor, Contributor.id == Item.contributor_id).where(
        Contributor.account_id == account.id, Item.state == "active"
    )


def my_revisions(account: Account) -> dict[int, list[Revision]]:
    """Every version of the person's active pieces, oldest first, by item: one statement
    for all of them (and their pictures), one for their tags."""
    found: dict[int, list[Revision]] = defaultdict(list)
    query = _mine(select(Revision).join(Item, Item.id == Revision.item_id), account)
    for rev in db.session.scalars(
        query.order_by(Revision.item_id, Revision.number).options(joinedload(Revision.media))
    ):
        found[rev.item_id].append(rev)
    return found


def build_zip(account: Account) -> bytes:
    buffer = io.BytesIO()
    with (
        force_locale(account.locale or str(get_locale() or "en")),
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        archive.writestr("README.txt", readme())
        taken: set[str] = set()
        items = my_items(account)
        versions = my_revisions(account)
        for item in items:
            title = item.current.title if item.current else ""
            folder = folder_name(title, item.public_id, taken)
            _add_item(archive, item, versions.get(item.id, []), folder)
    return buffer.getvalue()


def folder_name(title: str, public_id: str, taken: set[str]) -> str:
    """A piece's folder: its title in letters a file name keeps, and the start of its id;
    the whole id where that would clash with a folder already named (also where two differ
    only in upper and lower case, as on Windows and macOS)."""
    words = _title_letters(title)
    name = "-".join(filter(None, (words, public_id[:SHORT_ID])))
    if name.casefold() in taken:
        name = "-".join(filter(None, (words, public_id)))
    taken.add(name.casefold())
    return name


def _title_letters(title: str) -> str:
    text = unicodedata.normalize("NFC", title).translate(DIGITS)
    text = DEVANAGARI_WORD.sub(lambda word: f" {romanize(word.group())} ", text)
    text = unicodedata.normalize("NFKD", text.lower())
    text = unicodedata.normalize("NFC", "".join(c for c in text if not _latin_mark(c)))
    words = re.findall(r"[^\W_]+", text)
    kept = ""
    for word in words:
        if len(kept) + len(word) + 1 > LONGEST_TITLE:
            break
        kept = f"{kept}-{word}" if kept else word
    return kept or "".join(words)[:LONGEST_TITLE]


def _latin_mark(char: str) -> bool:
    """An accent of a Latin letter (dropped: é is e), not a sign of another script's letter."""
    return "\u0300" <= char <= "\u036f"


def _add_item(archive: zipfile.ZipFile, item: Item, versions: list[Revision], folder: str) -> None:
    storage = storage_from_config(current_app.config)
    for rev in versions:
        archive.writestr(f"{folder}/revision-{rev.number}.md", _markdown(item, rev))
        if rev.media is not None:
            entry = rev.media.derivatives[largest(rev.media.derivatives)]
            archive.writestr(f"{folder}/artwork-{rev.number}.webp", storage.get(entry["key"]))
    archive.writestr(
        f"{folder}/receipt.json", json.dumps(kantara_receipt(item), ensure_ascii=False, indent=2)
    )


def _markdown(item: Item, rev) -> str:
    facts = {
        "title": rev.title,
        "kind": item.kind,
        "language": rev.language,
        "tags": rev.tags,
        "version": rev.number,
        "saved": iso(rev.created_at),
        "alt_text": rev.alt_text or None,
        "note": rev.note or None,
    }
    front = "\n".join(
        f"{key}: {json.dumps(value, ensure_ascii=False)}"
        for key, value in facts.items()
        if value is not None
    )
    return f"---\n{front}\n---\n\n{rev.body}\n"
