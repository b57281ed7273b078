"""Does a run cost what today's news costs, or what the store remembers?

    python -m bench.growth                     # 30 runs of 5,000 articles into one store
    python -m bench.growth --runs 10 --size 2000
    python -m bench.growth --daemon            # the runs in one process, as digest daemon

The generated corpus (``bench.corpus``: ~10k articles a day, events of several outlets over
~30 hours) is cut, in publication order, into ``--runs`` consecutive batches of ``--size``
articles. Each batch is one ``run_once`` into the same store and output folder, in a fresh
Python process (so its peak RSS is its own), as a daemon meets the news run after run. Per
run it prints the wall time of ``run_once``, the CPU time of the process, its peak RSS, the
database size after the run, and the biggest thread; at the end the slope (run N against
run 2, the first run that meets a store), the steady slope (run N against the first run
whose store holds a whole window of recent news: from it on, what a run meets of the store
stops growing unless history costs), and the NMI of all stored articles against the
generated events.

Runs minutes apart meet a shared machine in different moods (20-30% either way), so the
slope of two rows mixes growth with load. With ``--replays K`` (default 3) the store is kept
as it was before run 2 and before the last run, and at the end both runs are made again from
those copies, alternately, K times each: the replayed slope (medians) compares the two
under the same load, as one measurement.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.corpus import articles
from bench.pipeline import STAGES, Clock, instrument
from eval.metrics import nmi

REPO = Path(__file__).resolve().parents[1]


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak_rss() -> None:
    """Start this process's peak RSS (VmHWM) again from its current RSS (Linux)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5\n")


def _daemon_state() -> Any:
    from digest.clusterstate import ClusterState
    from digest.config import load_settings
    from digest.intake import cluster_params

    return ClusterState(params=cluster_params(load_settings(None, environ={})))


def _db_mb(path: Path) -> float:
    files = [path, path.with_name(path.name + "-wal")]
    return sum(p.stat().st_size for p in files if p.exists()) / 2**20


@functools.cache
def _instrumented() -> Clock:
    """The process's stage clock (its stages are wrapped once, on its first run)."""
    clock = Clock()
    instrument(clock)
    return clock


def _clock() -> Clock:
    """The stage clock, started again now."""
    clock = _instrumented()
    clock.restart()
    return clock


def run_child(folder: Path, root: Path, now: datetime, state: Any = None) -> dict[str, Any]:
    """One ``run_once`` over the batch in ``folder`` into the store under ``root``
    (``state``: the daemon's kept clustering window, when runs share one process)."""
    from digest.config import load_settings
    from digest.pipeline import RunOptions, run_once
    from digest.store import Store

    clock = _clock()
    flags = [f"store.path='{root}/digest.sqlite3'", f"output.dir='{root}/output'"]
    settings = load_settings(None, environ={}, overrides=flags)
    _reset_peak_rss()
    started, cpu = time.perf_counter(), time.process_time()
    with Store(settings.store.path) as store:
        report = run_once(
            settings,
            now=now,
            store=store,
            options=RunOptions(day=now.date(), inputs=(folder,), captured_at=now),
            cluster_state=state,
        )
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        biggest = store.db.execute(
            "SELECT COUNT(*) FROM articles WHERE thread_id IS NOT NULL"
            " GROUP BY thread_id ORDER BY 1 DESC LIMIT 1"
        ).fetchone()
        stored = store.counts()["articles"]
    clock.stop()
    return {
        "stages_s": {stage: clock.spent.get(stage, 0.0) for stage in STAGES},
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mb": _peak_rss_mb(),
        "new": report.new_articles,
        "stored": stored,
        "biggest_thread": biggest[0] if biggest else 0,
    }


def _write_batch(batch: list[dict[str, str]], folder: Path) -> None:
    folder.mkdir(parents=True)
    by_day: dict[str, list[str]] = {}
    for obj in batch:
        by_day.setdefault(obj["published"][:10], []).append(json.dumps(obj))
    for day, lines in by_day.items():
        (folder / f"{day}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _child(folder: Path, root: Path, now: datetime) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.growth", "--child", str(folder), str(root), now.isoformat()],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"run failed: {(out.stderr.strip().splitlines() or ['?'])[-1]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _stream_nmi(root: Path, docs: list[dict[str, str]]) -> tuple[float, int]:
    import sqlite3

    truth = {d["url"]: d["event"] for d in docs}
    db = sqlite3.connect(root / "digest.sqlite3")
    rows = db.execute("SELECT canonical_url, thread_id FROM articles").fetchall()
    db.close()
    predicted = {url: str(t) for url, t in rows if url in truth}
    biggest_event = max(Counter(truth.values()).values())
    return nmi({u: truth[u] for u in predicted}, predicted), biggest_event


def _ratios(last: dict[str, Any], base: dict[str, Any]) -> str:
    """``last``'s wall time, CPU time and peak RSS as multiples of ``base``'s."""
    return "  ".join(
        f"{label} {last[key] / base[key]:.2f}x"
        for label, key in (("wall", "wall_s"), ("CPU", "cpu_s"), ("peak RSS", "peak_rss_mb"))
    )


def _stage_ratios(last: list[dict[str, Any]], base: list[dict[str, Any]]) -> str:
    """Each stage's mean time over ``last`` as a multiple of its mean over ``base`` (and
    the means, in seconds): which stage grows with the store."""
    cells = []
    for stage in STAGES:
        then = sum(r["stages_s"][stage] for r in base) / len(base)
        now = sum(r["stages_s"][stage] for r in last) / len(last)
        ratio = f"{now / then:.2f}x" if then > 0 else "n/a"
        cells.append(f"{stage} {then:.2f}->{now:.2f} s {ratio}")
    return "  ".join(cells)


