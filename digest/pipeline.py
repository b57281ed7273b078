"""The one orchestrator: ``run_once``."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import jinja2

from digest import collector
from digest.clusterstate import ClusterState
from digest.compose import compose
from digest.config import Settings
from digest.dates import shifted
from digest.dedupe import DedupeParams, batch_keys, dedupe, sign
from digest.editions import EditionRequest, plan_edition, publish_as
from digest.errors import DeliveryError
from digest.health import HealthParams, plan_health
from digest.intake import Handover, store_and_cluster
from digest.ledger import Ledger, WindowThread
from digest.logs import stage
from digest.mailer import (
    FlushResult,
    edition_message,
    flush_outbox,
    one_off_message_id,
    queue_edition,
    send_now,
)
from digest.models import (
    Article,
    Briefing,
    DedupeResult,
    Edition,
    RawItem,
    RunReport,
    SourceOk,
    SourceResult,
    SourceSpec,
    SourceStatus,
    ThreadSummary,
)
from digest.normalize import normalize
from digest.overrides import Overrides, read_overrides
from digest.publish import publish
from digest.recovery import settle
from digest.render import make_environment, render
from digest.site import installation, site_identity
from digest.sources import IngestContext, expand, ingest_all
from digest.statuses import log_results, source_statuses
from digest.store import Store
from digest.summarize import SummaryParams, summarize
from digest.threadstore import ThreadStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    day: date | None = None  # briefing day; default: today in the configured time zone
    inputs: tuple[Path, ...] = ()  # extra dump files/folders (from the command line)
    captured_at: datetime | None = None  # capture time for relative dates in dumps
    publish: bool = True
    slot: datetime | None = None  # the schedule slot this run answers (the daemon)
    late: bool = False  # the slot was missed and is caught up now
    email: bool | None = None  # mail the edition; None: [email].enabled
    send_mail: bool = True  # False: only queue it (a worker's mail job sends the outbox)
    start_over: bool = False  # a site the store does not know is moved aside (recovery)


def run_once(
    settings: Settings,
    *,
    now: datetime,
    store: Store,
    options: RunOptions = RunOptions(),
    cluster_state: ClusterState | None = None,
) -> RunReport:
    """One ingest-and-digest run: it fills one edition (see :mod:`digest.editions`).
    The caller holds the store's writer lock. ``cluster_state``: the clustering window a
    long-lived caller (``digest daemon``) keeps between its runs (``digest.clusterstate``;
    it reloads from the store when anything else changed threads since its last run).

    0. settle     what killed runs left (see :mod:`digest.recovery`); a site the store
                  does not know is refused before anything is stored
    1. ingest     every enabled source; one SourceResult each (a failure is a value);
                  feeds and pages that failed lately are skipped while they back off
    2. normalize  RawItem -> Article
    3. dedupe     against the store's seen keys and within the batch
    4. cluster    new articles + open threads -> ClusterPlan; stored with the articles in
                  one transaction (a crash before commit loses nothing; a re-run redoes it)
       health     per-source state (validators, failures, back-off) stored after the
                  articles, so a later 304 never hides items that were not saved
    5. edition    which edition this run fills and its window (a range of runs)
    6. summarize  every thread that got an article in the window
    7. compose    the Briefing for the edition (selection, order)
    8. render     html / markdown / json / email parts
    9. publish    atomically into output/ (edition folder, archive, feed, then index);
                  the edition is recorded in the ledger
    10. mail      queue the edition for every recipient; send everything still queued
    """
    day = options.day or now.astimezone(settings.tz).date()
    out, start_over = settings.output.dir, options.start_over
    settle(store, out, publishing=options.publish, start_over=start_over, now=now)
    run_id = store.begin_run(started=now, day=day)
    states = store.source_states()
    context = IngestContext(
        now=now,
        captured_at=options.captured_at,
        fetch=settings.fetch,
        states=states,
        seen=store.seen_among,
        max_file_bytes=settings.inputs.max_file_bytes,
    )
    specs = expand(input_specs(settings, options))
    with stage("ingest", total=len(specs), unit="inputs") as advance:
        results = ingest_all(specs, context, progress=advance)
    log_results(results)
    items = [item for r in results if isinstance(r.value, SourceOk) for item in r.value.items]
    results = _emptied(results)  # (the raw texts, the biggest thing a run holds: in items only)
    with stage("normalize", total=len(items), unit="articles") as advance:
        articles = _normalized(items)
        advance(len(articles))
    with stage("dedupe", total=len(articles), unit="articles"):
        deduped = _dedupe(store, articles, settings)
    del articles
    found = source_statuses(results, deduped)
    batch = Handover(deduped)  # stored slice by slice, each slice's texts then let go
    del deduped
    overrides = read_overrides(settings.cluster.overrides_file)
    for problem in overrides.problems:
        log.error("%s (skipped)", problem)
    clustered = store_and_cluster(
        store,
        batch,
        day=day,
        run_id=run_id,
        settings=settings,
        now=now,
        overrides=overrides,
        state=cluster_state,
    )
    plan = clustered.plan
    ledger = Ledger(store)
    edition = _plan_edition(ledger, settings, options, run_id=run_id, now=now)
    health, statuses = plan_health(states, results, found, now=now, params=health_params(settings))
    store.save_source_states(health)  # after the articles: a 304 never hides unsaved items
    briefing = edition_briefing(
        store, settings, edition, now=now, sources=statuses, overrides=overrides
    )
    look = settings.output
    env = make_environment(look.templates_dir, look.user_templates_dir, language=look.language)
    outputs: tuple[Path, ...] = ()
    if options.publish and briefing.threads:
        edition = publish_as(edition, next_number=ledger.next_number(), taken_slugs=ledger.slugs())
        briefing = with_edition(briefing, edition)
        with stage("publish", unit="files") as advance:
            site = site_identity(settings.output.site_url, installation(store, now=now))
            rendered = render(env, briefing)
            redirects = ThreadStore(store).redirects()
            outputs = publish(
                rendered, briefing, settings.output.dir, env=env, site=site, redirects=redirects
            )
            advance(len(outputs))
        for path in outputs:
            log.debug("wrote %s", path)
    if outputs or edition.scheduled_for is not None:
        edition = ledger.save(edition)
    mailed = _mail(settings, ledger, env, briefing if outputs else None, options, now=now)
    report = RunReport(
        started=now,
        finished=now,
        day=day,
        sources=statuses,
        new_articles=batch.new_articles,
        duplicates=batch.duplicates,
        threads_new=len(plan.new_threads),
        threads_extended=len(plan.extensions),
        threads_merged=len(plan.merges),
        overrides=clustered.corrections,
        override_problems=overrides.problems,
        outputs=outputs,
        edition=edition,
        emailed=tuple(f"No. {d.edition} -> {d.recipient}" for d in mailed.sent),
        email_error=mailed.error,
    )
    store.finish_run(run_id, report, status="ok" if outputs else "empty")
    return report


@collector.paused()
def _normalized(items: list[RawItem]) -> list[Article]:
    """Each of ``items`` normalised, in order, emptying ``items`` as it goes: a raw text is
    let go as soon as its article is made, so a big batch never holds all its raw texts
    beside all its clean ones (100k articles: ~0.25 GB each), and the clean ones reuse the
    memory the raw ones leave."""
    items.reverse()
    articles = []
    while items:
        articles.append(normalize(items.pop()))
    return articles


def _emptied(results: Sequence[SourceResult]) -> tuple[SourceResult, ...]:
    """The results without their raw items (what later stages read of them stays)."""
    return tuple(
        replace(r, value=SourceOk(items=())) if isinstance(r.value, SourceOk) else r
        for r in results
    )


def health_params(settings: Settings) -> HealthParams:
    f = settings.fetch
    return HealthParams(
        backoff_base_seconds=f.backoff_base_seconds,
        backoff_max_seconds=f.backoff_max_seconds,
        quiet_after_days=f.quiet_after_days,
        min_check_seconds=f.min_check_minutes * 60,
        max_check_seconds=f.max_check_minutes * 60,
    )


def _plan_edition(
    ledger: Ledger, settings: Settings, options: RunOptions, *, run_id: int, now: datetime
) -> Edition:
    when = options.slot or now
    request = EditionRequest(
        day=options.day or when.astimezone(settings.tz).date(),
        slot=options.slot,
        late=options.late,
        run_id=run_id,
        now=now,
    )
    latest = ledger.latest()
    first_run_started = ledger.run_started(1) or now
    existing = ledger.find(slot=options.slot, day=options.day)
    plan = plan_edition(
        request, existing=existing, latest=latest, first_run_started=first_run_started
    )
    today = latest is not None and latest.day == request.day
    manual_today = existing is None and options.slot is None and today
    if manual_today and not ledger.window_has_news(plan.first_run, plan.last_run):
        return plan_edition(  # nothing new: today's newest edition is re-run
            request, existing=latest, latest=latest, first_run_started=first_run_started
        )
    return plan


def edition_briefing(
    store: Store,
    settings: Settings,
    edition: Edition,
    *,
    now: datetime,
    sources: Sequence[SourceStatus] = (),
    overrides: Overrides | None = None,
) -> Briefing:
    """The composed briefing of ``edition``: its window's threads (the operator's muted
    ones left out, pinned ones first), with its details."""
    if overrides is None:
        overrides = read_overrides(settings.cluster.overrides_file)
    book = ThreadStore(store)
    pinned = frozenset(book.resolve(t) for t in overrides.threads("pin"))
    muted = frozenset(book.resolve(t) for t in overrides.threads("mute"))
    limit = settings.output.max_threads
    summaries = summarize_window(store, edition, settings, limit=limit, skip=muted, keep=pinned)
    briefing = compose(
        edition.day,
        summaries,
        generated_at=now,
        timezone=settings.output.timezone,
        title=settings.output.title,
        sources=sources,
        max_threads=limit,
        pinned=pinned,
    )
    return with_edition(briefing, edition)


def with_edition(briefing: Briefing, edition: Edition) -> Briefing:
    return replace(
        briefing,
        edition=edition.number,
        slug=edition.slug,
        window_start=edition.window_start,
        window_end=edition.window_end,
        late=edition.late,
        scheduled_for=edition.scheduled_for,
    )


def send_test(settings: Settings, store: Store, address: str, *, now: datetime) -> int:
    """Email the latest published edition to ``address`` now (not through the outbox)."""
    email = settings.email
    if not email.from_address:
        raise DeliveryError("[email].from_address", "no sender", hint="set it in the config")
    edition = Ledger(store).latest_published()
    if edition is None or edition.number is None:
        raise DeliveryError(str(settings.store.path), "no edition published yet")
    briefing = edition_briefing(store, settings, edition, now=edition.produced_at)
    look = settings.output
    env = make_environment(look.templates_dir, look.user_templates_dir, language=look.language)
    msg_id = one_off_message_id(email)
    send_now(
        edition_message(env, settings, briefing, recipient=address, msg_id=msg_id, now=now), email
    )
    return edition.number


def _mail(
    settings: Settings,
    ledger: Ledger,
    env: jinja2.Environment,
    briefing: Briefing | None,
    options: RunOptions,
    *,
    now: datetime,
) -> FlushResult:
    """Queue ``briefing`` (when published) for every recipient, then send what is queued."""
    enabled = settings.email.enabled if options.email is None else options.email
    if not enabled:
        return FlushResult(sent=(), error=None)
    queue_error = None
    if briefing is not None and briefing.edition is not None:
        try:
            queue_edition(ledger, settings, env, briefing, now=now)
        except DeliveryError as e:  # a message that cannot be built: the rest still goes
            queue_error = str(e)
    if not options.send_mail:
        return FlushResult(sent=(), error=queue_error)
    flushed = flush_outbox(ledger, settings.email, now=now)
    return replace(flushed, error=queue_error or flushed.error)


def input_specs(settings: Settings, options: RunOptions) -> tuple[SourceSpec, ...]:
    """Inputs named on the command line replace the configured ones."""
    if options.inputs:
        return tuple(SourceSpec(name=str(p), kind="dump", location=str(p)) for p in options.inputs)
    dumps = tuple(
        SourceSpec(name=str(p), kind="dump", location=str(p)) for p in settings.inputs.dump_dirs
    )
    return (*settings.sources, *dumps)


@collector.paused()
def _dedupe(store: Store, articles: Sequence[Article], settings: Settings) -> DedupeResult:
    if not articles:
        return DedupeResult(new=(), duplicates=())
    since = shifted(
        min(a.published for a in articles), -timedelta(days=settings.dedupe.recent_days)
    )
    params = DedupeParams(near_threshold=settings.dedupe.near_threshold)
    signed = sign(articles, params)  # once per run: judged, looked up, then stored
    seen = store.seen_index(batch_keys(articles), signed.lookup_bands(), since=since)
    return dedupe(articles, seen, params, signed=signed)


def summary_params(settings: Settings) -> SummaryParams:
    s = settings.summary
    return SummaryParams(
        max_sentences=s.max_sentences,
        min_sentences=s.min_sentences,
        max_words=s.max_words,
        max_quotes=s.max_quotes,
    )


@collector.paused()
def summarize_window(
    store: Store,
    edition: Edition,
    settings: Settings,
    *,
    limit: int | None = None,
    skip: frozenset[str] = frozenset(),
    keep: frozenset[str] = frozenset(),
) -> tuple[ThreadSummary, ...]:
    """Summaries of every thread that got an article in the edition's window, but those in
    ``skip``; with ``limit``, only of the threads that can make a briefing of ``limit``
    threads (and those in ``keep``, whatever their rank)."""
    params = summary_params(settings)
    entries: Sequence[WindowThread] = [
        e
        for e in Ledger(store).threads_in_window(edition.first_run, edition.last_run)
        if e.thread.id not in skip
    ]
    if limit is not None:
        ranked = _most_important(entries, limit)
        entries = ranked + [e for e in entries if e.thread.id in keep and e not in ranked]
    ids = [i for e in entries for i in e.thread.article_ids]
    articles, copies = store.articles(ids), store.copies_of(ids)
    with stage("summarise", total=len(entries), unit="threads"):
        summaries = _summaries(entries, articles, copies, params)
    book = ThreadStore(store)
    thread_ids = [s.thread_id for s in summaries]
    reasons, merged = book.reasons_for(thread_ids), book.merged_into(thread_ids)
    return tuple(
        replace(s, reasons=reasons.get(s.thread_id, ()), merged_from=merged.get(s.thread_id, ()))
        for s in summaries
    )


def _summaries(
    entries: Sequence[WindowThread],
    articles: Mapping[str, Article],
    copies: Mapping[str, tuple[Article, ...]],
    params: SummaryParams,
) -> tuple[ThreadSummary, ...]:
    return tuple(
        replace(
            summarize(
                e.thread,
                {i: articles[i] for i in e.thread.article_ids if i in articles},
                status="continuing" if e.continues_from else "new",
                continues_from=e.continues_from,
                new_article_ids=e.new_article_ids,
                also_carried_by={i: copies[i] for i in e.thread.article_ids if i in copies},
                params=params,
            ),
            new_article_ids=e.stored_ids,
        )
        for e in entries
    )


def _most_important(entries: Sequence[WindowThread], limit: int) -> list[WindowThread]:
    """The ``limit`` threads first in ``compose.importance`` order (outlets, articles with
    their copies, recency), and any tied with the last; the headline decides ties later."""

    def key(e: WindowThread) -> tuple[int, int, float]:
        return (-e.outlets, -e.articles, -e.thread.last_updated.timestamp())

    ranked = sorted(entries, key=key)
    if len(ranked) <= limit:
        return ranked
    last = key(ranked[limit - 1])
    return [e for e in ranked if key(e) <= last]
