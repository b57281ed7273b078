"""Small, pure text helpers shared by dedupe, cluster, summarize and quotes (words, stop
words, word-list vocabularies, stemming, outlet suffixes of titles)."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator


def vocabulary(text: str) -> frozenset[str]:
    """A word set written as one string (keeps long vocabularies compact)."""
    return frozenset(text.split())


_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_SPACE = re.compile(
    r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]{2,}|[\t\u00a0\u2000-\u200b\u202f\u205f\u3000]"
)

# Function words that carry no event information (a compact English list of our own).
_STOPWORD_TEXT = """
    a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can could did didn't do does doesn't doing don't down
    during each few for from further had has hasn't have haven't having he he'd he'll he's her here
    hers herself him himself his how i i'd i'll i'm i've if in into is isn't it it's its itself
    just let's me more most mustn't my myself no nor not now of off on once only or other ought
    our ours ourselves out over own same shan't she she'd she'll she's should shouldn't so some
    such than that that's the their theirs them themselves then there there's these they they'd
    they'll they're they've this those through to too under until up upon us very was wasn't we
    we'd we'll we're we've were weren't what what's when when's where where's which while who
    who's whom why why's will with won't would wouldn't you you'd you'll you're you've your yours
    yourself yourselves said says say saying told tells according reported reports report one two
    three new would also may might must shall could since however though although yet still even
    well much many like get got make made per via amid among around across within without toward
    towards year years day days week weeks month months time times ago today yesterday tomorrow
    monday tuesday wednesday thursday friday saturday sunday mr mrs ms dr s t
"""
STOPWORDS = vocabulary(_STOPWORD_TEXT)


# Unicode bidi controls: embeddings and overrides (U+202A..U+202E), isolates (U+2066..U+2069)
# and the marks (LRM, RLM, ALM). In a title they can display "...\u202eGNP.exe" as "...exe.PNG".
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
# What a terminal must not get raw in a name: C0/C1 controls (line breaks, ESC), DEL, the line
# and paragraph separators and the bidi controls.
_UNPRINTABLE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")


def strip_bidi(text: str) -> str:
    """``text`` without Unicode bidi controls (cheap when there are none)."""
    if text.isascii() or not any(c in text for c in _bidi_chars()):  # (``in``: C at memory
        return text  # speed, where a character class regex scans ~5 ns a character)
    return _BIDI.sub("", text)


def printable(name: str) -> str:
    """A name from outside (a file name, a feed title) safe to print on a terminal or in a
    log line: control and bidi characters escaped as in Python (``\\n``, ``\\x1b``,
    ``\\u202e``); anything else unchanged."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), name)


def clean_space(text: str) -> str:
    """NFC-normalise and collapse runs of horizontal white space; keep line breaks."""
    text = unicodedata.normalize("NFC", text)
    if any(c in text for c in _SPLIT_DIFFERS):  # (``in``: C at memory speed)
        return "\n".join(_SPACE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(collapsed_lines(text))  # what ``_SPACE`` gives, 1.6x faster


def collapsed_lines(text: str) -> list[str]:
    """``text``'s lines, each with its runs of white space (as str.split reads it, and the
    zero-width space) made one space, and trimmed."""
    if _tidy(text):  # most texts are already so: their lines, without a word list each
        lines = text.split("\n")
        if not lines[-1]:  # (splitlines drops what follows a last line break)
            lines.pop()
        return lines
    return [" ".join(line.split()) for line in text.replace("\u200b", " ").splitlines()]


# the two white spaces inside a line that str.split takes for space and ``_SPACE`` keeps (its
# one character str.split keeps, the zero-width space, is made a space first)
_SPLIT_DIFFERS = ("\x1f", "\u1680")


# found on first use (~5 ms together, that ``digest --help`` need not pay)
@functools.cache
def _odd_spaces() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What str.split() and str.splitlines() read as white space or a line end, but the
    space and "\\n" (none is above U+3000), with the zero-width space ``collapsed_lines``
    makes a space; and those of them an ASCII text can hold."""
    odd = (*(c for c in map(chr, range(0x3001)) if c.isspace() and c not in " \n"), "\u200b")
    return odd, tuple(c for c in odd if c.isascii())


@functools.cache
def _bidi_chars() -> tuple[str, ...]:
    """The bidi controls, one by one (all are below U+2070)."""
    return tuple(_BIDI.findall("".join(map(chr, range(0x2070)))))


def _tidy(text: str) -> bool:
    """Whether ``text``'s lines are as ``collapsed_lines`` makes them: split by "\\n" alone,
    single spaces between words, none at a line's ends (a few searches in C)."""
    if "  " in text or " \n" in text or "\n " in text or text[:1] == " " or text[-1:] == " ":
        return False
    odd, odd_ascii = _odd_spaces()
    return not any(c in text for c in (odd_ascii if text.isascii() else odd))


def words(text: str) -> Iterator[str]:
    """Lower-cased word tokens (letters and digits; inner apostrophes kept)."""
    return iter(_WORD.findall(text.lower().replace("’", "'")))


@functools.lru_cache(maxsize=1 << 16)  # news vocabularies repeat: most calls are hits
def stem(word: str) -> str:
    """A light suffix stripper: enough to join "talks"/"talk", "sanctions"/"sanctioned"."""
    if len(word) <= 4 or word.isdigit():
        return word
    for suffix, keep in (("'s", ""), ("ies", "y"), ("ing", ""), ("ed", ""), ("es", "e"), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith("ss"):
                return word
            return word[: -len(suffix)] + keep
    return word


def content_terms(text: str) -> list[str]:
    """Stemmed content words of ``text`` (stop words and 1-letter tokens dropped)."""
    return [stem(w) for w in words(text) if len(w) > 1 and w not in STOPWORDS]


_OUTLET_SUFFIX = re.compile(r"\s[|—–-]\s+(?P<tail>(?:(?!\s[|—–-]\s).)+)$")


def strip_outlet(title: str, outlets: set[str]) -> str:
    """``title`` without a trailing " - Outlet" or " | Site" (``outlets``: their ``letters``)."""
    title = " ".join(title.split())
    match = _OUTLET_SUFFIX.search(title)
    if not match or not title[: match.start()].strip():
        return title
    tail = letters(match.group("tail"))
    if tail in outlets or any(o and o in tail for o in outlets):
        return title[: match.start()]
    words_before, tail_words = len(title[: match.start()].split()), match.group("tail").split()
    site_like = "|" in match.group() or all(w[0].isupper() for w in tail_words)
    return title[: match.start()] if site_like and words_before >= 3 >= len(tail_words) else title


def letters(text: str) -> str:
    """Only the letters and digits of ``text``, lower-cased (to compare outlet names)."""
    return "".join(filter(str.isalnum, text.lower()))  # (filtered in C: 1.8x faster)
