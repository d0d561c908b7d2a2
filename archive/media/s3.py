"""Media in a bucket of any S3-compatible store (AWS S3, SeaweedFS, MinIO, Ceph, …).

Chosen by ``ARCHIVE_MEDIA_URL=s3://bucket/prefix``. The endpoint, keys and region are read by
boto3 itself from its usual places (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``, or a profile), so they never sit in the
archive's own settings.

The archive keeps serving every file itself, through the access rule: objects are written
without any ACL (private, as the bucket is) and no presigned or public URL is ever handed
out, because a link that outlives a withdrawal would keep showing what its author took back.

Erasure must remove the bytes. In a bucket with versioning on (or suspended), deleting a key
only adds a delete marker and the old versions stay readable, so `S3Storage.delete` asks the
bucket and, where versions can exist, deletes every version of the key one by one.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import threading
from collections.abc import Iterator
from typing import Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from archive.media.storage import MediaNotFound, StoreUnavailable, check_key

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_MISSING = {"404", "NoSuchKey", "NotFound"}

#: Serving and purging: a few quick retries, never a request hanging on a dead endpoint.
WORK = Config(
    connect_timeout=5,
    read_timeout=30,
    max_pool_connections=20,
    retries={"total_max_attempts": 4, "mode": "standard"},
)
#: ``/healthz`` answers within seconds when the store is away.
PROBE = Config(
    connect_timeout=2, read_timeout=5, retries={"total_max_attempts": 1, "mode": "standard"}
)

_clients: dict[tuple, Any] = {}
_clients_lock = threading.Lock()
_ENVIRONMENT = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
)


def client(config: Config = WORK):
    """One S3 client per process (boto3 clients are thread-safe, sessions are not).

    Made again after a fork (gunicorn workers) and when the AWS_* environment changes."""
    identity = (os.getpid(), id(config), *(os.environ.get(name) for name in _ENVIRONMENT))
    with _clients_lock:
        if identity not in _clients:
            if len(_clients) > 8:  # a long-lived process whose environment keeps changing
                _clients.clear()
            _clients[identity] = boto3.session.Session().client("s3", config=config)
        return _clients[identity]


class S3Storage:
    """The `Storage` methods over one bucket, every key under ``prefix``."""

    def __init__(self, bucket: str, prefix: str = "") -> None:
        if not _BUCKET.fullmatch(bucket or ""):
            raise ValueError(
                f"MEDIA_URL: {bucket!r} is not an S3 bucket name (use s3://bucket/prefix)"
            )
        prefix = prefix.strip("/")
        if prefix:
            check_key(prefix)
        self.bucket = bucket
        self.prefix = f"{prefix}/" if prefix else ""
        self._keeps_versions: bool | None = None  # asked once per instance (one purge task)

    def name_for(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """One PutObject: the store keeps all of it or none, and checks the MD5 we send."""
        digest = hashlib.md5(data, usedforsecurity=False).digest()
        try:
            client().put_object(
                Bucket=self.bucket,
                Key=self.name_for(key),
                Body=data,
                ContentType=content_type,
                ContentMD5=base64.b64encode(digest).decode(),
            )
        except BotoCoreError as error:  # no answer: not reached, cut off, timed out
            raise StoreUnavailable(
                f"the S3 store did not answer: {type(error).__name__}"
            ) from error

    def get(self, key: str) -> bytes:
        with self.open(key) as body:
            return body.read()

    def open(self, key: str) -> BinaryIO:
        """A `StreamingBody` read from the network as it is served."""
        try:
            response = client().get_object(Bucket=self.bucket, Key=self.name_for(key))
        except ClientError as error:
            if _code(error) in _MISSING:
                raise MediaNotFound(key) from None
            raise
        return response["Body"]

    def delete(self, key: str) -> None:
        name = self.name_for(key)
        if self.keeps_versions():
            self._delete_every_version(name)
        else:
            client().delete_object(Bucket=self.bucket, Key=name)

    def exists(self, key: str) -> bool:
        try:
            client().head_object(Bucket=self.bucket, Key=self.name_for(key))
        except ClientError as error:
            if _code(error) in _MISSING:
                return False
            raise
        return True

    def keys(self) -> Iterator[str]:
        pages = (
            client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=self.prefix)
        )
        for page in pages:
            for entry in page.get("Contents", []):
                yield entry["Key"][len(self.prefix) :]

    def written_before(self, moment: float) -> Iterator[str]:
        pages = (
            client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=self.prefix)
        )
        for page in pages:
            for entry in page.get("Contents", []):
                if entry["LastModified"].timestamp() < moment:
                    yield entry["Key"][len(self.prefix) :]

    def drop_unfinished(self, moment: float) -> int:
        return 0  # a PutObject is kept whole or not at all

    def check(self) -> None:
        client(PROBE).head_bucket(Bucket=self.bucket)

    def keeps_versions(self) -> bool:
        """Whether old versions can exist: versioning is on, or was on and is suspended."""
        if self._keeps_versions is None:
            answer = client().get_bucket_versioning(Bucket=self.bucket)
            self._keeps_versions = answer.get("Status") in {"Enabled", "Suspended"}
        return self._keeps_versions

    def _delete_every_version(self, name: str) -> None:
        pages = (
            client().get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=name)
        )
        versions = [
            entry["VersionId"]
            for page in pages
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", [])
            if entry["Key"] == name
        ]
        for version in versions:
            client().delete_object(Bucket=self.bucket, Key=name, VersionId=version)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
