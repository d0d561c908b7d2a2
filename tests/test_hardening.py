"""A site that keeps its secrets on its own machine: owner-only files, logs without tokens or
words, sessions and tokens that end together, no caching of bearer answers, numbers out of
range, one canonical address, and bylines kept current in the search index."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from archive import create_app
from archive.backup import backup
from archive.db import db
from archive.operations.accounts import create_account
from archive.operations.circles import add_member, create_circle
from tests.conftest import PASSWORD, config_for_tests
from tests.public_helpers import offer


# --- 1. private by default on disk -----------------------------------------------------------

@pytest.fixture
def loose_umask():
    """The umask a shell usually starts with; the app must not rely on it."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def _open_to_others(paths) -> list[str]:
    loose = []
    for path in paths:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            loose.append(f"{path} {mode:o}")
    return loose


def _tree(root: Path) -> list[Path]:
    return [root, *root.rglob("*")]


def test_a_fresh_site_its_writes_and_backups_are_the_owners_alone(loose_umask, tmp_path):
    config = config_for_tests(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'db' / 'site.db'}")
    (tmp_path / "db").mkdir()
    app = create_app(config)
    with app.test_request_context():
        db.create_all()
        circle = create_circle("river-circle", "River circle")
        asha = create_account("asha", PASSWORD)
        add_member(circle, asha, "participant")
        offer(asha, circle, title="A poem about the river")
        backup(tmp_path / "backups" / "today")
        database = tmp_path / "db" / "site.db"
        files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
        assert all(path.exists() for path in files)
        watched = [*files, *_tree(tmp_path / "instance"), *_tree(tmp_path / "index"),
                   *_tree(tmp_path / "backups" / "today")]
        assert len(list((tmp_path / "index").iterdir())) > 1
        assert _open_to_others(watched) == []
        db.session.remove()


def test_an_older_site_is_tightened_at_start_up(loose_umask, tmp_path):
    instance, index = tmp_path / "instance", tmp_path / "index"
    (instance / "packs").mkdir(parents=True)
    index.mkdir()
    database = instance / "archive.sqlite3"
    for path in (database, Path(f"{database}-wal"), instance / "secret_key",
                 instance / "packs" / "old.zip", index / "_MAIN_1.toc"):
        path.write_text("x")
        path.chmod(0o644)
    for folder in (instance, instance / "packs", index):
        folder.chmod(0o755)
    config = config_for_tests(tmp_path, DATABASE_URL=f"sqlite:///{database}")
    create_app(config)
    assert _open_to_others([*_tree(instance), *_tree(index)]) == []
    assert stat.S_IMODE((instance / "packs" / "old.zip").stat().st_mode) == 0o600
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700


def test_the_umask_stays_owner_only_after_the_app_is_built(loose_umask, tmp_path):
    create_app(config_for_tests(tmp_path))
    made = tmp_path / "made-later"
    made.write_text("x")
    assert stat.S_IMODE(made.stat().st_mode) == 0o600
