"""Media on an S3-compatible store, against a real one (SeaweedFS, tests/services/seaweed.py):
what is written there, erasure in a versioned bucket, serving, /healthz, backup and restore.

What every backend promises is tested in test_media_storage.py and the erasure tests, each
run against a folder and against this server."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from archive import backup
from archive.media import s3
from archive.media.storage import MediaNotFound, new_key, storage_from_config
from tests.erasure_helpers import (
    assert_erased,
    media_files,
    share,
    withdraw_signed_in,
    world,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.usefixtures("seaweed")


def location(app) -> tuple[str, str]:
    url = urlsplit(str(app.config["MEDIA_URL"]))
    return url.netloc, url.path.strip("/") + "/"


@pytest.fixture
def media_backend() -> str:
    return "s3"


@pytest.fixture
def store(media_url):
    return storage_from_config({"MEDIA_URL": media_url})


def test_objects_are_private_typed_and_where_the_url_says(store, seaweed):
    key = new_key(".webp")
    store.put(key, b"RIFF....WEBP", "image/webp")
    head = seaweed.client().head_object(Bucket=store.bucket, Key=store.prefix + key)
    assert head["ContentType"] == "image/webp" and head["ContentLength"] == 12
    assert store.prefix and store.name_for(key) == store.prefix + key
    with pytest.raises(urllib.error.HTTPError) as refused:  # no public read
        urllib.request.urlopen(f"{seaweed.endpoint}/{store.bucket}/{store.prefix}{key}", timeout=5)
    assert refused.value.code == 403
    refused.value.close()


def test_a_put_that_fails_its_checksum_stores_nothing(store, seaweed, monkeypatch):
    real = s3.hashlib.md5
    monkeypatch.setattr(s3.hashlib, "md5", lambda data, **kw: real(data + b"damaged", **kw))
    key = new_key(".webp")
    with pytest.raises(s3.ClientError, match="BadDigest"):
        store.put(key, b"what we meant to store", "image/webp")
    assert not store.exists(key)
    assert seaweed.everything_under(store.bucket, store.prefix) == []


def test_open_streams_and_a_missing_key_is_media_not_found(store):
    key = new_key(".webp")
    store.put(key, bytes(range(256)) * 1000, "image/webp")
    with store.open(key) as stream:
        assert stream.read(10) == bytes(range(10))
        assert len(stream.read()) == 256 * 1000 - 10
    store.delete(key)
    with pytest.raises(MediaNotFound):
        store.open(key)


def test_one_client_per_process_shared_by_threads(monkeypatch):
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(s3.client())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(client) for client in seen}) == 1
    assert s3.client().meta.config.retries["total_max_attempts"] == 4
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    assert s3.client() is not seen[0] and s3.client().meta.endpoint_url == "http://127.0.0.1:9"


# --- erasure in a versioned bucket ------------------------------------------------------------


@pytest.mark.parametrize("media_backend", ["s3-versioned"])
def test_erasure_removes_every_version_in_a_versioned_bucket(
    app, seaweed, make_circle, make_account, signed_in
):
    bucket, prefix = location(app)
    store = storage_from_config(app.config)
    assert store.keeps_versions()
    circle = make_circle("rang", "Rang circle")
    painter = make_account("chitra", circle=circle)
    piece = share(painter, circle, title="zqxversioned painting")
    # a second version of one file and a delete marker on another: both must go too
    first, second, *_ = piece.media_keys
    seaweed.client().put_object(Bucket=bucket, Key=prefix + first, Body=b"older bytes")
    seaweed.client().delete_object(Bucket=bucket, Key=prefix + second)
    assert len(seaweed.everything_under(bucket, prefix)) == len(piece.media_keys) + 2

    assert withdraw_signed_in(signed_in(painter), piece).status_code == 200

    assert_erased(app, piece, "contributor")
    assert seaweed.everything_under(bucket, prefix) == []


def test_an_unversioned_bucket_is_not_asked_for_versions(store, seaweed, monkeypatch):
    assert not store.keeps_versions()
    key = new_key(".webp")
    store.put(key, b"data", "image/webp")
    monkeypatch.setattr(
        s3.S3Storage,
        "_delete_every_version",
        lambda *args: pytest.fail("listed versions in an unversioned bucket"),
    )
    store.delete(key)
    assert seaweed.everything_under(store.bucket, store.prefix) == []


# --- serving ----------------------------------------------------------------------------------


def test_artwork_is_streamed_from_the_bucket_with_its_etag(app, world):
    piece = share(world["contributor"], world.home, title="zqxserved painting")
    store = storage_from_config(app.config)
    anonymous = world.viewers["anonymous"].client
    for asset, derivatives in piece.media.items():
        for name, entry in derivatives.items():
            url = f"/media/{asset}/{name}"
            served = anonymous.get(url)
            assert served.status_code == 200 and served.data == store.get(entry["key"])
            assert served.headers["Content-Length"] == str(entry["bytes"])
            assert served.headers["ETag"] == f'"{entry["sha256"]}"'
            again = anonymous.get(url, headers={"If-None-Match": served.headers["ETag"]})
            assert again.status_code == 304 and again.data == b""
            head = anonymous.head(url)
            assert head.status_code == 200 and head.data == b""


# --- /healthz ---------------------------------------------------------------------------------


def test_healthz_reports_the_bucket(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json["checks"]["media"] == "ok"


def test_healthz_is_503_when_the_store_cannot_be_reached(client, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": "ok", "index": "ok", "media": "failing"}


def test_healthz_is_503_when_the_bucket_is_not_there(make_app, seaweed):
    app = make_app(MEDIA_URL="s3://no-such-bucket/site")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["checks"]["media"] == "failing"


# --- backup and restore -----------------------------------------------------------------------


def test_backup_copies_the_bucket_and_restore_puts_it_back(app, world, tmp_path, seaweed):
    kept = share(world["contributor"], world.home, title="zqxkept painting")
    erased = share(world["contributor"], world.home, title="zqxerased painting")
    backup.backup(tmp_path / "backup")
    saved = sorted(p.name for p in (tmp_path / "backup" / "media").rglob("*") if p.is_file())
    assert saved == sorted(kept.media_keys + erased.media_keys)

    assert withdraw_signed_in(world.viewers["contributor"].client, erased).status_code == 200
    later = share(world["contributor"], world.home, title="zqxlater painting")
    store = storage_from_config(app.config)
    store.delete(kept.media_keys[0])  # lost from the bucket: the reason to restore

    backup.restore(tmp_path / "backup")

    bucket, prefix = location(app)
    assert sorted(seaweed.everything_under(bucket, prefix)) == sorted(kept.media_keys)
    assert media_files(app) == set(kept.media_keys)
    assert not media_files(app) & set(erased.media_keys + later.media_keys)
