"""Event clustering quality through the production clusterer: news-days, ECB+, MStream, UCI.

    python -m eval.clustering            # news-days day by day (page dumps and JSONL, through
                                         # run_once), ECB+ train+dev and test, MStream News
                                         # and News-T, the UCI headlines, the generated corpus
    python -m eval.clustering --sweep    # threshold sweep on the tuning sets (never ECB+ test)

ECB+ has no timestamps, so its stream order (by id) is arbitrary; the ECB+ rows are followed
by the B3 F1 over shuffled orders (mean, min) to show how much the order matters.

The clusterer is ``digest.cluster.plan_clusters`` with ``intake.cluster_params(Settings())``,
the defaults a user gets. A stream is cut into batches, each one ``plan_clusters`` call with
the threads and the running vocabulary of the batches before it, as successive runs of
``digest run`` would see them (no look-ahead past the current batch).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import random
import time
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta

from digest.cluster import ClusterParams, Vocabulary, plan_clusters
from digest.config import Settings
from digest.intake import cluster_params
from digest.models import Article, ClusterPlan, EventThread
from eval.data import EPOCH, Labelled, ecbplus, eval_data, mstream, synthetic, uci_sample
from eval.metrics import ClusteringScores, score_clustering
from eval.newsdays import run_protocol

ECB_TUNE = frozenset({"train", "dev"})
ECB_TEST = frozenset({"test"})


def production_params() -> ClusterParams:
    return cluster_params(Settings())


def _apply(threads: dict[str, EventThread], plan: ClusterPlan) -> None:
    """What ``Store.apply_plan`` does, in memory."""
    for t in plan.new_threads:
        threads[t.id] = t
    for ext in plan.extensions:
        old = threads[ext.thread_id]
        threads[ext.thread_id] = dataclasses.replace(
            old,
            article_ids=old.article_ids + ext.article_ids,
            signature=ext.signature,
            last_updated=max(old.last_updated, ext.last_updated),
        )
    for merge in plan.merges:
        gone = threads.pop(merge.merged_id)
        into = threads[merge.into_id]
        threads[merge.into_id] = dataclasses.replace(
            into, article_ids=into.article_ids + gone.article_ids
        )


def run_stream(
    articles: Sequence[Article], params: ClusterParams, *, batches: int = 1
) -> dict[str, str]:
    """Cluster ``articles`` in ``batches`` successive runs; article id -> thread id."""
    size = -(-len(articles) // batches)
    return run_batches([articles[i : i + size] for i in range(0, len(articles), size)], params)


def run_batches(batches: Sequence[Sequence[Article]], params: ClusterParams) -> dict[str, str]:
    """Cluster each batch as one run, with the threads and vocabulary of the runs before
    it (as successive ``digest run``s see them); article id -> thread id."""
    threads: dict[str, EventThread] = {}
    df: Counter[str] = Counter()
    n_docs = 0
    for batch in batches:
        since = min(a.published for a in batch) - timedelta(days=params.window_days)
        open_threads = [t for t in threads.values() if t.last_updated >= since]
        plan = plan_clusters(
            batch,
            sorted(open_threads, key=lambda t: t.id),
            now=max(a.published for a in batch),
            params=params,
            vocabulary=Vocabulary(df=df, n_docs=n_docs),
        )
        _apply(threads, plan)
        df.update(plan.document_frequencies)
        n_docs += len(batch)
    return {a: t.id for t in threads.values() for a in t.article_ids}


def evaluate(data: Labelled, params: ClusterParams, *, batches: int = 1) -> ClusteringScores:
    return score_clustering(data.gold, run_stream(data.articles, params, batches=batches))


def shuffled(data: Labelled, seed: int) -> Labelled:
    """``data`` in a random stream order (one second apart, in that order)."""
    articles = list(data.articles)
    random.Random(seed).shuffle(articles)  # noqa: S311 (a reproducible order, not a secret)
    stream = tuple(
        dataclasses.replace(a, published=EPOCH + timedelta(seconds=i))
        for i, a in enumerate(articles)
    )
    return dataclasses.replace(data, articles=stream)


def order_spread(data: Labelled, params: ClusterParams, orders: int = 8) -> tuple[float, float]:
    """Mean and minimum B3 F1 over ``orders`` shuffled stream orders."""
    f1 = [evaluate(shuffled(data, seed), params).b3.f1 for seed in range(1, orders + 1)]
    return sum(f1) / len(f1), min(f1)


HEADER = (
    f"{'set':<26} {'docs':>6} {'gold':>5} {'ours':>5} {'B3 P':>6} {'B3 R':>6} {'B3 F1':>6}"
    f" {'pairF1':>6} {'ARI':>6} {'NMI':>6} {'secs':>6}"
)


def row(name: str, s: ClusteringScores, secs: float) -> str:
    return (
        f"{name:<26} {s.n_items:>6} {s.n_gold:>5} {s.n_predicted:>5} {s.b3.precision:>6.3f}"
        f" {s.b3.recall:>6.3f} {s.b3.f1:>6.3f} {s.pairwise.f1:>6.3f} {s.ari:>6.3f}"
        f" {s.nmi:>6.3f} {secs:>6.1f}"
    )


def report_sets() -> list[tuple[str, Labelled, int]]:
    root = eval_data()
    if root is None:
        raise SystemExit("shared/eval-data not found beside the repository")
    news, generated = mstream(root, "order_news"), synthetic(10_000)
    return [
        ("ECB+ train+dev (tuning)", ecbplus(root, ECB_TUNE), 1),
        ("ECB+ test", ecbplus(root, ECB_TEST), 1),
        ("MStream News, 16 batches", news, 16),
        ("MStream News, 1 run", news, 1),
        ("MStream News-T, 16 batches", mstream(root, "order_news_t"), 16),
        ("UCI sample (headlines)", uci_sample(root), 1),
        ("generated 10k, 1 run", generated, 1),
        ("generated 10k, 24 runs", generated, 24),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="threshold sweep on tuning sets")
    args = parser.parse_args(argv)
    params = production_params()
    print(f"production defaults: {params}")
    root = eval_data()
    if root is not None and (root / "news-days").is_dir():
        for form in ("pages", "jsonl"):
            for day in run_protocol(root / "news-days", form):
                print(f"news-days {form:<5} day {day.day}: {day.line}")
    print(HEADER)
    sets = report_sets()
    if args.sweep:
        sets = [s for s in sets if s[0] != "ECB+ test"]
        for threshold, attach in itertools.product((0.14, 0.18, 0.22), (0.06, 0.10, 0.14)):
            link = dataclasses.replace(params.link, threshold=threshold, attach_threshold=attach)
            swept = dataclasses.replace(params, link=link)
            for name, data, batches in sets:
                started = time.perf_counter()
                scores = evaluate(data, swept, batches=batches)
                label = f"{name[:14]} @{threshold:.2f}/{attach:.2f}"
                print(row(label, scores, time.perf_counter() - started))
        return
    for name, data, batches in sets:
        started = time.perf_counter()
        scores = evaluate(data, params, batches=batches)
        print(row(name, scores, time.perf_counter() - started))
        if name.startswith("ECB+"):
            mean, low = order_spread(data, params)
            print(f"{'  8 shuffled orders':<26} B3 F1 mean {mean:.3f}, min {low:.3f}")
    # without the attachment step: only what the cores gather
    strict = dataclasses.replace(
        params, link=dataclasses.replace(params.link, attach_threshold=1.0)
    )
    for name, data, batches in sets:
        started = time.perf_counter()
        scores = evaluate(data, strict, batches=batches)
        print(row(f"{name[:16]}, no attach", scores, time.perf_counter() - started))


if __name__ == "__main__":
    main()
