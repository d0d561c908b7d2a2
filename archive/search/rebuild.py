"""Rebuilding the index from the database, and telling when it must be rebuilt."""

from __future__ import annotations

import gc
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Optional

from flask import current_app
from sqlalchemy import select
from whoosh import index as whoosh_index

from archive.db import db
from archive.models import Contributor, IndexTask, Item
from archive.search import index
from archive.search.engine.codec import ArchiveCodec, ArchiveSegment
from archive.search.engine.searching import table
from archive.search.engine.writers import open_writer
from archive.search.schema import entry, make_schema
from archive.search.sync import Mark, active_count, catch_up

#: a word found in at least this many entries is "common": phrases of two common words are
#: matched through their pair term (see `CommonPairs`); with a rarer word, at most this many
#: entries have their word positions checked
COMMON_MIN_ENTRIES = 500
COMMON_SAMPLE = 4000
COMMON_MAX_WORDS = 4000
REINDEX_MEMORY_MB = 2048


def reindex(
    progress: Callable[[int], None] = lambda n: None, procs: int = 1, batch: int = 500
) -> int:
    """Rebuild the whole index from the database into a fresh folder, then swap it in."""
    target = index.folder()
    fresh = target.with_name(target.name + ".new")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    ix = whoosh_index.create_in(fresh, make_schema(common_words()))
    # postings are sorted in memory when they fit, else pickled to temporary files one by
    # one and merged (a third of the time of a rebuild): ~170 bytes each, ~150 per entry,
    # so 100k entries over two processes need ~1.3 GB each
    limit = REINDEX_MEMORY_MB
    w = open_writer(ix, procs=procs, limitmb=limit)
    # go on from the live index's generation: a searcher held by another thread or worker
    # compares generation numbers only, and would take a fresh 1 for the 1 it has open
    w.generation = max(w.generation, _generation(target) + 1)
    # every task committed so far is in what is read below; later ones are applied after
    mark = Mark(whole=True)
    mark.advance(list(db.session.execute(select(IndexTask.id, IndexTask.created_at))))
    count = 0
    # a rebuild makes millions of small objects it keeps (postings) and no reference
    # cycles: the collector's passes over them took a tenth of the time (the writer's
    # processes, forked meanwhile, inherit this)
    collecting = gc.isenabled()
    gc.disable()
    try:
        for chunk in _active_entries(batch):
            for fields in chunk:
                w.add_document(**fields)
            count += len(chunk)
            progress(len(chunk))
        w.commit()
    finally:
        if collecting:
            gc.enable()
    mark.write(fresh)
    _swap(fresh, target)
    catch_up()
    return count


