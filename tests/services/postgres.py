"""A throwaway PostgreSQL for the tests, and the machinery that runs chosen modules on both
databases.

A module opts in with ``pytestmark = pytest.mark.both_databases``: each of its tests then
runs once on SQLite and once on PostgreSQL (ids ``[sqlite]`` and ``[postgresql]``), and
``config_for_tests`` hands every test a fresh database of the running kind. On PostgreSQL a
fresh database is a copy of a template whose tables were made from the models once per
process (``CREATE DATABASE … TEMPLATE``), dropped when the test ends.

The server: ``ARCHIVE_TEST_POSTGRES_URL`` (a superuser URL, as ``scripts/test`` exports) or,
when it is not given, one started here on 127.0.0.1 on the first test that needs it: Debian's
binaries, ``initdb --locale=C.UTF-8 -E UTF8`` as the ``postgres`` user when we run as root,
a data folder under a temporary folder, a free port; stopped when the process ends.
Without the binaries the PostgreSQL runs are skipped and the summary says so loudly; with
``CI=true`` they fail instead.

Also runnable: ``python -m tests.services.postgres start FOLDER`` prints a URL for a new
server whose data lives in FOLDER; ``python -m tests.services.postgres stop FOLDER``.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import weakref
from itertools import count
from pathlib import Path
from typing import Optional

import pytest

URL_VARIABLE = "ARCHIVE_TEST_POSTGRES_URL"
FOLDER_VARIABLE = "ARCHIVE_TEST_POSTGRES_DIR"
SKIP_REASON = "PostgreSQL is not available"
ROLE = "archive"
BACKENDS = ("sqlite", "postgresql")


# --- the server ---------------------------------------------------------------------------


def binaries() -> Optional[Path]:
    """The folder holding initdb and pg_ctl: Debian's newest version, or pg_config's."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parent.parent.name),
    )
    if found:
        return Path(found[-1]).parent
    if shutil.which("pg_config"):
        folder = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        if (Path(folder.stdout.strip()) / "initdb").exists():
            return Path(folder.stdout.strip())
    return None


def _as_server_user(command: list[str], folder: Path) -> list[str]:
    """PostgreSQL refuses to run as root: hand the folder and the command to ``postgres``."""
    if os.geteuid() != 0:
        return command
    user = "postgres" if _user_exists("postgres") else "nobody"
    entry = pwd.getpwnam(user)
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return ["runuser", "-u", user, "--", *command]


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(folder: Path) -> str:
    """Create and start a server whose files live in ``folder``; returns a superuser URL."""
    bindir = binaries()
    if bindir is None:
        raise RuntimeError("no PostgreSQL binaries (apt-get install postgresql postgresql-contrib)")
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "data"
    _run(
        _as_server_user(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "--locale=C.UTF-8",
                "-E",
                "UTF8",
                "-U",
                ROLE,
                "--auth=trust",
                "-N",
            ],
            folder,
        )
    )
    port = _free_port()
    options = (
        f"-h 127.0.0.1 -p {port} -k {data} -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=300 "
        # autovacuum's ANALYZE holds a snapshot: an erasure vacuumed meanwhile would
        # keep the rows that snapshot can still see (the tests run ANALYZE themselves)
        "-c autovacuum=off"
    )
    _run(
        _as_server_user(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(folder / "server.log"),
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "start",
            ],
            folder,
        )
    )
    (folder / "port").write_text(str(port))
    return f"postgresql+psycopg://{ROLE}@127.0.0.1:{port}/postgres"


def stop(folder: Path) -> None:
    bindir = binaries()
    data = folder / "data"
    if bindir is not None and (data / "postmaster.pid").exists():
        subprocess.run(
            _as_server_user(
                [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], folder
            ),
            capture_output=True,
            text=True,
        )
    shutil.rmtree(folder, ignore_errors=True)


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:6])} failed:\n{done.stdout}\n{done.stderr}")


