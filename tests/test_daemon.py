"""``digest daemon`` as a real subprocess: scheduled editions, SIGTERM, one daemon per store,
a missed edition caught up exactly once, a failing run that does not end the schedule."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from digest.config import load_settings
from digest.ledger import Ledger
from digest.locks import running_daemon
from digest.models import Edition
from digest.schedule import last_fire_time, make_trigger
from digest.store import Store
from tests.conftest import REPO
from tests.test_pipeline import STRIKE_1

YEARLY = "0 7 1 1 *"  # 07:00 on 1 January: never fires while a test runs


def write_config(tmp_path: Path, cron: str, **extra: str) -> Path:
    inputs = tmp_path / "in"
    inputs.mkdir(exist_ok=True)
    article = {
        "title": "Velmora dockers walk out",
        "text": STRIKE_1,
        "outlet": "Harbour Times",
        "published": "2026-03-02T08:00:00Z",
    }
    (inputs / "news.jsonl").write_text(json.dumps(article) + "\n", encoding="utf-8")
    output = extra.pop("output", "out")
    config = tmp_path / "digest.toml"
    config.write_text(
        f'[inputs]\ndump_dirs = ["in"]\n[store]\npath = "var/digest.sqlite3"\n'
        f'[output]\ndir = "{output}"\ntimezone = "Europe/Berlin"\n'
        f'[schedule]\ncron = "{cron}"\nlog_file = "var/daemon.log"\n',
        encoding="utf-8",
    )
    return config


@pytest.fixture
def daemons() -> Iterator[Callable[[Path], subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start(config: Path, *args: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "digest", "daemon", "--config", str(config), *args],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def wait_for_log(config: Path, text: str, count: int = 1, timeout: float = 30.0) -> str:
    log = config.parent / "var" / "daemon.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = log.read_text(encoding="utf-8") if log.exists() else ""
        if content.count(text) >= count:
            return content
        time.sleep(0.1)
    pytest.fail(f"{text!r} x{count} not in the daemon log after {timeout} s:\n{content}")


def python(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """This interpreter run to its end with ``argv``, from the repository, output captured."""
    return subprocess.run(
        [sys.executable, *argv], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    return process.returncode, stderr


def test_the_daemon_publishes_on_schedule_and_stops_on_sigterm(tmp_path, daemons):
    config = write_config(tmp_path, "*/2 * * * * *")  # every two seconds
    process = daemons(config)
    wait_for_log(config, "edition No. 1: 1 new articles")
    wait_for_log(config, "nothing new for")  # the next tick: the schedule goes on
    code, stderr = stop(process)
    assert code == 0, stderr
    assert "SIGTERM: stopping after the current run" in stderr
    assert stderr.rstrip().endswith("daemon stopped")
    first = stderr.splitlines()[0]
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO digest.daemon: ", first)
    assert (tmp_path / "out" / "index.html").is_file()
    settings = load_settings(config, environ={})
    with Store(settings.store.path) as store:
        published = [e for e in Ledger(store).editions() if e.number is not None]
    assert [(e.number, e.late) for e in published] == [(1, False)]
    assert published[0].scheduled_for is not None
    assert running_daemon(settings.store.path) is None  # the lock went with the process


def test_a_second_daemon_refuses_to_start_and_a_dead_one_leaves_no_lock(tmp_path, daemons):
    config = write_config(tmp_path, YEARLY)
    first = daemons(config)
    wait_for_log(config, "next edition at")
    second = python("-m", "digest", "daemon", "--config", str(config))
    assert second.returncode == 1
    (line,) = second.stderr.splitlines()
    assert line.startswith("Error: another digest daemon is already running for this store: ")
    assert f"locked by pid {first.pid}" in line
    status = python("-m", "digest", "status", "--config", str(config))
    assert status.returncode == 0, status.stderr
    assert f"daemon:    running (pid {first.pid})" in status.stdout
    assert "schedule:  '0 7 1 1 *' in Europe/Berlin" in status.stdout
    assert "next run:  " in status.stdout
    first.kill()  # SIGKILL: no clean-up at all; the OS drops the lock
    first.communicate(timeout=10)
    third = daemons(config)
    wait_for_log(config, "next edition at", count=2)
    assert stop(third)[0] == 0


def _owe_an_edition(config: Path) -> datetime:
    """A ledger whose last scheduled edition is the slot before the latest one."""
    settings = load_settings(config, environ={})
    trigger = make_trigger(YEARLY, ZoneInfo("Europe/Berlin"))
    latest = last_fire_time(trigger, datetime.now(UTC))
    previous = last_fire_time(trigger, latest - timedelta(seconds=1))
    with Store(settings.store.path) as store:
        Ledger(store).save(
            Edition(
                id=0,
                number=None,
                slug="",
                day=previous.date(),
                first_run=0,
                last_run=0,
                window_start=previous,
                window_end=previous,
                scheduled_for=previous,
                produced_at=previous,
                late=False,
                status="empty",
            )
        )
    return latest


def test_a_missed_edition_is_caught_up_once(tmp_path, daemons):
    config = write_config(tmp_path, YEARLY)
    owed = _owe_an_edition(config)
    first = daemons(config)
    log = wait_for_log(config, "next edition at")
    assert "was missed: producing it now, late" in log
    assert "edition No. 1 (late): 1 new articles" in log
    assert stop(first)[0] == 0
    again = daemons(config)  # a restart owes nothing: the late edition is in the ledger
    log = wait_for_log(config, "next edition at", count=2)
    assert stop(again)[0] == 0
    assert log.count("was missed") == 1
    settings = load_settings(config, environ={})
    with Store(settings.store.path) as store:
        editions = Ledger(store).editions()
    late = [e for e in editions if e.late]
    assert [(e.number, e.scheduled_for) for e in late] == [(1, owed)]
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "No. 1 · late edition" in page


def test_a_failing_run_is_logged_and_the_schedule_goes_on(tmp_path, daemons):
    (tmp_path / "not-a-folder").write_text("", encoding="utf-8")
    config = write_config(tmp_path, "* * * * * *", output="not-a-folder/site")
    process = daemons(config)
    log = wait_for_log(config, "failed: cannot write file", count=2)
    code, _ = stop(process)
    assert code == 0
    assert "ERROR digest.daemon: edition for" in log


# ── a daemon that survives its own history (#12) ─────────────────────────────────────────


def _cli(config: Path, *args: str) -> None:
    result = python("-m", "digest", *args, "--config", str(config), timeout=120)
    assert result.returncode == 0, result.stderr


def _scheduled(config: Path, daemons) -> None:
    process = daemons(config, "--set", "schedule.cron='*/2 * * * * *'")
    wait_for_log(config, "edition No. 1: 1 new articles")
    assert stop(process)[0] == 0


def _late(config: Path, daemons) -> None:
    _owe_an_edition(config)
    process = daemons(config)
    wait_for_log(config, "edition No. 1 (late)")
    assert stop(process)[0] == 0


HISTORIES = {
    "manual": lambda config, daemons: _cli(config, "run"),
    "dated": lambda config, daemons: _cli(config, "run", "--date", "2026-03-02"),
    "scheduled": _scheduled,
    "late": _late,
    "scheduled, then manual and dated": lambda config, daemons: (
        _scheduled(config, daemons),
        _cli(config, "run", "--date", "2026-03-02"),
        _cli(config, "run"),
    ),
}


@pytest.mark.parametrize("history", HISTORIES)
def test_the_daemon_starts_and_ticks_on_a_store_made_by_any_kind_of_run(tmp_path, daemons, history):
    config = write_config(tmp_path, YEARLY)
    HISTORIES[history](config, daemons)
    log_file = config.parent / "var" / "daemon.log"
    before = (
        log_file.read_text(encoding="utf-8").count("next edition at") if log_file.exists() else 0
    )
    process = daemons(config, "--set", "schedule.cron='*/2 * * * * *'")
    log = wait_for_log(config, "nothing new for", count=1)
    log = wait_for_log(config, "next edition at", count=before + 1)
    code, stderr = stop(process)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert "failed" not in log


SIGNAL_WHILE_STARTING = """
import logging, os, signal, sys
from pathlib import Path
from digest.config import load_settings
from digest.daemon import Daemon

logging.basicConfig(level=logging.INFO, format="%(message)s")
daemon = Daemon(load_settings(Path(sys.argv[1]), environ={}))
start = daemon.scheduler.start

def start_signalled(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGTERM)  # the operator's SIGTERM, just as the schedule starts
    return start(*args, **kwargs)

daemon.scheduler.start = start_signalled
sys.exit(daemon.serve())
"""


def test_a_sigterm_while_the_schedule_starts_is_not_lost(tmp_path):
    config = write_config(tmp_path, YEARLY)
    result = python("-c", SIGNAL_WHILE_STARTING, str(config))
    assert result.returncode == 0, result.stderr
    assert "SIGTERM: stopping after the current run" in result.stderr
    assert result.stderr.rstrip().endswith("daemon stopped")
