"""Fetched feed bytes → ``RawItem``s. feedparser only parses bytes we fetched; it never fetches.

Policy:

* A document with ``<!DOCTYPE`` and ``<!ENTITY`` declarations is refused before parsing
  (entity expansion can turn a small feed into hundreds of megabytes): in its bytes, and in
  the text feedparser will decode from them, so a declaration hidden in an encoding that is
  not ASCII-compatible (EBCDIC ``cp037``/``cp500``, ``utf-7``) is refused too. Parsing runs
  under a time limit (``parse_timeout_seconds``).
* feedparser runs with ``sanitize_html`` and ``resolve_relative_uris`` and the response headers
  (the charset of ``Content-Type``); relative entry links are joined to the final feed URL.
* A malformed ("bozo") feed that still yields entries is used, with a logged warning; one that
  yields nothing is a ``ParseError`` for that source only. A well-formed feed with no entries
  gives no items.
* Each entry keeps a stable identity (``RawItem.guid``): its guid/id, else its canonical link,
  else a hash of title + date, so an edited entry is not shown as new.
* Entry HTML becomes plain-text paragraphs (character references in text without tags are
  decoded too: ``S&amp;P`` reads ``S&P``); an entry with neither title nor text, or with a
  title only and no link, is skipped with a warning.
* A description that only repeats the title and outlet, or that is only a list of links
  (Google News: ``<a>title</a> <font>Outlet</font>``), is no text: the entry is headline-only.
* Outlet: the entry's ``<source>`` (an aggregator names the real outlet there), else the
  configured one, else the feed's title, else the site's host name; a name from the feed
  that is not an outlet's (a copyright line, a URL, "Hosted") is passed over
  (:mod:`digest.sources.outlets`).
* Bytes in an undeclared legacy encoding are re-encoded before parsing
  (:mod:`digest.sources.encoding`).
"""

from __future__ import annotations

import hashlib
import html as htmllib
import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.html
from lxml import etree

from digest.dates import from_fields
from digest.errors import ParseError
from digest.models import Fetched, RawItem, SourceSpec
from digest.normalize import canonical_url
from digest.sources.encoding import undeclared_to_utf8, with_utf8_charset
from digest.sources.outlets import outlet_name
from digest.text import vocabulary, words

log = logging.getLogger(__name__)
T = TypeVar("T")

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_BLOCK_TAGS = """
    address article aside blockquote dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6
    header hr li main nav ol p pre section table tr ul
"""
_BLOCKS = frozenset(_BLOCK_TAGS.split())
_TEASER_ENDS = ("…", "...", "[…]", "[...]", "(…)", "(...)")
_TEASER_LINES = "read more|continue reading|read the full story|read the full article|more|read on"
_TEASER_LAST_LINES = frozenset(_TEASER_LINES.split("|"))
_TITLE_WORDS = 12
_BREAK = "\ue000"  # marks a <br> while white space is collapsed (a private-use character)
_AGGREGATOR_WORDS = vocabulary("view full coverage on google news")


# ── guards ───────────────────────────────────────────────────────────────────────────────


def reject_entities(
    body: bytes, subject: str, response_headers: Mapping[str, str] | None = None
) -> None:
    """Refuse documents that declare XML entities: in the bytes (NUL bytes dropped: UTF-16/32
    too), and in the text feedparser decodes them to with these headers (any encoding)."""
    if _declares_entities(body.replace(b"\x00", b"")) or _declares_entities(
        feedparser_utf8(body, response_headers or {})
    ):
        raise ParseError(subject, "refused: the document declares XML entities (<!ENTITY>)")


def _declares_entities(data: bytes) -> bool:
    return bool(_DOCTYPE.search(data) and _ENTITY.search(data))


def feedparser_utf8(body: bytes, response_headers: Mapping[str, str]) -> bytes:
    """The document as UTF-8, decoded exactly as ``feedparser.parse`` will decode it (BOM,
    EBCDIC sniffing, XML declaration and Content-Type charset, then its fallbacks)."""
    scratch: dict[str, Any] = {}
    return feedparser.encodings.convert_to_utf8(dict(response_headers), body, scratch)  # type: ignore[no-any-return]