class Server:
    """The server this process uses: given by URL, or started here on first need."""

    def __init__(self) -> None:
        self.url: Optional[str] = os.environ.get(URL_VARIABLE) or None
        self.problem: Optional[str] = None
        #: the server's own folder, when its files can be read here
        self.folder: Optional[Path] = (
            Path(os.environ[FOLDER_VARIABLE]) if os.environ.get(FOLDER_VARIABLE) else None
        )
        self.template: Optional[str] = None
        self.numbers = count(1)
        self.created: dict[tuple, str] = {}

    def ensure(self) -> str:
        if self.url is None and self.problem is None:
            self.folder = Path(tempfile.mkdtemp(prefix="archive-pg-"))
            try:
                self.url = start(self.folder)
            except (RuntimeError, OSError) as error:
                self.problem = str(error)
                stop(self.folder)
            else:
                atexit.register(stop, self.folder)
        if self.url is None:
            raise LookupError(self.problem)
        return self.url

    def admin(self):
        from sqlalchemy.engine import make_url

        return _connect(make_url(self.ensure()).database or "postgres")

    def url_for(self, name: str) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.ensure()).set(database=name).render_as_string(hide_password=False)

    def database(self, key: tuple, empty: bool = False) -> str:
        """A new database for ``key`` (made once per key): empty, or with every table."""
        if key not in self.created:
            name = f"archive_{os.getpid()}_{next(self.numbers)}"
            template = "template1" if empty else self._template()
            with self.admin() as connection:
                connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            self.created[key] = name
        return self.url_for(self.created[key])

    def _template(self) -> str:
        if self.template is None:
            from sqlalchemy import create_engine

            from archive import models  # noqa: F401  (registers the tables)
            from archive.db import db

            name = f"archive_{os.getpid()}_template"
            with self.admin() as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
                connection.execute(f'CREATE DATABASE "{name}"')
            engine = create_engine(self.url_for(name))
            try:
                db.metadata.create_all(engine)
            finally:
                engine.dispose()
            self.template = name
        return self.template

    def drop(self, keys) -> None:
        names = [self.created.pop(key) for key in keys if key in self.created]
        if not names:
            return
        _dispose_engines_of(set(names))
        with self.admin() as connection:
            for name in names:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


SERVER = Server()
_engines: weakref.WeakSet = weakref.WeakSet()


def _remember_engines() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "engine_connect")
    def _seen(connection) -> None:
        if connection.engine.dialect.name == "postgresql":
            _engines.add(connection.engine)


def _dispose_engines_of(names: set[str]) -> None:
    """Close every connection to a database before it goes: sessions a test left open give
    theirs back, then the pools close them (none is left for the garbage collector)."""
    from sqlalchemy.orm import close_all_sessions

    close_all_sessions()
    for engine in list(_engines):
        if engine.url.database in names:
            engine.dispose()


# --- which database the running test uses -------------------------------------------------

_state = {"backend": "sqlite"}


def backend() -> str:
    return _state["backend"]


def database_url(folder: Path, empty: bool = False) -> str:
    """The database of the running test: a SQLite file in ``folder``, or on PostgreSQL a
    fresh database (the same one for the same folder throughout the test)."""
    if backend() == "sqlite":
        return f"sqlite:///{Path(folder) / 'test.sqlite3'}"
    return SERVER.database((str(folder), empty), empty=empty)


def with_tables(url: str) -> bool:
    """Give a SQLite database that does not exist yet every table, from a file made once
    per test process (PostgreSQL's come from a template database already). True if it did:
    creating the tables took a tenth of a test's set-up."""
    prefix = "sqlite:///"
    path = Path(url[len(prefix) :]) if isinstance(url, str) and url.startswith(prefix) else None
    if path is None or path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_sqlite_template(), path)
    return True


_sqlite: dict = {}


def _sqlite_template() -> Path:
    """A SQLite file with every table, made once per test process (see `with_tables`)."""
    if "template" not in _sqlite:
        from sqlalchemy import create_engine

        from archive import models  # noqa: F401  (registers the tables)
        from archive.db import db

        folder = Path(tempfile.mkdtemp(prefix="archive-sqlite-template-"))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / "template.sqlite3"
        engine = create_engine(f"sqlite:///{path}")
        try:
            db.metadata.create_all(engine)
            with engine.connect() as connection:  # every table in the file itself
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            engine.dispose()
        _sqlite["template"] = path
    return _sqlite["template"]


def end_test_transaction() -> None:
    """Before a request, the test body's own transaction ends (its changes committed).

    On PostgreSQL an open transaction holds its read locks until it ends, and a request
    that withdraws something rewrites the erased tables (``VACUUM FULL``), which waits for
    every reader. A person's browser holds no transaction between requests; a test body
    should not either. (SQLite takes no such locks; nothing changes there.)"""
    from flask import has_app_context

    from archive.db import db

    if backend() == "postgresql" and has_app_context():
        db.session.commit()


def empty_database_url(folder: Path) -> str:
    """A database without any table (for migrations)."""
    return database_url(folder, empty=True)


# --- pytest -------------------------------------------------------------------------------


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "both_databases: run each test on SQLite and again on PostgreSQL"
    )
    config.addinivalue_line(
        "markers",
        "any_database: in a both_databases module, a test whose rule is decided in Python "
        "(a permission, a page's wording) and not by the database: it runs on SQLite alone",
    )
    _remember_engines()


def pytest_generate_tests(metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("both_databases")
    if marker:  # both_databases("postgresql"): a module about PostgreSQL alone
        kinds = marker.args or BACKENDS
        if metafunc.definition.get_closest_marker("any_database"):
            kinds = ("sqlite",)
        metafunc.parametrize("database", kinds, indirect=True, scope="module")


@pytest.fixture(scope="module", autouse=True)
def database(request):
    """The kind of database the tests of this module run on (SQLite unless parametrized)."""
    kind = getattr(request, "param", "sqlite")
    if kind == "postgresql":
        try:
            SERVER.ensure()
        except LookupError as problem:
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"{SKIP_REASON} and CI=true: {problem}")
            pytest.skip(f"{SKIP_REASON}: {problem}")
    _state["backend"] = kind
    yield kind
    _state["backend"] = "sqlite"
    SERVER.drop(set(SERVER.created))  # what the module's own fixtures made goes with it


