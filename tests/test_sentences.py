"""The sentence splitter: table-driven edge cases (all text is our own)."""

from __future__ import annotations

import pytest

from digest.sentences import find_quote_spans, sentence_spans, split_sentences

CASES = [
    pytest.param(
        "The dam held. Residents went home.",
        ["The dam held.", "Residents went home."],
        id="plain",
    ),
    pytest.param(
        "Mr. Lind met Dr. Osei at 9 a.m. on Jan. 5 in St. Ives. They talked.",
        ["Mr. Lind met Dr. Osei at 9 a.m. on Jan. 5 in St. Ives.", "They talked."],
        id="titles-months-times",
    ),
    pytest.param(
        "The U.S. and the U.N. agreed. Talks resume soon.",
        ["The U.S. and the U.N. agreed.", "Talks resume soon."],
        id="dotted-acronyms-inside",
    ),
    pytest.param(
        "The ship left the U.S. The crew was tired.",
        ["The ship left the U.S.", "The crew was tired."],
        id="acronym-ends-sentence-before-opener",
    ),
    pytest.param(
        "J. Smith and A. B. Jones signed it. Both smiled.",
        ["J. Smith and A. B. Jones signed it.", "Both smiled."],
        id="initials",
    ),
    pytest.param(
        "Output rose 3.5 percent to $2.75 billion. Prices fell.",
        ["Output rose 3.5 percent to $2.75 billion.", "Prices fell."],
        id="decimals",
    ),
    pytest.param(
        'She said "the gates are shut." Then the rain came.',
        ['She said "the gates are shut."', "Then the rain came."],
        id="double-quote-after-period",
    ),
    pytest.param(
        "He called it 'a good day.' Nobody disagreed.",
        ["He called it 'a good day.'", "Nobody disagreed."],
        id="single-quote-after-period",
    ),
    pytest.param(
        "It was ready for crisis preparedness.'The plan would also cut waste.",
        ["It was ready for crisis preparedness.'", "The plan would also cut waste."],
        id="glued-after-quote",
    ),
    pytest.param(
        "The vote passed.The mayor left early.",
        ["The vote passed.", "The mayor left early."],
        id="glued-words",
    ),
    pytest.param(
        "We waited... Nothing happened. Why? Nobody knows!",
        ["We waited...", "Nothing happened.", "Why?", "Nobody knows!"],
        id="ellipsis-question-exclamation",
    ),
    pytest.param(
        "We waited … and waited. Then it rained.",
        ["We waited … and waited.", "Then it rained."],
        id="ellipsis-mid-sentence",
    ),
    pytest.param(
        "See item No. 4 of the list. It is short.",
        ["See item No. 4 of the list.", "It is short."],
        id="number-abbreviation",
    ),
    pytest.param(
        "Acme Inc. said sales rose. They bought Bolt Ltd. The deal closed.",
        ["Acme Inc. said sales rose.", "They bought Bolt Ltd.", "The deal closed."],
        id="company-suffixes",
    ),
    pytest.param(
        "'We are ready. We have been ready for years,' said Ruiz. She left.",
        ["'We are ready. We have been ready for years,' said Ruiz.", "She left."],
        id="no-split-inside-quote",
    ),
    pytest.param(
        "First paragraph ends here\n\nSecond one starts.",
        ["First paragraph ends here", "Second one starts."],
        id="paragraph-is-a-boundary",
    ),
    pytest.param(
        "Lines wrapped\nby a newline stay one sentence.",
        ["Lines wrapped by a newline stay one sentence."],
        id="single-newline-is-space",
    ),
    pytest.param(
        "The mayor's plan won't pass. The city's budget can't cover it.",
        ["The mayor's plan won't pass.", "The city's budget can't cover it."],
        id="apostrophes",
    ),
    pytest.param("", [], id="empty"),
    pytest.param("   \n\n  ", [], id="blank"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_spans_point_into_the_paragraph() -> None:
    paragraph = "  One here.  Two there!  "
    spans = sentence_spans(paragraph)
    assert [paragraph[a:b] for a, b in spans] == ["One here.", "Two there!"]


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        pytest.param(
            "He said 'we will win the vote' today.", ["'we will win the vote'"], id="single"
        ),
        pytest.param(
            "He said “we will win” and ‘so will they’.", ["“we will win”", "‘so will they’"]
        ),
        pytest.param("Trump's aides don't know Moscow's plan.", [], id="apostrophes-only"),
        pytest.param("It was ‘unhappy' news for them.", ["‘unhappy'"], id="mixed-marks"),
        pytest.param(
            "'The leaders' talks were useful,' he said.", ["'The leaders' talks were useful,'"]
        ),
    ],
)
def test_find_quote_spans(text: str, quoted: list[str]) -> None:
    assert [text[a:b] for a, b in find_quote_spans(text)] == quoted
