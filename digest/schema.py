"""The store's schema as numbered migrations: ``MIGRATIONS[n]`` takes it from version n
to n + 1 (``PRAGMA user_version``). Append only; never edit a past step."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable


def _run_script(db: sqlite3.Connection, script: str) -> None:
    """Run statements one by one (``executescript`` would commit our transaction)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _migrate_0_to_1(db: sqlite3.Connection) -> None:
    _run_script(
        db,
        """
        CREATE TABLE articles (
            id TEXT PRIMARY KEY, canonical_url TEXT, outlet TEXT NOT NULL, title TEXT NOT NULL,
            text TEXT NOT NULL, published TEXT NOT NULL, fetched_at TEXT NOT NULL,
            source TEXT NOT NULL, origin TEXT NOT NULL, authors TEXT NOT NULL DEFAULT '[]',
            lang TEXT NOT NULL DEFAULT 'en', content_hash TEXT NOT NULL,
            day TEXT NOT NULL,              -- briefing day of the run that first stored it
            run_id INTEGER,
            thread_id TEXT,
            duplicate_of TEXT,              -- set for near-duplicates kept to credit their outlet
            minhash TEXT                    -- JSON list of ints, for near-duplicate checks
        );
        CREATE INDEX articles_day ON articles(day);
        CREATE INDEX articles_thread ON articles(thread_id);
        CREATE INDEX articles_published ON articles(published);
        CREATE TABLE seen_keys (key TEXT PRIMARY KEY, article_id TEXT NOT NULL);
        CREATE TABLE threads (
            id TEXT PRIMARY KEY, title TEXT NOT NULL, first_seen TEXT NOT NULL,
            last_updated TEXT NOT NULL, signature TEXT NOT NULL
        );
        CREATE INDEX threads_last_updated ON threads(last_updated);
        CREATE TABLE vocabulary (term TEXT PRIMARY KEY, df INTEGER NOT NULL);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT NOT NULL, finished TEXT,
            day TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'running',
            new_articles INTEGER NOT NULL DEFAULT 0, duplicates INTEGER NOT NULL DEFAULT 0,
            threads_new INTEGER NOT NULL DEFAULT 0, threads_extended INTEGER NOT NULL DEFAULT 0,
            report TEXT
        );
        """,
    )


def _migrate_1_to_2(db: sqlite3.Connection) -> None:
    """The editions ledger and the email outbox (#4); see digest/ledger.py."""
    _run_script(
        db,
        """
        CREATE TABLE editions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            number INTEGER UNIQUE,          -- NULL while the edition is empty
            slug TEXT NOT NULL DEFAULT '',  -- permalink folder under output/
            day TEXT NOT NULL,              -- date in the configured time zone
            first_run INTEGER NOT NULL,     -- the window: runs first_run..last_run
            last_run INTEGER NOT NULL,
            window_start TEXT NOT NULL,     -- UTC, shown on the edition
            window_end TEXT NOT NULL,
            scheduled_for TEXT UNIQUE,      -- UTC schedule slot (NULL for manual runs)
            produced_at TEXT NOT NULL,
            late INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL            -- published | empty
        );
        CREATE INDEX editions_day ON editions(day);
        CREATE TABLE outbox (
            edition INTEGER NOT NULL,       -- editions.number
            recipient TEXT NOT NULL,
            message_id TEXT NOT NULL,       -- stable per (edition, recipient)
            message BLOB NOT NULL,          -- the RFC 5322 bytes to send
            state TEXT NOT NULL DEFAULT 'queued',  -- queued | sending | sent
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (edition, recipient)
        )
        """,
    )


def _migrate_2_to_3(db: sqlite3.Connection) -> None:
    """Live sources: per-source fetch state and health (see ``digest.health``)."""
    _run_script(
        db,
        """
        CREATE TABLE sources (
            name TEXT PRIMARY KEY, kind TEXT NOT NULL,
            configured_url TEXT NOT NULL,   -- the config's URL when this row was written
            url TEXT NOT NULL,              -- the URL fetched (after permanent redirects)
            etag TEXT, last_modified TEXT,
            first_seen TEXT NOT NULL, last_attempt TEXT, last_success TEXT, last_error TEXT,
            failures INTEGER NOT NULL DEFAULT 0,    -- runs in a row that failed
            backoff_until TEXT, disabled INTEGER NOT NULL DEFAULT 0,
            items_new INTEGER NOT NULL DEFAULT 0, items_seen INTEGER NOT NULL DEFAULT 0,
            last_new_at TEXT
        );
        """,
    )


def _migrate_3_to_4(db: sqlite3.Connection) -> None:
    """Copies by original: crediting and threading a batch's copies without a table scan."""
    _run_script(
        db,
        "CREATE INDEX articles_duplicate_of ON articles(duplicate_of)"
        " WHERE duplicate_of IS NOT NULL;",  # partial: never chosen for "IS NULL" queries
    )


def _migrate_4_to_5(db: sqlite3.Connection) -> None:
    """Undated articles (#14): 0 when the source gave no date (published = fetch time)."""
    db.execute("ALTER TABLE articles ADD COLUMN dated INTEGER NOT NULL DEFAULT 1")


