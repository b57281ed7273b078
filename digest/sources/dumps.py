"""Read article dump files (a watched folder of saved articles) into ``RawItem``s.

Readers by suffix:

* ``.txt`` / ``.md`` — an aggregator page dump (see ``digest.sources.aggregator`` for the
  layout, the detection rule and the completeness rule) is split into all its articles; a cut
  page dump raises ``ParseError("truncated page dump (...)")``. Any other text file is one
  article (title line, optional ``By`` line, body; see ``split_single_article``); a file with
  a title and no body is an error.
* ``.html`` / ``.htm`` — ``trafilatura.bare_extraction`` (comments and tables left out);
  title, date, site name, author and URL come from the page's metadata. A full timestamp in
  ``article:published_time`` / ``<time datetime>`` refines a date-only value for the same day.
* ``.json`` (one object or a list of objects) and ``.jsonl`` (one object per line, blank lines
  ignored) — keys ``title``, ``text`` (or ``body``), ``outlet`` (or ``source``), ``url``,
  ``published`` (or ``date``; ISO 8601, a naive time is UTC), ``authors`` (list or string).
  A bad line or object (invalid JSON, not an object, no title/text, bad time) is skipped with a
  logged warning naming ``path:LINE``; the file fails only when nothing in it is usable, and then
  the error names the first bad line.

Every file: an unknown suffix, an empty file, a binary file (NUL bytes, or not UTF-8 text)
raise ``ParseError`` with a one-line message naming the file.

Times. ``captured_at`` (when the file was saved) is the explicit argument, else the sidecar
``<file>.meta.json`` key ``captured_at``, else the file's mtime; relative times in page dumps
are resolved against it. An article the file gives no date for is undated (``published`` is
None) with the capture time as its ``fetched_at``, so it is ordered by that time and shown as
"time unknown"; otherwise ``now`` is the ``fetched_at``. All datetimes are UTC-aware.

Outlet precedence: the ``outlet`` argument; else the outlet the content names for that article
(a page dump's outlet line, a JSON ``outlet``); else the sidecar's ``outlet``; else a web
page's site name; else ``"Unknown outlet"``. The sidecar ``url`` is given to single-article
files and to a page dump's main article only (it is the URL of that page).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import lxml.html
import trafilatura
from lxml import etree

from digest.errors import ParseError, SourceError
from digest.models import RawItem
from digest.sources.aggregator import (
    TruncatedDump,
    looks_like_page_dump,
    paragraphs,
    resolve_when,
    split_page_dump,
    split_single_article,
)
from digest.sources.outlets import outlet_name
from digest.text import clean_space

log = logging.getLogger(__name__)

DUMP_SUFFIXES: frozenset[str] = frozenset({".txt", ".md", ".html", ".htm", ".json", ".jsonl"})
SIDECAR_SUFFIX = ".meta.json"
UNKNOWN_OUTLET = "Unknown outlet"

_DATE_PARAMS = {
    "extensive_search": False,  # no guesses from "Copyright 2026"-style text
    "original_date": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}

_PUBLISHED_XPATH = etree.XPath(
    '//meta[@property="article:published_time" or @name="article:published_time"'
    ' or @property="og:published_time" or @itemprop="datePublished"]/@content'
    " | //time[@datetime]/@datetime"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Sidecar:
    """The optional ``<file>.meta.json`` beside a dump file; every key is optional."""

    captured_at: datetime | None = None
    outlet: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Ctx:
    path: Path
    source: str
    outlet: str | None  # the explicit override
    sidecar: Sidecar
    captured_at: datetime
    now: datetime

    @property
    def origin(self) -> str:
        return str(self.path)

    def item(self, **fields: Any) -> RawItem:
        fields.setdefault("origin", self.origin)
        undated = fields.get("published") is None  # ordered by the capture time
        fields.setdefault("fetched_at", self.captured_at if undated else self.now)
        return RawItem(source=self.source, **fields)


class _BadItem(ValueError):
    """One unusable JSON object; ``str()`` is the reason."""


# ── files ────────────────────────────────────────────────────────────────────────────────


def list_dump_files(root: Path) -> tuple[Path, ...]:
    """A file -> (file,); a folder -> its files recursively, sorted, skipping hidden files and
    ``*.meta.json`` sidecars. Unknown extensions are included (``read_dump`` reports them)."""
    if root.is_file():
        return (root,)
    if not root.is_dir():
        raise SourceError(str(root), "no such file or folder")
    files = (p for p in root.rglob("*") if p.is_file())
    return tuple(
        sorted(
            p
            for p in files
            if not any(part.startswith(".") for part in p.relative_to(root).parts)
            and not p.name.endswith(SIDECAR_SUFFIX)
        )
    )


def read_dump(
    path: Path, *, source: str, outlet: str | None, captured_at: datetime | None, now: datetime
) -> tuple[RawItem, ...]:
    """Read one dump file into RawItems. Raises ``ParseError`` naming the file and the reason."""
    suffix = path.suffix.lower()
    if suffix not in DUMP_SUFFIXES:
        raise ParseError(str(path), f"unsupported file type {suffix or '(no extension)'!r}")
    sidecar = read_sidecar(path)
    when = _utc(captured_at) or sidecar.captured_at or _mtime(path)
    ctx = _Ctx(path=path, source=source, outlet=outlet, sidecar=sidecar, captured_at=when, now=now)
    return _READERS[suffix](_read_bytes(path), ctx)


def read_sidecar(path: Path) -> Sidecar:
    """The sidecar of ``path``, or an empty one when there is none."""
    meta = path.with_name(path.name + SIDECAR_SUFFIX)
    if not meta.is_file():
        return Sidecar()
    try:
        data = json.loads(meta.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ParseError(str(meta), "unreadable sidecar") from e
    if not isinstance(data, dict):
        raise ParseError(str(meta), "sidecar is not a JSON object")
    try:
        captured = _parse_time(data.get("captured_at"))
    except ValueError as e:
        raise ParseError(str(meta), "invalid captured_at in sidecar") from e
    return Sidecar(captured_at=captured, outlet=_str(data.get("outlet")), url=_str(data.get("url")))


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ParseError(str(path), "cannot read file") from e
    if not data.strip():
        raise ParseError(str(path), "empty file")
    if b"\x00" in data:
        raise ParseError(str(path), "binary file (NUL bytes)")
    return data


def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")  # plain UTF-8 too; a BOM is dropped
    except UnicodeDecodeError as e:
        raise ParseError(str(path), "binary file (not UTF-8 text)") from e


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


# ── small value helpers ──────────────────────────────────────────────────────────────────


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _parse_time(value: object) -> datetime | None:
    """An ISO 8601 string as a UTC datetime (naive = UTC); None/"" -> None; else ValueError."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"not a string: {value!r}")
    return _utc(datetime.fromisoformat(value.strip()))


