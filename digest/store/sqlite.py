"""The SQLite store: articles, seen keys, threads, vocabulary, runs, source states.

The schema and its numbered migrations are in ``digest.schema``; row conversions in
``digest.rows``.

Every write happens inside ``transaction()``; a crash before commit leaves the store as it
was, so a re-run redoes the work. ``apply_plan`` is the only writer of threads (with the
operator's corrections in ``digest.threadstore``). A transaction that changed threads, their
members, the pairs kept apart or the vocabulary bumps the clustering version row just before
it commits (``clustering_changed``): the last lock it takes, so it never waits holding it.
"""

from __future__ import annotations

import json
import operator
import secrets
import sqlite3
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import cast

from digest import fingerprints as fingerprints_table
from digest.cluster import Vocabulary
from digest.dedupe import CROWDED, SeenIndex, exact_keys
from digest.errors import StoreError, StoreFault
from digest.models import (
    Article,
    ClusterPlan,
    Duplicate,
    EventThread,
    Fingerprint,
    RunReport,
    SourceState,
)
from digest.rows import (
    ARTICLE_COLUMNS,
    SOURCE_COLUMNS,
    article_from_row,
    article_row,
    from_iso,
    iso,
    signature_from_text,
    signature_text,
    source_row,
    source_state,
)
from digest.schema import MIGRATIONS, SCHEMA_VERSION
from digest.store.base import ClusteringVersion, Connection


@dataclass(frozen=True, slots=True, kw_only=True)
class DayThread:
    """A thread touched on a briefing day, with what the summary needs to know."""

    thread: EventThread
    continues_from: date | None  # first day it was briefed, when before this day
    new_article_ids: frozenset[str]


# what a failing SQLite file means for the operator (primary result codes): (cause, hint)
_FAULTS = {
    sqlite3.SQLITE_FULL: (
        "the store's disk is full",
        "free space on its disk and run again; what was stored before is kept",
    ),
    sqlite3.SQLITE_BUSY: (
        "the store is locked by another program",
        "another program holds a write lock on the SQLite file; it was waited for"
        " [store].lock_wait_seconds",
    ),
    sqlite3.SQLITE_LOCKED: (
        "the store is locked by another program",
        "another program holds a lock on the SQLite file",
    ),
    sqlite3.SQLITE_CORRUPT: (
        "the store is damaged",
        "restore it from a backup (sqlite3 FILE .recover may save what is left)",
    ),
    sqlite3.SQLITE_NOTADB: (
        "the store is not an SQLite database",
        "check [store].path; restore the store from a backup",
    ),
    sqlite3.SQLITE_IOERR: ("cannot read or write the store", "check its disk"),
    sqlite3.SQLITE_READONLY: ("the store is read-only", "check the file's permissions"),
    sqlite3.SQLITE_CANTOPEN: ("cannot open store", "check the path and its permissions"),
    sqlite3.SQLITE_PERM: ("no permission to use the store", "check the file's permissions"),
}


