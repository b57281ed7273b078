"""The ingest edge: one ``SourceResult`` per input, a failure is a value, never an exception.

Only ``SourceError`` (and its subclasses) is caught here; anything else is a bug and propagates.
Every item's publication date passes the one plausibility rule (``digest.dates``) here; dump
files are named by ``printable`` names (a newline or an escape sequence in a file name is
shown escaped in every line that names the input).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from digest.config_sources import FetchSettings
from digest.dates import checked_items
from digest.errors import SourceError
from digest.fsutil import display_path
from digest.health import LIVE_KINDS
from digest.models import SourceOk, SourceResult, SourceSpec, SourceState
from digest.sources.dumps import list_dump_files, read_dump
from digest.sources.live import ingest_live
from digest.text import printable

log = logging.getLogger(__name__)

NOT_DUMPS = ("readme", "license")  # file name prefixes (any case) of a folder's documentation


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestContext:
    now: datetime
    captured_at: datetime | None = None  # overrides the dump files' capture time
    fetch: FetchSettings = field(default_factory=FetchSettings)  # live sources (feeds, pages)
    states: Mapping[str, SourceState] = field(default_factory=dict)  # stored health by name
    # which of the given dedupe keys are already stored (teasers of known items are not fetched)
    seen: Callable[[Sequence[str]], frozenset[str]] | None = None
    max_file_bytes: int | None = None  # dump files larger than this are skipped (one line)


def not_a_dump(path: Path) -> bool:
    """A folder's README*, LICENSE* (any case) are documentation, never article dumps."""
    return path.name.lower().startswith(NOT_DUMPS)


def skipped_files(specs: Sequence[SourceSpec]) -> tuple[str, ...]:
    """What dump folders hold and a run does not read: README*, LICENSE* and hidden files."""
    skipped: list[str] = []
    for spec in specs:
        root = Path(spec.location)
        if spec.enabled and spec.kind == "dump" and root.is_dir():
            files = [p for p in root.rglob("*") if p.is_file()]
            skipped += [printable(display_path(p)) for p in sorted(files) if not_a_dump(p)]
            hidden = sum(any(x.startswith(".") for x in p.relative_to(root).parts) for p in files)
            skipped += (
                [f"{hidden} hidden file{'s' if hidden > 1 else ''} in {printable(str(root))}"]
                if hidden
                else []
            )
    return tuple(skipped)


def expand(specs: Sequence[SourceSpec]) -> tuple[SourceSpec, ...]:
    """Dump folders become one spec per file, so each file reports on its own line."""
    expanded: list[SourceSpec] = []
    for spec in specs:
        if not spec.enabled:
            continue
        path = Path(spec.location)
        if spec.kind == "dump" and path.is_dir():
            expanded.extend(
                SourceSpec(
                    name=printable(display_path(f)),
                    kind="dump",
                    location=str(f),
                    outlet=spec.outlet,
                )
                for f in list_dump_files(path)
                if not not_a_dump(f)
            )
        elif spec.kind == "dump":
            expanded.append(replace(spec, name=printable(spec.name)))
        else:
            expanded.append(spec)
    unique = {s.location: s for s in expanded}
    return tuple(unique.values())


def ingest_one(spec: SourceSpec, ctx: IngestContext) -> SourceResult:
    try:
        if spec.kind != "dump":
            raise SourceError(spec.name, f"unsupported source kind {spec.kind!r}")
        path = Path(spec.location)
        if not path.exists():
            raise SourceError(spec.name, "no such file or folder")
        items = read_dump(
            path,
            source=spec.name,
            outlet=spec.outlet,
            captured_at=ctx.captured_at,
            now=ctx.now,
            max_bytes=ctx.max_file_bytes,
        )
    except SourceError as error:
        log.info("%s", error)
        return SourceResult(source=spec, value=error)
    return SourceResult(source=spec, value=SourceOk(items=tuple(items)))


def ingest_all(
    specs: Sequence[SourceSpec],
    ctx: IngestContext,
    progress: Callable[[int], None] = lambda _n: None,
) -> tuple[SourceResult, ...]:
    """Ingest every enabled source; one result each, in order. Feeds and pages are fetched
    together (see ``digest.sources.live``); dumps are read one by one. ``progress(n)`` is
    called as inputs are done."""
    expanded = expand(specs)
    live = [s for s in expanded if s.kind in LIVE_KINDS]
    fetched = (
        ingest_live(live, now=ctx.now, settings=ctx.fetch, states=ctx.states, seen=ctx.seen)
        if live
        else {}
    )
    progress(len(fetched))
    results = []
    for spec in expanded:
        result = fetched.get(spec.name) or ingest_one(spec, ctx)
        results.append(_dates_checked(result, ctx.now))
        progress(0 if spec.name in fetched else 1)
    return tuple(results)


def _dates_checked(result: SourceResult, now: datetime) -> SourceResult:
    """The result with every implausible publication date dropped (one warning each)."""
    if not isinstance(result.value, SourceOk):
        return result
    return replace(result, value=SourceOk(items=checked_items(result.value.items, now=now)))
