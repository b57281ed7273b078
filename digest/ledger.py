"""The editions ledger and the email outbox, in the store's SQLite file (migration 2).

An edition's window is a range of runs (``first_run..last_run``): it shows every thread
that got an article stored by one of those runs. A thread that also has articles from
earlier runs is *continuing*. Windows of consecutive editions touch and never overlap.

The outbox holds one row per (edition, recipient) with the message bytes, so a retry sends
exactly the message that was queued. States: ``queued`` -> ``sending`` (claimed, committed
before the SMTP transaction) -> ``sent`` (committed right after the server accepted it).
A transaction that failed before the whole message was sent (or got a temporary 4xx
refusal) puts the row back to ``queued``; a permanent 5xx refusal makes it ``failed``
(never retried). A message whose reply was lost once it was fully sent, or a process
that dies between the server's accept and the commit, leaves ``sending``: such a row is
never sent again (at most once); ``digest status`` shows it as uncertain (with the error,
when the reply was lost). See :mod:`digest.mailer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import get_args

from digest.models import Delivery, DeliveryState, Edition, EventThread
from digest.store import Store

_EDITION_COLUMNS = (
    "id, number, slug, day, first_run, last_run, window_start, window_end, scheduled_for,"
    " produced_at, late, status"
)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowThread:
    """A thread in an edition's window, with what the summary needs to know."""

    thread: EventThread  # its articles up to the window's last run
    continues_from: date | None  # day of its first article, when stored before the window
    new_article_ids: frozenset[str]  # originals of the articles stored in the window
    stored_ids: tuple[str, ...]  # the articles and copies stored in the window, own ids
    articles: int = 0  # its articles with their stored copies, up to the window's last run
    outlets: int = 0  # distinct outlets among them


