"""Live sources (feeds and pages over HTTP): one client, many sources, one result each.

1. decide    from each source's stored state: fetch it, or skip it (disabled / backing off)
2. fetch     every source document at once (thread pool, per-host limit, progress on a TTY)
3. parse     feeds → RawItems under a time limit; a 304 is "not modified"
4. teasers   entries whose feed text is only a teaser and that were not seen before: fetch the
             linked page (at most ``max_pages_per_source`` per feed)
5. extract   page sources and teaser pages with trafilatura, in worker processes, each page
             within ``extract_max_bytes`` and ``extract_timeout_seconds``
6. results   one ``SourceResult`` per source; a failure is a value, the run goes on
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

import click
import httpx

from digest.config_sources import FetchSettings
from digest.dedupe import exact_keys
from digest.errors import GoneError, SourceError, SourceSkipped
from digest.health import current, skip_reason
from digest.models import (
    Fetched,
    FetchInfo,
    NotModified,
    RawItem,
    SourceOk,
    SourceResult,
    SourceSpec,
    SourceState,
    Validators,
)
from digest.normalize import normalize
from digest.sources.feeds import is_teaser, parse_feed
from digest.sources.http import HostLimiter, fetch, make_client
from digest.sources.pages import (
    Extracted,
    PageDoc,
    Unextracted,
    extract_many,
    page_doc,
    page_item,
)

log = logging.getLogger(__name__)

PROGRESS_MIN = 10  # a progress bar only for this many requests or more (and on a terminal)
SeenFilter = Callable[[Sequence[str]], frozenset[str]]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Job:
    """One source to fetch this run."""

    spec: SourceSpec
    url: str
    validators: Validators | None
    subject: str


@dataclass(frozen=True, slots=True, kw_only=True)
class _Request:
    url: str
    validators: Validators | None
    subject: str


def subject_of(spec: SourceSpec, url: str | None = None) -> str:
    """How messages name a source: ``feed 'name' (url)``."""
    return f"{spec.kind} {spec.name!r} ({url or spec.location})"


def ingest_live(
    specs: Sequence[SourceSpec],
    *,
    now: datetime,
    settings: FetchSettings,
    states: Mapping[str, SourceState],
    seen: SeenFilter | None = None,
) -> dict[str, SourceResult]:
    """Fetch, parse and extract every live source; one result per source name."""
    results: dict[str, SourceResult] = {}
    jobs: list[_Job] = []
    for spec in specs:
        state = current(spec, states.get(spec.name))
        url = state.url if state else spec.location
        reason = skip_reason(state, now)
        if reason:
            skipped = SourceSkipped(subject_of(spec, url), reason)
            results[spec.name] = SourceResult(source=spec, value=skipped)
            log.info("%s", skipped)
            continue
        validators = state.validators if state else None
        jobs.append(_Job(spec=spec, url=url, validators=validators, subject=subject_of(spec, url)))
    if jobs:
        with make_client(settings) as client:
            results.update(_run(jobs, client, now=now, settings=settings, seen=seen))
    return results


def _run(
    jobs: Sequence[_Job],
    client: httpx.Client,
    *,
    now: datetime,
    settings: FetchSettings,
    seen: SeenFilter | None,
) -> dict[str, SourceResult]:
    limiter = HostLimiter(settings.per_host_concurrency)
    requests = [_Request(url=j.url, validators=j.validators, subject=j.subject) for j in jobs]
    documents = fetch_all(client, limiter, requests, settings, label="fetching sources")
    feeds = {
        j.spec.name: _parse(j, d, now, settings)
        for j, d in zip(jobs, documents, strict=True)
        if j.spec.kind == "feed" and isinstance(d, Fetched) and not d.not_modified
    }
    teasers = _teaser_requests(jobs, feeds, settings, seen)
    teaser_pages = fetch_all(client, limiter, [r for _, _, r in teasers], settings, "teasers")
    pages = [
        (j.spec.name, d)
        for j, d in zip(jobs, documents, strict=True)
        if j.spec.kind == "page" and isinstance(d, Fetched) and not d.not_modified
    ]
    found = _extract(
        [d for _, d in pages] + [p for p in teaser_pages if isinstance(p, Fetched)], settings
    )
    extracted = dict(zip([name for name, _ in pages], found[: len(pages)], strict=True))
    completed = _complete(feeds, teasers, teaser_pages, found[len(pages) :])
    return {
        j.spec.name: _result(j, d, completed.get(j.spec.name), extracted.get(j.spec.name), now)
        for j, d in zip(jobs, documents, strict=True)
    }


# ── 2. fetch ─────────────────────────────────────────────────────────────────────────────


def fetch_all(
    client: httpx.Client,
    limiter: HostLimiter,
    requests: Sequence[_Request],
    settings: FetchSettings,
    label: str,
) -> list[Fetched | SourceError]:
    """Fetch every request at once (``concurrency`` threads, ``per_host_concurrency`` each)."""

    def one(request: _Request) -> Fetched | SourceError:
        with limiter.slot(request.url):
            try:
                return fetch(
                    client,
                    request.url,
                    request.validators,
                    settings=settings,
                    subject=request.subject,
                )
            except SourceError as error:
                return error

    if not requests:
        return []
    with (
        ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="fetch") as pool,
        _progress(len(requests), label) as advance,
    ):
        futures = [pool.submit(one, r) for r in requests]
        for _ in as_completed(futures):
            advance(1)
        return [f.result() for f in futures]


@contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when it is a terminal and there is much to do; else nothing."""
    if total < PROGRESS_MIN or not sys.stderr.isatty():
        yield lambda _n: None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


