"""``digest status``: the schedule, the next run, the last editions and their delivery."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta, tzinfo

from digest.config import Settings
from digest.ledger import Ledger
from digest.locks import running_daemon
from digest.models import Delivery, Edition
from digest.schedule import fire_times, make_trigger
from digest.store.base import Connection

STUCK_AFTER = timedelta(minutes=10)  # "sending" this long: the sender died mid-transaction


def status_lines(
    settings: Settings, ledger: Ledger, *, now: datetime, limit: int = 10
) -> list[str]:
    """What ``digest status`` prints, one string per line."""
    tz = settings.tz
    trigger = make_trigger(settings.schedule.cron, tz)
    upcoming = fire_times(trigger, now, 1)
    pid = running_daemon(settings.store.path)
    lines = [
        f"schedule:  {settings.schedule.cron!r} in {settings.output.timezone}"
        f" (misfire grace {settings.schedule.misfire_grace_seconds} s)",
        f"next run:  {_when(upcoming[0], tz)}" if upcoming else "next run:  never",
        "daemon:    "
        + (f"running (pid {pid})" if pid and pid > 0 else "running" if pid else "not running"),
        "email:     " + _email_line(settings),
        f"store:     {settings.store.path}",
        *last_run_lines(ledger.db, tz),
    ]
    editions = ledger.editions(limit)
    if not editions:
        return [*lines, "editions:  none yet"]
    numbers = [e.number for e in editions if e.number is not None]
    deliveries = ledger.deliveries(numbers)
    lines.append("editions (newest first):")
    lines.extend("  " + _edition_line(e, deliveries, tz, now) for e in editions)
    return lines


def _email_line(settings: Settings) -> str:
    email = settings.email
    if not email.enabled:
        return "off ([email].enabled = false)"
    count = len(email.to_addresses)
    return (
        f"on: {count} recipient{'s' if count != 1 else ''} via {email.host}:{email.port}"
        f" ({email.security})"
    )


def _edition_line(
    edition: Edition, deliveries: tuple[Delivery, ...], tz: tzinfo, now: datetime
) -> str:
    name = f"No. {edition.number:<4}" if edition.number is not None else "(empty)"
    when = (
        f"scheduled {_when(edition.scheduled_for, tz)}" if edition.scheduled_for else "manual run"
    )
    text = f"{name} {edition.day.isoformat()}  {when}, produced {_when(edition.produced_at, tz)}"
    if edition.late:
        text += " (late)"
    if edition.number is None:
        return f"{text}: nothing new"
    mine = [d for d in deliveries if d.edition == edition.number]
    return f"{text}  [{edition.slug}/]  email: {_delivery_state(mine, now)}"


def _delivery_state(deliveries: list[Delivery], now: datetime) -> str:
    if not deliveries:
        return "none"
    states = Counter("uncertain" if _uncertain(d, now) else d.state for d in deliveries)
    text = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
    errors = [d.last_error for d in deliveries if d.state != "sent" and d.last_error]
    if states.get("uncertain"):
        text += " (the server's reply was lost or the sender stopped: check the inbox;"
        text += " never re-sent)"
    return f"{text}; last error: {errors[0]}" if errors else text


def _uncertain(delivery: Delivery, now: datetime) -> bool:
    """Sent but not known to be accepted: its reply was lost (the error says so), or its
    sender stopped in the middle of the SMTP transaction."""
    if delivery.state != "sending":
        return False
    return delivery.last_error is not None or now - delivery.updated_at > STUCK_AFTER


def _when(when: datetime | None, tz: tzinfo) -> str:
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z") if when else "-"


def last_run_lines(db: Connection, tz: tzinfo) -> list[str]:
    """The last finished run and every input that failed in it, with the full error (the
    operator's view; a briefing shows readers only the failed sources' names)."""
    row = db.execute(
        "SELECT started, status, report FROM runs WHERE finished IS NOT NULL ORDER BY id DESC"
    ).fetchone()
    if row is None:
        return ["last run:  none yet"]
    sources = json.loads(row[2] or "{}").get("sources", [])
    failed = [(name, error) for name, state, _new, _seen, error in sources if state == "error"]
    started = datetime.fromisoformat(row[0]).astimezone(UTC)
    verdict = f"{len(failed)} of {len(sources)} inputs failed" if failed else "every input read"
    lines = [f"last run:  {_when(started, tz)} ({row[1]}): {verdict}"]
    return lines + [f"  {name}: {error}" for name, error in failed]
