"""Health of live sources (feeds and pages), decided from stored state: pure functions only.

Like reader's ``Decider``: these functions read a ``SourceState`` (what the store kept from
earlier runs) and this run's facts, and return what to do or what to store next. The store
applies the result; nothing here does I/O or reads the clock.

* ``skip_reason``   fetch this run, or skip it (disabled after 410 Gone, or backing off)
* ``next_state``    the state to store after this run's result
* ``plan_health``   both of the above for a whole run, plus the statuses annotated with health
* ``schedule``      when a worker round next fetches it (adaptive interval), and ``due``
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from digest.errors import GoneError, RetryLaterError, SourceError, SourceSkipped
from digest.models import NotModified, SourceResult, SourceSpec, SourceState, SourceStatus

LIVE_KINDS = frozenset({"feed", "page"})
_MAX_DOUBLINGS = 40


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthParams:
    backoff_base_seconds: float = 1800.0
    backoff_max_seconds: float = 86400.0
    quiet_after_days: float = 7.0
    min_check_seconds: float = 900.0
    max_check_seconds: float = 86400.0


def current(spec: SourceSpec, state: SourceState | None) -> SourceState | None:
    """The stored state while it belongs to the configured URL (a changed URL starts afresh)."""
    if state is None or state.configured_url != spec.location or state.kind != spec.kind:
        return None
    return state


def fresh_state(spec: SourceSpec, now: datetime) -> SourceState:
    return SourceState(
        name=spec.name,
        kind=spec.kind,
        configured_url=spec.location,
        url=spec.location,
        first_seen=now,
    )


def when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def skip_reason(state: SourceState | None, now: datetime) -> str | None:
    """Why this source is not fetched this run, or None to fetch it."""
    if state is None:
        return None
    if state.disabled:
        return (
            f"disabled since {when(state.last_attempt)} after: {state.last_error}"
            f" (to retry: digest sources --reset {state.name!r})"
        )
    if state.backoff_until is not None and now < state.backoff_until:
        runs = "run" if state.failures == 1 else "runs"
        return f"backing off until {when(state.backoff_until)} after {state.failures} failed {runs}"
    return None


def backoff_seconds(failures: int, params: HealthParams, retry_after: float | None) -> float:
    """How long to wait after ``failures`` failed runs in a row (Retry-After wins, capped)."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), params.backoff_max_seconds)
    doublings = min(max(failures - 1, 0), _MAX_DOUBLINGS)
    wait: float = params.backoff_base_seconds * float(2**doublings)
    return min(wait, params.backoff_max_seconds)


def next_state(
    spec: SourceSpec,
    state: SourceState | None,
    result: SourceResult,
    status: SourceStatus,
    *,
    now: datetime,
    params: HealthParams,
) -> SourceState:
    """The state to store for ``spec`` after this run; a skipped source keeps its state."""
    base = current(spec, state) or fresh_state(spec, now)
    value = result.value
    if isinstance(value, SourceSkipped):
        return base
    if isinstance(value, SourceError):
        return _failed(base, value, now=now, params=params)
    fetch = result.fetch
    merged = base
    if fetch is not None:
        keep = isinstance(value, NotModified)  # a 304 need not repeat the validators
        merged = replace(
            base,
            url=fetch.url,
            etag=fetch.validators.etag or (base.etag if keep else None),
            last_modified=fetch.validators.last_modified or (base.last_modified if keep else None),
        )
    return replace(
        merged,
        last_attempt=now,
        last_success=now,
        last_error=None,
        failures=0,
        backoff_until=None,
        disabled=False,
        items_new=status.new,
        items_seen=status.seen,
        last_new_at=now if status.new else base.last_new_at,
    )


def _failed(
    state: SourceState, error: SourceError, *, now: datetime, params: HealthParams
) -> SourceState:
    failures = state.failures + 1
    if isinstance(error, GoneError):
        until = None
    else:
        retry_after = error.retry_after_seconds if isinstance(error, RetryLaterError) else None
        until = now + timedelta(seconds=backoff_seconds(failures, params, retry_after))
    return replace(
        state,
        last_attempt=now,
        last_error=str(error),
        failures=failures,
        backoff_until=until,
        disabled=isinstance(error, GoneError),
        items_new=0,
        items_seen=0,
    )


