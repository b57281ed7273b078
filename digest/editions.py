"""Which edition a run fills, and its window (pure: the ledger rows are passed in).

Rules (documented in the README, "Editions"):

- A scheduled run (the daemon) fills the edition of its schedule slot; running a slot again
  re-runs that edition. ``digest run --date D`` re-runs the newest edition dated D. Any
  other ``digest run`` starts a new edition when it has news, and otherwise re-runs the
  newest edition if that one is dated today (so running twice republishes, as before).
- A new edition's window starts where the newest edition's ends (the first edition's at the
  first run) and ends with the current run: it shows every thread that got an article
  stored by a run in that range.
- Re-running the newest edition extends its window to the current run; re-running an older
  one keeps its window (the runs after it belong to later editions).
- An edition gets its number (and its permalink folder) when it is first published; an
  empty window is recorded for a scheduled slot (so catch-up knows it was served) but gets
  no number and no files.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime

from digest.models import Edition


@dataclass(frozen=True, slots=True, kw_only=True)
class EditionRequest:
    day: date  # the edition's date in the configured time zone
    slot: datetime | None  # the schedule slot (daemon); None for a manual run
    late: bool  # a missed slot caught up on start
    run_id: int  # the current run
    now: datetime


def plan_edition(
    request: EditionRequest,
    *,
    existing: Edition | None,
    latest: Edition | None,
    first_run_started: datetime,
) -> Edition:
    """The ledger row this run fills: ``existing`` re-run, or a new one after ``latest``."""
    if existing is not None:
        newest = latest is not None and existing.id == latest.id
        return replace(
            existing,
            last_run=request.run_id if newest else existing.last_run,
            window_end=request.now if newest else existing.window_end,
            produced_at=request.now,
            late=existing.late or request.late,
        )
    return Edition(
        id=0,
        number=None,
        slug="",
        day=request.day,
        first_run=latest.last_run + 1 if latest else 1,
        last_run=request.run_id,
        window_start=latest.window_end if latest else first_run_started,
        window_end=request.now,
        scheduled_for=request.slot,
        produced_at=request.now,
        late=request.late,
        status="empty",
    )


def publish_as(edition: Edition, *, next_number: int, taken_slugs: Collection[str]) -> Edition:
    """The edition marked published, numbered and with its folder (kept on re-runs)."""
    if edition.number is not None:
        return replace(edition, status="published")
    day = edition.day.isoformat()
    slug = day if day not in taken_slugs else f"{day}-{next_number}"
    return replace(edition, number=next_number, slug=slug, status="published")
