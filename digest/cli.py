"""The command-line interface: thin commands over the pipeline.

Exit codes (cron conventions): 0 the command did its work (for ``run``: an edition was
published, or there was nothing new, said on stdout); 1 it failed (a run error, every
source failed, the store stayed busy); 2 usage or configuration error. ``--quiet`` prints
errors only, so cron mails only when something is wrong.
"""

from __future__ import annotations

import contextlib
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

# Only what every command needs is imported here: `digest --help` stays quick. The stages
# (trafilatura, httpx, numpy behind them) are imported by the commands that run them.
from digest import __version__, logs
from digest.cli_options import VERBOSE, Exit2, config_options, parse_time, quiet_flag, writer_lock
from digest.config import Settings, describe
from digest.config_editions import check_address
from digest.discovery import find_config, user_config
from digest.errors import ConfigError, DigestError
from digest.fsutil import display_path
from digest.health import LIVE_KINDS, health_table
from digest.installation import init_dir
from digest.models import RunReport
from digest.text import printable


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="digest")
def main() -> None:
    """digest: the day's news as an event-clustered, attributed briefing."""


def _add_thread_commands() -> None:
    from digest.cli_threads import explain_command, threads_command

    main.add_command(threads_command)
    main.add_command(explain_command)
    from digest.cli_workers import round_command, worker_command

    main.add_command(worker_command)
    main.add_command(round_command)


@main.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing digest.toml.")
def init(directory: Path | None, force: bool) -> None:
    """Set up a new installation: a commented digest.toml, .env.example and dumps/ in DIRECTORY.

    DIRECTORY defaults to $XDG_CONFIG_HOME/digest (~/.config/digest), where every digest
    command finds its config from any folder. The store (var/) and the site (output/) are
    created inside DIRECTORY by the first run; the config's paths are relative to it.

    \b
    Example:
        digest init ~/news && digest run --config ~/news/digest.toml
    """
    target = (directory or user_config(os.environ).parent).expanduser()
    try:
        written = init_dir(target, force=force)
    except ConfigError as e:
        raise Exit2(str(e)) from e
    for path in written:
        click.echo(f"{'created' if path.is_dir() else 'wrote'} {display_path(path)}")
    config = target / "digest.toml"
    found = find_config(None, os.environ, Path.cwd())
    use = "" if found and found.resolve() == config.resolve() else f" --config {config}"
    click.echo(f"next: add feeds as [[sources]] to {display_path(config)}, then: digest run{use}")


@main.command()
@click.argument("inputs", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Briefing date (default: today in the configured time zone).",
)
@click.option(
    "--captured-at",
    help="Capture time of the dumps, for their relative times "
    "('3 hours ago'); default: each file's sidecar, else its modification time.",
)
@click.option(
    "--now", "now_text", help="Pretend the current time is this ISO 8601 time (reproducible runs)."
)
@click.option(
    "--email/--no-email",
    "email",
    default=None,
    help="Email the edition (and anything still queued); default: [email].enabled.",
)
@click.option(
    "--start-over",
    is_flag=True,
    help="If the output folder holds editions this store does not know (the store was "
    "lost, emptied or replaced), move that site aside to OUTPUT.replaced-TIME/ and start a "
    "new one at No. 1; otherwise it changes nothing.",
)
@config_options
def run(
    settings: Settings,
    inputs: tuple[Path, ...],
    day: datetime | None,
    captured_at: str | None,
    now_text: str | None,
    email: bool | None,
    start_over: bool,
) -> None:
    """Ingest new articles, cluster them into event threads and publish the briefing.

    INPUTS are dump files or folders; when given they replace [inputs].dump_dirs.
    Prints one line per input (new / seen / error), then the files written.

    Exit status: 0 the run succeeded: an edition was published, or there was nothing new
    ("nothing new ..." on stdout); 1 the run failed (every input failed, a store or publish
    error, the store stayed busy); 2 usage or configuration error. With --quiet only
    errors are printed (the inputs that failed, on stderr).

    \b
    Example:
        digest run samples/dumps --date 2026-03-02 --output /tmp/site
    """
    from digest.pipeline import RunOptions, input_specs, run_once
    from digest.sources import skipped_files
    from digest.store import open_store

    now = parse_time(now_text, "--now") or datetime.now(UTC)
    options = RunOptions(
        day=day.date() if day else None,
        inputs=tuple(p.resolve() for p in inputs),
        captured_at=parse_time(captured_at, "--captured-at"),
        email=email,
        start_over=start_over,
    )
    try:
        wait = settings.store.lock_wait_seconds  # also for another program's SQLite lock
        with (
            writer_lock(settings, "digest run"),
            open_store(settings.store, busy_timeout_seconds=wait) as store,
        ):
            report = run_once(settings, now=now, store=store, options=options)
    except DigestError as e:
        raise click.ClickException(str(e)) from e
    _print_report(report, quiet=quiet_flag())
    skipped = skipped_files(input_specs(settings, options))
    if skipped and not quiet_flag():
        click.echo(f"not read (README*, LICENSE*, hidden files): {', '.join(skipped)}")
    if report.sources and len(report.failed) == len(report.sources):
        raise click.ClickException(f"no input could be read ({len(report.sources)} failed)")


