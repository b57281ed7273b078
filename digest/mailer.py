"""Editions by email: the message (pure), the outbox and the SMTP edge.

The message is ``multipart/alternative``: a plain-text part, then an HTML part whose CSS is
inlined (no <style>, no scripts, no images or other remote resources). Headers are set
through the ``email`` package with the default policy, which refuses CR/LF in a value;
the subject is collapsed to one line first, so a title cannot inject a header.

Size budget: Gmail clips HTML past about 102 KB, so when the HTML part is larger than
``[email].max_html_bytes`` only the top threads are sent (as many as fit), with a link to
the web edition (``[output].site_url``), or its place under output/ when there is no URL.

Delivery is at most once per (edition, recipient): the outbox row is claimed (committed)
before the SMTP transaction and marked sent right after the server accepts the message.
An SMTP failure puts it back in the queue for the next run or daemon tick. A crash between
the server's accept and that commit leaves the row "sending": it is never sent again, and
``digest status`` lists it. We chose this over at-least-once because a daily email sent
twice is the failure readers notice; the window is one SMTP transaction. The Message-ID
is stable per (edition, recipient), so any duplicate would be recognisable.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

import jinja2

from digest.config import Settings
from digest.config_editions import EmailSettings
from digest.errors import DeliveryError
from digest.lang.interface import spell_date
from digest.ledger import Ledger
from digest.models import Briefing, Delivery
from digest.render import inline_css, render_template

_PER_MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError)


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailParts:
    html: str
    text: str
    shown: int  # threads in the message
    total: int  # threads in the edition


@dataclass(frozen=True, slots=True, kw_only=True)
class FlushResult:
    sent: tuple[Delivery, ...]
    error: str | None  # one line, when something is still queued because of a failure


# ── the message (pure) ────────────────────────────────────────────────────────────────────


def web_edition(briefing: Briefing, site_url: str | None) -> tuple[str | None, str]:
    """(URL of the web edition or None, where it is, in words)."""
    page = f"{briefing.folder}/index.html"
    if site_url:
        url = f"{site_url.rstrip('/')}/{page}"
        return url, url
    return None, f"output/{page} on the machine that publishes it"


def email_parts(
    env: jinja2.Environment, briefing: Briefing, *, max_html_bytes: int, site_url: str | None
) -> EmailParts:
    """The HTML and text parts, cut to the top threads that keep the HTML in budget."""
    total = len(briefing.threads)
    full = _render_parts(env, briefing, total, site_url)
    if _size(full) <= max_html_bytes or total <= 1:
        return full
    best = _render_parts(env, briefing, 1, site_url)  # the top thread, whatever its size
    low, high = 2, total - 1
    while low <= high:  # the most threads that fit: binary search over the count
        middle = (low + high) // 2
        trial = _render_parts(env, briefing, middle, site_url)
        if _size(trial) <= max_html_bytes:
            best, low = trial, middle + 1
        else:
            high = middle - 1
    return best


def _size(parts: EmailParts) -> int:
    return len(parts.html.encode("utf-8"))


def _render_parts(
    env: jinja2.Environment, briefing: Briefing, shown: int, site_url: str | None
) -> EmailParts:
    web_url, location = web_edition(briefing, site_url)
    cut = replace(briefing, threads=briefing.threads[:shown])
    email = {
        "web_url": web_url,
        "threads_url": f"{site_url.rstrip('/')}/threads/" if site_url else None,
        "location": location,
        "omitted": len(briefing.threads) - shown,
        "total": len(briefing.threads),
    }
    context = {"briefing": cut, "site_root": "", "email": email}
    html = inline_css(render_template(env, "email/briefing.html", context))
    text = render_template(env, "email/briefing.txt", context)
    return EmailParts(html=html, text=text, shown=shown, total=len(briefing.threads))


def subject_line(template: str, briefing: Briefing, lang: str = "en") -> str:
    """The subject, on one line whatever the title holds (its date spelled in ``lang``)."""
    text = template.format(
        title=briefing.title,
        date=spell_date(briefing.day, "medium", lang),
        edition=briefing.edition,
    )
    return " ".join(text.split())


def message_id(number: int, recipient: str, from_address: str) -> str:
    """Stable per (edition, recipient): a duplicate delivery is recognisable."""
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "digest.invalid"
    who = hashlib.sha256(recipient.strip().lower().encode("utf-8")).hexdigest()[:16]
    return f"<digest.edition-{number}.{who}@{domain}>"


def build_message(
    parts: EmailParts,
    *,
    subject: str,
    from_address: str,
    recipient: str,
    msg_id: str,
    now: datetime,
) -> EmailMessage:
    """A multipart/alternative message: text first, then HTML (the preferred part)."""
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = " ".join(subject.split())
    message["From"] = _address(from_address)
    message["To"] = _address(recipient)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = msg_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(parts.text, subtype="plain", charset="utf-8")
    message.add_alternative(parts.html, subtype="html", charset="utf-8")
    return message


def _address(text: str) -> Address:
    name, addr = parseaddr(" ".join(text.split()))
    if "@" not in addr:
        raise DeliveryError(text, "not an email address", hint="check [email] addresses")
    user, _, domain = addr.rpartition("@")
    return Address(display_name=name, username=user, domain=domain)


def edition_message(
    env: jinja2.Environment,
    settings: Settings,
    briefing: Briefing,
    *,
    recipient: str,
    msg_id: str,
    now: datetime,
) -> EmailMessage:
    email = settings.email
    parts = email_parts(
        env, briefing, max_html_bytes=email.max_html_bytes, site_url=settings.output.site_url
    )
    return build_message(
        parts,
        subject=subject_line(email.subject_template, briefing, settings.output.language),
        from_address=email.from_address,
        recipient=recipient,
        msg_id=msg_id,
        now=now,
    )


# ── the outbox ────────────────────────────────────────────────────────────────────────────


def queue_edition(
    ledger: Ledger,
    settings: Settings,
    env: jinja2.Environment,
    briefing: Briefing,
    *,
    now: datetime,
) -> int:
    """Queue the edition for every recipient (a re-run refreshes what is still queued)."""
    number = briefing.edition
    if number is None:
        return 0
    queued = 0
    for recipient in settings.email.to_addresses:
        msg_id = message_id(number, recipient, settings.email.from_address)
        message = edition_message(
            env, settings, briefing, recipient=recipient, msg_id=msg_id, now=now
        )
        queued += ledger.queue(number, recipient, msg_id, message.as_bytes(), now=now)
    return queued


def _nothing(delivery: Delivery) -> None:
    """The default ``after_accept``: nothing happens between accept and commit."""


def flush_outbox(
    ledger: Ledger,
    email: EmailSettings,
    *,
    now: datetime,
    after_accept: Callable[[Delivery], None] = _nothing,
) -> FlushResult:
    """Send every queued message; a failure leaves the rest queued for the next run.

    ``after_accept`` runs after the server accepted a message and before the outbox says
    so: a seam where tests put a crash.
    """
    pending = ledger.queued()
    if not pending:
        return FlushResult(sent=(), error=None)
    sent: list[Delivery] = []
    errors: list[str] = []
    try:
        with smtp_connection(email) as smtp:
            for delivery, message in pending:
                error = _send_one(ledger, smtp, email, delivery, message, now, after_accept)
                if error is None:
                    sent.append(delivery)
                else:
                    errors.append(error)
    except DeliveryError as e:
        errors.append(str(e))
    return FlushResult(sent=tuple(sent), error=errors[0] if errors else None)


def _send_one(
    ledger: Ledger,
    smtp: smtplib.SMTP,
    email: EmailSettings,
    delivery: Delivery,
    message: bytes,
    now: datetime,
    after_accept: Callable[[Delivery], None],
) -> str | None:
    if not ledger.claim(delivery, now=now):
        return None  # another process has it
    sender = parseaddr(email.from_address)[1]
    try:
        smtp.sendmail(sender, [delivery.recipient], message)
    except _PER_MESSAGE_ERRORS as e:
        error = _delivery_error(e, email, delivery.recipient)
        ledger.release(delivery, str(error), now=now)
        return str(error)
    except (smtplib.SMTPException, OSError) as e:
        error = _delivery_error(e, email, delivery.recipient)
        ledger.release(delivery, str(error), now=now)
        raise error from e
    after_accept(delivery)
    ledger.mark_sent(delivery, now=now)
    return None


# ── SMTP ──────────────────────────────────────────────────────────────────────────────────


@contextmanager
def smtp_connection(email: EmailSettings) -> Iterator[smtplib.SMTP]:
    """A logged-in SMTP connection; every failure to get one is a DeliveryError."""
    try:
        smtp = _connect(email)
    except (smtplib.SMTPException, OSError) as e:
        raise _delivery_error(e, email) from e
    with smtp:
        try:
            if email.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if email.username:
                smtp.login(email.username, email.password)
        except (smtplib.SMTPException, OSError) as e:
            raise _delivery_error(e, email) from e
        yield smtp


def _connect(email: EmailSettings) -> smtplib.SMTP:
    if email.security == "ssl":
        return smtplib.SMTP_SSL(
            email.host,
            email.port,
            timeout=email.timeout_seconds,
            context=ssl.create_default_context(),
        )
    return smtplib.SMTP(email.host, email.port, timeout=email.timeout_seconds)


def send_now(message: EmailMessage, email: EmailSettings) -> None:
    """Send one message outside the outbox (``digest send-test``)."""
    with smtp_connection(email) as smtp:
        recipients = [a.addr_spec for a in message["To"].addresses]
        try:
            smtp.send_message(message, parseaddr(email.from_address)[1], recipients)
        except (smtplib.SMTPException, OSError) as e:
            raise _delivery_error(e, email, ", ".join(recipients)) from e


def one_off_message_id(email: EmailSettings) -> str:
    domain = parseaddr(email.from_address)[1].rpartition("@")[2] or "digest.invalid"
    return make_msgid("digest.test", domain=domain)


def _delivery_error(e: BaseException, email: EmailSettings, to: str = "") -> DeliveryError:
    error = _classify(e, email, to)
    error.__cause__ = e
    return error


def _classify(e: BaseException, email: EmailSettings, to: str) -> DeliveryError:
    where = f"smtp {email.host}:{email.port}" + (f" to {to}" if to else "")
    if isinstance(e, smtplib.SMTPAuthenticationError):
        return DeliveryError(
            where, "login refused", hint="check [email].username and DIGEST_EMAIL__PASSWORD"
        )
    if isinstance(e, smtplib.SMTPNotSupportedError | ssl.SSLError):
        hint = "set [email].security to what the server speaks: starttls, ssl or none"
        return DeliveryError(where, "secure connection failed", hint=hint)
    if isinstance(e, (*_PER_MESSAGE_ERRORS, smtplib.SMTPSenderRefused)):
        return DeliveryError(where, "message refused", hint="check the addresses in [email]")
    if isinstance(e, smtplib.SMTPException):
        return DeliveryError(where, "mail server error", hint="it stays queued; retried next run")
    return DeliveryError(
        where, "cannot reach the mail server", hint="check [email].host and [email].port"
    )
