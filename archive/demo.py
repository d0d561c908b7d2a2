"""Demo data, read from ``collections/demo/`` (data only) and loaded once per instance:
circles and people (``site.toml``), items (``items/*.md``), then collections
(``collections/*.toml``, whose entries name items by their file stem).

Demo passwords are made fresh for each instance and kept in its folder (0600), so no two
sites share them and none is written in the repository, a log or a terminal.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from archive.config import SHIPPED
from archive.db import db
from archive.models import Account, Circle, Contributor, Item, SiteFlag
from archive.operations import accounts as account_ops
from archive.operations import circles as circle_ops
from archive.operations import collections as collection_ops
from archive.operations import items as item_ops
from archive.operations.consent import ConsentChoice
from archive.text import key

FLAG = "demo-loaded"
SOURCE = SHIPPED / "collections" / "demo"
WORDS = (
    "river",
    "mango",
    "lamp",
    "kite",
    "tulsi",
    "monsoon",
    "chai",
    "banyan",
    "lotus",
    "sparrow",
    "garden",
    "window",
    "thread",
    "pebble",
    "candle",
    "harbour",
)


def _sign_ins_file() -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "demo-sign-ins.txt"


def _password() -> str:
    return "-".join(secrets.choice(WORDS) for _ in range(3)) + f"-{secrets.randbelow(100)}"


def load(source: Path = SOURCE) -> bool:
    """Load the demo once; returns False if this instance already has it."""
    if db.session.get(SiteFlag, FLAG) is not None:
        return False
    data = tomllib.loads((source / "site.toml").read_text(encoding="utf-8"))
    circles = {
        c["slug"]: circle_ops.create_circle(
            c["slug"], c["name"], c.get("description", ""), c.get("languages", "en")
        )
        for c in data.get("circles", [])
    }
    sign_ins = [_load_account(entry, circles) for entry in data.get("accounts", [])]
    items = {
        path.stem: _load_item(path, source) for path in sorted((source / "items").glob("*.md"))
    }
    for path in sorted((source / "collections").glob("*.toml")):
        _load_collection(path, {stem: result.item for stem, result in items.items()})
    receipts = [
        f"{result.receipt.withdrawal_code}  {stem}"
        for stem, result in items.items()
        if result.receipt is not None
    ]
    db.session.add(SiteFlag(name=FLAG))
    db.session.flush()
    _write_sign_ins(sign_ins)
    _write_private("demo-receipts.txt", receipts)
    return True


def _load_account(entry: dict, circles: dict[str, Circle]) -> str:
    password = _password()
    account = account_ops.create_account(
        entry["username"],
        password,
        entry.get("role", "participant"),
        entry.get("display_name", ""),
        entry.get("locale"),
    )
    for slug, role in entry.get("circles", {}).items():
        circle_ops.add_member(circles[slug], account, role)
    return f"{account.username:<12} {password:<32} {entry.get('about', account.role)}"


def _write_sign_ins(lines: list[str]) -> None:
    _write_private(_sign_ins_file().name, lines)


def _write_private(name: str, lines: list[str]) -> None:
    path = Path(current_app.config["INSTANCE_DIR"]) / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def read_item(path: Path) -> tuple[dict, str]:
    """An item file: TOML front matter between ``+++`` lines, then the Markdown body."""
    _before, front, body = path.read_text(encoding="utf-8").split("+++\n", 2)
    return tomllib.loads(front), body.strip("\n")


def _load_item(path: Path, source: Path) -> item_ops.Contribution:
    meta, body = read_item(path)
    circle = db.session.scalars(select(Circle).where(Circle.slug == meta["circle"])).one()
    by = _account(meta.get("recorded_by") or meta["contributor"])
    if "profile" in meta:
        contributor = _profile(circle, meta["profile"]) or item_ops.create_profile(
            by, circle, meta["profile"]
        )
    else:
        contributor = item_ops.contributor_for(_account(meta["contributor"]))
    image = (source / "media" / meta["image"]).read_bytes() if meta.get("image") else None
    draft = item_ops.Draft(
        kind=meta["kind"],
        title=meta["title"],
        body=body,
        language=meta["language"],
        tags=meta.get("tags", []),
        alt_text=meta.get("alt_text", ""),
        image=image,
    )
    consent = meta.get("consent", {})
    choice = ConsentChoice(
        audience=consent.get("audience", "private"),
        attribution=consent.get("attribution", "anonymous"),
        pseudonym=consent.get("pseudonym", ""),
        collections=consent.get("collections", False),
        embeds=consent.get("embeds", False),
        packs=consent.get("packs", False),
        content_notes=meta.get("content_notes", []),
        method=meta.get("method", "self"),
    )
    return item_ops.contribute(by, circle, contributor, draft, choice)


def _load_collection(path: Path, items: dict[str, Item]) -> None:
    """Made as a draft, filled, then given its state: the operations check every step."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    curator = _account(data["curator"])
    circle = db.session.scalars(select(Circle).where(Circle.slug == data["circle"])).one()
    collection = collection_ops.create(
        curator, circle, data["slug"], data["title"], data.get("intro", "")
    )
    for entry in data.get("entries", []):
        collection_ops.add_entry(curator, collection, items[entry["item"]], entry.get("note", ""))
    collection_ops.set_state(curator, collection, data.get("state", "draft"))


def _profile(circle: Circle, pseudonym: str) -> Contributor | None:
    return db.session.scalar(
        select(Contributor).where(
            Contributor.circle_id == circle.id,
            Contributor.account_id.is_(None),
            Contributor.pseudonym == pseudonym,
        )
    )


def _account(username: str) -> Account:
    return db.session.scalars(select(Account).where(Account.username_key == key(username))).one()


def sign_ins_notice() -> str | None:
    """Where the demo sign-ins are kept. The passwords themselves are never printed: what
    ``scripts/serve`` prints ends up in terminals' scrollback and service logs."""
    path = _sign_ins_file()
    if not path.exists():
        return None
    return f"Demo sign-ins (usernames and passwords) are in {path}, readable only by this account."
