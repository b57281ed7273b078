"""Story-so-far summaries on the background-summaries test split, against sumy and copy
baselines, scored with ROUGE-1/2/Lsum F1 (``rouge-score``, stemming, mean over the three
references).

    python -m eval.summaries            # the test split (676 timesteps)
    python -m eval.summaries --limit 50 # a quick look

For each event and timestep t >= 1, the input is annotator 1's updates of timesteps < t,
one article each (dated), all in one thread; every system gets the same input and the same
150-word budget, and every output is cut at 150 words. Ours is ``digest.summarize`` with
the production ``SummaryParams`` except the budget (``max_words`` 150, ``max_sentences`` 8).
Needs the ``eval`` extra (``pip install -e '.[eval]'``).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from digest.config import Settings
from digest.models import Article, EventThread, ThreadSummary
from digest.pipeline import summary_params
from digest.sentences import split_sentences
from digest.summarize import SummaryParams, summarize
from digest.text import words
from eval.data import eval_data, make_article, read_jsonl

BUDGET_WORDS = 150


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One timestep: the story so far (as articles) and the three reference backgrounds."""

    cluster_id: str
    articles: tuple[Article, ...]
    references: tuple[str, ...]


def load_cases(root: Path, split: str = "test", limit: int | None = None) -> list[Case]:
    base = root / "background-summaries"
    updates: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in read_jsonl(base / "updates.jsonl"):
        if row["split"] == split and row["annotator"] == 1:
            updates[row["event_id"]].append(row)
    cases = []
    for row in read_jsonl(base / "summaries.jsonl"):
        refs = tuple(r for r in row["references"].values() if r.strip())
        if row["split"] != split or row["timestep"] < 1 or len(refs) < 3:
            continue
        before = sorted(
            (u for u in updates[row["event_id"]] if u["timestep"] < row["timestep"]),
            key=lambda u: u["timestep"],
        )
        articles = tuple(_update_article(u) for u in before)
        cases.append(Case(cluster_id=row["cluster_id"], articles=articles, references=refs))
    return cases[:limit] if limit else cases


def _update_article(update: dict[str, Any]) -> Article:
    day = datetime.fromisoformat(update["date"]).replace(hour=12, tzinfo=UTC)
    text = update["text"].replace("\\n", "\n").strip()
    return make_article(update["id"], None, text, day, "Timeline")


def thread_of(articles: Sequence[Article]) -> EventThread:
    return EventThread(
        id="t-eval",
        title="",
        article_ids=tuple(a.id for a in articles),
        first_seen=min(a.published for a in articles),
        last_updated=max(a.published for a in articles),
    )


def eval_params() -> SummaryParams:
    return dataclasses.replace(summary_params(Settings()), max_words=BUDGET_WORDS, max_sentences=8)


def ours(case: Case) -> ThreadSummary:
    return summarize(
        thread_of(case.articles), {a.id: a for a in case.articles}, params=eval_params()
    )


def cut(sentences: Sequence[str], budget: int = BUDGET_WORDS) -> list[str]:
    """Sentences up to ``budget`` words, the last one cut short if it crosses it."""
    out, used = [], 0
    for sentence in sentences:
        tokens = sentence.split()
        if used >= budget:
            break
        out.append(" ".join(tokens[: budget - used]))
        used += len(tokens)
    return out


def _sentences(article: Article) -> list[str]:
    return [s for p in article.paragraphs for s in split_sentences(p)]


def copy_first(case: Case) -> list[str]:
    return [s for a in case.articles for s in _sentences(a)]


def copy_latest(case: Case) -> list[str]:
    return [s for a in reversed(case.articles) for s in _sentences(a)]


class _Tokenizer:
    """sumy's tokenizer interface over our own splitter (no nltk data needed)."""

    language = "english"

    def to_sentences(self, paragraph: str) -> list[str]:
        return split_sentences(paragraph)

    def to_words(self, sentence: str) -> list[str]:
        return list(words(sentence))


def sumy_system(name: str) -> Callable[[Case], list[str]]:
    import numpy
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
    from sumy.nlp.stemmers import Stemmer
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.summarizers.text_rank import TextRankSummarizer
    from sumy.utils import get_stop_words

    summarizer = {"lexrank": LexRankSummarizer, "textrank": TextRankSummarizer}[name](
        Stemmer("english")
    )
    summarizer.stop_words = get_stop_words("english")
    tokenizer = _Tokenizer()

    def budget(infos: Sequence[Any]) -> list[Any]:
        taken, used = [], 0
        for info in infos:  # best rated first
            if used >= BUDGET_WORDS:
                break
            taken.append(info)
            used += len(str(info.sentence).split())
        return taken

    def run(case: Case) -> list[str]:
        paragraphs = [
            Paragraph([Sentence(s, tokenizer) for s in _sentences(a)]) for a in case.articles
        ]
        with numpy.errstate(invalid="ignore", divide="ignore"):  # LexRank on 1-2 sentences
            chosen = summarizer(ObjectDocumentModel(paragraphs), budget)
        return [str(s) for s in chosen]

    return run


def rouge(cases: Sequence[Case], outputs: Sequence[Sequence[str]]) -> tuple[float, ...]:
    """Mean ROUGE-1/2/Lsum F1 ×100 (each case: mean over its references). Texts are
    scored as one line each, as PROVENANCE's reference rows were (so Lsum is LCS over the
    whole text)."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
    totals = [0.0, 0.0, 0.0]
    for case, output in zip(cases, outputs, strict=True):
        candidate = " ".join(cut(output))
        for ref in case.references:
            scores = scorer.score(" ".join(ref.split()), candidate)
            for i, key in enumerate(("rouge1", "rouge2", "rougeLsum")):
                totals[i] += scores[key].fmeasure / len(case.references)
    return tuple(100 * t / max(1, len(cases)) for t in totals)


PROVENANCE_ROWS = (
    ("first previous updates, cut at 150 words (PROVENANCE)", (33.7, 8.2, 17.4)),
    ("most recent updates first, cut at 150 words (PROVENANCE)", (42.0, 17.9, 20.5)),
    ("human: each annotator vs the other two (PROVENANCE)", (42.8, 13.5, 23.0)),
)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N timesteps")
    args = parser.parse_args(argv)
    root = eval_data()
    if root is None:
        raise SystemExit("shared/eval-data not found beside the repository")
    cases = load_cases(root, "test", args.limit)
    systems: list[tuple[str, Callable[[Case], list[str]]]] = [
        ("digest (ours, production summarizer)", lambda c: [s.text for s in ours(c).sentences]),
        ("sumy LexRank", sumy_system("lexrank")),
        ("sumy TextRank", sumy_system("textrank")),
        ("copy: first previous updates (ours)", copy_first),
        ("copy: most recent updates first (ours)", copy_latest),
    ]
    print(f"background-summaries test, n = {len(cases)} timesteps, budget {BUDGET_WORDS} words")
    print(f"{'system':<58} {'R1':>6} {'R2':>6} {'RLsum':>6}")
    for name, system in systems:
        r1, r2, rl = rouge(cases, [system(c) for c in cases])
        print(f"{name:<58} {r1:>6.1f} {r2:>6.1f} {rl:>6.1f}")
    for name, (r1, r2, rl) in PROVENANCE_ROWS:
        print(f"{name:<58} {r1:>6.1f} {r2:>6.1f} {rl:>6.1f}")


if __name__ == "__main__":
    main()
