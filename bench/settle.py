"""What the start-of-run recovery step costs on a big site (``digest.recovery.settle``).

    python -m bench.settle                        # 3 years of editions, 20k thread folders
    python -m bench.settle --editions 365 --threads 5000

Builds a scratch store whose ledger records ``--editions`` editions and an output folder
with as many edition folders (a small briefing.json, index.html, briefing.md each) and
``--threads`` thread folders (index.html and feed.xml), then times ``settle`` (the site vs.
ledger check, runs marked interrupted, the temp-file sweep over the whole tree) and prints
the folders and files, then the median of 5 calls in milliseconds after a finished
run (the check only) and after a killed one (with the sweep).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path


def measure(editions: int, threads: int) -> dict[str, float]:
    from digest.ledger import Ledger
    from digest.models import Edition
    from digest.recovery import settle
    from digest.store import Store

    now = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "digest.sqlite3") as store:
        out = Path(tmp) / "output"
        ledger = Ledger(store)
        first = date(2023, 1, 1)
        for n in range(1, editions + 1):
            day = first + timedelta(days=n - 1)
            folder = out / day.isoformat()
            folder.mkdir(parents=True)
            doc = {"date": day.isoformat(), "edition": {"number": n}, "threads": []}
            (folder / "briefing.json").write_text(json.dumps(doc), encoding="utf-8")
            (folder / "index.html").write_text("<html>", encoding="utf-8")
            (folder / "briefing.md").write_text("#", encoding="utf-8")
            at = datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
            ledger.save(
                Edition(
                    id=0, number=n, slug=day.isoformat(), day=day, first_run=n, last_run=n,
                    window_start=at, window_end=at, scheduled_for=None, produced_at=at,
                    late=False, status="published",
                )
            )  # fmt: skip
        for i in range(threads):
            folder = out / "threads" / f"t{i:06d}"
            folder.mkdir(parents=True)
            (folder / "index.html").write_text("<html>", encoding="utf-8")
            (folder / "feed.xml").write_text("<feed/>", encoding="utf-8")
        timings: dict[str, list[float]] = {"after a finished run": [], "after a killed run": []}
        for _ in range(5):
            for case, rows in timings.items():
                if case == "after a killed run":  # an unfinished run: the sweep happens
                    store.begin_run(started=now, day=now.date())
                started = time.perf_counter()
                settle(store, out, publishing=True, start_over=False, now=now)
                rows.append((time.perf_counter() - started) * 1000)
                store.db.execute("UPDATE runs SET finished = started")
    row = {"folders": editions + threads, "files": editions * 3 + threads * 2}
    return row | {case: statistics.median(rows) for case, rows in timings.items()}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--editions", type=int, default=3 * 365)
    parser.add_argument("--threads", type=int, default=20_000)
    args = parser.parse_args(argv)
    row = measure(args.editions, args.threads)
    print(f"settle over {row.pop('folders'):.0f} folders, {row.pop('files'):.0f} files:")
    for case, ms in row.items():
        print(f"  {case}: {ms:.1f} ms (median of 5)")


if __name__ == "__main__":
    main()
