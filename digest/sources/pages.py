"""Fetched HTML pages → articles, with ``trafilatura.bare_extraction`` (with metadata).

trafilatura only parses bytes we fetched (its own fetching, and the insecure-TLS fallback that
comes with it, are never used). Comments are left out, and so are tables, unless the article
trafilatura finds in a page with a ``<table>`` is mostly table rows (a results table, a body
laid out in a table): then the rows are kept, one per paragraph. The site name is kept only
when it reads as an outlet's (:func:`digest.sources.outlets.outlet_name`). Used for
``[[sources]] kind = "page"`` and to complete feed entries that are only teasers.

Many pages at once (``extract_pool_min_pages`` or more) are extracted in a process pool of
``extract_workers`` processes, so a run uses both cores; fewer are extracted in-process (no
start-up cost). A page that cannot be extracted gives ``None``, never an exception: a page
source reports it as a ``ParseError``, a teaser keeps its feed text.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import re
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

import trafilatura

from digest.dates import to_utc
from digest.errors import ParseError
from digest.models import Fetched, RawItem, SourceSpec
from digest.sources.aggregator import paragraphs
from digest.sources.outlets import outlet_name

log = logging.getLogger(__name__)

MIN_WORDS = 25  # fewer words than this in the extracted text: no article found
_TABLE = re.compile(rb"<table\b", re.IGNORECASE)
_DATE_PARAMS = {
    "extensive_search": False,  # no guesses from "Copyright 2026"-style text
    "original_date": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class PageDoc:
    """A page to extract (picklable: it crosses into worker processes)."""

    url: str
    body: bytes
    charset: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Extracted:
    """What trafilatura found in a page."""

    title: str
    text: str  # paragraphs separated by a blank line
    published: datetime | None
    sitename: str | None
    authors: tuple[str, ...]


def page_doc(fetched: Fetched) -> PageDoc:
    return PageDoc(url=fetched.url, body=fetched.body, charset=_charset(fetched))


def _charset(fetched: Fetched) -> str | None:
    message = Message()
    message["content-type"] = fetched.header("content-type") or ""
    charset = message.get_content_charset()
    return str(charset) if charset else None


def extract(doc: PageDoc) -> Extracted | None:
    """The article in one page, or None when there is none (or trafilatura fails on it)."""
    try:
        return _extract(doc)
    except Exception:  # library edge: a crash on one odd page costs that page only
        log.debug("extraction failed: %s", doc.url, exc_info=True)
        return None


def _extract(doc: PageDoc) -> Extracted | None:
    content: str | bytes = doc.body
    if doc.charset:
        with contextlib.suppress(LookupError, UnicodeDecodeError):
            content = doc.body.decode(doc.charset)
    meta, title, body = _article(content, doc.url, tables=False)
    if _TABLE.search(content if isinstance(content, bytes) else content.encode()):
        in_table = _article(content, doc.url, tables=True)
        if _row_share(in_table[2]) >= 0.5:  # the body is in a table: keep its rows
            meta, title, body = in_table[0], in_table[1], _tidy_rows(in_table[2], in_table[1])
    if not enough_text(body):
        return None  # a sign-in form, a cookie wall, an index page: not an article
    authors = tuple(a.strip() for a in (meta.get("author") or "").split(";") if a.strip())
    return Extracted(
        title=title,
        text="\n\n".join(body),
        published=_date(meta.get("date")),
        sitename=outlet_name(meta.get("sitename")),
        authors=authors,
    )


def enough_text(body: Sequence[str]) -> bool:
    """At least ``MIN_WORDS`` words in the paragraphs: an article, not a menu or a form."""
    return sum(len(p.split()) for p in body) >= MIN_WORDS


def _article(
    content: str | bytes, url: str, *, tables: bool
) -> tuple[dict[str, Any], str, list[str]]:
    """trafilatura's metadata, the title and the body paragraphs (the title left out)."""
    found = trafilatura.bare_extraction(
        content,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=tables,
        date_extraction_params=_DATE_PARAMS,
    )
    meta = found if isinstance(found, dict) else found.as_dict() if found is not None else {}
    title = " ".join((meta.get("title") or "").split())
    return meta, title, [p for p in paragraphs(meta.get("text") or "") if p != title]


def _row_share(body: Sequence[str]) -> float:
    """The share of the words that are in table rows (``| a | b |``)."""
    total = sum(len(p.split()) for p in body)
    rows = sum(len(p.split()) for p in body if p.startswith("|"))
    return rows / total if total else 0.0


def _tidy_rows(body: Sequence[str], title: str) -> list[str]:
    """Table rows without their outer bars (and the title a layout cell starts with), rule
    rows (``|---|``) dropped."""
    rows = (" ".join(p.strip().strip("|").split()) if p.startswith("|") else p for p in body)
    return [p.removeprefix(title + " ") for p in rows if p.strip("|-: ")]


def _date(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return to_utc(datetime.fromisoformat(value))
    except ValueError:
        return None


def extract_many(
    docs: Sequence[PageDoc], *, workers: int, pool_min: int
) -> tuple[Extracted | None, ...]:
    """Extract every page, in order; a process pool for ``pool_min`` pages or more."""
    if len(docs) < max(pool_min, 2) or workers < 2:
        return tuple(extract(d) for d in docs)
    context = multiprocessing.get_context("spawn")  # no fork of a process with live threads
    chunk = max(1, len(docs) // (workers * 8))
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            return tuple(pool.map(extract, docs, chunksize=chunk))
    except BrokenProcessPool:
        log.warning("extraction workers stopped; extracting %d pages in-process", len(docs))
        return tuple(extract(d) for d in docs)


def page_item(
    spec: SourceSpec, fetched: Fetched, found: Extracted | None, *, now: datetime, subject: str
) -> RawItem:
    """A ``kind = "page"`` source's article; ``ParseError`` when the page has none."""
    if found is None or not found.title:
        raise ParseError(subject, "no article found in the page")
    host = (urlsplit(fetched.url).hostname or fetched.url).removeprefix("www.")
    return RawItem(
        source=spec.name,
        outlet=spec.outlet or found.sitename or host,
        origin=fetched.url,
        url=fetched.url,
        title=found.title,
        text=found.text,
        published=found.published,
        fetched_at=now,
        authors=found.authors,
    )
