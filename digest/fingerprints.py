"""The store's MinHash tables (``minhashes``, ``minhash_bands``; schema step 6 -> 7).

An article's signature is written once, as bytes, with its band keys in an index keyed by
(band key, published). A run asks only about its batch's band keys within the recent
window, so what it reads depends on the batch, never on how much the store holds.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from digest.models import Article, Fingerprint

if TYPE_CHECKING:
    from digest.store.base import Connection

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CHUNK = 2000  # rows converted per step when migrating
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
    """Store the fingerprints of ``articles`` that have band keys (once per article)."""
    rows = [(a, prints[a.id]) for a in articles if a.id in prints and prints[a.id].bands]
    if not rows:
        return
    first = int(db.execute("SELECT COALESCE(MAX(doc), 0) + 1 FROM minhashes").fetchone()[0])
    db.executemany(
        "INSERT OR IGNORE INTO minhashes (doc, article_id, signature) VALUES (?, ?, ?)",
        [(first + i, a.id, fp.minhash) for i, (a, fp) in enumerate(rows)],
    )
    inserted = {d for (d,) in db.execute("SELECT doc FROM minhashes WHERE doc >= ?", (first,))}
    kept = [(first + i, a, fp) for i, (a, fp) in enumerate(rows) if first + i in inserted]
    if not kept:
        return
    keys = np.frombuffer(b"".join(fp.bands for _, _, fp in kept), dtype=np.int64)
    per = np.array([len(fp.bands) // 8 for _, _, fp in kept])
    published = np.repeat(np.array([micros(a.published) for _, a, _ in kept], np.int64), per)
    docs = np.repeat(np.array([d for d, _, _ in kept], np.int64), per)
    # in key order: a batch's random keys would otherwise each touch another page of a big
    # index (#16: 100k articles wrote their 3.2M band rows in 18 s, unsorted)
    order = np.lexsort((docs, published, keys))
    keys, published, docs = keys[order], published[order], docs[order]
    step = _CHUNK * 32  # rows turned into Python ints at a time (3.2M for 100k: 0.3 GB)
    for at in range(0, len(order), step):
        part = slice(at, at + step)
        db.executemany(
            "INSERT OR IGNORE INTO minhash_bands (band_key, published_us, doc) VALUES (?, ?, ?)",
            zip(keys[part].tolist(), published[part].tolist(), docs[part].tolist(), strict=True),
        )


def candidates(
    db: Connection, bands: Collection[int], *, since: datetime, crowded_over: int
) -> tuple[tuple[Fingerprint, ...], frozenset[int]]:
    """Stored articles published since ``since`` that share one of ``bands``, and the band
    keys that more than ``crowded_over`` of them share (those are passed over, so the
    articles found only through them are not read)."""
    since_us = micros(since)
    if not bands or not db.execute("SELECT EXISTS (SELECT 1 FROM minhash_bands)").fetchone()[0]:
        return (), frozenset()  # a new store (a first run over an archive: 3.2M keys for 100k)
    # the batch's keys lead each join (CROSS JOIN: SQLite keeps that order), each a seek in
    # the (band key, published) index; planned freely, SQLite scanned every band row of the
    # store against them (4.5M rows at 150k articles: 0.07 s at 10k stored, 1.8 s at 150k)
    with _ints(db, "_band_keys", bands) as table:
        crowded = frozenset(  # counted by SQLite: the crowded keys' rows never reach Python
            k
            for (k,) in db.execute(
                f"SELECT b.band_key FROM {table} AS t CROSS JOIN minhash_bands AS b"  # noqa: S608
                " WHERE b.band_key = t.v AND b.published_us >= ?"
                " GROUP BY b.band_key HAVING COUNT(*) > ?",
                (since_us, crowded_over),
            )
        )
        db.executemany(f"DELETE FROM {table} WHERE v = ?", ((k,) for k in crowded))  # noqa: S608
        docs = {
            d
            for (d,) in db.execute(
                f"SELECT DISTINCT b.doc FROM {table} AS t CROSS JOIN minhash_bands AS b"  # noqa: S608
                " WHERE b.band_key = t.v AND b.published_us >= ?",
                (since_us,),
            )
        }
    if not docs:
        return (), crowded
    from digest.dedupe import title_key

    with _ints(db, "_docs", sorted(docs)) as table:
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


def prune(db: Connection, *, before: datetime) -> int:
    """Forget the fingerprints (band rows and signatures) of articles published before
    ``before``: no lookup reaches them any more, and a band index that kept every article
    made each run's commit rewrite more of it (#16: 4.5M rows at 150k articles; months of
    news would be ~100M). Done at most once a day of cutoffs (a watermark in ``meta``), as
    each delete reads the whole band table: with pruning, what the window holds. Returns
    the band rows deleted. The article rows and their exact keys stay."""
    cutoff = micros(before)
    row = db.execute("SELECT value FROM meta WHERE key = ?", (_PRUNED,)).fetchone()
    if row is not None and cutoff < int(row[0]) + _PRUNE_EVERY // timedelta(microseconds=1):
        return 0
    # every band row of a signature has its article's time: the rows give the signatures
    db.execute(
        "DELETE FROM minhashes WHERE doc IN (SELECT doc FROM minhash_bands WHERE published_us < ?)",
        (cutoff,),
    )
    deleted = db.execute("DELETE FROM minhash_bands WHERE published_us < ?", (cutoff,)).rowcount
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (_PRUNED, str(cutoff)))
    return int(deleted)


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
