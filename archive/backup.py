"""Backup and restore of a site: the database, the media, and the consent ledger. A restore
replays the newer ledger, so whatever was withdrawn or narrowed after the backup was taken
stays withdrawn or narrowed.

The database goes into the backup folder as ``archive.sqlite3`` (SQLite's online backup) or
``archive.pgdump`` (PostgreSQL: ``pg_dump --format=custom``, read back with ``pg_restore``;
both must be installed and of the server's version or newer). The media (from a folder or an
S3 bucket, through the storage interface) go into the backup's own ``media/`` folder."""

from __future__ import annotations

import json
import logging
import mimetypes
import os
import shutil
import sqlite3
import subprocess
from datetime import date
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from archive import ledger_file, owner_only, purge
from archive.db import commit, db, utcnow
from archive.media.storage import LocalStorage, MediaNotFound, Storage, storage_from_config
from archive.models import ConsentEvent, Item
from archive.operations import Refused
from archive.operations.consent import current_choice, replay_change
from archive.operations.withdraw import replay_erase

log = logging.getLogger("archive.backup")


class BackupError(Exception):
    pass


#: the database's file in a backup folder, by kind of database
DATABASE_FILES = {"sqlite": "archive.sqlite3", "postgresql": "archive.pgdump"}


def _kind() -> str:
    kind = db.engine.url.get_backend_name()
    if kind not in DATABASE_FILES or (kind == "sqlite" and not db.engine.url.database):
        raise BackupError(f"backup/restore covers SQLite and PostgreSQL databases, not {kind}")
    return kind


def _database_file() -> Path:
    database = db.engine.url.database
    if not database:
        raise BackupError("the SQLite database has no file to copy")
    return Path(database)


def _postgres(program: str, *arguments: str) -> None:
    """Run pg_dump or pg_restore against the site's database; the password travels in the
    environment, never on a command line."""
    if shutil.which(program) is None:
        raise BackupError(
            f"{program} is not installed (Debian: apt-get install "
            "postgresql-client); it is needed to back up a PostgreSQL site"
        )
    url = db.engine.url
    env = {
        **os.environ,
        "PGHOST": url.host or "",
        "PGPORT": str(url.port or 5432),
        "PGUSER": url.username or "",
        "PGDATABASE": url.database or "",
    }
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    done = subprocess.run([program, *arguments], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{program} failed: {done.stderr.strip()[-2000:]}")


def _dump(target: Path) -> None:
    if _kind() == "postgresql":
        _postgres("pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}")
        return
    source = sqlite3.connect(_database_file())
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()


def _load_dump(source: Path) -> None:
    """Replace every table of the PostgreSQL database with those in ``source``, in one
    transaction."""
    _postgres(
        "pg_restore",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={db.engine.url.database}",
        str(source),
    )


def backup(destination: Path) -> dict:
    """Write a consistent copy of the site into ``destination`` (a new folder), readable by
    the site's owner alone: it holds everything the site does."""
    kind = _kind()
    destination.mkdir(mode=0o700, parents=True, exist_ok=False)
    purge.run_pending()
    _dump(destination / DATABASE_FILES[kind])
    _copy(storage_from_config(current_app.config), LocalStorage(destination / "media"))
    events = [ledger_file.as_line(e) for e in db.session.scalars(select(ConsentEvent))]
    ledger_file.append_to(destination / "consent-ledger.jsonl", events)
    manifest = {
        "taken_at": utcnow().isoformat(),
        "items": _count(Item),
        "ledger_events": len(events),
    }
    (destination / "manifest.json").write_text(json.dumps(manifest, indent=2))
    owner_only.tighten_tree(destination)
    return manifest


def restore(source: Path) -> dict:
    """Put a backup back in place, then replay every later consent event. If anything
    fails before the replay is committed, the site as it was is put back: a restore never
    leaves erased items served again."""
    kind = _kind()
    if not (source / DATABASE_FILES[kind]).exists() or not (source / "media").is_dir():
        raise BackupError(f"{source} holds no {DATABASE_FILES[kind]} and media folder")
    newer = _ledger_now()
    store, saved = storage_from_config(current_app.config), LocalStorage(source / "media")
    before = set(store.keys())
    _close_database()
    if kind == "sqlite":
        database = _database_file()
        kept = _set_aside([Path(f"{database}{suffix}") for suffix in ("", "-wal", "-shm")])
    else:
        present = Path(current_app.config["INSTANCE_DIR"]) / "archive.pgdump.before-restore"
        _dump(present)
        kept = {present: present}
    added: set[str] = set()
    try:
        if kind == "sqlite":
            shutil.copy2(source / "archive.sqlite3", database)
            owner_only.tighten_path(database)  # a backup made by an older version was 0644
        else:
            _load_dump(source / "archive.pgdump")
        _copy(saved, store, skip=before, copied=added)
        _bring_up_to_date()
        replayed = replay(newer)
        commit()
    except BaseException:
        db.session.rollback()
        _close_database()
        if kind == "postgresql":
            _load_dump(kept.pop(present))
            present.unlink()
        _put_back(kept)
        _delete(store, added)
        raise
    if kind == "postgresql":
        kept.pop(present).unlink()
    _discard(kept)
    # what the restored database does not know of: media of pieces shared after the backup
    _delete(store, before - set(saved.keys()))
    purge.run_pending()
    from archive.search import rebuild

    rebuild.reindex()
    return {"restored_from": str(source), "replayed": replayed}


def _bring_up_to_date() -> None:
    """A backup made by an older version holds an older schema: its migrations run before
    the replay, which reads and writes through today's models. (A database made from the
    models without migrations, as the tests make them, records no version: left as it is.)"""
    from archive import migrate

    if migrate.current_heads():
        migrate.upgrade()


def _copy(
    source: Storage,
    target: Storage,
    skip: frozenset[str] | set[str] = frozenset(),
    copied: set[str] | None = None,
) -> set[str]:
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
        except Exception:
            log.warning("could not remove media %s after a restore", key, exc_info=True)


def _close_database() -> None:
    db.session.remove()
    db.engine.dispose()


def _set_aside(paths: list[Path]) -> dict[Path, Path]:
    kept = {}
    for path in paths:
        if path.exists():
            aside = path.with_name(path.name + ".before-restore")
            shutil.rmtree(aside, ignore_errors=True) if aside.is_dir() else aside.unlink(
                missing_ok=True
            )
            path.rename(aside)
            kept[path] = aside
    return kept


def _put_back(kept: dict[Path, Path]) -> None:
    for path, aside in kept.items():
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
        aside.rename(path)


def _discard(kept: dict[Path, Path]) -> None:
    for aside in kept.values():
        shutil.rmtree(aside, ignore_errors=True) if aside.is_dir() else aside.unlink(
            missing_ok=True
        )


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
            replay_erase(item)
            count += 1
        elif line["event"] == "changed" and _apply_later_change(item, line["change"]):
            count += 1
    return count


def _apply_later_change(item: Item, changed: dict) -> bool:
    if item.consent is None:
        return False
    choice = current_choice(item.consent)
    fields = {
        "audience": "audience",
        "attribution": "attribution",
        "allow_collections": "collections",
        "allow_embeds": "embeds",
        "allow_packs": "packs",
    }
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
        replay_change(item, choice)
    except Refused:
        return False
    return True


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0
