"""The batch scanner (``digest.cluster.tokens``) reads every text as ``entities.scan`` does:
the same words, capitals and sentence openings, whatever the text holds."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from digest.cluster import entities, tokens
from digest.cluster.tokens import scan_all

NEWS_DAYS = Path(__file__).parent / "data" / "news-days" / "jsonl"
# what the rules turn on: apostrophes and dashes of both kinds, marks that end a sentence,
# initials and abbreviations, "_" (the regex's odd case), a character beyond the plane, a
# lone surrogate, letters that change length when lower-cased, white space of every kind
PIECES = [
    *"aB9 '.,!?;:\"()[]-—–_\n\t…“”‘’«»é",
    *("Mr", "Dr", "St", "U.S.", " - ", "don't", "''", "A", "G.", "gen."),
    *("\U0001f600", "\U0001d400", "\ud800", "İ", "ß", "Ⅻ", "²", "\u00a0", "\u3000", "\u2028", "中"),
]


def _same(texts: list[str], limit: int | None) -> None:
    for text, got in zip(texts, scan_all(texts, limit=limit), strict=True):
        want = entities.scan(text, limit=limit)
        assert (got.words, got.caps, got.opening) == (want.words, want.caps, want.opening), text


@pytest.mark.parametrize("limit", [None, 400, 3, 1])
def test_random_texts_are_read_as_the_regex_reads_them(limit: int | None) -> None:
    rng = random.Random(11)  # noqa: S311 (test data)
    texts = ["".join(rng.choices(PIECES, k=rng.randint(0, 30))) for _ in range(3000)]
    _same(texts, limit)


@pytest.mark.parametrize("limit", [None, 400, 12])
def test_news_days_articles_are_read_as_the_regex_reads_them(limit: int | None) -> None:
    lines = [line for p in sorted(NEWS_DAYS.glob("*.jsonl")) for line in p.read_text().splitlines()]
    rows = [json.loads(line) for line in lines if line.strip()]
    texts = [entities.strip_dateline(r["text"]) for r in rows] + [r["title"] for r in rows]
    assert len(texts) > 100
    assert any(not t.isascii() for t in texts)
    _same(texts, limit)


def test_texts_split_over_chunks_and_long_texts_are_read_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A chunk ends at a text's end (a text longer than a chunk is one alone), and a body
    longer than its short head is read from the longer one when the short holds too few
    words; the tables read them, the regex only those they cannot."""
    monkeypatch.setattr(tokens, "CHUNK_CHARS", 64)
    regex = []
    monkeypatch.setattr(
        tokens, "scan", lambda t, limit: regex.append(t) or entities.scan(t, limit=limit)
    )
    rng = random.Random(3)  # noqa: S311 (test data)
    words = ["Talks", "resumed.", "Mr.", "Volkov", "said", "—", "it’s", "over", "G.", "Ruiz"]
    texts = [" ".join(rng.choices(words, k=rng.randint(0, 60))) for _ in range(300)]
    texts += ["x" * 50 + " Long_word " + "y" * 30, "A" * 500]  # one with "_", one long word
    _same(texts, None)
    _same(texts, 20)
    assert regex
    assert all("_" in t for t in regex)
