"""Quote and speaker extraction: one row per attribution pattern (all text is our own)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from digest.models import Article, Quote
from digest.quotes import extract_quotes, pick_quotes

T0 = datetime(2031, 3, 4, 8, 0, tzinfo=UTC)


def article(text: str, *, outlet: str = "Bay Herald", id: str = "a1") -> Article:
    return Article(
        id=id,
        canonical_url=None,
        outlet=outlet,
        title="Harbor barrier",
        text=text,
        published=T0,
        fetched_at=T0,
        source="test",
        origin="test",
    )


CASES = [
    pytest.param(
        '"We will rebuild the harbor within a year," said Mayor Elena Ruiz.',
        [("We will rebuild the harbor within a year", "Elena Ruiz")],
        id="quote-comma-said-X-with-title",
    ),
    pytest.param(
        '"We will rebuild the harbor within a year," Ruiz said on Monday.',
        [("We will rebuild the harbor within a year", "Ruiz")],
        id="quote-comma-X-said",
    ),
    pytest.param(
        'Ruiz said: "We will rebuild the harbor within a year."',
        [("We will rebuild the harbor within a year.", "Ruiz")],
        id="X-said-colon-quote",
    ),
    pytest.param(
        "Port director Anna Kowalski told reporters on Friday that 'the new cranes will "
        "double our capacity.'",
        [("the new cranes will double our capacity.", "Anna Kowalski")],
        id="title-X-told-reporters-on-day-that-single-quotes",
    ),
    pytest.param(
        "'The storm caught everyone by surprise this year,' Kowalski stated.",
        [("The storm caught everyone by surprise this year", "Kowalski")],
        id="quote-X-stated",
    ),
    pytest.param(
        "Harbor Authority spokesman Dmitry Volkov said the gates 'will be tested every "
        "month during the storm season.'",
        [("will be tested every month during the storm season.", "Dmitry Volkov")],
        id="organisation-title-before-name",
    ),
    pytest.param(
        "'Russia will not change course on the harbor,' Kremlin aide Yuri Belov told reporters.",
        [("Russia will not change course on the harbor", "Yuri Belov")],
        id="quote-title-X-told",
    ),
    pytest.param(
        "According to Sam Ortega, the crews were 'working around the clock to contain it.'",
        [("working around the clock to contain it.", "Sam Ortega")],
        id="according-to-X",
    ),
    pytest.param(
        "The crews were 'working around the clock to contain it,' according to fire chief "
        "Sam Ortega.",
        [("working around the clock to contain it", "Sam Ortega")],
        id="according-to-title-X-after",
    ),
    pytest.param(
        "“The water rose faster than anyone expected,” said Lena Park, a resident.",
        [("The water rose faster than anyone expected", "Lena Park")],
        id="curly-quotes-said-X-apposition",
    ),
    pytest.param(
        "‘We will not give up on the harbor,’ said Ruiz.",
        [("We will not give up on the harbor", "Ruiz")],
        id="curly-single-quotes",
    ),
    pytest.param(
        "'The city's budget can't cover this, and it won't,' Becker said.",
        [("The city's budget can't cover this, and it won't", "Becker")],
        id="apostrophes-inside-quote",
    ),
    pytest.param(
        "'The leaders' talks were long but they were useful,' Ruiz said.",
        [("The leaders' talks were long but they were useful", "Ruiz")],
        id="plural-possessive-inside-quote",
    ),
    pytest.param(
        "'We are ready. We have been ready for years,' said Ruiz.",
        [("We are ready. We have been ready for years", "Ruiz")],
        id="two-sentence-quote",
    ),
    pytest.param(
        "Ukrainian-born Mayor Elena Ruiz met the engineers in Lisbon, saying: 'This "
        "barrier will keep families safe.'",
        [("This barrier will keep families safe.", "Elena Ruiz")],
        id="participle-takes-clause-subject",
    ),
    pytest.param(
        "Council member Tom Becker said the costs were too high. 'We are signing a blank "
        "cheque for our grandchildren,' he added.",
        [("We are signing a blank cheque for our grandchildren", "Tom Becker")],
        id="pronoun-resolves-to-last-speaker",
    ),
    pytest.param(
        "Becker told reporters the plan was rushed.\n\nHe added that the city was 'not "
        "ready to pay for decades of repairs.'",
        [("not ready to pay for decades of repairs.", "Becker")],
        id="pronoun-across-paragraphs",
    ),
    pytest.param(
        "'We are signing a blank cheque for our grandchildren,' he added.",
        [("We are signing a blank cheque for our grandchildren", None)],
        id="pronoun-without-antecedent",
    ),
    pytest.param(
        'The banner read "no more floods in our city ever again" in red letters.',
        [("no more floods in our city ever again", None)],
        id="no-speaker",
    ),
    pytest.param(
        "Officials warned of ‘a very difficult week ahead for everyone' on Sunday.",
        [("a very difficult week ahead for everyone", None)],
        id="common-noun-speaker-is-none",
    ),
    pytest.param(
        "Critics said the plan was 'a costly and very reckless gamble with public money.'",
        [("a costly and very reckless gamble with public money.", None)],
        id="plural-group-is-none",
    ),
    pytest.param(
        "'We will not reopen the quay until the pumps are fixed,' harbour master Ines Lund "
        "said. 'Nobody wants a second flood in one winter.'",
        [
            ("We will not reopen the quay until the pumps are fixed", "Ines Lund"),
            ("Nobody wants a second flood in one winter.", "Ines Lund"),
        ],
        id="bare-quote-continues-the-previous-speaker",
    ),
    pytest.param(
        "'We will not reopen the quay until the pumps are fixed,' said Lund. The banner "
        "read 'no more floods in our city ever again' in red.",
        [
            ("We will not reopen the quay until the pumps are fixed", "Lund"),
            ("no more floods in our city ever again", None),
        ],
        id="a-framed-quote-does-not-continue",
    ),
    pytest.param(
        "'We will not reopen the quay until the pumps are fixed,' said Lund.\n\n"
        "'Nobody wants a second flood in one winter.'",
        [
            ("We will not reopen the quay until the pumps are fixed", "Lund"),
            ("Nobody wants a second flood in one winter.", None),
        ],
        id="a-bare-quote-in-a-new-paragraph-does-not-continue",
    ),
    pytest.param(
        "'The port will need a second crane within a year,' said Lisbon-based Ana Costa of "
        "European shipping consultancy Maritime Partners.",
        [("The port will need a second crane within a year", "Ana Costa")],
        id="X-of-organisation-and-a-based-adjective",
    ),
    pytest.param(
        "The Foreign Ministry said the plan was 'a major challenge for the whole economy.'",
        [("a major challenge for the whole economy.", "Foreign Ministry")],
        id="a-ministry-keeps-its-name",
    ),
    pytest.param(
        "Delays will be 'long and costly' for exporters, said trade expert Rana Lind. "
        "'The question now is how the ports respond,' she said. 'Shippers have made their "
        "plans for the winter already.'",
        [
            ("The question now is how the ports respond", "Rana Lind"),
            ("Shippers have made their plans for the winter already.", "Rana Lind"),
        ],
        id="said-X-ending-the-sentence-then-she-then-a-bare-quote",
    ),
    pytest.param(
        "'Nobody should drive over the pass tonight,' said duty forecaster Ola Brekke.",
        [("Nobody should drive over the pass tonight", "Ola Brekke")],
        id="lower-case-descriptors-before-the-name",
    ),
    pytest.param(
        "'The roof fell in on two of the houses,' said northern Varna valley farmer Ilse "
        "J. Moreau to reporters.",
        [("The roof fell in on two of the houses", "Ilse J. Moreau")],
        id="a-place-as-modifier-and-an-initial",
    ),
    pytest.param(
        "Officer Dale Quist said Varga was stopped on the coast road. Varga, in a statement "
        "from the club, said he had done nothing wrong. 'I look forward to clearing my name "
        "in court,' he said.",
        [("I look forward to clearing my name in court", "Varga")],
        id="name-set-off-by-commas-before-said",
    ),
    pytest.param(
        "Showrunner, 51, says the cast is settled. 'We start filming the new series in "
        "May,' he said.",
        [("We start filming the new series in May", None)],
        id="a-one-word-opening-is-a-name-only-if-used-again",
    ),
    pytest.param(
        "Harbour master Ines Lund inspected the pumps on Monday. 'We will not reopen the "
        "quay before the pumps are fixed,' Lund said.",
        [("We will not reopen the quay before the pumps are fixed", "Ines Lund")],
        id="a-surname-gets-the-full-name-the-article-gave",
    ),
    pytest.param(
        "Ines Lund and Per Lund run the yard. 'We will not reopen the quay before the pumps "
        "are fixed,' Lund said.",
        [("We will not reopen the quay before the pumps are fixed", "Lund")],
        id="a-surname-two-people-share-stays-as-it-is",
    ),
    pytest.param(
        "Mr. Brandt said the levee held. The Varna Flood Agency said the water was falling. "
        "'We have never seen the river rise so fast in one night,' she said.",
        [("We have never seen the river rise so fast in one night", None)],
        id="she-is-not-an-organisation-nor-a-mr",
    ),
    pytest.param(
        "Ms. Okafor said the levee held. Mr. Brandt said the water was falling. 'We have "
        "never seen the river rise so fast in one night,' she said.",
        [("We have never seen the river rise so fast in one night", "Okafor")],
        id="she-skips-back-past-a-mr-to-a-ms",
    ),
    pytest.param(
        "Mayor Ilse Moreau said the levee held. The harbour master said the water was "
        "falling. 'We have never seen the river rise so fast in one night,' he said.",
        [("We have never seen the river rise so fast in one night", None)],
        id="he-after-an-unnamed-official-stays-unnamed",
    ),
    pytest.param(
        "Trump's aides said the mayor's plan won't work and the city's budget can't cover it.",
        [],
        id="apostrophes-are-not-quotes",
    ),
    pytest.param("She called it 'unacceptable' and left.", [], id="too-short"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_extract_quotes(text: str, expected: list[tuple[str, str | None]]) -> None:
    found = extract_quotes(article(text))
    assert [(q.text, q.speaker) for q in found] == expected


def test_quote_carries_outlet_and_article() -> None:
    (quote,) = extract_quotes(article('"We will rebuild it all by June," said Ruiz.', id="x9"))
    assert (quote.outlet, quote.article_id) == ("Bay Herald", "x9")


def test_pick_quotes_named_first_deduplicated_one_per_speaker_first() -> None:
    first = article(
        "'The barrier will keep families safe for fifty years,' Ruiz said. "
        "'We will open the gates for testing in May,' Ruiz said. "
        'The sign read "no more floods in our city ever again" in red.',
        id="a1",
    )
    copy = article(
        "'The barrier will keep families safe for fifty years,' Ruiz said. "
        "'Our maintenance budget is simply far too small,' said Tom Becker.",
        outlet="Metro Daily",
        id="a2",
    )
    picked = pick_quotes([first, copy], centrality=lambda _text: 0.0, limit=3)
    assert [(q.speaker, q.article_id) for q in picked] == [
        ("Ruiz", "a1"),
        ("Tom Becker", "a2"),
        ("Ruiz", "a1"),
    ]
    assert len({q.text for q in picked}) == 3


def test_pick_quotes_skips_quotes_already_in_the_summary() -> None:
    text = (
        "'The barrier will keep families safe for fifty years,' Ruiz said. "
        "'We start testing the gates in early May,' said Tom Becker."
    )
    shown = "Ruiz said the barrier will keep families safe for fifty years."
    picked = pick_quotes([article(text)], centrality=len, shown=shown, limit=3)
    assert picked == (
        Quote(
            text="We start testing the gates in early May",
            speaker="Tom Becker",
            outlet="Bay Herald",
            article_id="a1",
        ),
    )


def test_pick_quotes_never_picks_a_quote_without_its_speaker() -> None:
    text = (
        'The banner read "no more floods in our city ever again" in red. '
        "'We start testing the gates in early May,' said Tom Becker."
    )
    picked = pick_quotes([article(text)], centrality=lambda _text: 1.0, limit=3)
    assert [q.speaker for q in picked] == ["Tom Becker"]
