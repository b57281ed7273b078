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


# Migration N takes the schema from version N to N + 1. Append only; never edit a past step.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _migrate_0_to_1,
    _migrate_1_to_2,
    _migrate_2_to_3,
    _migrate_3_to_4,
    _migrate_4_to_5,
)
SCHEMA_VERSION = len(MIGRATIONS)
