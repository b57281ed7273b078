"""The command-line interface: thin commands over the pipeline.

Exit codes: 0 a briefing was published; 1 nothing could be published (or a run error);
2 usage or configuration error.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from dotenv import dotenv_values

from digest import __version__, pipeline
from digest.config import Settings, describe, load_settings
from digest.errors import ConfigError, DigestError
from digest.health import LIVE_KINDS, health_table
from digest.ledger import Ledger
from digest.models import RunReport
from digest.pipeline import RunOptions, health_params, run_once
from digest.sources import display_path
from digest.store import Store

DEFAULT_CONFIG = Path("config/digest.toml")
F = TypeVar("F", bound=Callable[..., Any])


class _Exit2(click.ClickException):
    exit_code = 2


def _parse_time(value: str | None, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"expected an ISO 8601 time, got {value!r}", param_hint=what
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _environ(config: Path | None) -> dict[str, str]:
    """The environment with ``.env`` underneath it (real variables win)."""
    merged: dict[str, str] = {}
    for candidate in {Path(".env"), *((config.parent.parent / ".env",) if config else ())}:
        if candidate.is_file():
            merged.update({k: v for k, v in dotenv_values(candidate).items() if v is not None})
    merged.update(os.environ)
    return merged


def config_options(func: F) -> F:
    """Shared options: --config, --db, --output, --set, -v; loads Settings once."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path),
        help="Config file (default: config/digest.toml if present).",
    )
    @click.option("--db", type=click.Path(path_type=Path), help="SQLite store file.")
    @click.option(
        "--output",
        "--output-dir",
        "output",
        type=click.Path(path_type=Path),
        help="Folder to publish briefings into.",
    )
    @click.option(
        "--set",
        "overrides",
        multiple=True,
        metavar="SECTION.KEY=VALUE",
        help="Override a setting (TOML value syntax); may be repeated.",
    )
    @click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
    @functools.wraps(func)
    def wrapper(
        config_path: Path | None,
        db: Path | None,
        output: Path | None,
        overrides: tuple[str, ...],
        verbose: int,
        **kwargs: Any,
    ) -> Any:
        logging.basicConfig(
            level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)],
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        path = config_path or (DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None)
        flags = list(overrides)
        if db:
            flags.append(f"store.path={str(db.resolve())!r}")
        if output:
            flags.append(f"output.dir={str(output.resolve())!r}")
        try:
            settings = load_settings(path, environ=_environ(path), overrides=flags)
        except ConfigError as e:
            raise _Exit2(str(e)) from e
        return func(settings, **kwargs)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="digest")
def main() -> None:
    """digest: the day's news as an event-clustered, attributed briefing."""


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
@config_options
def run(
    settings: Settings,
    inputs: tuple[Path, ...],
    day: datetime | None,
    captured_at: str | None,
    now_text: str | None,
    email: bool | None,
) -> None:
    """Ingest new articles, cluster them into event threads and publish the briefing.

    INPUTS are dump files or folders; when given they replace [inputs].dump_dirs.
    Prints one line per input (new / seen / error), then the files written.

    Exit status: 0 a briefing was published, 1 nothing could be published,
    2 usage or configuration error.

    \b
    Example:
        digest run samples/dumps --date 2026-03-02 --output /tmp/site
    """
    now = _parse_time(now_text, "--now") or datetime.now(UTC)
    options = RunOptions(
        day=day.date() if day else None,
        inputs=tuple(p.resolve() for p in inputs),
        captured_at=_parse_time(captured_at, "--captured-at"),
        email=email,
    )
    try:
        with Store(settings.store.path) as store:
            report = run_once(settings, now=now, store=store, options=options)
    except DigestError as e:
        raise click.ClickException(str(e)) from e
    width = max((len(s.name) for s in report.sources), default=10)
    for s in report.sources:
        detail = f"error: {s.error}" if s.error else f"{s.new} new, {s.seen} seen"
        click.echo(f"{s.name:<{width}}  {s.status:<5}  {detail}")
    click.echo(
        f"{report.new_articles} new articles, {report.duplicates} duplicates; "
        f"threads: {report.threads_new} new, {report.threads_extended} continued"
    )
    for path in report.outputs:
        click.echo(f"wrote {display_path(path)}")
    _report_edition(report)
    if not report.outputs:
        click.echo(f"nothing to publish for {report.day.isoformat()}: no new articles", err=True)
        sys.exit(1)


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


def _report_edition(report: RunReport) -> None:
    edition = report.edition
    if edition is not None and edition.number is not None:
        runs = f"runs {edition.first_run}..{edition.last_run}"
        click.echo(f"edition No. {edition.number} ({edition.slug}/): {runs}")
    for line in report.emailed:
        click.echo(f"emailed {line}")
    if report.email_error:
        click.echo(f"email queued for the next run: {report.email_error}", err=True)


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

    try:
        level = logging.getLogger().getEffectiveLevel()
        sys.exit(serve(settings, verbose={logging.WARNING: 0, logging.INFO: 1}.get(level, 2)))
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
    from digest.status import status_lines

    try:
        with Store(settings.store.path) as store:
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

    \b
    Example:
        digest send-test me@example.org
    """
    try:
        with Store(settings.store.path) as store:
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

    Columns: status (ok, failing, backing off, disabled, quiet, not yet run), last success,
    items new and seen in its last run, failed runs in a row, and the last error.

    \b
    Example:
        digest sources --reset city-desk
    """
    now = _parse_time(now_text, "--now") or datetime.now(UTC)
    specs = [s for s in settings.sources if s.kind in LIVE_KINDS]
    try:
        with Store(settings.store.path) as store:
            for name in reset:
                if not store.reset_source(name):
                    raise click.BadParameter(f"no stored state for {name!r}", param_hint="--reset")
                click.echo(f"reset {name}: it is fetched on the next run")
            states = store.source_states()
    except DigestError as e:
        raise click.ClickException(str(e)) from e
    if not specs:
        click.echo("no feed or page sources configured (see [[sources]] in the config)")
        return
    for line in health_table(specs, states, now=now, params=health_params(settings)):
        click.echo(line)