def _migrate_5_to_6(db: sqlite3.Connection) -> None:
    """Threads that turn out to be one event, and why articles are in their threads (#11):
    a merged thread's id redirects to the surviving one (permalinks and feeds stay valid);
    each article's join reason (``digest explain``); pairs of threads an operator split."""
    _run_script(
        db,
        """
        CREATE TABLE thread_redirects (
            old_id TEXT PRIMARY KEY, new_id TEXT NOT NULL, merged_at TEXT NOT NULL,
            why TEXT NOT NULL DEFAULT ''    -- "clustering 0.21: strike portanza" or "override"
        );
        CREATE INDEX thread_redirects_new ON thread_redirects(new_id);
        CREATE TABLE thread_reasons (
            article_id TEXT PRIMARY KEY, thread_id TEXT NOT NULL, run_id INTEGER,
            via TEXT NOT NULL,              -- new | core | attach | override
            score REAL, terms TEXT NOT NULL DEFAULT '[]', names TEXT NOT NULL DEFAULT '[]',
            event_day TEXT
        );
        CREATE INDEX thread_reasons_thread ON thread_reasons(thread_id);
        CREATE TABLE threads_apart (a TEXT NOT NULL, b TEXT NOT NULL, PRIMARY KEY (a, b));
        """,
    )


# Plain SQL, one statement each, so another backend can run the same step (there: BIGINT
# for the integers, BYTEA for the blob, and no WITHOUT ROWID).
SQL_6_TO_7 = (
    # an article's MinHash once, compactly (#16): ``doc`` is a short id for the band rows
    "CREATE TABLE minhashes (doc INTEGER PRIMARY KEY, article_id TEXT NOT NULL UNIQUE,"
    " signature BLOB NOT NULL)",  # num_perm x 4 little-endian bytes
    # its LSH band keys, so near-duplicate candidates are one indexed lookup of a batch's
    # keys within the recent window (published, in microseconds since 1970)
    "CREATE TABLE minhash_bands (band_key INTEGER NOT NULL, published_us INTEGER NOT NULL,"
    " doc INTEGER NOT NULL, PRIMARY KEY (band_key, published_us, doc)) WITHOUT ROWID",
    # an edition's threads are those its runs touched: found by run, not by a scan of
    # every threaded article (that grew with the store)
    "CREATE INDEX articles_run ON articles(run_id)",
)


def _migrate_6_to_7(db: sqlite3.Connection) -> None:
    """MinHash signatures move from JSON text in ``articles.minhash`` to their own table,
    as bytes, with their band keys (the column stays, empty: older SQLite cannot drop it)."""
    from digest.fingerprints import move_json_minhashes  # numpy: only when migrating

    for statement in SQL_6_TO_7:
        db.execute(statement)
    move_json_minhashes(db)


# A live source's own schedule (#15): the interval that follows how often it publishes, and
# when it is next due (workers' rounds fetch only due sources; ``digest run`` fetches all).
SQL_7_TO_8 = (
    "ALTER TABLE sources ADD COLUMN check_interval_seconds REAL",
    "ALTER TABLE sources ADD COLUMN next_check_at TEXT",
)


def _migrate_7_to_8(db: sqlite3.Connection) -> None:
    """Per-source ``next_check_at`` with an adaptive interval (``digest.health.schedule``)."""
    for statement in SQL_7_TO_8:
        db.execute(statement)


# The store's clustering version (#15): one row, bumped by every transaction that changes
# threads, their members, the pairs kept apart or the vocabulary (``Store.transaction``),
# with a token of the transaction that bumped it. A clustering writer that keeps its state
# in memory between batches (``digest.clusterstate``) reuses it only while the row is the
# one its own last transaction left; anything else (an operator's correction, another
# writer, a restart) makes it reload from the store.
SQL_8_TO_9 = (
    "CREATE TABLE clustering_version (version INTEGER NOT NULL, writer TEXT NOT NULL)",
    "INSERT INTO clustering_version (version, writer) VALUES (0, '')",
)


def _migrate_8_to_9(db: sqlite3.Connection) -> None:
    """The clustering version row (``digest.clusterstate``)."""
    for statement in SQL_8_TO_9:
        db.execute(statement)


# The band index goes (#16): each signature keeps its band keys as bytes beside it, with its
# article's time, and a lookup reads the window's keys (``digest.fingerprints.candidates``)
# instead of seeking each of a batch's keys in an index of every band row. A run's random
# keys landed on nearly every page of that index, which its commit wrote again, and the
# daily prune deleted rows from all of its pages (80 MB with 82k articles in the window).
SQL_9_TO_10 = (
    "ALTER TABLE minhashes ADD COLUMN published_us INTEGER",
    "ALTER TABLE minhashes ADD COLUMN bands BLOB",  # bands x 8 little-endian bytes
)
SQL_9_TO_10_AFTER = (
    "DROP TABLE minhash_bands",
    "CREATE INDEX minhashes_published ON minhashes(published_us)",
)


def _migrate_9_to_10(db: sqlite3.Connection) -> None:
    """Band rows become a blob on their signature's row (``move_band_rows``)."""
    from digest.fingerprints import move_band_rows  # numpy: only when migrating

    for statement in SQL_9_TO_10:
        db.execute(statement)
    move_band_rows(db)
    for statement in SQL_9_TO_10_AFTER:
        db.execute(statement)


# Migration N takes the schema from version N to N + 1. Append only; never edit a past step.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _migrate_0_to_1,
    _migrate_1_to_2,
    _migrate_2_to_3,
    _migrate_3_to_4,
    _migrate_4_to_5,
    _migrate_5_to_6,
    _migrate_6_to_7,
    _migrate_7_to_8,
    _migrate_8_to_9,
    _migrate_9_to_10,
)
SCHEMA_VERSION = len(MIGRATIONS)
