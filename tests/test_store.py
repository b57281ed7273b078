"""The store: migrations, transactions, plans, day membership (the data tests run on both
backends, SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from digest.dedupe import exact_keys
from digest.errors import StoreError
from digest.models import Article, ClusterPlan, Duplicate, EventThread, ThreadExtension
from digest.schema import SCHEMA_VERSION
from digest.store import Store
from tests.pgserver import StoreFactory

Make = Callable[..., Article]
DAY1, DAY2 = date(2026, 3, 1), date(2026, 3, 2)


def _thread(article: Article) -> EventThread:
    return EventThread(
        id="t1",
        title=article.title,
        article_ids=(article.id,),
        first_seen=article.published,
        last_updated=article.published,
        signature=(("harbour", 0.8), ("strike", 0.6)),
    )


def test_new_store_is_migrated_to_the_latest_version(tmp_path: Path) -> None:
    with Store(tmp_path / "a" / "digest.sqlite3") as store:
        assert store.version == SCHEMA_VERSION
        assert store.counts() == {"articles": 0, "threads": 0, "seen_keys": 0, "runs": 0}
    with Store(tmp_path / "a" / "digest.sqlite3") as store:  # reopening migrates nothing
        assert store.version == SCHEMA_VERSION


def test_a_store_from_a_newer_digest_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "digest.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer than this digest"):
        Store(path)


def test_an_unopenable_store_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "dir.sqlite3").mkdir()
    with pytest.raises(StoreError, match="cannot open store") as info:
        Store(tmp_path / "dir.sqlite3")
    assert "\n" not in str(info.value)


def test_a_failed_transaction_loses_nothing_already_committed(
    store_factory: StoreFactory, make_article: Make
) -> None:
    first, second = (
        make_article("Harbour strike", "Dockers walked out."),
        make_article("Rates", "Up."),
    )
    with store_factory() as store:
        with store.transaction():
            store.save_articles([first], day=DAY1, run_id=1, fingerprints={})

        def crash_mid_run() -> None:
            with store.transaction():
                store.save_articles([second], day=DAY1, run_id=2, fingerprints={})
                raise RuntimeError("crash mid-run")

        with pytest.raises(RuntimeError):
            crash_mid_run()
    with store_factory() as store:
        assert set(store.articles([first.id, second.id])) == {first.id}
        asked = [f"id:{first.id}", f"id:{second.id}"]
        assert store.seen_index(asked, since=first.published).keys == {f"id:{first.id}"}


def test_the_seen_index_holds_the_batchs_keys_only(tmp_path: Path, make_article: Make) -> None:
    """A run looks its batch's keys up; it never loads every key the store has seen."""
    old, new = make_article("Harbour strike", "Dockers walked out."), make_article("Rates", "Up.")
    with Store(tmp_path / "s.sqlite3") as store:
        with store.transaction():
            store.save_articles([old], day=DAY1, run_id=1, fingerprints={})
        seen = store.seen_index(exact_keys(new) + exact_keys(old)[:1], since=old.published)
    assert seen.keys == frozenset(exact_keys(old)[:1])


def test_plan_extension_and_day_membership(store_factory: StoreFactory, make_article: Make) -> None:
    a = make_article("Harbour strike begins", "Dockers walked out at dawn.", hours=30)
    b = make_article("Harbour strike enters day two", "Dockers stayed out.", hours=2)
    copy = make_article(
        "Dockers stay out", "Dockers stayed out, a wire said.", outlet="Other", hours=1
    )
    with store_factory() as store:
        with store.transaction():
            store.save_articles([a], day=DAY1, run_id=1, fingerprints={})
            store.apply_plan(ClusterPlan(new_threads=(_thread(a),), extensions=()))
        with store.transaction():
            store.save_articles([b], day=DAY2, run_id=2, fingerprints={})
            store.save_duplicates(
                [Duplicate(article=copy, of_id=b.id, reason="near")], day=DAY2, run_id=2
            )
            store.apply_plan(
                ClusterPlan(
                    new_threads=(),
                    extensions=(
                        ThreadExtension(
                            thread_id="t1",
                            article_ids=(b.id,),
                            signature=(("dock", 1.0),),
                            last_updated=b.published,
                        ),
                    ),
                )
            )
        (day1,) = store.threads_for_day(DAY1)
        assert day1.continues_from is None
        (day2,) = store.threads_for_day(DAY2)
        assert day2.continues_from == DAY1
        assert day2.new_article_ids == {b.id}
        assert day2.thread.article_ids == (a.id, b.id)
        assert day2.thread.last_updated == b.published
        assert [c.outlet for c in store.copies_of([b.id])[b.id]] == ["Other"]
        assert store.open_threads(since=b.published)[0].signature == (("dock", 1.0),)


