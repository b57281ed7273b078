"""Logging for the CLI and the daemon (the I/O edge): levels that mean something, text or
JSON lines, and progress on long work.

Levels (``digest -v`` ...): by default warnings and errors only; ``--quiet`` errors only;
``-v`` what each stage did and how long it took (INFO, ``digest.*``); ``-vv`` also every
input, decision and file (DEBUG, ``digest.*``); ``-vvv`` the libraries' debug output too.

Formats: ``text`` (``time LEVEL logger: message``) or ``json``: one object per line with
``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` and, for progress, ``stage``,
``done``, ``total`` and ``seconds`` (for log collectors).

Progress (``stage()``): on a terminal a bar per stage on stderr; otherwise (cron, systemd,
a log file) one INFO line every ``[log].progress_seconds`` while a stage runs, and one when it
ends. The bar is drawn only with the text format, without ``--quiet``, when stderr is a TTY.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import click

log = logging.getLogger("digest.progress")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
PROGRESS_FIELDS = ("stage", "done", "total", "seconds")
BAR_MIN = 50  # a bar only for stages of this many items or more


@dataclass(slots=True)
class _Options:
    bars: bool = False  # progress bars on stderr (a terminal, text format, not quiet)
    progress_seconds: float = 10.0
    handlers: list[logging.Handler] = field(default_factory=list)  # the ones configure() added


_options = _Options()


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message (+ progress fields)."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="seconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        doc.update({k: getattr(record, k) for k in PROGRESS_FIELDS if hasattr(record, k)})
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


def formatter(fmt: str) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)


def configure(
    *,
    verbose: int = 0,
    quiet: bool = False,
    fmt: str = "text",
    progress_seconds: float = 10.0,
    log_file: Path | None = None,
    daemon: bool = False,
) -> None:
    """Set up the root logger once per process (stderr, and ``log_file`` when given)."""
    root = logging.getLogger()
    for handler in _options.handlers:  # ours only: a host's (pytest's) handlers stay
        root.removeHandler(handler)
        handler.close()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    _options.handlers = handlers
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter(fmt))
        root.addHandler(handler)
    ours = _level(verbose + (1 if daemon else 0), quiet)
    root.setLevel(logging.DEBUG if verbose >= 3 else max(ours, logging.WARNING))
    logging.getLogger("digest").setLevel(ours)
    if daemon:
        logging.getLogger("apscheduler").setLevel(logging.INFO if verbose else logging.WARNING)
    _options.bars = fmt == "text" and not quiet and sys.stderr.isatty()
    _options.progress_seconds = progress_seconds


def _level(verbose: int, quiet: bool) -> int:
    if quiet:
        return logging.ERROR
    return (logging.WARNING, logging.INFO)[verbose] if verbose < 2 else logging.DEBUG


@contextmanager
def stage(
    name: str, total: int | None = None, unit: str = "items"
) -> Iterator[Callable[[int], None]]:
    """Progress of one stage: yields ``advance(n)``; a bar on a terminal, else log lines."""
    tracker = _Tracker(name, total, unit)
    if _options.bars and total is not None and total >= BAR_MIN:
        with click.progressbar(length=total, label=f"{name:<10}", file=sys.stderr) as bar:

            def advance(n: int) -> None:
                tracker.done += n
                bar.update(n)

            yield advance
        tracker.finish()
        return
    ticker = threading.Thread(target=tracker.tick, name=f"progress-{name}", daemon=True)
    ticker.start()
    try:
        yield tracker.advance
    finally:
        tracker.stop.set()
        ticker.join()
        tracker.finish()


class _Tracker:
    def __init__(self, name: str, total: int | None, unit: str) -> None:
        self.name, self.total, self.unit = name, total, unit
        self.done = 0
        self.started = time.monotonic()
        self.stop = threading.Event()

    def advance(self, n: int) -> None:
        self.done += n

    def tick(self) -> None:
        while not self.stop.wait(_options.progress_seconds):
            self.line("running")

    def finish(self) -> None:
        if self.total is not None and not self.done:
            self.done = self.total  # a stage done in one call (dedupe, cluster)
        self.line("done")

    def line(self, state: str) -> None:
        seconds = round(time.monotonic() - self.started, 1)
        count = f"{self.done:,}" if self.total is None else f"{self.done:,}/{self.total:,}"
        share = f" ({100 * self.done // self.total} %)" if self.total and state == "running" else ""
        extra = {"stage": self.name, "done": self.done, "total": self.total, "seconds": seconds}
        log.info(
            "%s: %s, %s %s%s in %.1f s",
            self.name,
            state,
            count,
            self.unit,
            share,
            seconds,
            extra=extra,
        )
