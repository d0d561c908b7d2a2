"""Backup and restore of an embedded site: the SQLite database (online backup API), the
media (from a folder or an S3 bucket, through the storage interface, into the backup's own
``media/`` folder), and the consent ledger. A restore replays the newer ledger, so whatever was
withdrawn or narrowed after the backup was taken stays withdrawn or narrowed."""
from __future__ import annotations

import json
import logging
import mimetypes
import shutil
import sqlite3
from datetime import date
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from archive import ledger_file, purge
from archive.db import commit, db, utcnow
from archive.media.storage import LocalStorage, MediaNotFound, Storage, storage_from_config
from archive.models import ConsentEvent, Item
from archive.operations import Refused
from archive.operations.consent import change, current_choice
from archive.operations.withdraw import erase

log = logging.getLogger("archive.backup")


class BackupError(Exception):
    pass


def _database_file() -> Path:
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database:
        raise BackupError("backup/restore here covers the embedded SQLite database; for "
                          "PostgreSQL use pg_dump (see the README's deployment notes)")
    return Path(url.database)


def backup(destination: Path) -> dict:
    """Write a consistent copy of the site into ``destination`` (a new folder)."""
    destination.mkdir(parents=True, exist_ok=False)
    database = _database_file()
    purge.run_pending()
    source = sqlite3.connect(database)
    target = sqlite3.connect(destination / "archive.sqlite3")
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    _copy(storage_from_config(current_app.config), LocalStorage(destination / "media"))
    events = [ledger_file.as_line(e) for e in db.session.scalars(select(ConsentEvent))]
    ledger_file.append_to(destination / "consent-ledger.jsonl", events)
    manifest = {"taken_at": utcnow().isoformat(), "items": _count(Item),
                "ledger_events": len(events)}
    (destination / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def restore(source: Path) -> dict:
    """Put a backup back in place, then replay every later consent event. If anything
    fails before the replay is committed, the site as it was is put back: a restore never
    leaves erased items served again."""
    if not (source / "archive.sqlite3").exists() or not (source / "media").is_dir():
        raise BackupError(f"{source} holds no archive.sqlite3 and media folder")
    newer = _ledger_now()
    database = _database_file()
    store, saved = storage_from_config(current_app.config), LocalStorage(source / "media")
    before = set(store.keys())
    _close_database()
    kept = _set_aside([Path(f"{database}{suffix}") for suffix in ("", "-wal", "-shm")])
    added: set[str] = set()
    try:
        shutil.copy2(source / "archive.sqlite3", database)
        _copy(saved, store, skip=before, copied=added)
        replayed = replay(newer)
        commit()
    except BaseException:
        db.session.rollback()
        _close_database()
        _put_back(kept)
        _delete(store, added)
        raise
    _discard(kept)
    # what the restored database does not know of: media of pieces shared after the backup
    _delete(store, before - set(saved.keys()))
    purge.run_pending()
    from archive.search import index
    index.reindex()
    return {"restored_from": str(source), "replayed": replayed}


def _copy(source: Storage, target: Storage, skip: set[str] = frozenset(),
          copied: set[str] | None = None) -> set[str]:
    """Copy every file of ``source`` not in ``skip`` (a key never changes what it holds),
    noting each key in ``copied`` as soon as it is there, so a failure can take them out."""
    copied = set() if copied is None else copied
    for key in source.keys():
        if key in skip:
            continue
        try:
            data = source.get(key)
        except MediaNotFound:  # erased while we were copying: it is meant to be gone
            continue
        target.put(key, data, mimetypes.guess_type(key)[0] or "application/octet-stream")
        copied.add(key)
    return copied


def _delete(store: Storage, keys: set[str]) -> None:
    for key in keys:
        try:
            store.delete(key)
        except Exception:  # noqa: BLE001 — the restore's own outcome is what to report
            log.warning("could not remove media %s after a restore", key, exc_info=True)


def _close_database() -> None:
    db.session.remove()
    db.engine.dispose()


def _set_aside(paths: list[Path]) -> dict[Path, Path]:
    kept = {}
    for path in paths:
        if path.exists():
            aside = path.with_name(path.name + ".before-restore")
            shutil.rmtree(aside, ignore_errors=True) if aside.is_dir() else \
                aside.unlink(missing_ok=True)
            path.rename(aside)
            kept[path] = aside
    return kept


def _put_back(kept: dict[Path, Path]) -> None:
    for path, aside in kept.items():
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else \
            path.unlink(missing_ok=True)
        aside.rename(path)


def _discard(kept: dict[Path, Path]) -> None:
    for aside in kept.values():
        shutil.rmtree(aside, ignore_errors=True) if aside.is_dir() else \
            aside.unlink(missing_ok=True)


def _ledger_now() -> list[dict]:
    """Everything the site knows now, from the file and (if readable) the database."""
    lines = ledger_file.read()
    try:
        lines += [ledger_file.as_line(e) for e in db.session.scalars(select(ConsentEvent))]
    except Exception:  # noqa: BLE001 — a damaged database is a reason to restore
        db.session.rollback()
    return lines


def replay(lines: list[dict]) -> int:
    """Apply the withdrawals and consent changes the restored database has not seen."""
    seen = db.session.scalar(select(func.max(ConsentEvent.created_at)))
    cutoff = seen.isoformat() if seen else ""
    count = 0
    for line in sorted(lines, key=lambda line: line["at"]):
        if line["at"] <= cutoff:
            continue
        item = db.session.scalar(select(Item).where(Item.public_id == line["item"]))
        if item is None or item.state != "active" or item.consent is None:
            continue
        if line["event"] == "withdrawn":
            erase(item, None, "replay")
            count += 1
        elif line["event"] == "changed" and _apply_later_change(item, line["change"]):
            count += 1
    return count


def _apply_later_change(item: Item, changed: dict) -> bool:
    choice = current_choice(item.consent)
    fields = {"audience": "audience", "attribution": "attribution",
              "allow_collections": "collections", "allow_embeds": "embeds",
              "allow_packs": "packs"}
    for name, attribute in fields.items():
        if name in changed:
            setattr(choice, attribute, changed[name][1])
    if "content_notes" in changed:
        choice.content_notes = list(changed["content_notes"][1] or [])
    if "review_by" in changed:
        value = changed["review_by"][1]
        choice.review_by = date.fromisoformat(value) if value else None
    if "pseudonym" in changed and choice.attribution == "pseudonym":
        # the ledger never holds the new pseudonym, and the restored one is the name the
        # contributor moved away from: unsigned is the only choice that widens nothing
        choice.attribution, choice.pseudonym = "anonymous", ""
    if current_choice(item.consent) == choice:
        return False
    try:
        change(item, choice, None, "replay", may_widen=True, allow_past_review=True)
    except Refused:
        return False
    return True


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))
