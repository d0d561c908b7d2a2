"""Media storage: the local backend, keys, and storing derivatives all-or-nothing.

Tests marked ``media_backends`` hold for every backend and run against a folder and against
a real S3-compatible server (SeaweedFS, tests/services/seaweed.py)."""

from __future__ import annotations

import hashlib
import io
import os
import stat

import pytest
from PIL import Image

from archive.media import storage as storage_module
from archive.media.images import Derivative, ProcessedImage, process_upload
from archive.media.s3 import S3Storage
from archive.media.storage import (
    BACKENDS,
    InvalidKey,
    LocalStorage,
    MediaNotFound,
    check_key,
    new_key,
    storage_from_config,
    store_processed,
)

BAD_KEYS = [
    "",
    ".",
    "..",
    "../secret",
    "a/../../b",
    "/etc/passwd",
    "a//b",
    "a/",
    "a\\b",
    "a b",
    "ü.webp",
    ".hidden",
    "a/.tmp-x",
    "x\0y",
    "k" * 201,
    "%2e%2e",
]


@pytest.fixture
def store(tmp_path):
    return LocalStorage(tmp_path / "media")


@pytest.fixture
def any_store(media_url):
    """The local store or an S3 one under a fresh prefix (with ``media_backends``)."""
    return storage_from_config({"MEDIA_URL": media_url})


def stored(any_store) -> list[str]:
    return sorted(any_store.keys())


