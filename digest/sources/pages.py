"""Fetched HTML pages → articles, with ``trafilatura.bare_extraction`` (with metadata).

trafilatura only parses bytes we fetched (its own fetching, and the insecure-TLS fallback that
comes with it, are never used). Comments are left out, and so are tables, unless the article
trafilatura finds in a page with a ``<table>`` is mostly table rows (a results table, a body
laid out in a table): then the rows are kept, one per paragraph. The site name is kept only
when it reads as an outlet's (:func:`digest.sources.outlets.outlet_name`). Used for
``[[sources]] kind = "page"`` and to complete feed entries that are only teasers.

Every page is extracted in a worker process, under two limits: a page larger than
``extract_max_bytes`` is not handed to trafilatura, and a page that takes longer than
``extract_timeout_seconds`` has its worker stopped (killed: its memory and CPU come back at
once, which neither a thread nor a signal can promise: a thread cannot be stopped, and a
signal handler runs only in the main thread, between Python bytecodes, never inside lxml's C
code). Workers come from a fork server that has imported trafilatura once, so a run pays
that import once and each worker starts in milliseconds. Many pages at once
(``extract_pool_min_pages`` or more) get ``extract_workers`` processes, so a run uses both
cores; fewer get one. A page that cannot be extracted gives ``None`` (no article) or
``Unextracted`` (skipped, and why), never an exception: a page source reports it as a
``ParseError``, a teaser keeps its feed text.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

import pebble
import trafilatura
from lxml.html import HtmlElement

from digest.dates import to_utc
from digest.errors import ParseError
from digest.models import Fetched, RawItem, SourceSpec
from digest.processes import worker_context
from digest.sources.aggregator import paragraphs
from digest.sources.outlets import outlet_name

log = logging.getLogger(__name__)

MIN_WORDS = 25  # fewer words than this in the extracted text: no article found
# Words in tables, as a share of the text read without them, from which a page is read
# again with its tables (the rows must be half of that reading: rows >= the other text; a
# wide margin, so a second reading that could keep the rows is never skipped).
TABLE_SHARE = 0.5
# Words in tables, as a share of the whole page's, from which it is read with its tables
# first (a body laid out in a table, beside menus and teasers; it is read once).
LAYOUT_SHARE = 0.3
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Unextracted:
    """A page that was skipped before an article could be found in it."""

    reason: str  # "page too large to extract (...)", "extraction took longer than N s"


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
    tree = trafilatura.load_html(content)  # parsed once: each extraction works on a copy
    if tree is None:
        return None
    meta, title, body = _read(tree, doc.url)
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


def _read(tree: HtmlElement, url: str) -> tuple[dict[str, Any], str, list[str]]:
    """The article without the page's tables, unless it is mostly table rows read with
    them (then the rows, tidied). A page is read twice only when its tables could hold
    half of the article: a page laid out in tables is read with them first, a page with
    a short table (a results box, a menu cell) beside a long text without them only."""
    in_tables = sum(len(t.text_content().split()) for t in tree.iter("table"))
    if not in_tables:
        return _article(tree, url, tables=False)
    tables_first = in_tables >= LAYOUT_SHARE * len(tree.text_content().split())
    if not tables_first:
        plain = _article(tree, url, tables=False)
        if in_tables < TABLE_SHARE * _words(plain[2]):
            return plain  # the rows could never outweigh the rest
    meta, title, body = _article(tree, url, tables=True)
    if _row_share(body) >= 0.5:  # the body is in a table: keep its rows
        return meta, title, _tidy_rows(body, title)
    return _article(tree, url, tables=False) if tables_first else plain


def _words(body: Sequence[str]) -> int:
    return sum(len(p.split()) for p in body)


def enough_text(body: Sequence[str]) -> bool:
    """At least ``MIN_WORDS`` words in the paragraphs: an article, not a menu or a form."""
    return sum(len(p.split()) for p in body) >= MIN_WORDS


def _article(
    content: HtmlElement, url: str, *, tables: bool
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
    docs: Sequence[PageDoc],
    *,
    workers: int,
    pool_min: int,
    timeout_seconds: float,
    max_bytes: int,
) -> tuple[Extracted | Unextracted | None, ...]:
    """Extract every page, in order, in worker processes (``workers`` of them for
    ``pool_min`` pages or more, else one): none larger than ``max_bytes``, each stopped after
    ``timeout_seconds``."""
    found: list[Extracted | Unextracted | None] = [
        _too_large(d, max_bytes) if len(d.body) > max_bytes else None for d in docs
    ]
    todo = [n for n, d in enumerate(docs) if len(d.body) <= max_bytes]
    if not todo:
        return tuple(found)
    count = min(workers if len(todo) >= pool_min else 1, len(todo))
    with pebble.ProcessPool(max_workers=count, context=worker_context(__name__)) as pool:
        futures = [(n, pool.schedule(extract, (docs[n],), timeout=timeout_seconds)) for n in todo]
        for n, future in futures:
            found[n] = _outcome(future, timeout_seconds)
    return tuple(found)


def _too_large(doc: PageDoc, max_bytes: int) -> Unextracted:
    return Unextracted(
        reason=f"page too large to extract ({len(doc.body)} bytes, limit {max_bytes})"
    )


def _outcome(
    future: Future[Extracted | None], timeout_seconds: float
) -> Extracted | Unextracted | None:
    """The page's article; ``Unextracted`` when its worker was stopped at the deadline or
    died (the out-of-memory killer, a crash in C code)."""
    try:
        return future.result()
    except TimeoutError:
        return Unextracted(reason=f"extraction took longer than {timeout_seconds:g} s")
    except (pebble.ProcessExpired, BrokenProcessPool) as e:
        return Unextracted(reason=f"the extraction worker stopped ({' '.join(str(e).split())})")


def page_item(
    spec: SourceSpec,
    fetched: Fetched,
    found: Extracted | Unextracted | None,
    *,
    now: datetime,
    subject: str,
) -> RawItem:
    """A ``kind = "page"`` source's article; ``ParseError`` when the page has none."""
    if isinstance(found, Unextracted):
        raise ParseError(subject, found.reason)
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
