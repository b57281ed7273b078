"""The ``briefing.json`` document (pure): a Briefing as plain JSON data, and the
:class:`ArchiveEntry` the archive page and the feed read back from it.

ISO 8601 times in UTC, unsafe URLs as null, source names without local paths and without
their error text (readers' view; the operator's is ``digest sources`` / ``digest status``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from digest.formatting import iso_utc, public_source_name, safe_url
from digest.models import Briefing, Quote, SourceRef, SourceStatus, SummarySentence, ThreadSummary
from digest.syndication import basis, credit


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiveEntry:
    """One published briefing as the archive page and the feed show it."""

    day: date
    title: str
    generated_at: datetime
    thread_count: int
    article_count: int = 0
    outlet_count: int = 0
    headlines: tuple[str, ...] = ()
    edition: int | None = None
    slug: str = ""  # permalink folder; "" = the day
    window_start: datetime | None = None
    window_end: datetime | None = None
    late: bool = False
    published: datetime | None = None  # first published (re-runs keep it); None: generated_at
    leads: tuple[str, ...] = ()  # per thread (as headlines): its first summary sentence, or ""
    thread_ids: tuple[str, ...] = ()  # per thread (as headlines): its id

    @property
    def folder(self) -> str:
        return self.slug or self.day.isoformat()


def dump_json(doc: Mapping[str, object]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def briefing_to_dict(briefing: Briefing) -> dict[str, object]:
    """The briefing as plain JSON data (ISO 8601 times in UTC, unsafe URLs as null)."""
    return {
        "date": briefing.day.isoformat(),
        "generated_at": iso_utc(briefing.generated_at),
        "timezone": briefing.timezone,
        "title": briefing.title,
        "stats": {
            "threads": len(briefing.threads),
            "articles": briefing.article_count,
            "outlets": briefing.outlet_count,
        },
        "threads": [_thread_dict(t) for t in briefing.threads],
        "sources": [_status_dict(s) for s in briefing.sources],
        "edition": _edition_dict(briefing),
    }


def _edition_dict(b: Briefing) -> dict[str, object] | None:
    if b.edition is None:
        return None
    times = {"window_start": b.window_start, "window_end": b.window_end}
    times["scheduled_for"] = b.scheduled_for
    return {
        "number": b.edition,
        "folder": b.folder,
        "late": b.late,
        "published": iso_utc(b.generated_at),  # publish.py keeps the first publication's
        **{k: iso_utc(v) if v else None for k, v in times.items()},
    }


def _thread_dict(thread: ThreadSummary) -> dict[str, object]:
    since = thread.continues_from
    return {
        "id": thread.thread_id,
        "headline": thread.headline,
        "status": thread.status,
        "continues_from": since.isoformat() if since is not None else None,
        "first_seen": iso_utc(thread.first_seen),
        "last_updated": iso_utc(thread.last_updated),
        "outlets": list(thread.outlets),
        "corroboration": _basis_dict(thread),
        "summary": [_sentence_dict(s, thread) for s in thread.sentences],
        "quotes": [_quote_dict(q) for q in thread.quotes],
        "articles": [_article_dict(a) for a in thread.sources],
        "new_since_previous_edition": {
            "article_ids": list(thread.new_article_ids),
            "outlets": list(thread.new_outlets),
        },
        "why": _why_dict(thread),
    }


def _why_dict(thread: ThreadSummary) -> dict[str, object]:
    """Why the thread's articles are together (``digest explain`` prints the same)."""
    return {
        "merged_from": list(thread.merged_from),
        "articles": {
            r.article_id: {
                "via": r.via,
                "score": r.score,
                "terms": list(r.terms),
                "names": list(r.names),
                "event_day": r.event_day.isoformat() if r.event_day else None,
            }
            for r in thread.reasons
        },
    }


def _basis_dict(thread: ThreadSummary) -> dict[str, int]:
    """How many independent reports (and their outlets) and copies the thread rests on."""
    found = basis(thread.sources)
    return {
        "independent_reports": found.reports,
        "independent_outlets": found.outlets,
        "copies": found.copies,
        "copy_outlets": found.copy_outlets,
    }


def _sentence_dict(sentence: SummarySentence, thread: ThreadSummary) -> dict[str, object]:
    given = credit(sentence, thread)
    return {
        "text": sentence.text,
        "outlets": list(sentence.outlets),
        "independent_outlets": list(given.outlets),
        "copy_outlets": list(given.copy_outlets),
        "article_ids": list(sentence.article_ids),
        "new": sentence.new,
    }


def _quote_dict(quote: Quote) -> dict[str, object]:
    return {
        "text": quote.text,
        "speaker": quote.speaker,
        "outlet": quote.outlet,
        "article_id": quote.article_id,
    }


def _article_dict(ref: SourceRef) -> dict[str, object]:
    return {
        "id": ref.article_id,
        "title": ref.title,
        "outlet": ref.outlet,
        "url": safe_url(ref.url),
        "published": iso_utc(ref.published) if ref.dated else None,  # None: no date found
        "copy_of": ref.copy_of,
    }


