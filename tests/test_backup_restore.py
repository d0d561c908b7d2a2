"""Backup and restore (design.md, "INVARIANT: withdrawal erases", step 5): a restore from a
backup taken before a withdrawal or a narrowing replays the consent ledger, so the erased
piece never comes back and the narrowed one stays narrowed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from archive.backup import DATABASE_FILES
from archive.db import db
from tests.erasure_helpers import (
    MARKER,
    change_consent,
    media_files,
    rows_of,
    share,
    text,
    withdraw_signed_in,
    world,  # noqa: F401  (fixture)
)
from tests.services import postgres

pytestmark = pytest.mark.both_databases


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_a_restore_never_brings_back_what_was_withdrawn_or_widens_what_was_narrowed(
    app, world, runner, tmp_path
):
    contributor = world["contributor"]
    erased = share(
        contributor, world.home, title=f"{MARKER} erased", tags=("ek",), audience="public"
    )
    narrowed = share(
        contributor,
        world.home,
        title=f"{MARKER} narrowed",
        tags=("do",),
        kind="poem",
        audience="public",
    )
    kept = share(
        world["member"],
        world.home,
        title="Still here",
        tags=("teen",),
        kind="story",
        audience="public",
    )
    backup = tmp_path / "backup-before"
    taken = runner.invoke(args=["backup", str(backup)])
    assert taken.exit_code == 0, taken.output
    assert (backup / DATABASE_FILES[postgres.backend()]).is_file()
    assert set(erased.media_keys) <= {p.name for p in (backup / "media").rglob("*")}

    client = world.viewers["contributor"].client
    assert withdraw_signed_in(client, erased).status_code == 200
    assert change_consent(client, narrowed, audience="circle").status_code == 302
    db.session.remove()

    restored = runner.invoke(args=["restore", str(backup), "--yes"])

    assert restored.exit_code == 0, restored.output
    assert "replayed 2 later consent events" in restored.output
    db.session.remove()
    item = erased.item()
    assert item.state == "withdrawn" and item.kind is None and item.circle_id is None
    assert rows_of(erased.id) == {"Revision": 0, "RevisionTag": 0, "MediaAsset": 0, "Consent": 0}
    assert not media_files(app) & set(erased.media_keys), "the backup's files came back"
    assert narrowed.item().consent.audience == "circle"
    assert kept.item().state == "active" and kept.item().consent.audience == "public"

    anonymous = world.viewers["anonymous"].client
    assert anonymous.get(erased.url).status_code == 410
    for url in erased.media_urls:
        assert anonymous.get(url).status_code == 404
    assert anonymous.get(narrowed.url).status_code == 404
    assert anonymous.get(kept.url).status_code == 200
    assert MARKER not in text(anonymous.get("/"))
    assert world.viewers["member"].client.get(narrowed.url).status_code == 200


def test_restoring_twice_replays_nothing_new(app, world, runner, tmp_path):
    piece = share(world["contributor"], world.home, title=f"{MARKER} twice", audience="public")
    backup = tmp_path / "backup"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    assert withdraw_signed_in(world.viewers["contributor"].client, piece).status_code == 200
    db.session.remove()

    for _time in range(2):
        result = runner.invoke(args=["restore", str(backup), "--yes"])
        assert result.exit_code == 0, result.output
        db.session.remove()
        assert piece.item().state == "withdrawn"
        assert not media_files(app) & set(piece.media_keys)


def test_backup_refuses_a_folder_that_exists(app, world, runner, tmp_path):
    share(world["contributor"], world.home, title="A piece", audience="public")
    existing = tmp_path / "already-here"
    existing.mkdir()
    (existing / "notes.txt").write_text("someone's notes")

    result = runner.invoke(args=["backup", str(existing)])

    assert result.exit_code != 0
    assert "Error" in result.output and str(existing) in result.output
    assert sorted(p.name for p in existing.iterdir()) == ["notes.txt"]
    assert (existing / "notes.txt").read_text() == "someone's notes"


def test_restore_asks_before_replacing_the_site(app, world, runner, tmp_path):
    piece = share(world["contributor"], world.home, title="A piece", audience="public")
    backup = tmp_path / "backup"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0

    result = runner.invoke(args=["restore", str(backup)], input="n\n")

    assert result.exit_code != 0
    assert piece.item().state == "active"


def test_restore_refuses_a_folder_without_a_backup(app, runner, tmp_path):
    empty = Path(tmp_path / "empty")
    empty.mkdir()
    result = runner.invoke(args=["restore", str(empty), "--yes"])
    assert result.exit_code != 0
    assert f"holds no {DATABASE_FILES[postgres.backend()]}" in result.output


# --- every later consent change survives a restore ------------------------------------------


def restore_after(runner, backup):
    result = runner.invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    return result


def test_a_later_content_note_survives_a_restore(app, world, runner, tmp_path):
    piece = share(
        world["contributor"], world.home, title="A hard night", kind="poem", audience="public"
    )
    backup = tmp_path / "backup"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    client = world.viewers["contributor"].client
    assert change_consent(client, piece, content_notes=["self-harm"]).status_code == 302
    db.session.remove()

    restore_after(runner, backup)

    assert piece.item().consent.content_notes == ["self-harm"]


def test_a_narrowing_with_a_review_date_that_has_since_passed_survives(
    app, world, runner, tmp_path, monkeypatch
):
    from archive import access
    from archive.operations import consent as consent_ops

    piece = share(
        world["contributor"], world.home, title="Soon private", kind="poem", audience="public"
    )
    backup = tmp_path / "backup"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    review = access.today() + timedelta(days=7)
    client = world.viewers["contributor"].client
    assert (
        change_consent(client, piece, audience="circle", review_by=review.isoformat()).status_code
        == 302
    )
    db.session.remove()
    later = review + timedelta(days=30)
    monkeypatch.setattr(access, "today", lambda: later)
    monkeypatch.setattr(consent_ops, "today", lambda: later)

    restore_after(runner, backup)

    consent = piece.item().consent
    assert consent.audience == "circle" and consent.review_by == review
    assert world.viewers["anonymous"].client.get(piece.url).status_code == 404


def test_a_narrowing_together_with_a_new_pseudonym_survives(app, world, runner, tmp_path):
    piece = share(
        world["contributor"],
        world.home,
        title="Signed anew",
        kind="poem",
        audience="public",
        attribution="anonymous",
    )
    backup = tmp_path / "backup"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    client = world.viewers["contributor"].client
    assert (
        change_consent(
            client, piece, audience="circle", attribution="pseudonym", pseudonym="zqxnewname"
        ).status_code
        == 302
    )
    db.session.remove()

    restore_after(runner, backup)

    consent = piece.item().consent
    assert consent.audience == "circle"
    assert consent.attribution == "anonymous", "the new pseudonym is not known: unsigned"
    assert world.viewers["anonymous"].client.get(piece.url).status_code == 404


def test_a_replay_step_that_is_refused_does_not_stop_the_restore(app, world, runner, tmp_path):
    """A change the restored site cannot apply (here: a content note from a newer version)
    is skipped; the withdrawals after it are still replayed."""
    from archive import ledger_file
    from archive.db import utcnow

    odd = share(world["contributor"], world.home, title="Odd", kind="poem", audience="public")
    erased = share(world["contributor"], world.home, title=f"{MARKER} gone", audience="public")
    backup = tmp_path / "backup"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    ledger_file.append(
        [
            {
                "item": odd.public_id,
                "event": "changed",
                "actor_role": "contributor",
                "change": {"content_notes": [[], ["a-note-from-a-newer-version"]]},
                "at": utcnow().isoformat(),
            }
        ]
    )
    assert withdraw_signed_in(world.viewers["contributor"].client, erased).status_code == 200
    db.session.remove()

    restore_after(runner, backup)

    assert erased.item().state == "withdrawn"
    assert not media_files(app) & set(erased.media_keys)
    assert odd.item().state == "active" and odd.item().consent.content_notes == []


def test_a_restore_that_fails_puts_the_site_back_as_it_was(
    app, world, runner, tmp_path, monkeypatch
):
    piece = share(world["contributor"], world.home, title=f"{MARKER} failing", audience="public")
    backup = tmp_path / "backup"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    assert withdraw_signed_in(world.viewers["contributor"].client, piece).status_code == 200
    db.session.remove()

    def broken_replay(_lines):
        raise RuntimeError("disk full")

    monkeypatch.setattr("archive.backup.replay", broken_replay)
    result = runner.invoke(args=["restore", str(backup), "--yes"])

    assert result.exit_code != 0
    db.session.remove()
    assert piece.item().state == "withdrawn", "a failed restore brought an erased item back"
    assert not media_files(app) & set(piece.media_keys)
    assert not list(
        Path(app.config["DATABASE_URL"].removeprefix("sqlite:///")).parent.glob("*.before-restore")
    )
    assert world.viewers["anonymous"].client.get(piece.url).status_code == 410