def _str(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _outlet(ctx: _Ctx, named: str | None, guessed: str | None = None) -> str:
    return ctx.outlet or named or ctx.sidecar.outlet or guessed or UNKNOWN_OUTLET


# ── text: page dumps and single articles ─────────────────────────────────────────────────


def _read_text(data: bytes, ctx: _Ctx) -> tuple[RawItem, ...]:
    text = _decode(data, ctx.path)
    if looks_like_page_dump(text):
        return _read_page_dump(text, ctx)
    return (_read_single(text, ctx),)


def _read_page_dump(text: str, ctx: _Ctx) -> tuple[RawItem, ...]:
    try:
        articles = split_page_dump(text)
    except TruncatedDump as e:
        raise ParseError(ctx.origin, f"truncated page dump ({e})") from None
    return tuple(
        ctx.item(
            outlet=_outlet(ctx, a.outlet),
            url=ctx.sidecar.url if a.main else None,
            title=a.title,
            text="\n\n".join(a.paragraphs),
            published=resolve_when(a.when, ctx.captured_at),
        )
        for a in articles
    )


def _read_single(text: str, ctx: _Ctx) -> RawItem:
    article = split_single_article(text)
    if not article.paragraphs:
        raise ParseError(ctx.origin, "no article text after the title")
    return ctx.item(
        outlet=_outlet(ctx, None),
        url=ctx.sidecar.url,
        title=article.title,
        text="\n\n".join(article.paragraphs),
        published=None,
        authors=article.authors,
    )


# ── html ─────────────────────────────────────────────────────────────────────────────────


def _read_html(data: bytes, ctx: _Ctx) -> tuple[RawItem, ...]:
    try:
        content: str | bytes = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        content = data  # trafilatura sniffs the page's own charset
    tree = trafilatura.load_html(content)  # parsed once: the extraction copies it
    if tree is None:
        raise ParseError(ctx.origin, "no article found in the page")
    doc = trafilatura.bare_extraction(
        tree,
        url=ctx.sidecar.url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        date_extraction_params=_DATE_PARAMS,
    )
    meta = doc if isinstance(doc, dict) else doc.as_dict() if doc is not None else {}
    title = clean_space(meta.get("title") or "").strip()
    body = [p for p in paragraphs(meta.get("text") or "") if p != title]
    if not title or not body:
        raise ParseError(ctx.origin, "no article found in the page")
    try:
        published = _parse_time(meta.get("date"))
    except ValueError:
        published = None
    published = _precise_time(tree, published) or published
    authors = tuple(a.strip() for a in (meta.get("author") or "").split(";") if a.strip())
    item = ctx.item(
        outlet=_outlet(ctx, None, outlet_name(meta.get("sitename"))),
        url=ctx.sidecar.url or _str(meta.get("url")),
        title=title,
        text="\n\n".join(body),
        published=published,
        authors=authors,
    )
    return (item,)


def _precise_time(tree: lxml.html.HtmlElement, day: datetime | None) -> datetime | None:
    """A full timestamp from the page's published-time tags, when the extracted date is
    missing or names the same day (htmldate prefers a date-only value taken from the URL)."""
    for value in _PUBLISHED_XPATH(tree):
        with contextlib.suppress(ValueError):
            when = _parse_time(str(value)) if "T" in str(value) else None
            if when and (day is None or when.date() == day.date()):
                return when
    return None


# ── json / jsonl ─────────────────────────────────────────────────────────────────────────


def _read_json(data: bytes, ctx: _Ctx) -> tuple[RawItem, ...]:
    text = _decode(data, ctx.path)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ParseError(f"{ctx.origin}:{e.lineno}", "invalid JSON") from e
    if not isinstance(value, list):
        return _collect([(ctx.origin, "", partial(_given, value))], ctx)
    entries = [(ctx.origin, f"entry {i}: ", partial(_given, obj)) for i, obj in enumerate(value, 1)]
    return _collect(entries, ctx)


def _read_jsonl(data: bytes, ctx: _Ctx) -> tuple[RawItem, ...]:
    lines = _decode(data, ctx.path).splitlines()
    entries = [
        (f"{ctx.origin}:{n}", "", partial(json.loads, line))
        for n, line in enumerate(lines, 1)
        if line.strip()
    ]
    return _collect(entries, ctx)


_Entry = tuple[str, str, Callable[[], object]]  # origin, label for messages, loader


def _given(value: object) -> object:
    return value


def _collect(entries: Sequence[_Entry], ctx: _Ctx) -> tuple[RawItem, ...]:
    """Items from the entries; a bad one is logged and skipped; none usable -> ParseError."""
    items: list[RawItem] = []
    errors: list[ParseError] = []
    for origin, label, load in entries:
        try:
            items.append(_json_item(load(), origin, ctx))
        except json.JSONDecodeError as e:
            errors.append(ParseError(origin, f"{label}invalid JSON"))
            errors[-1].__cause__ = e
        except _BadItem as e:
            errors.append(ParseError(origin, f"{label}{e}"))
        else:
            continue
        log.warning("skipping a bad entry: %s", errors[-1])
    if items:
        return tuple(items)
    if not errors:
        raise ParseError(ctx.origin, "no articles in the file")
    first = errors[0]
    first.message += " (no usable entry in the file)"
    raise first from first.__cause__


def _json_item(obj: object, origin: str, ctx: _Ctx) -> RawItem:
    if not isinstance(obj, dict):
        raise _BadItem("entry is not a JSON object")
    title, text = _str(obj.get("title")), _str(obj.get("text") or obj.get("body"))
    missing = [k for k, v in (("title", title), ("text", text)) if not v]
    if missing or title is None or text is None:
        raise _BadItem(f"missing {' and '.join(missing)}")
    try:
        published = _parse_time(obj.get("published") or obj.get("date"))
    except ValueError as e:
        raise _BadItem(f"invalid published time: {e}") from e
    authors = obj.get("authors") or ()
    authors = (authors,) if isinstance(authors, str) else authors
    return ctx.item(
        origin=origin,
        outlet=_outlet(ctx, _str(obj.get("outlet")) or _str(obj.get("source"))),
        url=_str(obj.get("url")),
        title=" ".join(title.split()),
        text="\n\n".join(paragraphs(text)),
        published=published,
        authors=tuple(str(a).strip() for a in authors if str(a).strip()),
    )


_READERS: dict[str, Callable[[bytes, _Ctx], tuple[RawItem, ...]]] = {
    ".txt": _read_text,
    ".md": _read_text,
    ".html": _read_html,
    ".htm": _read_html,
    ".json": _read_json,
    ".jsonl": _read_jsonl,
}
