"""Files in the media store that no media row names, and writes that never finished.

An upload stores its derivatives before the transaction that adds their media row commits
(`archive.operations.items`). A worker killed in between, or a store that went away before
the upload could take its files back, leaves files nothing names: the artwork of a piece that
was never saved, which no page serves but a backup would copy. A photo kept while its form is
fixed (`archive.web.photo_drafts`, keys under ``drafts/``) is named by no media row either:
it is used within the hour or left. ``flask purge`` (which runs every compactor) removes files
no row names once they are older than `LEFT_FOR`, and a folder's partial writes: an upload
still under way is never that old.
"""

from __future__ import annotations

import logging
import time

from flask import current_app
from sqlalchemy import select

from archive import purge
from archive.db import db
from archive.media.storage import storage_from_config
from archive.models import MediaAsset

#: seconds a file may go unnamed: far longer than any upload takes from storing to commit
LEFT_FOR = 3600
log = logging.getLogger("archive.media")


def remove() -> str:
    try:
        return _remove()
    except Exception:  # the store is away: the next run removes them
        log.exception("files no media row names were left for the next run")
        return "the store did not answer; left for the next run"


def _remove() -> str:
    storage = storage_from_config(current_app.config)
    moment = time.time() - LEFT_FOR
    old = set(storage.written_before(moment))
    named = {
        entry["key"]
        for derivatives in db.session.scalars(select(MediaAsset.derivatives))
        for entry in derivatives.values()
    }
    unnamed = old - named
    for key in unnamed:
        storage.delete(key)
    unfinished = storage.drop_unfinished(moment)
    return f"removed {len(unnamed)} file(s) no media row names, {unfinished} unfinished"


def init_app(_app) -> None:
    """``flask purge`` removes what uploads left behind, after the other clean-ups."""
    purge.COMPACTORS["media"] = remove
