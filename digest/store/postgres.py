"""The PostgreSQL store: the same tables, migrations and queries as the SQLite one, in a
shared database that several machines use at once (``[store].url = "postgresql://…"``).

``PostgresStore`` is the SQLite ``Store`` with another connection: ``PgConnection`` takes
our SQL and runs it in PostgreSQL's dialect (``digest.store.dialect``), so the store, the
ledger and the thread book have one text per query. Connections come from a psycopg pool
per database URL and process (a daemon reuses them from run to run).

Migrations are the numbered ones of ``digest.schema``, applied under a PostgreSQL advisory
lock: of many instances starting at once, one migrates and the others wait, then find the
schema current. The schema version is the one row of ``digest_schema`` (SQLite keeps it in
``PRAGMA user_version``).
"""

from __future__ import annotations

import atexit
import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, cast

import psycopg
from psycopg_pool import ConnectionPool

from digest.config import redacted_url as redacted
from digest.errors import StoreError, StoreFault
from digest.schema import MIGRATIONS, SCHEMA_VERSION
from digest.store.dialect import numbered_parameters, to_postgres
from digest.store.sqlite import Store

MIGRATION_LOCK = 0x64696765  # pg_advisory_lock key: "dige"
VERSION_TABLE = "digest_schema"
POOL_MAX_SIZE = 8


class QueryClock:
    """Seconds this process spent in store queries (sent, run, answered): the workers log
    the database's share of each job's time with it (``bench/scale.py`` sums them)."""

    seconds = 0.0


_pools: dict[tuple[str, float], ConnectionPool[psycopg.Connection[Any]]] = {}
_pools_lock = threading.Lock()


def pool(
    url: str, *, timeout: float, idle_transaction_seconds: float = 0.0
) -> ConnectionPool[psycopg.Connection[Any]]:
    """This process's pool for ``url`` (opened on first use; closed at exit). Its sessions
    are ended by the server when idle inside a transaction for ``idle_transaction_seconds``
    (0: never): a frozen process cannot hold row locks forever."""
    key = (url, idle_transaction_seconds)
    with _pools_lock:
        found = _pools.get(key)
        if found is None:
            # one plain connection first: a database that is down or refuses us says why at
            # once (a pool would retry in the background until its timeout)
            psycopg.connect(url, connect_timeout=max(1, round(timeout))).close()
            found = ConnectionPool(
                url,
                min_size=1,
                max_size=POOL_MAX_SIZE,
                kwargs={"autocommit": True},
                configure=_session_settings(idle_transaction_seconds),
                # a connection the server ended while it sat in the pool is replaced
                check=ConnectionPool.check_connection,
                open=False,
                name=redacted(url),
            )
            try:
                found.open(wait=True, timeout=timeout)
            except BaseException:
                found.close()
                raise
            _pools[key] = found
        return found


def _session_settings(idle_transaction_seconds: float) -> Any:
    milliseconds = str(round(idle_transaction_seconds * 1000))

    def configure(conn: psycopg.Connection[Any]) -> None:
        # set_config, not SET: SET takes no bound parameters
        conn.execute(
            "SELECT set_config('idle_in_transaction_session_timeout', %s, false)",
            (milliseconds,),
        )

    return configure


