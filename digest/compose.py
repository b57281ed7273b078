"""Compose the day's Briefing from thread summaries: selection and order (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from digest.models import Briefing, SourceStatus, ThreadSummary


def importance(summary: ThreadSummary) -> tuple[int, int, float, str]:
    """Sort key: more distinct outlets first, then more articles, then most recent."""
    return (
        -len(summary.outlets),
        -len(summary.sources),
        -summary.last_updated.timestamp(),
        summary.headline,
    )


def compose(
    day: date,
    summaries: Sequence[ThreadSummary],
    *,
    generated_at: datetime,
    timezone: str,
    title: str,
    sources: Sequence[SourceStatus] = (),
    max_threads: int = 40,
    pinned: frozenset[str] = frozenset(),
) -> Briefing:
    """The briefing for ``day``: the most important threads first, at most ``max_threads``;
    threads the operator pinned come first (they count towards the limit)."""
    ordered = sorted(summaries, key=lambda s: (s.thread_id not in pinned, importance(s)))
    ordered = ordered[:max_threads]
    return Briefing(
        day=day,
        generated_at=generated_at,
        timezone=timezone,
        threads=tuple(ordered),
        sources=tuple(sources),
        title=title,
    )