def _status_dict(status: SourceStatus) -> dict[str, object]:
    """What readers may know of a source: no error text, no local path (see `digest sources`)."""
    return {
        "name": public_source_name(status.name, status.kind),
        "kind": status.kind,
        "status": status.status,
        "new": status.new,
        "seen": status.seen,
        "failures": status.failures,
        "last_success": iso_utc(status.last_success) if status.last_success else None,
        "quiet_since": iso_utc(status.quiet_since) if status.quiet_since else None,
    }


def archive_entry_from_dict(doc: Mapping[str, Any]) -> ArchiveEntry:
    """Read an :class:`ArchiveEntry` back from a ``briefing.json`` document.

    Raises KeyError, TypeError or ValueError when the document is not one of ours.
    """
    threads = doc["threads"]
    if not isinstance(threads, list) or not all(isinstance(t, dict) for t in threads):
        raise TypeError("threads is not a list of objects")
    generated_at = datetime.fromisoformat(str(doc["generated_at"]))
    if generated_at.tzinfo is None:
        raise ValueError("generated_at has no time zone")
    stats = doc.get("stats") or {}
    edition = doc.get("edition") or {}
    return ArchiveEntry(
        day=date.fromisoformat(str(doc["date"])),
        title=str(doc["title"]),
        generated_at=generated_at.astimezone(UTC),
        thread_count=len(threads),
        article_count=int(stats.get("articles", sum(len(t.get("articles", ())) for t in threads))),
        outlet_count=int(stats.get("outlets", 0)),
        headlines=tuple(str(t["headline"]) for t in threads),
        edition=int(edition["number"]) if edition.get("number") else None,
        slug=str(edition.get("folder") or ""),
        window_start=_utc_or_none(edition.get("window_start")),
        window_end=_utc_or_none(edition.get("window_end")),
        late=bool(edition.get("late")),
        published=_utc_or_none(edition.get("published")),
        leads=tuple(_lead(t) for t in threads),
        thread_ids=tuple(str(t.get("id") or "") for t in threads),
    )


def _lead(thread: Mapping[str, Any]) -> str:
    """A thread's first summary sentence with its outlets, for the feed."""
    summary = thread.get("summary") or []
    if not summary or not isinstance(summary[0], dict):
        return ""
    outlets = ", ".join(str(o) for o in summary[0].get("outlets") or [])
    text = str(summary[0].get("text") or "")
    return f"{text} ({outlets})" if outlets and text else text


def _utc_or_none(text: object) -> datetime | None:
    return datetime.fromisoformat(str(text)).astimezone(UTC) if text else None


# ── a thread read back (the thread pages are built from the editions' documents) ─────────


def thread_from_dict(doc: Mapping[str, Any]) -> ThreadSummary:
    """A :class:`ThreadSummary` read back from one of ``briefing.json``'s threads (fields a
    document of an older digest lacks get their defaults). An undated source's time is the
    thread's start, marked ``dated=False``.

    Raises KeyError, TypeError or ValueError when the thread is not one of ours.
    """
    first_seen = parse_utc(doc["first_seen"])
    since = doc.get("continues_from")
    new = doc.get("new_since_previous_edition") or {}
    return ThreadSummary(
        thread_id=str(doc["id"]),
        headline=str(doc["headline"]),
        status="continuing" if doc.get("status") == "continuing" else "new",
        sentences=tuple(
            SummarySentence(
                text=str(s["text"]),
                outlets=tuple(map(str, s.get("outlets") or ())),
                article_ids=tuple(map(str, s.get("article_ids") or ())),
                new=bool(s.get("new")),
            )
            for s in doc.get("summary") or ()
        ),
        quotes=tuple(
            Quote(
                text=str(q["text"]),
                speaker=None if q.get("speaker") is None else str(q["speaker"]),
                outlet=str(q.get("outlet") or ""),
                article_id=str(q.get("article_id") or ""),
            )
            for q in doc.get("quotes") or ()
        ),
        sources=tuple(_ref_from_dict(a, first_seen) for a in doc.get("articles") or ()),
        first_seen=first_seen,
        last_updated=parse_utc(doc.get("last_updated") or doc["first_seen"]),
        continues_from=date.fromisoformat(str(since)) if since else None,
        new_article_ids=tuple(map(str, new.get("article_ids") or ())),
    )


def _ref_from_dict(doc: Mapping[str, Any], fallback: datetime) -> SourceRef:
    published = doc.get("published")
    copy_of = doc.get("copy_of")
    return SourceRef(
        outlet=str(doc["outlet"]),
        title=str(doc.get("title") or ""),
        url=safe_url(doc.get("url")),
        published=parse_utc(published) if published else fallback,
        article_id=str(doc.get("id") or ""),
        dated=bool(published),
        copy_of=None if copy_of is None else str(copy_of),
    )


def parse_utc(text: object) -> datetime:
    """An ISO 8601 time with its zone, in UTC (ValueError without a zone)."""
    value = datetime.fromisoformat(str(text))
    if value.tzinfo is None:
        raise ValueError(f"{text}: no time zone")
    return value.astimezone(UTC)
