"""The site's identity in its Atom feed: ids that are unique to this installation and never
change, and links that are absolute when the site's public URL is known (RFC 4287, 4151).

- With ``[output].site_url`` (``https://news.example.org/brief/``): tag URIs,
  ``tag:news.example.org,2026-03-02:/brief/`` for the feed and
  ``tag:news.example.org,2026-03-02:/brief/2026-03-02/`` for an edition (and
  ``…:/brief/threads/ID/`` for a thread's feed, ``…/threads/ID/#FOLDER`` for what an edition
  said of it); the date is the
  installation's (kept in the store), so the ids stay the same for as long as the store and
  the URL do. Links are absolute.
- Without it: ``urn:uuid:`` ids from the installation's random UUID (kept in the store's
  ``meta`` table), one per edition folder derived from it; links stay relative (a feed reader
  resolves them against the feed's own URL).

``site_identity`` is pure; ``installation`` reads (and on first use writes) the store.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from digest.store import Store

_ID_KEY, _DATE_KEY = "installation_id", "installation_date"


@dataclass(frozen=True, slots=True, kw_only=True)
class Installation:
    id: uuid.UUID
    created: date


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteIdentity:
    url: str | None  # the public URL of the site's root, ending in "/"; None: unknown
    feed_id: str
    installation: Installation

    def entry_id(self, folder: str) -> str:
        """The Atom id of the edition in ``folder``."""
        if self.url is None:
            return uuid.uuid5(self.installation.id, folder).urn
        return f"{self.feed_id}{folder}/"

    def link(self, path: str) -> str:
        """``path`` (relative to the site's root) as the feed links it."""
        if self.url is None:
            return path or "index.html"
        return self.url + path

    def thread_feed_id(self, thread_id: str) -> str:
        """The Atom id of a thread's own feed (``threads/ID/feed.xml``)."""
        if self.url is None:
            return uuid.uuid5(self.installation.id, f"threads/{thread_id}/").urn
        return f"{self.feed_id}threads/{thread_id}/"

    def thread_entry_id(self, thread_id: str, folder: str) -> str:
        """The Atom id of what the edition in ``folder`` said of a thread, in its feed."""
        if self.url is None:
            return uuid.uuid5(self.installation.id, f"threads/{thread_id}/#{folder}").urn
        return f"{self.feed_id}threads/{thread_id}/#{folder}"

    def link_from(self, folder: str, path: str) -> str:
        """``path`` (relative to the site's root) as a page or feed in ``folder`` (also
        relative to the root, e.g. ``threads/t1/``) links it: absolute with a site URL."""
        if self.url is not None:
            return self.url + path
        depth = len([part for part in folder.split("/") if part])
        return "../" * depth + (path or "index.html")


def site_identity(site_url: str | None, installation: Installation) -> SiteIdentity:
    if not site_url:
        return SiteIdentity(url=None, feed_id=installation.id.urn, installation=installation)
    url = site_url if site_url.endswith("/") else site_url + "/"
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    feed_id = f"tag:{host},{installation.created.isoformat()}:{parts.path or '/'}"
    return SiteIdentity(url=url, feed_id=feed_id, installation=installation)


def installation(store: Store, *, now: datetime) -> Installation:
    """The store's installation id and date, created on first use."""
    rows = dict(
        store.db.execute(
            "SELECT key, value FROM meta WHERE key IN (?, ?)", (_ID_KEY, _DATE_KEY)
        ).fetchall()
    )
    if _ID_KEY not in rows or _DATE_KEY not in rows:
        rows = {_ID_KEY: str(uuid.uuid4()), _DATE_KEY: now.date().isoformat()}
        with store.transaction():
            store.db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(rows.items())
            )
    return Installation(id=uuid.UUID(rows[_ID_KEY]), created=date.fromisoformat(rows[_DATE_KEY]))
