"""The extractive summarizer, on short fictional articles written for these tests."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from digest.models import Article, EventThread, ThreadSummary
from digest.summarize import SummaryParams, summarize

T0 = datetime(2031, 3, 4, 8, 0, tzinfo=UTC)

LEAD = (
    "Harbor City's council voted 7-2 on Tuesday to approve a $40 million flood barrier "
    "along the eastern waterfront."
)
LEAD_NEAR = LEAD.replace("along the", "on the")  # one word changed: still "the same"

COASTAL = f"""{LEAD}

The barrier, a chain of movable steel gates, is meant to protect about 12,000 homes from \
storm surges. Construction is expected to begin in March and to take three years.

Mayor Elena Ruiz called the vote a turning point for the waterfront. "This barrier will keep \
families safe for the next fifty years," Ruiz said.

However, two council members opposed the plan because of its cost.

What happens to the flood barrier if the money runs out?

Subscribe to our newsletter for more waterfront news and council updates."""

HERALD = f"""{LEAD}

Engineers at the state university designed the steel gates after record floods in 2029 \
damaged hundreds of waterfront buildings. The state will cover half of the $40 million cost, \
according to the finance office.

Council member Tom Becker said maintenance costs for the flood barrier had been badly \
underestimated. "We are signing a blank cheque for our grandchildren," he added."""

METRO = f"""{LEAD_NEAR}

"This barrier will keep families safe for the next fifty years," Ruiz said after the vote.

Shop owners on the eastern waterfront welcomed the decision after years of flooded \
basements and closed streets."""

PILES = (
    "Construction crews drove the first steel piles for Harbor City's flood barrier into the "
    "eastern waterfront on Monday, two weeks ahead of schedule."
)
NEXT_DAY = f"""{PILES}

The work closed two lanes of Shore Road, and traffic delays of up to an hour are expected \
until June.

{LEAD}

