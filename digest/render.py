"""Briefing -> HTML page, Markdown, JSON and the email parts, through Jinja2 templates (pure).

The briefing templates get one object, ``briefing`` (a :class:`digest.models.Briefing`; every
field they use carries ``metadata["help"]``), plus ``site_root``: the relative path from the
page to the site's root. The archive templates (``index.html``, ``feed.xml``) get ``entries``
(:class:`ArchiveEntry`, newest first), ``latest``, ``feed_entries`` and ``updated``.

Filters: ``safe_url`` (http/https only, else None: the template shows plain text),
``md_escape`` (Markdown specials in outside text), ``md_url``, ``localtime(dt, fmt)`` and
``isotime`` (UTC -> ``briefing.timezone``), ``humandate(d, style)``, ``when`` (a clock
time, with the date when it is not the briefing's day), ``stamp`` (date and time) and
``source_name`` (a source as readers see it: a dump by its file name); ``isoutc`` (ISO 8601
in UTC, for the feed). Dates and interface words follow the environment's language
(``[output].language``): templates call ``_()`` and ``ngettext()`` (Jinja's i18n extension)
backed by :mod:`digest.lang.interface`; ``language`` is a global. The helpers behind the
filters are in :mod:`digest.formatting`.

Globals: ``news_span(briefing)``; ``reports(sources)``, ``basis(sources)`` and
``credit(sentence, thread)`` (independent reports, their copies, and whom a sentence rests
on: :mod:`digest.syndication`); ``marks_status(briefing)``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

import css_inline
import jinja2

from digest.document import ArchiveEntry, briefing_to_dict, dump_json
from digest.errors import RenderError
from digest.formatting import (
    in_zone,
    iso_utc,
    md_escape,
    md_url,
    public_source_name,
    safe_url,
    zone,
)
from digest.history import ThreadHistory
from digest.lang import interface
from digest.models import (
    Briefing,
    Rendered,
    SourceStatus,
)
from digest.site import Installation, SiteIdentity, site_identity
from digest.syndication import basis, credit, reports

# The templates (and static files) ship inside the package, read through importlib.resources
# (jinja2.PackageLoader); DEFAULT_TEMPLATES_DIR is where they are on disk, for tests and tools.
TEMPLATES_PACKAGE = ("digest", "templates")
DEFAULT_TEMPLATES_DIR = Path(str(resources.files(TEMPLATES_PACKAGE[0]) / TEMPLATES_PACKAGE[1]))
MAX_FEED_ENTRIES = 30
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# ids for a feed rendered without a store (tests, tools): the nil UUID, never a real site's
ANONYMOUS_SITE = site_identity(None, Installation(id=uuid.UUID(int=0), created=EPOCH.date()))


# ── filters ─────────────────────────────────────────────────────────────────────────────────


def _context_zone(ctx: jinja2.runtime.Context) -> ZoneInfo:
    briefing = ctx.get("briefing")
    return zone(briefing.timezone if isinstance(briefing, Briefing) else ctx.get("timezone", "UTC"))


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


def news_span(briefing: Briefing, lang: str = interface.DEFAULT) -> str:
    """``News published from 1 Mar, 18:00 to 2 Mar, 21:30 (Europe/Berlin)`` (or ``on 2 Mar
    between 08:00 and 21:30``): the span of the
    publication times of the edition's new articles (of all its articles when none is
    marked new), in the site's zone, with the year when it is not the edition's; "" if empty.
    Spelled in ``lang``."""
    refs = [r for t in briefing.threads for r in t.new_sources] or [
        r for t in briefing.threads for r in t.sources
    ]
    if not refs:
        return ""
    tz, _ = zone(briefing.timezone), interface.gettext(lang)
    first, last = (in_zone(f(r.published for r in refs), tz) for f in (min, max))

    def stamp(when: datetime) -> str:
        style = "short" if when.year == briefing.day.year else "medium"
        return f"{interface.spell_date(when.date(), style, lang)}, {when:%H:%M}"

    if first == last:
        span = stamp(first)
    elif first.date() == last.date():
        day = stamp(first).rpartition(", ")[0]
        span = _("on %(day)s between %(start)s and %(end)s") % {
            "day": day,
            "start": f"{first:%H:%M}",
            "end": f"{last:%H:%M}",
        }
    else:
        span = _("from %(start)s to %(end)s") % {"start": stamp(first), "end": stamp(last)}
    return _("News published %(span)s (%(zone)s)") % {"span": span, "zone": briefing.timezone}


@jinja2.pass_environment
def _news_span_global(env: jinja2.Environment, briefing: Briefing) -> str:
    return news_span(briefing, str(env.globals.get("language", interface.DEFAULT)))


def _source_name_filter(status: SourceStatus) -> str:
    return public_source_name(status.name, status.kind)


def marks_status(briefing: Briefing) -> bool:
    """Whether threads say "New" or "Continuing": only when the edition has both kinds to
    tell apart (never in a first edition, where every thread is new)."""
    return any(t.status == "continuing" for t in briefing.threads)


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
        source_name=_source_name_filter,
        isoutc=iso_utc,
    )
    env.globals["news_span"] = _news_span_global
    env.globals.update(reports=reports, basis=basis, credit=credit, marks_status=marks_status)
    return env


def render(env: jinja2.Environment, briefing: Briefing, *, site_root: str = "../") -> Rendered:
    """Render every edition of ``briefing``; ``site_root`` leads from its page to the site.

    The email parts get ``email`` (web link, omitted threads): see :mod:`digest.mailer`.
    """
    zone(briefing.timezone)  # fail early, naming the zone
    total = len(briefing.threads)
    email = {"web_url": None, "threads_url": None, "location": "", "omitted": 0, "total": total}
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


def render_index(
    env: jinja2.Environment,
    entries: Sequence[ArchiveEntry],
    *,
    site: SiteIdentity = ANONYMOUS_SITE,
    timezone: str = "UTC",
) -> tuple[str, str]:
    """The archive page and the Atom feed (``archive.html``, ``feed.xml``) for ``entries``;
    ``site`` gives the feed its ids and links, ``timezone`` the times shown."""
    ordered = tuple(sorted(entries, key=newest_first, reverse=True))
    context = {
        "entries": ordered,
        "latest": ordered[0] if ordered else None,
        "feed_entries": ordered[:MAX_FEED_ENTRIES],
        "updated": max((e.generated_at for e in ordered), default=EPOCH),
        "site_root": "",
        "site": site,
        "timezone": timezone,
    }
    return render_template(env, "archive.html", context), render_template(env, "feed.xml", context)


# The previous/next edition links sit between these markers in an edition's page; publish.py
# fills them once the neighbours are known (and again when a newer edition appears).
NAV_START, NAV_END = "<!-- edition-nav -->", "<!-- /edition-nav -->"
_NAV = re.compile(re.escape(NAV_START) + ".*?" + re.escape(NAV_END), re.DOTALL)


def render_edition_nav(
    env: jinja2.Environment,
    older: ArchiveEntry | None,
    newer: ArchiveEntry | None,
    *,
    site_root: str,
) -> str:
    """The previous/next edition links (``_edition_nav.html``), between the markers."""
    context = {"older": older, "newer": newer, "site_root": site_root}
    return NAV_START + render_template(env, "_edition_nav.html", context).strip() + NAV_END


def with_edition_nav(html: str, nav: str) -> str:
    """``html`` with every edition-nav block replaced by ``nav`` (unchanged without one)."""
    return _NAV.sub(lambda _: nav, html)


def render_thread(
    env: jinja2.Environment,
    history: ThreadHistory,
    *,
    site: SiteIdentity = ANONYMOUS_SITE,
    site_title: str,
    timezone: str = "UTC",
) -> tuple[str, str]:
    """A thread's page and its Atom feed (``thread.html``, ``thread_feed.xml``), for
    ``threads/ID/`` (two folders below the site's root)."""
    context = {
        "history": history,
        "site": site,
        "site_title": site_title,
        "timezone": timezone,
        "site_root": "../../",
    }
    return (
        render_template(env, "thread.html", context),
        render_template(env, "thread_feed.xml", context),
    )


def render_moved(
    env: jinja2.Environment,
    old_id: str,
    new_id: str,
    *,
    headline: str,
    site: SiteIdentity = ANONYMOUS_SITE,
    site_title: str,
    updated: datetime,
) -> tuple[str, str]:
    """A merged thread's old page, sending readers to ``new_id``'s (meta refresh, canonical
    link and a plain link), and its old feed's last entry saying where the story went."""
    target = site.link_from(f"threads/{old_id}/", f"threads/{new_id}/index.html")
    context = {
        "old_id": old_id,
        "new_id": new_id,
        "target": target,
        "headline": headline,
        "site": site,
        "site_title": site_title,
        "updated": updated,
    }
    return (
        render_template(env, "moved.html", context),
        render_template(env, "moved_feed.xml", context),
    )


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
