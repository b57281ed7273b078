"""A thread whose articles have no usable body text (a headline-only feed, an aggregator's
listing): its headlines become its summary lines, each attributed to every outlet that ran
it (pure). Headlines are copied verbatim, without a trailing " - Outlet"."""

from __future__ import annotations

from collections.abc import Sequence

from digest.models import Article, SummarySentence
from digest.text import letters, strip_outlet, words

_SAME_HEADLINE = 0.8  # word Jaccard at or above which two headlines are one


def headline_lines(articles: Sequence[Article], limit: int) -> tuple[SummarySentence, ...]:
    """Up to ``limit`` distinct headlines of ``articles`` (in their order), with outlets."""
    outlets = {letters(a.outlet) for a in articles}
    lines: list[tuple[str, frozenset[str], list[Article]]] = []
    for article in articles:
        text = strip_outlet(article.title, outlets)
        mine = frozenset(words(text))
        same = next((line for line in lines if _alike(mine, line[1])), None)
        if same is not None:
            same[2].append(article)
        elif mine:
            lines.append((text, mine, [article]))
    return tuple(
        SummarySentence(
            text=text,
            outlets=tuple(dict.fromkeys(a.outlet for a in carriers)),
            article_ids=tuple(a.id for a in carriers),
        )
        for text, _, carriers in lines[:limit]
    )


def _alike(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a and b) and len(a & b) >= _SAME_HEADLINE * len(a | b)
