"""The store: one interface (``digest.store.base``), a backend per database.

``Store`` is the SQLite backend (one file; the default). ``from digest.store import Store``
keeps working for everything that opens a store by path.
"""

from __future__ import annotations

from digest.store.base import Connection, Cursor, StoreAPI
from digest.store.sqlite import DayThread, Store

SqliteStore = Store

__all__ = ["Connection", "Cursor", "DayThread", "SqliteStore", "Store", "StoreAPI"]
