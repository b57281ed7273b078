"""Rows of the store's tables <-> our data types (pure; no database access)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from digest.models import Article, Signature, SourceState


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def signature_text(signature: Signature) -> str:
    """A signature as the threads table keeps it: a JSON list of [term, weight] pairs."""
    return json.dumps(list(signature))


def article_row(
    a: Article,
    day: date,
    run_id: int,
    duplicate_of: str | None,
    minhash: str | None,
    thread_id: str | None,
) -> tuple[object, ...]:
    return (
        a.id,
        a.canonical_url,
        a.outlet,
        a.title,
        a.text,
        iso(a.published),
        iso(a.fetched_at),
        a.source,
        a.origin,
        json.dumps(list(a.authors)),
        a.lang,
        a.content_hash,
        day.isoformat(),
        run_id,
        thread_id,
        duplicate_of,
        minhash,
        int(a.dated),
    )


SOURCE_COLUMNS = (
    "name, kind, configured_url, url, etag, last_modified, first_seen, last_attempt,"
    " last_success, last_error, failures, backoff_until, disabled, items_new, items_seen,"
    " last_new_at, check_interval_seconds, next_check_at"
)


def opt_iso(dt: datetime | None) -> str | None:
    return iso(dt) if dt else None


def opt_from_iso(text: object) -> datetime | None:
    return from_iso(str(text)) if text else None


def source_row(s: SourceState) -> tuple[object, ...]:
    return (
        s.name,
        s.kind,
        s.configured_url,
        s.url,
        s.etag,
        s.last_modified,
        iso(s.first_seen),
        opt_iso(s.last_attempt),
        opt_iso(s.last_success),
        s.last_error,
        s.failures,
        opt_iso(s.backoff_until),
        int(s.disabled),
        s.items_new,
        s.items_seen,
        opt_iso(s.last_new_at),
        s.check_interval_seconds,
        opt_iso(s.next_check_at),
    )


def source_state(row: Sequence[Any]) -> SourceState:
    return SourceState(
        name=row[0],
        kind=row[1],
        configured_url=row[2],
        url=row[3],
        etag=row[4],
        last_modified=row[5],
        first_seen=from_iso(row[6]),
        last_attempt=opt_from_iso(row[7]),
        last_success=opt_from_iso(row[8]),
        last_error=row[9],
        failures=int(row[10]),
        backoff_until=opt_from_iso(row[11]),
        disabled=bool(row[12]),
        items_new=int(row[13]),
        items_seen=int(row[14]),
        last_new_at=opt_from_iso(row[15]),
        check_interval_seconds=None if row[16] is None else float(row[16]),
        next_check_at=opt_from_iso(row[17]),
    )


ARTICLE_COLUMNS = (
    "id, canonical_url, outlet, title, text, published, fetched_at, source, origin, authors,"
    " lang, content_hash, dated"
)


def article_from_row(row: Sequence[object]) -> Article:
    return Article(
        id=str(row[0]),
        canonical_url=str(row[1]) if row[1] else None,
        outlet=str(row[2]),
        title=str(row[3]),
        text=str(row[4]),
        published=from_iso(str(row[5])),
        fetched_at=from_iso(str(row[6])),
        source=str(row[7]),
        origin=str(row[8]),
        authors=tuple(json.loads(str(row[9]))),
        lang=str(row[10]),
        content_hash=str(row[11]),
        dated=bool(row[12]),
    )