def test_articles_saved_with_their_thread_and_copies_follow(
    store_factory: StoreFactory, make_article: Make, backend: str
) -> None:
    """The pipeline's order: plan first, rows written once with their thread; the copy of a
    batch article takes its original's thread; applying the plan then writes the thread."""
    a = make_article("Harbour strike begins", "Dockers walked out at dawn.", hours=3)
    copy = make_article("Dockers out", "Dockers walked out at dawn, a wire said.", outlet="W")
    plan = ClusterPlan(new_threads=(_thread(a),), extensions=())
    with store_factory() as store:
        with store.transaction():
            store.save_articles([a], day=DAY1, run_id=1, fingerprints={}, threads={a.id: "t1"})
            store.save_duplicates(
                [Duplicate(article=copy, of_id=a.id, reason="near")], day=DAY1, run_id=1
            )
            store.apply_plan(plan)
        rows = store.db.execute("SELECT id, thread_id FROM articles ORDER BY id").fetchall()
        assert sorted(rows) == sorted([(a.id, "t1"), (copy.id, "t1")])
        if backend != "sqlite":
            return
        plan_text = " ".join(
            str(r[-1])
            for r in store.db.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM articles WHERE duplicate_of = ?", ("x",)
            )
        )
        assert "articles_duplicate_of" in plan_text  # copies are found without a scan


def test_the_vocabulary_is_read_for_the_batchs_terms_only(tmp_path: Path) -> None:
    """A run reads the document frequencies of its own terms, not the whole table."""
    from collections import Counter

    with Store(tmp_path / "s.sqlite3") as store:
        with store.transaction():
            store.add_vocabulary(Counter({"harbour": 3, "strike": 2, "rates": 1}), 5)
        asked = store.vocabulary(["strike", "harbour", "unseen"])
        everything = store.vocabulary()
    assert (dict(asked.df), asked.n_docs) == ({"harbour": 3, "strike": 2}, 5)
    assert dict(everything.df) == {"harbour": 3, "strike": 2, "rates": 1}


def test_a_loaded_signature_is_packed_and_equal_to_the_pairs_it_was_saved_as() -> None:
    from array import array

    from digest.models import PackedSignature

    pairs = (("tariff", 0.5), ("@vietnam", 0.25), ("%lo", 739000.0))
    packed = PackedSignature(tuple(t for t, _ in pairs), array("d", [w for _, w in pairs]))
    assert packed == pairs
    assert pairs == packed
    assert list(packed) == list(pairs)
    assert packed[1] == ("@vietnam", 0.25)
    assert packed[1:] == pairs[1:]
    assert len(packed) == 3
    assert hash(packed) == hash(pairs)
    assert packed != pairs[:2]
    assert packed != "tariff"


def test_signatures_are_stored_packed_and_json_rows_are_still_read(
    store_factory: StoreFactory, make_article: Make
) -> None:
    """A thread's signature is written packed (its terms, then its weights as doubles) and
    read back to the bit; a row an older digest wrote as JSON pairs reads the same."""
    from digest.rows import PACKED, signature_from_text, signature_text

    weights = (0.1, 1 / 3, 739000.0, 2.5e-7, 0.123456)
    pairs = tuple(zip(("tariff", "@vietnam", "%lo", "zürich", "a b"), weights, strict=True))
    a = make_article("Tariff deal", "Vietnam agreed a tariff deal.", hours=2)
    thread = replace(_thread(a), signature=pairs)
    with store_factory() as store:
        with store.transaction():
            store.save_articles([a], day=DAY1, run_id=1, fingerprints={})
            store.apply_plan(ClusterPlan(new_threads=(thread,), extensions=()))
        (text,) = store.db.execute("SELECT signature FROM threads").fetchone()
        assert text.startswith(PACKED)
        assert "tariff" in text
        assert store.open_threads(since=a.published)[0].signature == pairs
        older = json.dumps([list(p) for p in pairs])  # as digest wrote them until stop 21
        with store.transaction():
            store.db.execute("UPDATE threads SET signature = ?", (older,))
        assert store.open_threads(since=a.published)[0].signature == pairs
    assert signature_from_text(signature_text(())) == ()
    odd = (("has\x1fseparator", 1.0),)  # (no term holds one: then it is written as JSON)
    assert signature_text(odd).startswith("[")
    assert signature_from_text(signature_text(odd)) == odd
    with pytest.raises(ValueError, match="2 terms and 1 weights"):
        signature_from_text(PACKED + "a\x1fb\x1e" + signature_text((("c", 1.0),)).split("\x1e")[-1])
