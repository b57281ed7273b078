"""Does publishing an edition cost more as the archive grows?

    python -m bench.publish                    # archives of 30, 120 and 365 daily editions
    python -m bench.publish --editions 730 --threads 60

Each archive is made of daily editions of ``--threads`` threads (each a few summary
sentences and a dozen sources, with threads running three days, as news does), published
one after another into a fresh folder. Then one more edition is published, timed, twice
in turns: with ``archive.json`` as the last run left it (the index: only the editions that
showed this edition's threads are read in full), and with it deleted first (every
edition's ``briefing.json`` read, as before the index). Printed: the CPU time of each, best
of ``--repeat``, and their ratio; flat means the first column stays put as the archive
grows.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from digest.archive import ARCHIVE_JSON
from digest.models import Briefing, SourceRef, SummarySentence, ThreadSummary
from digest.publish import publish
from digest.render import make_environment, render

START = date(2025, 1, 1)
_WORDS = "the council said on monday that the new plan would cut costs for most of the city".split()


def briefing(day: date, k: int, threads: int) -> Briefing:
    """Edition ``k`` (on ``day``): a third of its threads new, the rest from the two days
    before."""
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    ids = [f"t{(k - age) * threads + j}" for age in range(3) for j in range(threads // 3)]
    return Briefing(
        day=day,
        generated_at=noon,
        timezone="UTC",
        threads=tuple(
            ThreadSummary(
                thread_id=tid,
                headline=f"Story {tid}: " + " ".join(_WORDS[:8]),
                status="new",
                sentences=tuple(
                    SummarySentence(text=" ".join(_WORDS) + f" ({tid}, {s}).", outlets=("Times",))
                    for s in range(5)
                ),
                quotes=(),
                sources=tuple(
                    SourceRef(
                        outlet=f"Outlet {s}",
                        title=f"Story {tid} as outlet {s} told it",
                        url=f"https://outlet{s}.example/{day}/{tid}",
                        published=noon,
                    )
                    for s in range(12)
                ),
                first_seen=noon,
                last_updated=noon,
            )
            for tid in ids
        ),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--editions", type=int, nargs="+", default=[30, 120, 365])
    parser.add_argument("--threads", type=int, default=42, help="threads an edition shows")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many (default 3)")
    args = parser.parse_args(argv)
    env = make_environment()
    print(f"one more edition of {args.threads} threads, CPU s (best of {args.repeat})")
    print(f"{'editions':>8} {'with index':>11} {'reading all':>12} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "site"
        made = 0
        for n in sorted(args.editions):
            for k in range(made, n):
                b = briefing(START + timedelta(days=k), k, args.threads)
                publish(render(env, b), b, out, env=env)
            made = n
            last = briefing(START + timedelta(days=n), n, args.threads)
            rendered = render(env, last)
            best = {"index": float("inf"), "all": float("inf")}
            for _ in range(args.repeat):
                for way in best:
                    trial = Path(tmp) / "trial"
                    shutil.rmtree(trial, ignore_errors=True)
                    shutil.copytree(out, trial)
                    if way == "all":
                        (trial / ARCHIVE_JSON).unlink()
                    started = time.process_time()
                    publish(rendered, last, trial, env=env)
                    best[way] = min(best[way], time.process_time() - started)
            ratio = best["all"] / best["index"]
            print(f"{n:>8} {best['index']:>11.3f} {best['all']:>12.3f} {ratio:>6.1f}x", flush=True)


if __name__ == "__main__":
    main()
