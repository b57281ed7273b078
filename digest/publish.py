"""Rendered edition -> ``output/``, a static site (the I/O edge).

Layout (every link relative, so the folder can be copied to any static host)::

    out_dir/FOLDER/index.html      the edition's permalink page (FOLDER: YYYY-MM-DD, or
    out_dir/FOLDER/briefing.md     YYYY-MM-DD-N for a second edition on one day)
    out_dir/FOLDER/briefing.json   the JSON document (read back for the archive)
    out_dir/threads/ID/            a page and an Atom feed per thread (digest.threadsite)
    out_dir/archive.html           every edition, newest first
    out_dir/archive.json           the same in JSON, and the index of the editions'
                                   documents (``digest.archive``)
    out_dir/feed.xml               Atom feed, one entry per edition (newest 30)
    out_dir/index.html             the latest edition (the front page)
    out_dir/favicon.svg            the site's icon

Atomic replacement: every file is written to a temp file in its folder, fsynced and renamed
over the old one (``fsutil.atomic_write``), in dependency order: the edition's folder first
(its JSON last: that makes it part of the archive), its threads' pages, the links to it
from the editions next to it, then the archive page, the feed, and the front page last. A
reader sees each file either old or new, never half written, and no page links to a file
that does not exist yet. The archive is rebuilt from what is on disk, so re-publishing an
edition replaces it and never duplicates it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jinja2

from digest.archive import ARCHIVE_JSON, Index, Indexed, index_json, outline, read_index
from digest.document import ArchiveEntry, archive_entry_from_dict, dump_json
from digest.errors import PublishError
from digest.fsutil import atomic_write, safe_join
from digest.history import EditionRef, edition_ref
from digest.models import Briefing, Rendered
from digest.render import (
    ANONYMOUS_SITE,
    make_environment,
    newest_first,
    render_edition_nav,
    render_index,
    render_page,
    render_template,
    with_edition_nav,
)
from digest.site import SiteIdentity
from digest.threadsite import THREADS, plan_threads, resolve, write_threads

log = logging.getLogger(__name__)

_DAY_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}(-\d+)?$")
BRIEFING_JSON = "briefing.json"
_NO_REDIRECTS: Mapping[str, str] = MappingProxyType({})


def publish(
    rendered: Rendered,
    briefing: Briefing,
    out_dir: Path,
    *,
    env: jinja2.Environment | None = None,
    site: SiteIdentity = ANONYMOUS_SITE,
    redirects: Mapping[str, str] = _NO_REDIRECTS,
) -> tuple[Path, ...]:
    """Write the edition's files, its threads' pages, the archive, the feed and (when it is
    the newest edition) the front page; return the paths written.

    ``env`` renders the site templates (default: the bundled templates, no overrides);
    ``site`` gives the feeds their ids and links; ``redirects`` (old thread id -> new id,
    ``ThreadStore.redirects()``) turns merged threads' pages into redirects. A re-published
    edition keeps the time it was first published (``edition.published`` in its JSON: the
    feed entry's ``published``).
    """
    env = env or make_environment()
    folder = briefing.folder
    previous = _read_json(out_dir / folder / BRIEFING_JSON)
    document = _keep_first_published(rendered.json, previous)
    current = json.loads(document)
    shown = {str(t.get("id")) for doc in (previous, current) if doc for t in _threads(doc)}
    plan = plan_threads(out_dir, sorted(shown), resolve(redirects))
    this = _Document(folder, current, len(document.encode("utf-8")))
    entries, appearances, indexed = _scan(out_dir, plan.wanted, current=this)
    icon = render_template(env, "static/favicon.svg", {})
    written = [_write(out_dir, ("favicon.svg",), icon)]
    page = with_edition_nav(rendered.html, _nav(env, entries, folder, site_root="../"))
    files = {"index.html": page, "briefing.md": rendered.markdown}
    written += [_write(out_dir, (folder, name), data) for name, data in files.items()]
    # the JSON goes last: its presence is what makes the edition appear in the archive
    written.append(_write(out_dir, (folder, BRIEFING_JSON), document))
    written += write_threads(
        env,
        out_dir,
        plan,
        appearances,
        site=site,
        site_title=briefing.title,
        timezone=briefing.timezone,
        now=briefing.generated_at,
    )
    written += _relink_neighbours(env, out_dir, entries, folder)
    archive_html, feed_xml = render_index(env, entries, site=site, timezone=briefing.timezone)
    written.append(_write(out_dir, ("archive.html",), archive_html))
    written.append(_write(out_dir, ("feed.xml",), feed_xml))
    # after every document it indexes: one newer than it is read again (digest.archive)
    index = index_json([(e.folder, indexed[e.folder]) for e in entries])
    written.append(_write(out_dir, (ARCHIVE_JSON,), index))
    if entries[0].folder == folder:
        front = render_page(env, briefing, site_root="")
        front = with_edition_nav(front, _nav(env, entries, folder, site_root=""))
        written.append(_write(out_dir, ("index.html",), front))
    return tuple(written)


def _with_entry(entries: Sequence[ArchiveEntry], entry: ArchiveEntry) -> list[ArchiveEntry]:
    """``entries`` with ``entry`` in place of the one in its folder, newest first."""
    kept = [e for e in entries if e.folder != entry.folder]
    return sorted([*kept, entry], key=newest_first, reverse=True)


def neighbours(
    entries: Sequence[ArchiveEntry], folder: str
) -> tuple[ArchiveEntry | None, ArchiveEntry | None]:
    """(the edition before ``folder``, the one after it) in ``entries`` (newest first)."""
    at = next(i for i, e in enumerate(entries) if e.folder == folder)
    older = entries[at + 1] if at + 1 < len(entries) else None
    return older, entries[at - 1] if at > 0 else None


def _nav(
    env: jinja2.Environment, entries: Sequence[ArchiveEntry], folder: str, *, site_root: str
) -> str:
    older, newer = neighbours(entries, folder)
    return render_edition_nav(env, older, newer, site_root=site_root)


def _relink_neighbours(
    env: jinja2.Environment, out_dir: Path, entries: Sequence[ArchiveEntry], folder: str
) -> list[Path]:
    """Point the editions next to ``folder`` (and the front page, when one of them is the
    newest) at it: their previous/next links are rewritten in place."""
    written = []
    for entry in (e for e in neighbours(entries, folder) if e is not None):
        pages: list[tuple[tuple[str, ...], str]] = [((entry.folder, "index.html"), "../")]
        if entry is entries[0]:
            pages.append((("index.html",), ""))
        for parts, root in pages:
            path = safe_join(out_dir, *parts)
            try:
                old = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                log.warning("publish: cannot relink %s: %s", path, e)
                continue
            new = with_edition_nav(old, _nav(env, entries, entry.folder, site_root=root))
            if new != old:
                written.append(_write(out_dir, parts, new))
    return written


def _read_json(path: Path) -> dict[str, Any] | None:
    """The document at ``path``, or None when there is none we can read."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _threads(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    threads = doc.get("threads")
    return [t for t in threads if isinstance(t, dict)] if isinstance(threads, list) else []


def _keep_first_published(document: str, previous: Mapping[str, Any] | None) -> str:
    """``document`` with the ``edition.published`` of the ``previous`` one, if any."""
    edition = (previous or {}).get("edition")
    old = edition.get("published") if isinstance(edition, dict) else None
    doc = json.loads(document)
    if not isinstance(old, str) or not isinstance(doc.get("edition"), dict):
        return document
    doc["edition"]["published"] = old
    return dump_json(doc)


def _write(out_dir: Path, parts: tuple[str, ...], data: str) -> Path:
    path = safe_join(out_dir, *parts)
    try:
        return atomic_write(path, data)
    except OSError as e:
        raise PublishError(str(path), "cannot write file") from e


def read_archive(out_dir: Path) -> tuple[ArchiveEntry, ...]:
    """Every readable ``FOLDER/briefing.json`` under ``out_dir``, newest first.

    Other folders and unreadable documents are skipped with a logged warning.
    """
    return tuple(_scan(out_dir, frozenset())[0])


@dataclass(frozen=True, slots=True)
class _Document:
    """An edition's document as read (or its outline, from the index) and its size."""

    folder: str
    doc: Mapping[str, Any]
    size: int


Appearances = dict[str, list[tuple[EditionRef, Mapping[str, Any]]]]


def _scan(
    out_dir: Path, wanted: frozenset[str], *, current: _Document | None = None
) -> tuple[list[ArchiveEntry], Appearances, dict[str, Indexed]]:
    """One pass over the editions (with ``current``, the one being published, in place of
    its folder's): the archive, newest first; where each of the ``wanted`` threads
    appeared; and the editions for ``archive.json``. An edition's document is read in full
    only when it showed a wanted thread or the index does not hold it as it is now."""
    entries: list[ArchiveEntry] = []
    seen: Appearances = {}
    indexed: dict[str, Indexed] = {}
    for found in _documents(out_dir, current, read_index(out_dir), wanted):
        name, doc = found.folder, found.doc
        try:
            entry = archive_entry_from_dict(doc)
            edition = edition_ref(doc)
        except (KeyError, TypeError, ValueError) as e:
            log.warning("archive: skipping %s: %s: %s", name, type(e).__name__, e)
            continue
        if entry.folder != name:
            log.warning("archive: skipping %s: it belongs in %s", name, entry.folder)
            continue
        entries.append(entry)
        indexed[name] = Indexed(size=found.size, outline=outline(doc, entry.article_count))
        for thread in _threads(doc):
            if thread.get("id") in wanted:
                seen.setdefault(str(thread["id"]), []).append((edition, thread))
    return sorted(entries, key=newest_first, reverse=True), seen, indexed


def is_edition_folder(name: str) -> bool:
    """``YYYY-MM-DD`` or ``YYYY-MM-DD-N``: the name of an edition's folder."""
    return _DAY_DIR.match(name) is not None


def _documents(
    out_dir: Path, current: _Document | None, index: Index, wanted: frozenset[str]
) -> Iterator[_Document]:
    """The document of every edition folder, one at a time (a long archive's documents are
    never all in memory, only their outlines): its outline from ``index`` while that holds
    it as it is and it shows none of the ``wanted`` threads, else the document read;
    ``current`` replaces its folder's, or is added."""
    if current is not None:
        yield current
    if not out_dir.is_dir():
        return
    for child in sorted(out_dir.iterdir()):
        if not child.is_dir() or child.name.startswith(".") or child.name == THREADS:
            continue
        if not _DAY_DIR.match(child.name):
            log.warning("archive: skipping %s: not an edition folder", child)
            continue
        if current is not None and child.name == current.folder:
            continue
        path = child / BRIEFING_JSON
        known = index.current(child.name, path)
        if known is not None and not any(t.get("id") in wanted for t in _threads(known)):
            yield _Document(child.name, known, index.editions[child.name].size)
            continue
        try:
            data = path.read_bytes()
            doc = json.loads(data.decode("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            log.warning("archive: skipping %s: %s: %s", path, type(e).__name__, e)
            continue
        if isinstance(doc, dict):
            yield _Document(child.name, doc, len(data))
        else:
            log.warning("archive: skipping %s: not a briefing document", path)
