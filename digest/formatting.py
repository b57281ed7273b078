"""Pure helpers for outside text, URLs, times and dates in the outputs (the templates'
filters, the JSON document and the email use them).

Dates are spelled in English by hand, so the output does not depend on the process locale.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import PurePath
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digest.errors import RenderError

_MONTHS = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]()#<>|])")
_MD_ORDERED = re.compile(r"^(\d+)\.")
_MD_URL = str.maketrans({" ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E"})


def safe_url(url: object) -> str | None:
    """``url`` if it is an absolute http(s) URL without spaces or control characters."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or _URL_FORBIDDEN.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    return url


def md_escape(text: object) -> str:
    """Escape Markdown syntax in outside text; line breaks become spaces (it is inline text)."""
    lines = (line.strip() for line in str(text).splitlines())
    return " ".join(_md_escape_line(line) for line in lines if line)


def _md_escape_line(line: str) -> str:
    line = _MD_SPECIAL.sub(r"\\\1", line)
    if line.startswith(("-", "+")):
        return "\\" + line
    return _MD_ORDERED.sub(r"\1\\.", line)


def md_url(url: str) -> str:
    """A URL made safe inside Markdown's ``(...)`` link target."""
    return url.translate(_MD_URL)


@lru_cache(maxsize=32)
def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; RenderError naming it when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise RenderError(name, "unknown time zone") from e


def in_zone(value: datetime, tz: ZoneInfo) -> datetime:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(tz)


def iso_utc(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` (naive values are taken as UTC)."""
    return in_zone(value, zone("UTC")).isoformat().replace("+00:00", "Z")


def humandate(value: date, style: str = "long") -> str:
    """``long`` Wednesday 5 June 2024, ``medium`` 5 June 2024, ``short`` 5 Jun."""
    month = _MONTHS[value.month - 1]
    if style == "short":
        return f"{value.day} {month[:3]}"
    medium = f"{value.day} {month} {value.year}"
    return medium if style == "medium" else f"{_WEEKDAYS[value.weekday()]} {medium}"


def public_source_name(name: str, kind: str) -> str:
    """A source's name as readers see it: a dump file by its file name, never its path."""
    return PurePath(name).name if kind == "dump" else name
