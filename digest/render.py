"""Briefing -> HTML page, Markdown, JSON and the email parts, through Jinja2 templates (pure).

The briefing templates get one object, ``briefing`` (a :class:`digest.models.Briefing`; every
field they use carries ``metadata["help"]``), plus ``site_root``: the relative path from the
page to the site's root. The archive templates (``index.html``, ``feed.xml``) get ``entries``
(:class:`ArchiveEntry`, newest first), ``latest``, ``feed_entries`` and ``updated``.

Filters: ``safe_url`` (http/https only, else None: the template shows plain text),
``md_escape`` (Markdown specials in outside text), ``md_url``, ``localtime(dt, fmt)`` and
``isotime`` (UTC -> ``briefing.timezone``), ``humandate(d, style)``, ``when`` (a clock
time, with the date when it is not the briefing's day) and ``stamp`` (date and time). Dates
and interface words follow the environment's language (``[output].language``): templates call
``_()`` and ``ngettext()`` (Jinja's i18n extension) backed by :mod:`digest.lang.interface`;
``language`` is a global. The helpers behind the filters are in :mod:`digest.formatting`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

import css_inline
import jinja2

from digest.errors import RenderError
from digest.formatting import in_zone, iso_utc, md_escape, md_url, safe_url, zone
from digest.lang import interface
from digest.models import (
    Briefing,
    Quote,
    Rendered,
    SourceRef,
    SourceStatus,
    SummarySentence,
    ThreadSummary,
)

# The templates (and static files) ship inside the package, read through importlib.resources
# (jinja2.PackageLoader); DEFAULT_TEMPLATES_DIR is where they are on disk, for tests and tools.
TEMPLATES_PACKAGE = ("digest", "templates")
DEFAULT_TEMPLATES_DIR = Path(str(resources.files(TEMPLATES_PACKAGE[0]) / TEMPLATES_PACKAGE[1]))
MAX_FEED_ENTRIES = 30
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiveEntry:
    """One published briefing as the archive page and the feed show it."""

    day: date
    title: str
    generated_at: datetime
    thread_count: int
    article_count: int = 0
    outlet_count: int = 0
    headlines: tuple[str, ...] = ()
    edition: int | None = None
    slug: str = ""  # permalink folder; "" = the day
    window_start: datetime | None = None
    window_end: datetime | None = None
    late: bool = False

    @property
    def folder(self) -> str:
        return self.slug or self.day.isoformat()


# ── filters ─────────────────────────────────────────────────────────────────────────────────


def _context_zone(ctx: jinja2.runtime.Context) -> ZoneInfo:
    briefing = ctx.get("briefing")
    return zone(briefing.timezone) if isinstance(briefing, Briefing) else zone("UTC")


@jinja2.pass_context
def _localtime_filter(ctx: jinja2.runtime.Context, value: datetime, fmt: str = "%H:%M") -> str:
    return in_zone(value, _context_zone(ctx)).strftime(fmt)


@jinja2.pass_context
def _isotime_filter(ctx: jinja2.runtime.Context, value: datetime) -> str:
    return in_zone(value, _context_zone(ctx)).isoformat().replace("+00:00", "Z")


@jinja2.pass_context
def _when_filter(ctx: jinja2.runtime.Context, value: datetime) -> str:
    local = in_zone(value, _context_zone(ctx))
    briefing = ctx.get("briefing")
    if isinstance(briefing, Briefing) and local.date() == briefing.day:
        return local.strftime("%H:%M")
    return f"{_spell(ctx.environment, local.date(), 'short')}, {local:%H:%M}"


@jinja2.pass_context
def _stamp_filter(ctx: jinja2.runtime.Context, value: datetime) -> str:
    """Always with the date: ``2 Mar, 23:00`` (local time)."""
    local = in_zone(value, _context_zone(ctx))
    return f"{_spell(ctx.environment, local.date(), 'short')}, {local:%H:%M}"


@jinja2.pass_environment
def _humandate_filter(env: jinja2.Environment, value: date, style: str = "long") -> str:
    return _spell(env, value, style)


def _spell(env: jinja2.Environment, value: date, style: str) -> str:
    day = value.date() if isinstance(value, datetime) else value
    return interface.spell_date(day, style, str(env.globals.get("language", interface.DEFAULT)))


# ── environment and rendering ─────────────────────────────────────────────────────────────


def make_environment(
    templates_dir: Path | None = None,
    user_dir: Path | None = None,
    *,
    language: str = interface.DEFAULT,
) -> jinja2.Environment:
    """The Jinja environment: ``user_dir`` templates override ``templates_dir`` ones (default:
    the templates inside the package); words and dates in ``language``."""
    loaders: list[jinja2.BaseLoader] = [
        jinja2.FileSystemLoader(str(d)) for d in (user_dir, templates_dir) if d is not None
    ]
    if templates_dir is None:
        loaders.append(jinja2.PackageLoader(*TEMPLATES_PACKAGE))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "htm", "xml"), default_for_string=True, default=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        interface.gettext(language), interface.ngettext(language), newstyle=True
    )
    env.globals["language"] = language
    env.filters.update(
        safe_url=safe_url,
        md_escape=md_escape,
        md_url=md_url,
        localtime=_localtime_filter,
        isotime=_isotime_filter,
        when=_when_filter,
        stamp=_stamp_filter,
        humandate=_humandate_filter,
    )
    return env


def render(env: jinja2.Environment, briefing: Briefing, *, site_root: str = "../") -> Rendered:
    """Render every edition of ``briefing``; ``site_root`` leads from its page to the site.

    The email parts get ``email`` (web link, omitted threads): see :mod:`digest.mailer`.
    """
    zone(briefing.timezone)  # fail early, naming the zone
    total = len(briefing.threads)
    email = {"web_url": None, "location": "", "omitted": 0, "total": total}
    context = {"briefing": briefing, "site_root": site_root, "email": email}
    return Rendered(
        html=render_page(env, briefing, site_root=site_root),
        markdown=render_template(env, "markdown/briefing.md", context),
        json=dump_json(briefing_to_dict(briefing)),
        email_html=inline_css(render_template(env, "email/briefing.html", context)),
        email_text=render_template(env, "email/briefing.txt", context),
    )


def render_page(env: jinja2.Environment, briefing: Briefing, *, site_root: str) -> str:
    """The briefing's web page (``site_root``: "../" in its folder, "" as the front page)."""
    return render_template(env, "briefing.html", {"briefing": briefing, "site_root": site_root})


