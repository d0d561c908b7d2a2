"""Where derivatives are kept: a small interface, a local-folder backend, and `store_processed`.

Keys are random and carry no meaning (no title, no filename, no person), so a listing of the
store or a log line naming a key reveals nothing. One setting, ``MEDIA_URL``, says where media
live: a folder (the default, ``media/``) or ``s3://bucket/prefix`` for any S3-compatible store
(`archive.media.s3`). A new backend is a class with the `Storage` methods plus one entry in
`BACKENDS`, named by the URL's scheme.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from archive.media.images import ProcessedImage

log = logging.getLogger(__name__)

_KEY = re.compile(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*")
_MAX_KEY_LENGTH = 200
#: a stored derivative's file name ends as its type does
SUFFIXES = {"image/webp": ".webp", "image/jpeg": ".jpg"}


class InvalidKey(ValueError):
    """A key that could name something outside the store, or that we never hand out."""


class MediaNotFound(LookupError):
    """No file is stored under this key (it may have been erased)."""


class StoreUnavailable(OSError):
    """The store did not answer (a network store that is away or timed out)."""


class Storage(Protocol):
    """What the archive needs from a place that keeps media files."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` completely or not at all, replacing what was there."""

    def get(self, key: str) -> bytes:
        """The stored bytes; `MediaNotFound` if there are none."""

    def open(self, key: str) -> BinaryIO:
        """A readable binary stream for serving; the caller closes it."""

    def delete(self, key: str) -> None:
        """Remove the file; a key with nothing stored is not an error (erasure is retried)."""

    def exists(self, key: str) -> bool:
        """Whether something is stored under ``key``."""

    def keys(self) -> Iterator[str]:
        """Every key stored (for backups), in no particular order."""

    def written_before(self, moment: float) -> Iterator[str]:
        """Every key whose file was stored before ``moment`` (seconds since the epoch)."""

    def drop_unfinished(self, moment: float) -> int:
        """Remove what writes begun before ``moment`` and never finished left (a worker
        killed in the middle of `put`); returns how many."""

    def check(self) -> None:
        """Raise if the store cannot be reached or written to (``/healthz``)."""


def new_key(suffix: str = "") -> str:
    """An unguessable key (192 random bits), e.g. ``new_key(".webp")``."""
    key = secrets.token_urlsafe(24) + suffix
    return check_key(key)


def check_key(key: str) -> str:
    """Return ``key`` if it is safe to use as a relative path, else raise `InvalidKey`."""
    if not isinstance(key, str) or len(key) > _MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise InvalidKey("media keys use only A-Z a-z 0-9 _ . - and inner slashes")
    if any(part.startswith(".") for part in key.split("/")):
        raise InvalidKey("no part of a media key may start with a dot")
    return key


class LocalStorage:
    """Files in a folder on this machine, fanned out over two levels of 256 folders each.

    The fan-out comes from a hash of the key, so any valid key spreads evenly. Writes go to a
    temporary file in the target folder, are flushed to disk, then renamed into place: a reader
    sees the old file or the new one, never half of one. Files are 0600, folders 0700.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def path_for(self, key: str) -> Path:
        digest = hashlib.sha256(check_key(key).encode()).hexdigest()
        return self.root / digest[:2] / digest[2:4] / key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self.path_for(key)
        self._make_folders(path.parent)
        handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _sync_folder(path.parent)

    def get(self, key: str) -> bytes:
        with self.open(key) as file:
            return file.read()

    def open(self, key: str) -> BinaryIO:
        try:
            return self.path_for(key).open("rb")
        except (FileNotFoundError, NotADirectoryError):
            raise MediaNotFound(key) from None

    def delete(self, key: str) -> None:
        path = self.path_for(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        _sync_folder(path.parent)

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def keys(self) -> Iterator[str]:
        for fan in sorted(self.root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]")):
            for path in sorted(fan.rglob("*")):
                key = path.relative_to(fan).as_posix()
                if (
                    path.is_file()
                    and _KEY.fullmatch(key)
                    and not any(part.startswith(".") for part in key.split("/"))
                ):
                    yield key

    def written_before(self, moment: float) -> Iterator[str]:
        for key in self.keys():
            try:
                if self.path_for(key).stat().st_mtime < moment:
                    yield key
            except FileNotFoundError:
                continue

    def drop_unfinished(self, moment: float) -> int:
        dropped = 0
        for path in self.root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/**/.tmp-*"):
            try:
                if path.is_file() and path.stat().st_mtime < moment:
                    path.unlink()
                    dropped += 1
            except FileNotFoundError:
                continue
        return dropped

    def check(self) -> None:
        if not (self.root.is_dir() and os.access(self.root, os.R_OK | os.W_OK | os.X_OK)):
            raise OSError(f"the media folder {self.root} is not usable")

    def _make_folders(self, folder: Path) -> None:
        """Create each missing folder 0700 (``mkdir(parents=True)`` ignores the mode)."""
        missing = []
        while folder != self.root and not folder.is_dir():
            missing.append(folder)
            folder = folder.parent
        for each in reversed(missing):
            each.mkdir(mode=0o700, exist_ok=True)


class Streamed:
    """A stored file as a WSGI body, read a piece at a time (a large derivative is never held
    whole); closed once it is all sent, or when the server closes a response it did not send
    (a HEAD request, a client gone)."""

    piece = 64 * 1024

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream

    def __iter__(self) -> Iterator[bytes]:
        try:
            while data := self.stream.read(self.piece):
                yield data
        finally:
            self.stream.close()

    def close(self) -> None:
        self.stream.close()


def _sync_folder(folder: Path) -> None:
    """Make a rename or unlink in ``folder`` survive a power cut."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _local_from_config(config: Mapping[str, Any]) -> Storage:
    return LocalStorage(media_folder(config))


