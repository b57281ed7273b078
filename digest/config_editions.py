"""Settings for editions: the schedule (``[schedule]``) and email delivery (``[email]``).

Part of the one settings schema in :mod:`digest.config`; kept here with their checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from digest.config_checks import one_line
from digest.config_checks import setting as _help

# the fields of [email].subject_template, with sample values to try it on
SUBJECT_FIELDS = {"title": "Daily briefing", "date": "2 Mar 2026", "edition": 1}


def _check_cron(value: str) -> None:
    from digest.schedule import make_trigger  # apscheduler is only needed when checked

    make_trigger(value, "UTC")


def check_site_url(value: str) -> None:
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"expected an http(s) URL, got {value!r}")


def _check_address(address: str) -> None:
    if address:
        check_address(address)


def check_address(text: str) -> None:
    """``ValueError`` unless ``text`` is one email address (each of ``to_addresses``, the
    sender, the address ``digest send-test`` is given)."""
    if not _is_address(text):
        raise ValueError(f"not an email address: {text!r} (one address, on one line)")


_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


def _is_address(text: str) -> bool:
    """``user@domain`` or ``Name <user@domain>``, on one line, one address (a comma outside
    a quoted name separates two)."""
    from email.utils import parseaddr

    if any(c in text for c in "\r\n\x00") or "," in _QUOTED.sub("", text):
        return False
    user, at, domain = parseaddr(text)[1].rpartition("@")
    return bool(at and user and domain and "@" not in user)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleSettings:
    cron: str = _help(
        "when editions are produced: crontab (minute hour day month weekday; 0/7 = Sunday),"
        " or six fields with seconds first; in [output].timezone",
        "0 7 * * *",
        check=_check_cron,
    )
    misfire_grace_seconds: int = _help(
        "a run that starts up to this late (machine busy or asleep) still runs",
        3600,
        min=1,
        max=7 * 86400,
    )
    log_file: Path | None = _help("also log the daemon to this file (empty: stderr only)", None)


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailSettings:
    enabled: bool = _help(
        "email every new edition (digest run --email/--no-email overrides)", False
    )
    host: str = _help("SMTP server host name", "localhost", check=one_line)
    port: int = _help("SMTP server port (587 starttls, 465 ssl, 25 none)", 587, min=1, max=65535)
    security: str = _help(
        "connection security: starttls, ssl or none",
        "starttls",
        choices=("starttls", "ssl", "none"),
    )
    username: str = _help("SMTP login user; empty: no login", "", check=one_line)
    password: str = _help(
        "SMTP password: only from .env or the environment (DIGEST_EMAIL__PASSWORD)",
        "",
        secret=True,
    )
    from_address: str = _help(
        "sender address, e.g. Briefing <digest@example.org>", "", check=_check_address
    )
    to_addresses: tuple[str, ...] = _help(
        "recipient addresses; each gets every edition once", (), check=_check_address
    )
    subject_template: str = _help(
        "subject line; {title}, {date} and {edition} are filled in",
        "{title} No. {edition}, {date}",
        fields=SUBJECT_FIELDS,
    )
    max_html_bytes: int = _help(
        "HTML part size budget; past it only the top threads are sent, with a link",
        100_000,
        min=10_000,
        max=10_000_000,
    )
    timeout_seconds: float = _help("SMTP connect and read timeout", 30.0, min=1, max=600)


def email_problems(email: EmailSettings) -> list[str]:
    """With email enabled, the settings a message cannot do without."""
    if not email.enabled:
        return []
    needed = {"host": email.host, "from_address": email.from_address}
    missing = [f"[email].{k}" for k, v in needed.items() if not v]
    if not email.to_addresses:
        missing.append("[email].to_addresses")
    return [f"{key}: required when [email].enabled is true" for key in missing]