def newest_first(entry: ArchiveEntry) -> tuple[date, int, str]:
    """Sort key (with ``reverse=True``): the newest edition first."""
    return (entry.day, entry.edition or 0, entry.folder)


def render_index(env: jinja2.Environment, entries: Sequence[ArchiveEntry]) -> tuple[str, str]:
    """The archive page and the Atom feed (``archive.html``, ``feed.xml``) for ``entries``."""
    ordered = tuple(sorted(entries, key=newest_first, reverse=True))
    context = {
        "entries": ordered,
        "latest": ordered[0] if ordered else None,
        "feed_entries": ordered[:MAX_FEED_ENTRIES],
        "updated": max((e.generated_at for e in ordered), default=EPOCH),
        "site_root": "",
    }
    return render_template(env, "archive.html", context), render_template(env, "feed.xml", context)


def render_template(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> str:
    """Render template ``name``; Jinja errors become one-line RenderErrors naming it."""
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateNotFound as e:
        raise RenderError(name, f"template not found ({e.name})") from e
    except jinja2.TemplateSyntaxError as e:
        raise RenderError(f"{e.name or name} line {e.lineno}", "template syntax error") from e
    except jinja2.UndefinedError as e:
        raise RenderError(_where(env, name, e.__traceback__), "undefined variable") from e
    except jinja2.TemplateError as e:
        raise RenderError(_where(env, name, e.__traceback__), "template error") from e


def _where(env: jinja2.Environment, name: str, tb: TracebackType | None) -> str:
    """``name``, plus the innermost template file and line Jinja put in the traceback."""
    inner = None
    while tb is not None:
        if "__jinja_exception__" in tb.tb_frame.f_globals:
            inner = f"{_template_name(env, tb.tb_frame.f_code.co_filename)} line {tb.tb_lineno}"
        tb = tb.tb_next
    if inner is None:
        return name
    return inner if inner.startswith(f"{name} line ") else f"{name} ({inner})"


def _template_name(env: jinja2.Environment, filename: str) -> str:
    """The loader-relative name of a template file (``email/briefing.html``)."""
    loaders = env.loader.loaders if isinstance(env.loader, jinja2.ChoiceLoader) else [env.loader]
    for loader in loaders:
        roots = getattr(loader, "searchpath", None) or [str(DEFAULT_TEMPLATES_DIR)]
        for root in roots:
            path = Path(filename)
            if path.is_relative_to(root):
                return path.relative_to(root).as_posix()
    return Path(filename).name


def inline_css(html: str) -> str:
    """Move the email's <style> rules into style="..." attributes (nothing remote is fetched)."""
    inliner = css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=False)
    try:
        return inliner.inline(html)
    except (css_inline.InlineError, ValueError) as e:
        raise RenderError("email/briefing.html", "css inlining failed") from e