def _print_report(report: RunReport, *, quiet: bool) -> None:
    """One line per input, the counts, the files written and the edition (stdout); the
    inputs that failed also on stderr with --quiet."""
    for s in report.failed if quiet else ():
        click.echo(f"error: {s.name}: {s.error}", err=True)
    for problem in report.override_problems:
        click.echo(f"error: {problem}", err=True)
    if not quiet:
        width = max((len(s.name) for s in report.sources), default=10)
        for s in report.sources:
            detail = f"error: {s.error}" if s.error else f"{s.new} new, {s.seen} seen"
            click.echo(f"{s.name:<{width}}  {s.status:<5}  {detail}")
        for line in report.overrides:
            click.echo(line)
        click.echo(
            f"{report.new_articles} new articles, {report.duplicates} duplicates; "
            f"threads: {report.threads_new} new, {report.threads_extended} continued"
            + (f", {report.threads_merged} merged" if report.threads_merged else "")
        )
        for path in report.outputs:
            click.echo(f"wrote {display_path(path)}")
    _report_edition(report, quiet=quiet)
    if not report.outputs and not quiet:
        click.echo(f"nothing new for {report.day.isoformat()}: no edition published")


@main.command("config")
@config_options
def config_command(settings: Settings) -> None:
    """Print every effective setting, where it came from, and what it does.

    \b
    Example:
        digest config --set cluster.similarity_threshold=0.3
    """
    click.echo(f"# config file: {settings.config_path or '(none: defaults)'}")
    for key, value, origin, help_text in describe(settings):
        shown = display_path(value) if isinstance(value, Path) else value
        if isinstance(value, tuple):
            shown = [display_path(v) if isinstance(v, Path) else v for v in value]
        click.echo(f"{key} = {shown!r}  [{origin}]  # {help_text}")
    for spec in settings.sources:
        click.echo(f"source {spec.name!r}: {spec.kind} {spec.location}")


def _report_edition(report: RunReport, *, quiet: bool = False) -> None:
    edition = report.edition
    if edition is not None and edition.number is not None and not quiet:
        runs = f"runs {edition.first_run}..{edition.last_run}"
        click.echo(f"edition No. {edition.number} ({edition.slug}/): {runs}")
    for line in () if quiet else report.emailed:
        click.echo(f"emailed {line}")
    if report.email_error:
        click.echo(f"email: {report.email_error}", err=True)  # the hint says what happens next


