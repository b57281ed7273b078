"""A thread across editions (pure): what each edition said of it, every source any edition
showed, and when each outlet first reported it. The thread pages and their feeds are
rendered from it.

It is built from the editions' own documents (``briefing.json``), so a thread page says
what readers were shown, edition by edition; a thread merged into another (its id
redirects there) brings its editions along.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from digest.document import parse_utc, thread_from_dict
from digest.models import SourceRef, SummarySentence, ThreadSummary
from digest.syndication import is_copy


@dataclass(frozen=True, slots=True, kw_only=True)
class EditionRef:
    """The edition a thread appeared in."""

    folder: str = field(metadata={"help": "the edition's folder under output/"})
    number: int | None = field(metadata={"help": "edition number"})
    day: date = field(metadata={"help": "the edition's date"})
    published: datetime = field(metadata={"help": "when it was first published, UTC"})
    updated: datetime = field(metadata={"help": "when it was last generated, UTC"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """What one edition showed of the thread, and what it showed for the first time."""

    edition: EditionRef = field(metadata={"help": "the edition"})
    thread: ThreadSummary = field(metadata={"help": "the thread as that edition showed it"})
    added: tuple[SourceRef, ...] = field(metadata={"help": "sources no earlier edition showed"})
    said: tuple[SummarySentence, ...] = field(
        metadata={"help": "summary sentences no earlier edition showed"}
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class OutletReport:
    """One outlet's part in the thread."""

    outlet: str = field(metadata={"help": "the outlet"})
    first: SourceRef = field(metadata={"help": "its first article on the thread"})
    reports: int = field(metadata={"help": "its independent reports"})
    copies: int = field(metadata={"help": "its copies of other outlets' reports"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreadHistory:
    thread_id: str = field(metadata={"help": "the thread's id (the page's folder)"})
    steps: tuple[Step, ...] = field(metadata={"help": "editions that showed it, oldest first"})
    sources: tuple[SourceRef, ...] = field(metadata={"help": "every source shown, by time"})

    @property
    def latest(self) -> ThreadSummary:
        """The thread as its newest edition showed it."""
        return self.steps[-1].thread

    @property
    def outlets(self) -> tuple[OutletReport, ...]:
        """Every outlet that carried the thread, by the time of its first article."""
        return outlet_reports(self.sources)


def edition_ref(doc: Mapping[str, Any]) -> EditionRef:
    """The edition of a ``briefing.json`` document (KeyError/ValueError if not one)."""
    edition = doc.get("edition") or {}
    updated = parse_utc(doc["generated_at"])
    return EditionRef(
        folder=str(edition.get("folder") or doc["date"]),
        number=int(edition["number"]) if edition.get("number") else None,
        day=date.fromisoformat(str(doc["date"])),
        published=parse_utc(edition["published"]) if edition.get("published") else updated,
        updated=updated,
    )


def thread_history(
    thread_id: str, appearances: Iterable[tuple[EditionRef, Mapping[str, Any]]]
) -> ThreadHistory | None:
    """The history of ``thread_id`` from its ``appearances`` (an edition and the thread's
    entry in its document; those of threads merged into it too: one edition that showed
    two of them is one step); None without any."""
    editions: dict[str, EditionRef] = {}
    shown: dict[str, list[ThreadSummary]] = {}
    for edition, doc in appearances:
        editions[edition.folder] = edition
        shown.setdefault(edition.folder, []).append(thread_from_dict(doc))
    steps: list[Step] = []
    seen: dict[str, SourceRef] = {}
    said: set[str] = set()
    for edition in sorted(editions.values(), key=lambda e: (e.day, e.number or 0, e.folder)):
        thread = _one(thread_id, shown[edition.folder])
        added = tuple(r for r in thread.sources if r.article_id not in seen)
        fresh = tuple(s for s in thread.sentences if s.text not in said)
        steps.append(Step(edition=edition, thread=thread, added=added, said=fresh))
        seen.update((r.article_id, r) for r in thread.sources)
        said.update(s.text for s in thread.sentences)
    if not steps:
        return None
    sources = tuple(sorted(seen.values(), key=_by_time))
    return ThreadHistory(thread_id=thread_id, steps=tuple(steps), sources=sources)


def _one(thread_id: str, threads: Sequence[ThreadSummary]) -> ThreadSummary:
    """One edition's threads that are now ``thread_id`` as one: its own (else the first),
    with the others' sources and sentences after its own."""
    main = next((t for t in threads if t.thread_id == thread_id), threads[0])
    others = [t for t in threads if t is not main]
    if not others:
        return main
    ids = {r.article_id for r in main.sources}
    texts = {s.text for s in main.sentences}
    sources = [r for t in others for r in t.sources if r.article_id not in ids]
    sentences = [s for t in others for s in t.sentences if s.text not in texts]
    return replace(
        main,
        sources=tuple(sorted((*main.sources, *dict.fromkeys(sources)), key=_by_time)),
        sentences=(*main.sentences, *dict.fromkeys(sentences)),
    )


def outlet_reports(sources: Sequence[SourceRef]) -> tuple[OutletReport, ...]:
    ids = frozenset(r.article_id for r in sources)
    mine: dict[str, list[SourceRef]] = {}
    for ref in sorted(sources, key=_by_time):
        mine.setdefault(ref.outlet, []).append(ref)
    return tuple(
        OutletReport(
            outlet=outlet,
            first=refs[0],
            reports=sum(not is_copy(r, ids) for r in refs),
            copies=sum(is_copy(r, ids) for r in refs),
        )
        for outlet, refs in mine.items()
    )


def _by_time(ref: SourceRef) -> tuple[bool, datetime, str, str]:
    return (not ref.dated, ref.published, ref.outlet, ref.article_id)