def every_file(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


def mode_of(path):
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.media_backends
def test_put_get_open_exists_delete(any_store):
    key = new_key(".webp")
    assert not any_store.exists(key)
    any_store.put(key, b"first", "image/webp")
    assert any_store.exists(key) and any_store.get(key) == b"first"
    any_store.put(key, b"second", "image/webp")
    with any_store.open(key) as stream:
        assert stream.read() == b"second"
    any_store.delete(key)
    assert not any_store.exists(key)
    any_store.delete(key)  # erasure may be retried: deleting twice is fine
    assert stored(any_store) == []


@pytest.mark.media_backends
def test_missing_keys(any_store):
    key = new_key()
    with pytest.raises(MediaNotFound):
        any_store.get(key)
    with pytest.raises(MediaNotFound):
        any_store.open(key)


@pytest.mark.media_backends
def test_keys_lists_what_is_stored_and_nothing_else(any_store):
    keys = [new_key(".webp") for _ in range(3)] + ["circle/inner.webp"]
    for key in keys:
        any_store.put(key, key.encode(), "image/webp")
    assert stored(any_store) == sorted(keys)
    any_store.delete(keys[0])
    assert stored(any_store) == sorted(keys[1:])
    any_store.check()


def test_local_keys_skip_what_is_not_a_stored_file(store):
    key = new_key(".webp")
    store.put(key, b"data", "image/webp")
    (store.root / "README.md").write_text("not media")
    (store.path_for(key).parent / ".tmp-half").write_bytes(b"half")
    assert list(store.keys()) == [key]


def test_a_local_store_that_is_gone_fails_its_check(store):
    store.check()
    store.root.rmdir()
    with pytest.raises(OSError):
        store.check()


def test_files_are_fanned_out_and_private(store):
    key = new_key(".webp")
    store.put(key, b"data", "image/webp")
    path = store.path_for(key)
    first, second = path.parent.parent, path.parent
    assert first.parent == store.root and path.name == key
    assert len(first.name) == len(second.name) == 2
    assert mode_of(path) == 0o600
    assert mode_of(first) == mode_of(second) == 0o700


def test_keys_with_inner_slashes_get_private_folders(store):
    store.put("circle/artwork.webp", b"data", "image/webp")
    path = store.path_for("circle/artwork.webp")
    assert store.get("circle/artwork.webp") == b"data"
    assert mode_of(path.parent) == 0o700 and path.parent.name == "circle"


def test_a_put_leaves_no_temporary_file(store):
    keys = [new_key(".webp") for _ in range(5)]
    for key in keys:
        store.put(key, key.encode(), "image/webp")
    assert sorted(p.name for p in every_file(store.root)) == sorted(keys)


def test_a_failed_write_keeps_the_old_file_and_no_temporary(store, monkeypatch):
    key = new_key(".webp")
    store.put(key, b"old", "image/webp")

    def disk_full(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        store.put(key, b"new and much longer", "image/webp")
    monkeypatch.undo()

    assert store.get(key) == b"old"
    assert every_file(store.root) == [store.path_for(key)]


@pytest.mark.media_backends
def test_bad_keys_are_refused_everywhere(any_store):
    calls = (
        lambda key: any_store.put(key, b"x", "image/webp"),
        any_store.get,
        any_store.open,
        any_store.delete,
        any_store.exists,
    )
    for key in BAD_KEYS:
        for call in calls:
            with pytest.raises(InvalidKey):
                call(key)
    assert stored(any_store) == []


def test_new_keys_are_random_and_valid():
    keys = {new_key(".webp") for _ in range(2000)}
    assert len(keys) == 2000
    for key in keys:
        assert check_key(key) == key and key.endswith(".webp") and len(key) >= 37


def test_storage_from_config(tmp_path, monkeypatch):
    store = storage_from_config({"MEDIA_URL": tmp_path / "media"})
    assert isinstance(store, LocalStorage) and store.root == tmp_path / "media"
    monkeypatch.chdir(tmp_path)
    for url in ("relative", f"file://{tmp_path}/relative"):
        assert storage_from_config({"MEDIA_URL": url}).root == tmp_path / "relative"
    for url in ("gs://bucket/media", "ftp://host/media"):
        with pytest.raises(ValueError, match="unknown kind of store"):
            storage_from_config({"MEDIA_URL": url})
    for url in ("file://relative", "file://"):
        with pytest.raises(ValueError, match="file:///path"):
            storage_from_config({"MEDIA_URL": url})


@pytest.mark.parametrize(
    "url, bucket, prefix",
    [
        ("s3://archive-media/site-one", "archive-media", "site-one/"),
        ("s3://archive-media/site/one/", "archive-media", "site/one/"),
        ("s3://archive-media", "archive-media", ""),
        ("S3://archive.media/", "archive.media", ""),
    ],
)
def test_an_s3_url_names_bucket_and_prefix(url, bucket, prefix):
    store = storage_from_config({"MEDIA_URL": url})
    assert isinstance(store, S3Storage) and (store.bucket, store.prefix) == (bucket, prefix)
    assert store.name_for("abc.webp") == f"{prefix}abc.webp"


@pytest.mark.parametrize(
    "url",
    [
        "s3://",
        "s3:///prefix",
        "s3://Bucket_Name/x",
        "s3://ab/x",
        "s3://bucket/../x",
        "s3://bucket/a b",
    ],
)
def test_a_wrong_s3_url_stops_the_start(url, tmp_path):
    with pytest.raises(ValueError):
        storage_from_config({"MEDIA_URL": url})


def test_a_new_backend_is_one_registry_entry(monkeypatch):
    monkeypatch.setitem(BACKENDS, "memory", lambda config: MemoryStorage())
    assert isinstance(storage_from_config({"MEDIA_URL": "memory://x"}), MemoryStorage)


# --- store_processed --------------------------------------------------------------------------


class MemoryStorage:
    def __init__(self, fail_on_put: int | None = None, fail_delete: bool = False):
        self.files: dict[str, bytes] = {}
        self.puts = 0
        self.fail_on_put = fail_on_put
        self.fail_delete = fail_delete

    def put(self, key, data, content_type):
        self.puts += 1
        if self.puts == self.fail_on_put:
            raise ConnectionError("the store went away")
        self.files[key] = data

    def get(self, key):
        return self.files[key]

    def open(self, key):
        return io.BytesIO(self.files[key])

    def delete(self, key):
        if self.fail_delete:
            raise ConnectionError("still away")
        self.files.pop(key, None)

    def exists(self, key):
        return key in self.files


def fake_processed() -> ProcessedImage:
    def derivative(name, side):
        data = name.encode() * side
        return Derivative(name, side, side, data, hashlib.sha256(data).hexdigest())

    return ProcessedImage(
        "png",
        {
            "display": derivative("display", 30),
            "medium": derivative("medium", 20),
            "thumb": derivative("thumb", 10),
        },
    )


@pytest.mark.media_backends
def test_store_processed_puts_every_derivative(any_store):
    store = any_store
    picture = Image.new("RGB", (1000, 500), (40, 120, 80))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    processed = process_upload(buffer.getvalue())

    stored = store_processed(store, processed)

    assert list(stored) == ["display", "medium", "thumb", "preview"]
    assert len({entry["key"] for entry in stored.values()}) == 4
    for name, entry in stored.items():
        data = store.get(entry["key"])
        assert set(entry) == {"key", "width", "height", "bytes", "sha256", "content_type"}
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["bytes"] == len(data)
        assert entry["content_type"] == ("image/jpeg" if name == "preview" else "image/webp")
        assert (entry["width"], entry["height"]) == (
            processed.files()[name].width,
            processed.files()[name].height,
        )
    assert stored["thumb"]["width"] == 400 and stored["preview"]["key"].endswith(".jpg")


@pytest.mark.parametrize("failing_put", [1, 2, 3])
def test_store_processed_leaves_nothing_when_a_put_fails(failing_put):
    memory = MemoryStorage(fail_on_put=failing_put)
    with pytest.raises(ConnectionError, match="went away"):
        store_processed(memory, fake_processed())
    assert memory.files == {}


def test_store_processed_cleans_up_a_local_store(store, monkeypatch):
    real_put, calls = store.put, []

    def put_then_fail(key, data, content_type):
        calls.append(key)
        if len(calls) == 3:
            raise OSError("disk full")
        real_put(key, data, content_type)

    monkeypatch.setattr(store, "put", put_then_fail)

    with pytest.raises(OSError, match="disk full"):
        store_processed(store, fake_processed())
    assert every_file(store.root) == []


def test_the_original_error_wins_over_a_failed_cleanup(caplog):
    memory = MemoryStorage(fail_on_put=2, fail_delete=True)
    with pytest.raises(ConnectionError, match="went away"):
        store_processed(memory, fake_processed())
    assert "could not remove media" in caplog.text


def test_storage_module_does_not_need_pillow():
    assert "PIL" not in storage_module.__dict__ and "images" not in storage_module.__dict__
