"""Settings for live sources: the ``[fetch]`` section and the ``[[sources]]`` tables.

Part of the one settings schema in :mod:`digest.config`; kept here with their checks.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from digest.config_checks import one_line
from digest.config_checks import setting as _help
from digest.models import SourceSpec


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchSettings:
    user_agent: str = _help(
        "User-Agent sent with every request; empty = 'digest/<version> (...)'",
        "",
        check=one_line,
    )
    connect_timeout_seconds: float = _help(
        "give up connecting to a server after this long", 10.0, min=0.01, max=3600.0
    )
    read_timeout_seconds: float = _help(
        "give up when a server sends nothing for this long", 20.0, min=0.01, max=3600.0
    )
    total_timeout_seconds: float = _help(
        "give up on one response after this long in all", 60.0, min=0.01, max=86400.0
    )
    max_bytes: int = _help(
        "largest response body read; a larger one is an error",
        10_000_000,
        min=1024,
        max=1_000_000_000,
    )
    max_redirects: int = _help("most redirects followed for one request", 5, min=0, max=30)
    concurrency: int = _help("requests in flight at once, over all hosts", 8, min=1, max=256)
    per_host_concurrency: int = _help("requests in flight at once to one host", 2, min=1, max=64)
    allow_private_addresses: bool = _help(
        "allow private, loopback and link-local addresses (off: feeds cannot reach internal"
        " services)",
        False,
    )
    parse_timeout_seconds: float = _help(
        "give up parsing one feed after this long", 20.0, min=0.01, max=3600.0
    )
    extract_teasers: bool = _help(
        "fetch the linked page of a feed entry that is only a teaser and extract the article",
        True,
    )
    teaser_words: int = _help(
        "feed text shorter than this many words counts as a teaser", 80, min=0, max=10000
    )
    max_pages_per_source: int = _help(
        "most linked pages fetched per feed per run to complete teasers", 30, min=0, max=10000
    )
    extract_workers: int = _help("processes used to extract many pages at once", 2, min=1, max=64)
    extract_pool_min_pages: int = _help(
        "use extract_workers processes from this many pages per run (fewer: one)",
        64,
        min=1,
        max=1_000_000,
    )
    extract_max_bytes: int = _help(
        "largest page (HTML) handed to the article extractor; a larger one is skipped",
        3_000_000,
        min=1024,
        max=1_000_000_000,
    )
    extract_timeout_seconds: float = _help(
        "give up extracting one page after this long (its worker process is stopped)",
        10.0,
        min=0.01,
        max=3600.0,
    )
    backoff_base_seconds: float = _help(
        "wait after a source's first failure; doubles with each failure in a row",
        1800.0,
        min=0.0,
        max=31_536_000.0,
    )
    backoff_max_seconds: float = _help(
        "longest wait between attempts at a failing source (also caps Retry-After)",
        86400.0,
        min=0.0,
        max=31_536_000.0,
    )
    min_check_minutes: float = _help(
        "a worker round fetches a feed at most this often, however often it publishes",
        15.0,
        min=0.0,
        max=10080.0,
    )
    max_check_minutes: float = _help(
        "a worker round fetches a feed at least this often, however rarely it publishes",
        1440.0,
        min=1.0,
        max=43200.0,
    )
    quiet_after_days: float = _help(
        "a feed with nothing new for this long is listed in the briefing's Sources section",
        7.0,
        min=0.0,
        max=3650.0,
    )


_SOURCE_KEYS = frozenset({"name", "kind", "location", "url", "urls", "outlet", "enabled"})
_SOURCE_KINDS = ("feed", "page", "dump")


def parse_sources(raw: Any, where: str, base: Path, problems: list[str]) -> tuple[SourceSpec, ...]:
    if not isinstance(raw, list):
        problems.append(f"{where}: [[sources]]: expected an array of tables")
        return ()
    specs: list[SourceSpec] = []
    for i, entry in enumerate(raw):
        specs.extend(_parse_source(entry, f"{where}: [[sources]] #{i + 1}", base, problems))
    names = [s.name for s in specs]
    problems.extend(
        f"{where}: [[sources]]: duplicate name {n!r}"
        for n in sorted(set(names))
        if names.count(n) > 1
    )
    return tuple(specs)


def _parse_source(entry: Any, at: str, base: Path, problems: list[str]) -> list[SourceSpec]:
    """One [[sources]] table: a dump path, or one spec per feed/page URL."""
    if not isinstance(entry, dict):
        problems.append(f"{at}: expected a table")
        return []
    unknown = set(entry) - _SOURCE_KEYS
    if unknown:
        problems.append(f"{at}: unknown key(s) {', '.join(sorted(unknown))}")
    kind, outlet, enabled = entry.get("kind", "dump"), entry.get("outlet"), entry.get("enabled")
    if kind not in _SOURCE_KINDS:
        supported = ", ".join(repr(k) for k in _SOURCE_KINDS)
        problems.append(f"{at}.kind: unsupported source kind {kind!r} (supported: {supported})")
        return []
    if outlet is not None and not isinstance(outlet, str):
        problems.append(f"{at}.outlet: expected a string, got {outlet!r}")
        return []
    if enabled is not None and not isinstance(enabled, bool):
        problems.append(f"{at}.enabled: expected true or false, got {enabled!r}")
        return []
    common = SourceSpec(name="", kind=kind, location="", outlet=outlet or None)
    common = dataclasses.replace(common, enabled=enabled is not False)
    if kind == "dump":
        return _dump_source(entry, at, base, problems, common)
    urls = _source_urls(entry, at, problems)
    name = entry.get("name")
    if len(urls) == 1:
        return [dataclasses.replace(common, name=str(name or urls[0]), location=urls[0])]
    return [
        dataclasses.replace(common, name=f"{name}[{n}]" if name else url, location=url)
        for n, url in enumerate(urls, 1)
    ]


def _dump_source(
    entry: dict[str, Any], at: str, base: Path, problems: list[str], common: SourceSpec
) -> list[SourceSpec]:
    location = entry.get("location")
    if not isinstance(location, str) or not location:
        problems.append(f"{at}.location: required (a file or folder path)")
        return []
    path = Path(location) if Path(location).is_absolute() else (base / location).resolve()
    name = str(entry.get("name") or location)
    return [dataclasses.replace(common, name=name, location=str(path))]


def _split_url(url: object) -> SplitResult | None:
    try:
        return urlsplit(url) if isinstance(url, str) else None
    except ValueError:
        return None


def _source_urls(entry: dict[str, Any], at: str, problems: list[str]) -> list[str]:
    """The http(s) URLs of a feed/page source: ``url``, ``urls`` or ``location``."""
    given = [k for k in ("url", "urls", "location") if k in entry]
    if len(given) != 1:
        problems.append(f"{at}: give exactly one of url, urls, location")
        return []
    key, value = given[0], entry[given[0]]
    values = value if isinstance(value, list) else [value]
    urls = []
    for url in values:
        parts = _split_url(url)
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(f"{at}.{key}: expected an http(s) URL, got {url!r}")
            continue
        urls.append(url)
    if not values:
        problems.append(f"{at}.{key}: expected at least one URL")
    return urls
