"""One ``SourceStatus`` per input from this run's results (pure), and their log lines."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence

from digest.models import DedupeResult, SourceOk, SourceResult, SourceStatus

log = logging.getLogger("digest.pipeline")


def log_results(results: Sequence[SourceResult]) -> None:
    for r in results:
        if isinstance(r.value, SourceOk):
            log.debug("%s: %d items", r.source.name, len(r.value.items))
        elif isinstance(r.value, Exception) and r.source.kind != "dump":  # dumps: sources/
            log.info("%s could not be read: %s", r.source.name, r.value)
        else:
            log.debug("%s: not modified", r.source.name)


def source_statuses(
    results: Sequence[SourceResult], deduped: DedupeResult
) -> tuple[SourceStatus, ...]:
    new = Counter(a.source for a in deduped.new)
    new.update(d.article.source for d in deduped.duplicates if d.reason == "near")
    seen = Counter(d.article.source for d in deduped.duplicates if d.reason == "exact")
    statuses = []
    for r in results:
        name, kind = r.source.name, r.source.kind
        if isinstance(r.value, Exception):
            statuses.append(SourceStatus(name=name, kind=kind, status="error", error=str(r.value)))
        elif not isinstance(r.value, SourceOk):
            statuses.append(SourceStatus(name=name, kind=kind, status="not modified"))
        else:
            statuses.append(
                SourceStatus(
                    name=name,
                    kind=kind,
                    status="new" if new[name] else "seen",
                    new=new[name],
                    seen=seen[name],
                )
            )
    return tuple(statuses)
