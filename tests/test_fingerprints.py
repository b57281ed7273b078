"""The store's MinHash tables: bytes once per article, band keys found by a batch lookup,
and stores of schema 6 (JSON signatures in ``articles.minhash``) moved over."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import cast

import numpy as np
import pytest

from digest.dedupe import CROWDED, SeenIndex, dedupe, exact_keys, fingerprints, sign
from digest.fingerprints import micros
from digest.models import Article
from digest.rows import article_row
from digest.schema import MIGRATIONS, SCHEMA_VERSION
from digest.store import Store
from digest.store.base import Connection
from tests.test_dedupe import REWRITE, WIRE, article

DAY = date(2026, 3, 2)


def _store_articles(store: Store, articles: list[Article]) -> None:
    with store.transaction():
        prints = {f.article_id: f for f in fingerprints(articles)}
        store.save_articles(articles, day=DAY, run_id=1, fingerprints=prints)


def _ask(store: Store, batch: list[Article], *, days: float = 7) -> SeenIndex:
    since = min(a.published for a in batch) - timedelta(days=days)
    return store.seen_index((), sign(batch).lookup_bands(), since=since)


def test_a_stored_original_is_found_by_the_batchs_band_keys(tmp_path: Path) -> None:
    wire = article(WIRE, hours=30)
    other = article("Rates rise again. " * 20, url="https://meridian.example/rates", hours=30)
    rewrite = article(REWRITE, outlet="Valley Courier", url="https://courier.example/r")
    with Store(tmp_path / "s.sqlite3") as store:
        _store_articles(store, [wire, other])
        blob, json_column = store.db.execute(
            "SELECT signature, a.minhash FROM minhashes JOIN articles AS a ON a.id = article_id"
            " WHERE article_id = ?",
            (wire.id,),
        ).fetchone()
        seen = _ask(store, [rewrite])
        assert _ask(store, [rewrite], days=1).fingerprints == ()  # older than the window
    assert (len(blob), json_column) == (4 * 64, None)  # bytes; no JSON any more
    assert [f.article_id for f in seen.fingerprints] == [wire.id]  # not the unrelated one
    result = dedupe([rewrite], seen)
    assert [(d.of_id, d.reason) for d in result.duplicates] == [(wire.id, "near")]


def test_band_keys_the_window_shares_too_often_are_reported_not_read(tmp_path: Path) -> None:
    """Short notes under one long house footer: most of their bands are the footer's, shared
    by more than CROWDED stored articles; those keys come back as crowded, and the articles
    reachable only through them are not read."""
    footer = " ".join(f"footer{j}" for j in range(40))
    stories = [
        article(f"note{i} about item{i}. {footer}", url=f"https://meridian.example/{i}", hours=5)
        for i in range(3 * CROWDED)
    ]
    probe = article(f"A probe of its own. {footer}", url="https://x.example/p")
    with Store(tmp_path / "s.sqlite3") as store:
        _store_articles(store, stories)
        seen = _ask(store, [probe])
    assert seen.crowded
    assert len(seen.fingerprints) < len(stories) / 2


def _version_6_store(path: Path, articles: list[Article]) -> None:
    """A store as digest left it at schema 6: each original's MinHash as JSON text."""
    db = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:6]:
        step(db)
    prints = {f.article_id: f for f in fingerprints(articles)}
    for a in articles:
        values = np.frombuffer(prints[a.id].minhash, dtype="<u4").tolist()
        db.execute(
            "INSERT INTO articles (id, canonical_url, outlet, title, text, published,"
            " fetched_at, source, origin, authors, lang, content_hash, day, run_id, thread_id,"
            " duplicate_of, minhash, dated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            article_row(a, DAY, 1, None, json.dumps(values), None),
        )
    db.execute("PRAGMA user_version = 6")
    db.close()


def test_a_schema_6_store_moves_its_json_minhashes_to_bytes(tmp_path: Path) -> None:
    wire = article(WIRE, hours=30)
    short = article("Too short", url="https://meridian.example/short", hours=30)
    rewrite = article(REWRITE, outlet="Valley Courier", url="https://courier.example/m")
    _version_6_store(tmp_path / "s.sqlite3", [wire, short])
    with Store(tmp_path / "s.sqlite3") as store:
        assert store.version == SCHEMA_VERSION
        query = "SELECT COUNT(*) FROM articles WHERE minhash IS NOT NULL"
        left = store.db.execute(query).fetchone()
        moved = store.db.execute("SELECT article_id, signature FROM minhashes").fetchall()
        seen = _ask(store, [rewrite])
    assert left[0] == 0
    assert moved == [(wire.id, fingerprints([wire])[0].minhash)]  # the short one has no bands
    assert [(d.of_id, d.reason) for d in dedupe([rewrite], seen).duplicates] == [(wire.id, "near")]


