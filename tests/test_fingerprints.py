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

from digest.dedupe import CROWDED, SeenIndex, dedupe, exact_keys, fingerprints, sign
from digest.models import Article
from digest.rows import article_row
from digest.schema import MIGRATIONS, SCHEMA_VERSION
from digest.store import Store
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


def test_a_batchs_lookups_seek_into_the_stores_tables_never_scan_them(tmp_path: Path) -> None:
    """What a run reads of the band index and the vocabulary is found by the batch's keys,
    each a seek; a scan of either table costs what the store holds (both grow for months:
    4.5M band rows and 181k terms after 150k articles, scanned on every run)."""
    wire = article(WIRE, hours=30)
    rewrite = article(REWRITE, outlet="Valley Courier", url="https://courier.example/r")
    with Store(tmp_path / "s.sqlite3") as store:
        _store_articles(store, [wire])
        with store.transaction():
            store.db.execute("INSERT INTO vocabulary (term, df) VALUES ('rates', 3)")
        bands = _plans(store, lambda: _ask(store, [rewrite]))
        terms = _plans(store, lambda: store.vocabulary(["rates", "tariff"]))
    # (the plan of the EXISTS probe is a scan, but it stops at the first row)
    joins = [plan for plan in bands if re.search(r"\b(?:SCAN|SEARCH) b\b", plan)]
    assert len(joins) == 2, bands  # the crowded keys, then the documents
    for plan in joins:
        assert "SEARCH b USING PRIMARY KEY (band_key=?" in plan, plan
        assert "SCAN b" not in plan, plan
    vocabulary = [plan for plan in terms if re.search(r"\b(?:SCAN|SEARCH) v\b", plan)]
    assert len(vocabulary) == 1, terms
    assert "SEARCH v USING" in vocabulary[0], vocabulary
    assert "SCAN v" not in vocabulary[0], vocabulary


def _fingerprinted(store: Store) -> dict[str, int]:
    """Article id -> its band rows, of the articles whose signature is kept."""
    rows = store.db.execute(
        "SELECT m.article_id, COUNT(b.doc) FROM minhashes AS m"
        " LEFT JOIN minhash_bands AS b ON b.doc = m.doc GROUP BY m.article_id"
    )
    return dict(rows.fetchall())


def test_fingerprints_older_than_the_window_are_forgotten_at_most_once_a_day(
    tmp_path: Path,
) -> None:
    """No lookup reaches back before the window, so those band rows and signatures go; the
    articles stay. The delete reads the whole band table, so a cutoff less than a day past
    the last one (a run every 30 minutes) waits, and one before it (a replay of older
    news) deletes nothing."""
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
        assert (deleted, set(_fingerprinted(store))) == (bands[old.id], {fresh.id, later.id})
        with store.transaction():  # `later` is older than these cutoffs too
            assert store.prune_fingerprints(before=cutoff - timedelta(days=3)) == 0
            assert store.prune_fingerprints(before=cutoff + timedelta(hours=23)) == 0
        assert set(_fingerprinted(store)) == {fresh.id, later.id}
        with store.transaction():
            assert store.prune_fingerprints(before=cutoff + timedelta(days=1)) > 0
        assert _fingerprinted(store) == {fresh.id: bands[fresh.id]}
        assert store.counts()["articles"] == 3
        assert store.seen_among(exact_keys(old)) == set(exact_keys(old))  # still seen
