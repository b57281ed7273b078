"""The store: one interface (``digest.store.base``), a backend per database.

``Store`` is the SQLite backend (one file; the default). ``from digest.store import Store``
keeps working for everything that opens a store by path; ``open_store(settings.store)``
opens the configured one: PostgreSQL (``digest.store.postgres``, the optional extra
``postgres``) when ``[store].url`` is set, else the SQLite file at ``[store].path``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from digest.errors import StoreError
from digest.store.base import ClusteringVersion, Connection, Cursor, StoreAPI
from digest.store.sqlite import DayThread, Store

if TYPE_CHECKING:
    from digest.config import StoreSettings

SqliteStore = Store

__all__ = [
    "ClusteringVersion",
    "Connection",
    "Cursor",
    "DayThread",
    "SqliteStore",
    "Store",
    "StoreAPI",
    "open_store",
]


def open_store(settings: StoreSettings, *, busy_timeout_seconds: float = 30.0) -> Store:
    """The configured store, migrated: PostgreSQL when ``[store].url`` is set (the busy
    timeout is SQLite's wait for another program's lock on its file)."""
    if not settings.url:
        return Store(settings.path, busy_timeout_seconds=busy_timeout_seconds)
    try:
        from digest.store.postgres import PostgresStore
    except ImportError as e:
        raise StoreError(
            "[store].url", "PostgreSQL needs psycopg: pip install 'digest[postgres]'"
        ) from e
    return PostgresStore(
        settings.url,
        idle_transaction_timeout_seconds=settings.idle_transaction_timeout_seconds,
    )
