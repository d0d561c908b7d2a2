"""A site's files are readable by the account that runs it and nobody else.

The database (with its WAL and shared-memory files), the search index, the secret key and
backups hold every private piece and every password hash. New files are made owner-only by
the process's umask (set here by ``create_app`` and by ``scripts/serve``); a site started by
an older version, or a file copied in by hand, is tightened at start-up.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

#: the permission bits a site's files never carry: read, write or enter by group or others
OTHERS = 0o077


def restrict_umask() -> None:
    """From now on this process makes files 0600 and folders 0700 (a stricter umask stays)."""
    current = os.umask(OTHERS)
    os.umask(current | OTHERS)


def tighten(config: Mapping) -> None:
    """Take group and other permissions off the instance folder, the index folder and the
    SQLite database files, wherever they are."""
    for folder in (config["INSTANCE_DIR"], config["INDEX_DIR"]):
        tighten_tree(Path(folder))
    for path in database_files(str(config.get("DATABASE_URL") or "")):
        tighten_path(path)


def database_files(url: str) -> list[Path]:
    """A SQLite database's file and the journals SQLite keeps beside it."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url[len(prefix) :] in ("", ":memory:"):
        return []
    database = Path(url[len(prefix) :].split("?", 1)[0])
    return [Path(f"{database}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")]


def tighten_tree(root: Path) -> None:
    if not root.is_dir() or root.is_symlink():
        tighten_path(root)
        return
    tighten_path(root)
    for folder, folders, files in os.walk(root):
        for name in (*folders, *files):
            tighten_path(Path(folder) / name)


def tighten_path(path: Path) -> None:
    """Remove group/other bits; symbolic links and missing files are left alone."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode) or not stat.S_IMODE(mode) & OTHERS:
        return
    os.chmod(path, stat.S_IMODE(mode) & ~OTHERS)