# ── 3. parse, 4. teasers, 5. extract ─────────────────────────────────────────────────────


def _parse(
    job: _Job, fetched: Fetched, now: datetime, settings: FetchSettings
) -> tuple[RawItem, ...] | SourceError:
    try:
        return parse_feed(
            job.spec,
            fetched,
            now=now,
            subject=job.subject,
            time_limit=settings.parse_timeout_seconds,
        )
    except SourceError as error:
        return error


_Teaser = tuple[str, int, _Request]  # source name, item index, page request


def _teaser_requests(
    jobs: Sequence[_Job],
    feeds: Mapping[str, tuple[RawItem, ...] | SourceError],
    settings: FetchSettings,
    seen: SeenFilter | None,
) -> list[_Teaser]:
    """Linked pages to fetch for entries that are only teasers (and new)."""
    if not settings.extract_teasers or settings.max_pages_per_source == 0:
        return []
    teasers: list[_Teaser] = []
    for job in jobs:
        items = feeds.get(job.spec.name)
        if not isinstance(items, tuple):
            continue
        wanted = [
            (n, item)
            for n, item in enumerate(items)
            if item.url and is_teaser(item.text, settings.teaser_words)
        ]
        for n, item in _unseen(wanted, seen)[: settings.max_pages_per_source]:
            request = _Request(url=str(item.url), validators=None, subject=f"page {item.url}")
            teasers.append((job.spec.name, n, request))
    return teasers


def _unseen(
    wanted: list[tuple[int, RawItem]], seen: SeenFilter | None
) -> list[tuple[int, RawItem]]:
    """Entries none of whose dedupe keys are stored (no point completing a known item)."""
    if seen is None or not wanted:
        return wanted
    keys = {n: exact_keys(normalize(item)) for n, item in wanted}
    known = seen([k for ks in keys.values() for k in ks])
    return [(n, item) for n, item in wanted if not known.intersection(keys[n])]


def _extract(
    fetched: Sequence[Fetched], settings: FetchSettings
) -> tuple[Extracted | Unextracted | None, ...]:
    docs: list[PageDoc] = [page_doc(f) for f in fetched]
    return extract_many(
        docs,
        workers=settings.extract_workers,
        pool_min=settings.extract_pool_min_pages,
        timeout_seconds=settings.extract_timeout_seconds,
        max_bytes=settings.extract_max_bytes,
    )


def _complete(
    feeds: Mapping[str, tuple[RawItem, ...] | SourceError],
    teasers: Sequence[_Teaser],
    pages: Sequence[Fetched | SourceError],
    found: Sequence[Extracted | Unextracted | None],
) -> dict[str, tuple[RawItem, ...] | SourceError]:
    """Feed items with teaser text replaced by the extracted article, where that worked."""
    done: dict[str, list[RawItem] | SourceError] = {
        name: list(items) if isinstance(items, tuple) else items for name, items in feeds.items()
    }
    results = iter(found)
    for (name, n, request), page in zip(teasers, pages, strict=True):
        article = next(results) if isinstance(page, Fetched) else None
        reason = _why(page, request)
        if isinstance(article, Unextracted):  # too large or too slow: say so, once
            reason = f"{article.reason}: {request.subject}"
            log.warning("%s", reason)
            article = None
        items = done[name]
        if isinstance(items, list):
            items[n] = with_article(items[n], article, reason=reason)
    return {k: tuple(v) if isinstance(v, list) else v for k, v in done.items()}


def _why(page: Fetched | SourceError, request: _Request) -> str:
    return str(page) if isinstance(page, SourceError) else f"no article found: {request.subject}"


def with_article(item: RawItem, article: Extracted | None, *, reason: str = "") -> RawItem:
    """The feed item completed by its page's article; unchanged when extraction failed."""
    if article is None or len(article.text.split()) <= len(item.text.split()):
        log.info("keeping the feed text of %s (%s)", item.origin, reason or "page text shorter")
        return item
    return replace(
        item,
        text=article.text,
        published=item.published or article.published,
        authors=item.authors or article.authors,
    )


# ── 6. results ───────────────────────────────────────────────────────────────────────────


def _result(
    job: _Job,
    document: Fetched | SourceError,
    items: tuple[RawItem, ...] | SourceError | None,
    article: Extracted | Unextracted | None,
    now: datetime,
) -> SourceResult:
    spec = job.spec
    if isinstance(document, SourceError):
        log.log(
            logging.WARNING if isinstance(document, GoneError) else logging.INFO, "%s", document
        )
        return SourceResult(source=spec, value=document)
    if document.moved_to:
        log.info(
            "%s moved permanently to %s; the store keeps the new URL",
            job.subject,
            document.moved_to,
        )
    info = FetchInfo(url=document.moved_to or job.url, validators=document.validators)
    if document.not_modified:
        return SourceResult(source=spec, value=NotModified(), fetch=info)
    if spec.kind == "page":
        try:
            items = (page_item(spec, document, article, now=now, subject=job.subject),)
        except SourceError as page_error:
            items = page_error
    if items is None:
        items = SourceError(job.subject, "nothing parsed")  # pragma: no cover - a bug guard
    if isinstance(items, SourceError):
        return SourceResult(source=spec, value=items)
    return SourceResult(source=spec, value=SourceOk(items=items), fetch=info)
