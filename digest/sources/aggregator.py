"""Pure parsers for text dumps: aggregator page dumps, and the plain single-article file.

A plain text or Markdown file that is not a page dump is one article (``split_single_article``):
the first non-empty line (heading marks stripped) is the title, an optional ``By <name>`` line
gives the authors, and the rest is the body. Body paragraphs are blocks separated by blank lines
(a block's lines are joined), or single lines when the body has no blank line. Markdown links,
emphasis and heading marks are reduced to plain text.

An aggregator page dump is split into its articles (``split_page_dump``).

The layout (one item per line; blank lines carry no meaning and are ignored)::

    logo                                   optional
    <main title>                           once or twice
    <outlet><relative time>                glued ("Al Jazeera12 hours ago"), or on two lines
    <paragraph> ...                        the main article, one paragraph per line
    Orange background / Try Our AI Features / ... / Comments / No comments yet...
    Related Articles
      <title> <title>? <outlet>? time<relative time> • <outlet>? <title>? <paragraph> ...
      ... one block per related article ...
    DOWNLOAD THE APP / Get Started Now: ... / Ready to dive into ... / app-storeplay-store

Detection (``looks_like_page_dump``): the first line is ``logo``; or the first lines are a
title (once or twice) followed by an ``<outlet><relative time>`` line; or at least two of the
page's marker lines (``Related Articles``, ``DOWNLOAD THE APP``, ...) appear.

Completeness rule (otherwise ``TruncatedDump``): the main article has a title, an outlet/time
line and at least one paragraph, and its body is ended by a boilerplate or footer line (not by
the end of the file); a ``Related Articles`` section is split at its ``time…`` lines, each
block has a title and at least one paragraph, and the section is closed by the app footer.
A dump that breaks this rule was cut short, and half an article is never returned.

Related blocks are split at their time lines: the title is the line two above the time line
(the line above is the outlet, or a repeat of the title when the outlet line is missing, in
which case the ``• Outlet`` bullet names it). Leftover markup glued to a dateline
(``MadridcTypeface:> The global...``) and a leading ``Agencies`` credit are dropped.
Relative times ("a day ago", "43 minutes ago", "just now", "yesterday", "Mar 2, 2026") are
resolved by ``resolve_when`` against the time the page was captured; a time no date can hold
("3000 years ago") resolves to ``digest.dates.FAR_PAST``, which the ingest edge drops.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from digest.dates import FAR_PAST, shifted
from digest.text import clean_space

_UNITS = {
    "second": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
    "month": timedelta(days=30),
    "year": timedelta(days=365),
}
_UNIT_ALIASES = {"sec": "second", "min": "minute", "hr": "hour", "mo": "month", "yr": "year"}
_RELATIVE = (
    r"(?:(?:(?:a|an|one|a few)\s+|\d+\s*)"
    r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|mos?|years?|yrs?)"
    r"\s+ago|just now|yesterday|today)"
)
_ABSOLUTE = (
    r"(?:\d{4}-\d{2}-\d{2}|[A-Z][a-z]{2,8}\.? \d{1,2},? \d{4}|\d{1,2} [A-Z][a-z]{2,8} \d{4})"
)
_WHEN = rf"(?:{_RELATIVE}|{_ABSOLUTE})"
_TIME_LINE = re.compile(rf"^(?:time\s*)?(?P<when>{_WHEN})$", re.IGNORECASE)
_OUTLET_TIME = re.compile(rf"^(?P<outlet>.*?\S)\s*(?:time\s*)?(?P<when>{_WHEN})$")
_ABSOLUTE_FORMATS = ("%Y-%m-%d", "%b %d %Y", "%B %d %Y", "%d %b %Y", "%d %B %Y")
_BULLET = re.compile(r"^[•·\-*]\s*(?P<outlet>.+)$")
_GLUED_JUNK = re.compile(r"^\S*:>\s*")  # "MadridcTypeface:> The ..." -> "The ..."
_INNER_JUNK = re.compile(r"\s*\b\w*Typeface:>\s*")
_CREDIT = re.compile(r"^(?:Agencies|News Desk|Web Desk|Staff Report)\s+(?=[A-Z\"'‘“])")

_BOILERPLATE = frozenset(
    {"orange background", "try our ai features", "comments", "no comments yet...", "logo"}
)
_RELATED = "related articles"
_FOOTER = frozenset(
    {"download the app", "get started now: download the app", "app-storeplay-store"}
)
_FOOTER_PREFIXES = ("ready to dive into", "get started now")


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*)(\S.*?)\1")
_MD_HEADING = re.compile(r"^#{1,6}\s*")
_BYLINE = re.compile(r"^by\s+(?P<names>[A-Z][^.!?]{1,80})$", re.IGNORECASE)


class TruncatedDump(ValueError):
    """The text is a page dump, but cut short or not splittable; ``str()`` is the reason."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DumpArticle:
    title: str
    outlet: str | None
    when: str | None  # the time phrase as printed, e.g. "a day ago"
    paragraphs: tuple[str, ...]
    main: bool  # the page's main article (vs a related one)