class Ledger:
    """Editions and outbox queries over an open :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    # ── editions ──────────────────────────────────────────────────────────────────────────

    def editions(self, limit: int = 1_000_000) -> tuple[Edition, ...]:
        """Ledger rows, newest first."""
        query = f"SELECT {_EDITION_COLUMNS} FROM editions ORDER BY id DESC LIMIT ?"  # noqa: S608
        return tuple(_edition(row) for row in self.db.execute(query, (limit,)))

    def latest(self) -> Edition | None:
        rows = self.editions(1)
        return rows[0] if rows else None

    def latest_published(self) -> Edition | None:
        query = f"SELECT {_EDITION_COLUMNS} FROM editions WHERE number IS NOT NULL"  # noqa: S608
        row = self.db.execute(query + " ORDER BY number DESC LIMIT 1").fetchone()
        return _edition(row) if row else None

    def find(self, *, slot: datetime | None, day: date | None) -> Edition | None:
        """The row a run re-runs: the one for ``slot``, else the newest one dated ``day``."""
        if slot is not None:
            where, value = "scheduled_for = ?", _iso(slot)
        elif day is not None:
            where, value = "day = ?", day.isoformat()
        else:
            return None
        query = f"SELECT {_EDITION_COLUMNS} FROM editions WHERE {where}"  # noqa: S608
        row = self.db.execute(query + " ORDER BY id DESC LIMIT 1", (value,)).fetchone()
        return _edition(row) if row else None

    def last_scheduled_for(self) -> datetime | None:
        """The newest schedule slot the ledger has served (published or empty)."""
        rows = self.db.execute("SELECT scheduled_for FROM editions WHERE scheduled_for IS NOT NULL")
        return max((_dt(s) for (s,) in rows), default=None)  # manual editions have no slot

    def next_number(self) -> int:
        row = self.db.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM editions").fetchone()
        return int(row[0])

    def slugs(self) -> frozenset[str]:
        return frozenset(s for (s,) in self.db.execute("SELECT slug FROM editions") if s)

    def run_started(self, run_id: int) -> datetime | None:
        row = self.db.execute("SELECT started FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _dt(row[0]) if row else None

    def unfinished_runs(self) -> dict[datetime, int]:
        """Start time -> id of the runs that never finished (killed, or the current one)."""
        rows = self.db.execute("SELECT id, started FROM runs WHERE finished IS NULL")
        return {_dt(started): int(run_id) for run_id, started in rows}

    def mark_interrupted(self) -> int:
        """Runs left 'running' (their process was killed) become 'interrupted'. Call it
        holding the store's writer lock, before the current run begins: then none of them
        is still going."""
        with self.store.transaction():
            cur = self.db.execute(
                "UPDATE runs SET status = 'interrupted' WHERE finished IS NULL"
                " AND status = 'running'"
            )
        return cur.rowcount

    def save(self, edition: Edition) -> Edition:
        """Insert (``id == 0``) or update the row; returns it with its id."""
        values = (
            edition.number,
            edition.slug,
            edition.day.isoformat(),
            edition.first_run,
            edition.last_run,
            _iso(edition.window_start),
            _iso(edition.window_end),
            _iso(edition.scheduled_for) if edition.scheduled_for else None,
            _iso(edition.produced_at),
            int(edition.late),
            edition.status,
        )
        with self.store.transaction():
            if edition.id:
                self.db.execute(
                    "UPDATE editions SET number=?, slug=?, day=?, first_run=?, last_run=?,"
                    " window_start=?, window_end=?, scheduled_for=?, produced_at=?, late=?,"
                    " status=? WHERE id = ?",
                    (*values, edition.id),
                )
                return edition
            cur = self.db.execute(
                f"INSERT INTO editions ({_EDITION_COLUMNS}) VALUES (NULL,?,?,?,?,?,?,?,?,?,?,?)",  # noqa: S608
                values,
            )
        return replace(edition, id=int(cur.lastrowid or 0))

    def window_has_news(self, first_run: int, last_run: int) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM articles WHERE run_id BETWEEN ? AND ? AND thread_id IS NOT NULL LIMIT 1",
            (first_run, last_run),
        ).fetchone()
        return row is not None

    def threads_in_window(self, first_run: int, last_run: int) -> tuple[WindowThread, ...]:
        """Threads that got an article stored by runs ``first_run..last_run``.

        Set-based: one pass over the touched threads' articles and one thread load, not
        queries per thread (a 100k-article run touches tens of thousands of threads)."""
        touched = (
            "SELECT DISTINCT thread_id FROM articles"
            " WHERE run_id BETWEEN ? AND ? AND thread_id IS NOT NULL"
        )
        first_day: dict[str, str] = {}
        new_ids: dict[str, set[str]] = {}
        stored: dict[str, list[str]] = {}
        upto: dict[str, set[str]] = {}
        outlets: dict[str, set[str]] = {}
        rows = self.db.execute(
            "SELECT thread_id, COALESCE(duplicate_of, id), id, run_id, day, outlet"  # noqa: S608
            f" FROM articles WHERE run_id <= ? AND thread_id IN ({touched})"
            " ORDER BY published, id",
            (last_run, first_run, last_run),
        )
        for thread_id, original, own, run_id, day, outlet in rows:
            upto.setdefault(thread_id, set()).add(own)
            outlets.setdefault(thread_id, set()).add(outlet)
            if run_id < first_run:
                first_day[thread_id] = min(first_day.get(thread_id, day), day)
            else:
                new_ids.setdefault(thread_id, set()).add(original)
                stored.setdefault(thread_id, []).append(own)
        threads = self.store.threads_where(touched, (first_run, last_run), signatures=False)
        result = []
        for thread_id in sorted(stored):
            thread = threads[thread_id]
            members = upto[thread_id]
            first = first_day.get(thread_id)
            result.append(
                WindowThread(
                    thread=replace(
                        thread, article_ids=tuple(i for i in thread.article_ids if i in members)
                    ),
                    continues_from=date.fromisoformat(first) if first else None,
                    new_article_ids=frozenset(new_ids[thread_id]),
                    stored_ids=tuple(stored[thread_id]),
                    articles=len(members),
                    outlets=len(outlets[thread_id]),
                )
            )
        return tuple(result)

    # ── outbox ────────────────────────────────────────────────────────────────────────────

    def queue(
        self, number: int, recipient: str, message_id: str, message: bytes, *, now: datetime
    ) -> bool:
        """Queue the message, or refresh a still-queued one; False when it is already out."""
        with self.store.transaction():
            cur = self.db.execute(
                "INSERT INTO outbox (edition, recipient, message_id, message, updated_at)"
                " VALUES (?,?,?,?,?) ON CONFLICT(edition, recipient) DO UPDATE SET"
                " message = excluded.message, updated_at = excluded.updated_at"
                " WHERE outbox.state = 'queued'",
                (number, recipient, message_id, message, _iso(now)),
            )
        return cur.rowcount > 0

    def queued(self) -> tuple[tuple[Delivery, bytes], ...]:
        rows = self.db.execute(
            f"SELECT {_OUTBOX_COLUMNS}, message FROM outbox WHERE state = 'queued'"  # noqa: S608
            " ORDER BY edition, recipient"
        )
        return tuple((_delivery(row), bytes(row[-1])) for row in rows)

    def claim(self, delivery: Delivery, *, now: datetime) -> bool:
        """queued -> sending, committed; False when another process got it first."""
        return self._move(delivery, "queued", "sending", now=now)

    def mark_sent(self, delivery: Delivery, *, now: datetime) -> None:
        self._move(delivery, "sending", "sent", now=now)

    def release(self, delivery: Delivery, error: str, *, now: datetime) -> None:
        """sending -> queued after a failed SMTP transaction (retried on the next run)."""
        self._move(delivery, "sending", "queued", now=now, error=error)

    def mark_failed(self, delivery: Delivery, error: str, *, now: datetime) -> None:
        """sending -> failed after a permanent (5xx) refusal: never retried."""
        self._move(delivery, "sending", "failed", now=now, error=error)

    def mark_uncertain(self, delivery: Delivery, error: str, *, now: datetime) -> None:
        """Stays ``sending`` (never re-sent), with why: the reply to a fully sent message
        was lost, so the server may have it."""
        self._move(delivery, "sending", "sending", now=now, error=error)

    def _move(
        self, d: Delivery, old: str, new: str, *, now: datetime, error: str | None = None
    ) -> bool:
        with self.store.transaction():
            cur = self.db.execute(
                "UPDATE outbox SET state = ?, updated_at = ?, last_error = ?,"
                " attempts = attempts + ? WHERE edition = ? AND recipient = ? AND state = ?",
                (new, _iso(now), error, int(old == "queued"), d.edition, d.recipient, old),
            )
        return cur.rowcount > 0

    def deliveries(self, numbers: Sequence[int] | None = None) -> tuple[Delivery, ...]:
        rows = self.db.execute(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox ORDER BY edition DESC, recipient"  # noqa: S608
        )
        wanted = None if numbers is None else set(numbers)
        return tuple(_delivery(r) for r in rows if wanted is None or r[0] in wanted)


_OUTBOX_COLUMNS = "edition, recipient, message_id, state, attempts, last_error, updated_at"
_STATES: dict[str, DeliveryState] = {s: s for s in get_args(DeliveryState)}


def _edition(row: Sequence[object]) -> Edition:
    return Edition(
        id=int(str(row[0])),
        number=None if row[1] is None else int(str(row[1])),
        slug=str(row[2]),
        day=date.fromisoformat(str(row[3])),
        first_run=int(str(row[4])),
        last_run=int(str(row[5])),
        window_start=_dt(str(row[6])),
        window_end=_dt(str(row[7])),
        scheduled_for=_dt(str(row[8])) if row[8] else None,
        produced_at=_dt(str(row[9])),
        late=bool(row[10]),
        status="published" if row[11] == "published" else "empty",
    )


def _delivery(row: Sequence[object]) -> Delivery:
    state = str(row[3])
    return Delivery(
        edition=int(str(row[0])),
        recipient=str(row[1]),
        message_id=str(row[2]),
        state=_STATES.get(state, "queued"),
        attempts=int(str(row[4])),
        last_error=None if row[5] is None else str(row[5]),
        updated_at=_dt(str(row[6])),
    )
