"""A throwaway PostgreSQL cluster on 127.0.0.1 for the tests (Debian's postgresql-15 or any
``initdb``/``pg_ctl`` found), started once per test session and removed at its end.

``initdb`` refuses to run as root: as root the cluster belongs to the ``postgres`` user
(``runuser -u postgres --``) in a temporary folder given to it. Durability is off
(``--no-sync``, ``fsync=off``): the cluster lives for one test session.

Fixtures: ``pg_server`` (session: the running cluster) and ``pg_url`` (a fresh, empty
database per test). Tests that need them skip, saying why, only when no PostgreSQL binaries
are installed (``make test`` installs them on a machine that lacks them).
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from digest.store import Store

    StoreFactory = Callable[[], Store]
else:
    StoreFactory = Callable

START_TIMEOUT_SECONDS = 60


def find_bindir() -> Path | None:
    """The folder with ``initdb`` and ``pg_ctl``: $DIGEST_TEST_PG_BIN, Debian's newest, or PATH."""
    candidates = [os.environ.get("DIGEST_TEST_PG_BIN", "")]
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
    )
    found = shutil.which("initdb")
    candidates += [str(Path(found).parent)] if found else []
    for folder in filter(None, candidates):
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """A running cluster: ``url(dbname)`` connects as the superuser ``postgres`` (trust)."""

    bindir: Path
    root: Path
    port: int
    as_postgres: bool
    _databases: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str, timeout: float = START_TIMEOUT_SECONDS) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        done = subprocess.run(
            [*prefix, *args], capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr.strip()[-2000:]}")

    def start(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "--encoding=UTF8",
            "--no-locale",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "start",
            "-w",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bindir / "pg_ctl"), "stop", "-D", str(self.data), "-m", "immediate")

    def new_database(self) -> str:
        """An empty database of its own (``CREATE DATABASE`` from template0); its URL."""
        import psycopg

        name = f"t{os.getpid()}_{next(self._databases)}"
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)


def start_server() -> PgServer:
    bindir = find_bindir()
    if bindir is None:
        raise FileNotFoundError("initdb/pg_ctl not found (apt-get install postgresql)")
    as_postgres = os.geteuid() == 0
    root = Path(tempfile.mkdtemp(prefix="digest-pg-"))
    if as_postgres:
        shutil.chown(root, "postgres", "postgres")
    server = PgServer(bindir=bindir, root=root, port=_free_port(), as_postgres=as_postgres)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        try:
            server.start()
            return server
        except RuntimeError:  # the port got taken between our probe and the start: another
            shutil.rmtree(server.data, ignore_errors=True)
            if time.monotonic() > deadline:
                shutil.rmtree(root, ignore_errors=True)
                raise
            server.port = _free_port()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    if find_bindir() is None:
        pytest.skip(
            "PostgreSQL binaries (initdb, pg_ctl) not installed: apt-get install postgresql"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed: pip install -e '.[test]'")
    server = start_server()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """The URL of a fresh, empty database on the session's cluster."""
    yield pg_server.new_database()
    from digest.store.postgres import close_pools

    close_pools()  # this test's connections go (a session holds hundreds of databases)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each store backend in turn (a test taking it runs twice)."""
    return str(request.param)


@pytest.fixture
def store_factory(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """Opens this test's store on ``backend`` (the same database each call)."""
    from digest.store import Store

    if backend == "sqlite":
        path = tmp_path / "s.sqlite3"
        return lambda: Store(path)
    from digest.store.postgres import PostgresStore

    url = request.getfixturevalue("pg_url")
    return lambda: PostgresStore(url)


@pytest.fixture
def make_backend_settings(
    backend: str, make_settings: Callable[..., Any], request: pytest.FixtureRequest
) -> Callable[..., Any]:
    """``make_settings`` on ``backend``: the PostgreSQL one adds ``store.url`` (a fresh
    database); open the store with ``digest.store.open_store(settings.store)``."""
    if backend == "sqlite":
        return make_settings
    url = request.getfixturevalue("pg_url")

    def make(*overrides: str, **kwargs: Any) -> Any:
        return make_settings(f"store.url='{url}'", *overrides, **kwargs)

    return make
