"""bench.growth at a tiny size (a smoke test of its plumbing; its figures are never checked
here), and the run it measures the steady slope from."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.growth import _first_full_run

REPO = Path(__file__).resolve().parents[1]


def test_three_small_runs_print_a_row_each_and_the_slope() -> None:
    command = [sys.executable, "-m", "bench.growth", "--runs", "3", "--size", "120"]
    command += ["--replays", "1"]
    out = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True, timeout=600)
    lines = out.stdout.splitlines()
    rows = [r for r in map(str.split, lines) if len(r) >= 7 and r[0].isdigit() and r[1].isdigit()]
    assert [r[0] for r in rows] == ["1", "2", "3"]
    assert [int(r[1]) for r in rows] == sorted(int(r[1]) for r in rows)  # the store grows
    assert any(line.startswith("slope (run 3 / run 2): wall ") for line in lines), out.stdout
    assert not any(line.startswith("steady") for line in lines)  # no window is full yet
    # run 3 and run 2 made again from copies of the stores they met
    assert any(line.startswith("replayed (run 3 / run 2, medians of 1 ") for line in lines)


def test_the_steady_slope_starts_at_the_first_run_after_a_whole_window() -> None:
    """dedupe.recent_days is 7: pruning keeps 8 days, so with a day of news a run, run 9 is
    the first whose store holds a whole window before it."""
    start = datetime(2026, 1, 5, tzinfo=UTC)
    docs = [{"published": (start + timedelta(hours=6 * i)).isoformat()} for i in range(4 * 12)]
    assert _first_full_run(docs, 4, 12) == 9
    assert _first_full_run(docs, 4, 8) is None