Project manager Ines Duarte said the crews would work in night shifts to protect the tourist \
season. "We want the first gates standing before the autumn storms arrive," Duarte said."""


def article(
    id: str, outlet: str, text: str, *, hours: float = 0.0, title: str | None = None
) -> Article:
    when = T0 + timedelta(hours=hours)
    return Article(
        id=id,
        canonical_url=f"https://{outlet.lower().replace(' ', '')}.example/{id}",
        outlet=outlet,
        title=f"Harbor City approves $40m flood barrier - {outlet}" if title is None else title,
        text=text,
        published=when,
        fetched_at=when,
        source="test",
        origin="test",
    )


def thread_of(*articles: Article) -> EventThread:
    return EventThread(
        id="t1",
        title="Harbor City flood barrier",
        article_ids=tuple(a.id for a in articles),
        first_seen=min(a.published for a in articles),
        last_updated=max(a.published for a in articles),
    )


def run(*articles: Article, **kwargs: object) -> ThreadSummary:
    return summarize(thread_of(*articles), {a.id: a for a in articles}, **kwargs)  # type: ignore[arg-type]


COASTAL_A = article("c1", "Coastal Wire", COASTAL, hours=0)
HERALD_A = article("h1", "Bay Herald", HERALD, hours=1)
METRO_A = article("m1", "Metro Daily", METRO, hours=2)
NEXT_A = article("n1", "Coastal Wire", NEXT_DAY, hours=24, title="Crews start barrier work")
ALL = (COASTAL_A, HERALD_A, METRO_A)


def squash(text: str) -> str:
    return " ".join(text.split())


def jaccard(a: str, b: str) -> float:
    wa, wb = set(a.lower().split()), set(b.lower().split())
    return len(wa & wb) / len(wa | wb)


def test_three_to_five_sentences_each_attributed() -> None:
    summary = run(*ALL)
    assert 3 <= len(summary.sentences) <= 5
    for sentence in summary.sentences:
        assert sentence.outlets
        assert len(sentence.article_ids) >= len(sentence.outlets)


@pytest.mark.parametrize("articles", [ALL, (COASTAL_A, NEXT_A), (HERALD_A,), (METRO_A, HERALD_A)])
def test_every_sentence_is_verbatim_from_a_source(articles: tuple[Article, ...]) -> None:
    summary = run(*articles)
    sources = [squash(a.text) for a in articles]
    for sentence in summary.sentences:
        assert any(sentence.text in source for source in sources), sentence.text


def test_sentence_shared_near_verbatim_credits_every_outlet() -> None:
    summary = run(*ALL)
    lead = next(s for s in summary.sentences if s.text in (LEAD, LEAD_NEAR))
    assert set(lead.outlets) == {"Coastal Wire", "Bay Herald", "Metro Daily"}
    assert set(lead.article_ids) == {"c1", "h1", "m1"}
    assert lead.outlets == ("Coastal Wire", "Bay Herald", "Metro Daily")  # by time


def test_copies_from_other_outlets_are_credited_and_listed() -> None:
    copy = article("v1", "Valley Post", COASTAL, hours=3)
    summary = run(COASTAL_A, HERALD_A, also_carried_by={"c1": (copy,)})
    lead = next(s for s in summary.sentences if s.text == LEAD)
    assert "Valley Post" in lead.outlets
    assert "v1" in lead.article_ids
    assert [ref.article_id for ref in summary.sources] == ["c1", "h1", "v1"]


def test_near_identical_sentences_are_not_both_chosen() -> None:
    summary = run(*ALL)
    texts = [s.text for s in summary.sentences]
    assert not (LEAD in texts and LEAD_NEAR in texts)
    for i, a in enumerate(texts):
        for b in texts[i + 1 :]:
            assert jaccard(a, b) < 0.8, (a, b)


def test_questions_boilerplate_and_dangling_openers_are_avoided() -> None:
    texts = " ".join(s.text for s in run(*ALL).sentences)
    assert "What happens" not in texts
    assert "Subscribe" not in texts
    assert "However, two council" not in texts


def test_new_thread_starts_with_the_most_central_lead() -> None:
    assert run(*ALL).sentences[0].text in (LEAD, LEAD_NEAR)


def test_continuing_thread_puts_what_is_new_first() -> None:
    summary = run(
        COASTAL_A,
        HERALD_A,
        NEXT_A,
        status="continuing",
        continues_from=date(2031, 3, 4),
        new_article_ids=frozenset({"n1"}),
    )
    assert summary.sentences[0].text == PILES
    assert summary.sentences[0].article_ids == ("n1",)
    assert summary.status == "continuing"
    assert summary.continues_from == date(2031, 3, 4)
    # the background sentence the new article repeats is not "new": it comes after
    new_block = [s for s in summary.sentences if s.article_ids == ("n1",)]
    assert summary.sentences[: len(new_block)] == tuple(new_block)
    assert all(s.text != LEAD for s in new_block)
    assert summary.quotes[0].speaker == "Ines Duarte"  # the new article's quote leads


def test_story_spanning_days_leads_with_its_latest_development() -> None:
    # not a continuing thread: recency alone must lift the newest report's lead over the
    # older lead that three outlets share
    later = article("n2", "Coastal Wire", NEXT_DAY, hours=48, title="Crews start barrier work")
    summary = run(*ALL, later)
    assert summary.sentences[0].text == PILES
    assert any(s.text == squash(LEAD) or s.text == LEAD for s in summary.sentences)


def test_new_ids_are_ignored_for_a_new_thread() -> None:
    plain = run(*ALL)
    flagged = run(*ALL, new_article_ids=frozenset({"m1"}))
    assert plain == flagged


def test_headline_is_the_most_central_title_without_outlet_suffix() -> None:
    summary = run(*ALL)
    assert summary.headline == "Harbor City approves $40m flood barrier"


def test_headline_prefers_the_earliest_on_ties() -> None:
    early = article("e1", "Coastal Wire", COASTAL, hours=0, title="Early title | Coastal Wire")
    same = article("l1", "Metro Daily", COASTAL, hours=0, title="Late title - Metro Daily")
    assert run(same, early).headline == "Early title"


def test_headline_is_what_the_latest_reports_say() -> None:
    """'Contact lost with jet' was first; by the next day every outlet reports the crash
    and who died: the thread is headlined by what most reports, and the newest, say."""
    first = article("c1", "Coastal Wire", COASTAL, hours=0, title="Contact lost with army jet")
    later = [
        article(
            f"k{i}", outlet, COASTAL, hours=20 + i, title=f"Army chief killed in jet crash ({i})"
        )
        for i, outlet in enumerate(("Metro Daily", "Bay Herald", "Valley Post"))
    ]
    assert run(first, *later).headline.startswith("Army chief killed in jet crash")
    analysis = article("a1", "Valley Post", COASTAL, hours=30, title="Analysis: why jets crash")
    assert not run(first, *later, analysis).headline.startswith("Analysis")


def test_quotes_named_speaker_first_and_deduplicated_across_outlets() -> None:
    quotes = run(*ALL).quotes
    texts = [q.text for q in quotes]
    assert texts.count("This barrier will keep families safe for the next fifty years") == 1
    assert {q.speaker for q in quotes} >= {"Elena Ruiz", "Tom Becker"}  # full names
    assert all(q.speaker for q in quotes)
    assert len(quotes) <= 3


def test_sources_thread_times_and_passthrough() -> None:
    summary = run(METRO_A, COASTAL_A, HERALD_A)  # thread order does not matter
    assert [ref.outlet for ref in summary.sources] == ["Coastal Wire", "Bay Herald", "Metro Daily"]
    assert summary.sources[0].url == "https://coastalwire.example/c1"
    assert summary.first_seen == T0
    assert summary.last_updated == T0 + timedelta(hours=2)
    assert summary.thread_id == "t1"
    assert summary.status == "new"
    assert summary.continues_from is None
    assert summary.outlets == ("Coastal Wire", "Bay Herald", "Metro Daily")


def test_deterministic_and_independent_of_input_order() -> None:
    assert run(*ALL) == run(*reversed(ALL)) == run(*ALL)


@pytest.mark.parametrize(
    ("params", "low", "high"),
    [
        (SummaryParams(max_sentences=3), 3, 3),
        (SummaryParams(max_words=10), 3, 3),  # the word budget is soft up to min_sentences
        (SummaryParams(min_sentences=1, max_sentences=2), 1, 2),
        (SummaryParams(max_words=1000, max_sentences=5, redundancy=0.9), 4, 5),
    ],
)
def test_params_bound_the_length(params: SummaryParams, low: int, high: int) -> None:
    summary = run(*ALL, params=params)
    assert low <= len(summary.sentences) <= high


def test_word_budget_is_respected_past_min_sentences() -> None:
    params = SummaryParams(min_sentences=1, max_words=40)
    summary = run(*ALL, params=params)
    words = [len(s.text.split()) for s in summary.sentences]
    assert sum(words) <= 40 or len(words) == 1


def test_max_quotes() -> None:
    assert len(run(*ALL, params=SummaryParams(max_quotes=1)).quotes) == 1
    assert run(*ALL, params=SummaryParams(max_quotes=0)).quotes == ()


def test_thread_without_usable_text() -> None:
    bare = article("b1", "Coastal Wire", "Short.", title="")
    summary = run(bare)
    assert summary.sentences == ()
    assert summary.headline == "Harbor City flood barrier"  # the thread title
    missing = dataclasses.replace(thread_of(bare), article_ids=("b1", "gone"))
    assert summarize(missing, {"b1": bare}).sources[0].article_id == "b1"


def test_huge_thread_is_capped_and_still_summarised() -> None:
    subjects = ["The council", "The mayor", "Engineers", "Residents", "The state"]
    verbs = ["reviewed", "debated", "questioned", "praised", "funded"]
    objects = ["the flood gates", "the harbor wall", "the pumping plan", "the tide sensors"]

    def text(n: int) -> str:
        return " ".join(
            f"{subjects[(n + i) % 5]} {verbs[(n * i) % 5]} {objects[i % 4]} in week {n + i} "
            f"of the project on the eastern waterfront."
            for i in range(40)
        )

    many = [article(f"x{n}", f"Outlet {n % 9}", text(n), hours=n / 10) for n in range(300)]
    summary = run(*many)
    assert 1 <= len(summary.sentences) <= 5
    assert len(summary.sources) == 300


OPENING_A = (
    "Governor Lena Marsh on Friday opened the new Kestrel Valley tunnel under the Orm hills, "
    "two years late and 30 million over budget."
)
OPENING_B = (
    "Governor Lena Marsh opened the Kestrel Valley tunnel on Friday morning, ending six years "
    "of digging and a decade of quarrels over its route beneath the Orm hills."
)
TUNNEL_A = f"""{OPENING_A}

