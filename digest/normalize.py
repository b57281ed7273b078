"""RawItem → Article: canonical URL, UTC dates, clean outlet/title/text, stable id and hash.

Pure and cheap per call: every table and pattern is built once at import. Mojibake already
in a source (``canâ€™t``: UTF-8 read as windows-1252 somewhere upstream) is repaired with
ftfy, which is asked to fix encodings only (quotes, widths and ligatures stay as written);
only text with a tell-tale character pair is handed to it, so clean text costs one regex
search. An article whose source gave no date is ``dated=False``: its ``published`` is the
time it was fetched (or captured), for ordering only, and the outputs say "time unknown".
``Article.lang`` is detected from the title and the opening (py3langid); the language the
source declares is the answer when the text is too short or unclear to tell.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime, timedelta
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

import ftfy

from digest.dates import implausible, to_utc
from digest.lang import detect
from digest.models import Article, RawItem
from digest.text import collapsed_lines, strip_bidi

ID_CHARS = 16
ID_TEXT_CHARS = 2000
FUTURE_SLACK = timedelta(hours=1)  # a later time (clock skew) becomes the fetch time
# Article text beyond this many characters is cut (at a paragraph break): a long feature is
# 30-60k; the cap bounds what one 40 MB "article" costs every later stage.
MAX_ARTICLE_CHARS = 200_000
MAX_TITLE_CHARS = 1_000  # a longer "title" (a whole file on one line) is cut


def _names(text: str, sep: str | None = None) -> frozenset[str]:
    """A set of names written as a block of text (line breaks separate too)."""
    return frozenset(n.strip() for n in text.replace("\n", sep or " ").split(sep) if n.strip())


_DEFAULT_PORTS = {"http": 80, "https": 443}
_TRACKING_PARAMS = _names(
    """
    fbclid gclid dclid gbraid wbraid msclkid yclid twclid igshid mc_cid mc_eid ref ref_src
    ref_url referrer cmpid ocid sr_share smid smtyp soc_src soc_trk ito itm_source
    itm_medium itm_campaign itm_content _ga _gl _hsenc _hsmi mkt_tok spm
    at_medium at_campaign at_custom1 at_custom2 at_custom3 at_custom4 amp
    """
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")
_AMP_SUFFIXES = ("/amp", "/amp.html", ".amp")
_TITLE_SEPARATORS = (" - ", " | ", " – ", " — ", " :: ", " · ")
# Lines that are page furniture, not article text (compared lower-cased, end punctuation cut).
_BOILERPLATE = _names(
    """
    advertisement|advertisements|ad|sponsored|sponsored content|skip advertisement
    story continues below advertisement|scroll to continue with content|continue reading
    read more|read more here|read the full story|read full article|more|see more
    share|share this|share this article|share this story|share on facebook|share on twitter
    sign up for our newsletter|subscribe to our newsletter|sign up|subscribe|subscribe now
    click here to subscribe|skip to content|skip to main content|related|related articles
    related stories|related content|recommended|most read|most popular|follow us|logo
    listen to this article|print|email|comments|show comments|hide caption|toggle caption
    """,
    sep="|",
)
_END_PUNCT = " .:…>»|-–—"
_SENTENCE_END = ".!?:;\"'”’)]…"
# A UTF-8 lead byte read as windows-1252/latin-1 ("Ã", "â", "Â", ...) followed by a
# continuation byte read the same way: the mark of mojibake, rare in real text.
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030"
    "\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161"
    "\u203a\u0153\u017e\u0178]"
)
_FTFY = ftfy.TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    remove_control_chars=False,
    normalization=None,
    explain=False,
)


def canonical_url(url: str | None) -> str | None:
    """The canonical form of an http(s) URL, or None for anything else (or unparseable)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError:
        return None
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    host = host.removeprefix("amp.") if host.count(".") >= 2 else host
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    return urlunsplit((scheme, netloc, _canonical_path(parts), _canonical_query(parts), ""))


def _canonical_path(parts: SplitResult) -> str:
    path = parts.path.rstrip("/")
    for suffix in _AMP_SUFFIXES:
        if path.endswith(suffix):
            path = path.removesuffix(suffix).rstrip("/")
            break
    return path or "/"


def _canonical_query(parts: SplitResult) -> str:
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not _is_tracking(k, v)]
    return urlencode(sorted(kept))


def _is_tracking(key: str, value: str) -> bool:
    key = key.lower()
    if key == "outputtype":  # outputType=amp
        return value.lower() == "amp"
    return key in _TRACKING_PARAMS or key.startswith(_TRACKING_PREFIXES)


def repair_mojibake(text: str) -> str:
    """``text`` with mojibake undone (``canâ€™t`` -> ``can’t``); otherwise unchanged."""
    if text.isascii() or not _MOJIBAKE.search(text):
        return text
    return ftfy.fix_text(text, _FTFY)


def plausible_published(published: datetime | None, fetched_at: datetime) -> datetime | None:
    """The UTC publication time, or None when missing or implausible (``digest.dates``; the
    ingest edge has already dropped and reported those, this guards other callers)."""
    if published is None or implausible(published, fetched_at) is not None:
        return None
    return to_utc(published)


def published_time(published: datetime | None, fetched_at: datetime) -> datetime:
    """UTC publication time: fetched_at when missing, or a little in the future (clock skew)."""
    fetched = to_utc(fetched_at)
    if published is None:
        return fetched
    moment = to_utc(published)
    return fetched if moment > fetched + FUTURE_SLACK else moment


