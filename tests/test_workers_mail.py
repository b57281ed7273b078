"""The mail job (#15): a round's email goes from the outbox in its own job (queue ``mail``),
not from the publish job, at most once however many jobs or workers try, and an SMTP outage
leaves the outbox as `digest run` leaves it. Real parts: a throwaway PostgreSQL, worker
subprocesses, the loopback feed server and an aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import signal
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from digest.config import load_settings
from digest.store import Store
from digest.store.postgres import PostgresStore
from tests.conftest import REPO, SmtpServer
from tests.httpserver import LoopbackServer
from tests.test_workers import DAY, NOW, _config, _digest, _env, _logs, _served, _threads, _worker

pytestmark = pytest.mark.slow
LATER = "2026-03-02T10:00:00+00:00"
SPLIT = ("--queue", "fetch", "--queue", "cluster", "--queue", "publish")  # everything but mail
RECIPIENTS = ["ana@example.org", "ben@example.org"]


def _mail_config(tmp_path: Path, http_server: LoopbackServer, smtp: SmtpServer) -> Path:
    config = _config(tmp_path, http_server, _served(http_server))
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text
        + f"""
[email]
enabled = true
host = "127.0.0.1"
port = {smtp.port}
security = "none"
from_address = "Briefing <digest@example.org>"
to_addresses = {RECIPIENTS!r}
timeout_seconds = 5
""",
        encoding="utf-8",
    )
    return config


def _outbox(store: Store) -> list[tuple[object, ...]]:
    rows = store.db.execute(
        "SELECT edition, recipient, state, attempts, last_error IS NULL FROM outbox"
        " ORDER BY edition, recipient"
    )
    return [tuple(r) for r in rows]


def _mail_jobs(pg: Store) -> list[str]:
    rows = pg.db.execute(
        "SELECT status FROM procrastinate_jobs WHERE task_name = 'digest.mail' ORDER BY id"
    )
    return [str(status) for (status,) in rows]


def _state(pg: Store, round_id: str) -> str:
    row = pg.db.execute("SELECT state FROM digest_rounds WHERE id = ?", (round_id,)).fetchone()
    return str(row[0])


def _rcpts(smtp: SmtpServer) -> list[str]:
    return sorted(r for m in smtp.messages for r in m.rcpt_tos)  # type: ignore[attr-defined]


def _until_idle(env: dict[str, str], tmp_path: Path, *args: str) -> None:
    worker = _worker(env, "--until-idle", "--keep-jobs", *args)
    assert worker.wait(timeout=120) == 0, _logs(tmp_path)


def test_a_rounds_edition_is_mailed_once_by_the_mail_job_not_the_publish_job(
    tmp_path: Path, http_server: LoopbackServer, pg_url: str, smtp_server: SmtpServer
) -> None:
    from digest import workers

    config = _mail_config(tmp_path, http_server, smtp_server)
    env = _env(config, pg_url, "out-workers")
    round_id = _digest(env, "round", "--now", NOW, "--date", DAY).strip()
    _until_idle(env, tmp_path, *SPLIT)
    settings = load_settings(config, environ=env)
    with PostgresStore(pg_url) as pg:  # published and queued, nothing sent yet
        assert _state(pg, round_id) == "mailing"
        assert workers.round_state(settings, round_id) == "mailing"
        assert _outbox(pg) == [(1, r, "queued", 0, True) for r in RECIPIENTS]
        assert _mail_jobs(pg) == ["todo"]
        assert pg.db.execute("SELECT COUNT(*) FROM editions").fetchone() == (1,)
    assert smtp_server.messages == []
    app = workers.make_app(settings)
    with app.open():  # the publish job run again defers no second mail job (queueing lock)
        workers._defer_mail(app, round_id)
    _until_idle(env, tmp_path)  # `digest worker` serves the mail queue by default
    assert _rcpts(smtp_server) == RECIPIENTS  # one message each
    message = message_from_bytes(smtp_server.messages[0].content, policy=policy.default)  # type: ignore[attr-defined]
    assert "No. 1" in str(message["Subject"])
    with PostgresStore(pg_url) as pg:
        assert _mail_jobs(pg) == ["succeeded"]
        assert _outbox(pg) == [(1, r, "sent", 1, True) for r in RECIPIENTS]
        assert _state(pg, round_id) == "done"
    assert "emailed No. 1 -> ana@example.org" in _logs(tmp_path, tail=10**6)


def test_mail_jobs_run_twice_and_by_two_workers_send_no_second_email(
    tmp_path: Path, http_server: LoopbackServer, pg_url: str, smtp_server: SmtpServer
) -> None:
    """Three mail jobs for one queued edition, two of them without the ``mail`` lock so two
    workers can flush at once: each message goes once (the outbox claim). Then a job again
    after everything went, and a second round (`digest round --wait` until its mail is
    done) that re-runs the day's edition: nothing is sent again."""
    from digest import workers

    config = _mail_config(tmp_path, http_server, smtp_server)
    env = _env(config, pg_url, "out-workers")
    round_id = _digest(env, "round", "--now", NOW, "--date", DAY).strip()
    _until_idle(env, tmp_path, *SPLIT)
    settings = load_settings(config, environ=env)
    app = workers.make_app(settings)
    with app.open():
        for _ in range(2):
            app.tasks["digest.mail"].defer(round_id=round_id)
    mailers = [_worker(env, "--until-idle", "--keep-jobs", "--queue", "mail") for _ in range(2)]
    for w in mailers:
        assert w.wait(timeout=120) == 0, _logs(tmp_path)
    assert _rcpts(smtp_server) == RECIPIENTS
    with app.open():  # once more, after everything went (a retry whose success was lost)
        app.tasks["digest.mail"].configure(lock="mail").defer(round_id=round_id)
    _until_idle(env, tmp_path, "--queue", "mail")
    assert _rcpts(smtp_server) == RECIPIENTS
    with PostgresStore(pg_url) as pg:
        assert _mail_jobs(pg) == ["succeeded"] * 4
        assert _outbox(pg) == [(1, r, "sent", 1, True) for r in RECIPIENTS]
        assert _state(pg, round_id) == "done"
    serving = _worker(env, "--keep-jobs")  # waits for jobs, as on a machine
    try:
        later = _digest(env, "round", "--now", LATER, "--date", DAY, "--wait", "120").strip()
    finally:
        serving.send_signal(signal.SIGTERM)
        serving.wait(timeout=60)
    assert _rcpts(smtp_server) == RECIPIENTS  # edition No. 1 again: already out
    with PostgresStore(pg_url) as pg:
        assert _state(pg, later) == "done"
        assert pg.db.execute("SELECT COUNT(*) FROM editions").fetchone() == (1,)
        assert _outbox(pg) == [(1, r, "sent", 1, True) for r in RECIPIENTS]