@dataclass(frozen=True, slots=True, kw_only=True)
class SingleArticle:
    title: str
    authors: tuple[str, ...]
    paragraphs: tuple[str, ...]  # empty when the file holds a title only


def paragraphs(text: str) -> tuple[str, ...]:
    """Blank-line separated blocks (lines joined), or single lines when there is no blank line."""
    text = clean_space(text).strip()
    if "\n\n" not in text:
        return tuple(line for line in text.splitlines() if line)
    # (a plain split where no three line breaks meet, as most texts: the regex is ~4x slower)
    blocks = re.split(r"\n{2,}", text) if "\n\n\n" in text else text.split("\n\n")
    return tuple(b for block in blocks if (b := block.replace("\n", " ").strip()))


def _plain_markdown(text: str) -> str:
    text = "\n".join(_MD_HEADING.sub("", line) for line in text.splitlines())
    return _MD_EMPHASIS.sub(r"\2", _MD_LINK.sub(r"\1", text))


def split_single_article(text: str) -> SingleArticle:
    """Title, byline authors and paragraphs of a plain text/Markdown article (not blank)."""
    lines = clean_space(_plain_markdown(text)).split("\n")
    start = next(i for i, line in enumerate(lines) if line)
    title, rest = lines[start], lines[start + 1 :]
    authors: tuple[str, ...] = ()
    first = next((i for i, line in enumerate(rest) if line), None)
    if first is not None and (m := _BYLINE.match(rest[first])):
        authors = tuple(n.strip() for n in re.split(r",| and ", m["names"]) if n.strip())
        rest = rest[first + 1 :]
    return SingleArticle(title=title, authors=authors, paragraphs=paragraphs("\n".join(rest)))


# ── page dumps ───────────────────────────────────────────────────────────────────────────


def _kind(line: str) -> str | None:
    """'boilerplate', 'related' or 'footer' for a page-furniture line, else None."""
    low = line.lower().strip()
    if low == _RELATED:
        return "related"
    if low in _FOOTER or low.startswith(_FOOTER_PREFIXES):
        return "footer"
    if low in _BOILERPLATE or (low.startswith("explore what") and low.endswith("can do for you:")):
        return "boilerplate"
    return None


def content_lines(text: str) -> list[str]:
    """The non-blank lines, white space cleaned."""
    return [line for line in clean_space(text).splitlines() if line]


def looks_like_page_dump(text: str) -> bool:
    lines = content_lines(text)
    if not lines:
        return False
    if lines[0].lower() == "logo":
        return True
    if _header(lines) is not None:
        return True
    markers = {line.lower() for line in lines if _kind(line) in ("related", "footer")}
    markers |= {line.lower() for line in lines if line.lower() in _BOILERPLATE - {"comments"}}
    return len(markers) >= 2


def _header(lines: list[str]) -> tuple[str, str, str, int] | None:
    """(title, outlet, when, index of the first body line) when the page opens with a header."""
    start = 1 if lines and lines[0].lower() == "logo" else 0
    if len(lines) <= start:
        return None
    title = lines[start]
    i = start + 1
    if i < len(lines) and lines[i] == title:
        i += 1
    if i < len(lines) and (m := _OUTLET_TIME.match(lines[i])) and _is_outlet(m["outlet"]):
        return title, m["outlet"], m["when"], i + 1
    if i + 1 < len(lines) and _TIME_LINE.match(lines[i + 1]) and _kind(lines[i]) is None:
        return title, lines[i], _TIME_LINE.match(lines[i + 1])["when"], i + 2  # type: ignore[index]
    return None


def _is_outlet(name: str) -> bool:
    """A plausible outlet name glued to a time (not a sentence that ends "a day ago")."""
    return len(name) <= 60 and len(name.split()) <= 6 and name[-1] not in ".,;:!?"


