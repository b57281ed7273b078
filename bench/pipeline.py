"""Throughput and memory of the whole pipeline on a synthetic corpus, vs a naive baseline.

    python -m bench.pipeline                          # N = 1k, 10k, 100k
    python -m bench.pipeline --sizes 1000 10000       # some sizes only
    python -m bench.pipeline --no-naive               # skip the all-pairs baseline

Each size runs ``digest.pipeline.run_once`` (ingest JSONL dumps -> normalize -> dedupe ->
cluster -> summarise -> compose -> render -> publish) into a scratch store and output
folder, in a fresh Python process, so its peak RSS is its own. Stage times are exclusive
(a stage's time excludes the stages it calls); ``store`` is every ``Store`` method. The
naive baseline (TF-IDF + all-pairs average-link agglomerative clustering over a dense cosine
matrix, as most tools do it; needs the ``eval`` extra) runs on the same dumps where the
matrix fits in memory. Corpora are generated once under ``var/bench/``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.corpus import START, write_dumps
from eval.metrics import nmi

REPO = Path(__file__).resolve().parents[1]
CORPORA = REPO / "var" / "bench"
STAGES = ("ingest", "normalize", "dedupe", "cluster", "summarize", "compose", "render",
          "publish", "store", "other")  # fmt: skip
NAIVE_THRESHOLD = 0.825  # cosine distance; tuned on ECB+ train+dev (its PROVENANCE)
NAIVE_MAX_DOCS = 20_000  # beyond this the dense distance matrix does not fit in 24 GB


class _Clock:
    """Exclusive wall time per stage: time goes to the innermost stage running."""

    def __init__(self) -> None:
        self.spent: defaultdict[str, float] = defaultdict(float)
        self.stack = ["other"]
        self.mark = time.perf_counter()

    def _switch(self) -> None:
        now = time.perf_counter()
        self.spent[self.stack[-1]] += now - self.mark
        self.mark = now

    def wrap(self, stage: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._switch()
            self.stack.append(stage)
            try:
                return func(*args, **kwargs)
            finally:
                self._switch()
                self.stack.pop()

        return timed


def _instrument(clock: _Clock) -> None:
    import digest.intake as i
    import digest.pipeline as p
    from digest.store import Store

    for module, name, stage in (
        (p, "ingest_all", "ingest"),
        (p, "normalize", "normalize"),
        (p, "dedupe", "dedupe"),
        (p, "sign", "dedupe"),
        (i, "read_articles", "cluster"),
        (i, "plan_clusters", "cluster"),
        (p, "summarize", "summarize"),
        (p, "compose", "compose"),
        (p, "render", "render"),
        (p, "make_environment", "render"),
        (p, "publish", "publish"),
    ):
        setattr(module, name, clock.wrap(stage, getattr(module, name)))
    for name, member in list(vars(Store).items()):
        if callable(member) and not name.startswith("__"):
            setattr(Store, name, clock.wrap("store", member))


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ours(folder: Path) -> dict[str, Any]:
    """One ``run_once`` over every dump in ``folder``; stage times, totals, peak RSS."""
    from digest.config import load_settings
    from digest.pipeline import RunOptions, run_once
    from digest.store import Store

    clock = _Clock()
    _instrument(clock)
    with tempfile.TemporaryDirectory() as tmp:
        flags = [f"store.path='{tmp}/digest.sqlite3'", f"output.dir='{tmp}/output'"]
        settings = load_settings(None, environ={}, overrides=flags)
        now = max(_days(folder)) + timedelta(days=1)
        started = time.perf_counter()
        with Store(settings.store.path) as store:
            report = run_once(
                settings,
                now=now,
                store=store,
                options=RunOptions(day=now.date(), inputs=(folder,), captured_at=now),
            )
            total = time.perf_counter() - started
            rows = store.db.execute("SELECT canonical_url, thread_id FROM articles").fetchall()
    clock._switch()
    truth = _events(folder)
    predicted = {url: str(thread) for url, thread in rows if url in truth}
    return {
        "total_s": total,
        "stages_s": {s: clock.spent.get(s, 0.0) for s in STAGES},
        "new": report.new_articles,
        "duplicates": report.duplicates,
        "threads": report.threads_new,
        "events": len(set(truth.values())),
        "nmi": nmi({u: truth[u] for u in predicted}, predicted),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _docs(folder: Path) -> list[dict[str, str]]:
    return [
        json.loads(line)
        for path in sorted(folder.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def _events(folder: Path) -> dict[str, str]:
    """Generated ground truth: article URL -> event."""
    return {d["url"]: d["event"] for d in _docs(folder)}


def _days(folder: Path) -> list[Any]:
    from datetime import UTC, datetime

    return [datetime.fromisoformat(p.stem).replace(tzinfo=UTC) for p in folder.glob("*.jsonl")] or [
        START
    ]


def run_naive(folder: Path) -> dict[str, Any]:
    """TF-IDF (title twice + body) and average-link agglomerative over all pairs, cut at
    the distance tuned on ECB+ train+dev (0.825). The time is for that one cut; the best
    cut in hindsight (the threshold with the highest NMI against the generated truth) is
    reported too, so the baseline's quality is not understated."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform
    from sklearn.feature_extraction.text import TfidfVectorizer

    started = time.perf_counter()
    docs = _docs(folder)
    texts = [f"{d['title']} {d['title']} {d['text']}" for d in docs]
    matrix = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform(texts)
    distances = 1.0 - (matrix @ matrix.T).toarray()
    distances[distances < 0] = 0.0
    condensed = squareform(distances, checks=False)
    del distances
    tree = linkage(condensed, method="average")
    labels = fcluster(tree, t=NAIVE_THRESHOLD, criterion="distance")
    total = time.perf_counter() - started
    truth = {str(i): d["event"] for i, d in enumerate(docs)}

    def score(cut: Any) -> float:
        return nmi(truth, {str(i): int(label) for i, label in enumerate(cut)})

    best = max(
        (score(fcluster(tree, t=t / 20, criterion="distance")), t / 20) for t in range(2, 20)
    )
    return {
        "total_s": total,
        "threads": int(labels.max()),
        "nmi": score(labels),
        "best_nmi": best[0],
        "best_threshold": best[1],
        "peak_rss_mb": _peak_rss_mb(),
    }