def test_smtp_down_fails_the_mail_job_and_leaves_the_outbox_as_digest_run_does(
    tmp_path: Path, http_server: LoopbackServer, pg_url: str, smtp_server: SmtpServer
) -> None:
    """The server is down for the first round: the mail job fails, the edition and its
    articles are stored, the messages stay queued exactly as `digest run` leaves them on
    one machine, and the next round's mail job sends them, as the next `digest run` does."""
    config = _mail_config(tmp_path, http_server, smtp_server)
    lite_env, env = _env(config, None, "out-run"), _env(config, pg_url, "out-workers")
    smtp_server.stop()
    _digest(lite_env, "run", "--now", NOW, "--date", DAY)
    serving = _worker(env, "--keep-jobs")
    try:  # `digest round --wait` says the round's mail is not done
        waited = subprocess.run(
            [sys.executable, "-m", "digest", "round", "--now", NOW, "--date", DAY, "--wait", "15"],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        serving.send_signal(signal.SIGTERM)
        serving.wait(timeout=60)
    assert waited.returncode == 1, waited.stderr[-3000:]
    assert "not done after 15 s: mailing" in waited.stderr
    round_id = waited.stdout.strip()
    settings = load_settings(config, environ={})
    with Store(settings.store.path) as lite, PostgresStore(pg_url) as pg:
        assert _mail_jobs(pg) == ["failed"]
        assert _state(pg, round_id) == "mailing"
        assert _outbox(pg) == _outbox(lite) == [(1, r, "queued", 0, True) for r in RECIPIENTS]
        assert pg.db.execute("SELECT number, status FROM editions").fetchall() == [(1, "published")]
        assert _threads(pg) == _threads(lite)
        assert pg.counts()["articles"] == lite.counts()["articles"]
    assert "message(s) still queued" in _logs(tmp_path, tail=10**6)
    assert (tmp_path / "out-workers" / DAY / "briefing.md").is_file()

    smtp_server.start()  # back: the next run sends what is queued, on both
    _digest(lite_env, "run", "--now", LATER, "--date", DAY)
    assert _rcpts(smtp_server) == RECIPIENTS
    later = _digest(env, "round", "--now", LATER, "--date", DAY).strip()
    _until_idle(env, tmp_path)
    assert _rcpts(smtp_server) == sorted(RECIPIENTS * 2)  # once from each installation
    with Store(settings.store.path) as lite, PostgresStore(pg_url) as pg:
        assert _outbox(pg) == _outbox(lite) == [(1, r, "sent", 1, True) for r in RECIPIENTS]
        assert _mail_jobs(pg)[-1] == "succeeded"
        assert _state(pg, later) == "done"
        assert _state(pg, round_id) == "done"  # its mail went with the later round's
        assert pg.db.execute("SELECT COUNT(*) FROM editions").fetchone() == (1,)
