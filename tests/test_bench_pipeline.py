"""bench.pipeline at a tiny size: the floor and peer tables are printed, row by row (a
smoke test of the benchmark's plumbing; its figures are never checked here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from digest.cluster.link import compiled

REPO = Path(__file__).resolve().parents[1]
FLOOR_ROWS = (
    "read + JSON decode",
    "regex tokenise",
    "store rows (tuples)",
    "SQLite insert, 1 transaction",
    "numpy MinHash (digest.minhash)",
    "TF-IDF fit_transform",
    "TruncatedSVD 100-d",
    "faiss HNSW top-16",
    "ours: summarize",
    "ours: render",
    "floor (sum",
    "ours / floor",
    "cluster vs TF-IDF + SVD + HNSW",
    "ingest + normalize vs read + JSON",
    "dedupe vs numpy MinHash",
    "store vs SQLite insert",
)
PEER_ROWS = ("ours (whole pipeline)", "all-pairs average link", "DBSCAN (eps", "HDBSCAN (min")


def _bench(tmp_path: Path, *flags: str) -> list[str]:
    command = [sys.executable, "-m", "bench.pipeline", "--sizes", "300"]
    out = subprocess.run(
        [*command, "--corpora", str(tmp_path), *flags],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=100,
    )
    return out.stdout.splitlines()


def _row(lines: list[str], label: str) -> str:
    found = [line for line in lines if label in line]
    assert len(found) == 1, (label, lines)
    return found[0]


@pytest.mark.slow
def test_floor_and_peers_are_printed_beside_ours(tmp_path: Path) -> None:
    lines = _bench(tmp_path)
    assert lines[0].split()[:3] == ["300", "ours", "total"]
    for label in FLOOR_ROWS + PEER_ROWS:
        _row(lines, label)
    assert not [line for line in lines if "error" in line.lower() or "n/a" in line]
    # ratios: ours/floor (time, memory), each stage's, and ours/peer (time, memory)
    assert _row(lines, "ours / floor").split()[-2:][0].endswith("x")
    for label in ("cluster vs", "dedupe vs", "store vs", "ingest + normalize vs"):
        assert _row(lines, label).endswith("x")
    _row(lines, "ours: dumps to threads")
    for label in PEER_ROWS[1:]:
        row, scope = _row(lines, label).split("(dumps to threads:")
        time_ratio, memory_ratio = row.split()[-2:]
        assert time_ratio.endswith("x")
        assert memory_ratio.endswith("x")
        assert scope.strip().endswith("x)")
    nmi = float(_row(lines, "DBSCAN (eps").split("(dumps")[0].split()[-3])
    assert 0.0 <= nmi <= 1.0


@pytest.mark.slow
def test_quick_run_leaves_floor_and_peers_out(tmp_path: Path) -> None:
    lines = _bench(tmp_path, "--no-floor", "--no-peers")
    assert lines[0].split()[:3] == ["300", "ours", "total"]
    assert len(lines) == 2  # ours and its stages (one size: no ratio between sizes)
    cores = "compiled (numba)" if compiled.available() else "in Python"
    assert lines[1].endswith(f"(clustering cores {cores})")


def test_the_clock_counts_a_context_managers_entry_and_exit_to_its_stage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A transaction's COMMIT runs in its exit, after the method that made it returned: the
    stage table counts it to ``store``, not to whichever stage was running around it."""
    from collections.abc import Iterator
    from contextlib import contextmanager

    import bench.pipeline as bench

    now = [0.0]
    monkeypatch.setattr(bench.time, "perf_counter", lambda: now[0])

    @contextmanager
    def transaction() -> Iterator[None]:
        now[0] += 1.0  # BEGIN
        yield None
        now[0] += 5.0  # COMMIT

    clock = bench.Clock()
    timed = clock.wrap_context("store", transaction)
    with timed():
        now[0] += 2.0  # the caller's own work inside the transaction
    clock.stop()
    assert dict(clock.spent) == {"store": 6.0, "other": 2.0}


def test_the_clock_counts_each_step_of_an_iterator_to_its_stage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A generator's work runs as it is stepped (the slices read ahead, digest.readahead),
    not when it is made: each step counts to its stage, the loop's body around it not."""
    from collections.abc import Iterator

    import bench.pipeline as bench

    now = [0.0]
    monkeypatch.setattr(bench.time, "perf_counter", lambda: now[0])

    def slices(n: int) -> Iterator[int]:
        for i in range(n):
            now[0] += 3.0  # reading slice i
            yield i

    clock = bench.Clock()
    for _ in clock.wrap_iterator("cluster", slices)(2):
        now[0] += 1.0  # the caller's work on it
    clock.stop()
    assert dict(clock.spent) == {"cluster": 6.0, "other": 2.0}


def test_the_worker_processes_peak_and_cpu_are_seen() -> None:
    """A grandchild (as a fork server's worker is) holding ~60 MB and spinning a while."""
    from bench.peers import Descendants

    code = (
        "import subprocess, sys; subprocess.run([sys.executable, '-c',"
        ' \'import time; b = bytearray(60 << 20); b[::4096] = b"x" * len(b[::4096]);'
        " t = time.process_time()\\nwhile time.process_time() - t < 0.5: pass'])"
    )
    with Descendants(every=0.05) as workers:
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert max(workers.peak_mb.values()) >= 60
    assert max(workers.cpu_s.values()) >= 0.3
    assert workers.peak_sum_mb >= max(workers.peak_mb.values())