def _child(kind: str, folder: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.pipeline", f"--{kind}", str(folder)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _print_size(n: int, ours: dict[str, Any], naive: dict[str, Any] | None) -> None:
    if "error" in ours:
        print(f"{n:>7} ours: {ours['error']}")
        return
    stages = "  ".join(f"{s} {ours['stages_s'][s]:.2f}" for s in STAGES)
    print(
        f"{n:>7} ours   total {ours['total_s']:7.2f} s  peak RSS {ours['peak_rss_mb']:7.0f} MB"
        f"  new {ours['new']} dup {ours['duplicates']} threads {ours['threads']}"
        f" (events {ours['events']}, NMI {ours['nmi']:.3f})"
    )
    print(f"{'':>7}        {stages}")
    if naive is None:
        print(f"{'':>7} naive  not run (--no-naive, or an all-pairs matrix of {n:,}² is too big)")
    elif "error" in naive:
        print(f"{'':>7} naive  {naive['error']}")
    else:
        print(
            f"{'':>7} naive  total {naive['total_s']:7.2f} s  peak RSS"
            f" {naive['peak_rss_mb']:7.0f} MB  threads {naive['threads']}"
            f" (NMI {naive['nmi']:.3f} at {NAIVE_THRESHOLD}; best cut in hindsight"
            f" {naive['best_nmi']:.3f} at {naive['best_threshold']:.2f}; clustering only)"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--no-naive", action="store_true", help="skip the naive baseline")
    parser.add_argument("--ours", type=Path, help=argparse.SUPPRESS)  # child: one run
    parser.add_argument("--naive", type=Path, help=argparse.SUPPRESS)  # child: one run
    args = parser.parse_args(argv)
    if args.ours or args.naive:
        print(json.dumps(run_ours(args.ours) if args.ours else run_naive(args.naive)))
        return
    totals: dict[int, float] = {}
    naive_totals: dict[int, float] = {}
    for n in args.sizes:
        folder = write_dumps(n, CORPORA)
        ours = _child("ours", folder)
        use_naive = not args.no_naive and n <= NAIVE_MAX_DOCS
        naive = _child("naive", folder) if use_naive else None
        _print_size(n, ours, naive)
        totals[n] = ours.get("total_s", float("nan"))
        if naive is not None and "total_s" in naive:
            naive_totals[n] = naive["total_s"]
    _print_ratios(totals, naive_totals)


def _print_ratios(ours: dict[int, float], naive: dict[int, float]) -> None:
    """Time ratios between successive sizes: ~10 when linear, ~100 when quadratic."""
    sizes = sorted(ours)
    for small, big in itertools.pairwise(sizes):
        line = f"{big // 1000}k/{small // 1000}k time ratio: ours {ours[big] / ours[small]:.1f}"
        if small in naive and big in naive:
            line += f", naive all-pairs {naive[big] / naive[small]:.1f}"
        print(line)


if __name__ == "__main__":
    main()