# ── the JSON document ─────────────────────────────────────────────────────────────────────


def dump_json(doc: Mapping[str, object]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def briefing_to_dict(briefing: Briefing) -> dict[str, object]:
    """The briefing as plain JSON data (ISO 8601 times in UTC, unsafe URLs as null)."""
    return {
        "date": briefing.day.isoformat(),
        "generated_at": iso_utc(briefing.generated_at),
        "timezone": briefing.timezone,
        "title": briefing.title,
        "stats": {
            "threads": len(briefing.threads),
            "articles": briefing.article_count,
            "outlets": briefing.outlet_count,
        },
        "threads": [_thread_dict(t) for t in briefing.threads],
        "sources": [_status_dict(s) for s in briefing.sources],
        "edition": _edition_dict(briefing),
    }


def _edition_dict(b: Briefing) -> dict[str, object] | None:
    if b.edition is None:
        return None
    times = {"window_start": b.window_start, "window_end": b.window_end}
    times["scheduled_for"] = b.scheduled_for
    return {
        "number": b.edition,
        "folder": b.folder,
        "late": b.late,
        **{k: iso_utc(v) if v else None for k, v in times.items()},
    }


def _thread_dict(thread: ThreadSummary) -> dict[str, object]:
    since = thread.continues_from
    return {
        "id": thread.thread_id,
        "headline": thread.headline,
        "status": thread.status,
        "continues_from": since.isoformat() if since is not None else None,
        "first_seen": iso_utc(thread.first_seen),
        "last_updated": iso_utc(thread.last_updated),
        "outlets": list(thread.outlets),
        "summary": [_sentence_dict(s) for s in thread.sentences],
        "quotes": [_quote_dict(q) for q in thread.quotes],
        "articles": [_article_dict(a) for a in thread.sources],
        "new_since_previous_edition": {
            "article_ids": list(thread.new_article_ids),
            "outlets": list(thread.new_outlets),
        },
    }


def _sentence_dict(sentence: SummarySentence) -> dict[str, object]:
    return {
        "text": sentence.text,
        "outlets": list(sentence.outlets),
        "article_ids": list(sentence.article_ids),
        "new": sentence.new,
    }


def _quote_dict(quote: Quote) -> dict[str, object]:
    return {
        "text": quote.text,
        "speaker": quote.speaker,
        "outlet": quote.outlet,
        "article_id": quote.article_id,
    }


def _article_dict(ref: SourceRef) -> dict[str, object]:
    return {
        "id": ref.article_id,
        "title": ref.title,
        "outlet": ref.outlet,
        "url": safe_url(ref.url),
        "published": iso_utc(ref.published) if ref.dated else None,  # None: no date found
    }


def _status_dict(status: SourceStatus) -> dict[str, object]:
    return {
        "name": status.name,
        "kind": status.kind,
        "status": status.status,
        "new": status.new,
        "seen": status.seen,
        "error": status.error,
        "failures": status.failures,
        "last_success": iso_utc(status.last_success) if status.last_success else None,
        "quiet_since": iso_utc(status.quiet_since) if status.quiet_since else None,
    }


def archive_entry_from_dict(doc: Mapping[str, Any]) -> ArchiveEntry:
    """Read an :class:`ArchiveEntry` back from a ``briefing.json`` document.

    Raises KeyError, TypeError or ValueError when the document is not one of ours.
    """
    threads = doc["threads"]
    if not isinstance(threads, list) or not all(isinstance(t, dict) for t in threads):
        raise TypeError("threads is not a list of objects")
    generated_at = datetime.fromisoformat(str(doc["generated_at"]))
    if generated_at.tzinfo is None:
        raise ValueError("generated_at has no time zone")
    stats = doc.get("stats") or {}
    edition = doc.get("edition") or {}
    return ArchiveEntry(
        day=date.fromisoformat(str(doc["date"])),
        title=str(doc["title"]),
        generated_at=generated_at.astimezone(UTC),
        thread_count=len(threads),
        article_count=int(stats.get("articles", sum(len(t.get("articles", ())) for t in threads))),
        outlet_count=int(stats.get("outlets", 0)),
        headlines=tuple(str(t["headline"]) for t in threads),
        edition=int(edition["number"]) if edition.get("number") else None,
        slug=str(edition.get("folder") or ""),
        window_start=_utc_or_none(edition.get("window_start")),
        window_end=_utc_or_none(edition.get("window_end")),
        late=bool(edition.get("late")),
    )


def _utc_or_none(text: object) -> datetime | None:
    return datetime.fromisoformat(str(text)).astimezone(UTC) if text else None
