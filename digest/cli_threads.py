"""``digest threads`` and ``digest explain``: see why articles were joined (#11)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from digest.cli_options import config_options, parse_time
from digest.config import Settings
from digest.errors import DigestError
from digest.overrides import read_overrides

# digest.explain and digest.store (numpy behind them) are imported by the commands, so
# `digest --help` does not pay for them.


@click.command("threads")
@click.option("--days", default=3.0, show_default=True, help="Threads updated this many days back.")
@click.option("-n", "--last", "limit", default=50, show_default=True, help="Threads to list.")
@click.option("--now", "now_text", help="List as if the clock said this ISO 8601 time.")
@config_options
def threads_command(settings: Settings, days: float, limit: int, now_text: str | None) -> None:
    """List the event threads updated lately: id, last update, articles, outlets, title.

    The ids are what `digest explain` and the corrections file (config/threads.txt) take.

    \b
    Example:
        digest threads --days 1
    """
    now = parse_time(now_text, "--now") or datetime.now(UTC)
    from digest.explain import thread_lines
    from digest.store import open_store

    try:
        with open_store(settings.store) as store:
            lines = thread_lines(store, now=now, days=days, limit=limit, tz=settings.tz)
    except DigestError as e:
        raise click.ClickException(str(e)) from e
    for line in lines:
        click.echo(line)


@click.command("explain")
@click.argument("thread")
@config_options
def explain_command(settings: Settings, thread: str) -> None:
    """Show why THREAD's articles are together, and how to correct it.

    For each article: it started the thread, joined its core (the reports most alike) or
    attached to it (a reaction, an analysis, an angle), with the score, the shared terms
    and names, and the day its lead gives for the event. Then the threads merged into it
    and the corrections that name it. To correct a thread, add a line to the corrections
    file ([cluster].overrides_file, config/threads.txt): merge, split, move, pin or mute.

    \b
    Example:
        digest explain t3f9a1c0d2e4b
    """
    overrides = read_overrides(settings.cluster.overrides_file)
    from digest.explain import explain_lines
    from digest.store import open_store

    try:
        with open_store(settings.store) as store:
            lines = explain_lines(store, thread, tz=settings.tz, overrides=overrides)
    except DigestError as e:
        raise click.ClickException(str(e)) from e
    for line in lines:
        click.echo(line)
