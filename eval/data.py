"""Locate ``shared/eval-data`` and turn its labelled sets into our ``Article`` values."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from digest.models import Article

REPO = Path(__file__).resolve().parents[1]
# The labelled sets carry no usable timestamps: a stream gets one article every few seconds
# from this fixed instant (well inside every time window), in the set's own order.
EPOCH = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)


def shared_dir(start: Path = REPO) -> Path | None:
    """The ``shared`` folder beside the repository (or beside any parent of it)."""
    for parent in (start, *start.parents):
        candidate = parent.parent / "shared"
        if (candidate / "eval-data").is_dir() or (candidate / "seeds").is_dir():
            return candidate
    return None


def eval_data() -> Path | None:
    shared = shared_dir()
    return shared / "eval-data" if shared and (shared / "eval-data").is_dir() else None


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


@dataclass(frozen=True, slots=True, kw_only=True)
class Labelled:
    """A labelled set: articles in stream order and their gold event labels."""

    name: str
    articles: tuple[Article, ...]
    gold: dict[str, str]


def make_article(
    ident: str,
    title: str | None,
    text: str,
    published: datetime,
    outlet: str | None = None,
    *,
    dated: bool = False,
) -> Article:
    return Article(
        id=ident,
        canonical_url=None,
        outlet=outlet or "unknown",
        title=title or "",
        text=text.replace("\n", "\n\n"),
        published=published,
        fetched_at=published,
        source="eval",
        origin=ident,
        content_hash=ident,
        dated=dated,  # most labelled sets carry no publication times: the stream's are made up
    )


def ecbplus(root: Path, splits: frozenset[str]) -> Labelled:
    """ECB+ documents of ``splits``; no timestamps in the corpus, so all share one instant
    and the clusterer's own order (time, then id) decides the stream."""
    rows = [r for r in read_jsonl(root / "ecbplus" / "articles.jsonl") if r["split"] in splits]
    articles = tuple(make_article(r["id"], r["title"], r["text"], EPOCH, r["source"]) for r in rows)
    return Labelled(
        name=f"ecbplus:{'+'.join(sorted(splits))}",
        articles=articles,
        gold={r["id"]: r["event_id"] for r in rows},
    )


def mstream(root: Path, order: str = "order_news", limit: int | None = None) -> Labelled:
    """MStream News titles in stream order (``order_news`` or ``order_news_t``), ten
    seconds apart; the preprocessed title is both the title and the text."""
    rows = sorted(read_jsonl(root / "mstream-news" / "articles.jsonl"), key=lambda r: r[order])
    rows = rows[:limit] if limit else rows
    articles = tuple(
        make_article(r["id"], r["text"], "", EPOCH + timedelta(seconds=10 * i))
        for i, r in enumerate(rows)
    )
    return Labelled(
        name=f"mstream:{order}", articles=articles, gold={r["id"]: r["event_id"] for r in rows}
    )


def uci_sample(root: Path) -> Labelled:
    """The UCI News Aggregator sample: 999 real headlines (no bodies) of 18 stories, with
    their outlets, in id order ten seconds apart (half the rows have no timestamp). A
    sanity check on real capitalised headlines, not a benchmark (see its PROVENANCE)."""
    rows = sorted(
        read_jsonl(root / "uci-news-aggregator-sample" / "articles.jsonl"),
        key=lambda r: int(r["id"]),
    )
    articles = tuple(
        make_article(
            f"uci{r['id']}", r["title"], "", EPOCH + timedelta(seconds=10 * i), r["source"]
        )
        for i, r in enumerate(rows)
    )
    return Labelled(
        name="uci-sample", articles=articles, gold={f"uci{r['id']}": r["event_id"] for r in rows}
    )


def synthetic(n: int, seed: int = 5) -> Labelled:
    """``n`` articles of the benchmark's generated corpus (``bench.corpus``: our own word
    lists, real event structure, publication times over days) with their generated events."""
    from bench.corpus import articles as generated

    rows = generated(n, seed)
    articles = tuple(
        make_article(
            f"g{i}",
            r["title"],
            r["text"],
            datetime.fromisoformat(r["published"]),
            r["outlet"],
            dated=True,
        )
        for i, r in enumerate(rows)
    )
    gold = {a.id: r["event"] for a, r in zip(articles, rows, strict=True)}
    stream = tuple(sorted(articles, key=lambda a: (a.published, a.id)))
    return Labelled(name=f"synthetic:{n}", articles=stream, gold=gold)