def with_time_limit(func: Callable[[], T], seconds: float, subject: str) -> T:
    """Run ``func`` in a daemon thread; ``ParseError`` when it takes longer than ``seconds``.

    The thread cannot be stopped, only abandoned; ``max_bytes`` bounds the work it can do.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = func()
        except Exception as e:  # library edge: re-raised below as ParseError  # noqa: BLE001
            box["error"] = e

    worker = threading.Thread(target=target, name="digest-parse", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise ParseError(subject, f"parsing took longer than {seconds:g} s")
    if "error" in box:
        raise ParseError(subject, "the feed parser failed") from box["error"]
    return box["value"]  # type: ignore[no-any-return]


# ── feed → items ─────────────────────────────────────────────────────────────────────────


def parse_feed(
    spec: SourceSpec, fetched: Fetched, *, now: datetime, subject: str, time_limit: float = 20.0
) -> tuple[RawItem, ...]:
    """The entries of a fetched feed as RawItems (text from the feed; teasers not completed)."""
    body, headers = _parser_input(fetched)
    reject_entities(body, subject, headers)
    doc = with_time_limit(lambda: _feedparse(body, headers), time_limit, subject)
    entries = doc.get("entries") or []
    if not entries and not doc.get("version"):
        raise ParseError(subject, "not an RSS or Atom feed") from doc.get("bozo_exception")
    if doc.get("bozo") and not entries:
        raise ParseError(subject, "malformed feed with no entries") from doc.get("bozo_exception")
    if doc.get("bozo"):
        reason = " ".join(str(doc.get("bozo_exception", "")).split())
        log.warning("%s: malformed feed, using its %d entries (%s)", subject, len(entries), reason)
    feed = doc.get("feed", {})
    outlet = (
        spec.outlet
        or outlet_name(plain_text(feed.get("title")))
        or site_name(feed.get("link"), fetched)
    )
    items = (
        _item(entry, n, spec, outlet, fetched, now, subject) for n, entry in enumerate(entries)
    )
    lang = plain_text(feed.get("language")) or None  # the feed's <language>: a hint
    return tuple(replace(item, lang=lang) for item in items if item is not None)


def _parser_input(fetched: Fetched) -> tuple[bytes, dict[str, str]]:
    """The bytes and response headers feedparser is given."""
    # No Content-Location: feedparser would resolve non-URL guids ("item-9") against it, and
    # an identity must not change when the feed moves. Entry links are joined in ``_item``.
    headers = {k: v for k, v in fetched.headers if k != "content-location"}
    body = fetched.body
    if (utf8 := undeclared_to_utf8(body, headers.get("content-type"))) is not None:
        body, headers["content-type"] = utf8, with_utf8_charset(headers.get("content-type"))
    return body, headers


def _feedparse(body: bytes, headers: dict[str, str]) -> Mapping[str, Any]:
    return feedparser.parse(  # type: ignore[no-any-return]
        body,
        response_headers=headers,
        sanitize_html=True,
        resolve_relative_uris=True,
    )


def site_name(link: object, fetched: Fetched) -> str:
    """The host of the feed's own link (its web site), else of the feed URL."""
    site = _http_link(link, fetched.url) or fetched.url
    host = urlsplit(site).hostname or site
    return host.removeprefix("www.")


def _item(
    entry: Mapping[str, Any],
    n: int,
    spec: SourceSpec,
    outlet: str,
    fetched: Fetched,
    now: datetime,
    subject: str,
) -> RawItem | None:
    link = _http_link(entry.get("link"), fetched.url)
    outlet = entry_outlet(entry) or outlet
    html = _entry_html(entry)
    text = "\n\n".join(html_paragraphs(html))
    title = plain_text(entry.get("title")) or _title_from(text)
    if text and (only_links(html) or only_repeats(text, title, outlet)):
        text = ""  # an aggregator's "<a>title</a> <font>Outlet</font>": a headline-only entry
    if not title or not (text or link):
        log.warning("%s: skipping entry %d: %s", subject, n + 1, "no title or text")
        return None
    published = _time(entry.get("published_parsed") or entry.get("updated_parsed"))
    return RawItem(
        source=spec.name,
        outlet=outlet,
        origin=link or f"{fetched.url}#entry-{n + 1}",
        url=link,
        title=title,
        text=text,
        published=published,
        fetched_at=now,
        authors=_authors(entry),
        guid=entry_identity(entry, link, title, published, text),
    )


def entry_identity(
    entry: Mapping[str, Any], link: str | None, title: str, published: datetime | None, text: str
) -> str:
    """guid/id, else the canonical link, else a hash of title + date (or text, undated)."""
    guid = entry.get("id")
    if isinstance(guid, str) and guid.strip():
        return guid.strip()
    url = canonical_url(link)
    if url:
        return url
    basis = f"{title}\n{published.isoformat() if published else text[:500]}"
    return "sha256:" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


