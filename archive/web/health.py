"""``/healthz``: is the database answering, the search index folder usable and the media
store (a folder, or an S3 bucket) reachable?"""
from __future__ import annotations

import os
from pathlib import Path

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from archive.db import db
from archive.extensions import limiter
from archive.media.storage import storage_from_config

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    checks = {"database": _database_ok(), "index": _index_ok(), "media": _media_ok()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable",
            "checks": {name: "ok" if ok else "failing" for name, ok in checks.items()}}
    return jsonify(body), 200 if healthy else 503


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure to reach the database is "unhealthy", never a 500
        current_app.logger.warning("health check: database not usable")
        db.session.rollback()
        return False


def _index_ok() -> bool:
    folder = Path(current_app.config["INDEX_DIR"])
    return folder.is_dir() and os.access(folder, os.R_OK | os.W_OK | os.X_OK)


def _media_ok() -> bool:
    try:
        storage_from_config(current_app.config).check()
        return True
    except Exception:  # an unreachable or refusing store is "unhealthy", never a 500
        current_app.logger.warning("health check: media store not usable", exc_info=True)
        return False