def _s3_from_config(config: Mapping[str, Any]) -> Storage:
    from archive.media.s3 import S3Storage  # boto3 is imported only by sites that use it

    location = urlsplit(str(config["MEDIA_URL"]))
    return S3Storage(location.netloc, location.path)


#: ``MEDIA_URL`` scheme -> factory taking the app configuration ("" is a folder).
BACKENDS: dict[str, Callable[[Mapping[str, Any]], Storage]] = {
    "": _local_from_config,
    "file": _local_from_config,
    "s3": _s3_from_config,
}


def media_scheme(config: Mapping[str, Any]) -> str:
    """The backend ``MEDIA_URL`` names: "" for a folder, else its URL scheme ("s3")."""
    url = config.get("MEDIA_URL")
    if not url or isinstance(url, Path) or "://" not in str(url):
        return ""
    scheme = urlsplit(str(url)).scheme.lower()
    if scheme not in BACKENDS:
        raise ValueError(
            f"MEDIA_URL: unknown kind of store {scheme!r}; "
            f"use a folder or one of: {', '.join(s for s in BACKENDS if s)}://"
        )
    return scheme


def media_folder(config: Mapping[str, Any]) -> Path:
    """The local media folder ``MEDIA_URL`` names (a path, or ``file://`` and a path)."""
    url = str(config["MEDIA_URL"])
    if url.lower().startswith("file://"):
        parts = urlsplit(url)
        if parts.netloc or not parts.path:
            raise ValueError("MEDIA_URL: a file:// URL names a folder as file:///path")
        url = parts.path
    return Path(url).expanduser().resolve()


def storage_from_config(config: Mapping[str, Any]) -> Storage:
    """The storage backend ``MEDIA_URL`` names: a folder (default) or ``s3://bucket/prefix``."""
    return BACKENDS[media_scheme(config)](config)


def store_processed(storage: Storage, processed: ProcessedImage) -> dict[str, dict[str, Any]]:
    """Put every derivative under a fresh key; all of them are stored, or none is.

    Returns ``{name: {key, width, height, bytes, sha256, content_type}}`` for the media row.
    """
    stored: dict[str, dict[str, Any]] = {}
    attempted: list[str] = []
    try:
        for name, derivative in processed.files().items():
            key = new_key(SUFFIXES.get(derivative.content_type, ""))
            attempted.append(key)
            storage.put(key, derivative.data, derivative.content_type)
            stored[name] = {
                "key": key,
                "width": derivative.width,
                "height": derivative.height,
                "bytes": derivative.byte_size,
                "sha256": derivative.sha256,
                "content_type": derivative.content_type,
            }
    except BaseException:
        _delete_quietly(storage, attempted)
        raise
    return stored


def _delete_quietly(storage: Storage, keys: list[str]) -> None:
    """Best-effort cleanup while another error is on its way up; that error is the one to see."""
    for key in keys:
        try:
            storage.delete(key)
        except Exception:
            log.warning("could not remove media %s after a failed upload", key, exc_info=True)
