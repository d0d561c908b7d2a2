"""A Redis server for the tests that share rate limits between workers: Debian's
``redis-server`` on 127.0.0.1 and a free port, nothing written to disk, one per pytest worker
(session scope), stopped at the end. ``scripts/test`` installs it with apt when missing; here
its absence skips loudly, and fails under ``CI=true``."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import pytest

START_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _missing(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must run the shared rate-limit tests)", pytrace=False)
    pytest.skip(f"!! {reason}: shared rate-limit tests skipped (scripts/test installs it)")


def _answers(url: str) -> bool:
    import redis

    try:
        with redis.Redis.from_url(url, socket_connect_timeout=0.2, socket_timeout=0.2) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def _start(binary: str, folder) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    log = folder / f"redis-{port}.log"
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
            "--logfile",
            str(log),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        if _answers(url):
            return process, url
        time.sleep(0.05)
    process.kill()
    process.wait()
    said = log.read_text()[-500:] if log.exists() else ""
    raise RuntimeError(f"redis-server did not start on port {port}: {said}")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """The URL of a running Redis, for the whole session of this pytest worker."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.access(binary, os.X_OK):
        _missing("redis-server is not installed")
    folder = tmp_path_factory.mktemp("redis")
    for attempt in range(3):  # another process may take the free port first
        try:
            process, url = _start(binary, folder)
            break
        except RuntimeError:
            if attempt == 2:
                raise
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def redis_url(redis_server):
    """The session's Redis, emptied for this test."""
    import redis

    with redis.Redis.from_url(redis_server) as client:
        client.flushdb()
    return redis_server


@pytest.fixture
def unreachable_redis_url():
    """A Redis URL where nothing listens."""
    return f"redis://127.0.0.1:{_free_port()}/0"
