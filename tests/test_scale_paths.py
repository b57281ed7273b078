"""The paths that keep big runs fast give the same answers as the plain ones."""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from bench.corpus import articles as synthetic_articles
from digest.cluster import plan_clusters
from digest.compose import compose
from digest.config import Settings
from digest.models import Article
from digest.pipeline import RunOptions, run_once, summarize_window
from digest.store import Store

DAY = date(2026, 1, 6)
NOW = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)


def test_summarising_only_the_briefings_threads_changes_nothing(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    dump = tmp_path / "in" / "day.jsonl"
    dump.parent.mkdir()
    lines = [json.dumps(a) for a in synthetic_articles(150, seed=3)]
    dump.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = make_settings("output.max_threads=4")
    with Store(settings.store.path) as store:
        options = RunOptions(day=DAY, inputs=(dump,), captured_at=NOW, publish=False)
        report = run_once(settings, now=NOW, store=store, options=options)
        assert report.edition is not None
        every = summarize_window(store, report.edition, settings)
        few = summarize_window(store, report.edition, settings, limit=4)
    assert report.duplicates > 0  # wire copies: thread sizes count them
    assert len(every) > len(few) >= 4

    def top(summaries: tuple) -> tuple:
        briefing = compose(
            DAY, summaries, generated_at=NOW, timezone="UTC", title="t", max_threads=4
        )
        return briefing.threads

    assert top(few) == top(every)


def test_threads_quiet_past_the_window_close_mid_batch(make_article: Callable[..., Article], now):
    story = "Dockers at the Varnia harbour walked out over pay; the port of Lindau is shut."
    first = make_article("Varnia harbour strike", story, hours=240)
    rng = random.Random(1)  # noqa: S311 - reproducible filler, not security
    noise = [
        make_article(
            f"Item {i}",
            " ".join(f"w{rng.randrange(10**6)}" for _ in range(12)),
            hours=239 - i * 0.35,
        )
        for i in range(600)
    ]
    same_day = make_article("Varnia strike goes on", story + " Talks failed.", hours=239.5)
    much_later = make_article("Varnia harbour strike again", story, hours=1)
    plan = plan_clusters([first, *noise, same_day, much_later], (), now=now)
    thread_of = {a: t.id for t in plan.new_threads for a in t.article_ids}
    assert len(thread_of) == 603  # every article placed exactly once
    assert sum(len(t.article_ids) for t in plan.new_threads) == 603
    assert thread_of[first.id] == thread_of[same_day.id]
    assert thread_of[much_later.id] != thread_of[first.id]


def test_the_threads_given_as_an_iterator_are_let_go_once_they_are_nodes(
    make_article: Callable[..., Article], now, monkeypatch
) -> None:
    """A window's open threads (their signatures: ~13 MB for 5k threads) are not held beside
    their nodes through the clustering: given as an iterator over threads nobody else holds,
    as a run gives the store's (so that a wrapper holding the call's arguments, as the
    benchmarks' stage clock does, holds the iterator, not the threads), they are gone by
    the time the candidates are found."""
    import gc

    import digest.cluster as cluster
    from digest.models import EventThread

    story = "Dockers at the Varnia harbour walked out over pay; the port of Lindau is shut."
    earlier = [
        make_article(f"Varnia harbour strike, day {i}", story + f" Day {i}.", hours=30 - i)
        for i in range(3)
    ]
    ids = {t.id for t in plan_clusters(earlier, (), now=now).new_threads}
    given = iter(plan_clusters(earlier, (), now=now).new_threads)  # (a new tuple, as a store's)
    held = tuple(  # the same threads under other ids, in a tuple the caller keeps
        dataclasses.replace(t, id="kept-" + t.id)
        for t in plan_clusters(earlier, (), now=now).new_threads
    )
    alive: list[tuple[int, int]] = []
    real = cluster.link_candidates

    def spy(*args: object, **kwargs: object) -> None:
        gc.collect()
        threads = [
            o for o in gc.get_objects() if type(o) is EventThread
        ]  # (type: a dead weakref.proxy raises on isinstance)
        alive.append(
            (sum(t.id in ids for t in threads), sum(t.id.startswith("kept-") for t in threads))
        )
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cluster, "link_candidates", spy)
    later = [make_article("Varnia strike goes on", story + " Talks failed.", hours=2)]
    plan = plan_clusters(later, given, now=now)
    assert {e.thread_id for e in plan.extensions} == ids  # (the threads were met)
    plan_clusters(later, held, now=now)  # a tuple its caller keeps stays, of course
    assert alive == [(0, len(held)), (0, len(held))]
    assert len(held) > 0


def test_a_raw_text_is_let_go_once_its_article_is_made(
    tmp_path: Path, make_settings: Callable[..., Settings], monkeypatch
) -> None:
    """A big batch never holds all its raw texts beside all its clean ones: each raw item
    is let go as its article is made (100k articles: the run's peak 810 -> ~720 MB)."""
    import gc

    import digest.pipeline as pipeline
    from digest.models import RawItem

    dump = tmp_path / "in" / "day.jsonl"
    dump.parent.mkdir()
    lines = [json.dumps(a) for a in synthetic_articles(30, seed=4)]
    dump.write_text("\n".join(lines) + "\n", encoding="utf-8")
    alive: list[int] = []
    real = pipeline.normalize

    def spy(item: RawItem) -> Article:
        alive.append(sum(type(o) is RawItem and o.source == item.source for o in gc.get_objects()))
        return real(item)

    monkeypatch.setattr(pipeline, "normalize", spy)
    settings = make_settings()
    with Store(settings.store.path) as store:
        options = RunOptions(day=DAY, inputs=(dump,), captured_at=NOW, publish=False)
        report = run_once(settings, now=NOW, store=store, options=options)
        stored = [r[0] for r in store.db.execute("SELECT canonical_url FROM articles")]
    assert report.new_articles + report.duplicates == len(alive) == 30
    assert alive == list(range(30, 0, -1))  # the rest of the batch, and the one in hand
    assert len(stored) == 30