def cut_text(text: str, limit: int | None = None) -> str:
    """``text`` cut to at most ``limit`` (``MAX_ARTICLE_CHARS``) characters, at the last
    paragraph break (else line break, else space) in its final tenth."""
    limit = MAX_ARTICLE_CHARS if limit is None else limit
    if len(text) <= limit:
        return text
    head = text[:limit]
    for sep in ("\n\n", "\n", " "):
        at = head.rfind(sep)
        if at >= limit * 9 // 10:
            return head[:at].rstrip()
    return head


def one_line(text: str) -> str:
    """NFC, every run of white space (line breaks included) collapsed to one space."""
    return " ".join(unicodedata.normalize("NFC", strip_bidi(text)).replace("\u200b", " ").split())


def clean_title(title: str, outlet: str) -> str:
    """The title on one line, without a trailing " - Outlet" / " | Outlet"."""
    title = one_line(title)
    folded, name = title.casefold(), outlet.casefold()
    for sep in _TITLE_SEPARATORS:
        suffix = sep + name
        if name and folded.endswith(suffix) and len(folded) > len(suffix):
            return title[: -len(suffix)].rstrip()
    return title


def clean_paragraphs(text: str, drop: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """Paragraphs of ``text``: blank lines split, boilerplate and repeats dropped.

    A single line break joins two lines only when the first does not end a sentence and the
    second starts in lower case (a hard wrap); otherwise each line is its own paragraph.
    ``drop`` holds casefolded paragraphs to leave out (e.g. the title).
    """
    paragraphs: list[str] = []
    current: list[str] = []
    for line in _lines(text):
        if _is_boilerplate(line):
            line = ""
        if line and current and _continues(current[-1], line):
            current.append(line)
            continue
        if current:
            paragraphs.append(" ".join(current))
        current = [line] if line else []
    if current:
        paragraphs.append(" ".join(current))
    seen = set(drop)
    kept = []
    for paragraph in paragraphs:
        key = paragraph.casefold()
        if key not in seen:
            seen.add(key)
            kept.append(paragraph)
    return tuple(kept)


def _lines(text: str) -> list[str]:
    """``text`` without bidi controls, NFC, as ``collapsed_lines``."""
    return collapsed_lines(unicodedata.normalize("NFC", strip_bidi(text)))


def _is_boilerplate(line: str) -> bool:
    return len(line) < 60 and line.lower().rstrip(_END_PUNCT) in _BOILERPLATE


def _continues(previous: str, line: str) -> bool:
    return previous[-1] not in _SENTENCE_END and line[0].islower()


def _hint(lang: str | None) -> str:
    """A declared language ("en-GB", "de_DE") as its ISO 639-1 code; "en" when none."""
    code = (lang or "").strip().replace("_", "-").split("-")[0].lower()
    return code if len(code) == 2 and code.isalpha() else "en"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:ID_CHARS]


def _fold(text: str) -> str:
    """Lower-cased, white space collapsed (what ids and hashes are computed over)."""
    return " ".join(text.lower().split())


def article_id(url: str | None, outlet: str, title: str, text: str) -> str:
    """Stable id: hash of the canonical URL, else of outlet + title + start of the text."""
    if url:
        return _digest(url)
    return _digest(f"{_fold(outlet)}\n{_fold(title)}\n{_fold(text)[:ID_TEXT_CHARS]}")


def content_hash(title: str, text: str) -> str:
    """Hash of the title and text only, so the same story at another URL hashes the same."""
    return _digest(f"{_fold(title)}\n{_fold(text)}")


def guid_id(source: str, guid: str) -> str:
    """The id of a feed entry with a stable identity: the same entry keeps it when edited."""
    return _digest(f"guid\n{source}\n{guid}")


def _hashes(
    url: str | None, outlet: str, title: str, paragraphs: tuple[str, ...]
) -> tuple[str, str]:
    """(article_id, content_hash) for clean paragraphs, folding the text only once."""
    folded, fold_title = " ".join(paragraphs).lower(), _fold(title)  # paragraphs are collapsed
    key = f"{_fold(outlet)}\n{fold_title}\n{folded[:ID_TEXT_CHARS]}"
    ident = _digest(url or key)
    return ident, _digest(f"{fold_title}\n{folded}")


def normalize(item: RawItem) -> Article:
    """Turn one RawItem into an Article (pure)."""
    outlet = one_line(repair_mojibake(item.outlet))
    raw_title = one_line(repair_mojibake(item.title[:MAX_TITLE_CHARS]))
    title = clean_title(raw_title, outlet)
    drop = frozenset(t.casefold() for t in (raw_title, title) if t)
    paragraphs = clean_paragraphs(repair_mojibake(cut_text(item.text)), drop)
    url = canonical_url(item.url)
    published = plausible_published(item.published, item.fetched_at)
    ident, chash = _hashes(url, outlet, title, paragraphs)
    if item.guid:
        ident = guid_id(item.source, item.guid)
    authors = tuple(
        dict.fromkeys(a for a in (one_line(repair_mojibake(n)) for n in item.authors) if a)
    )
    return Article(
        id=ident,
        canonical_url=url,
        outlet=outlet,
        title=title,
        text="\n\n".join(paragraphs),
        published=published_time(published, item.fetched_at),
        dated=published is not None,
        fetched_at=to_utc(item.fetched_at),
        source=item.source,
        origin=item.origin,
        authors=authors,
        lang=detect("\n".join((title, *paragraphs[:3])), _hint(item.lang)),
        content_hash=chash,
    )
