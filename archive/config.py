"""Defaults for every setting, each overridable by an ``ARCHIVE_*`` environment variable.

Several independent sites can run from one checkout by giving each its own
``ARCHIVE_INSTANCE_DIR`` (and, where wanted, database, media and index locations).
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
#: An installed copy (a wheel) carries the repository's top-level `templates/` and
#: `collections/demo/` inside the package; a checkout (or an editable install) reads them
#: where they are.
INSTALLED = (PACKAGE / "templates").is_dir()
SHIPPED = PACKAGE if INSTALLED else ROOT
#: Where a site keeps what it makes unless told otherwise (instance/, media/, offline packs):
#: the checkout, or for an installed copy `<prefix>/var/living-archive`, as Flask places an
#: installed package's instance folder (never inside site-packages).
HOME = Path(sys.prefix) / "var" / "living-archive" if INSTALLED else ROOT

#: name -> (default, type). Types: str, int, bool, path, location (a path or a URL).
SETTINGS: dict[str, tuple[object, str]] = {
    "INSTANCE_DIR": (HOME / "instance", "path"),
    "DATABASE_URL": (None, "str"),
    "MEDIA_URL": (HOME / "media", "location"),
    "INDEX_DIR": (None, "path"),
    "SECRET_KEY": (None, "str"),
    "DEMO": (True, "bool"),
    "REDIS_URL": (None, "str"),
    "SECURE_COOKIES": (False, "bool"),
    "PROXY_FIX": (False, "bool"),
    "BASE_URL": (None, "str"),
    "LOGIN_RATE_LIMIT": ("10 per minute;50 per hour", "str"),
    #: sign-in limits (README, "Sign-in limits"): tries per typed username from any address
    #: (a sign-in that works starts it afresh), and failed tries per address for any username
    #: (with tries of unknown or spent password links)
    "SIGN_IN_ACCOUNT_LIMIT": ("5 per 15 minutes", "str"),
    "SIGN_IN_ADDRESS_LIMIT": ("60 per 15 minutes;300 per day", "str"),
    "PASSWORD_RESET_HOURS": (24, "int"),
    "CODE_RATE_LIMIT": ("10 per 15 minutes;30 per day", "str"),
    "INVITE_DAYS": (7, "int"),
    "INDEX_COMPACT_DELAY": (20, "int"),
    "BACKGROUND_WORK": (True, "bool"),
    "DATABASE_PURGE_DELAY": (30, "int"),
    "INDEX_TASK_DAYS": (7, "int"),
    "TIMEZONE": ("Asia/Kolkata", "str"),
    "ARGON2_TIME_COST": (3, "int"),
    "ARGON2_MEMORY_COST": (65536, "int"),
}


def _parse(raw: str, kind: str) -> object:
    if kind == "bool":
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if kind == "int":
        return int(raw)
    if kind == "path" or (kind == "location" and "://" not in raw):
        return Path(raw).expanduser().resolve()
    return raw


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """Read every known setting from ``ARCHIVE_*`` variables, falling back to defaults."""
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for name, (default, kind) in SETTINGS.items():
        raw = environ.get(f"ARCHIVE_{name}")
        values[name] = default if raw in (None, "") else _parse(raw, kind)
    return values


def finish(values: dict[str, object]) -> dict[str, object]:
    """Fill the settings that depend on others: database, index folder and secret key."""
    instance = Path(str(values["INSTANCE_DIR"]))
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not values.get("DATABASE_URL"):
        values["DATABASE_URL"] = f"sqlite:///{instance / 'archive.sqlite3'}"
    if not values.get("INDEX_DIR"):
        values["INDEX_DIR"] = instance / "index"
    if not values.get("SECRET_KEY"):
        values["SECRET_KEY"] = _instance_secret(instance / "secret_key")
    return values


def _instance_secret(path: Path) -> str:
    """A secret generated once per instance and kept across restarts."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
