"""A big batch's slices read one ahead in a worker process (digest.readahead, #16): the same
features as reading them here, in the same order, a worker that dies costing time and
never the run, one slice read here, and the same threads stored either way."""

from __future__ import annotations

import functools
import logging
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from digest import readahead
from digest.cluster import ClusterParams, read_articles
from digest.cluster.features import Features
from digest.config import Settings
from digest.intake import store_and_cluster
from digest.models import Article
from digest.pipeline import _dedupe
from digest.readahead import read_slices
from digest.store import Store
from tests.test_clusterstate import news_days

PARAMS = ClusterParams()


def _slices(articles: list[Article], size: int) -> deque[list[Article]]:
    return deque(articles[i : i + size] for i in range(0, len(articles), size))


def _plain(read: dict[str, Features]) -> dict[str, tuple[object, ...]]:
    return {
        k: (f.terms.keys_, tuple(f.terms.counts), f.day, f.roundup, f.short)
        for k, f in read.items()
    }


def _warned_and_read_here(caplog: pytest.LogCaptureFixture) -> str:
    """Reads the news-days articles ahead, in slices of 30: each slice has the features read
    here and every article is given once. Returns what was logged, a warning a line."""
    articles = news_days()
    with caplog.at_level(logging.WARNING, logger="digest.pipeline"):
        got = list(read_slices(_slices(articles, 30), PARAMS, ahead=True))
    assert [_plain(r) for _, r in got] == [_plain(read_articles(p, PARAMS)) for p, _ in got]
    assert sum(len(p) for p, _ in got) == len(articles)
    return "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)


def test_slices_read_ahead_have_the_features_read_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readahead, "CHUNK", 7)  # several chunks a slice
    articles = news_days()
    slices = _slices(articles, 25)
    got = []
    for part, read in read_slices(slices, PARAMS, ahead=True):
        got.append((part, _plain(read)))
        assert len(slices) == 4 - len(got)  # the slices not given yet
    assert not slices  # taken from the deque as given
    assert [p for p, _ in got] == [articles[i : i + 25] for i in range(0, len(articles), 25)]
    for part, read in got:
        assert list(read) == [a.id for a in part]  # in the slice's order
        assert read == _plain(read_articles(part, PARAMS))
    assert len(got) == 4


def test_a_worker_that_dies_costs_time_not_the_run(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Its worker exits as it starts (as one killed by the out-of-memory killer would):
    every slice is read here, with the same features, and the log says so once."""
    dying = functools.partial(ProcessPoolExecutor, initializer=os._exit, initargs=(3,))
    monkeypatch.setattr(readahead, "ProcessPoolExecutor", dying)
    assert _warned_and_read_here(caplog).count("reading ahead stopped") == 1


def test_one_slice_or_one_core_is_read_here(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[object] = []
    monkeypatch.setattr(readahead, "ProcessPoolExecutor", lambda *a, **k: made.append(a))
    articles = news_days()
    assert len(list(read_slices(_slices(articles, 100), PARAMS))) == 1
    monkeypatch.setattr(readahead, "spare_cores", lambda: 0)
    assert len(list(read_slices(_slices(articles, 30), PARAMS))) == 4
    assert made == []


def test_a_pool_that_cannot_be_made_costs_time_not_the_run(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def no_semaphores(*args: object, **kwargs: object) -> None:
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(readahead, "ProcessPoolExecutor", no_semaphores)
    assert "reading ahead unavailable" in _warned_and_read_here(caplog)


def test_a_batch_clustered_in_slices_stores_the_same_threads_read_ahead_or_not(
    tmp_path: Path, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings()
    batch = news_days()
    now = max(a.published for a in batch) + timedelta(hours=1)
    made = []
    for name, cores in (("here", 0), ("ahead", 1)):
        monkeypatch.setattr(readahead, "spare_cores", lambda cores=cores: cores)
        with Store(tmp_path / f"{name}.sqlite3") as store, store.transaction():
            run_id = store.begin_run(started=now, day=now.date())
            store_and_cluster(
                store,
                _dedupe(store, batch, settings),
                day=now.date(),
                run_id=run_id,
                settings=settings,
                now=now,
                slice_articles=20,
            )
            made.append(
                {
                    (t.id, t.article_ids, t.signature)
                    for t in store.threads_where("SELECT id FROM threads", ()).values()
                }
            )
    assert made[0] == made[1]
    assert sum(len(ids) for _, ids, _ in made[0]) > 80


def test_a_run_that_fails_mid_batch_leaves_no_worker_reading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Clustering a slice fails (the generator is let go mid-batch): the pool is shut down,
    with what was queued for later slices cancelled, not read on for nothing."""
    made: list[ProcessPoolExecutor] = []

    def recorded(*args: object, **kwargs: object) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(*args, **kwargs)  # type: ignore[arg-type]
        made.append(pool)
        return pool

    monkeypatch.setattr(readahead, "ProcessPoolExecutor", recorded)
    monkeypatch.setattr(readahead, "CHUNK", 5)
    slices = _slices(news_days(), 30)

    def cluster(given: deque[list[Article]]) -> None:
        for _part, _read in read_slices(given, PARAMS, ahead=True):
            raise RuntimeError("clustering failed")

    with pytest.raises(RuntimeError, match="clustering failed"):
        cluster(slices)
    (pool,) = made
    with pytest.raises(RuntimeError, match="shutdown"):
        pool.submit(int)
    assert len(slices) == 3  # the 3 slices after the first, as they were
