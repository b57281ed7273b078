"""Faithfulness: every summary sentence and quote is found in a source it cites.

    python -m eval.faithfulness

A sentence passes when its text (white space collapsed) occurs in a cited article and every
name, number and date in it (capitalised words after the first, digit runs, month names)
occurs in that same article. A quote passes when its words occur in the cited article and
its speaker's name does too. Sets: the seeds through ``run_once`` (the whole pipeline),
ECB+ and the benchmark's generated corpus (2k articles; every predicted thread summarised
with the production defaults) and the background-summaries test split (our summarizer at
its 150-word budget). MStream News and the UCI sample are headlines only: no sentences to
summarise.
"""

from __future__ import annotations

import functools
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from digest.config import Settings, load_settings
from digest.models import Article, EventThread, Quote, SummarySentence, ThreadSummary
from digest.pipeline import RunOptions, run_once, summarize_window, summary_params
from digest.store import Store
from digest.summarize import summarize
from eval.clustering import production_params, run_stream
from eval.data import Labelled, ecbplus, shared_dir, synthetic

SEED_DAY = date(2025, 7, 4)
SEED_CAPTURE = datetime(2025, 7, 4, 18, 0, tzinfo=UTC)
_FACT = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w'’.-]*|\d[\d,.:/]*\d|\d")


@dataclass(frozen=True, slots=True, kw_only=True)
class Faithfulness:
    checked: int
    failures: tuple[str, ...]  # one line per failing sentence or quote

    @property
    def share(self) -> float:
        return 1.0 if not self.checked else 1 - len(self.failures) / self.checked


def _flat(text: str) -> str:
    return " ".join(text.split())


def facts(sentence: str) -> list[str]:
    """Names, numbers and dates: the tokens a summary must not invent."""
    return [token.rstrip(".") for token in _FACT.findall(_flat(sentence))]


def sentence_ok(sentence: SummarySentence, articles: Mapping[str, Article]) -> bool:
    text = _flat(sentence.text)
    for article_id in sentence.article_ids:
        article = articles.get(article_id)
        source = _flat(f"{article.title}\n{article.text}") if article else ""
        if text and text in source and all(f in source for f in facts(text)):
            return True
    return False


def quote_ok(quote: Quote, articles: Mapping[str, Article]) -> bool:
    article = articles.get(quote.article_id)
    source = _flat(article.text) if article else ""
    speaker_ok = quote.speaker is None or all(p in source for p in quote.speaker.split())
    return bool(source) and _flat(quote.text) in source and speaker_ok


def check(summaries: Iterable[ThreadSummary], articles: Mapping[str, Article]) -> Faithfulness:
    checked, failures = 0, []
    for summary in summaries:
        for sentence in summary.sentences:
            checked += 1
            if not sentence_ok(sentence, articles):
                failures.append(f"{summary.thread_id}: sentence {sentence.text[:80]!r}")
        for quote in summary.quotes:
            checked += 1
            if not quote_ok(quote, articles):
                failures.append(f"{summary.thread_id}: quote {quote.text[:80]!r}")
    return Faithfulness(checked=checked, failures=tuple(failures))


def seeds(shared: Path) -> Faithfulness:
    """The seed dumps through ``run_once`` into a scratch store; its day's summaries."""
    summaries, articles = _seed_run(shared)
    return check(summaries, articles)


def thread_count_of_seeds(shared: Path) -> int:
    return len(_seed_run(shared)[0])


@functools.cache
def _seed_run(shared: Path) -> tuple[tuple[ThreadSummary, ...], dict[str, Article]]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = scratch_settings(Path(tmp))
        with Store(settings.store.path) as store:
            options = RunOptions(
                day=SEED_DAY, inputs=(shared / "seeds",), captured_at=SEED_CAPTURE, publish=False
            )
            report = run_once(settings, now=SEED_CAPTURE, store=store, options=options)
            if report.edition is None:
                raise RuntimeError("the seed run planned no edition")
            summaries = summarize_window(store, report.edition, settings)
            ids = [x.article_id for s in summaries for x in s.sources]
            return summaries, store.articles(ids)


def scratch_settings(folder: Path) -> Settings:
    flags = [f"store.path='{folder / 'digest.sqlite3'}'", f"output.dir='{folder / 'output'}'"]
    return load_settings(None, environ={}, overrides=flags)


def thread_summaries(data: Labelled) -> list[ThreadSummary]:
    """Cluster ``data`` with the production defaults and summarise every thread."""
    predicted = run_stream(data.articles, production_params())
    by_thread: dict[str, list[str]] = {}
    for article in data.articles:
        by_thread.setdefault(predicted[article.id], []).append(article.id)
    articles = {a.id: a for a in data.articles}
    params = summary_params(Settings())
    return [
        summarize(_thread(tid, [articles[i] for i in ids]), articles, params=params)
        for tid, ids in sorted(by_thread.items())
    ]


def _thread(thread_id: str, articles: Sequence[Article]) -> EventThread:
    return EventThread(
        id=thread_id,
        title=articles[0].title,
        article_ids=tuple(a.id for a in articles),
        first_seen=min(a.published for a in articles),
        last_updated=max(a.published for a in articles),
    )


def labelled(data: Labelled) -> Faithfulness:
    return check(thread_summaries(data), {a.id: a for a in data.articles})


def background(root: Path, limit: int | None = None) -> Faithfulness:
    from eval.summaries import load_cases, ours

    cases = load_cases(root, "test", limit)
    results = [check([ours(c)], {a.id: a for a in c.articles}) for c in cases]
    return Faithfulness(
        checked=sum(r.checked for r in results),
        failures=tuple(f for r in results for f in r.failures),
    )


def main() -> None:
    shared = shared_dir()
    if shared is None:
        raise SystemExit("shared/ not found beside the repository")
    root = shared / "eval-data"
    sets = {
        "seeds (run_once)": lambda: seeds(shared),
        "ECB+ all splits": lambda: labelled(ecbplus(root, frozenset({"train", "dev", "test"}))),
        "generated corpus, 2k": lambda: labelled(synthetic(2000)),
        "background-summaries test": lambda: background(root),
    }
    print(f"{'set':<28} {'checked':>8} {'failed':>7} {'pass':>8}")
    for name, run in sets.items():
        result = run()
        print(f"{name:<28} {result.checked:>8} {len(result.failures):>7} {result.share:>8.1%}")
        for line in result.failures[:10]:
            print(f"    {line}")


if __name__ == "__main__":
    main()