def common_words(min_entries: Optional[int] = None, sample: int = COMMON_SAMPLE) -> frozenset:
    """The words found in at least ``min_entries`` (`COMMON_MIN_ENTRIES`) active entries,
    estimated from an even sample of them (the index is being rebuilt: it cannot be asked)."""
    from archive.search.analyzer import index_words

    min_entries = min_entries or COMMON_MIN_ENTRIES
    total = active_count()
    if total < min_entries:
        return frozenset()
    step = max(1, total // sample)
    ids = select(Item.id).where(Item.state == "active").order_by(Item.id)
    chosen = list(db.session.scalars(ids))[::step]
    counts: Counter = Counter()
    for start in range(0, len(chosen), 500):
        for _id, fields in _entries(Item.id.in_(chosen[start : start + 500])):
            counts.update(set(index_words(fields["content"])))
    needed = min_entries * len(chosen) / total
    return frozenset(word for word, n in counts.most_common(COMMON_MAX_WORDS) if n >= needed)


def outdated(ix: Optional[whoosh_index.Index] = None) -> bool:
    """Whether the index was built with other fields or analyzers than this version's, or
    holds segments in another postings format (it is then rebuilt by ``flask setup``)."""
    try:
        toc = table(ix or index.get_index())
        current, segments = toc.schema, toc.segments
    except Exception:  # noqa: BLE001 — a schema this version cannot even read
        return True
    if any(
        type(segment) is not ArchiveSegment or type(segment.codec()) is not ArchiveCodec
        for segment in segments
    ):
        return True
    wanted = make_schema()
    return sorted(current.names()) != sorted(wanted.names()) or any(
        type(getattr(current[name], part, None)) is not type(getattr(wanted[name], part, None))
        for name in wanted.names()
        for part in ("analyzer", "format")
    )


def _generation(path: Path) -> int:
    try:
        return whoosh_index.open_dir(path).latest_generation()
    except Exception:  # noqa: BLE001 — no index there, or one this version cannot read
        return -1


def _active_entries(batch: int):
    """The index entries of every active item, ``batch`` at a time."""
    last = 0
    while True:
        chunk = _entries(Item.id > last, limit=batch)
        if not chunk:
            return
        last = chunk[-1][0]
        yield [fields for _id, fields in chunk]


def _entries(condition, limit: Optional[int] = None) -> list[tuple[int, dict]]:
    """(item id, index entry) of the active items meeting ``condition``, in id order, read
    as rows: loading each item, revision, consent and contributor as objects took two
    thirds of the time of the process feeding a rebuild (`schema.entry` makes the same
    entry as `schema.document` does from the objects)."""
    from archive.access import shown_as
    from archive.models import Account, Consent, Revision

    query = (
        select(
            Item.id,
            Item.public_id,
            Item.kind,
            Item.circle_id,
            Item.contributor_id,
            Item.updated_at,
            Revision.id,
            Revision.title,
            Revision.body,
            Revision.alt_text,
            Revision.language,
            Consent.audience,
            Consent.review_by,
            Consent.attribution,
            Consent.pseudonym,
            Contributor.account_id,
            Contributor.pseudonym,
            Account.display_name,
            Account.username,
        )
        .join(Revision, Revision.id == Item.current_revision_id)
        .join(Consent, Consent.item_id == Item.id)
        .join(Contributor, Contributor.id == Item.contributor_id)
        .outerjoin(Account, Account.id == Contributor.account_id)
        .where(Item.state == "active", condition)
        .order_by(Item.id)
        .limit(limit)
    )
    rows = db.session.execute(query).all()
    tags = _tags_of([row[6] for row in rows])
    found = []
    for (
        item_id,
        public_id,
        kind,
        circle_id,
        contributor_id,
        updated_at,
        revision_id,
        title,
        body,
        alt_text,
        language,
        audience,
        review_by,
        attribution,
        pseudonym,
        account_id,
        contributor_pseudonym,
        display_name,
        username,
    ) in rows:
        # as `Contributor.name`: the account's shown name, else the pseudonym its steward keeps
        name = (display_name or username) if username is not None else contributor_pseudonym or ""
        found.append(
            (
                item_id,
                entry(
                    # an active item has a kind (a CHECK says so)
                    public_id=public_id,
                    kind=kind or "",
                    circle_id=circle_id,
                    contributor_id=contributor_id,
                    has_account=account_id is not None,
                    updated_at=updated_at,
                    title=title,
                    body=body,
                    tags=tags.get(revision_id, []),
                    alt_text=alt_text,
                    language=language,
                    audience=audience,
                    review_by=review_by,
                    byline=shown_as(attribution, pseudonym, name),
                ),
            )
        )
    return found


def _tags_of(revision_ids: list[int]) -> dict[int, list[str]]:
    """Each revision's tags in their order, read in one query per thousand revisions."""
    from archive.models import RevisionTag

    tags: dict[int, list[str]] = {}
    for start in range(0, len(revision_ids), 1000):
        chunk = revision_ids[start : start + 1000]
        for revision_id, tag in db.session.execute(
            select(RevisionTag.revision_id, RevisionTag.tag)
            .where(RevisionTag.revision_id.in_(chunk))
            .order_by(RevisionTag.revision_id, RevisionTag.position)
        ):
            tags.setdefault(revision_id, []).append(tag)
    return tags


def _swap(fresh: Path, target: Path) -> None:
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    index.forget(target)
    if target.exists():
        target.rename(old)
    fresh.rename(target)
    index.forget(target)  # and what a search opened meanwhile
    shutil.rmtree(old, ignore_errors=True)


def check() -> dict[str, list[str]]:
    """Where the database and the index disagree: items missing from the index, entries
    for items that are gone or withdrawn."""
    in_db = set(db.session.scalars(select(Item.public_id).where(Item.state == "active")))
    with index.get_index().searcher() as s:
        in_index = {fields["id"] for fields in s.all_stored_fields()}
    return {"missing": sorted(in_db - in_index), "extra": sorted(in_index - in_db)}


def needs_rebuild() -> Optional[str]:
    """Why this machine's index cannot be brought up to date from the kept tasks, if so."""
    if outdated():
        return "the index was built by another version"
    mark = Mark.read() or Mark.first()
    if not mark.whole and active_count():
        return "the index has no record of being complete"
    if mark.lost():
        days = current_app.config["INDEX_TASK_DAYS"]
        return f"the index was last brought up to date more than {days} days ago"
    return None