def clean_paragraph(line: str) -> str:
    line = _GLUED_JUNK.sub("", line)
    line = _INNER_JUNK.sub(" ", line)
    return _CREDIT.sub("", line).strip()


def _paragraphs(lines: list[str]) -> tuple[str, ...]:
    return tuple(p for p in map(clean_paragraph, lines) if p)


def split_page_dump(text: str) -> tuple[DumpArticle, ...]:
    """All articles of a page dump, main article first. Raises ``TruncatedDump``."""
    lines = content_lines(text)
    header = _header(lines)
    if header is None:
        raise TruncatedDump("no title and outlet/time line at the top")
    title, outlet, when, i = header
    end = next((j for j in range(i, len(lines)) if _kind(lines[j])), len(lines))
    body = _paragraphs(lines[i:end])
    if not body:
        raise TruncatedDump(f"no body for the main article {title!r}")
    if end == len(lines):
        raise TruncatedDump(f"the file ends inside the main article {title!r}")
    main = DumpArticle(title=title, outlet=outlet, when=when, paragraphs=body, main=True)
    return (main, *_related(lines[end:]))


def _related(tail: list[str]) -> tuple[DumpArticle, ...]:
    """The related articles in the page furniture after the main article."""
    start = next((i + 1 for i, line in enumerate(tail) if _kind(line) == "related"), None)
    if start is None:
        return ()
    stop = next((i for i in range(start, len(tail)) if _kind(tail[i]) == "footer"), None)
    if stop is None:
        raise TruncatedDump("the file ends inside the related articles (no app footer)")
    section = tail[start:stop]
    times = [i for i, line in enumerate(section) if _TIME_LINE.match(line)]
    if section and not times:
        raise TruncatedDump("related articles without time lines cannot be split")
    heads = [
        _block_start(section, t, floor) for t, floor in zip(times, [-1, *times[:-1]], strict=True)
    ]
    ends = [*heads[1:], len(section)]
    return tuple(_block(section, h, t, e) for h, t, e in zip(heads, times, ends, strict=True))


def _block_start(section: list[str], t: int, floor: int) -> int:
    """Index of the first header line (title) of the related block whose time line is ``t``."""
    lowest = floor + 1  # the line after the previous block's time line
    if t - 2 < lowest:
        raise TruncatedDump(f"related article without a title before {section[t]!r}")
    if section[t - 1] == section[t - 2]:  # title twice, no outlet line
        return t - 2
    has_repeat = t - 3 >= lowest and section[t - 3] == section[t - 2]
    return t - 3 if has_repeat else t - 2


def _block(section: list[str], head: int, t: int, end: int) -> DumpArticle:
    title = section[head]
    outlet = section[t - 1] if section[t - 1] != title else None
    i = t + 1
    if i < end and (m := _BULLET.match(section[i])):
        outlet = outlet or m["outlet"].strip()
        i += 1
    if i < end and section[i] == title:
        i += 1
    body = _paragraphs(section[i:end])
    if not body:
        raise TruncatedDump(f"no body for the related article {title!r}")
    when = _TIME_LINE.match(section[t])["when"]  # type: ignore[index]
    return DumpArticle(title=title, outlet=outlet, when=when, paragraphs=body, main=False)


def resolve_when(when: str | None, captured_at: datetime) -> datetime | None:
    """The UTC time a phrase like "43 minutes ago" or "Mar 2, 2026" names, seen at capture."""
    if not when:
        return None
    phrase = " ".join(when.lower().split())
    if phrase in ("just now", "today"):
        return captured_at
    if phrase == "yesterday":
        return shifted(captured_at, -timedelta(days=1))
    m = re.fullmatch(r"(a|an|one|a few|\d+)\s*([a-z]+?)s?\s+ago", phrase)
    if m:
        count = {"a": 1, "an": 1, "one": 1, "a few": 3}.get(m[1]) or int(m[1])
        unit = _UNIT_ALIASES.get(m[2], m[2])
        if unit not in _UNITS:
            return None
        try:
            return shifted(captured_at, -count * _UNITS[unit])
        except OverflowError:  # "99999999999 years ago": no timedelta holds it
            return FAR_PAST
    return _absolute(when)


def _absolute(when: str) -> datetime | None:
    text = when.replace(",", "").replace(".", "")
    for fmt in _ABSOLUTE_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None
