"""The ingest edge: one ``SourceResult`` per input, a failure is a value, never an exception.

Only ``SourceError`` (and its subclasses) is caught here; anything else is a bug and propagates.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from digest.errors import SourceError
from digest.models import SourceOk, SourceResult, SourceSpec
from digest.sources.dumps import list_dump_files, read_dump

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestContext:
    now: datetime
    captured_at: datetime | None = None  # overrides the dump files' capture time


def display_path(path: Path) -> str:
    """A path relative to the working folder when it is below it (shorter messages)."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # pragma: no cover - other drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


def expand(specs: Sequence[SourceSpec]) -> tuple[SourceSpec, ...]:
    """Dump folders become one spec per file, so each file reports on its own line."""
    expanded: list[SourceSpec] = []
    for spec in specs:
        if not spec.enabled:
            continue
        path = Path(spec.location)
        if spec.kind == "dump" and path.is_dir():
            expanded.extend(
                SourceSpec(name=display_path(f), kind="dump", location=str(f), outlet=spec.outlet)
                for f in list_dump_files(path)
            )
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
            path, source=spec.name, outlet=spec.outlet, captured_at=ctx.captured_at, now=ctx.now
        )
    except SourceError as error:
        log.info("%s", error)
        return SourceResult(source=spec, value=error)
    return SourceResult(source=spec, value=SourceOk(items=tuple(items)))


def ingest_all(specs: Sequence[SourceSpec], ctx: IngestContext) -> tuple[SourceResult, ...]:
    """Ingest every enabled source; one result each, in order."""
    return tuple(ingest_one(spec, ctx) for spec in expand(specs))