def entry_outlet(entry: Mapping[str, Any]) -> str | None:
    """The outlet an entry's ``<source>`` names (RSS ``<source>``, Atom ``source/title``)."""
    source = entry.get("source")
    return outlet_name(plain_text(source.get("title"))) if isinstance(source, dict) else None


def only_repeats(text: str, title: str, outlet: str) -> bool:
    """``text`` has no word that is not in the title or the outlet's name."""
    return not set(words(text)) - set(words(title)) - set(words(outlet)) - _AGGREGATOR_WORDS


def only_links(html: str) -> bool:
    """An HTML description whose every word is inside a link or a ``<font>`` (a listing)."""
    if "<a" not in html.lower():
        return False
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return False
    outside = root.xpath("//text()[not(ancestor::a or ancestor::font)]")
    return not any(list(words(str(t))) for t in outside)


def _entry_html(entry: Mapping[str, Any]) -> str:
    """The longest of the entry's content values and its summary."""
    values = [c.get("value") or "" for c in entry.get("content") or ()]
    values.append(entry.get("summary") or "")
    return max(values, key=len)


def _http_link(value: object, base: str) -> str | None:
    """``value`` as an absolute http(s) URL (relative ones joined to ``base``), else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        url = urljoin(base, value.strip())
        return url if urlsplit(url).scheme in ("http", "https") else None
    except ValueError:
        return None


def _time(parsed: object) -> datetime | None:
    """feedparser's UTC ``struct_time`` as an aware datetime (year 10000: ``FAR_FUTURE``)."""
    return from_fields(tuple(parsed[:6])) if isinstance(parsed, tuple) and parsed else None


def _authors(entry: Mapping[str, Any]) -> tuple[str, ...]:
    names = [plain_text(a.get("name")) for a in entry.get("authors") or () if isinstance(a, dict)]
    names = [n for n in names if n] or [plain_text(entry.get("author"))]
    return tuple(n for n in dict.fromkeys(names) if n)


def _title_from(text: str) -> str:
    words = text.split()
    if not words:
        return ""
    return " ".join(words[:_TITLE_WORDS]) + ("…" if len(words) > _TITLE_WORDS else "")


# ── html → text ──────────────────────────────────────────────────────────────────────────


def plain_text(value: object) -> str:
    """A title-like value on one line, tags removed."""
    if not isinstance(value, str):
        return ""
    return " ".join(" ".join(html_paragraphs(value)).split())


def html_paragraphs(html: str) -> list[str]:
    """Plain-text paragraphs of an HTML fragment (block elements separate paragraphs)."""
    if "<" not in html:  # plain text, maybe with character references (S&amp;P)
        blocks = (" ".join(htmllib.unescape(b).split()) for b in re.split(r"\n\s*\n", html))
        return [p for p in blocks if p]
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return [" ".join(html.split())] if html.strip() else []
    for node in root.xpath("//comment() | //processing-instruction()"):
        node.drop_tree()  # keeps the text after it
    parts: list[str] = []
    for event, element in etree.iterwalk(root, events=("start", "end")):
        is_tag = isinstance(element.tag, str)
        tag = element.tag.lower() if is_tag else ""
        if event == "start":
            parts.append("\n\n" if tag in _BLOCKS else _BREAK if tag == "br" else "")
            parts.append(element.text or "" if is_tag else "")
        else:
            parts.append("\n\n" if tag in _BLOCKS else "")
            parts.append(element.tail or "" if element is not root else "")
    blocks = (_tidy(b) for b in re.split(r"\n\s*\n", "".join(parts)))
    return [b for b in blocks if b]


def _tidy(block: str) -> str:
    """White space collapsed (source line breaks are just spaces); ``<br>`` breaks kept."""
    lines = (" ".join(line.split()) for line in block.split(_BREAK))
    return "\n".join(line for line in lines if line)


def is_teaser(text: str, min_words: int) -> bool:
    """Feed text that is only a lead: short, cut off ("…"), or ending in "Read more"."""
    stripped = text.strip()
    if len(stripped.split()) < min_words or stripped.endswith(_TEASER_ENDS):
        return True
    last = stripped.rsplit("\n", 1)[-1].lower().strip(" .:»>›→…")
    return last in _TEASER_LAST_LINES