def close_pools() -> None:
    """Close every pool of this process (at exit; tests call it between databases)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for p in pools:
        p.close()


atexit.register(close_pools)


# What a query's error says about the database (not a bug in our SQL): by SQLSTATE, the
# message and the hint of the one-line StoreFault (as the SQLite store's _FAULTS).
_LOST = ("lost the connection to the database", "check that PostgreSQL is up and reachable,"
         " then run again: what was committed is kept")  # fmt: skip
_FAULTS: dict[str, tuple[str, str]] = {
    "53": ("the database server is out of space or memory",
           "free space on the database server, then run again: what was committed is kept"),
    "40": ("the database gave up a transaction that conflicted with another",
           "run again: nothing of that transaction was stored"),
    "55P03": ("rows stayed locked by another process",
              "run again; see pg_stat_activity for the holder"),
    "57014": ("the database cancelled a query (statement_timeout)",
              "raise the database's statement_timeout, or run again"),
}  # fmt: skip


def pg_fault(label: str, error: psycopg.Error) -> StoreFault | None:
    """The one-line error for a psycopg error about the database (connection lost, the
    server shut down or ended the session, disk full, a serialization failure...); None
    for one that is a bug in our SQL (it propagates)."""
    state = error.sqlstate or ""
    found = _FAULTS.get(state) or _FAULTS.get(state[:2])
    if found is None:
        about_database = isinstance(error, psycopg.OperationalError) or state[:2] in {"08", "25"}
        if not about_database:
            return None
        found = _LOST
    message, hint = found
    fault = StoreFault(label, message, hint=hint)  # str() adds the cause's first line
    fault.__cause__ = error
    return fault


class PgCursor:
    """A DB-API cursor over psycopg's, with SQLite's ``lastrowid`` and fetch-on-no-rows."""

    def __init__(self, cursor: psycopg.Cursor[Any], lastrowid: int | None = None) -> None:
        self._cursor = cursor
        self.lastrowid = lastrowid

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def fetchone(self) -> Any:
        return self._cursor.fetchone() if self._cursor.description else None

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall() if self._cursor.description else []

    def fetchmany(self, size: int) -> list[Any]:
        return self._cursor.fetchmany(size) if self._cursor.description else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class PgConnection:
    """Our ``Connection`` (``digest.store.base``) over one pooled psycopg connection in
    autocommit mode: statements outside ``BEGIN … COMMIT`` commit on their own, as with
    ``sqlite3`` in ``isolation_level=None``."""

    def __init__(self, conn: psycopg.Connection[Any], label: str = "") -> None:
        self.conn = conn
        self.label = label  # the store, without its password: named in StoreFault
        self._changes = 0

    @property
    def in_transaction(self) -> bool:
        # UNKNOWN: the session is gone, and the server rolled its transaction back
        status = self.conn.info.transaction_status
        return status not in (
            psycopg.pq.TransactionStatus.IDLE,
            psycopg.pq.TransactionStatus.UNKNOWN,
        )

    @property
    def total_changes(self) -> int:
        return self._changes

    @contextlib.contextmanager
    def _query(self) -> Iterator[None]:
        """One statement: its time counted in ``QueryClock``, a fault about the database
        raised as its one-line :class:`StoreFault` (a bug in our SQL propagates)."""
        started = time.perf_counter()
        try:
            yield
        except psycopg.Error as e:
            if (fault := pg_fault(self.label, e)) is None:
                raise
            raise fault from e
        finally:
            QueryClock.seconds += time.perf_counter() - started

    def execute(self, sql: str, parameters: Any = (), /) -> PgCursor:
        t = to_postgres(sql)
        args = numbered_parameters(parameters) if t.numbered else tuple(parameters)
        with self._query():
            cursor = self.conn.execute(t.sql, args)
        self._changes += max(cursor.rowcount, 0) if not cursor.description or t.returns_id else 0
        if t.returns_id:
            row = cursor.fetchone()
            return PgCursor(cursor, lastrowid=int(row[0]) if row else None)
        return PgCursor(cursor)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> PgCursor:
        t = to_postgres(sql)
        rows: Iterable[Any] = (
            (numbered_parameters(p) for p in parameters) if t.numbered else parameters
        )
        cursor = self.conn.cursor()
        with self._query():
            cursor.executemany(t.sql, rows)
        self._changes += max(cursor.rowcount, 0)
        return PgCursor(cursor)

    def close(self) -> None:
        """Nothing to close: ``PostgresStore.close`` hands the connection back to its pool."""


class PostgresStore(Store):
    """A digest store in a PostgreSQL database (psycopg 3, pooled connections)."""

    def __init__(
        self,
        url: str,
        *,
        connect_timeout_seconds: float = 30.0,
        idle_transaction_timeout_seconds: float = 0.0,
    ) -> None:
        self.url = url
        self.path = Path(redacted(url))  # only named in messages
        self._pool: ConnectionPool[psycopg.Connection[Any]] | None = None
        self._conn: psycopg.Connection[Any] | None = None
        try:
            self._pool = pool(
                url,
                timeout=connect_timeout_seconds,
                idle_transaction_seconds=idle_transaction_timeout_seconds,
            )
            self._conn = self._pool.getconn(timeout=connect_timeout_seconds)
            self.db = PgConnection(self._conn, redacted(url))
            self.migrate()
        except StoreError:
            self.close()
            raise
        except (psycopg.Error, OSError) as e:
            self.close()
            raise StoreError(redacted(url), f"cannot open store: {_first_line(e)}") from e

    def close(self) -> None:
        if self._conn is not None and self._pool is not None:
            status = self._conn.info.transaction_status
            if status not in (
                psycopg.pq.TransactionStatus.IDLE,
                psycopg.pq.TransactionStatus.UNKNOWN,
            ):
                with contextlib.suppress(psycopg.Error):  # the session may be gone
                    self._conn.rollback()
            self._pool.putconn(self._conn)  # a broken connection is discarded there
        self._conn = None

    @property
    def version(self) -> int:
        found = self.db.execute("SELECT to_regclass(?)", (VERSION_TABLE,)).fetchone()
        if found[0] is None:
            return 0
        row = self.db.execute("SELECT version FROM digest_schema").fetchone()
        return int(row[0]) if row else 0

    def migrate(self) -> None:
        """The numbered migrations, once, under an advisory lock (others wait for it)."""
        self.db.execute("SELECT pg_advisory_lock(?)", (MIGRATION_LOCK,))
        try:
            self.db.execute("CREATE TABLE IF NOT EXISTS digest_schema (version INTEGER)")
            current = self.version
            if current > SCHEMA_VERSION:
                raise StoreError(self.label, f"store schema {current} is newer than this digest")
            for step in range(current, SCHEMA_VERSION):
                with self.transaction():
                    MIGRATIONS[step](cast(sqlite3.Connection, self.db))  # same SQL, translated
                    self.db.execute("DELETE FROM digest_schema")
                    self.db.execute("INSERT INTO digest_schema VALUES (?)", (step + 1,))
        finally:
            self.db.execute("SELECT pg_advisory_unlock(?)", (MIGRATION_LOCK,))

    @property
    def label(self) -> str:
        return redacted(self.url)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


WRITER_LOCK = 0x64777274  # pg_advisory_lock key of the writer lock: "dwrt"


class PgWriterLock:
    """The writer lock of a PostgreSQL store (``digest.locks.StoreLock`` for a file): a
    session advisory lock on a connection of its own, so runs on *different machines* wait
    for each other. The holder is named by its connection's ``application_name``."""

    def __init__(self, url: str, what: str, *, wait_seconds: float) -> None:
        self.url = url
        self.what = what
        self.wait_seconds = wait_seconds
        self.conn: psycopg.Connection[Any] | None = None

    def __enter__(self) -> PgWriterLock:
        import os
        import socket
        import time

        from digest.locks import POLL_SECONDS, StoreBusy

        name = f"{self.what} (pid {os.getpid()} on {socket.gethostname()})"[:63]
        try:
            self.conn = psycopg.connect(self.url, autocommit=True, application_name=name)
            deadline = time.monotonic() + self.wait_seconds
            while True:
                got = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (WRITER_LOCK,))
                if got.fetchone() == (True,):
                    return self
                if time.monotonic() >= deadline:
                    break
                time.sleep(POLL_SECONDS)
            row = self.conn.execute(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a"
                " ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
                " AND l.objid = %s AND l.pid <> pg_backend_pid()",
                (WRITER_LOCK & 0xFFFFFFFF,),
            ).fetchone()
        except psycopg.Error as e:
            self._close()
            raise StoreError(redacted(self.url), f"cannot open store: {_first_line(e)}") from e
        self._close()
        holder = row[0] if row and row[0] else "another writer"
        raise StoreBusy(
            redacted(self.url),
            f"the store is in use by {holder}; gave up after {self.wait_seconds:g} s"
            " (hint: [store].lock_wait_seconds)",
        )

    def __exit__(self, *exc: object) -> None:
        self._close()  # closing the session releases its advisory locks

    def _close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None
