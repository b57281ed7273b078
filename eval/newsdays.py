"""news-days: four labelled days of aggregator pages, run day by day as its README says.

    python -m eval.newsdays              # page dumps and JSONL, each day's B3 and faults

Each day is one ``run_once`` (what ``digest run DAY --captured-at ... --now ... --date ...``
does) into one store and one site; the corpus's own ``score.py`` (read from
``shared/eval-data/news-days`` at run time) scores the editions published so far: B3 over
the distinct articles, and the faults that fail a run (an article missing, listed twice in
one edition, or moved to another thread between editions).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType

from digest.config import load_settings
from digest.pipeline import RunOptions, run_once
from digest.store import Store

DAYS = 4
_LINE = re.compile(
    r"B3 P=(?P<p>[\d.]+) R=(?P<r>[\d.]+) F1=(?P<f>[\d.]+) threads=(?P<threads>\d+)/(?P<gold>\d+)"
    r".*missing=\[(?P<missing>[^\]]*)\] shown_twice=\[(?P<twice>[^\]]*)\]"
    r" changed_thread=\[(?P<moved>[^\]]*)\]"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class DayScore:
    day: int
    precision: float
    recall: float
    f1: float
    threads: int
    gold_threads: int
    faults: tuple[str, ...]  # "missing T01-3", "twice T12-1", "moved T04-1"
    line: str  # what score.py printed


def _scorer(root: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("news_days_score", root / "score.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"{root / 'score.py'}: cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _score(scorer: ModuleType, site: Path, day: int) -> DayScore:
    out, argv = io.StringIO(), sys.argv
    sys.argv = ["score.py", str(site), "--days", str(day)]
    try:
        with contextlib.redirect_stdout(out):
            scorer.main()
    finally:
        sys.argv = argv
    line = out.getvalue().strip()
    m = _LINE.search(line)
    if m is None:
        raise SystemExit(f"news-days score.py printed something unexpected: {line!r}")
    faults = tuple(
        f"{kind} {key.strip().strip(chr(39))}"
        for kind, group in (("missing", "missing"), ("twice", "twice"), ("moved", "moved"))
        for key in m.group(group).split(",")
        if key.strip()
    )
    return DayScore(
        day=day,
        precision=float(m.group("p")),
        recall=float(m.group("r")),
        f1=float(m.group("f")),
        threads=int(m.group("threads")),
        gold_threads=int(m.group("gold")),
        faults=faults,
        line=line,
    )


def run_protocol(root: Path, form: str = "pages") -> tuple[DayScore, ...]:
    """The README's day-by-day protocol on the page dumps (``pages``) or JSONL (``jsonl``)
    into a temporary store and site, with the production defaults."""
    scorer = _scorer(root)
    scores = []
    with tempfile.TemporaryDirectory(prefix="news-days-") as tmp:
        out = Path(tmp)
        settings = load_settings(
            None,
            environ={},
            overrides=[f"store.path='{out / 'db.sqlite3'}'", f"output.dir='{out / 'site'}'"],
        )
        for day in range(1, DAYS + 1):
            when = datetime(2026, 5, 10 + day, 18, tzinfo=UTC)
            source = root / "pages" / f"day{day}" if form == "pages" else root / "jsonl"
            inputs = (source,) if form == "pages" else (source / f"day{day}.jsonl",)
            options = RunOptions(day=date(2026, 5, 10 + day), inputs=inputs, captured_at=when)
            with Store(settings.store.path) as store:
                run_once(settings, now=when.replace(minute=5), store=store, options=options)
            scores.append(_score(scorer, out / "site", day))
    return tuple(scores)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    from eval.data import eval_data

    data = eval_data()
    if data is None or not (data / "news-days").is_dir():
        print("shared/eval-data/news-days not found")
        return 0
    for form in ("pages", "jsonl"):
        for s in run_protocol(data / "news-days", form):
            print(f"{form:<6} day {s.day}: {s.line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
