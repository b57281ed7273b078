"""Email through a real SMTP server (aiosmtpd on 127.0.0.1): parts, inlined CSS, headers,
the size budget, exactly-once delivery across a crash, an outage and the recovery."""

from __future__ import annotations

import email
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from digest.config import Settings, describe, load_settings
from digest.errors import ConfigError, DeliveryError
from digest.ledger import Ledger
from digest.mailer import email_parts, flush_outbox, message_id, smtp_connection
from digest.models import Briefing, SourceRef, SummarySentence, ThreadSummary
from digest.pipeline import RunOptions, run_once
from digest.render import make_environment
from digest.status import status_lines
from digest.store import Store
from tests.conftest import NOW, REPO, SmtpServer
from tests.test_pipeline import BRIDGE, STRIKE_1, _jsonl

SettingsFactory = Callable[..., Settings]


def _inputs(tmp_path: Path) -> Path:
    return _jsonl(
        tmp_path / "in" / "news.jsonl",
        {
            "title": "Velmora dockers walk out",
            "text": STRIKE_1,
            "outlet": "Harbour Times",
            "published": "2026-03-02T08:00:00Z",
            "url": "https://harbour.example/strike",
        },
        {
            "title": "Trelleby opens Asker bridge",
            "text": BRIDGE,
            "outlet": "Coast Courier",
            "published": "2026-03-02T10:00:00Z",
        },
    )


def _run(settings: Settings, *inputs: Path, now: datetime = NOW, **options: object):
    with Store(settings.store.path) as store:
        return run_once(
            settings, now=now, store=store, options=RunOptions(inputs=inputs, **options)
        )


def _parse(envelope: object) -> EmailMessage:
    return email.message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[attr-defined]


def _outbox(settings: Settings):
    with Store(settings.store.path) as store:
        return Ledger(store).deliveries()


# ── the message ───────────────────────────────────────────────────────────────────────────


def test_each_recipient_gets_one_multipart_message(
    tmp_path: Path, make_settings: SettingsFactory, smtp_server: SmtpServer
) -> None:
    settings = make_settings(*smtp_server.settings("output.site_url='https://news.example'"))
    report = _run(settings, _inputs(tmp_path))
    assert report.email_error is None
    assert report.emailed == ("No. 1 -> ana@example.org", "No. 1 -> ben@example.org")
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        "ana@example.org",
        "ben@example.org",
    ]
    message = _parse(smtp_server.messages[0])
    assert message.get_content_type() == "multipart/alternative"
    text, html = message.get_payload()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert "Velmora dockers" in text.get_content()
    body = html.get_content()
    assert "<style" not in body.lower()
    assert "<script" not in body.lower()
    assert " src=" not in body  # no remote resources
    assert "<link" not in body.lower()
    assert 'style="' in body  # CSS inlined
    assert "background-color: #ffffff" in body
    assert "https://news.example/2026-03-02/index.html" in body  # the web edition
    assert message["Subject"] == "Daily briefing No. 1, 2 March 2026"
    assert message["From"] == "Briefing <digest@example.org>"
    assert message["Date"]
    assert message["Message-ID"] == message_id(1, message["To"], "digest@example.org")


def test_message_ids_are_stable_per_edition_and_recipient():
    first = message_id(3, "ana@example.org", "Briefing <digest@example.org>")
    assert first == message_id(3, "Ana@Example.org ", "digest@example.org")
    assert first != message_id(4, "ana@example.org", "digest@example.org")
    assert first.endswith("@example.org>")


def test_a_title_with_line_breaks_cannot_inject_headers(
    tmp_path: Path, make_settings: SettingsFactory, smtp_server: SmtpServer
) -> None:
    title = 'output.title="News\\r\\nBcc: victim@evil.example\\r\\n\\r\\nbody"'
    settings = make_settings(title, *smtp_server.settings())
    _run(settings, _inputs(tmp_path))
    message = _parse(smtp_server.messages[0])
    assert message["Bcc"] is None
    assert message["Subject"] == "News Bcc: victim@evil.example body No. 1, 2 March 2026"
    assert {m.rcpt_tos[0] for m in smtp_server.messages} == {"ana@example.org", "ben@example.org"}
    headers = smtp_server.messages[0].content.split(b"\r\n\r\n")[0]
    assert b"\r\nBcc:" not in headers


# ── the size budget ───────────────────────────────────────────────────────────────────────


def _big_briefing(threads: int) -> Briefing:
    noon = datetime(2026, 3, 2, 12, tzinfo=UTC)
    sentence = "The harbour authority said the queue of ships grew again overnight. " * 6
    return Briefing(
        day=date(2026, 3, 2),
        generated_at=noon,
        timezone="Europe/Berlin",
        edition=4,
        slug="2026-03-02",
        threads=tuple(
            ThreadSummary(
                thread_id=f"t{i}",
                headline=f"Story number {i}",
                status="new",
                sentences=tuple(
                    SummarySentence(text=sentence, outlets=("Harbour Times",)) for _ in range(5)
                ),
                quotes=(),
                sources=tuple(
                    SourceRef(
                        outlet=f"Outlet {j}",
                        title=f"Report {i}.{j}",
                        url=f"https://outlet{j}.example/{i}",
                        published=noon,
                    )
                    for j in range(4)
                ),
                first_seen=noon,
                last_updated=noon,
            )
            for i in range(threads)
        ),
    )