@pytest.fixture(autouse=True)
def _fresh_databases_dropped():
    """Databases a test made are dropped when it ends (module-wide ones with the module)."""
    before = set(SERVER.created)
    yield
    SERVER.drop(set(SERVER.created) - before)


def pytest_sessionfinish(session) -> None:
    if SERVER.created:
        SERVER.drop(set(SERVER.created))
    if SERVER.template is not None:
        with SERVER.admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{SERVER.template}" WITH (FORCE)')


def pytest_terminal_summary(terminalreporter) -> None:
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if SKIP_REASON in str(getattr(report, "longrepr", ""))
    ]
    if skipped:
        terminalreporter.write_sep(
            "!", f"{len(skipped)} PostgreSQL runs were SKIPPED", red=True, bold=True
        )
        terminalreporter.write_line(
            "PostgreSQL could not be started here, so the archive was tested on SQLite "
            "only. Install Debian's postgresql and postgresql-contrib, or set "
            f"{URL_VARIABLE} to a superuser URL.",
            red=True,
            bold=True,
        )


def main(arguments: list[str]) -> int:
    if len(arguments) != 2 or arguments[0] not in {"start", "stop"}:
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        return 2
    folder = Path(arguments[1])
    if arguments[0] == "start":
        print(start(folder))
    else:
        stop(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


# --- what the database's own pages still hold ---------------------------------------------

PAGES_HOLDING = """
SELECT c.oid::regclass::text, block
FROM pg_class c
CROSS JOIN LATERAL generate_series(
    0, pg_relation_size(c.oid) / current_setting('block_size')::int - 1) AS block
WHERE c.relkind IN ('r', 'i', 't', 'm', 'S')
  AND position(%s::bytea IN get_raw_page(c.oid::regclass::text, 'main', block::int)) > 0
"""


def pages_holding(url: str, needles: dict[str, bytes]) -> list[str]:
    """Every page of every relation of the database at ``url`` (tables, indexes, TOAST and
    the catalogs, dead tuples and free space included) that holds one of ``needles``, read
    with ``pageinspect`` after a CHECKPOINT; and, when this process runs the server, every
    file of that database on disk."""
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    found = []
    with SERVER.admin() as admin:
        admin.execute("CHECKPOINT")
    with _connect(name) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        for label, raw in needles.items():
            found += [
                f"{label} in page {block} of {relation}"
                for relation, block in connection.execute(PAGES_HOLDING, [raw])
            ]
        oid = connection.execute(
            "SELECT oid FROM pg_database WHERE datname = current_database()"
        ).fetchone()[0]
        if SERVER.folder is not None:
            for path in sorted((SERVER.folder / "data" / "base" / str(oid)).iterdir()):
                data = path.read_bytes()
                found += [
                    f"{label} in file base/{oid}/{path.name} "
                    f"({_relation_of(connection, path.name)})"
                    for label, raw in needles.items()
                    if raw in data
                ]
    return found


def _relation_of(connection, filename: str) -> str:
    node = filename.split("_")[0].split(".")[0]
    if not node.isdigit():
        return "not a relation"
    name = connection.execute("SELECT pg_filenode_relation(0, %s)::text", [int(node)]).fetchone()[0]
    return name or "a file no relation uses any more"


def _connect(name: str):
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(SERVER.ensure())
    return psycopg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        dbname=name,
        autocommit=True,
    )


def database_contents(url: str) -> bytes:
    """What the database at ``url`` holds: every row of the archive's tables as text, and
    every page of those tables, their indexes and TOAST (dead tuples included)."""
    from sqlalchemy.engine import make_url

    with _connect(make_url(url).database) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        ]
        rows = [
            str(row[0])
            for table in tables
            for row in connection.execute(f'SELECT t::text FROM "{table}" t')
        ]
        pages = [
            bytes(row[0])
            for row in connection.execute("""
            SELECT get_raw_page(c.oid::regclass::text, 'main', block::int)
            FROM pg_class c
            CROSS JOIN LATERAL generate_series(
                0, pg_relation_size(c.oid) / current_setting('block_size')::int - 1) AS block
            WHERE c.relkind IN ('r', 'i', 't')
              AND (c.relnamespace = 'public'::regnamespace OR c.oid IN (
                  SELECT reltoastrelid FROM pg_class
                  WHERE relnamespace = 'public'::regnamespace))""")
        ]
    return "\n".join(rows).encode("utf-8") + b"".join(pages)