def store_fault(path: Path, error: sqlite3.Error) -> StoreFault | None:
    """The one-line error for an SQLite error that is about the store's file (disk full,
    locked, damaged...); None for one that is a bug in our SQL (it propagates)."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is None or (code & 0xFF) not in _FAULTS:
        return None
    message, hint = _FAULTS[code & 0xFF]
    fault = StoreFault(str(path), message, hint=hint)
    fault.__cause__ = error
    return fault


class Store:
    """A digest store in one SQLite file.

    Every SQLite error about the file itself (disk full, locked, damaged) leaves a
    ``with Store(...)`` block (and ``transaction()``) as a one-line :class:`StoreFault`
    naming the store; a transaction that hit it is rolled back, so what was stored before
    is kept. A zero-byte file is refused (it was a store: an emptied one must not be
    taken for a new one); a missing file is a new store.
    """

    db: Connection  # sqlite3's own connection here; PostgresStore's translates our SQL
    _writer = ""  # the token of the open transaction (a bump of the clustering version says it)
    _changed = False  # the open transaction changed what clustering reads

    def __init__(self, path: Path, *, busy_timeout_seconds: float = 30.0) -> None:
        self.path = path
        if path.is_file() and path.stat().st_size == 0:
            raise StoreFault(
                str(path),
                "the store file is empty (0 bytes)",
                hint="restore it from a backup, or delete it to start a new store",
            )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(
                path, isolation_level=None, timeout=max(1.0, busy_timeout_seconds)
            )
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            # 16 MiB of page cache (the default is 2 MiB): big runs write their keys and band
            # rows in key order, and the OS caches the file too; at 64 MiB a daemon's run held
            # 50 MB more once its store outgrew the cache (#16); temp tables stay in memory
            self.db.execute("PRAGMA cache_size=-16384")
            self.db.execute("PRAGMA temp_store=MEMORY")
            self.migrate()
        except sqlite3.Error as e:
            raise store_fault(path, e) or StoreError(str(path), "cannot open store") from e
        except OSError as e:
            raise StoreError(str(path), "cannot open store") from e

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
        if isinstance(exc, sqlite3.Error) and (fault := store_fault(self.path, exc)):
            raise fault from exc

    def close(self) -> None:
        self.db.close()

    @property
    def version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        current = self.version
        if current > SCHEMA_VERSION:
            raise StoreError(str(self.path), f"store schema {current} is newer than this digest")
        for step in range(current, SCHEMA_VERSION):
            with self.transaction():
                MIGRATIONS[step](cast(sqlite3.Connection, self.db))  # it is sqlite3's here
                self.db.execute(f"PRAGMA user_version = {step + 1}")

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """BEGIN IMMEDIATE … COMMIT; roll back on any exception. One that changed what
        clustering reads bumps the clustering version just before COMMIT."""
        if self.db.in_transaction:
            yield self.db
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self._writer, self._changed = secrets.token_hex(8), False
            try:
                yield self.db
                if self._changed:
                    self._bump_clustering()
                self.db.execute("COMMIT")
            except BaseException:
                # SQLite may have rolled back already (a full disk, for one)
                if self.db.in_transaction:
                    with suppress(sqlite3.Error):
                        self.db.execute("ROLLBACK")
                raise
        except sqlite3.Error as e:
            if (fault := store_fault(self.path, e)) is None:
                raise
            raise fault from e
        finally:
            self._changed = False

    # ── the clustering version (digest.clusterstate) ─────────────────────────────────────

    def clustering_changed(self) -> None:
        """Record that this transaction changed threads, their members, the pairs kept
        apart or the vocabulary: it bumps the clustering version as it commits (a write
        outside a transaction bumps it at once)."""
        if self.db.in_transaction:
            self._changed = True
        else:
            self._writer = secrets.token_hex(8)
            self._bump_clustering()

    def _bump_clustering(self) -> None:
        self.db.execute(
            "UPDATE clustering_version SET version = version + 1, writer = ?", (self._writer,)
        )

    def clustering_version(self) -> ClusteringVersion:
        """The committed clustering version row (and this transaction's own writes)."""
        row = self.db.execute("SELECT version, writer FROM clustering_version").fetchone()
        return ClusteringVersion(version=int(row[0]), writer=str(row[1]))

    def clustering_after_commit(self, read: ClusteringVersion) -> ClusteringVersion:
        """What the row will say once this transaction commits, if ``read`` (the row read
        earlier in it) is still the last committed one then: ``read`` when the transaction
        changed nothing clustering reads, else the next version with its token."""
        if not (self.db.in_transaction and self._changed):
            return read
        return ClusteringVersion(version=read.version + 1, writer=self._writer)

    # ── reads ─────────────────────────────────────────────────────────────────────────────

    def seen_index(
        self, keys: Sequence[str], bands: Collection[int] = (), *, since: datetime
    ) -> SeenIndex:
        """What dedupe must know of the store for a batch: those of its exact ``keys``
        already stored (index lookups), and the stored originals published since ``since``
        that share one of its ``bands`` (the window's band keys read, never the store's)."""
        prints, crowded = fingerprints_table.candidates(
            self.db, bands, since=since, crowded_over=CROWDED
        )
        return SeenIndex(keys=self.seen_among(keys), fingerprints=prints, crowded=crowded)

    def vocabulary(self, terms: Iterable[str] | None = None) -> Vocabulary:
        """The running document frequencies: of ``terms`` only (a batch's: an indexed
        lookup, whatever the vocabulary's size), or of every term when None."""
        if terms is None:
            df = dict(self.db.execute("SELECT term, df FROM vocabulary"))
        else:
            with self._id_table(terms) as table:
                df = dict(
                    self.db.execute(
                        # the batch's terms lead (planned freely, SQLite scanned the whole
                        # vocabulary against them: 181k terms after 150k articles)
                        f"SELECT v.term, v.df FROM {table} AS t CROSS JOIN vocabulary AS v"  # noqa: S608
                        " WHERE v.term = t.id"
                    )
                )
        row = self.db.execute("SELECT value FROM meta WHERE key = 'n_docs'").fetchone()
        return Vocabulary(df=df, n_docs=int(row[0]) if row else 0)

    def open_threads(
        self, *, since: datetime, first_since: datetime | None = None
    ) -> tuple[EventThread, ...]:
        """Threads updated since ``since`` (and first seen since ``first_since``)."""
        query, args = "SELECT id FROM threads WHERE last_updated >= ?", [iso(since)]
        if first_since is not None:
            query, args = query + " AND first_seen >= ?", [*args, iso(first_since)]
        found = self.threads_where(query, args)
        return tuple(found[tid] for tid in sorted(found))

    def thread(self, thread_id: str) -> EventThread:
        found = self.threads_where("SELECT ?", (thread_id,))
        if thread_id not in found:
            raise StoreError(thread_id, "no such thread")
        return found[thread_id]

    def threads_where(
        self, ids_query: str, args: Sequence[object], *, signatures: bool = True
    ) -> dict[str, EventThread]:
        """The threads whose ids ``ids_query`` selects, in two queries (not one per thread);
        with empty signatures when the caller does not cluster with them
        (``signatures=False``: an edition's 20k threads hold 0.3 GB of signatures)."""
        members: dict[str, list[str]] = {}
        where = f"IN ({ids_query})"  # our own fixed queries, values bound as parameters
        query = "SELECT thread_id, id FROM articles WHERE duplicate_of IS NULL AND thread_id "
        for thread_id, article_id in self.db.execute(
            query + where + " ORDER BY published, id", args
        ):
            members.setdefault(thread_id, []).append(article_id)
        signature = "signature" if signatures else "'[]'"
        query = f"SELECT id, title, first_seen, last_updated, {signature} FROM threads WHERE id "  # noqa: S608
        rows = self.db.execute(query + where, args)
        shared: dict[str, str] = {}  # one string object per term, whichever threads hold it
        term = shared.setdefault

        return {
            tid: EventThread(
                id=tid,
                title=title,
                article_ids=tuple(members.get(tid, ())),
                first_seen=from_iso(first),
                last_updated=from_iso(last),
                signature=signature_from_text(signature, term),
            )
            for tid, title, first, last, signature in rows
        }

    def articles(self, ids: Iterable[str]) -> dict[str, Article]:
        found: dict[str, Article] = {}
        id_list = list(ids)
        for start in range(0, len(id_list), 500):
            chunk = id_list[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE id IN ({marks})"  # noqa: S608
            for row in self.db.execute(query, chunk):
                found[row[0]] = article_from_row(row)
        return found

    def copies_of(self, ids: Iterable[str]) -> dict[str, tuple[Article, ...]]:
        """Near-duplicate copies (other outlets) of the given articles."""
        copies: dict[str, list[Article]] = {}
        with self._id_table(ids) as table:
            rows = self.db.execute(
                f"SELECT {ARTICLE_COLUMNS}, duplicate_of FROM articles"  # noqa: S608
                f" WHERE duplicate_of IN (SELECT id FROM {table}) ORDER BY published, id"
            )
            for row in rows:
                copies.setdefault(row[-1], []).append(article_from_row(row))
        return {k: tuple(v) for k, v in copies.items()}

    def thread_sizes(self, thread_ids: Iterable[str]) -> dict[str, tuple[int, int]]:
        """Thread id -> (articles with their stored copies, distinct outlets)."""
        with self._id_table(thread_ids) as table:
            rows = self.db.execute(
                "SELECT thread_id, COUNT(*), COUNT(DISTINCT outlet) FROM articles"  # noqa: S608
                f" WHERE thread_id IN (SELECT id FROM {table}) GROUP BY thread_id"
            ).fetchall()
        return {tid: (n, outlets) for tid, n, outlets in rows}

    @contextmanager
    def _id_table(self, ids: Iterable[str]) -> Iterator[str]:
        """A temporary table of ``ids``: one set-based query instead of one per id."""
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS _ids (id TEXT PRIMARY KEY)")
        self.db.execute("DELETE FROM _ids")
        ordered = sorted(set(ids))  # in key order: each insert lands where the last one did
        self.db.executemany("INSERT OR IGNORE INTO _ids (id) VALUES (?)", ((i,) for i in ordered))
        try:
            yield "_ids"
        finally:
            self.db.execute("DELETE FROM _ids")

    def threads_for_day(self, day: date) -> tuple[DayThread, ...]:
        """Threads with an article stored on ``day``, with their continuation facts."""
        touched = "SELECT DISTINCT thread_id FROM articles WHERE day = ? AND thread_id IS NOT NULL"
        first_day: dict[str, str] = {}
        new_ids: dict[str, set[str]] = {}
        query = "SELECT thread_id, COALESCE(duplicate_of, id), day FROM articles WHERE thread_id"
        for thread_id, article_id, article_day in self.db.execute(
            f"{query} IN ({touched})", (day.isoformat(),)
        ):
            first_day[thread_id] = min(first_day.get(thread_id, article_day), article_day)
            if article_day == day.isoformat():
                new_ids.setdefault(thread_id, set()).add(article_id)
        threads = self.threads_where(touched, (day.isoformat(),))
        result = []
        for thread_id in sorted(first_day):
            first = date.fromisoformat(first_day[thread_id])
            result.append(
                DayThread(
                    thread=threads[thread_id],
                    continues_from=first if first < day else None,
                    new_article_ids=frozenset(new_ids.get(thread_id, ())),
                )
            )
        return tuple(result)

    def briefing_days(self) -> tuple[date, ...]:
        return tuple(
            date.fromisoformat(d)
            for (d,) in self.db.execute("SELECT DISTINCT day FROM articles ORDER BY day")
        )

    # ── writes (call inside transaction()) ───────────────────────────────────────────────

    def save_articles(
        self,
        articles: Sequence[Article],
        *,
        day: date,
        run_id: int,
        fingerprints: Mapping[str, Fingerprint],
        threads: Mapping[str, str] | None = None,
    ) -> None:
        """Insert new articles; ``threads`` (article id -> thread id, from the cluster plan)
        writes each row once, complete, instead of updating it when the plan is applied;
        ``fingerprints`` (by article id, from dedupe) go to their own tables."""
        prints = fingerprints
        if threads:
            self.clustering_changed()  # the articles join threads
        rows = []
        for a in articles:
            thread_id = threads.get(a.id) if threads else None
            rows.append(article_row(a, day, run_id, None, None, thread_id))
        self._insert_rows(rows, [(k, a.id) for a in articles for k in exact_keys(a)])
        fingerprints_table.save(self.db, articles, prints)

    def prune_fingerprints(self, *, before: datetime) -> int:
        """Forget the near-duplicate fingerprints of articles published before ``before``
        (at most once a day; see ``digest.fingerprints.prune``): the signatures deleted."""
        return fingerprints_table.prune(self.db, before=before)

    def save_duplicates(self, duplicates: Sequence[Duplicate], *, day: date, run_id: int) -> int:
        """Store near-duplicates (to credit their outlet) and every duplicate's keys."""
        rows: list[tuple[object, ...]] = []
        keys: list[tuple[str, str]] = []
        placed: dict[str, tuple[str | None, str]] = {}  # copies earlier in this batch
        for dup in duplicates:
            if dup.reason == "near":
                thread_id, original = placed.get(dup.of_id) or self._placement(dup.of_id)
                placed.setdefault(dup.article.id, (thread_id, original))
                rows.append(article_row(dup.article, day, run_id, original, None, thread_id))
                keys.extend((k, dup.article.id) for k in exact_keys(dup.article))
            keys.extend((k, dup.of_id) for k in exact_keys(dup.article))
        return self._insert_rows(rows, keys)

    def _placement(self, article_id: str) -> tuple[str | None, str]:
        """(thread id, original id) of a stored article; a copy's original is its own."""
        row = self.db.execute(
            "SELECT thread_id, COALESCE(duplicate_of, id) FROM articles WHERE id = ?",
            (article_id,),
        ).fetchone()
        return (row[0], row[1]) if row else (None, article_id)

    def _insert_rows(
        self, rows: Sequence[tuple[object, ...]], keys: Sequence[tuple[str, str]]
    ) -> int:
        """Insert article rows and seen keys in bulk; the number of new articles."""
        before = self.db.total_changes
        self.db.executemany(
            "INSERT OR IGNORE INTO articles (id, canonical_url, outlet, title, text, published,"
            " fetched_at, source, origin, authors, lang, content_hash, day, run_id, thread_id,"
            " duplicate_of, minhash, dated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        inserted = self.db.total_changes - before
        # in key order (stably: of two rows with one key the first still wins), so a big
        # batch's random keys do not each touch another page of the index
        ordered = sorted(keys, key=operator.itemgetter(0))
        self.db.executemany(
            "INSERT OR IGNORE INTO seen_keys (key, article_id) VALUES (?, ?)", ordered
        )
        return inserted

    def apply_plan(
        self, plan: ClusterPlan, *, run_id: int | None = None, at: datetime | None = None
    ) -> None:
        """Write what clustering decided: new threads, extensions of stored ones, merges of
        stored threads (the merged id redirects) and why each article is where it is."""
        from digest.threadstore import ThreadStore  # it wraps this class

        self.clustering_changed()
        self.db.executemany(
            "INSERT INTO threads (id, title, first_seen, last_updated, signature)"
            " VALUES (?,?,?,?,?)",
            [
                (
                    t.id,
                    t.title,
                    iso(t.first_seen),
                    iso(t.last_updated),
                    signature_text(t.signature),
                )
                for t in plan.new_threads
            ],
        )
        self.db.executemany(
            "UPDATE threads SET last_updated = MAX(last_updated, ?), signature = ? WHERE id = ?",
            [
                (iso(e.last_updated), signature_text(e.signature), e.thread_id)
                for e in plan.extensions
            ],
        )
        self._assign(
            [(t.id, a) for t in plan.new_threads for a in t.article_ids]
            + [(e.thread_id, a) for e in plan.extensions for a in e.article_ids]
        )
        threads = ThreadStore(self)
        if plan.merges:
            latest = max(
                [t.last_updated for t in plan.new_threads]
                + [e.last_updated for e in plan.extensions]
            )
            threads.apply_merges(plan.merges, at=at or latest)
        threads.save_reasons(plan.reasons, run_id=run_id)

    def _assign(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Put articles (and their stored copies) into threads: (thread id, article id)."""
        pairs = sorted(pairs, key=operator.itemgetter(1))  # in key order: index locality
        self.db.executemany(  # rows saved with their thread already are not rewritten
            "UPDATE articles SET thread_id = ?1 WHERE id = ?2 AND thread_id IS NOT ?1", pairs
        )
        self.db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS _assign (article_id TEXT PRIMARY KEY, thread_id TEXT)"
        )
        self.db.executemany(
            "INSERT OR REPLACE INTO _assign (thread_id, article_id) VALUES (?, ?)", pairs
        )
        self.db.execute(
            "UPDATE articles SET thread_id = a.thread_id FROM _assign AS a"
            " WHERE articles.duplicate_of = a.article_id AND articles.thread_id IS NOT a.thread_id"
        )
        self.db.execute("DELETE FROM _assign")

    def add_vocabulary(self, df: Counter[str], n_docs: int) -> None:
        self.clustering_changed()
        self.db.executemany(
            "INSERT INTO vocabulary (term, df) VALUES (?, ?)"
            " ON CONFLICT(term) DO UPDATE SET df = df + excluded.df",
            sorted(df.items()),
        )
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES ('n_docs', ?)"
            " ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + excluded.value",
            (str(n_docs),),
        )

    def begin_run(self, *, started: datetime, day: date) -> int:
        with self.transaction():
            cur = self.db.execute(
                "INSERT INTO runs (started, day) VALUES (?, ?)", (iso(started), day.isoformat())
            )
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, report: RunReport, *, status: str = "ok") -> None:
        summary = {
            "sources": [[s.name, s.status, s.new, s.seen, s.error] for s in report.sources],
            "outputs": [str(p) for p in report.outputs],
        }
        with self.transaction():
            self.db.execute(
                "UPDATE runs SET finished = ?, status = ?, new_articles = ?, duplicates = ?,"
                " threads_new = ?, threads_extended = ?, report = ? WHERE id = ?",
                (
                    iso(report.finished),
                    status,
                    report.new_articles,
                    report.duplicates,
                    report.threads_new,
                    report.threads_extended,
                    json.dumps(summary),
                    run_id,
                ),
            )

    # ── live source state (digest.health decides; these only read and write it) ──────────

    def source_states(self) -> dict[str, SourceState]:
        rows = self.db.execute(f"SELECT {SOURCE_COLUMNS} FROM sources ORDER BY name")  # noqa: S608
        return {str(row[0]): source_state(row) for row in rows}

    def save_source_states(self, states: Iterable[SourceState]) -> None:
        marks = ",".join("?" * len(SOURCE_COLUMNS.split(",")))
        with self.transaction():
            self.db.executemany(
                f"INSERT OR REPLACE INTO sources ({SOURCE_COLUMNS}) VALUES ({marks})",  # noqa: S608
                [source_row(s) for s in states],
            )

    def reset_source(self, name: str) -> bool:
        """Clear a source's failures, back-off and disabled flag; False when unknown."""
        with self.transaction():
            cur = self.db.execute(
                "UPDATE sources SET failures = 0, backoff_until = NULL, disabled = 0,"
                " last_error = NULL, next_check_at = NULL WHERE name = ?",
                (name,),
            )
        return cur.rowcount > 0

    def seen_among(self, keys: Sequence[str]) -> frozenset[str]:
        """Those of ``keys`` (dedupe's exact keys) already stored."""
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            query = f"SELECT key FROM seen_keys WHERE key IN ({marks})"  # noqa: S608
            found.update(k for (k,) in self.db.execute(query, chunk))
        return frozenset(found)

    def counts(self) -> dict[str, int]:
        tables = ("articles", "threads", "seen_keys", "runs")
        return {t: int(self.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in tables}  # noqa: S608 - fixed names
