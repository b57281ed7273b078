"""Quality gate: fast quality figures against pinned floors in ``eval/baseline.json``.

    python -m eval.gate                      # measure, compare, exit 1 on a drop
    python -m eval.gate --update             # raise floors to today's figures (never lower)
    python -m eval.gate --update --allow-regression   # also lower them: a deliberate edit

Runs in seconds, so ``tests/test_quality_gate.py`` runs it on every ``make test``: ECB+ dev
(production clusterer, B³ F1 and precision) and train+dev (B³ F1: 772 articles, steadier
than dev's 197), the first 3,000 MStream News titles in stream order (NMI, in 4 runs and in
one) and in News-T order (4 runs), 3,000 articles of the benchmark's generated corpus in 12
runs (NMI: threads that continue across runs must not swallow other events), the seeds
through ``run_once`` (6 event threads), faithfulness (100 %) of every summary produced on
the seeds and on ECB+ dev, ROUGE-1/2 of the production summarizer on the
background-summaries dev split (163 timesteps), and news-days run day by day through
``run_once`` (page dumps and JSONL: day-4 B3 F1, and no article missing, listed twice in an
edition or moved to another thread between editions).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path

from eval.clustering import evaluate, production_params
from eval.data import REPO, ecbplus, mstream, shared_dir, synthetic
from eval.faithfulness import labelled, seeds, thread_count_of_seeds
from eval.metrics import ClusteringScores
from eval.newsdays import DayScore, run_protocol
from eval.summaries import load_cases, ours, rouge

BASELINE = REPO / "eval" / "baseline.json"
TOLERANCE = 1e-9  # the figures are deterministic; floors are compared exactly


def _measures(shared: Path) -> dict[str, Callable[[], float]]:
    root = shared / "eval-data"
    params = production_params()
    dev = ecbplus(root, frozenset({"dev"}))
    tune = ecbplus(root, frozenset({"train", "dev"}))
    news = mstream(root, "order_news", limit=3000)

    @cache
    def dev_scores() -> ClusteringScores:
        return evaluate(dev, params)

    @cache
    def news_days(form: str) -> tuple[DayScore, ...]:
        return run_protocol(root / "news-days", form)

    @cache
    def summaries_dev() -> tuple[float, ...]:
        cases = load_cases(root, "dev")
        return rouge(cases, [[s.text for s in ours(c).sentences] for c in cases])

    return {
        "ecbplus_train_dev_b3_f1": lambda: evaluate(tune, params).b3.f1,
        "ecbplus_dev_b3_f1": lambda: dev_scores().b3.f1,
        "ecbplus_dev_b3_precision": lambda: dev_scores().b3.precision,
        "mstream_news_3000_nmi": lambda: evaluate(news, params, batches=4).nmi,
        "mstream_news_3000_one_run_nmi": lambda: evaluate(news, params).nmi,
        "mstream_news_t_3000_nmi": lambda: (
            evaluate(mstream(root, "order_news_t", limit=3000), params, batches=4).nmi
        ),
        "generated_3000_in_12_runs_nmi": lambda: evaluate(synthetic(3000), params, batches=12).nmi,
        "seeds_six_threads": lambda: float(thread_count_of_seeds(shared) == 6),
        "faithfulness_seeds": lambda: seeds(shared).share,
        "faithfulness_ecbplus_dev": lambda: labelled(dev).share,
        "summaries_dev_rouge1": lambda: summaries_dev()[0],
        "summaries_dev_rouge2": lambda: summaries_dev()[1],
        "news_days_pages_day4_b3_f1": lambda: news_days("pages")[-1].f1,
        "news_days_jsonl_day4_b3_f1": lambda: news_days("jsonl")[-1].f1,
        "news_days_no_faults": lambda: float(
            not any(d.faults for form in ("pages", "jsonl") for d in news_days(form))
        ),
    }


def measure(shared: Path) -> dict[str, float]:
    return {name: round(run(), 6) for name, run in _measures(shared).items()}


def read_floors(path: Path = BASELINE) -> dict[str, float]:
    return {k: float(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}


def failures(values: Mapping[str, float], floors: Mapping[str, float]) -> list[str]:
    """One line per figure below its floor, or with no figure at all."""
    lines = []
    for name, floor in sorted(floors.items()):
        value = values.get(name)
        if value is None:
            lines.append(f"{name}: not measured (floor {floor:.6f})")
        elif value < floor - TOLERANCE:
            lines.append(f"{name}: {value:.6f} is below its floor {floor:.6f}")
    return lines


def updated_floors(
    floors: Mapping[str, float], values: Mapping[str, float], *, allow_regression: bool
) -> dict[str, float]:
    """New floors: today's figures, but never lower than before unless allowed."""
    out = dict(floors)
    for name, value in values.items():
        out[name] = value if allow_regression or name not in floors else max(floors[name], value)
    return dict(sorted(out.items()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="write today's figures as floors")
    parser.add_argument(
        "--allow-regression", action="store_true", help="with --update: floors may go down"
    )
    args = parser.parse_args(argv)
    shared = shared_dir()
    if shared is None or not (shared / "eval-data").is_dir():
        print("shared/eval-data not found beside the repository: nothing to gate")
        return 0
    values = measure(shared)
    floors = read_floors() if BASELINE.exists() else {}
    print(f"{'figure':<28} {'value':>9} {'floor':>9}")
    for name, value in values.items():
        print(f"{name:<28} {value:>9.4f} {floors.get(name, float('nan')):>9.4f}")
    if args.update:
        new = updated_floors(floors, values, allow_regression=args.allow_regression)
        BASELINE.write_text(json.dumps(new, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {BASELINE}")
        return 0
    problems = failures(values, floors)
    for line in problems:
        print(f"FAIL {line}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
