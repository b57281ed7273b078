"""The store's MinHash table (``minhashes``; schema steps 6 -> 7 and 9 -> 10).

An article's fingerprint is written once, as one row appended in ``doc`` order: its
signature and its band keys as bytes, and its time. A run reads the band keys of the
recent window only (an index on the time) and matches its batch's against them in numpy,
so what it reads depends on the window and the batch, never on how much the store holds.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from digest.models import Article, Fingerprint

if TYPE_CHECKING:
    from digest.store.base import Connection

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CHUNK = 2000  # rows converted per step when migrating
_SCAN_ROWS = 4096  # stored rows read per step of a lookup (1 MB of band keys)
_PRUNED = "fingerprints_pruned_us"  # meta key: the last cutoff ``prune`` applied
_PRUNE_EVERY = timedelta(days=1)


def micros(dt: datetime) -> int:
    """Microseconds since 1970 (exact: the window compares as the datetimes do)."""
    return (dt - _EPOCH) // timedelta(microseconds=1)


@contextmanager
def _ints(db: Connection, name: str, values: Iterable[int]) -> Iterator[str]:
    """A temporary table ``name`` of integers, for one set-based query."""
    db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} (v INTEGER PRIMARY KEY)")
    db.execute(f"DELETE FROM {name}")  # noqa: S608 - our own fixed names
    # given in ascending order, each insert lands where the last one did (any order works)
    db.executemany(f"INSERT OR IGNORE INTO {name} (v) VALUES (?)", ((v,) for v in values))  # noqa: S608
    try:
        yield name
    finally:
        db.execute(f"DELETE FROM {name}")  # noqa: S608


def save(db: Connection, articles: Sequence[Article], prints: Mapping[str, Fingerprint]) -> None:
    """Store the fingerprints of ``articles`` that have band keys (once per article): one
    row each, appended in ``doc`` order, with the article's time and its band keys."""
    rows = [(a, prints[a.id]) for a in articles if a.id in prints and prints[a.id].bands]
    if not rows:
        return
    first = int(db.execute("SELECT COALESCE(MAX(doc), 0) + 1 FROM minhashes").fetchone()[0])
    db.executemany(
        "INSERT OR IGNORE INTO minhashes (doc, article_id, published_us, signature, bands)"
        " VALUES (?, ?, ?, ?, ?)",
        [
            (first + i, a.id, micros(a.published), fp.minhash, _little_endian(fp.bands))
            for i, (a, fp) in enumerate(rows)
        ],
    )


def _little_endian(bands: bytes) -> bytes:
    """Band keys as stored: 8 little-endian bytes each (a store can move machines)."""
    if sys.byteorder == "little":
        return bands
    return np.frombuffer(bands, dtype=np.int64).astype("<i8").tobytes()


def candidates(
    db: Connection, bands: Collection[int], *, since: datetime, crowded_over: int
) -> tuple[tuple[Fingerprint, ...], frozenset[int]]:
    """Stored articles published since ``since`` that share one of ``bands``, and the band
    keys that more than ``crowded_over`` of them share (those are passed over, so the
    articles found only through them are not read).

    The window's band keys are read, a chunk of rows at a time, and matched against the
    batch's in numpy: what a run reads is the window (bounded by ``dedupe.recent_days``),
    never the store. An index of every band row answered by seeks instead, but each run's
    random keys landed on nearly every page of it (80 MB, 2.6M rows, with 82k articles in
    the window) and the commit wrote them all again (#16)."""
    wanted = _sorted_keys(bands)
    if not len(wanted):
        return (), frozenset()
    hit_keys, hit_docs = _matches(db, wanted, micros(since))
    if not len(hit_keys):
        return (), frozenset()
    keys, counts = np.unique(hit_keys, return_counts=True)
    crowded_keys = keys[counts > crowded_over]
    docs = np.unique(hit_docs[~np.isin(hit_keys, crowded_keys)])
    crowded = frozenset(crowded_keys.tolist())
    if not len(docs):
        return (), crowded
    from digest.dedupe import title_key

    with _ints(db, "_docs", docs.tolist()) as table:
        rows = db.execute(
            "SELECT m.article_id, m.signature, a.outlet, a.title FROM minhashes AS m"  # noqa: S608
            f" JOIN articles AS a ON a.id = m.article_id WHERE m.doc IN (SELECT v FROM {table})"
            " ORDER BY a.published, a.id"
        ).fetchall()
    prints = tuple(
        Fingerprint(article_id=i, minhash=bytes(sig), title_key=title_key(outlet, title))
        for i, sig, outlet, title in rows
    )
    return prints, crowded


def _sorted_keys(bands: Collection[int]) -> npt.NDArray[np.int64]:
    """``bands`` as one ascending int64 array, each key once."""
    from digest.dedupe import BandKeys

    if isinstance(bands, BandKeys):
        return bands.keys  # ascending and unique already
    return np.unique(np.fromiter(bands, dtype=np.int64, count=len(bands)))


