"""What a run reads of the store's history, at growing store sizes (no clustering).

    python -m bench.history                         # stores of 10k, 80k and 150k articles
    python -m bench.history --sizes 10000 100000 --batch 5000

A store is filled with generated articles (``bench.corpus``), their fingerprints, seen keys
and a vocabulary of their words, without clustering them (that would take an hour at
150k); then the next batch of the stream meets it as a run's dedupe does (the pipeline's
``_dedupe``: seen keys and near-duplicate candidates) and as its clustering reads the
vocabulary. Printed per size: CPU seconds and the peak of Python allocations (tracemalloc)
of each read. From 70k stored (7 days, dedupe's window) the window is full: flat rows from
there mean the read depends on the batch and the window, not on the history.
"""

from __future__ import annotations

import argparse
import inspect
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from bench.corpus import articles


def _articles(docs: list[dict[str, str]]) -> list[Any]:
    from datetime import datetime

    from digest.models import RawItem
    from digest.normalize import normalize

    return [
        normalize(
            RawItem(
                source="bench",
                outlet=d["outlet"],
                origin=d["url"],
                url=d["url"],
                title=d["title"],
                text=d["text"],
                published=datetime.fromisoformat(d["published"]),
                fetched_at=datetime.fromisoformat(d["published"]),
            )
        )
        for d in docs
    ]


def _words(article: Any) -> set[str]:
    return {w.strip(".,").lower() for w in article.text.split()} - {""}


def _fill(store: Any, batch: list[Any], run_id: int) -> None:
    from digest.dedupe import fingerprints

    prints = {f.article_id: f for f in fingerprints(batch)}
    df: Counter[str] = Counter()
    for a in batch:
        df.update(_words(a))
    with store.transaction():
        store.save_articles(batch, day=date(2026, 1, 5), run_id=run_id, fingerprints=prints)
        store.add_vocabulary(df, len(batch))


def _measure(read: Callable[[], object]) -> tuple[float, float]:
    """CPU seconds of ``read`` and the peak of its Python allocations in MB."""
    started = time.process_time()
    read()
    spent = time.process_time() - started
    tracemalloc.start()
    read()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return spent, peak / 2**20


def main(argv: list[str] | None = None) -> None:
    from digest.config import load_settings
    from digest.pipeline import _dedupe
    from digest.store import Store

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 80_000, 150_000])
    parser.add_argument("--batch", type=int, default=5_000, help="new articles (default 5000)")
    args = parser.parse_args(argv)
    docs = sorted(articles(max(args.sizes) + args.batch), key=lambda d: (d["published"], d["url"]))
    settings = load_settings(None, environ={}, overrides=[])
    by_terms = "terms" in inspect.signature(Store.vocabulary).parameters
    print(f"a batch of {args.batch:,} new articles against stores of growing size (CPU s, MB)")
    print(f"{'stored':>8} {'dedupe s':>9} {'dedupe MB':>10} {'vocab s':>8} {'vocab MB':>9}")
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "s.sqlite3") as store:
        filled = 0
        for size in sorted(args.sizes):
            for start in range(filled, size, 5_000):
                _fill(store, _articles(docs[start : min(start + 5_000, size)]), start // 5000)
            filled = size
            batch = _articles(docs[size : size + args.batch])  # the stream's next articles
            terms = set().union(*map(_words, batch))
            v_s, v_mb = _measure(
                (lambda: store.vocabulary(terms)) if by_terms else store.vocabulary  # noqa: B023
            )
            d_s, d_mb = _measure(lambda: _dedupe(store, batch, settings))  # noqa: B023
            print(f"{size:>8} {d_s:>9.2f} {d_mb:>10.1f} {v_s:>8.2f} {v_mb:>9.1f}", flush=True)


if __name__ == "__main__":
    main()