def test_a_batchs_band_keys_are_read_as_ints_a_chunk_at_a_time() -> None:
    batch = [article(WIRE, hours=1), article("Rates rise again. " * 20, url="https://m.example/r")]
    bands = sign(batch).lookup_bands()
    keys = list(bands)
    assert len(keys) == len(bands) == len(set(keys)) > 32
    assert keys == sorted(keys)
    assert all(type(k) is int for k in keys)  # what SQLite and PostgreSQL bind
    assert keys[0] in bands
    assert keys[-1] + 1 not in bands
    assert "1" not in bands


def _plans(store: Store, call: Callable[[], object]) -> list[str]:
    """The query plan of every SELECT ``call`` runs against ``store`` (as SQLite would
    plan it then: with no statistics, the plan does not depend on how many rows there are)."""
    statements: list[str] = []
    db = cast(sqlite3.Connection, store.db)
    db.set_trace_callback(statements.append)
    try:
        call()
    finally:
        db.set_trace_callback(None)
    return [
        " | ".join(row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}"))
        for sql in statements
        if sql.lstrip().upper().startswith("SELECT")
    ]


def test_a_batchs_lookups_read_the_window_and_seek_the_vocabulary(tmp_path: Path) -> None:
    """What a run reads of the fingerprints is the recent window, found by the index on
    their time, and of the vocabulary the batch's terms, each a seek; a scan of either
    table costs what the store holds (both grow for months: 181k terms after 150k
    articles, scanned on every run)."""
    wire = article(WIRE, hours=30)
    rewrite = article(REWRITE, outlet="Valley Courier", url="https://courier.example/r")
    with Store(tmp_path / "s.sqlite3") as store:
        _store_articles(store, [wire])
        with store.transaction():
            store.db.execute("INSERT INTO vocabulary (term, df) VALUES ('rates', 3)")
        bands = _plans(store, lambda: _ask(store, [rewrite]))
        terms = _plans(store, lambda: store.vocabulary(["rates", "tariff"]))
    window = [plan for plan in bands if "minhashes_published" in plan or "SCAN minhashes" in plan]
    assert window == ["SEARCH minhashes USING INDEX minhashes_published (published_us>?)"], bands
    vocabulary = [plan for plan in terms if re.search(r"\b(?:SCAN|SEARCH) v\b", plan)]
    assert len(vocabulary) == 1, terms
    assert "SEARCH v USING" in vocabulary[0], vocabulary
    assert "SCAN v" not in vocabulary[0], vocabulary


