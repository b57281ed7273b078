"""Read article dump files (a watched folder of saved articles) into ``RawItem``s.

Readers by suffix:

* ``.txt`` / ``.md`` — an aggregator page dump (see ``digest.sources.aggregator`` for the
  layout, the detection rule and the completeness rule) is split into all its articles; a cut
  page dump raises ``ParseError("truncated page dump (...)")``. Any other text file is one
  article (title line, optional ``By`` line, body; see ``split_single_article``); a file with
  a title and no body is an error.
* ``.html`` / ``.htm`` — ``trafilatura.bare_extraction`` (comments and tables left out);
  title, date, site name, author and URL come from the page's metadata. A full timestamp in
  ``article:published_time`` / ``<time datetime>`` refines a date-only value for the same day.
* ``.json`` (one object or a list of objects) and ``.jsonl`` (one object per line, blank lines
  ignored) — keys ``title``, ``text`` (or ``body``), ``outlet`` (or ``source``), ``url``,
  ``published`` (or ``date``; ISO 8601, a naive time is UTC), ``authors`` (list or string).
  A bad line or object (invalid JSON, not an object, no title/text, bad time) is skipped with a
  logged warning naming ``path:LINE``; the file fails only when nothing in it is usable, and then
  the error names the first bad line.

Every file: an unknown suffix, an empty file, a binary file (NUL bytes, or not UTF-8 text)
raise ``ParseError`` with a one-line message naming the file.

Times. ``captured_at`` (when the file was saved) is the explicit argument, else the sidecar
``<file>.meta.json`` key ``captured_at``, else the file's mtime; relative times in page dumps
are resolved against it. An article the file gives no date for is undated (``published`` is
None) with the capture time as its ``fetched_at``, so it is ordered by that time and shown as
"time unknown"; otherwise ``now`` is the ``fetched_at``. All datetimes are UTC-aware.

Outlet precedence: the ``outlet`` argument; else the outlet the content names for that article
(a page dump's outlet line, a JSON ``outlet``); else the sidecar's ``outlet``; else a web
page's site name; else ``"Unknown outlet"``. The sidecar ``url`` is given to single-article
files and to a page dump's main article only (it is the URL of that page).
"""

from __future__ import annotations

import codecs
import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import lxml.html
import trafilatura

from digest.dates import implausible, to_utc
from digest.errors import ParseError, SourceError
from digest.models import RawItem
from digest.normalize import MAX_ARTICLE_CHARS, cut_text
from digest.sources.aggregator import (
    TruncatedDump,
    looks_like_page_dump,
    paragraphs,
    resolve_when,
    split_page_dump,
    split_single_article,
)
from digest.sources.outlets import outlet_name
from digest.sources.pages import enough_text
from digest.text import clean_space, printable

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 32_000_000  # [inputs].max_file_bytes
_TEXT_CHARS = 2 * MAX_ARTICLE_CHARS  # a text file is read this far (a page dump is ~50k)
# Byte order marks of the UTF-16/32 text a dump may be saved in (UTF-32 first: its LE mark
# starts with UTF-16's); UTF-8's is dropped when decoding.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
DUMP_SUFFIXES: frozenset[str] = frozenset({".txt", ".md", ".html", ".htm", ".json", ".jsonl"})
SIDECAR_SUFFIX = ".meta.json"
UNKNOWN_OUTLET = "Unknown outlet"

_DATE_PARAMS = {
    "extensive_search": False,  # no guesses from "Copyright 2026"-style text
    "original_date": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}