def test_a_big_edition_is_cut_to_the_top_threads_with_a_link():
    env = make_environment()
    briefing = _big_briefing(80)
    parts = email_parts(
        env, briefing, max_html_bytes=100_000, site_url="https://news.example/digest/"
    )
    size = len(parts.html.encode("utf-8"))
    assert size <= 100_000
    assert 1 < parts.shown < 80
    assert parts.total == 80
    assert f"This email shows the top {parts.shown} of 80 stories." in parts.html
    assert 'href="https://news.example/digest/2026-03-02/index.html"' in parts.html
    assert "Story number 0" in parts.html
    assert "Story number 79" not in parts.html
    assert f"top {parts.shown} of 80 stories" in parts.text
    one_more = email_parts(env, briefing, max_html_bytes=size + 1, site_url=None)
    assert one_more.shown == parts.shown  # the most threads that fit


def test_without_a_site_url_the_cut_email_says_where_the_edition_is():
    env = make_environment()
    parts = email_parts(env, _big_briefing(80), max_html_bytes=100_000, site_url=None)
    assert "output/2026-03-02/index.html" in parts.html
    assert "<a href" not in parts.html.split("This email shows")[1].split("</p>")[0]


def test_a_small_edition_is_not_cut():
    env = make_environment()
    parts = email_parts(env, _big_briefing(3), max_html_bytes=100_000, site_url=None)
    assert (parts.shown, parts.total) == (3, 3)
    assert "This email shows" not in parts.html


# ── delivery: exactly once ────────────────────────────────────────────────────────────────


def test_an_outage_leaves_mail_queued_and_the_next_run_sends_it_once(
    tmp_path: Path, make_settings: SettingsFactory, smtp_server: SmtpServer
) -> None:
    settings = make_settings(*smtp_server.settings())
    smtp_server.stop()
    report = _run(settings, _inputs(tmp_path))
    assert report.outputs  # the site is published whatever the mail server does
    assert report.emailed == ()
    assert report.email_error.startswith("cannot reach the mail server: smtp 127.0.0.1:")
    assert "(hint: check [email].host and [email].port)" in report.email_error
    assert "\n" not in report.email_error
    assert {d.state for d in _outbox(settings)} == {"queued"}
    smtp_server.start()
    later = _run(settings, now=NOW + timedelta(hours=1))  # nothing new: No. 1 is re-run
    assert later.edition.number == 1
    assert len(later.emailed) == 2  # and what was queued goes out
    assert {d.state for d in _outbox(settings)} == {"sent"}
    _run(settings, _inputs(tmp_path), now=NOW + timedelta(hours=2))  # and nothing again
    _run(settings, day=date(2026, 3, 2), now=NOW + timedelta(hours=3))  # a re-run of No. 1
    assert len(smtp_server.messages) == 2


CRASH_AFTER_ACCEPT = textwrap.dedent(
    """
    import os, sys
    from datetime import datetime
    from digest.config import load_settings
    from digest.ledger import Ledger
    from digest.mailer import flush_outbox
    from digest.store import Store

    settings = load_settings(None, environ={}, overrides=sys.argv[1:])
    now = datetime.fromisoformat("2026-03-02T23:00:00+00:00")
    with Store(settings.store.path) as store:
        # the process dies right after the server accepted the first message
        flush_outbox(Ledger(store), settings.email, now=now, after_accept=lambda d: os._exit(9))
    """
)


def test_a_crash_after_the_server_accepted_does_not_send_again(
    tmp_path: Path, make_settings: SettingsFactory, smtp_server: SmtpServer
) -> None:
    flags = [
        f"store.path='{tmp_path / 'var' / 'digest.sqlite3'}'",
        f"output.dir='{tmp_path / 'output'}'",
        *smtp_server.settings(),
    ]
    settings = make_settings(*smtp_server.settings())
    smtp_server.stop()
    _run(settings, _inputs(tmp_path))  # published; both messages queued
    smtp_server.start()
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_AFTER_ACCEPT, *flags],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert crashed.returncode == 9, crashed.stderr
    assert len(smtp_server.messages) == 1  # accepted, then the sender died
    states = {d.recipient: d.state for d in _outbox(settings)}
    assert states == {"ana@example.org": "sending", "ben@example.org": "queued"}
    _run(settings, now=NOW + timedelta(hours=2))  # the next run: only ben is still owed
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        "ana@example.org",
        "ben@example.org",
    ]
    _run(settings, now=NOW + timedelta(hours=3))
    assert len(smtp_server.messages) == 2
    with Store(settings.store.path) as store:
        lines = status_lines(settings, Ledger(store), now=NOW + timedelta(hours=3))
    assert any("1 sent, 1 uncertain" in line and "never re-sent" in line for line in lines)


