"""``digest daemon``: editions on a schedule, for months, unattended (the I/O edge).

- One APScheduler 3.x ``BackgroundScheduler`` in [output].timezone with deliberate job
  defaults: ``coalesce`` (a backlog of missed fires runs once), ``max_instances=1`` and an
  explicit ``misfire_grace_time`` ([schedule].misfire_grace_seconds; the library default of
  1 s silently skips a run that starts a little late). One job, id ``digest-edition``,
  added with ``replace_existing=True``; the in-memory job store is enough, because:
- catch-up comes from our own editions ledger: on start, ``schedule.owed_edition`` decides
  whether the latest slot was missed (daemon down, machine asleep); if so that edition is
  produced once, late, and marked so. A restart after that owes nothing.
- One daemon per store: an exclusive ``flock`` on ``<store>.daemon.lock``, which the OS
  releases when the process dies. A second daemon exits at once with status 1 and one line.
  Each run also takes the store's writer lock (:mod:`digest.locks`), as ``digest run`` does:
  a manual run and a scheduled one never write at once.
- SIGTERM/SIGINT: no new run starts; the current one finishes; exit status 0. The signal
  handler only sets an event; the main thread looks at it every half second and then shuts
  the scheduler down, so a signal that comes while the scheduler is still starting is not
  lost (a handler that shut down a ``BlockingScheduler`` could find it not yet running, and
  the daemon then ran on after SIGTERM).
- A run that raises is logged (one line for a DigestError, a traceback for a bug) and the
  schedule goes on. Every tick also retries email still queued in the outbox.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from types import FrameType

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from digest.clusterstate import ClusterState
from digest.config import Settings
from digest.errors import DigestError
from digest.intake import cluster_params
from digest.ledger import Ledger
from digest.locks import DaemonLock, StoreLock
from digest.pipeline import RunOptions, run_once
from digest.schedule import (
    fire_times,
    last_fire_time,
    make_trigger,
    owed_edition,
    repeats_wall_time,
)
from digest.store import open_store

log = logging.getLogger(__name__)

JOB_ID = "digest-edition"
WAKE_SECONDS = 0.5  # how often the main thread looks whether a signal asked it to stop


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Daemon:
    """The scheduler, its one job, the catch-up on start and the signal handling."""

    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self.settings = settings
        self.clock = clock
        self.trigger: CronTrigger = make_trigger(settings.schedule.cron, settings.tz)
        self.stopping = threading.Event()
        # the clustering window, kept from run to run (a manual `digest run` in between, or
        # an operator's correction, makes the next run reload it from the store)
        self.cluster_state = ClusterState(params=cluster_params(settings))
        self.scheduler = BackgroundScheduler(
            timezone=settings.tz,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": settings.schedule.misfire_grace_seconds,
            },
        )

    def serve(self) -> int:
        """Run until SIGTERM/SIGINT; returns the exit status (0)."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        log.info(
            "daemon started (pid %d): schedule %r in %s; store %s",
            os.getpid(),
            self.settings.schedule.cron,
            self.settings.output.timezone,
            self.settings.store.path,
        )
        self.catch_up()
        if not self.stopping.is_set():
            self.scheduler.add_listener(self._on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
            self.scheduler.add_job(
                self.tick, self.trigger, id=JOB_ID, name="edition", replace_existing=True
            )
            self.scheduler.start()
            log.info("next edition at %s", self._next_run())
            while not self.stopping.is_set():  # a sleep, not Event.wait: the handler's set()
                time.sleep(WAKE_SECONDS)  # must never find the event's lock held by this thread
            self.scheduler.shutdown(wait=True)  # the run in progress, if any, finishes first
        log.info("daemon stopped")
        return 0

    def catch_up(self) -> None:
        """Produce the latest slot late when the ledger shows it was missed."""
        with open_store(self.settings.store) as store:
            last = Ledger(store).last_scheduled_for()
        slot = owed_edition(last, self.clock(), self.trigger)
        if slot is not None:
            log.warning(
                "the edition for %s was missed: producing it now, late",
                _local(slot, self.settings.tz),
            )
            self.produce(slot, late=True)

    def tick(self) -> None:
        """The scheduled job: the edition for the slot that just fired."""
        slot = last_fire_time(self.trigger, self.clock())
        if slot is not None:
            self.produce(slot, late=False)

    def produce(self, slot: datetime, *, late: bool) -> None:
        """One run for ``slot``; a failure is logged and the schedule goes on."""
        if self.stopping.is_set():
            return
        try:  # (never two at once: catch-up runs before the schedule starts, max_instances=1)
            self._run(slot, late)
        except DigestError as e:
            log.error("edition for %s failed: %s", _local(slot, self.settings.tz), e)
        except Exception:  # a bug must not end the schedule: logged in full, next run goes on
            log.exception("edition for %s failed with a bug", _local(slot, self.settings.tz))

    def _run(self, slot: datetime, late: bool) -> None:
        if self.settings.store.url:  # PostgreSQL: the slot's round is done by `digest worker`s
            from digest.workers import defer_slot

            defer_slot(self.settings, slot=slot, late=late, now=self.clock())
            return
        what = f"digest daemon, edition for {_local(slot, self.settings.tz)}"
        wait = self.settings.store.lock_wait_seconds
        with (
            StoreLock(self.settings.store.path, what, wait_seconds=wait),
            open_store(self.settings.store, busy_timeout_seconds=wait) as store,
        ):
            previous = Ledger(store).last_scheduled_for()
            if repeats_wall_time(slot, previous, self.settings.tz):
                log.info("skipping %s: a repeated local time (DST change)", slot.isoformat())
                return
            options = RunOptions(slot=slot, late=late)
            report = run_once(
                self.settings,
                now=self.clock(),
                store=store,
                options=options,
                cluster_state=self.cluster_state,
            )
        edition = report.edition
        if edition is not None and edition.number is not None:
            log.info(
                "edition No. %d%s: %d new articles, %d files written",
                edition.number,
                " (late)" if edition.late else "",
                report.new_articles,
                len(report.outputs),
            )
        else:
            log.info("nothing new for %s: no edition published", _local(slot, self.settings.tz))
        for line in report.emailed:
            log.info("emailed %s", line)
        if report.email_error:
            log.error("email still queued: %s", report.email_error)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping.is_set():
            return
        self.stopping.set()
        log.info("%s: stopping after the current run", signal.Signals(signum).name)

    def _on_event(self, event: JobExecutionEvent) -> None:
        what = "missed" if event.code == EVENT_JOB_MISSED else f"failed: {event.exception!r}"
        log.error("job %s %s (scheduled %s)", event.job_id, what, event.scheduled_run_time)

    def _next_run(self) -> str:
        upcoming = fire_times(self.trigger, self.clock(), 1)
        return _local(upcoming[0], self.settings.tz) if upcoming else "never"


def _local(when: datetime, tz: tzinfo) -> str:
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z")


def serve(settings: Settings) -> int:
    """``digest daemon``: take the store's daemon lock, then run the schedule until stopped."""
    daemon = Daemon(settings)
    with DaemonLock(settings.store.path):
        return daemon.serve()