def schedule(
    before: SourceState | None, after: SourceState, *, now: datetime, params: HealthParams
) -> SourceState:
    """``after`` (this round's state of a source) with its next check, as Miniflux's and
    Tiny Tiny RSS's schedulers do: the interval follows how often the feed publishes.

    A check that found new items sets it to the mean time between them (since the previous
    new item); one that found nothing doubles it; both bounded by ``[min, max]`` check
    seconds. A failure leaves the interval and clears ``next_check_at``: its back-off
    (``backoff_until``, see ``skip_reason``) decides when it is tried again. A source not
    attempted now (skipped, backing off) keeps its schedule."""
    if after.last_attempt != now:
        return after
    if after.failures:
        return replace(after, next_check_at=None)
    low = params.min_check_seconds
    high = max(low, params.max_check_seconds)
    previous = (before.check_interval_seconds if before else None) or low
    if after.items_new:
        since = (before.last_new_at or before.first_seen) if before else now
        interval = (now - since).total_seconds() / after.items_new
    else:
        interval = previous * 2
    interval = min(max(interval, low), high)
    return replace(
        after, check_interval_seconds=interval, next_check_at=now + timedelta(seconds=interval)
    )


def due(state: SourceState | None, now: datetime) -> bool:
    """Whether a worker round fetches this source now (never checked, or its time came)."""
    return state is None or state.next_check_at is None or now >= state.next_check_at


def annotate(
    status: SourceStatus, state: SourceState, *, now: datetime, params: HealthParams
) -> SourceStatus:
    """The run's status of a source with its health: failures in a row, last success, quiet."""
    since = state.last_new_at or state.first_seen
    quiet = state.kind == "feed" and now - since > timedelta(days=params.quiet_after_days)
    return replace(
        status,
        failures=state.failures,
        last_success=state.last_success,
        quiet_since=since if quiet else None,
    )


def plan_health(
    states: Mapping[str, SourceState],
    results: Sequence[SourceResult],
    statuses: Sequence[SourceStatus],
    *,
    now: datetime,
    params: HealthParams,
) -> tuple[tuple[SourceState, ...], tuple[SourceStatus, ...]]:
    """(states to store, statuses with health) for a run; only live sources have health."""
    to_store: list[SourceState] = []
    annotated: list[SourceStatus] = []
    for result, status in zip(results, statuses, strict=True):
        spec = result.source
        if spec.kind not in LIVE_KINDS:
            annotated.append(status)
            continue
        state = next_state(spec, states.get(spec.name), result, status, now=now, params=params)
        to_store.append(state)
        annotated.append(annotate(status, state, now=now, params=params))
    return tuple(to_store), tuple(annotated)


def label(
    spec: SourceSpec, state: SourceState | None, *, now: datetime, params: HealthParams
) -> str:
    """One word or two for ``digest sources``: how this source is doing."""
    if not spec.enabled:
        return "off in config"
    if state is None:
        return "not yet run"
    if state.disabled:
        return "disabled"
    if state.backoff_until is not None and now < state.backoff_until:
        return "backing off"
    if state.failures:
        return "failing"
    if not due(state, now):
        return "not due"
    since = state.last_new_at or state.first_seen
    if spec.kind == "feed" and now - since > timedelta(days=params.quiet_after_days):
        return "quiet"
    return "ok"


_HEADER = ("name", "kind", "status", "last success", "new", "seen", "fails", "last error")
_RIGHT = frozenset({4, 5, 6})  # numeric columns


def health_table(
    specs: Sequence[SourceSpec],
    states: Mapping[str, SourceState],
    *,
    now: datetime,
    params: HealthParams,
) -> list[str]:
    """The lines ``digest sources`` prints: a header, then one line per source."""
    rows: list[tuple[str, ...]] = [_HEADER]
    for spec in specs:
        state = current(spec, states.get(spec.name))
        rows.append(_row(spec, state, label(spec, state, now=now, params=params)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER) - 1)]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if i in _RIGHT else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=False))
        ]
        lines.append(("  ".join(cells) + "  " + row[-1]).rstrip())
    return lines


def _row(spec: SourceSpec, state: SourceState | None, status: str) -> tuple[str, ...]:
    if state is None:
        return (spec.name, spec.kind, status, "never", "-", "-", "0", "")
    return (
        spec.name,
        spec.kind,
        status,
        when(state.last_success),
        str(state.items_new),
        str(state.items_seen),
        str(state.failures),
        state.last_error or "",
    )
