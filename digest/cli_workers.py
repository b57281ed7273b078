"""``digest worker`` and ``digest round``: runs spread over machines on a PostgreSQL store
(#15; see digest/workers.py)."""

from __future__ import annotations

import os
import socket
import sys
import time
from datetime import UTC, date, datetime
from types import ModuleType

import click

from digest import logs
from digest.cli_options import VERBOSE, config_options, parse_time, quiet_flag
from digest.config import Settings
from digest.errors import DigestError


def _configure_logs(settings: Settings) -> None:
    logs.configure(
        verbose=int(click.get_current_context().meta.get(VERBOSE, 0)),
        quiet=quiet_flag(),
        fmt=settings.log.format,
        progress_seconds=settings.log.progress_seconds,
        log_file=None,
        daemon=True,
    )


def _workers() -> ModuleType:
    try:
        from digest import workers
    except ImportError as e:  # procrastinate / psycopg are the 'postgres' extra
        raise click.ClickException(
            f"workers need the PostgreSQL extra: pip install 'digest[postgres]' ({e})"
        ) from e
    return workers


@click.command("worker")
@click.option("--name", help="Worker name in logs and in procrastinate (default: host-pid).")
@click.option(
    "--queue",
    "queues",
    multiple=True,
    type=click.Choice(["fetch", "cluster", "publish", "mail"]),
    help="Take only these jobs (repeatable; default: all).",
)
@click.option(
    "--stalled-after",
    default=30.0,
    show_default=True,
    help="Seconds without a heartbeat after which a worker's job is retried by the others.",
)
@click.option("--until-idle", is_flag=True, help="Exit once no job is waiting (tests, cron).")
@click.option("--keep-jobs", is_flag=True, help="Keep finished jobs and their timings.")
@config_options
def worker_command(
    settings: Settings,
    name: str | None,
    queues: tuple[str, ...],
    stalled_after: float,
    until_idle: bool,
    keep_jobs: bool,
) -> None:
    """Take fetch, cluster, publish and mail jobs from the PostgreSQL store ([store].url).

    Start any number, on any machines that reach the database; `digest daemon` (or
    `digest round`) defers the jobs. SIGTERM or Ctrl-C finish the current job first.

    \b
    Example:
        DIGEST_STORE__URL=postgresql://digest@db/digest digest worker --queue fetch
    """
    _configure_logs(settings)
    workers = _workers()
    try:
        workers.run_worker(
            settings,
            name=name or f"{socket.gethostname()}-{os.getpid()}",
            wait=not until_idle,
            stalled_after=stalled_after,
            queues=queues or workers.QUEUES,
            keep_jobs=keep_jobs,
        )
    except DigestError as e:
        raise click.ClickException(str(e)) from e


@click.command("round")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="Briefing date.")
@click.option("--now", "now_text", help="Pretend the current time is this ISO 8601 time.")
@click.option("--wait", "wait_seconds", type=float, default=0.0, help="Wait this long for it.")
@click.option("--all", "every_source", is_flag=True, help="Fetch every source, due or not.")
@config_options
def round_command(
    settings: Settings,
    day: datetime | None,
    now_text: str | None,
    wait_seconds: float,
    every_source: bool,
) -> None:
    """Start one run on the workers (what `digest run` does, as jobs) and print its id.

    It fetches the sources that are due (each feed's next check follows how often it
    publishes, [fetch].min_check_minutes to max_check_minutes; `digest sources` shows
    "not due"); --all fetches every one. With --wait, wait for its edition and its email
    (exit status 1 when it is not done in time, e.g. mail still queued: the SMTP server
    down).

    \b
    Example:
        digest round --wait 600
    """
    _configure_logs(settings)
    workers = _workers()

    now = parse_time(now_text, "--now") or datetime.now(UTC)
    when: date | None = day.date() if day else None
    try:
        workers.prepare(settings)
        app = workers.make_app(settings)
        with app.open():
            rid = workers.start_round(app, settings, now=now, day=when, every_source=every_source)
        if rid is None:
            raise click.ClickException("that round was already started")
        click.echo(rid)
        deadline = time.monotonic() + wait_seconds
        while wait_seconds and (state := workers.round_state(settings, rid)) != "done":
            if time.monotonic() > deadline:
                click.echo(f"round {rid} not done after {wait_seconds:g} s: {state}", err=True)
                sys.exit(1)
            time.sleep(0.5)
    except DigestError as e:
        raise click.ClickException(str(e)) from e
