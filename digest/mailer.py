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
Each message is its own transaction (MAIL, RCPT, DATA), and what went wrong decides:

- it failed before the whole message was sent, or the server refused it for now (4xx):
  the row goes back to the queue for the next run or daemon tick;
- the server refused it for good (5xx, e.g. 550 on RCPT): the row is ``failed`` and is
  never retried;
- the whole message was sent but the reply was lost (the server dropped the connection,
  or answered after ``[email].timeout_seconds``): the server may have stored it, so the
  row stays "sending" and is never sent again; ``digest status`` shows it as uncertain.

A lost connection costs only its own message: the flush opens a new one for the next
recipient (it stops only when no connection can be opened). A crash between the server's
accept and the commit also leaves the row "sending". We chose at most once over
at-least-once because a daily email sent twice is the failure readers notice; the window
is one SMTP transaction. The Message-ID is stable per (edition, recipient), so any
duplicate would be recognisable. A failing reply to QUIT once the messages were accepted
changes nothing.
"""

from __future__ import annotations

import hashlib
import re
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
    """Send every queued message, each in its own SMTP transaction; a failure costs only
    that message (see the module docstring), an unreachable server the rest of the run.

    ``after_accept`` runs after the server accepted a message and before the outbox says
    so: a seam where tests put a crash.
    """
    pending = ledger.queued()
    if not pending:
        return FlushResult(sent=(), error=None)
    sent: list[Delivery] = []
    errors: list[str] = []
    link = _Link(email)
    try:
        for delivery, message in pending:
            try:
                smtp = link.get()
            except DeliveryError as e:  # no server to talk to: the rest stays queued
                errors.append(str(e))
                break
            error = _send_one(ledger, link, smtp, email, delivery, message, now, after_accept)
            if error is None:
                sent.append(delivery)
            elif error:
                errors.append(error)
    finally:
        link.close()
    return FlushResult(sent=tuple(sent), error=errors[0] if errors else None)


def _send_one(
    ledger: Ledger,
    link: _Link,
    smtp: smtplib.SMTP,
    email: EmailSettings,
    delivery: Delivery,
    message: bytes,
    now: datetime,
    after_accept: Callable[[Delivery], None],
) -> str | None:
    """None when sent; otherwise the error line ('' when another process has the row)."""
    if not ledger.claim(delivery, now=now):
        return ""
    where = f"smtp {email.host}:{email.port} to {delivery.recipient}"
    try:
        _transaction(smtp, parseaddr(email.from_address)[1], delivery.recipient, message)
    except _Refused as e:
        link.after_refusal(e.code)
        if e.code >= 500 and e.stage != "MAIL":  # MAIL FROM: our sender, fixable; retried
            hint = "refused for good: not retried; check the address"
            error = DeliveryError(f"{where}: {e}", "message refused", hint=hint)
            ledger.mark_failed(delivery, str(error), now=now)
        else:
            hint = "it stays queued; retried next run"
            error = DeliveryError(f"{where}: {e}", "message refused", hint=hint)
            ledger.release(delivery, str(error), now=now)
        return str(error)
    except _Lost as e:
        link.drop()
        cause = e.__cause__ or e
        if e.after_data:
            error = DeliveryError(
                where,
                "no reply after the message was sent",
                hint="the server may have it: not sent again; check the inbox",
            )
            error.__cause__ = cause
            ledger.mark_uncertain(delivery, str(error), now=now)
        else:
            error = _delivery_error(cause, email, delivery.recipient)
            ledger.release(delivery, str(error), now=now)
        return str(error)
    after_accept(delivery)
    ledger.mark_sent(delivery, now=now)
    return None


class _Refused(Exception):
    """The server answered a step of the transaction with a refusal."""

    def __init__(self, stage: str, code: int, reply: bytes) -> None:
        self.stage, self.code = stage, code
        text = reply.decode("utf-8", "replace")
        super().__init__(f"{stage} {code} {' '.join(text.split())}")


class _Lost(Exception):
    """The connection failed; ``after_data``: the whole message had been sent."""

    def __init__(self, *, after_data: bool) -> None:
        super().__init__("connection lost")
        self.after_data = after_data


def _transaction(smtp: smtplib.SMTP, sender: str, recipient: str, message: bytes) -> None:
    """MAIL, RCPT, DATA for one recipient: what ``smtplib.SMTP.sendmail`` does, with the
    moment the message has been fully sent made visible (after it, a lost reply means the
    server may have stored the message)."""
    try:
        smtp.ehlo_or_helo_if_needed()
        options = [f"size={len(message)}"] if smtp.has_extn("size") else []
        code, reply = smtp.mail(sender, options)
        if code != 250:
            raise _Refused("MAIL", code, reply)
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            raise _Refused("RCPT", code, reply)
        code, reply = smtp.docmd("DATA")
        if code != 354:
            raise _Refused("DATA", code, reply)
        smtp.send(_data_block(message))
    except (smtplib.SMTPException, OSError) as e:
        raise _Lost(after_data=False) from e
    try:
        code, reply = smtp.getreply()
    except (smtplib.SMTPException, OSError) as e:
        raise _Lost(after_data=True) from e
    if code != 250:
        raise _Refused("DATA", code, reply)


def _data_block(message: bytes) -> bytes:
    """The message as DATA sends it (as ``sendmail`` does): leading dots doubled, the end
    mark after a final CRLF."""
    stuffed = re.sub(rb"(?m)^\.", b"..", message)
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + b".\r\n"


class _Link:
    """The flush's SMTP connection, opened when first needed and again after one is lost."""

    def __init__(self, email: EmailSettings) -> None:
        self.email = email
        self.smtp: smtplib.SMTP | None = None

    def get(self) -> smtplib.SMTP:
        if self.smtp is None:
            self.smtp = open_connection(self.email)
        return self.smtp

    def after_refusal(self, code: int) -> None:
        """End the refused transaction (RSET); a server that is closing (421) is left."""
        if self.smtp is None:
            return
        if code == 421:
            self.drop()
            return
        try:
            self.smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.drop()

    def drop(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None

    def close(self) -> None:
        if self.smtp is not None:
            close_connection(self.smtp)
            self.smtp = None


# ── SMTP ──────────────────────────────────────────────────────────────────────────────────


@contextmanager
def smtp_connection(email: EmailSettings) -> Iterator[smtplib.SMTP]:
    """A logged-in SMTP connection; every failure to get one is a DeliveryError."""
    smtp = open_connection(email)
    try:
        yield smtp
    finally:
        close_connection(smtp)


def open_connection(email: EmailSettings) -> smtplib.SMTP:
    """Connect, STARTTLS when configured, log in; a failure is a DeliveryError."""
    try:
        smtp = _connect(email)
    except (smtplib.SMTPException, OSError) as e:
        raise _delivery_error(e, email) from e
    try:
        if email.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if email.username:
            smtp.login(email.username, email.password)
    except (smtplib.SMTPException, OSError) as e:
        smtp.close()
        raise _delivery_error(e, email) from e
    return smtp


def close_connection(smtp: smtplib.SMTP) -> None:
    """QUIT, then close: what the server answers to QUIT (even 421) changes nothing, the
    messages it accepted are accepted."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


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
