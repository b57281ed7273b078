"""The typed data objects that cross stage boundaries. Every type is a frozen, slotted,
keyword-only dataclass; collections are tuples and every datetime is timezone-aware UTC.
Change a value with ``dataclasses.replace``."""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from digest.errors import detached

if TYPE_CHECKING:
    from digest.errors import SourceError

SourceKind = Literal["feed", "page", "dump"]
ThreadStatus = Literal["new", "continuing"]


# ── ingest ────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceSpec:
    """One configured input: a feed, a page or a dump file/folder."""

    name: str  # unique; used in every message about this source
    kind: SourceKind
    location: str  # http(s) URL, or a filesystem path for dumps
    outlet: str | None = None  # display name used for attribution; None = from the content
    enabled: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class RawItem:
    """One article as a source produced it, before normalisation."""

    source: str  # SourceSpec.name
    outlet: str
    origin: str  # where it came from, for messages: URL or "path:line"
    url: str | None
    title: str
    text: str  # paragraphs separated by a blank line
    published: datetime | None  # None: the source gave no date (the article is undated)
    fetched_at: datetime
    authors: tuple[str, ...] = ()
    guid: str | None = None  # feed entry identity (see feeds.entry_identity): the id's basis
    lang: str | None = None  # the language the source declares (a feed's <language>), a hint


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceOk:
    items: tuple[RawItem, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class NotModified:
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceResult:
    """What one source gave on one run: items, "not modified", or an error (a value)."""

    source: SourceSpec
    value: SourceOk | NotModified | SourceError
    fetch: FetchInfo | None = None  # live sources: the URL and validators to keep

    def __post_init__(self) -> None:
        if isinstance(self.value, BaseException):
            detached(self.value)  # a value, not a stack: its frames would keep the run's items

    @property
    def ok(self) -> bool:
        return not isinstance(self.value, Exception)


# ── core ──────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True, kw_only=True)
class Article:
    """A normalised article: what dedupe, cluster and summarize work on, and what is stored."""

    id: str  # stable: hash of a feed entry's guid, else of the canonical URL, else of text
    canonical_url: str | None
    outlet: str
    title: str
    text: str  # clean paragraphs separated by "\n\n"
    published: datetime  # UTC; falls back to fetched_at when the source gave none
    fetched_at: datetime
    source: str
    origin: str
    authors: tuple[str, ...] = ()
    lang: str = "en"  # ISO 639-1, detected from the title and text (digest.lang.detect)
    content_hash: str = ""  # hash of the title + text only (volatile fields excluded)
    dated: bool = True  # False: the source gave no date; ``published`` is the fetch time

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return tuple(p for p in self.text.split("\n\n") if p.strip())


@dataclass(frozen=True, slots=True, kw_only=True)
class Duplicate:
    article: Article  # the duplicate itself (kept so its outlet can be credited)
    of_id: str  # id of the article it duplicates
    reason: Literal["exact", "near"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Fingerprint:
    """An article body's MinHash (``digest.minhash``), as dedupe meets it again."""

    article_id: str
    minhash: bytes  # num_perm values below 2**32, 4 little-endian bytes each
    title_key: str = ""  # ``dedupe.title_key(outlet, title)`` of the article
    # its band keys, int64 in machine order (none when the text has no shingles): only
    # between dedupe and the store, which keeps them as integers
    bands: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class DedupeResult:
    new: tuple[Article, ...]
    duplicates: tuple[Duplicate, ...]
    fingerprints: tuple[Fingerprint, ...] = ()  # of the new articles, for the store


Signature = Sequence[tuple[str, float]]  # a thread's weighted terms, as (term, weight) pairs


class PackedSignature(Sequence[tuple[str, float]]):
    """A signature as the store loads it: its terms and weights kept apart (16 bytes a term
    where a tuple of pairs takes 88: a full window holds ~6k threads of ~250 terms), read
    as (term, weight) pairs. Equal to any sequence of the same pairs."""

    __slots__ = ("terms", "weights")

    def __init__(self, terms: tuple[str, ...], weights: array[float]) -> None:
        self.terms, self.weights = terms, weights

    @classmethod
    def of(cls, pairs: Sequence[tuple[str, float]] | Sequence[list[Any]]) -> PackedSignature:
        """``pairs`` (tuples, or the [term, weight] lists of its JSON) packed."""
        if isinstance(pairs, PackedSignature):
            return pairs
        return cls(tuple(p[0] for p in pairs), array("d", [p[1] for p in pairs]))

    def __len__(self) -> int:
        return len(self.terms)

    @overload
    def __getitem__(self, index: int) -> tuple[str, float]: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[tuple[str, float], ...]: ...

    def __getitem__(self, index: int | slice) -> tuple[str, float] | tuple[tuple[str, float], ...]:
        if isinstance(index, slice):
            return tuple(zip(self.terms[index], self.weights[index], strict=True))
        return self.terms[index], self.weights[index]

    def __iter__(self) -> Iterator[tuple[str, float]]:
        return zip(self.terms, self.weights, strict=True)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"PackedSignature({tuple(self)!r})"


@dataclass(frozen=True, slots=True, kw_only=True)
class EventThread:
    """An event thread: the articles about one real-world event, across days."""

    id: str
    title: str
    article_ids: tuple[str, ...]
    first_seen: datetime
    last_updated: datetime
    # salient weighted terms used to match later articles against this thread
    signature: Signature = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreadExtension:
    thread_id: str
    article_ids: tuple[str, ...]  # the articles added to the thread
    signature: Signature
    last_updated: datetime


JoinVia = Literal["new", "core", "attach", "merge", "override"]


@dataclass(frozen=True, slots=True, kw_only=True)
class JoinReason:
    """Why an article is in its thread (``digest explain``, briefing.json)."""

    article_id: str
    thread_id: str
    via: JoinVia  # started the thread, joined a core, attached to it, or was moved there
    score: float | None = None  # the link's score (None: it started the thread)
    terms: tuple[str, ...] = ()  # the terms that weighed most in the link
    names: tuple[str, ...] = ()  # the names both sides share
    event_day: date | None = None  # the day its lead says the event happened


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreadMerge:
    """Two stored threads found to be one event: ``merged_id`` redirects to ``into_id``."""

    merged_id: str
    into_id: str
    score: float | None = None
    terms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterPlan:
    """What clustering decided; ``Store.apply_plan`` is the only thing that writes it."""

    new_threads: tuple[EventThread, ...]
    extensions: tuple[ThreadExtension, ...]
    merges: tuple[ThreadMerge, ...] = ()
    reasons: tuple[JoinReason, ...] = ()
    # how many of the batch's articles hold each term: the store adds them to its vocabulary
    document_frequencies: Mapping[str, int] = field(default_factory=dict)


# ── summaries and briefings ──────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceRef:
    outlet: str = field(metadata={"help": "display name of the outlet"})
    title: str = field(metadata={"help": "the article's title"})
    url: str | None = field(metadata={"help": "link to the article (http/https) or None"})
    published: datetime = field(metadata={"help": "publication time, UTC"})
    article_id: str = field(default="", metadata={"help": "stable article id"})
    dated: bool = field(default=True, metadata={"help": "False: no date found (fetch time)"})
    copy_of: str | None = field(default=None, metadata={"help": "id of the report it copies"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Quote:
    text: str = field(metadata={"help": "the quoted words, without quotation marks"})
    speaker: str | None = field(metadata={"help": "who said it, when the text names them"})
    outlet: str = field(metadata={"help": "outlet whose article carries the quote"})
    article_id: str = field(default="", metadata={"help": "id of that article"})


@dataclass(frozen=True, slots=True, kw_only=True)
class SummarySentence:
    text: str = field(metadata={"help": "a sentence copied verbatim from a source"})
    outlets: tuple[str, ...] = field(metadata={"help": "every outlet that carried it"})
    article_ids: tuple[str, ...] = field(default=(), metadata={"help": "ids of those articles"})
    new: bool = field(
        default=False,
        metadata={"help": "said only by articles stored since the previous edition"},
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreadSummary:
    thread_id: str = field(metadata={"help": "stable thread id"})
    headline: str = field(metadata={"help": "headline for the thread"})
    status: ThreadStatus = field(metadata={"help": "'new', or 'continuing' an earlier thread"})
    sentences: tuple[SummarySentence, ...] = field(metadata={"help": "the attributed summary"})
    quotes: tuple[Quote, ...] = field(metadata={"help": "direct quotes with their speaker"})
    sources: tuple[SourceRef, ...] = field(metadata={"help": "every article in the thread"})
    first_seen: datetime = field(metadata={"help": "when the thread started, UTC"})
    last_updated: datetime = field(metadata={"help": "newest article time, UTC"})
    continues_from: date | None = field(
        default=None, metadata={"help": "day the thread was first briefed, if continuing"}
    )
    new_article_ids: tuple[str, ...] = field(
        default=(), metadata={"help": "ids of the sources stored since the previous edition"}
    )
    reasons: tuple[JoinReason, ...] = field(
        default=(), metadata={"help": "why each article is in the thread (digest explain)"}
    )
    merged_from: tuple[str, ...] = field(
        default=(), metadata={"help": "ids of threads found to be this event (they redirect)"}
    )

    @property
    def outlets(self) -> tuple[str, ...]:
        """Distinct outlets in the thread, in order of first appearance."""
        return tuple(dict.fromkeys(s.outlet for s in self.sources))

    @property
    def new_sources(self) -> tuple[SourceRef, ...]:
        """The sources stored since the previous edition."""
        fresh = set(self.new_article_ids)
        return tuple(s for s in self.sources if s.article_id in fresh)

    @property
    def new_outlets(self) -> tuple[str, ...]:
        """Outlets that carry the thread for the first time in this edition."""
        fresh = set(self.new_article_ids)
        old = {s.outlet for s in self.sources if s.article_id not in fresh}
        return tuple(o for o in dict.fromkeys(s.outlet for s in self.new_sources) if o not in old)


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceStatus:
    """One line of the run report per source, for the CLI and the briefing footer."""

    name: str
    kind: SourceKind
    status: Literal["new", "seen", "not modified", "error"]
    new: int = 0
    seen: int = 0
    error: str | None = None
    failures: int = 0  # live sources: runs in a row that failed (this one included)
    last_success: datetime | None = None  # live sources: last run that read it
    quiet_since: datetime | None = None  # set when a feed has had nothing new for too long


@dataclass(frozen=True, slots=True, kw_only=True)
class Briefing:
    day: date = field(metadata={"help": "the briefing's date"})
    generated_at: datetime = field(metadata={"help": "when it was generated, UTC"})
    timezone: str = field(metadata={"help": "IANA zone used to show times"})
    threads: tuple[ThreadSummary, ...] = field(metadata={"help": "threads, most important first"})
    sources: tuple[SourceStatus, ...] = field(
        default=(), metadata={"help": "per-source status of the run that produced it"}
    )
    title: str = field(default="Daily briefing", metadata={"help": "briefing title"})
    edition: int | None = field(default=None, metadata={"help": "edition number (1, 2, ...)"})
    window_start: datetime | None = field(
        default=None, metadata={"help": "the edition covers articles stored after this, UTC"}
    )
    window_end: datetime | None = field(
        default=None, metadata={"help": "... up to this time (when it was produced), UTC"}
    )
    late: bool = field(default=False, metadata={"help": "a missed scheduled edition, caught up"})
    slug: str = field(default="", metadata={"help": "permalink folder; empty: the day's date"})
    scheduled_for: datetime | None = field(
        default=None, metadata={"help": "the schedule slot it answers, UTC (None: manual run)"}
    )

    @property
    def folder(self) -> str:
        """The edition's permalink folder under output/."""
        return self.slug or self.day.isoformat()

    @property
    def attention(self) -> tuple[SourceStatus, ...]:
        """Sources that failed in this run or have gone quiet: the "Sources" section."""
        return tuple(s for s in self.sources if s.status == "error" or s.quiet_since)

    @property
    def article_count(self) -> int:
        return sum(len(t.sources) for t in self.threads)

    @property
    def outlet_count(self) -> int:
        return len({o for t in self.threads for o in t.outlets})


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendered:
    html: str
    markdown: str
    json: str
    email_html: str = ""
    email_text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunReport:
    started: datetime
    finished: datetime
    day: date
    sources: tuple[SourceStatus, ...]
    new_articles: int
    duplicates: int
    threads_new: int
    threads_extended: int
    threads_merged: int = 0  # stored threads found to be one event with another
    overrides: tuple[str, ...] = ()  # one line per operator correction, what it did
    override_problems: tuple[str, ...] = ()  # bad lines of the corrections file (skipped)
    outputs: tuple[Path, ...] = ()
    edition: Edition | None = None  # the edition this run produced or replaced
    emailed: tuple[str, ...] = ()  # "No. N -> address" for every message the server accepted
    email_error: str | None = None  # one line: why queued messages are still waiting

    @property
    def failed(self) -> tuple[SourceStatus, ...]:
        return tuple(s for s in self.sources if s.status == "error")


# ── editions and delivery ─────────────────────────────────────────────────────────────────

EditionStatus = Literal["published", "empty"]
DeliveryState = Literal["queued", "sending", "sent", "failed"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Edition:
    """One row of the editions ledger: a scheduled (or manual) briefing and its window.

    The window is a range of runs: the edition shows every thread that got an article
    stored by a run in ``first_run..last_run``. ``window_start``/``window_end`` are the
    matching times, shown on the edition. ``number`` is None while the edition is empty.
    """

    id: int  # ledger row id (0: not stored yet)
    number: int | None
    slug: str  # permalink folder; "" while empty
    day: date  # the edition's date in the configured time zone
    first_run: int
    last_run: int
    window_start: datetime
    window_end: datetime
    scheduled_for: datetime | None  # the schedule slot it answers; None for manual runs
    produced_at: datetime
    late: bool
    status: EditionStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One (edition, recipient) row of the outbox."""

    edition: int  # edition number
    recipient: str
    message_id: str
    state: DeliveryState
    attempts: int
    last_error: str | None
    updated_at: datetime


# ── live sources: HTTP fetches and per-source health ─────────────────────────────────────


@dataclass(frozen=True, slots=True, kw_only=True)
class Validators:
    """What a server gave us to make the next request conditional."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Fetched:
    """One HTTP response we read in full (status 304 has an empty body)."""

    url: str  # the final URL, after redirects
    status: int
    headers: tuple[tuple[str, str], ...]  # names lower-cased, in the server's order
    body: bytes
    validators: Validators
    moved_to: str | None = None  # where a chain of permanent redirects (301/308) ended

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k == wanted), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchInfo:
    """What the store keeps from a successful fetch of a live source."""

    url: str  # the URL to fetch next time (updated by a permanent redirect)
    validators: Validators


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceState:
    """The stored health of one live source (a feed or page), kept across runs."""

    name: str
    kind: SourceKind
    configured_url: str  # the URL in the config when this state was written
    url: str  # the URL fetched (differs after a permanent redirect)
    etag: str | None = None
    last_modified: str | None = None
    first_seen: datetime
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    failures: int = 0  # runs in a row that failed
    backoff_until: datetime | None = None
    disabled: bool = False  # 410 Gone: not fetched again until reset
    items_new: int = 0  # in the last run that read it
    items_seen: int = 0
    last_new_at: datetime | None = None
    check_interval_seconds: float | None = None  # its adaptive interval (digest.health.schedule)
    next_check_at: datetime | None = None  # a worker round skips it before this

    @property
    def validators(self) -> Validators:
        return Validators(etag=self.etag, last_modified=self.last_modified)
