"""What the rest of ``digest`` needs from a store, whatever the database behind it.

The pipeline, the ledger (editions and outbox), the thread book and the mailer talk to a
store through these methods and through ``store.db``: a DB-API connection that takes our
SQL (SQLite's dialect, ``?`` placeholders). The SQLite backend hands out ``sqlite3``
itself; the PostgreSQL backend hands out a connection that translates the few statements
whose SQL differs (see ``digest.store.dialect``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from digest.cluster import Vocabulary
from digest.dedupe import SeenIndex
from digest.models import (
    Article,
    ClusterPlan,
    Duplicate,
    EventThread,
    Fingerprint,
    RunReport,
    SourceState,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusteringVersion:
    """The store's clustering version row: a counter bumped by every transaction that
    changes threads, their members, the pairs kept apart or the vocabulary, and a token of
    the transaction that bumped it last (``digest.clusterstate`` compares the two)."""

    version: int
    writer: str


class Cursor(Protocol):
    """The part of a DB-API cursor that we use."""

    @property
    def rowcount(self) -> int: ...

    @property
    def lastrowid(self) -> int | None: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """The part of a DB-API connection that we use (``sqlite3.Connection`` is one)."""

    @property
    def in_transaction(self) -> bool: ...

    @property
    def total_changes(self) -> int: ...

    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor: ...

    def close(self) -> None: ...


class StoreAPI(Protocol):
    """A digest store: articles, seen keys, threads, vocabulary, runs, source states; the
    editions ledger and the outbox live in the same database (``digest.ledger``)."""

    db: Connection

    def close(self) -> None: ...

    @property
    def version(self) -> int: ...

    def migrate(self) -> None: ...

    def transaction(self) -> AbstractContextManager[Connection]: ...

    # reads
    def seen_index(
        self, keys: Sequence[str], bands: Collection[int] = (), *, since: datetime
    ) -> SeenIndex: ...

    def vocabulary(self, terms: Iterable[str] | None = None) -> Vocabulary: ...

    def open_threads(
        self, *, since: datetime, first_since: datetime | None = None
    ) -> tuple[EventThread, ...]: ...

    def thread(self, thread_id: str) -> EventThread: ...

    def threads_where(
        self, ids_query: str, args: Sequence[object], *, signatures: bool = True
    ) -> dict[str, EventThread]: ...

    def articles(self, ids: Iterable[str]) -> dict[str, Article]: ...

    def copies_of(self, ids: Iterable[str]) -> dict[str, tuple[Article, ...]]: ...

    def thread_sizes(self, thread_ids: Iterable[str]) -> dict[str, tuple[int, int]]: ...

    def briefing_days(self) -> tuple[date, ...]: ...

    def seen_among(self, keys: Sequence[str]) -> frozenset[str]: ...

    def counts(self) -> dict[str, int]: ...

    def source_states(self) -> dict[str, SourceState]: ...

    # writes (inside transaction())
    def save_articles(
        self,
        articles: Sequence[Article],
        *,
        day: date,
        run_id: int,
        fingerprints: dict[str, Fingerprint],
        threads: Mapping[str, str] | None = None,
    ) -> None: ...

    def save_duplicates(
        self, duplicates: Sequence[Duplicate], *, day: date, run_id: int
    ) -> int: ...

    def prune_fingerprints(self, *, before: datetime) -> int: ...

    def apply_plan(
        self, plan: ClusterPlan, *, run_id: int | None = None, at: datetime | None = None
    ) -> None: ...

    def add_vocabulary(self, df: Counter[str], n_docs: int) -> None: ...

    def clustering_changed(self) -> None: ...

    # the clustering version (digest.clusterstate)
    def clustering_version(self) -> ClusteringVersion: ...

    def clustering_after_commit(self, read: ClusteringVersion) -> ClusteringVersion: ...

    # their own transactions
    def begin_run(self, *, started: datetime, day: date) -> int: ...

    def finish_run(self, run_id: int, report: RunReport, *, status: str = "ok") -> None: ...

    def save_source_states(self, states: Iterable[SourceState]) -> None: ...

    def reset_source(self, name: str) -> bool: ...
