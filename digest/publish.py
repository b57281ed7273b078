"""Rendered briefing -> ``output/`` (the I/O edge for the static site).

Layout (every link relative, so the folder can be copied to any static host)::

    out_dir/YYYY-MM-DD/index.html      the briefing page
    out_dir/YYYY-MM-DD/briefing.md     the Markdown edition
    out_dir/YYYY-MM-DD/briefing.json   the JSON document (read back for the archive)
    out_dir/index.html                 archive: latest briefing first, then every past one
    out_dir/feed.xml                   Atom feed, one entry per briefing (newest 30)

Every write goes through ``fsutil.atomic_write(fsutil.safe_join(...))``. The archive pages are
rebuilt from what is on disk, so re-publishing a day replaces it and never duplicates it.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import jinja2

from digest.errors import PublishError
from digest.fsutil import atomic_write, safe_join
from digest.models import Briefing, Rendered
from digest.render import (
    DEFAULT_TEMPLATES_DIR,
    ArchiveEntry,
    archive_entry_from_dict,
    make_environment,
    render_index,
)

log = logging.getLogger(__name__)

_DAY_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
BRIEFING_JSON = "briefing.json"


def publish(
    rendered: Rendered,
    briefing: Briefing,
    out_dir: Path,
    *,
    env: jinja2.Environment | None = None,
) -> tuple[Path, ...]:
    """Write the day's files, then rebuild the archive page and the feed; return the paths.

    ``env`` renders the archive templates (default: the bundled templates, no overrides).
    """
    day = briefing.day.isoformat()
    files = {"index.html": rendered.html, "briefing.md": rendered.markdown}
    written = [_write(out_dir, (day, name), data) for name, data in files.items()]
    # the JSON goes last: its presence is what makes the day appear in the archive
    written.append(_write(out_dir, (day, BRIEFING_JSON), rendered.json))
    index_html, feed_xml = render_index(
        env or make_environment(DEFAULT_TEMPLATES_DIR), read_archive(out_dir)
    )
    written.append(_write(out_dir, ("index.html",), index_html))
    written.append(_write(out_dir, ("feed.xml",), feed_xml))
    return tuple(written)


def _write(out_dir: Path, parts: tuple[str, ...], data: str) -> Path:
    path = safe_join(out_dir, *parts)
    try:
        return atomic_write(path, data)
    except OSError as e:
        raise PublishError(str(path), "cannot write file") from e


def read_archive(out_dir: Path) -> tuple[ArchiveEntry, ...]:
    """Every readable ``YYYY-MM-DD/briefing.json`` under ``out_dir``, newest first.

    Other folders and unreadable documents are skipped with a logged warning.
    """
    if not out_dir.is_dir():
        return ()
    entries = []
    for child in sorted(out_dir.iterdir()):
        if not child.is_dir() or child.name.startswith("."):
            continue
        if not _DAY_DIR.match(child.name):
            log.warning("archive: skipping %s: not a dated briefing folder", child)
            continue
        entry = _read_entry(child)
        if entry is not None:
            entries.append(entry)
    return tuple(sorted(entries, key=lambda e: e.day, reverse=True))


def _read_entry(folder: Path) -> ArchiveEntry | None:
    path = folder / BRIEFING_JSON
    try:
        entry = archive_entry_from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (
        OSError,
        UnicodeDecodeError,
        json.JSONDecodeError,
        KeyError,
        TypeError,
        ValueError,
    ) as e:
        log.warning("archive: skipping %s: %s: %s", path, type(e).__name__, e)
        return None
    if entry.day.isoformat() != folder.name:
        log.warning("archive: skipping %s: its date is %s", path, entry.day.isoformat())
        return None
    return entry
