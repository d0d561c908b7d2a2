"""``/healthz``: is the database answering, the search index usable and caught up, the media
store (a folder, or an S3 bucket) reachable, and (when rate limits are shared through
Redis) Redis reachable?"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from archive.db import db
from archive.extensions import limiter
from archive.media.storage import storage_from_config
from archive.search import rebuild, sync

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """503 when this node cannot serve. A shared rate-limit store that does not answer is
    "degraded" with 200: the node still serves correctly, counting limits per worker, and
    a load balancer must not take every node out because one shared Redis is down."""
    database = _database_ok()
    checks = {"database": database, "index": _index_ok(database), "media": _media_ok()}
    healthy = all(checks.values())
    status = "ok" if healthy else "unavailable"
    if _rate_limits_shared():
        checks["rate_limits"] = _rate_limit_store_ok()
        if healthy and not checks["rate_limits"]:
            status = "degraded"
    body = {
        "status": status,
        "checks": {name: "ok" if ok else "failing" for name, ok in checks.items()},
    }
    return jsonify(body), 200 if healthy else 503


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001  (any failure to reach the database is "unhealthy")
        current_app.logger.warning("health check: database not usable")
        db.session.rollback()
        return False


def _index_ok(database: bool) -> bool:
    """The folder is usable, and (when the database answers) this machine's index has
    caught up with the archive's changes — a load balancer's health checks keep a quiet
    machine's index current. One that cannot be caught up, away longer than tasks are
    kept, must be rebuilt first."""
    folder = Path(current_app.config["INDEX_DIR"])
    if not (folder.is_dir() and os.access(folder, os.R_OK | os.W_OK | os.X_OK)):
        return False
    if not database:
        return True
    try:
        sync.catch_up(wait=sync.SEARCH_WAIT)
        reason = rebuild.needs_rebuild()
    except Exception:
        current_app.logger.warning("health check: search index not usable", exc_info=True)
        db.session.rollback()
        return False
    if reason:
        current_app.logger.warning("health check: search index needs a rebuild: %s", reason)
    return reason is None


def _rate_limits_shared() -> bool:
    return not current_app.config["RATELIMIT_STORAGE_URI"].startswith("memory://")


def _rate_limit_store_ok() -> bool:
    if limiter.storage.check():  # a ping; any failure to answer is False
        return True
    current_app.logger.warning(
        "health check: rate-limit store not answering; "
        "limits are counted per worker until it answers"
    )
    return False


def _media_ok() -> bool:
    try:
        storage_from_config(current_app.config).check()
        return True
    except Exception:  # an unreachable or refusing store is "unhealthy", never a 500
        current_app.logger.warning("health check: media store not usable", exc_info=True)
        return False
