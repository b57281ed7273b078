"""normalize: canonical URLs, UTC dates, clean titles and paragraphs, stable ids (pure)."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest

from digest.models import RawItem
from digest.normalize import canonical_url, clean_paragraphs, clean_title, normalize, one_line
from digest.text import clean_space

FETCHED = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def raw(**changes: object) -> RawItem:
    fields: dict[str, object] = {
        "source": "ledger-feed",
        "outlet": "The Harbour Ledger",
        "origin": "https://ledger.example/feed.xml",
        "url": "https://ledger.example/news/port-talks",
        "title": "Port talks resume",
        "text": "Negotiators met again on Monday.\n\nA deal is not yet in sight.",
        "published": datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        "fetched_at": FETCHED,
    }
    fields.update(changes)
    return RawItem(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "HTTPS://News.Example.COM:443/World/Story/?b=2&utm_source=rss&a=1#top",
            "https://news.example.com/World/Story?a=1&b=2",
        ),
        ("http://example.com:80", "http://example.com/"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/", "https://example.com/"),
        ("http://example.com:8080/x/", "http://example.com:8080/x"),
        ("https://www.example.com/a", "https://www.example.com/a"),
        (
            "https://example.com/a?fbclid=1&gclid=2&ref=tw&mc_cid=3&mc_eid=4&cmpid=5&ocid=6"
            "&sr_share=7&UTM_Medium=8&utm_campaign=9&id=42",
            "https://example.com/a?id=42",
        ),
        ("https://example.com/a?q=two+words&page=", "https://example.com/a?page=&q=two+words"),
        ("https://user:secret@Example.com/a", "https://example.com/a"),
        ("https://amp.example.com/world/story", "https://example.com/world/story"),
        ("https://example.com/world/story/amp/", "https://example.com/world/story"),
        ("https://example.com/world/story/amp.html", "https://example.com/world/story"),
        ("https://example.com/world/story?amp=1", "https://example.com/world/story"),
        ("https://example.com/world/story?outputType=amp", "https://example.com/world/story"),
        ("https://example.com/lamp", "https://example.com/lamp"),
        ("  https://example.com/padded  ", "https://example.com/padded"),
        ("ftp://example.com/file", None),
        ("mailto:desk@example.com", None),
        ("javascript:alert(1)", None),
        ("/relative/path", None),
        ("http://example.com:99999/", None),
        ("", None),
        (None, None),
    ],
)
def test_canonical_url(url: str | None, expected: str | None) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        (
            datetime(2026, 3, 2, 11, 0, tzinfo=timezone(timedelta(hours=2))),
            datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        ),
        (None, FETCHED),  # missing → fetched_at
        (datetime(2026, 3, 2, 8, 0), datetime(2026, 3, 2, 8, 0, tzinfo=UTC)),  # noqa: DTZ001
        (FETCHED + timedelta(minutes=50), FETCHED + timedelta(minutes=50)),  # small skew kept
        (FETCHED + timedelta(hours=5), FETCHED),  # far future → clamped
    ],
)
def test_published_is_utc(published: datetime | None, expected: datetime) -> None:
    article = normalize(raw(published=published))
    assert article.published == expected
    assert article.published.utcoffset() == timedelta(0)
    assert article.fetched_at == FETCHED


def test_fetched_at_in_another_zone_becomes_utc() -> None:
    local = datetime(2026, 3, 2, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    article = normalize(raw(fetched_at=local, published=None))
    assert article.fetched_at == FETCHED
    assert article.published == FETCHED
    assert article.published.tzinfo == UTC


@pytest.mark.parametrize(
    ("title", "outlet", "expected"),
    [
        ("Port talks resume - The Harbour Ledger", "The Harbour Ledger", "Port talks resume"),
        ("Port talks resume | the harbour ledger", "The Harbour Ledger", "Port talks resume"),
        ("Port talks resume — The Harbour Ledger", "The Harbour Ledger", "Port talks resume"),
        (
            "Port talks resume - Other Paper",
            "The Harbour Ledger",
            "Port talks resume - Other Paper",
        ),
        ("The Harbour Ledger", "The Harbour Ledger", "The Harbour Ledger"),
        ("  Port\n talks\u00a0 resume ", "The Harbour Ledger", "Port talks resume"),
    ],
)
def test_clean_title(title: str, outlet: str, expected: str) -> None:
    assert clean_title(title, outlet) == expected


def test_outlet_and_title_are_collapsed_and_nfc() -> None:
    article = normalize(
        raw(outlet="  The\tHarbour  Ledger ", title="Cafe\u0301 owners - The Harbour Ledger")
    )
    assert article.outlet == "The Harbour Ledger"
    assert article.title == "Caf\u00e9 owners"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One.\n\n\n\nTwo.", ("One.", "Two.")),
        ("  One   has\u00a0 spaces.  \n\n \t \n\nTwo.", ("One has spaces.", "Two.")),
        ("First line.\nSecond line.", ("First line.", "Second line.")),  # a line per paragraph
        ("A sentence that was\nhard wrapped here.", ("A sentence that was hard wrapped here.",)),
        ("Body.\n\nAdvertisement\n\nMore body.", ("Body.", "More body.")),
        ("Body.\nREAD MORE:\nShare this article\nSign up for our newsletter", ("Body.",)),
        ("Body.\n\nPort talks resume\n\nEnd.", ("Body.", "End.")),  # repeated title
        ("Same.\n\nSame.\n\nOther.", ("Same.", "Other.")),  # repeated paragraph
        ("Cafe\u0301 reopens.", ("Caf\u00e9 reopens.",)),
        ("Advertising revenue rose.", ("Advertising revenue rose.",)),  # not exact boilerplate
        ("", ()),
    ],
)
def test_clean_paragraphs(text: str, expected: tuple[str, ...]) -> None:
    assert clean_paragraphs(text, frozenset({"port talks resume"})) == expected


def test_text_drops_title_and_joins_paragraphs_with_blank_lines() -> None:
    text = "Port talks resume\n\nNegotiators met again.\nAdvertisement\n\nNo deal yet."
    article = normalize(raw(text=text, title="Port talks resume - The Harbour Ledger"))
    assert article.text == "Negotiators met again.\n\nNo deal yet."
    assert article.paragraphs == ("Negotiators met again.", "No deal yet.")


@pytest.mark.parametrize(
    "text", ["a\u00a0 b\t c", " x \u200b y ", "Cafe\u0301\u2003ok", "line\none", "\u3000wide\u3000"]
)
def test_one_line_matches_clean_space(text: str) -> None:
    assert one_line(text) == " ".join(clean_space(text).split())


def test_id_is_stable_across_tracking_params() -> None:
    plain = normalize(raw(url="https://ledger.example/news/port-talks"))
    tracked = normalize(raw(url="https://LEDGER.example/news/port-talks/?utm_source=x&fbclid=y"))
    assert plain.id == tracked.id
    assert len(plain.id) == 16
    assert int(plain.id, 16) >= 0
    assert tracked.canonical_url == "https://ledger.example/news/port-talks"


def test_id_without_url_comes_from_outlet_title_and_text() -> None:
    first = normalize(raw(url=None))
    again = normalize(raw(url="mailto:x@example.com", text=first.text.replace(" ", "  ")))
    other_outlet = normalize(raw(url=None, outlet="Valley Courier"))
    assert first.canonical_url is None
    assert first.id == again.id
    assert first.id != other_outlet.id
    assert first.content_hash == other_outlet.content_hash  # same words, another outlet


def test_content_hash_ignores_url_and_dates_but_not_text() -> None:
    base = normalize(raw())
    moved = normalize(raw(url="https://mirror.example/p/1", published=None, source="other"))
    edited = normalize(raw(text="Negotiators met again on Tuesday."))
    assert base.content_hash == moved.content_hash
    assert base.id != moved.id
    assert base.content_hash != edited.content_hash


def test_other_fields() -> None:
    article = normalize(raw(authors=(" Ana  Ruiz ", "", "Ana Ruiz", "Tomas Berg")))
    assert article.authors == ("Ana Ruiz", "Tomas Berg")
    assert article.lang == "en"
    assert article.source == "ledger-feed"
    assert article.origin == "https://ledger.example/feed.xml"


def test_clean_space_collapses_as_its_pattern_does_whatever_the_spaces() -> None:
    """str.split's fast path gives what the pattern gives, for every kind of space: those
    both take (tab, no-break, em and ideographic spaces), the zero-width space only the
    pattern takes, and the two (U+001F, U+1680) only str.split takes."""
    import random

    from digest.text import _SPACE

    def plain(text: str) -> str:
        text = unicodedata.normalize("NFC", text)
        return "\n".join(_SPACE.sub(" ", line).strip() for line in text.splitlines())

    rng = random.Random(3)  # noqa: S311 (test data)
    alphabet = "ab \t\u00a0\u2003\u200a\u200b\u202f\u3000\n\r\x1f\u1680\u2028e\u0301"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        assert clean_space(text) == plain(text), repr(text)
    assert clean_space(" a\u200bb \t c \n\n  d\u3000\u3000e ") == "a b c\n\nd e"


def test_lines_already_tidy_are_read_as_every_other_text_is() -> None:
    """``collapsed_lines`` takes most texts as they are (single spaces, lines split by
    "\\n"); whatever white space, line end or bidi control a text holds, it gives what the
    word-by-word definition gives, and so do ``strip_bidi`` and the dump reader's
    paragraphs."""
    import random
    import re
    import sys

    from digest.sources.aggregator import paragraphs
    from digest.text import BIDI_CONTROLS, _tidy, collapsed_lines, strip_bidi

    def lines(text: str) -> list[str]:
        return [" ".join(line.split()) for line in text.replace("\u200b", " ").splitlines()]

    def blocks(text: str) -> tuple[str, ...]:
        text = clean_space(text).strip()
        if "\n\n" not in text:
            return tuple(line for line in text.splitlines() if line)
        joined = (" ".join(block.split("\n")) for block in re.split(r"\n{2,}", text))
        return tuple(b.strip() for b in joined if b.strip())

    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    assert max(spaces) == "\u3000"  # the last one the tidy check looks for
    bidi = re.compile(f"[{BIDI_CONTROLS}]")
    odd = [*spaces, "\u200b", *(chr(c) for c in range(0x600, 0x2070) if bidi.match(chr(c)))]
    rng = random.Random(5)  # noqa: S311 (test data)
    tidy = 0
    for n in range(20000):
        words = rng.choices(["Talks", "résumé", "e\u0301", "’s", "", "\n", "\n\n\n"], k=6)
        text = " ".join(words).replace(" \n ", "\n")
        if n % 2:  # one odd character somewhere
            at = rng.randrange(len(text) + 1)
            text = text[:at] + rng.choice(odd) + text[at:]
        tidy += _tidy(text)
        assert collapsed_lines(text) == lines(text), repr(text)
        assert strip_bidi(text) == bidi.sub("", text), repr(text)
        assert paragraphs(text) == blocks(text), repr(text)
    assert tidy > 1000  # the fast path was taken
