"""Throughput and memory of the whole pipeline on a synthetic corpus, beside its floor and
its peers, measured in the same run.

    python -m bench.pipeline                          # N = 1k, 10k, 100k
    python -m bench.pipeline --sizes 1000 10000       # some sizes only
    python -m bench.pipeline --no-floor --no-peers    # ours only (quick)
    python -m bench.pipeline --no-naive               # the peers without the all-pairs one

Each size runs ``digest.pipeline.run_once`` (ingest JSONL dumps -> normalize -> dedupe ->
cluster -> summarise -> compose -> render -> publish) into a scratch store and output
folder, in a fresh Python process, so its peak RSS is its own. Stage times are exclusive
(a stage's time excludes the stages it calls); ``store`` is every ``Store`` method (and the
entry and exit of its context managers: a transaction's COMMIT).

Floor (``bench.floor``, each piece in a fresh process on the same dumps): read + JSON,
regex tokenising, store rows, one-transaction SQLite insert, our numpy MinHash, TF-IDF,
100-d SVD + faiss HNSW top-16; their sum plus our own summarise and render stages is the
floor, printed beside our total and stage by stage (cluster vs TF-IDF + SVD + HNSW,
ingest + normalize vs read + JSON, dedupe vs MinHash, store vs SQLite insert).

Peers (``bench.peers``, where a dense n x n matrix fits: n <= NAIVE_MAX_DOCS): all-pairs
average link, DBSCAN and HDBSCAN on one TF-IDF, each with its time, peak RSS, NMI against
the generated events and ours/peer ratios (issue 16's 10k target: time <= 0.5, memory
<= 0.1). Floor and peers need the ``eval`` extra. Corpora are generated once under
``var/bench/``.
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import json
import math
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
from bench.floor import ANN_K, PIECES, SVD_DIMS, measure
from bench.peers import (
    DBSCAN_EPS,
    DBSCAN_MIN_SAMPLES,
    HDBSCAN_MIN_CLUSTER_SIZE,
    NAIVE_MAX_DOCS,
    NAIVE_THRESHOLD,
    PEERS,
    RUNS,
    Descendants,
    peak_rss_mb,
    read_docs,
)
from digest.cluster.link import compiled
from eval.metrics import nmi

REPO = Path(__file__).resolve().parents[1]
CORPORA = REPO / "var" / "bench"
STAGES = ("ingest", "normalize", "dedupe", "cluster", "summarize", "compose", "render",
          "publish", "store", "other")  # fmt: skip
FLOOR_OURS = ("summarize", "render")  # our own stages counted in the floor as they are
TARGET_TIME, TARGET_MEMORY = 0.5, 0.1  # issue 16 at 10k: ours / DBSCAN and HDBSCAN


class Clock:
    """Exclusive wall time per stage: time goes to the innermost stage running."""

    def __init__(self) -> None:
        self.spent: defaultdict[str, float] = defaultdict(float)
        self.stack = ["other"]
        self.mark = time.perf_counter()

    def restart(self) -> None:
        """Count from nothing again, from now (the stages stay wrapped)."""
        self.spent.clear()
        self.stack = ["other"]
        self.mark = time.perf_counter()

    def stop(self) -> None:
        """Count the time since the last switch (read ``spent`` after this)."""
        self._switch()

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

    def wrap_iterator(self, stage: str, func: Callable[..., Any]) -> Callable[..., Any]:
        """``func`` makes iterators (a generator function): each step counts to ``stage``."""

        def timed(*args: Any, **kwargs: Any) -> Any:
            steps = func(*args, **kwargs)  # (made, a generator has done nothing yet)
            del args, kwargs  # (held here, the arguments would outlive what takes them)
            step = self.wrap(stage, next)
            while True:
                try:
                    item = step(steps)
                except StopIteration:
                    return
                yield item
                del item

        return timed

    def wrap_context(self, stage: str, factory: Callable[..., Any]) -> Callable[..., Any]:
        """``factory`` makes context managers (a ``contextmanager`` method): their entry and
        exit count to ``stage`` too (a transaction's COMMIT runs in its exit)."""
        clock = self

        class Timed:
            def __init__(self, inner: Any) -> None:
                self.inner = inner

            def __enter__(self) -> Any:
                return clock.wrap(stage, self.inner.__enter__)()

            def __exit__(self, *exc: object) -> Any:
                return clock.wrap(stage, self.inner.__exit__)(*exc)

        def made(*args: Any, **kwargs: Any) -> Timed:
            return Timed(clock.wrap(stage, factory)(*args, **kwargs))

        return made


def instrument(clock: Clock) -> None:
    import digest.intake as i
    import digest.pipeline as p
    from digest.store import Store

    for module, name, stage in (
        (p, "ingest_all", "ingest"),
        (p, "normalize", "normalize"),
        (p, "dedupe", "dedupe"),
        (p, "sign", "dedupe"),
        (i, "read_slices", "cluster"),
        (i, "plan_clusters", "cluster"),
        (p, "summarize", "summarize"),
        (p, "compose", "compose"),
        (p, "render", "render"),
        (p, "make_environment", "render"),
        (p, "publish", "publish"),
    ):
        func = getattr(module, name)
        wrap = clock.wrap_iterator if inspect.isgeneratorfunction(func) else clock.wrap
        setattr(module, name, wrap(stage, func))
    for name, member in list(vars(Store).items()):
        if callable(member) and not name.startswith("__"):
            context = inspect.isgeneratorfunction(getattr(member, "__wrapped__", None))
            setattr(Store, name, (clock.wrap_context if context else clock.wrap)("store", member))


def run_ours(folder: Path) -> dict[str, Any]:
    """One ``run_once`` over every dump in ``folder``; stage times, totals, peak RSS."""
    from digest.config import load_settings
    from digest.pipeline import RunOptions, run_once
    from digest.store import Store

    clock = Clock()
    instrument(clock)
    with tempfile.TemporaryDirectory() as tmp:
        flags = [f"store.path='{tmp}/digest.sqlite3'", f"output.dir='{tmp}/output'"]
        settings = load_settings(None, environ={}, overrides=flags)
        now = max(_days(folder)) + timedelta(days=1)
        started, cpu = time.perf_counter(), time.process_time()
        with Descendants() as workers, Store(settings.store.path) as store:
            report = run_once(
                settings,
                now=now,
                store=store,
                options=RunOptions(day=now.date(), inputs=(folder,), captured_at=now),
            )
            total, cpu = time.perf_counter() - started, time.process_time() - cpu
            peak = peak_rss_mb()  # the run's own peak: not the answer key read below
            rows = store.db.execute("SELECT canonical_url, thread_id FROM articles").fetchall()
    # its worker processes' on top (reading ahead, digest.readahead; their fork server)
    peak, cpu = peak + workers.peak_sum_mb, cpu + sum(workers.cpu_s.values())
    clock.stop()
    truth = _events(folder)
    predicted = {url: str(thread) for url, thread in rows if url in truth}
    return {
        "total_s": total,
        "cpu_s": cpu,
        "stages_s": {s: clock.spent.get(s, 0.0) for s in STAGES},
        "new": report.new_articles,
        "duplicates": report.duplicates,
        "threads": report.threads_new,
        "events": len(set(truth.values())),
        "nmi": nmi({u: truth[u] for u in predicted}, predicted),
        "peak_rss_mb": peak,
    }


def _events(folder: Path) -> dict[str, str]:
    """Generated ground truth: article URL -> event."""
    return {d["url"]: d["event"] for d in read_docs(folder)}


def _days(folder: Path) -> list[Any]:
    from datetime import UTC, datetime

    return [datetime.fromisoformat(p.stem).replace(tzinfo=UTC) for p in folder.glob("*.jsonl")] or [
        START
    ]


def run_child(kind: str, folder: Path) -> dict[str, Any]:
    """One measurement in this process: ``ours``, a peer, or ``floor-<piece>``."""
    if kind == "ours":
        return run_ours(folder)
    if kind in RUNS:
        return RUNS[kind](folder)
    return measure(kind.removeprefix("floor-"), folder)


def _child(kind: str, folder: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.pipeline", "--child", kind, str(folder)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# ── printing ──────────────────────────────────────────────────────────────────────────────

_PAD = " " * 9
_FLOOR_LABELS = {
    "read": "read + JSON decode",
    "tokenise": "regex tokenise (\\w+)",
    "rows": "store rows (tuples)",
    "sqlite": "SQLite insert, 1 transaction",
    "minhash": "numpy MinHash (digest.minhash)",
    "tfidf": "TF-IDF fit_transform",
}
_PEER_LABELS = {
    "naive": f"all-pairs average link (cut {NAIVE_THRESHOLD})",
    "dbscan": f"DBSCAN (eps {DBSCAN_EPS}, min_samples {DBSCAN_MIN_SAMPLES})",
    "hdbscan": f"HDBSCAN (min_cluster_size {HDBSCAN_MIN_CLUSTER_SIZE})",
}


def _ratio(a: float, b: float) -> str:
    return f"{a / b:6.2f}x" if b > 0 and math.isfinite(a) and math.isfinite(b) else "    n/a"


def _print_ours(n: int, ours: dict[str, Any]) -> None:
    stages = "  ".join(f"{s} {ours['stages_s'][s]:.2f}" for s in STAGES)
    print(
        f"{n:>7} ours   total {ours['total_s']:7.2f} s  cpu {ours['cpu_s']:7.2f} s  peak RSS"
        f" {ours['peak_rss_mb']:6.0f} MB  new {ours['new']} dup {ours['duplicates']}"
        f" threads {ours['threads']} (events {ours['events']}, NMI {ours['nmi']:.3f})"
    )
    cores = "compiled (numba)" if compiled.available() else "in Python"
    print(f"{_PAD}{stages}  (clustering cores {cores})")


def floor_rows(
    ours: dict[str, Any], floor: dict[str, dict[str, Any]]
) -> list[tuple[str, float, float, float]]:
    """(label, wall s, cpu s, peak RSS MB) per floor line: the pieces, SVD and HNSW apart,
    then our own summarise and render stages (nan where a piece failed or does not apply)."""
    nan = float("nan")
    out: list[tuple[str, float, float, float]] = []
    for piece in PIECES:
        got = floor.get(piece, {})
        parts = [("", _FLOOR_LABELS.get(piece, piece))]
        if piece == "ann":
            parts = [("svd_", f"TruncatedSVD {SVD_DIMS}-d"), ("hnsw_", f"faiss HNSW top-{ANN_K}")]
        for prefix, label in parts:
            wall, cpu = got.get(f"{prefix or 'total_'}s", nan), got.get(f"{prefix}cpu_s", nan)
            out.append((label, wall, cpu, got.get("peak_rss_mb", nan)))
    out += [(f"ours: {stage}", ours["stages_s"][stage], nan, nan) for stage in FLOOR_OURS]
    return out


def _print_floor(ours: dict[str, Any], floor: dict[str, dict[str, Any]]) -> None:
    head = f"{'piece (each a fresh process)':<36}{'wall s':>9}{'cpu s':>9}{'peak MB':>9}"
    print(f"{_PAD}floor  {head}")
    lines = floor_rows(ours, floor)
    for label, wall, cpu, rss in lines:
        cells = "".join(f"{v:9.2f}" if math.isfinite(v) else f"{'':>9}" for v in (wall, cpu))
        mb = f"{rss:9.0f}" if math.isfinite(rss) else ""
        print(f"{_PAD}       {label:<36}{cells}{mb}")
    for piece, got in floor.items():
        if "error" in got:
            print(f"{_PAD}       {piece}: {got['error']}")
    total = sum(wall for _, wall, _, _ in lines)
    peak = max((rss for *_, rss in lines if math.isfinite(rss)), default=float("nan"))
    label = "floor (sum; peak: biggest piece)"
    print(f"{_PAD}       {label:<36}{total:9.2f}{'':>9}{peak:9.0f}")
    print(
        f"{_PAD}       {'ours / floor':<36}{_ratio(ours['total_s'], total):>9}{'':>9}"
        f"{_ratio(ours['peak_rss_mb'], peak):>9}"
    )
    get = {p: floor.get(p, {}).get("total_s", float("nan")) for p in PIECES}
    spent = ours["stages_s"]
    print(f"{_PAD}by stage  {'ours vs floor':<45}{'ours s':>9}{'floor s':>9}{'ratio':>9}")
    for label, mine, base in (
        ("cluster vs TF-IDF + SVD + HNSW", spent["cluster"], get["tfidf"] + get["ann"]),
        ("ingest + normalize vs read + JSON", spent["ingest"] + spent["normalize"], get["read"]),
        ("dedupe vs numpy MinHash", spent["dedupe"], get["minhash"]),
        ("store vs SQLite insert", spent["store"], get["sqlite"]),
    ):
        print(f"{_PAD}          {label:<45}{mine:9.2f}{base:9.2f}{_ratio(mine, base):>9}")


def _print_peers(ours: dict[str, Any], peers: dict[str, dict[str, Any]]) -> None:
    head = f"{'wall s':>9}{'peak MB':>9}{'threads':>9}{'NMI':>7}"
    print(f"{_PAD}peers  {'same TF-IDF, dense cosine matrix':<40}{head}   ours/peer: time memory")
    print(
        f"{_PAD}       {'ours (whole pipeline)':<40}{ours['total_s']:9.2f}"
        f"{ours['peak_rss_mb']:9.0f}{ours['threads']:9d}{ours['nmi']:7.3f}"
    )
    # the peers' scope: from the dumps to clusters (no store, summaries or pages)
    stages = ours["stages_s"]
    threads_s = sum(stages[s] for s in ("ingest", "normalize", "dedupe", "cluster"))
    print(f"{_PAD}       {'ours: dumps to threads (their scope)':<40}{threads_s:9.2f}")
    for kind, got in peers.items():
        label = _PEER_LABELS[kind]
        if "error" in got:
            print(f"{_PAD}       {label:<40} {got['error']}")
            continue
        print(
            f"{_PAD}       {label:<40}{got['total_s']:9.2f}{got['peak_rss_mb']:9.0f}"
            f"{got['threads']:9d}{got['nmi']:7.3f}{'':>11}{_ratio(ours['total_s'], got['total_s'])}"
            f"{_ratio(ours['peak_rss_mb'], got['peak_rss_mb'])}"
            f"   (dumps to threads: {_ratio(threads_s, got['total_s']).strip()})"
        )
        if kind == "naive":
            print(
                f"{_PAD}         (best cut in hindsight: NMI {got['best_nmi']:.3f}"
                f" at {got['best_threshold']:.2f})"
            )
    print(
        f"{_PAD}       (issue 16 at 10k: ours/peer time <= {TARGET_TIME}, memory <="
        f" {TARGET_MEMORY} against DBSCAN and HDBSCAN; peers' times run from reading the dumps)"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--no-naive", action="store_true", help="skip the all-pairs baseline")
    parser.add_argument("--no-peers", action="store_true", help="skip every peer (and naive)")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor pieces")
    parser.add_argument("--corpora", type=Path, default=CORPORA, help="where the dumps are kept")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_child(args.child[0], Path(args.child[1]))))
        return
    totals: dict[int, float] = {}
    naive_totals: dict[int, float] = {}
    for n in args.sizes:
        folder = write_dumps(n, args.corpora)
        ours = _child("ours", folder)
        if "error" in ours:
            print(f"{n:>7} ours: {ours['error']}")
            continue
        _print_ours(n, ours)
        totals[n] = ours["total_s"]
        if not args.no_floor:
            _print_floor(ours, {p: _child(f"floor-{p}", folder) for p in PIECES})
        kinds = [k for k in PEERS if not (args.no_naive and k == "naive")]
        if args.no_peers or not kinds:
            continue
        if n > NAIVE_MAX_DOCS:
            print(f"{_PAD}peers  not run: a dense matrix of {n:,}² does not fit")
            continue
        peers = {k: _child(k, folder) for k in kinds}
        _print_peers(ours, peers)
        if "total_s" in peers.get("naive", {}):
            naive_totals[n] = peers["naive"]["total_s"]
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
