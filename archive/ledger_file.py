"""A second, append-only copy of the consent ledger in the instance folder.

A database restored from an older backup has not seen later withdrawals; this file has, so
``restore`` replays it and an erased item never comes back. It holds the same content-free
facts as the ``ConsentEvent`` table, one JSON object a line.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from flask import current_app

from archive.models import ConsentEvent


def path() -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "consent-ledger.jsonl"


def as_line(event: ConsentEvent) -> dict:
    return {"item": event.item_public_id, "event": event.event, "change": event.change,
            "actor_role": event.actor_role, "at": event.created_at.isoformat()}


def append(lines: list[dict]) -> None:
    """Append and fsync: once the database said yes, the file must not forget."""
    append_to(path(), lines)


def append_to(target: Path, lines: list[dict]) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        for line in lines:
            handle.write(json.dumps(line, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read(source: Path | None = None) -> list[dict]:
    source = source or path()
    if not source.exists():
        return []
    return [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()
            if line.strip()]