def _stages(result: dict[str, Any]) -> str:
    return " ".join(f"{s[:4]} {result['stages_s'][s]:.2f}" for s in STAGES)


def _first_full_run(docs: list[dict[str, Any]], size: int, runs: int) -> int | None:
    """The first run whose store holds a whole window of news before its batch: the days
    dedupe looks back and one more (what pruning keeps), so runs from it on meet the same
    amount of recent news; what still grows after it is history."""
    from digest.config import load_settings

    days = load_settings(None, environ={}).dedupe.recent_days + 1
    start = datetime.fromisoformat(docs[0]["published"])
    for run in range(runs):
        batch = docs[run * size : (run + 1) * size]
        if batch and datetime.fromisoformat(batch[0]["published"]) - start >= timedelta(days=days):
            return run + 1
    return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="consecutive runs (default 30)")
    parser.add_argument("--size", type=int, default=5000, help="articles per run (default 5000)")
    parser.add_argument("--keep", type=Path, help="keep the store and site in this folder")
    parser.add_argument(
        "--daemon",
        action="store_true",
        help="every run in this one process with one kept clustering window, as `digest"
        " daemon` makes them (peak RSS: each run's own, from the RSS it started at)",
    )
    parser.add_argument(
        "--replays",
        type=int,
        default=3,
        help="make run 2 and the last run again this many times each, alternately, from"
        " copies of their stores (0: none; not with --daemon)",
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)  # folder, root, now
    args = parser.parse_args(argv)
    if args.child:
        folder, root, now = args.child
        print(json.dumps(run_child(Path(folder), Path(root), datetime.fromisoformat(now))))
        return
    docs = sorted(articles(args.runs * args.size), key=lambda d: (d["published"], d["url"]))
    state = _daemon_state() if args.daemon else None
    mode = " in one process (digest daemon)" if args.daemon else ""
    print(f"{args.runs} runs of {args.size:,} articles into one store{mode}")
    print(f"{'run':>4} {'stored':>8} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'DB MB':>8}"
          f" {'biggest thread':>15}")  # fmt: skip
    results = []
    replays = 0 if args.daemon or args.runs < 3 else args.replays
    kept: dict[int, tuple[Path, Path, datetime]] = {}  # run -> its batch, store copy, now
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp) / "store"
        for run in range(args.runs):
            batch = docs[run * args.size : (run + 1) * args.size]
            folder = Path(tmp) / f"run{run + 1}"
            _write_batch(batch, folder)
            now = datetime.fromisoformat(batch[-1]["published"]) + timedelta(minutes=30)
            if replays and run + 1 in (2, args.runs):
                kept[run + 1] = (folder, _snapshot(root, Path(tmp) / f"before{run + 1}"), now)
            result = (
                run_child(folder, root, now, state) if args.daemon else _child(folder, root, now)
            )
            result["db_mb"] = _db_mb(root / "digest.sqlite3")
            results.append(result)
            print(
                f"{run + 1:>4} {result['stored']:>8} {result['wall_s']:>8.2f}"
                f" {result['cpu_s']:>8.2f} {result['peak_rss_mb']:>8.0f} {result['db_mb']:>8.1f}"
                f" {result['biggest_thread']:>15}   {_stages(result)}",
                flush=True,
            )
        score, biggest_event = _stream_nmi(root, docs)
        replayed = _replay(kept, Path(tmp), replays)
    if len(results) >= 2:
        print(f"slope (run {len(results)} / run 2): {_ratios(results[-1], results[1])}")
        if len(results) >= 7:  # (one run's stages are noisy on a shared machine: means of 3)
            print(f"by stage (runs {len(results) - 2}-{len(results)} / runs 2-4):")
            print("  " + _stage_ratios(results[-3:], results[1:4]))
        full = _first_full_run(docs, args.size, len(results))
        if full is not None and full < len(results):
            ratios = _ratios(results[-1], results[full - 1])
            print(
                f"steady (run {len(results)} / run {full}, the first with a full window): {ratios}"
            )
    if replayed:
        last = max(replayed)
        print(
            f"replayed (run {last} / run 2, medians of {replays} alternate runs from copies of"
            f" their stores): {_ratios(_medians(replayed[last]), _medians(replayed[2]))}"
        )
        print("  " + _stage_ratios(replayed[last], replayed[2]))
    print(f"NMI over the stream {score:.3f}; the biggest generated event has {biggest_event}")


def _snapshot(root: Path, to: Path) -> Path:
    """A copy of the store and site under ``root`` as they are now (before a run)."""
    if root.exists():
        shutil.copytree(root, to)
    else:
        to.mkdir(parents=True)
    return to


def _replay(
    kept: dict[int, tuple[Path, Path, datetime]], tmp: Path, times: int
) -> dict[int, list[dict[str, Any]]]:
    """Each kept run made again ``times`` times, the runs alternating, each from a fresh
    copy of the store it met: run -> its results."""
    replayed: dict[int, list[dict[str, Any]]] = {run: [] for run in kept}
    for turn in range(times):
        for run, (folder, before, now) in sorted(kept.items()):
            root = tmp / f"replay{run}-{turn}"
            shutil.copytree(before, root)
            replayed[run].append(_child(folder, root, now))
            shutil.rmtree(root)
    return replayed if times and len(kept) == 2 else {}


def _medians(results: list[dict[str, Any]]) -> dict[str, float]:
    keys = ("wall_s", "cpu_s", "peak_rss_mb")
    return {key: statistics.median(r[key] for r in results) for key in keys}


if __name__ == "__main__":
    main()
