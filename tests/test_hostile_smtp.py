"""Hostile mail servers (#13 item 3), real aiosmtpd servers on 127.0.0.1: one that stores a
message and drops the connection, one that answers after the client's timeout, one that
says 421 to QUIT, one that refuses one recipient for good. Over three runs nobody gets a
message twice and everybody else gets theirs."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from digest.config import Settings
from digest.ledger import Ledger
from digest.models import RunReport
from digest.pipeline import RunOptions, run_once
from digest.store import Store
from tests.conftest import NOW, REPO, SmtpServer
from tests.test_mailer import _inputs

SettingsFactory = Callable[..., Settings]
RECIPIENTS = "email.to_addresses=['ana@example.org', 'ben@example.org', 'cara@example.org']"


class HostileSmtp(SmtpServer):
    """The conftest server, with faults for some recipients: ``drop`` stores the message
    and closes the connection instead of answering; ``late`` stores it and answers after
    ``delay`` seconds; ``quit_reply`` is said to QUIT; ``refuse`` gets a 550 on RCPT."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse = set()
        self.drop: set[str] = set()
        self.late: set[str] = set()
        self.delay = 2.5
        self.quit_reply = "221 Bye"
        self.rcpts: Counter[str] = Counter()  # RCPT TO commands seen, per address

    async def handle_RCPT(
        self, server: object, session: object, envelope: object, address: str, options: list
    ) -> str:
        self.rcpts[address] += 1
        return await super().handle_RCPT(server, session, envelope, address, options)

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        status = await super().handle_DATA(server, session, envelope)  # stored
        to = set(envelope.rcpt_tos)  # type: ignore[attr-defined]
        if to & self.drop:
            server.transport.close()  # type: ignore[attr-defined]
        elif to & self.late:
            await asyncio.sleep(self.delay)
        return status

    async def handle_QUIT(self, server: object, session: object, envelope: object) -> str:
        return self.quit_reply

    def received(self) -> Counter[str]:
        return Counter(r for m in self.messages for r in m.rcpt_tos)  # type: ignore[attr-defined]


@pytest.fixture
def hostile():
    server = HostileSmtp()
    server.start()
    yield server
    server.stop()


def _three_runs(settings: Settings, tmp_path: Path) -> list[RunReport]:
    """A run that publishes No. 1 and mails it, then two runs with nothing new (each sends
    whatever is still queued)."""
    reports = []
    for hour, inputs in ((0, (_inputs(tmp_path),)), (1, ()), (2, ())):
        with Store(settings.store.path) as store:
            now = NOW + timedelta(hours=hour)
            reports.append(
                run_once(settings, now=now, store=store, options=RunOptions(inputs=inputs))
            )
    return reports


def _states(settings: Settings) -> dict[str, tuple[str, str | None]]:
    with Store(settings.store.path) as store:
        return {d.recipient: (d.state, d.last_error) for d in Ledger(store).deliveries()}


def _status(settings: Settings, now: datetime) -> str:
    from digest.status import status_lines

    with Store(settings.store.path) as store:
        return "\n".join(status_lines(settings, Ledger(store), now=now))


def test_a_connection_dropped_after_data_is_uncertain_and_the_others_get_theirs(
    tmp_path: Path, make_settings: SettingsFactory, hostile: HostileSmtp
) -> None:
    hostile.drop = {"ana@example.org"}  # stores ana's copy, then hangs up without a reply
    settings = make_settings(*hostile.settings(RECIPIENTS))
    first, *_ = _three_runs(settings, tmp_path)
    assert hostile.received() == {"ana@example.org": 1, "ben@example.org": 1, "cara@example.org": 1}
    assert first.emailed == ("No. 1 -> ben@example.org", "No. 1 -> cara@example.org")
    assert first.email_error.startswith("no reply after the message was sent: smtp 127.0.0.1:")
    assert "not sent again" in first.email_error
    assert "\n" not in first.email_error
    states = _states(settings)
    assert states["ana@example.org"][0] == "sending"  # uncertain: never re-sent
    assert {states[r][0] for r in ("ben@example.org", "cara@example.org")} == {"sent"}
    status = _status(settings, NOW + timedelta(hours=2))  # at once, not only after 10 min
    assert "2 sent, 1 uncertain" in status
    assert "never re-sent" in status