def _matches(
    db: Connection, wanted: npt.NDArray[np.int64], since_us: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(band key, doc) of every band key of the window's stored articles that is one of
    ``wanted`` (ascending): a bitmap of the wanted keys' low bits passes ~1 key in 16 on,
    and those are checked exactly by binary search. An empty window (a new store's first
    run over an archive) makes no bitmap: 64 MB for a 100k batch's 3.2M keys."""
    cursor = db.execute("SELECT doc, bands FROM minhashes WHERE published_us >= ?", (since_us,))
    rows = cursor.fetchmany(_SCAN_ROWS)
    if not rows:
        return _no_matches()
    bits = max(16, min(26, (16 * len(wanted)).bit_length()))
    low = np.int64((1 << bits) - 1)
    bitmap = np.zeros(1 << bits, dtype=np.bool_)
    bitmap[wanted & low] = True
    found_keys: list[npt.NDArray[np.int64]] = []
    found_docs: list[npt.NDArray[np.int64]] = []
    while rows:
        blobs = [bytes(b) for _, b in rows]
        keys = np.frombuffer(b"".join(blobs), dtype="<i8").astype(np.int64, copy=False)
        maybe = np.flatnonzero(bitmap[keys & low])
        if len(maybe):
            near = keys[maybe]
            at = np.minimum(np.searchsorted(wanted, near), len(wanted) - 1)
            exact = wanted[at] == near
            docs = np.fromiter((d for d, _ in rows), dtype=np.int64, count=len(rows))
            per = np.fromiter((len(b) >> 3 for b in blobs), dtype=np.intp, count=len(blobs))
            found_keys.append(near[exact])
            found_docs.append(np.repeat(docs, per)[maybe[exact]])
        rows = cursor.fetchmany(_SCAN_ROWS)
    if not found_keys:
        return _no_matches()
    return np.concatenate(found_keys), np.concatenate(found_docs)


def _no_matches() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    empty = np.zeros(0, dtype=np.int64)
    return empty, empty


def prune(db: Connection, *, before: datetime) -> int:
    """Forget the fingerprints of articles published before ``before``: no lookup reaches
    them any more (#16: without it the table kept every article's, and each run read more
    of it). Done at most once a day of cutoffs (a watermark in ``meta``): the rows deleted
    are a range of the ``published_us`` index, but their ids are spread over the
    ``article_id`` index, whose pages a day's delete then writes once, not at every run.
    Returns the signatures deleted. The article rows and their exact keys stay."""
    cutoff = micros(before)
    row = db.execute("SELECT value FROM meta WHERE key = ?", (_PRUNED,)).fetchone()
    if row is not None and cutoff < int(row[0]) + _PRUNE_EVERY // timedelta(microseconds=1):
        return 0
    deleted = db.execute("DELETE FROM minhashes WHERE published_us < ?", (cutoff,)).rowcount
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (_PRUNED, str(cutoff)))
    return int(deleted)


def move_band_rows(db: Connection) -> None:
    """Schema step 9 -> 10: each signature's band rows (``minhash_bands``) become its
    ``bands`` blob and ``published_us``; a signature without band rows (none should be)
    is dropped, as no lookup could reach it."""
    cursor = db.execute(
        "SELECT doc, published_us, band_key FROM minhash_bands ORDER BY doc, band_key"
    )
    doc: int | None = None
    published = 0
    keys: list[int] = []
    updates: list[tuple[int, bytes, int]] = []
    while rows := cursor.fetchmany(_CHUNK * 32):
        for d, at, key in rows:
            if d != doc:
                if doc is not None:
                    updates.append((published, np.array(keys, "<i8").tobytes(), doc))
                doc, published, keys = d, at, []
            published = min(published, at)
            keys.append(key)
        if len(updates) >= _CHUNK:
            _set_bands(db, updates)
            updates = []
    if doc is not None:
        updates.append((published, np.array(keys, "<i8").tobytes(), doc))
    _set_bands(db, updates)
    db.execute("DELETE FROM minhashes WHERE bands IS NULL")


def _set_bands(db: Connection, updates: Sequence[tuple[int, bytes, int]]) -> None:
    db.executemany("UPDATE minhashes SET published_us = ?, bands = ? WHERE doc = ?", updates)


def move_json_minhashes(db: sqlite3.Connection) -> None:
    """Schema step 6 -> 7: every stored original's JSON MinHash becomes bytes with its band
    keys (a text without shingles gets none: nothing can share its bands), then the JSON
    column is emptied. Signatures of another length than today's 64 are dropped (dedupe
    could never compare them)."""
    from digest import minhash
    from digest.dedupe import DedupeParams

    params = DedupeParams()
    cursor = db.execute(
        "SELECT id, published, minhash FROM articles WHERE minhash IS NOT NULL"
        " AND duplicate_of IS NULL ORDER BY published, id"
    )
    doc = 0
    while rows := cursor.fetchmany(_CHUNK):
        chunk = [(i, datetime.fromisoformat(p), json.loads(m)) for i, p, m in rows]
        chunk = [c for c in chunk if len(c[2]) == params.num_perm]
        if not chunk:
            continue
        sigs = np.array([c[2] for c in chunk], dtype=np.uint64)
        keys = minhash.band_keys(sigs, params.bands)
        shingled = sigs.min(axis=1) < minhash.EMPTY
        for (article_id, published, _), sig, bands, has in zip(
            chunk, sigs, keys, shingled, strict=True
        ):
            if not has:
                continue
            doc += 1
            db.execute(
                "INSERT INTO minhashes (doc, article_id, signature) VALUES (?, ?, ?)",
                (doc, article_id, minhash.to_bytes(sig)),
            )
            at = micros(published)
            db.executemany(
                "INSERT OR IGNORE INTO minhash_bands (band_key, published_us, doc)"
                " VALUES (?, ?, ?)",
                [(k, at, doc) for k in bands.tolist()],
            )
    db.execute("UPDATE articles SET minhash = NULL WHERE minhash IS NOT NULL")