def test_the_windows_band_keys_match_the_batchs_as_a_set_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The numpy match (a bitmap of low bits, then a binary search, a few rows at a time)
    finds exactly the (key, doc) pairs a set intersection finds, in the window only (the
    crowded keys are counted from these pairs; a real store's are tested above)."""
    from digest import fingerprints as table

    monkeypatch.setattr(table, "_SCAN_ROWS", 7)
    rng = np.random.default_rng(3)
    pool = rng.integers(0, 2**63 - 1, size=400, dtype=np.int64)
    crowd = int(pool[0])  # on every other row
    db = sqlite3.connect(tmp_path / "s.sqlite3")
    db.execute("CREATE TABLE minhashes (doc INTEGER PRIMARY KEY, published_us INTEGER, bands BLOB)")
    stored: dict[int, set[int]] = {}
    for doc in range(1, 61):
        keys = set(rng.choice(pool, size=12, replace=False).tolist())
        keys |= {crowd} if doc % 2 else set()
        keys.add(int(rng.integers(0, 2**63 - 1)))  # a key of its own
        stored[doc] = keys
        blob = np.array(sorted(keys), dtype="<i8").tobytes()
        db.execute("INSERT INTO minhashes VALUES (?, ?, ?)", (doc, 10 if doc > 5 else 1, blob))
    wanted = set(rng.choice(pool, size=50, replace=False).tolist()) | {crowd}
    keys, docs = table._matches(cast("Connection", db), np.array(sorted(wanted)), 5)
    pairs = sorted(zip(keys.tolist(), docs.tolist(), strict=True))
    expected = sorted((k, d) for d, ks in stored.items() if d > 5 for k in ks & wanted)
    assert pairs == expected
    assert len(pairs) > 30


def _fingerprinted(store: Store) -> dict[str, int]:
    """Article id -> its band keys, of the articles whose fingerprint is kept."""
    rows = store.db.execute("SELECT article_id, LENGTH(bands) / 8 FROM minhashes")
    return dict(rows.fetchall())


def test_fingerprints_older_than_the_window_are_forgotten_at_most_once_a_day(
    tmp_path: Path,
) -> None:
    """No lookup reaches back before the window, so those fingerprints go; the articles
    stay. A cutoff less than a day past the last one (a run every 30 minutes) waits, and
    one before it (a replay of older news) deletes nothing."""
    old = article(WIRE, url="https://meridian.example/old", hours=24 * 10)
    later = article("Rates rise again. " * 20, url="https://meridian.example/r", hours=24 * 8.5)
    fresh = article(REWRITE, outlet="Valley Courier", url="https://courier.example/r")
    with Store(tmp_path / "s.sqlite3") as store:
        _store_articles(store, [old, fresh])
        bands = _fingerprinted(store)
        cutoff = fresh.published - timedelta(days=9)
        with store.transaction():
            deleted = store.prune_fingerprints(before=cutoff)
        _store_articles(store, [later])
        assert bands[old.id] == bands[fresh.id] == 32
        assert (deleted, set(_fingerprinted(store))) == (1, {fresh.id, later.id})
        with store.transaction():  # `later` is older than these cutoffs too
            assert store.prune_fingerprints(before=cutoff - timedelta(days=3)) == 0
            assert store.prune_fingerprints(before=cutoff + timedelta(hours=23)) == 0
        assert set(_fingerprinted(store)) == {fresh.id, later.id}
        with store.transaction():
            assert store.prune_fingerprints(before=cutoff + timedelta(days=1)) > 0
        assert _fingerprinted(store) == {fresh.id: bands[fresh.id]}
        assert store.counts()["articles"] == 3
        assert store.seen_among(exact_keys(old)) == set(exact_keys(old))  # still seen


def test_a_schema_9_store_keeps_its_band_rows_as_blobs_and_finds_by_them(tmp_path: Path) -> None:
    """Schema 9 kept band keys as rows of ``minhash_bands``; step 9 -> 10 moves each
    signature's rows onto it (keys and time, whatever band count made them) and drops the
    table, and the stored original is found by a batch's keys as before."""
    wire = article(WIRE, hours=30)
    rewrite = article(REWRITE, outlet="Valley Courier", url="https://courier.example/m")
    path = tmp_path / "s.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:9]:
        step(db)
    (fp,) = fingerprints([wire])
    db.execute(
        "INSERT INTO articles (id, canonical_url, outlet, title, text, published,"
        " fetched_at, source, origin, authors, lang, content_hash, day, run_id, thread_id,"
        " duplicate_of, minhash, dated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        article_row(wire, DAY, 1, None, None, None),
    )
    db.execute("INSERT INTO minhashes VALUES (1, ?, ?)", (wire.id, fp.minhash))
    db.execute("INSERT INTO minhashes VALUES (2, 'gone', ?)", (fp.minhash,))  # no band rows
    at = micros(wire.published)
    keys = np.frombuffer(fp.bands, dtype=np.int64).tolist()
    db.executemany("INSERT INTO minhash_bands VALUES (?, ?, 1)", [(k, at) for k in keys])
    db.execute("PRAGMA user_version = 9")
    db.close()
    with Store(path) as store:
        assert store.version == SCHEMA_VERSION
        tables = {n for (n,) in store.db.execute("SELECT name FROM sqlite_master")}
        row = store.db.execute("SELECT doc, published_us, bands FROM minhashes").fetchall()
        seen = _ask(store, [rewrite])
    assert "minhash_bands" not in tables
    assert "minhashes_published" in tables
    assert [(d, t, sorted(np.frombuffer(b, "<i8").tolist())) for d, t, b in row] == [
        (1, at, sorted(keys))
    ]
    assert [(d.of_id, d.reason) for d in dedupe([rewrite], seen).duplicates] == [(wire.id, "near")]