The 4-kilometre tunnel cuts the trip between Kestrel and Dunmore from an hour to 15 minutes. \
Marsh said the Kestrel Valley tunnel would bring the two towns closer than ever.

Trucks over 30 tonnes may use the Kestrel Valley tunnel from June, the transport office said."""
TUNNEL_B = f"""{OPENING_B}

Residents of Dunmore lined the road to watch Marsh cut the ribbon at the Kestrel Valley \
tunnel entrance. The old mountain road over the Orm hills will close to traffic in winter.

Engineers had to stop work on the Kestrel Valley tunnel twice after flooding in 2029."""


def test_two_outlets_opening_the_same_news_in_other_words_lead_once() -> None:
    # the thread's own IDF makes the names both openings share cheap, so their cosine stays
    # under the redundancy bar; two openings of one news cycle sharing most words say it once
    a = article("a", "Valley Post", TUNNEL_A, title="Tunnel opens")
    b = article("b", "Hill Times", TUNNEL_B, hours=3, title="Marsh opens tunnel")
    summary = run(a, b)
    texts = [s.text for s in summary.sentences]
    assert sum(t in (OPENING_A, OPENING_B) for t in texts) == 1, texts
    # a day apart, each opening is the news of its own day
    later = dataclasses.replace(b, published=T0 + timedelta(hours=30))
    texts = [s.text for s in run(a, later).sentences]
    assert sum(t in (OPENING_A, OPENING_B) for t in texts) == 2, texts


def _word_jaccard(a: frozenset[object], b: frozenset[object]) -> float:
    """Two sentences' word Jaccard as ``summarize`` measures it: 0 when one is empty or
    their sizes alone keep it under the bar (the smaller under 0.8 of the larger)."""
    from digest.summarize import _SAME_SENTENCE

    if not a or not b or min(len(a), len(b)) < _SAME_SENTENCE * max(len(a), len(b)):
        return 0.0
    return len(a & b) / len(a | b)


def test_sentences_by_size_find_what_comparing_every_pair_finds() -> None:
    """A sentence is "the same" as another at word Jaccard >= 0.8: looking only at sets of
    about its size (and word-for-word copies first) finds exactly what comparing it with
    every set finds, at the bounds too (4 of 5 words, 8 of 10)."""
    import random

    from digest.summarize import _SAME_SENTENCE, _BySize

    rng = random.Random(7)  # noqa: S311 (test data)
    vocabulary = [f"w{i}" for i in range(40)]
    found = 0
    for _ in range(300):
        base = rng.sample(vocabulary, rng.randint(1, 25))
        others = []
        for _ in range(rng.randint(0, 12)):
            kept = base[: rng.randint(0, len(base))]
            others.append(frozenset(kept + rng.sample(vocabulary, rng.randint(0, 4))))
        mine = frozenset(base)
        expected = any(_word_jaccard(mine, other) >= _SAME_SENTENCE for other in others)
        assert _BySize(others).near(mine) == expected
        found += expected
    assert 50 < found < 250  # (both answers are met often)
    four_of_five = frozenset("abcd"), frozenset("abcde")
    assert _BySize([four_of_five[1]]).near(four_of_five[0])
    assert not _BySize([frozenset("abcdef")]).near(frozenset("abcd"))
    assert not _BySize([frozenset()]).near(frozenset())


def test_the_words_a_pair_must_share_are_where_jaccard_reaches_the_bar() -> None:
    """``_BySize`` counts shared words against a bar found once per pair of sizes: at
    every count of shared words, the bar and the Jaccard of two such sets agree."""
    from digest.summarize import _SAME_SENTENCE, _shared_needed

    for n in range(1, 61):
        for size in range(1, 61):
            need = _shared_needed(n, size)
            for shared in range(min(n, size) + 1):
                a = frozenset(range(n))
                b = frozenset(range(n - shared, n - shared + size))
                assert len(a & b) == shared
                reaches = _word_jaccard(a, b) >= _SAME_SENTENCE
                assert reaches == (need is not None and shared >= need), (n, size, shared)
