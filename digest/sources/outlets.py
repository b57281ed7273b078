"""Outlet names taken from content (a feed's title, a page's site name, an entry's source).

Page metadata and feed titles often name something that is not an outlet: a copyright line
("Copyright 2014 ..."), a URL, a word like "Hosted" or "Home", a fragment guessed from a host
name ("Nj"). :func:`outlet_name` passes those over, so the next candidate is used: the
configured outlet comes first and is never second-guessed; the host name comes last.
"""

from __future__ import annotations

import re

_MAX_CHARS = 80  # longer than this: a sentence or a slogan, not a name
_COPYRIGHT = re.compile(r"©|\(c\)|\bcopyright\b|\ball rights reserved\b", re.IGNORECASE)
_URL = re.compile(r"://|^www\.|/|\.(?:html?|php|aspx?)\b", re.IGNORECASE)
_NOT_NAMES_TEXT = """hosted|home|homepage|home page|index|untitled|rss|feed|rss feed|atom feed|news|
    latest|latest news|top stories|welcome|blog|default|error|page not found|site|website|
    unknown|none|null"""
_NOT_NAMES = frozenset(n.strip() for n in _NOT_NAMES_TEXT.split("|"))
_EDGES = " \t|-–—:·•,;"


def outlet_name(candidate: object) -> str | None:
    """``candidate`` on one line if it reads as an outlet's name, else None."""
    if not isinstance(candidate, str):
        return None
    name = " ".join(candidate.split()).strip(_EDGES)
    letters = [ch for ch in name if ch.isalpha()]
    if not name or len(name) > _MAX_CHARS or _COPYRIGHT.search(name) or _URL.search(name):
        return None
    if " ".join(re.findall(r"\w+", name.casefold())) in _NOT_NAMES:
        return None
    if len(letters) < 2 or (len(letters) == 2 and not name.isupper()):
        return None  # "Nj" (from nj.com) is a fragment; "AP" is a name
    return name
