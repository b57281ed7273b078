"""The edition schedule as pure functions over APScheduler 3.x cron triggers.

``make_trigger`` reads a crontab expression (five fields, or six with seconds first) in an
IANA time zone; day-of-week numbers follow crontab (0 and 7 are Sunday), not APScheduler
3.x (where 0 is Monday). ``last_fire_time`` and ``owed_edition`` decide, from our own
editions ledger, which schedule slot a run answers and whether one was missed: nothing here
reads the clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from apscheduler.triggers.cron import CronTrigger

_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DOW_TOKEN = re.compile(r"^(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(\d+))?$")
_LOOKBACK_LIMIT = timedelta(days=800)  # further back than any cron slot can be


def make_trigger(cron: str, timezone: Any, *, end_date: datetime | None = None) -> CronTrigger:
    """A CronTrigger for ``cron`` in ``timezone`` (firing until ``end_date``, when given);
    ValueError names what is wrong."""
    fields = cron.split()
    if len(fields) not in (5, 6):
        raise ValueError(f"expected 5 or 6 cron fields, got {len(fields)} in {cron!r}")
    second = fields.pop(0) if len(fields) == 6 else "0"
    minute, hour, day, month, weekday = fields
    try:
        return CronTrigger(
            second=second,
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=crontab_weekdays(weekday),
            timezone=timezone,
            end_date=end_date,
        )
    except (ValueError, TypeError) as e:
        raise ValueError(f"bad cron expression {cron!r}: {e}") from None


def crontab_weekdays(field: str) -> str:
    """A crontab day-of-week field (0/7 = Sunday, names allowed) as APScheduler day names."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for token in field.lower().split(","):
        match = _DOW_TOKEN.match(token)
        if not match:
            raise ValueError(f"bad day of week {token!r}")
        span, step = match.group(1), int(match.group(2) or 1)
        low, _, high = span.partition("-")
        first, last = (0, 6) if span == "*" else (_day(low), _day(high or low))
        if high and last == 0:
            last = 7  # "5-7" and "5-0" run Friday..Sunday
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(_CRON_DAYS[d] for d in sorted(days))


def _day(text: str) -> int:
    if text.isdigit() and 0 <= int(text) <= 7:
        return int(text)  # 7 (Sunday) stays 7 so that "5-7" is a range
    if text[:3] in _CRON_DAYS:
        return _CRON_DAYS.index(text[:3])
    raise ValueError(f"bad day of week {text!r}")


def fire_times(trigger: CronTrigger, after: datetime, count: int) -> tuple[datetime, ...]:
    """The next ``count`` fire times strictly after ``after``."""
    return tuple(islice(_fires(trigger, after), count))


def _fires(trigger: CronTrigger, after: datetime) -> Iterator[datetime]:
    previous: datetime | None = None
    start = after + timedelta(microseconds=1)
    while True:
        fire: datetime | None = trigger.get_next_fire_time(
            previous, start if previous is None else previous
        )
        if fire is None:
            return
        yield fire
        previous = fire


def last_fire_time(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The latest fire time at or before ``now`` (None when there is none in 800 days)."""
    lookback = timedelta(seconds=1)
    while lookback <= _LOOKBACK_LIMIT:
        last = None
        for fire in _fires(trigger, now - lookback):
            if fire > now:
                break
            last = fire
        if last is not None:
            return last
        lookback *= 4
    return None


def owed_edition(
    last_scheduled_for: datetime | None, now: datetime, trigger: CronTrigger
) -> datetime | None:
    """The schedule slot to produce late on start, or None when nothing was missed.

    ``last_scheduled_for`` is the newest slot in the editions ledger (produced or found
    empty). The latest slot at or before ``now`` is owed when the ledger has not served it;
    older missed slots are not produced one by one: the late edition covers them all (its
    window reaches back to the previous edition). An empty ledger owes nothing: a new
    daemon starts with the next slot.
    """
    if last_scheduled_for is None:
        return None
    slot = last_fire_time(trigger, now)
    if slot is None or slot <= last_scheduled_for:
        return None
    return slot


def repeats_wall_time(slot: datetime, previous: datetime | None, timezone: Any) -> bool:
    """True for the second firing of a repeated local time (the autumn DST change).

    APScheduler 3.x fires a 02:30 job twice on the night the clocks go back; the second
    slot shows the same wall-clock time as the one before it and is skipped.
    """
    if previous is None or previous.timestamp() == slot.timestamp():
        return False  # (compare instants: same-zone comparisons ignore the fold)
    here, before = slot.astimezone(timezone), previous.astimezone(timezone)
    return here.replace(tzinfo=None) == before.replace(tzinfo=None)
