"""Rows of the store's tables <-> our data types (pure; no database access)."""

from __future__ import annotations

import base64
import json
import sys
from array import array
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from digest.models import Article, PackedSignature, Signature, SourceState


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def signature_text(signature: Signature) -> str:
    """A signature as the threads table keeps it: packed (``PACKED``, its terms joined by
    ``\\x1f``, ``\\x1e``, then its weights as little-endian doubles in base64). A run
    reads the open threads' signatures again (a full window holds ~1M terms): as JSON lists
    of [term, weight] pairs (older rows, still read) that took a second, packed a tenth."""
    if isinstance(signature, PackedSignature):
        terms, weights = signature.terms, signature.weights
    else:
        terms, weights = tuple(t for t, _ in signature), array("d", [w for _, w in signature])
    joined = _TERMS.join(terms)
    if not terms or _END in joined or joined.count(_TERMS) != len(terms) - 1:
        return json.dumps(list(zip(terms, weights, strict=True)))  # (no term holds these)
    if sys.byteorder != "little":
        weights = array("d", weights)
        weights.byteswap()
    return PACKED + joined + _END + base64.b64encode(weights.tobytes()).decode("ascii")


def signature_from_text(
    text: str, term: Callable[[str, str], str] | None = None
) -> PackedSignature:
    """A signature as ``signature_text`` wrote it (or as JSON pairs, as it once did);
    ``term(t, t)`` gives the string object each term is kept as (one per term in a load)."""
    if not text.startswith(PACKED):
        pairs = json.loads(text)
        keys = [t for t, _ in pairs]
        weights = array("d", [w for _, w in pairs])
    else:
        joined, _, encoded = text[len(PACKED) :].rpartition(_END)
        keys = joined.split(_TERMS)
        weights = array("d", base64.b64decode(encoded, validate=True))
        if sys.byteorder != "little":
            weights.byteswap()
        if len(weights) != len(keys):
            raise ValueError(
                f"a packed signature with {len(keys)} terms and {len(weights)} weights"
            )
    return PackedSignature(tuple(map(term, keys, keys)) if term else tuple(keys), weights)


PACKED = "\x1e"  # a packed signature's text opens with this (JSON's with "[")
_TERMS, _END = "\x1f", "\x1e"  # between its terms; after them (terms are words: neither)


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
