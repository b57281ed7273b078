"""Options and helpers shared by the commands of :mod:`digest.cli`: the config, the store
and output flags, logging flags, one-line errors with their exit status."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from digest import logs
from digest.config import Settings, load_settings
from digest.discovery import environment, find_config, site_store
from digest.errors import ConfigError
from digest.locks import StoreLock

F = TypeVar("F", bound=Callable[..., Any])
QUIET, VERBOSE = "digest.quiet", "digest.verbose"


class Exit2(click.ClickException):
    exit_code = 2


def parse_time(value: str | None, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"expected an ISO 8601 time, got {value!r}", param_hint=what
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def config_options(func: F) -> F:
    """Shared options (--config, --db, --output, --set, -v, -q, --log-format); loads the
    Settings once and sets up logging."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path),
        help="Config file (default: $DIGEST_CONFIG, else ./config/digest.toml, else "
        "$XDG_CONFIG_HOME/digest/digest.toml).",
    )
    @click.option("--db", type=click.Path(path_type=Path), help="SQLite store file.")
    @click.option(
        "--output",
        "--output-dir",
        "output",
        type=click.Path(path_type=Path),
        help="Folder to publish briefings into (without --db: with a store of its own).",
    )
    @click.option(
        "--set",
        "overrides",
        multiple=True,
        metavar="SECTION.KEY=VALUE",
        help="Override a setting (TOML value syntax); may be repeated.",
    )
    @click.option(
        "-v",
        "--verbose",
        count=True,
        help="-v: what each stage did and took; -vv: every input and file; -vvv: libraries too.",
    )
    @click.option("-q", "--quiet", is_flag=True, help="Print errors only (for cron).")
    @click.option(
        "--log-format",
        type=click.Choice(["text", "json"]),
        help="Log lines as text or one JSON object per line (default: [log].format).",
    )
    @functools.wraps(func)
    def wrapper(
        config_path: Path | None,
        db: Path | None,
        output: Path | None,
        overrides: tuple[str, ...],
        verbose: int,
        quiet: bool,
        log_format: str | None,
        **kwargs: Any,
    ) -> Any:
        logs.configure(verbose=verbose, quiet=quiet)
        settings = _load(config_path, db, output, overrides, log_format)
        logs.configure(
            verbose=verbose,
            quiet=quiet,
            fmt=settings.log.format,
            progress_seconds=settings.log.progress_seconds,
        )
        click.get_current_context().meta.update({QUIET: quiet, VERBOSE: verbose})
        return func(settings, **kwargs)

    return wrapper  # type: ignore[return-value]


def _load(
    config_path: Path | None,
    db: Path | None,
    output: Path | None,
    overrides: tuple[str, ...],
    log_format: str | None,
) -> Settings:
    path = find_config(config_path, os.environ, Path.cwd())
    environ = environment(path, os.environ, Path.cwd())
    flags = [*overrides, *((f"log.format={log_format!r}",) if log_format else ())]
    try:
        settings = load_settings(path, environ=environ, overrides=flags)
        if output and output.resolve() != settings.output.dir.resolve():
            store = db or site_store(output, os.environ)  # a new site is a new ledger
            flags.append(f"store.path={str(store.resolve())!r}")
        elif db:
            flags.append(f"store.path={str(db.resolve())!r}")
        if output:
            flags.append(f"output.dir={str(output.resolve())!r}")
        return load_settings(path, environ=environ, overrides=flags) if output or db else settings
    except ConfigError as e:
        raise Exit2(str(e)) from e


def quiet_flag() -> bool:
    return bool(click.get_current_context().meta.get(QUIET))


def writer_lock(settings: Settings, what: str) -> AbstractContextManager[object]:
    """The store's writer lock (waits up to [store].lock_wait_seconds for another writer):
    a file beside a SQLite store, an advisory lock in a PostgreSQL one (all machines)."""
    wait = settings.store.lock_wait_seconds
    if settings.store.url:
        from digest.store.postgres import PgWriterLock

        return PgWriterLock(settings.store.url, what, wait_seconds=wait)
    return StoreLock(settings.store.path, what, wait_seconds=wait)
