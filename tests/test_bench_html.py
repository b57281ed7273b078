"""bench.html at a tiny size (a smoke test of its plumbing; its figures are never checked
here): the timed table, and the child a counted run starts under valgrind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.html import write_pages

REPO = Path(__file__).resolve().parents[1]


def test_three_pages_print_a_row_per_reader() -> None:
    command = [sys.executable, "-m", "bench.html", "--pages", "3", "--repeat", "1"]
    out = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True, timeout=300)
    rows = [line.split() for line in out.stdout.splitlines() if line.endswith("x")]
    assert [r[0] for r in rows] == ["trafilatura", "dump", "page"]
    assert rows[0][-1] == "1.00x"


def test_the_counted_child_reads_its_pages_with_one_reader(tmp_path: Path) -> None:
    write_pages(3, tmp_path)
    for reader in ("trafilatura alone", "dump reader", "page reader"):
        command = [sys.executable, "-m", "bench.html", "--child", reader, str(tmp_path), "2"]
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
