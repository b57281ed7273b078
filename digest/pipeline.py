"""The one orchestrator: ``run_once``."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from digest.cluster import ClusterParams, document_frequencies, plan_clusters
from digest.compose import compose
from digest.config import Settings
from digest.dedupe import DedupeParams, dedupe, fingerprints
from digest.health import HealthParams, plan_health
from digest.models import (
    Article,
    Briefing,
    ClusterPlan,
    DedupeResult,
    RunReport,
    SourceOk,
    SourceResult,
    SourceSpec,
    SourceStatus,
    ThreadSummary,
)
from digest.normalize import normalize
from digest.publish import publish
from digest.render import make_environment, render
from digest.sources import IngestContext, ingest_all
from digest.store import Store
from digest.summarize import SummaryParams, summarize

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    day: date | None = None  # briefing day; default: today in the configured time zone
    inputs: tuple[Path, ...] = ()  # extra dump files/folders (from the command line)
    captured_at: datetime | None = None  # capture time for relative dates in dumps
    publish: bool = True


def run_once(
    settings: Settings, *, now: datetime, store: Store, options: RunOptions = RunOptions()
) -> RunReport:
    """One ingest-and-digest run.

    1. ingest     every enabled source; one SourceResult each (a failure is a value);
                  feeds and pages that failed lately are skipped while they back off
    2. normalize  RawItem -> Article
    3. dedupe     against the store's seen keys and within the batch
    4. cluster    new articles + open threads -> ClusterPlan; stored with the articles in
                  one transaction (a crash before commit loses nothing; a re-run redoes it)
    5. summarize  every thread touched on the briefing day
       health     per-source state (validators, failures, back-off) stored after the
                  articles, so a later 304 never hides items that were not saved
    6. compose    the Briefing for the day (selection, order)
    7. render     html / markdown / json / email parts
    8. publish    atomically into output/ (dated folder, index, feed)
    """
    day = options.day or now.astimezone(settings.tz).date()
    run_id = store.begin_run(started=now, day=day)
    states = store.source_states()
    context = IngestContext(
        now=now,
        captured_at=options.captured_at,
        fetch=settings.fetch,
        states=states,
        seen=store.seen_among,
    )
    results = ingest_all(_specs(settings, options), context)
    articles = [
        normalize(item) for r in results if isinstance(r.value, SourceOk) for item in r.value.items
    ]
    deduped = _dedupe(store, articles, settings)
    plan = _store_and_cluster(store, deduped, day=day, run_id=run_id, settings=settings)
    summaries = summarize_day(store, day, settings)
    health, statuses = plan_health(
        states, results, source_statuses(results, deduped), now=now, params=health_params(settings)
    )
    store.save_source_states(health)  # after the articles: a 304 never hides unsaved items
    briefing = compose(
        day,
        summaries,
        generated_at=now,
        timezone=settings.output.timezone,
        title=settings.output.title,
        sources=statuses,
        max_threads=settings.output.max_threads,
    )
    outputs = _publish(briefing, settings) if options.publish and briefing.threads else ()
    report = RunReport(
        started=now,
        finished=now,
        day=day,
        sources=statuses,
        new_articles=len(deduped.new),
        duplicates=len(deduped.duplicates),
        threads_new=len(plan.new_threads),
        threads_extended=len(plan.extensions),
        outputs=outputs,
    )
    store.finish_run(run_id, report, status="ok" if outputs else "empty")
    return report


def health_params(settings: Settings) -> HealthParams:
    f = settings.fetch
    return HealthParams(
        backoff_base_seconds=f.backoff_base_seconds,
        backoff_max_seconds=f.backoff_max_seconds,
        quiet_after_days=f.quiet_after_days,
    )


def _specs(settings: Settings, options: RunOptions) -> tuple[SourceSpec, ...]:
    """Inputs named on the command line replace the configured ones."""
    if options.inputs:
        return tuple(SourceSpec(name=str(p), kind="dump", location=str(p)) for p in options.inputs)
    dumps = tuple(
        SourceSpec(name=str(p), kind="dump", location=str(p)) for p in settings.inputs.dump_dirs
    )
    return (*settings.sources, *dumps)


def _dedupe(store: Store, articles: Sequence[Article], settings: Settings) -> DedupeResult:
    if not articles:
        return DedupeResult(new=(), duplicates=())
    since = min(a.published for a in articles) - timedelta(days=settings.dedupe.recent_days)
    params = DedupeParams(near_threshold=settings.dedupe.near_threshold)
    return dedupe(articles, store.seen_index(since=since), params)


def cluster_params(settings: Settings) -> ClusterParams:
    c = settings.cluster
    return ClusterParams(
        similarity_threshold=c.similarity_threshold,
        window_days=c.window_days,
        decay_days=c.decay_days,
    )


def _store_and_cluster(
    store: Store, deduped: DedupeResult, *, day: date, run_id: int, settings: Settings
) -> ClusterPlan:
    new = deduped.new
    params = cluster_params(settings)
    plan = ClusterPlan(new_threads=(), extensions=())
    with store.transaction():
        store.save_articles(
            new, day=day, run_id=run_id, fingerprints={f.article_id: f for f in fingerprints(new)}
        )
        store.save_duplicates(deduped.duplicates, day=day, run_id=run_id)
        if new:
            since = min(a.published for a in new) - timedelta(days=params.window_days)
            plan = plan_clusters(
                new,
                store.open_threads(since=since),
                now=max(a.published for a in new),
                params=params,
                vocabulary=store.vocabulary(),
            )
            store.apply_plan(plan)
            store.add_vocabulary(document_frequencies(new, params), len(new))
    log.info(
        "stored %d new articles, %d duplicates; %d new threads, %d extended",
        len(new),
        len(deduped.duplicates),
        len(plan.new_threads),
        len(plan.extensions),
    )
    return plan


def summarize_day(store: Store, day: date, settings: Settings) -> tuple[ThreadSummary, ...]:
    """Summaries of every thread that got an article on ``day``."""
    s = settings.summary
    params = SummaryParams(
        max_sentences=s.max_sentences,
        min_sentences=s.min_sentences,
        max_words=s.max_words,
        max_quotes=s.max_quotes,
    )
    summaries = []
    for entry in store.threads_for_day(day):
        ids = entry.thread.article_ids
        summaries.append(
            summarize(
                entry.thread,
                store.articles(ids),
                status="continuing" if entry.continues_from else "new",
                continues_from=entry.continues_from,
                new_article_ids=entry.new_article_ids,
                also_carried_by=store.copies_of(ids),
                params=params,
            )
        )
    return tuple(summaries)


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


def _publish(briefing: Briefing, settings: Settings) -> tuple[Path, ...]:
    env = make_environment(settings.output.templates_dir, settings.output.user_templates_dir)
    return publish(render(env, briefing), briefing, settings.output.dir, env=env)