# the page's own published-time tags: <meta> by property, name or itemprop, and <time>
_PUBLISHED_META = (
    ("property", "article:published_time"),
    ("name", "article:published_time"),
    ("property", "og:published_time"),
    ("itemprop", "datePublished"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Sidecar:
    """The optional ``<file>.meta.json`` beside a dump file; every key is optional."""

    captured_at: datetime | None = None
    outlet: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Ctx:
    path: Path
    source: str
    outlet: str | None  # the explicit override
    sidecar: Sidecar
    captured_at: datetime
    now: datetime

    @property
    def origin(self) -> str:
        return printable(str(self.path))

    def item(self, **fields: Any) -> RawItem:
        fields.setdefault("origin", self.origin)
        if len(fields["text"]) > MAX_ARTICLE_CHARS:
            log.warning(
                "%s: article %r is longer than %d characters; its text is cut there",
                fields["origin"],
                printable(fields["title"][:80]),
                MAX_ARTICLE_CHARS,
            )
            fields["text"] = cut_text(fields["text"])
        undated = fields.get("published") is None  # ordered by the capture time
        fields.setdefault("fetched_at", self.captured_at if undated else self.now)
        return RawItem(source=self.source, **fields)


class _BadItem(ValueError):
    """One unusable JSON object; ``str()`` is the reason."""


# ── files ────────────────────────────────────────────────────────────────────────────────


def list_dump_files(root: Path) -> tuple[Path, ...]:
    """A file -> (file,); a folder -> its files recursively, sorted, skipping hidden files and
    ``*.meta.json`` sidecars. Unknown extensions are included (``read_dump`` reports them).

    Symlinked folders are not followed. A symlink loop, a broken symlink, a symlinked folder
    and a folder that cannot be read are skipped with one warning each."""
    if root.is_file():
        return (root,)
    if not root.is_dir():
        raise SourceError(printable(str(root)), "no such file or folder")
    return tuple(sorted(p for p in _walk(root) if not p.name.endswith(SIDECAR_SUFFIX)))


def _walk(folder: Path) -> list[Path]:
    """The regular files below ``folder`` (not hidden), with a warning per skipped entry."""
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as e:
        _skipping(folder, f"cannot read the folder ({type(e).__name__}: {e.strerror})")
        return []
    files: list[Path] = []
    for entry in entries:
        path = Path(entry.path)
        if entry.name.startswith("."):
            continue  # hidden: counted by digest.sources.skipped_files
        if entry.is_symlink() and (why := _bad_link(path, folder)):
            _skipping(path, why)
        elif entry.is_dir(follow_symlinks=False):
            files.extend(_walk(path))
        elif entry.is_file():
            files.append(path)
    return files


def _bad_link(link: Path, folder: Path) -> str | None:
    """Why a symlink is skipped, or None for a link to a regular file."""
    try:
        target = link.resolve(strict=True)
    except RuntimeError:  # pragma: no cover - Python < 3.13 raises this for some loops
        return "symlink loop"
    except OSError as e:
        return "symlink loop" if e.errno == 40 else "broken symlink"  # ELOOP
    if not target.is_dir():
        return None
    if target == folder.resolve() or target in folder.resolve().parents:
        return "symlink loop (links to a folder above it)"
    return "symlink to a folder (not followed)"


def _skipping(path: Path, why: str) -> None:
    log.warning("skipping %s: %s", printable(str(path)), why)


def read_dump(
    path: Path,
    *,
    source: str,
    outlet: str | None,
    captured_at: datetime | None,
    now: datetime,
    max_bytes: int | None = None,
) -> tuple[RawItem, ...]:
    """Read one dump file into RawItems. Raises ``ParseError`` naming the file and the reason.

    A file larger than ``max_bytes`` (default ``DEFAULT_MAX_BYTES``) is refused unread."""
    suffix = path.suffix.lower()
    if suffix not in DUMP_SUFFIXES:
        raise ParseError(_name(path), f"unsupported file type {suffix or '(no extension)'!r}")
    sidecar = read_sidecar(path, now=now)
    when = _utc(captured_at) or sidecar.captured_at or _mtime(path, now)
    ctx = _Ctx(path=path, source=source, outlet=outlet, sidecar=sidecar, captured_at=when, now=now)
    data = _read_bytes(path, DEFAULT_MAX_BYTES if max_bytes is None else max_bytes)
    return _READERS[suffix](data, ctx)


def read_sidecar(path: Path, *, now: datetime | None = None) -> Sidecar:
    """The sidecar of ``path``, or an empty one when there is none. With ``now``, a
    ``captured_at`` that is no plausible time (``digest.dates``) is an error."""
    meta = path.with_name(path.name + SIDECAR_SUFFIX)
    if not meta.is_file():
        return Sidecar()
    try:
        data = json.loads(meta.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ParseError(_name(meta), "unreadable sidecar") from e
    if not isinstance(data, dict):
        raise ParseError(_name(meta), "sidecar is not a JSON object")
    try:
        captured = _parse_time(data.get("captured_at"))
    except ValueError as e:
        raise ParseError(_name(meta), "invalid captured_at in sidecar") from e
    if captured and now and (why := implausible(captured, now)):
        raise ParseError(_name(meta), f"implausible captured_at in sidecar ({why})")
    return Sidecar(captured_at=captured, outlet=_str(data.get("outlet")), url=_str(data.get("url")))


def _name(path: Path) -> str:
    return printable(str(path))


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    """The file's bytes (UTF-16/32 text with a byte order mark as UTF-8)."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ParseError(
                _name(path),
                f"file too large ({size} bytes, limit {max_bytes}: [inputs].max_file_bytes)",
            )
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)  # a file that grew since stat() is not read whole
    except OSError as e:
        raise ParseError(_name(path), "cannot read file") from e
    if len(data) > max_bytes:
        raise ParseError(_name(path), f"file too large (over the limit of {max_bytes} bytes)")
    data = _utf8(data, path)
    if not data or data.isspace():  # (strip() would copy the file)
        raise ParseError(_name(path), "empty file")
    if b"\x00" in data:
        raise ParseError(_name(path), "binary file (NUL bytes)")
    return data


def _utf8(data: bytes, path: Path) -> bytes:
    """UTF-16/32 text (with its byte order mark) re-encoded as UTF-8; other bytes unchanged."""
    codec = next((c for bom, c in _BOMS if data.startswith(bom)), None)
    if codec is None:
        return data
    try:
        return data.decode(codec).encode("utf-8")
    except UnicodeDecodeError as e:
        raise ParseError(_name(path), "binary file (not UTF-8 text)") from e


def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")  # plain UTF-8 too; a BOM is dropped
    except UnicodeDecodeError as e:
        raise ParseError(_name(path), "binary file (not UTF-8 text)") from e


def _mtime(path: Path, now: datetime) -> datetime:
    """The file's modification time; ``now`` when no date can hold it."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return now


# ── small value helpers ──────────────────────────────────────────────────────────────────


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else to_utc(value)


def _parse_time(value: object) -> datetime | None:
    """An ISO 8601 string as a UTC datetime (naive = UTC); None/"" -> None; else ValueError."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"not a string: {value!r}")
    return _utc(datetime.fromisoformat(value.strip()))


def _str(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _outlet(ctx: _Ctx, named: str | None, guessed: str | None = None) -> str:
    return ctx.outlet or named or ctx.sidecar.outlet or guessed or UNKNOWN_OUTLET


# ── text: page dumps and single articles ─────────────────────────────────────────────────


def _read_text(data: bytes, ctx: _Ctx) -> tuple[RawItem, ...]:
    text = _decode(data, ctx.path)
    if len(text) > _TEXT_CHARS:  # only the start is read; ctx.item says so for the article
        text = cut_text(text, _TEXT_CHARS)
    if looks_like_page_dump(text):
        return _read_page_dump(text, ctx)
    return (_read_single(text, ctx),)


def _read_page_dump(text: str, ctx: _Ctx) -> tuple[RawItem, ...]:
    try:
        articles = split_page_dump(text)
    except TruncatedDump as e:
        raise ParseError(ctx.origin, f"truncated page dump ({e})") from None
    return tuple(
        ctx.item(
            outlet=_outlet(ctx, a.outlet),
            url=ctx.sidecar.url if a.main else None,
            title=a.title,
            text="\n\n".join(a.paragraphs),
            published=resolve_when(a.when, ctx.captured_at),
        )
        for a in articles
    )


def _read_single(text: str, ctx: _Ctx) -> RawItem:
    article = split_single_article(text)
    if not article.paragraphs:
        raise ParseError(ctx.origin, "no article text after the title")
    return ctx.item(
        outlet=_outlet(ctx, None),
        url=ctx.sidecar.url,
        title=article.title,
        text="\n\n".join(article.paragraphs),
        published=None,
        authors=article.authors,
    )


# ── html ─────────────────────────────────────────────────────────────────────────────────


def _read_html(data: bytes, ctx: _Ctx) -> tuple[RawItem, ...]:
    try:
        content: str | bytes = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        content = data  # trafilatura sniffs the page's own charset
    tree = _parse(content, ctx)
    meta = _extract(tree, ctx)
    title = clean_space(meta.get("title") or "").strip()
    body = [p for p in paragraphs(meta.get("text") or "") if p != title]
    if not title or not body:
        raise ParseError(ctx.origin, "no article found in the page")
    if not enough_text(body):  # the rule live pages follow: a menu is not an article
        raise ParseError(ctx.origin, "no article found in the page (too little text)")
    try:
        published = _parse_time(meta.get("date"))
    except ValueError:
        published = None
    published = _precise_time(tree, published) or published
    authors = tuple(a.strip() for a in (meta.get("author") or "").split(";") if a.strip())
    item = ctx.item(
        outlet=_outlet(ctx, None, outlet_name(meta.get("sitename"))),
        url=ctx.sidecar.url or _str(meta.get("url")),
        title=title,
        text="\n\n".join(body),
        published=published,
        authors=authors,
    )
    return (item,)


def _parse(content: str | bytes, ctx: _Ctx) -> lxml.html.HtmlElement:
    """The page's tree, parsed once as trafilatura parses it (its extraction copies it)."""
    try:
        tree = trafilatura.load_html(content)
    except Exception as e:  # library edge: a crash on one odd page costs that file
        raise ParseError(ctx.origin, "the page could not be extracted") from e
    if tree is None:
        raise ParseError(ctx.origin, "no article found in the page")
    return tree


def _extract(tree: lxml.html.HtmlElement, ctx: _Ctx) -> dict[str, Any]:
    """trafilatura's metadata and text of the page ({} when it finds nothing)."""
    try:
        doc = trafilatura.bare_extraction(
            tree,
            url=ctx.sidecar.url,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            date_extraction_params=_DATE_PARAMS,
        )
    except Exception as e:  # library edge: a crash on one odd page costs that file
        raise ParseError(ctx.origin, "the page could not be extracted") from e
    return doc if isinstance(doc, dict) else doc.as_dict() if doc is not None else {}


def _precise_time(tree: lxml.html.HtmlElement, day: datetime | None) -> datetime | None:
    """A full timestamp from the page's published-time tags, when the extracted date is
    missing or names the same day (htmldate prefers a date-only value taken from the URL)."""
    for value in _published_tags(tree):
        with contextlib.suppress(ValueError):
            when = _parse_time(value) if "T" in value else None
            if when and (day is None or when.date() == day.date()):
                return when
    return None


def _published_tags(tree: lxml.html.HtmlElement) -> Iterator[str]:
    """The values of the published-time tags, in page order (one walk of the tree: an
    XPath union of the two tags walked it twice)."""
    for element in tree.iter("meta", "time"):
        if element.tag == "time":
            value = element.get("datetime")
        elif any(element.get(attribute) == name for attribute, name in _PUBLISHED_META):
            value = element.get("content")
        else:
            continue
        if value is not None:
            yield value


# ── json / jsonl ─────────────────────────────────────────────────────────────────────────


def _read_json(data: bytes, ctx: _Ctx) -> tuple[RawItem, ...]:
    text = _decode(data, ctx.path)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ParseError(f"{ctx.origin}:{e.lineno}", "invalid JSON") from e
    except RecursionError:
        raise ParseError(ctx.origin, "invalid JSON (nested too deeply)") from None
    except ValueError as e:  # an integer of more than 4300 digits
        raise ParseError(ctx.origin, "invalid JSON") from e
    if not isinstance(value, list):
        return _collect([(ctx.origin, "", partial(_given, value))], ctx)
    entries = [(ctx.origin, f"entry {i}: ", partial(_given, obj)) for i, obj in enumerate(value, 1)]
    return _collect(entries, ctx)


def _read_jsonl(data: bytes, ctx: _Ctx) -> tuple[RawItem, ...]:
    lines = _decode(data, ctx.path).splitlines()
    entries = [
        (f"{ctx.origin}:{n}", "", partial(json.loads, line))
        for n, line in enumerate(lines, 1)
        if line.strip()
    ]
    return _collect(entries, ctx)


_Entry = tuple[str, str, Callable[[], object]]  # origin, label for messages, loader


def _given(value: object) -> object:
    return value


def _collect(entries: Sequence[_Entry], ctx: _Ctx) -> tuple[RawItem, ...]:
    """Items from the entries; a bad one is logged and skipped; none usable -> ParseError."""
    items: list[RawItem] = []
    errors: list[ParseError] = []
    for origin, label, load in entries:
        try:
            items.append(_json_item(load(), origin, ctx))
        except json.JSONDecodeError as e:
            errors.append(ParseError(origin, f"{label}invalid JSON"))
            errors[-1].__cause__ = e
        except RecursionError:
            errors.append(ParseError(origin, f"{label}invalid JSON (nested too deeply)"))
        except _BadItem as e:
            errors.append(ParseError(origin, f"{label}{e}"))
    for error in errors[0 if items else 1 :]:  # the first is the file's error when none is usable
        log.warning("skipping a bad entry: %s", error)
    if items:
        return tuple(items)
    if not errors:
        raise ParseError(ctx.origin, "no articles in the file")
    first = errors[0]
    first.message += " (no usable entry in the file)"
    raise first from first.__cause__


def _json_item(obj: object, origin: str, ctx: _Ctx) -> RawItem:
    if not isinstance(obj, dict):
        raise _BadItem("entry is not a JSON object")
    title, text = _str(obj.get("title")), _str(obj.get("text") or obj.get("body"))
    missing = [k for k, v in (("title", title), ("text", text)) if not v]
    if missing or title is None or text is None:
        raise _BadItem(f"missing {' and '.join(missing)}")
    try:
        published = _parse_time(obj.get("published") or obj.get("date"))
    except ValueError as e:
        raise _BadItem(f"invalid published time: {e}") from e
    return ctx.item(
        origin=origin,
        outlet=_outlet(ctx, _str(obj.get("outlet")) or _str(obj.get("source"))),
        url=_str(obj.get("url")),
        title=" ".join(title.split()),
        text="\n\n".join(paragraphs(text)),
        published=published,
        authors=_authors(obj.get("authors")),
    )


def _authors(value: object) -> tuple[str, ...]:
    """A JSON ``authors`` value: a name or a list of names; anything else is a bad entry."""
    if value is None or value == "" or value == []:
        return ()
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise _BadItem(f"authors is not a name or a list of names: {_short(value)}")
    return tuple(n.strip() for n in names if n.strip())


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "..."


_READERS: dict[str, Callable[[bytes, _Ctx], tuple[RawItem, ...]]] = {
    ".txt": _read_text,
    ".md": _read_text,
    ".html": _read_html,
    ".htm": _read_html,
    ".json": _read_json,
    ".jsonl": _read_jsonl,
}
