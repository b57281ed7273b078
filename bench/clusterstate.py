"""What a clustering writer reads of the store per batch, with and without its kept state.

    python -m bench.clusterstate                        # SQLite: 40k stored, batches of 500
    python -m bench.clusterstate --stored 20000 --postgres   # a throwaway PostgreSQL too

The generated corpus (``bench.corpus``, ~10k articles a day) is clustered into a store in
chunks (``digest.intake.store_and_cluster``, no kept state), then the next ``--batches``
batches of ``--batch`` articles are clustered one by one, as a worker's cluster job does
it. For each batch it prints what gathering the clustering's inputs costs: read from the
store (open threads of the window, the batch's document frequencies, the pairs kept apart:
``intake._plan`` without a state) and from the kept state (``ClusterState.meet`` +
``inputs``: the first batch loads it, the others look up only their new terms); and the
whole ``store_and_cluster`` of the batch with the state. Figures only.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.corpus import articles
from bench.history import _articles

REPO = Path(__file__).resolve().parents[1]


def _cluster(store: Any, batch: Sequence[Any], settings: Any, state: Any) -> float:
    from digest.intake import store_and_cluster
    from digest.pipeline import _dedupe

    now = max(a.published for a in batch) + timedelta(hours=1)
    started = time.perf_counter()
    with store.transaction():
        run_id = store.begin_run(started=now, day=now.date())
        deduped = _dedupe(store, batch, settings)
        store_and_cluster(
            store, deduped, day=now.date(), run_id=run_id, settings=settings, now=now, state=state
        )
    return time.perf_counter() - started


def _inputs_from_store(store: Any, batch: Sequence[Any], params: Any, terms: set[str]) -> int:
    from digest.threadstore import ThreadStore

    latest = max(a.published for a in batch)
    found = store.open_threads(
        since=latest - timedelta(days=params.window_days),
        first_since=params.first_seen_since(latest),
    )
    store.vocabulary(terms)
    ThreadStore(store).kept_apart()
    return len(found)


def measure(store: Any, settings: Any, docs: list[Any], args: argparse.Namespace) -> None:
    from digest.cluster import read_articles, stored_terms
    from digest.clusterstate import ClusterState
    from digest.intake import cluster_params

    params = cluster_params(settings)
    stored, rest = docs[: args.stored], docs[args.stored :]
    started = time.perf_counter()
    for i in range(0, len(stored), 5000):
        _cluster(store, stored[i : i + 5000], settings, None)
    print(f"  filled: {len(stored)} articles in {time.perf_counter() - started:.0f} s")
    state = ClusterState(params=params)
    print("  batch  open threads  terms  from store ms  kept state ms  (loads)  batch total ms")
    for n in range(args.batches):
        batch = rest[n * args.batch : (n + 1) * args.batch]
        terms = stored_terms(read_articles(batch, params))
        t0 = time.perf_counter()
        with store.transaction():
            open_threads = _inputs_from_store(store, batch, params, terms)
        t1 = time.perf_counter()
        with store.transaction():  # changes nothing: the state stays current
            state.meet(store, params)
            state.inputs(store, batch, terms)
            state.committed(store)
        t2 = time.perf_counter()
        total = _cluster(store, batch, settings, state)
        print(
            f"  {n + 1:5d}  {open_threads:12d}  {len(terms):5d}  {(t1 - t0) * 1000:13.1f}"
            f"  {(t2 - t1) * 1000:13.1f}  ({state.loads})  {total * 1000:14.0f}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stored", type=int, default=40_000, help="articles stored first")
    parser.add_argument("--batch", type=int, default=500, help="articles per measured batch")
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--postgres", action="store_true", help="also on a throwaway PostgreSQL")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from digest.config import load_settings
    from digest.store import Store

    docs = sorted(
        _articles(articles(args.stored + args.batch * args.batches)),
        key=lambda a: (a.published, a.id),
    )
    folder = Path(tempfile.mkdtemp(prefix="bench-clusterstate-"))
    try:
        settings = load_settings(None, environ={}, overrides=[f"store.path='{folder / 's.db'}'"])
        print(f"SQLite, {args.stored} articles stored, batches of {args.batch}")
        with Store(settings.store.path) as store:
            measure(store, settings, docs, args)
        if args.postgres:
            from digest.store.postgres import PostgresStore
            from tests.pgserver import start_server

            pg = start_server()
            try:
                print(f"PostgreSQL, {args.stored} articles stored, batches of {args.batch}")
                with PostgresStore(pg.new_database()) as store:
                    measure(store, settings, docs, args)
            finally:
                pg.stop()
                shutil.rmtree(pg.root, ignore_errors=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
