"""What ``digest threads`` and ``digest explain THREAD`` print (reads the store, no writes).

``explain`` says why each article is in the thread: it started it, joined its core (the
reports that are most alike), or attached to it as a reaction, analysis or angle, with the
score of that link, the terms and names that weighed most in it, and the day its lead
gives for the event; and which threads were merged into it, which it is kept apart from,
and which of the operator's corrections name it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from digest.errors import StoreError
from digest.models import JoinReason
from digest.overrides import Overrides
from digest.store import Store
from digest.threadstore import ThreadStore


def _when(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def thread_lines(
    store: Store, *, now: datetime, days: float, limit: int, tz: ZoneInfo
) -> list[str]:
    rows = ThreadStore(store).recent(since=now - timedelta(days=days), limit=limit)
    if not rows:
        return [f"no thread was updated in the last {days:g} days"]
    header = f"{'thread':<13}  {'updated':<16}  {'articles':>8}  {'outlets':>7}  title"
    return [header] + [
        f"{r.id:<13}  {_when(r.last_updated, tz):<16}  {r.articles:>8}  {r.outlets:>7}  {r.title}"
        for r in rows
    ]


def _reason(r: JoinReason | None) -> str:
    if r is None:
        return "stored before reasons were kept"
    day = f"; event day {r.event_day:%a %d %b}" if r.event_day else ""
    if r.via == "new":
        return f"started the thread{day}"
    if r.via == "override":
        return f"placed here by the operator ({', '.join(r.terms)})"
    how = "joined its core" if r.via == "core" else "attached to it"
    shared = f"; terms: {', '.join(r.terms)}" if r.terms else ""
    names = f"; names: {', '.join(r.names)}" if r.names else ""
    return f"{how} at {r.score:.3f}{shared}{names}{day}"


def explain_lines(store: Store, thread: str, *, tz: ZoneInfo, overrides: Overrides) -> list[str]:
    """Why the thread's articles are together; a ``StoreError`` for an unknown id."""
    book = ThreadStore(store)
    thread_id = book.resolve(thread)
    if not book.exists(thread_id):
        raise StoreError(thread, "no such thread (digest threads lists them)")
    found = store.thread(thread_id)
    articles = store.articles(found.article_ids)
    copies = store.copies_of(found.article_ids)
    outlets = {a.outlet for a in articles.values()} | {
        c.outlet for cs in copies.values() for c in cs
    }
    lines = [] if thread_id == thread else [f"{thread} was merged into {thread_id}"]
    span = f"{_when(found.first_seen, tz)} to {_when(found.last_updated, tz)}"
    lines += [
        f"thread {thread_id}: {found.title}",
        f"  {len(found.article_ids)} reports, {sum(map(len, copies.values()))} copies,"
        f" {len(outlets)} outlets; {span}",
    ]
    for r in book.redirect_rows():
        if r.new_id == thread_id:
            lines.append(f"  merged in: {r.old_id} on {_when(r.merged_at, tz)} ({r.why})")
    for pair in sorted(book.kept_apart(), key=sorted):
        if thread_id in pair:
            (other,) = pair - {thread_id}
            lines.append(f"  kept apart from {other} (the operator split them)")
    reasons = book.reasons(thread_id)
    lines.append("articles:")
    for article_id in found.article_ids:
        a = articles.get(article_id)
        if a is None:
            continue
        lines.append(f"  {_when(a.published, tz)}  {a.outlet}: {a.title}  [{a.id}]")
        lines.append(f"      {_reason(reasons.get(article_id))}")
        for c in copies.get(article_id, ()):
            lines.append(f"      copy: {c.outlet}, {_when(c.published, tz)}  [{c.id}]")
    named = [o for o in overrides.items if any(book.resolve(x) == thread_id for x in o.args)]
    if named:
        lines.append(f"corrections in {overrides.path}:")
        lines += [f"  {o}" for o in named]
    return lines