def test_a_refused_recipient_does_not_block_the_others(
    tmp_path: Path, make_settings: SettingsFactory, smtp_server: SmtpServer
) -> None:
    settings = make_settings(
        *smtp_server.settings("email.to_addresses=['ana@example.org', 'nobody@example.org']")
    )
    report = _run(settings, _inputs(tmp_path))
    assert report.emailed == ("No. 1 -> ana@example.org",)
    assert report.email_error.startswith("message refused: smtp 127.0.0.1:")
    assert {d.recipient: d.state for d in _outbox(settings)} == {
        "ana@example.org": "sent",
        "nobody@example.org": "failed",  # a 550 is for good: not retried (#13)
    }


def test_starttls_against_a_plain_server_is_one_line_with_a_hint(
    make_settings: SettingsFactory, smtp_server: SmtpServer
) -> None:
    settings = make_settings(*smtp_server.settings("email.security='starttls'"))
    with pytest.raises(DeliveryError) as caught, smtp_connection(settings.email):
        pass
    text = str(caught.value)
    assert text.startswith("secure connection failed: smtp 127.0.0.1:")
    assert text.endswith(
        "(hint: set [email].security to what the server speaks: starttls, ssl or none)"
    )


def test_nothing_queued_needs_no_server(make_settings: SettingsFactory) -> None:
    settings = make_settings("email.port=1")
    with Store(settings.store.path) as store:
        result = flush_outbox(Ledger(store), settings.email, now=NOW)
    assert (result.sent, result.error) == ((), None)


# ── settings ──────────────────────────────────────────────────────────────────────────────


def test_the_password_comes_from_the_environment_only(tmp_path: Path) -> None:
    secret = "s3cret"  # noqa: S105 - a made-up test value
    settings = load_settings(None, environ={"DIGEST_EMAIL__PASSWORD": secret})
    assert settings.email.password == secret
    shown = {key: value for key, value, _, _ in describe(settings)}
    assert shown["email.password"] == "********"
    config = tmp_path / "digest.toml"
    config.write_text('[email]\npassword = "s3cret"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[email\]\.password: secrets belong in \.env"):
        load_settings(config, environ={})


def test_enabled_email_needs_a_sender_and_recipients() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, environ={}, overrides=["email.enabled=true"])
    assert caught.value.problems == (
        "--set: [email].from_address: required when [email].enabled is true",
        "--set: [email].to_addresses: required when [email].enabled is true",
    )


@pytest.mark.parametrize(
    ("flag", "fault"),
    [
        ("email.security='tls'", "expected one of starttls, ssl, none"),
        ("email.to_addresses=['not-an-address']", "not an email address"),
        ("email.subject_template='{nope}'", "unknown field {nope}"),
        ("output.site_url='ftp://x'", "expected an http(s) URL"),
        ("schedule.cron='0 7 * *'", "expected 5 or 6 cron fields"),
    ],
)
def test_bad_delivery_settings_name_the_key(flag: str, fault: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, environ={}, overrides=[flag])
    (problem,) = caught.value.problems
    assert problem.startswith(f"--set: [{flag.split('.')[0]}].{flag.split('.')[1].split('=')[0]}")
    assert fault in problem


# ── the CLI ───────────────────────────────────────────────────────────────────────────────


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "digest", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_send_test_and_status_from_the_command_line(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    where = ["--db", str(tmp_path / "d.sqlite3"), "--output", str(tmp_path / "site")]
    mail = [f"--set={flag}" for flag in smtp_server.settings("email.enabled=false")]
    run = _cli("run", str(_inputs(tmp_path)), "--now", "2026-03-02T22:00:00Z", *where, *mail)
    assert run.returncode == 0, run.stderr
    assert "edition No. 1 (2026-03-02/)" in run.stdout
    assert smtp_server.messages == []  # email is off
    sent = _cli("send-test", "me@example.org", *where, *mail)
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.strip() == "sent edition No. 1 to me@example.org"
    (envelope,) = smtp_server.messages
    assert envelope.rcpt_tos == ["me@example.org"]
    assert _parse(envelope)["Subject"] == "Daily briefing No. 1, 2 March 2026"
    status = _cli("status", *where, *mail)
    assert status.returncode == 0, status.stderr
    assert "daemon:    not running" in status.stdout
    assert "No. 1    2026-03-02  manual run" in status.stdout
    assert "email: none" in status.stdout  # send-test does not touch the outbox
    smtp_server.stop()
    failed = _cli("send-test", "me@example.org", *where, *mail)
    assert failed.returncode == 1
    (line,) = failed.stderr.splitlines()
    assert line.startswith("Error: cannot reach the mail server: smtp 127.0.0.1:")
    assert line.endswith("(hint: check [email].host and [email].port)")
