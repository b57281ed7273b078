"""Thread bookkeeping in the store: merges and their redirects, join reasons, operator
splits kept apart, and the reads behind ``digest threads`` / ``digest explain`` (#11).

``ThreadStore`` wraps a :class:`digest.store.Store` (as ``Ledger`` does for editions). Its
writes run inside the caller's transaction; ``Store.apply_plan`` calls ``apply_merges`` and
``save_reasons`` with the rest of a run's plan. Every write that changes threads, their
members or the pairs kept apart tells the store (``clustering_changed``: the transaction
bumps the clustering version, so a clustering writer's kept state is reloaded).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from digest.cluster import ClusterParams, read_articles, stored_terms, thread_signature
from digest.models import JoinReason, ThreadMerge
from digest.overrides import Override, Overrides, report_line
from digest.rows import from_iso, iso, signature_text

if TYPE_CHECKING:
    from digest.store import Store


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreadRow:
    """One thread for ``digest threads``: its size, outlets and span."""

    id: str
    title: str
    articles: int  # originals and copies
    outlets: int
    first_seen: datetime
    last_updated: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Redirect:
    old_id: str
    new_id: str
    merged_at: datetime
    why: str


class ThreadStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    # ── writes (inside the caller's transaction) ─────────────────────────────────────────

    def apply_merges(self, merges: Sequence[ThreadMerge], *, at: datetime) -> None:
        """``merged_id``'s articles, reasons and splits move to ``into_id``; its id
        redirects there (and so do ids that redirected to it); its row goes."""
        for m in merges:
            if m.merged_id == m.into_id:
                continue
            why = f"clustering {m.score}: {' '.join(m.terms[:4])}" if m.score is not None else ""
            self.move_thread(m.merged_id, m.into_id, at=at, why=why or "override")

    def move_thread(self, old: str, new: str, *, at: datetime, why: str) -> None:
        self.store.clustering_changed()
        db = self.db
        db.execute("UPDATE articles SET thread_id = ? WHERE thread_id = ?", (new, old))
        db.execute("UPDATE thread_reasons SET thread_id = ? WHERE thread_id = ?", (new, old))
        db.execute("UPDATE thread_redirects SET new_id = ? WHERE new_id = ?", (new, old))
        db.execute(
            "INSERT OR REPLACE INTO thread_redirects (old_id, new_id, merged_at, why)"
            " VALUES (?, ?, ?, ?)",
            (old, new, iso(at), why),
        )
        pairs = db.execute("SELECT a, b FROM threads_apart WHERE a = ?1 OR b = ?1", (old,))
        for a, b in pairs.fetchall():
            db.execute("DELETE FROM threads_apart WHERE a = ? AND b = ?", (a, b))
            other = b if a == old else a
            if other != new:
                self.keep_apart(new, other)
        first = db.execute("SELECT first_seen FROM threads WHERE id = ?", (old,)).fetchone()
        if first:
            db.execute(
                "UPDATE threads SET first_seen = MIN(first_seen, ?) WHERE id = ?", (first[0], new)
            )
        db.execute("DELETE FROM threads WHERE id = ?", (old,))

    def save_reasons(self, reasons: Iterable[JoinReason], *, run_id: int | None) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO thread_reasons (article_id, thread_id, run_id, via, score,"
            " terms, names, event_day) VALUES (?,?,?,?,?,?,?,?)",
            [
                (
                    r.article_id,
                    r.thread_id,
                    run_id,
                    r.via,
                    r.score,
                    json.dumps(list(r.terms)),
                    json.dumps(list(r.names)),
                    r.event_day.isoformat() if r.event_day else None,
                )
                for r in reasons
            ],
        )

    def keep_apart(self, x: str, y: str) -> None:
        a, b = sorted((x, y))
        self.store.clustering_changed()
        self.db.execute("INSERT OR IGNORE INTO threads_apart (a, b) VALUES (?, ?)", (a, b))

    # ── operator corrections (digest.overrides) ──────────────────────────────────────────

    def merge(self, o: Override, *, now: datetime) -> str:
        target = self.resolve(o.args[0])
        if not self.exists(target):
            return f"skipped: no thread {o.args[0]}"
        done = []
        for other in o.args[1:]:
            source = self.resolve(other)
            if source != target and self.exists(source):
                self.move_thread(source, target, at=now, why=f"override {o}")
                done.append(source)
        return f"merged {', '.join(done)} into {target}" if done else "already in effect"

    def split(self, o: Override, *, now: datetime, params: ClusterParams) -> str:
        source = self.resolve(o.args[0])
        if not self.exists(source):
            return f"skipped: no thread {o.args[0]}"
        members = set(self.store.thread(source).article_ids)
        leaving = [a for a in o.args[1:] if a in members]
        if not leaving:
            return "already in effect"
        new_id = "t" + hashlib.sha256(f"split:{sorted(leaving)[0]}".encode()).hexdigest()[:12]
        if not self.exists(new_id):
            self.store.clustering_changed()
            self.store.db.execute(
                "INSERT INTO threads (id, title, first_seen, last_updated, signature)"
                " SELECT ?, title, first_seen, last_updated, '[]' FROM threads WHERE id = ?",
                (new_id, source),
            )
        self._place(leaving, new_id, o)
        self.keep_apart(source, new_id)
        self.refresh((source, new_id), params=params)
        return f"{len(leaving)} articles left {source} for {new_id}"

    def move(self, o: Override, *, now: datetime, params: ClusterParams) -> str:
        article, target = o.args[0], self.resolve(o.args[1])
        row = self.db.execute("SELECT thread_id FROM articles WHERE id = ?", (article,)).fetchone()
        if row is None:
            return f"skipped: no article {article}"
        if not self.exists(target):
            return f"skipped: no thread {o.args[1]}"
        if row[0] == target:
            return "already in effect"
        self._place([article], target, o)
        self.refresh((row[0], target), params=params)
        return f"moved from {row[0]} to {target}"

    def _place(self, articles: Sequence[str], thread: str, o: Override) -> None:
        self.store.clustering_changed()
        for article in articles:
            self.db.execute(
                "UPDATE articles SET thread_id = ?1 WHERE id = ?2 OR duplicate_of = ?2",
                (thread, article),
            )
        self.save_reasons(
            [
                JoinReason(article_id=a, thread_id=thread, via="override", terms=(str(o),))
                for a in articles
            ],
            run_id=None,
        )

    def refresh(self, thread_ids: Sequence[str], *, params: ClusterParams) -> None:
        """Sum the threads' signatures, titles and times again from their articles (a thread
        left empty goes)."""
        self.store.clustering_changed()
        for thread_id in thread_ids:
            thread = self.store.thread(thread_id)
            articles = self.store.articles(thread.article_ids)
            ordered = [articles[a] for a in thread.article_ids if a in articles]
            if not ordered:
                self.db.execute("DELETE FROM threads WHERE id = ?", (thread_id,))
                continue
            read = read_articles(ordered, params)
            vocabulary = self.store.vocabulary(stored_terms(read))
            sig = thread_signature(ordered, params=params, vocabulary=vocabulary, read=read)
            self.db.execute(
                "UPDATE threads SET title = ?, first_seen = ?, last_updated = ?, signature = ?"
                " WHERE id = ?",
                (
                    ordered[0].title,
                    iso(ordered[0].published),
                    iso(ordered[-1].published),
                    signature_text(sig),
                    thread_id,
                ),
            )

    # ── reads ─────────────────────────────────────────────────────────────────────────────

    def kept_apart(self) -> frozenset[frozenset[str]]:
        return frozenset(
            frozenset(pair) for pair in self.db.execute("SELECT a, b FROM threads_apart")
        )

    def redirects(self) -> dict[str, str]:
        """Every merged thread id -> the id it lives on as."""
        return dict(self.db.execute("SELECT old_id, new_id FROM thread_redirects"))

    def redirect_rows(self) -> tuple[Redirect, ...]:
        rows = self.db.execute(
            "SELECT old_id, new_id, merged_at, why FROM thread_redirects ORDER BY merged_at, old_id"
        )
        return tuple(
            Redirect(old_id=o, new_id=n, merged_at=from_iso(at), why=w) for o, n, at, w in rows
        )

    def resolve(self, thread_id: str) -> str:
        """The id ``thread_id`` lives on as (itself unless merged away)."""
        row = self.db.execute(
            "SELECT new_id FROM thread_redirects WHERE old_id = ?", (thread_id,)
        ).fetchone()
        return str(row[0]) if row else thread_id

    def exists(self, thread_id: str) -> bool:
        row = self.db.execute("SELECT 1 FROM threads WHERE id = ?", (thread_id,)).fetchone()
        return row is not None

    def reasons(self, thread_id: str) -> dict[str, JoinReason]:
        return {r.article_id: r for r in self.reasons_for([thread_id]).get(thread_id, ())}

    def reasons_for(self, thread_ids: Sequence[str]) -> dict[str, tuple[JoinReason, ...]]:
        """Thread id -> why each of its articles is in it (in article id order)."""
        found: dict[str, list[JoinReason]] = {}
        ids = list(thread_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                "SELECT article_id, thread_id, via, score, terms, names, event_day"  # noqa: S608
                f" FROM thread_reasons WHERE thread_id IN ({marks}) ORDER BY article_id",
                chunk,
            )
            for a, t, via, score, terms, names, day in rows:
                found.setdefault(t, []).append(
                    JoinReason(
                        article_id=a,
                        thread_id=t,
                        via=via,
                        score=score,
                        terms=tuple(json.loads(terms)),
                        names=tuple(json.loads(names)),
                        event_day=date.fromisoformat(day) if day else None,
                    )
                )
        return {t: tuple(r) for t, r in found.items()}

    def merged_into(self, thread_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """Thread id -> the ids that were merged into it (they redirect to it)."""
        wanted = set(thread_ids)
        merged: dict[str, list[str]] = {}
        for old, new in sorted(self.redirects().items()):
            if new in wanted:
                merged.setdefault(new, []).append(old)
        return {t: tuple(ids) for t, ids in merged.items()}

    def recent(self, *, since: datetime, limit: int) -> tuple[ThreadRow, ...]:
        """Threads updated since ``since``, newest first (``digest threads``)."""
        rows = self.db.execute(
            "SELECT t.id, t.title, t.first_seen, t.last_updated, COUNT(a.id),"
            " COUNT(DISTINCT a.outlet) FROM threads AS t JOIN articles AS a ON a.thread_id = t.id"
            " WHERE t.last_updated >= ? GROUP BY t.id ORDER BY t.last_updated DESC, t.id LIMIT ?",
            (iso(since), limit),
        )
        return tuple(
            ThreadRow(
                id=tid,
                title=title,
                first_seen=from_iso(first),
                last_updated=from_iso(last),
                articles=n,
                outlets=outlets,
            )
            for tid, title, first, last, n, outlets in rows
        )


def apply_overrides(
    store: Store, overrides: Overrides, *, now: datetime, params: ClusterParams
) -> tuple[str, ...]:
    """Carry out the merge, split and move corrections (inside the caller's transaction);
    one report line per correction, pins and mutes included (they act on editions)."""
    book = ThreadStore(store)
    lines = []
    for o in overrides.items:
        if o.verb == "merge":
            outcome = book.merge(o, now=now)
        elif o.verb == "split":
            outcome = book.split(o, now=now, params=params)
        elif o.verb == "move":
            outcome = book.move(o, now=now, params=params)
        else:
            thread = book.resolve(o.args[0])
            known = book.exists(thread)
            done = {"pin": "pinned", "mute": "muted"}[o.verb]
            outcome = f"{done} {thread}" if known else f"skipped: no thread {o.args[0]}"
        lines.append(report_line(o, outcome))
    return tuple(lines)
