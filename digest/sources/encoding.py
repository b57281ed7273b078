"""Feeds in a legacy encoding that nothing declares: detected before feedparser sees them.

feedparser reads bytes that are not UTF-8 and declare no charset as windows-1252, which is
right for Western text and turns KOI8-R, Shift-JIS, EUC-KR or windows-1255 into mojibake (its
own guess needs ``chardet``). charset-normalizer (already installed through trafilatura and
httpx) detects the encoding; its answer is taken only when the text it gives is mostly in a
non-Latin script, so Western feeds keep feedparser's windows-1252 reading, which the detector
confuses with windows-1250 on short texts. A charset in the HTTP header or the XML
declaration is trusted, except a UTF-8 one that the bytes contradict.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from email.message import Message

import charset_normalizer

_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_UTF8 = frozenset({"utf-8", "utf8"})
_NON_LATIN_SHARE = 0.5  # of the non-ASCII letters, for the detector's answer to be taken


def declared_charset(body: bytes, content_type: str | None) -> str | None:
    """The charset the HTTP header gives, else the XML declaration, lower-cased; or None."""
    message = Message()
    message["content-type"] = content_type or ""
    charset = message.get_content_charset()
    if charset:
        return str(charset).lower()
    match = _XML_DECL.match(body[:200])
    return match.group(1).decode("ascii").lower() if match else None


def undeclared_to_utf8(body: bytes, content_type: str | None) -> bytes | None:
    """The feed re-encoded as UTF-8 when it is in an undeclared non-Latin legacy encoding
    (or wrongly declared UTF-8); None to leave the bytes as they are."""
    if body.startswith(_BOMS) or declared_charset(body, content_type) not in (None, *_UTF8):
        return None
    try:
        body.decode("utf-8")
        return None
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(body).best()
    if best is None:
        return None
    text = str(best)
    if non_latin_share(text) < _NON_LATIN_SHARE:
        return None
    return _XML_DECL_TEXT.sub(r"\1utf-8\2", text, count=1).encode("utf-8")


_XML_DECL_TEXT = re.compile(r"^(\s*<\?xml[^>]*?encoding\s*=\s*[\"'])[A-Za-z0-9._:-]+([\"'])")


def non_latin_share(text: str) -> float:
    """The share of non-ASCII letters outside the Latin script (Cyrillic, Hebrew, kana,
    Hangul, ...): markup and URLs are ASCII and say nothing about the encoding."""
    letters = [ch for ch in text if not ch.isascii() and ch.isalpha()]
    if not letters:
        return 0.0
    latin = sum(1 for ch in letters if "LATIN" in unicodedata.name(ch, ""))
    return 1.0 - latin / len(letters)


def with_utf8_charset(content_type: str | None) -> str:
    """``content_type`` with its charset parameter set to utf-8."""
    mime = (content_type or "application/xml").split(";", 1)[0].strip()
    return f"{mime}; charset=utf-8"
