"""The archive in JSON (``archive.json``): every edition's archive entry and the threads it
showed, newest first (the I/O edge beside ``publish``).

It is the archive for machines, and the index that keeps publishing flat over months: a run
reads each edition's entry from here, and a ``briefing.json`` in full only for an edition
that showed one of its threads (those threads' pages tell their story edition by edition)
or that changed since the index was written. Reading every edition's document on every run
cost a run more each day the site grew (#16).

An edition's entry is trusted while its ``briefing.json`` has the size recorded and is no
newer than ``archive.json`` (written after every document it indexes); anything else, a
missing, unreadable or foreign index included, is read from the document again, so the
index is never needed: it only saves reading.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ARCHIVE_JSON = "archive.json"
VERSION = 1


@dataclass(frozen=True, slots=True)
class Indexed:
    """One edition as ``archive.json`` holds it: the size of its ``briefing.json`` then,
    and the outline of that document (what its archive entry is read from)."""

    size: int
    outline: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Index:
    editions: Mapping[str, Indexed]  # by folder
    written_ns: int  # archive.json's modification time (0: there is none)

    def current(self, folder: str, document: Path) -> Mapping[str, Any] | None:
        """The outline of ``folder``'s document if ``document`` is as it was indexed."""
        known = self.editions.get(folder)
        if known is None:
            return None
        try:
            stat = document.stat()
        except OSError:
            return None
        if stat.st_size != known.size or stat.st_mtime_ns > self.written_ns:
            return None
        return known.outline


NO_INDEX = Index(editions={}, written_ns=0)


def read_index(out_dir: Path) -> Index:
    """``out_dir``'s ``archive.json``; ``NO_INDEX`` when there is none we can use."""
    path = out_dir / ARCHIVE_JSON
    try:
        written = path.stat().st_mtime_ns
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or doc.get("version") != VERSION:
            raise ValueError("not an archive index of this version")
        editions = {
            str(e["folder"]): Indexed(size=int(e["bytes"]), outline=e["document"])
            for e in doc["editions"]
            if isinstance(e.get("document"), dict)
        }
    except FileNotFoundError:
        return NO_INDEX
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as e:
        log.warning(
            "archive: %s is not used (%s: %s); reading every edition", path, type(e).__name__, e
        )
        return NO_INDEX
    return Index(editions=editions, written_ns=written)


def outline(doc: Mapping[str, Any], articles: int) -> dict[str, Any]:
    """What the archive reads of a ``briefing.json`` document: its date, title, times,
    counts (``articles``: its entry's article count, which a document without stats
    counts from the thread lists left out here) and edition, and per thread its id,
    headline and lead (the first sentence of its summary, with its outlets).
    ``archive_entry_from_dict`` and ``edition_ref`` give the same of it as of the whole
    document."""
    threads = [t for t in doc.get("threads") or () if isinstance(t, dict)]
    kept: dict[str, Any] = {k: doc[k] for k in ("date", "title", "generated_at") if k in doc}
    kept["stats"] = {**(doc.get("stats") or {}), "articles": articles}
    if "edition" in doc:
        kept["edition"] = doc["edition"]
    kept["threads"] = [_thread(t) for t in threads]
    return kept


def _thread(thread: Mapping[str, Any]) -> dict[str, Any]:
    kept = {k: thread[k] for k in ("id", "headline") if k in thread}
    summary = thread.get("summary") or []
    if summary and isinstance(summary[0], dict):
        kept["summary"] = [{k: summary[0][k] for k in ("text", "outlets") if k in summary[0]}]
    return kept


def index_json(editions: Sequence[tuple[str, Indexed]]) -> str:
    """``archive.json`` for ``editions`` (folder and entry, in the archive's order)."""
    rows = [{"folder": folder, "bytes": e.size, "document": e.outline} for folder, e in editions]
    # compact: json's C encoder (an indented dump takes its Python one, 10x slower, and the
    # index grows with the archive)
    doc = {"version": VERSION, "editions": rows}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
