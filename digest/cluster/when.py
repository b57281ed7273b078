"""The day an article's event happened, from what its lead says (pure).

News leads say when: "told X in a telephone call on Monday", "fired 480 drones overnight",
"said on Tuesday", "VELMAR, May 12". The first such reference in the lead (the opening words
of the text, then the title) is resolved against the publication date: a weekday is the
latest one on or before the publication day, unless that is more than four days back (then
it is the coming one: "signs the bill on Tuesday", written on a Sunday); "yesterday" and
"last night" are the day before. An article whose lead names no day happened on its
publication day. Undated articles (no publication time from the source) have no event day.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

from digest.cluster.entities import MONTHS, WEEKDAYS

_WEEKDAY = {d: i for i, d in enumerate(WEEKDAYS)}
_MONTH = (
    {m: i + 1 for i, m in enumerate(MONTHS)}
    | {m[:3]: i + 1 for i, m in enumerate(MONTHS)}
    | {"sept": 9}
)
_MONTH_NAMES = "|".join(sorted(_MONTH, key=len, reverse=True))
_REFERENCE = re.compile(
    rf"\b(?P<weekday>{'|'.join(WEEKDAYS)})\b"
    r"|\b(?P<relative>yesterday|last night|today|tonight|this morning)\b"
    rf"|\b(?P<month>{_MONTH_NAMES})\.?\s+(?P<day>\d{{1,2}})\b"
    rf"|\b(?P<day2>\d{{1,2}})\s+(?P<month2>{_MONTH_NAMES})\b",
    re.IGNORECASE,
)
# the same pattern, to match lower-cased text case-sensitively: 2.7x faster than matching
# ignoring case (``_references``)
_LOWER = re.compile(_REFERENCE.pattern)
# a text holding one of these is matched as it is: matching ignoring case takes the dotless
# i and the long s for "i" and "s", which lower-casing keeps as they are
_OWN_FOLDS = re.compile("[ıſ]")
_RELATIVE = {"yesterday": -1, "last night": -1, "today": 0, "tonight": 0, "this morning": 0}
LEAD_WORDS = 60  # the opening words that say when (the lead sentence or two)
_NEAR_DAYS = 7  # a reference further from the publication day is not the event's day


def event_day(title: str, text: str, published: date) -> date:
    """The event's day: the first day reference of the lead, else the publication day."""
    lead = " ".join(text.split(maxsplit=LEAD_WORDS)[:LEAD_WORDS])  # not the whole text
    for part in (lead, title):
        for match in _references(part):
            day = _resolve(match, published)
            if day is not None and abs((day - published).days) <= _NEAR_DAYS:
                return day
    return published


def _references(text: str) -> Iterator[re.Match[str]]:
    """``_REFERENCE``'s matches in ``text`` (their groups may be lower-cased)."""
    lowered = text.lower()
    if len(lowered) == len(text) and not _OWN_FOLDS.search(text):
        return _LOWER.finditer(lowered)  # (every group is read lower-cased or as digits)
    return _REFERENCE.finditer(text)


def _resolve(match: re.Match[str], published: date) -> date | None:
    # (case-folded: a word matched ignoring case may be written with a long s, "ſunday"; one
    # with "İ" folds to no word we know and is no reference)
    if weekday := match.group("weekday"):
        index = _WEEKDAY.get(weekday.casefold())
        if index is None:
            return None
        back = (published.weekday() - index) % 7
        return published - timedelta(days=back) if back <= 4 else published + timedelta(7 - back)
    if relative := match.group("relative"):
        shift = _RELATIVE.get(relative.casefold())
        return None if shift is None else published + timedelta(days=shift)
    number = _MONTH.get((match.group("month") or match.group("month2")).casefold())
    if number is None:
        return None
    day = int(match.group("day") or match.group("day2"))
    for year in (published.year, published.year - 1, published.year + 1):
        try:
            candidate = date(year, number, day)
        except ValueError:
            return None
        if abs((candidate - published).days) <= 183:
            return candidate
    return None
