"""news-days (a CC0 fixture copy in tests/data/news-days) through the real pipeline, day by
day: event threads, not leaders or topics; nothing listed twice; no article changing
thread between editions."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from digest.config import Settings
from digest.models import RunReport
from digest.pipeline import RunOptions, run_once
from digest.store import Store

DATA = Path(__file__).parent / "data" / "news-days"


def _key(title: str, outlet: str) -> tuple[str, str]:
    return re.sub(r"[^a-z0-9]+", "", title.lower()), re.sub(r"[^a-z0-9]+", "", outlet.lower())


GOLD = {_key(r["title"], r["outlet"]): r for r in json.loads((DATA / "threads.json").read_text())}


def run_day(settings: Settings, day: int, inputs: Path) -> RunReport:
    when = datetime(2026, 5, 10 + day, 18, tzinfo=UTC)
    options = RunOptions(day=date(2026, 5, 10 + day), inputs=(inputs,), captured_at=when)
    with Store(settings.store.path) as store:
        return run_once(settings, now=when.replace(minute=5), store=store, options=options)


def editions(settings: Settings) -> list[dict]:
    docs = [json.loads(p.read_text("utf-8")) for p in settings.output.dir.glob("*/briefing.json")]
    return sorted(docs, key=lambda d: d["edition"]["number"])


def placement(settings: Settings) -> tuple[dict[str, str], set[str], set[str]]:
    """Gold key -> thread id it is listed under; keys listed twice in one edition's thread;
    keys that changed thread between editions (as the corpus's score.py counts them)."""
    placed: dict[str, str] = {}
    twice: set[str] = set()
    moved: set[str] = set()
    for doc in editions(settings):
        for thread in doc["threads"]:
            here = Counter(GOLD[_key(a["title"], a["outlet"])]["key"] for a in thread["articles"])
            twice |= {k for k, n in here.items() if n > 1}
            for k in here:
                if placed.setdefault(k, thread["id"]) != thread["id"]:
                    moved.add(k)
    return placed, twice, moved


def bcubed(placed: dict[str, str]) -> float:
    gold = {r["key"]: r["thread"] for r in GOLD.values() if r["key"] in placed}
    by_pred, by_gold = defaultdict(set), defaultdict(set)
    for k, g in gold.items():
        by_pred[placed[k]].add(k)
        by_gold[g].add(k)
    p = sum(len(by_pred[placed[k]] & by_gold[g]) / len(by_pred[placed[k]]) for k, g in gold.items())
    r = sum(len(by_pred[placed[k]] & by_gold[g]) / len(by_gold[g]) for k, g in gold.items())
    p, r = p / len(gold), r / len(gold)
    return 2 * p * r / (p + r)


@pytest.mark.slow
def test_four_days_of_jsonl_make_event_threads(make_settings: Any) -> None:
    settings = make_settings()
    for day in range(1, 5):
        run_day(settings, day, DATA / "jsonl" / f"day{day}.jsonl")
    placed, twice, moved = placement(settings)
    assert (twice, moved) == (set(), set())
    assert bcubed(placed) >= 0.95
    thread_of = placed
    # two calls between the same presidents, three days apart: two events
    assert thread_of["T01-1"] != thread_of["T05-1"]
    # the same leader hosting a foreign minister the next day: another event
    assert thread_of["T01-1"] != thread_of["T03-1"]
    # the tariff letters and the Tamlan deal: both Halloway's tariffs, two events
    assert thread_of["T12-1"] != thread_of["T14-1"]
    # an angle a day later (insurers' losses) belongs to the floods
    assert thread_of["T15-4"] == thread_of["T15-1"]
    # a market wrap stands alone
    assert [k for k, t in thread_of.items() if t == thread_of["T10-1"]] == ["T10-1"]


def test_an_article_seen_on_an_earlier_page_is_listed_once(make_settings: Any) -> None:
    """Day 2's pages list day 1's tariff-letters story again, with a shorter excerpt and a
    new relative time: it is the same article, not a second source of its thread."""
    settings = make_settings()
    run_day(settings, 1, DATA / "pages" / "day1")
    second = run_day(settings, 2, DATA / "pages" / "day2")
    placed, twice, moved = placement(settings)
    assert (twice, moved) == (set(), set())
    assert "T12-1" in placed
    assert second.duplicates >= 1


def _one_run_of_four_days(settings: Settings) -> tuple[RunReport, dict[str, str]]:
    report = run_day(settings, 4, DATA / "jsonl")
    placed, twice, moved = placement(settings)
    assert (twice, moved) == (set(), set())
    return report, placed


@pytest.mark.slow
def test_a_batch_bigger_than_a_slice_is_clustered_slice_by_slice(
    make_settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four days in one run, clustered in slices of 12 articles in publication order (as a
    first run over a big archive is): every article stored once with a thread, the events
    as good as in one piece, and the report counts each thread once."""
    whole, placed_whole = _one_run_of_four_days(make_settings())
    from digest import intake

    monkeypatch.setattr(intake, "SLICE_ARTICLES", 12)
    sliced_settings = make_settings(
        f"store.path='{tmp_path / 'sliced.sqlite3'}'", f"output.dir='{tmp_path / 'sliced'}'"
    )
    sliced, placed = _one_run_of_four_days(sliced_settings)
    assert placed.keys() == placed_whole.keys()
    assert bcubed(placed) >= bcubed(placed_whole) - 0.05
    assert bcubed(placed) >= 0.9, (bcubed(placed), bcubed(placed_whole))
    with Store(sliced_settings.store.path) as store:
        stored_threads = store.db.execute("SELECT COUNT(*) FROM threads").fetchone()[0]
        unthreaded = store.db.execute(
            "SELECT COUNT(*) FROM articles WHERE thread_id IS NULL AND duplicate_of IS NULL"
        ).fetchone()[0]
    assert unthreaded == 0
    assert sliced.threads_new - sliced.threads_merged <= stored_threads
    assert (sliced.new_articles, sliced.duplicates) == (whole.new_articles, whole.duplicates)