@main.command()
@config_options
def daemon(settings: Settings) -> None:
    """Produce an edition on the [schedule] until stopped (SIGTERM or Ctrl-C).

    A missed edition (daemon down, machine asleep) is produced once, late, on start.
    Logs go to stderr with timestamps, and to [schedule].log_file when set.

    Exit status: 0 stopped by a signal, 1 another daemon holds the store's lock,
    2 usage or configuration error.

    \b
    Example:
        digest daemon --set schedule.cron="'30 6 * * mon-fri'"
    """
    from digest.daemon import serve  # apscheduler is only loaded for the daemon

    logs.configure(
        verbose=int(click.get_current_context().meta.get(VERBOSE, 0)),
        quiet=quiet_flag(),
        fmt=settings.log.format,
        progress_seconds=settings.log.progress_seconds,
        log_file=settings.schedule.log_file,
        daemon=True,
    )
    try:
        sys.exit(serve(settings))
    except DigestError as e:
        raise click.ClickException(str(e)) from e


@main.command()
@click.option("-n", "--last", "limit", default=10, show_default=True, help="Editions to list.")
@config_options
def status(settings: Settings, limit: int) -> None:
    """Print the schedule, the next run, the last editions and their email delivery.

    \b
    Example:
        digest status --last 5
    """
    from digest.ledger import Ledger
    from digest.status import status_lines
    from digest.store import open_store

    try:
        with open_store(settings.store) as store:
            lines = status_lines(settings, Ledger(store), now=datetime.now(UTC), limit=limit)
    except (DigestError, ValueError) as e:
        raise click.ClickException(str(e)) from e
    for line in lines:
        click.echo(line)


@main.command("send-test")
@click.argument("address")
@config_options
def send_test(settings: Settings, address: str) -> None:
    """Email the latest edition to ADDRESS now, to check the [email] settings.

    It does not use or change the outbox: recipients get their editions as usual.

    ADDRESS is checked like each of [email].to_addresses: one address, on one line.

    \b
    Example:
        digest send-test me@example.org
    """
    from digest import pipeline
    from digest.store import open_store

    try:
        check_address(address)
    except ValueError as e:
        raise Exit2(f"send-test ADDRESS: {printable(str(e))}") from None
    try:
        with open_store(settings.store) as store:
            number = pipeline.send_test(settings, store, address, now=datetime.now(UTC))
    except DigestError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"sent edition No. {number} to {address}")


@main.command("sources")
@click.option(
    "--reset",
    metavar="NAME",
    multiple=True,
    help="Clear a source's failures, back-off and disabled flag; it is fetched on the next run.",
)
@click.option("--now", "now_text", help="Judge back-off and quiet sources at this ISO 8601 time.")
@config_options
def sources_command(settings: Settings, reset: tuple[str, ...], now_text: str | None) -> None:
    """Print the health of every feed and page source, one line each.

    Columns: status (ok, failing, backing off, disabled, quiet, not yet run, not due: a
    worker round skips it until its next check), last success,
    items new and seen in its last run, failed runs in a row, and the last error; then every
    input (feed, page or dump file) that failed in the last run, with its error.

    \b
    Example:
        digest sources --reset city-desk
    """
    from digest.pipeline import health_params
    from digest.status import last_run_lines
    from digest.store import open_store

    now = parse_time(now_text, "--now") or datetime.now(UTC)
    specs = [s for s in settings.sources if s.kind in LIVE_KINDS]
    try:
        lock = (
            writer_lock(settings, "digest sources --reset") if reset else contextlib.nullcontext()
        )
        with lock, open_store(settings.store) as store:
            for name in reset:
                if not store.reset_source(name):
                    raise click.BadParameter(f"no stored state for {name!r}", param_hint="--reset")
                click.echo(f"reset {name}: it is fetched on the next run")
            states = store.source_states()
            failures = last_run_lines(store.db, settings.tz)
    except DigestError as e:
        raise click.ClickException(str(e)) from e
    if not specs:
        click.echo("no feed or page sources configured (see [[sources]] in the config)")
    else:
        for line in health_table(specs, states, now=now, params=health_params(settings)):
            click.echo(line)
    if failures[1:]:
        click.echo("inputs that failed in the last run:")
    for line in failures[1:]:
        click.echo(line)


_add_thread_commands()
