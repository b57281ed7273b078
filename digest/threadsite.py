"""Thread pages on the site (the I/O edge of publishing, called by :mod:`digest.publish`).

    out_dir/threads/ID/index.html   the thread's permalink page: the story so far, what each
                                    edition added, who reported it first, every source
    out_dir/threads/ID/feed.xml     the thread's Atom feed: an entry per edition showing it

Every thread an edition shows gets its page and feed rebuilt from the editions'
documents on disk (``FOLDER/briefing.json``), so a page grows with each edition and says
what readers were shown. A thread merged into another (``ThreadStore.redirects()``: old
id -> new id) keeps its old address: its page becomes a redirect to the thread it joined
(meta refresh, canonical link and a plain link) and its feed gets one last entry saying
where the story went; the surviving thread's page includes the merged thread's editions.
Writes are atomic (``fsutil.atomic_write``); thread ids that are not a plain name are
skipped with a warning.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from digest.errors import PublishError
from digest.fsutil import atomic_write, safe_join
from digest.history import EditionRef, thread_history
from digest.render import render_moved, render_thread
from digest.site import SiteIdentity

log = logging.getLogger(__name__)

THREADS = "threads"
_THREAD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
Appearances = Mapping[str, Sequence[tuple[EditionRef, Mapping[str, Any]]]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreadPlan:
    """Which thread pages a publish writes."""

    targets: tuple[str, ...]  # threads whose page and feed are (re)built
    aliases: Mapping[str, frozenset[str]]  # target -> its id and the ids merged into it
    moved: Mapping[str, str]  # old id -> new id: old pages that must now redirect

    @property
    def wanted(self) -> frozenset[str]:
        """Every thread id whose appearances in the editions the pages need."""
        return frozenset(i for ids in self.aliases.values() for i in ids)


def resolve(redirects: Mapping[str, str]) -> dict[str, str]:
    """``redirects`` with chains followed to their end (a -> b -> c: a -> c); ids that lead
    back to themselves, and ids that are not plain names, are dropped."""
    resolved = {}
    for old in redirects:
        new, seen = old, {old}
        while new in redirects and redirects[new] not in seen:
            new = redirects[new]
            seen.add(new)
        if new != old and new not in redirects and _valid(old) and _valid(new):
            resolved[old] = new
    return resolved


def plan_threads(out_dir: Path, shown: Iterable[str], redirects: Mapping[str, str]) -> ThreadPlan:
    """The pages to write for threads ``shown`` by an edition (or by the version of it this
    publish replaces), given ``redirects`` (resolved)."""
    moved = {
        old: new
        for old, new in redirects.items()
        if _page(out_dir, old).exists() and not _redirects_to(out_dir, old, new)
    }
    targets = {redirects.get(i, i) for i in shown if _valid(i)} | set(moved.values())
    aliases = {
        t: frozenset({t} | {old for old, new in redirects.items() if new == t}) for t in targets
    }
    return ThreadPlan(targets=tuple(sorted(targets)), aliases=aliases, moved=moved)


def write_threads(
    env: jinja2.Environment,
    out_dir: Path,
    plan: ThreadPlan,
    appearances: Appearances,
    *,
    site: SiteIdentity,
    site_title: str,
    timezone: str,
    now: datetime,
) -> list[Path]:
    """Write the planned thread pages and feeds, then the redirects of merged threads."""
    written: list[Path] = []
    headlines: dict[str, str] = {}
    for thread_id in plan.targets:
        seen = [a for alias in sorted(plan.aliases[thread_id]) for a in appearances.get(alias, ())]
        history = thread_history(thread_id, seen)
        if history is None:
            continue
        headlines[thread_id] = history.latest.headline
        page, feed = render_thread(
            env, history, site=site, site_title=site_title, timezone=timezone
        )
        written += [_write(out_dir, thread_id, "index.html", page)]
        written += [_write(out_dir, thread_id, "feed.xml", feed)]
    for old, new in sorted(plan.moved.items()):
        if new not in headlines:  # nothing to send readers to
            continue
        page, feed = render_moved(
            env, old, new, headline=headlines[new], site=site, site_title=site_title, updated=now
        )
        written += [
            _write(out_dir, old, name, data)
            for name, data in (("index.html", page), ("feed.xml", feed))
        ]
    return written


def _valid(thread_id: str) -> bool:
    if _THREAD_ID.match(thread_id):
        return True
    log.warning("publish: no page for thread %r: not a plain name", thread_id)
    return False


def _page(out_dir: Path, thread_id: str) -> Path:
    return safe_join(out_dir, THREADS, thread_id, "index.html")


def _redirects_to(out_dir: Path, old: str, new: str) -> bool:
    """Whether ``old``'s page already sends readers to ``new``'s."""
    try:
        text = _page(out_dir, old).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return '<meta http-equiv="refresh"' in text and f"{THREADS}/{new}/index.html" in text


def _write(out_dir: Path, thread_id: str, name: str, data: str) -> Path:
    path = safe_join(out_dir, THREADS, thread_id, name)
    try:
        return atomic_write(path, data)
    except OSError as e:
        raise PublishError(str(path), "cannot write file") from e
