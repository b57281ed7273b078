"""Dates from outside (feeds, pages, dump files): the one plausibility rule.

A publication date is plausible when it is not before 1990 (``EARLIEST``) and not more than a
day (``FUTURE_SLACK``) after the run's clock. An implausible one is dropped for that article at
the ingest edge (``checked_items``), with one warning naming the article and its source; the
article is kept, undated ("time unknown"). Parsers never fail on a date that ``datetime``
cannot hold (year 1 with a UTC offset, "3000 years ago", year 10000): ``to_utc`` and
``shifted`` clamp it to ``FAR_PAST`` / ``FAR_FUTURE``, which the same rule then drops.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from digest.models import RawItem
from digest.text import printable

log = logging.getLogger("digest.sources")

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
FAR_PAST = datetime.min.replace(tzinfo=UTC)
FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


def implausible(moment: datetime, now: datetime) -> str | None:
    """Why ``moment`` cannot be a publication time seen at ``now``; None when it can."""
    moment = to_utc(moment)
    if moment < EARLIEST:
        return "before 1990"
    if moment > to_utc(now) + FUTURE_SLACK:
        return "more than a day in the future"
    return None


def to_utc(moment: datetime) -> datetime:
    """An aware UTC datetime (naive = UTC already); clamped when UTC cannot hold it."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+05:00, 9999-12-31T23:00-05:00
        return FAR_PAST if moment.year < 2 else FAR_FUTURE


def shifted(moment: datetime, delta: timedelta) -> datetime:
    """``moment + delta``, clamped to ``FAR_PAST`` / ``FAR_FUTURE`` instead of overflowing."""
    try:
        return moment + delta
    except OverflowError:
        return FAR_PAST if delta < timedelta(0) else FAR_FUTURE


def from_fields(fields: Sequence[int]) -> datetime | None:
    """A UTC datetime from (year, month, day, hour, minute, second); a year past 9999 is
    ``FAR_FUTURE``; fields no date has give None."""
    try:
        year, month, day, hour, minute, second = fields[:6]
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError):
        if fields and isinstance(fields[0], int) and fields[0] > 9999:
            return FAR_FUTURE
        return None


def checked_items(items: Sequence[RawItem], *, now: datetime) -> tuple[RawItem, ...]:
    """``items`` with every implausible ``published`` dropped (one warning each)."""
    return tuple(_checked(item, now) for item in items)


def _checked(item: RawItem, now: datetime) -> RawItem:
    if item.published is None:
        return item
    reason = implausible(item.published, now)
    if reason is None:
        return item
    when = f"{item.published.isoformat(timespec='seconds')} is {reason}"
    where = "" if item.origin == item.source else f" ({printable(item.origin)})"
    log.warning(
        "%s: %r%s: published date %s; kept undated",
        printable(item.source),
        printable(item.title[:80]),
        where,
        when,
    )
    return replace(item, published=None)
