"""Demo data, read from ``collections/demo/`` (data only) and loaded once per instance.

Demo passwords are made fresh for each instance and kept in its folder, so no two sites
share them and none is written in the repository.
"""
from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path

from flask import current_app

from archive.config import ROOT
from archive.db import db
from archive.models import Circle, SiteFlag
from archive.operations import accounts as account_ops
from archive.operations import circles as circle_ops

FLAG = "demo-loaded"
SOURCE = ROOT / "collections" / "demo"
WORDS = ("river", "mango", "lamp", "kite", "tulsi", "monsoon", "chai", "banyan", "lotus",
         "sparrow", "garden", "window", "thread", "pebble", "candle", "harbour")


def _sign_ins_file() -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "demo-sign-ins.txt"


def _password() -> str:
    return "-".join(secrets.choice(WORDS) for _ in range(3)) + f"-{secrets.randbelow(100)}"


def load(source: Path = SOURCE) -> bool:
    """Load the demo once; returns False if this instance already has it."""
    if db.session.get(SiteFlag, FLAG) is not None:
        return False
    data = tomllib.loads((source / "site.toml").read_text(encoding="utf-8"))
    circles = {c["slug"]: circle_ops.create_circle(c["slug"], c["name"],
                                                   c.get("description", ""),
                                                   c.get("languages", "en"))
               for c in data.get("circles", [])}
    sign_ins = [_load_account(entry, circles) for entry in data.get("accounts", [])]
    db.session.add(SiteFlag(name=FLAG))
    db.session.flush()
    _write_sign_ins(sign_ins)
    return True


def _load_account(entry: dict, circles: dict[str, Circle]) -> str:
    password = _password()
    account = account_ops.create_account(entry["username"], password,
                                         entry.get("role", "participant"),
                                         entry.get("display_name", ""), entry.get("locale"))
    for slug, role in entry.get("circles", {}).items():
        circle_ops.add_member(circles[slug], account, role)
    return f"{account.username:<12} {password:<32} {entry.get('about', account.role)}"


def _write_sign_ins(lines: list[str]) -> None:
    path = _sign_ins_file()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def sign_in_lines() -> list[str]:
    path = _sign_ins_file()
    if not path.exists():
        return []
    return ["Demo sign-ins (username, password, who they are):"] + \
        ["  " + line for line in path.read_text(encoding="utf-8").splitlines() if line]