def test_a_reply_after_the_timeout_is_uncertain_and_never_sent_again(
    tmp_path: Path, make_settings: SettingsFactory, hostile: HostileSmtp
) -> None:
    hostile.late = {"ana@example.org"}  # stores ana's copy, answers after the client gave up
    settings = make_settings(*hostile.settings(RECIPIENTS, "email.timeout_seconds=1"))
    first, *_ = _three_runs(settings, tmp_path)
    assert hostile.received() == {"ana@example.org": 1, "ben@example.org": 1, "cara@example.org": 1}
    assert first.emailed == ("No. 1 -> ben@example.org", "No. 1 -> cara@example.org")
    assert "TimeoutError" in first.email_error or "timed out" in first.email_error
    state, error = _states(settings)["ana@example.org"]
    assert state == "sending"
    assert error is not None
    assert error.startswith("no reply after the message was sent")


def test_a_permanent_refusal_on_rcpt_fails_that_recipient_once(
    tmp_path: Path, make_settings: SettingsFactory, hostile: HostileSmtp
) -> None:
    hostile.refuse = {"ben@example.org"}
    settings = make_settings(*hostile.settings(RECIPIENTS))
    first, second, third = _three_runs(settings, tmp_path)
    assert hostile.received() == {"ana@example.org": 1, "cara@example.org": 1}
    assert hostile.rcpts["ben@example.org"] == 1  # asked once, not on every run
    assert first.emailed == ("No. 1 -> ana@example.org", "No. 1 -> cara@example.org")
    assert first.email_error.startswith("message refused: smtp 127.0.0.1:")
    assert "RCPT 550 5.1.1 no such user" in first.email_error
    assert "not retried" in first.email_error
    assert second.email_error is None
    assert third.email_error is None
    assert _states(settings)["ben@example.org"][0] == "failed"
    assert "1 failed, 2 sent" in _status(settings, NOW + timedelta(hours=2))


def test_a_421_reply_to_quit_after_every_message_was_accepted_is_no_failure(
    tmp_path: Path, make_settings: SettingsFactory, hostile: HostileSmtp
) -> None:
    hostile.quit_reply = "421 4.3.0 closing anyway"
    settings = make_settings(*hostile.settings(RECIPIENTS))
    reports = _three_runs(settings, tmp_path)
    assert [r.email_error for r in reports] == [None, None, None]
    assert len(reports[0].emailed) == 3
    assert hostile.received() == {"ana@example.org": 1, "ben@example.org": 1, "cara@example.org": 1}
    assert {s for s, _ in _states(settings).values()} == {"sent"}


def test_the_cli_says_the_lost_reply_in_one_line_and_exits_0(
    tmp_path: Path, make_settings: SettingsFactory, hostile: HostileSmtp
) -> None:
    """The edition was published, so the run succeeded; the email problem is one line."""
    hostile.drop = {"ana@example.org"}
    flags = [
        f"store.path='{tmp_path / 'var' / 'digest.sqlite3'}'",
        f"output.dir='{tmp_path / 'output'}'",
        *hostile.settings(RECIPIENTS),
    ]
    command = [sys.executable, "-m", "digest", "run", str(_inputs(tmp_path))]
    command += ["--date", "2026-03-02", "--now", "2026-03-02T22:00:00Z"]
    for flag in flags:
        command += ["--set", flag]
    for _ in range(3):
        done = subprocess.run(
            command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
    assert hostile.received() == {"ana@example.org": 1, "ben@example.org": 1, "cara@example.org": 1}
