"""The quality gate: pinned floors on shared/eval-data, and the gate's own rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from digest.models import Article, SummarySentence, ThreadSummary
from eval.data import eval_data, shared_dir
from eval.faithfulness import check, facts
from eval.gate import failures, measure, read_floors, updated_floors

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_figures_stay_at_or_above_their_pinned_floors() -> None:
    shared = shared_dir()
    if shared is None or eval_data() is None:
        pytest.skip("shared/eval-data not found beside the repository")
    assert failures(measure(shared), read_floors()) == []


def test_floors_only_rise_unless_a_regression_is_allowed() -> None:
    floors = {"f1": 0.9, "nmi": 0.8}
    today = {"f1": 0.85, "nmi": 0.82, "new": 0.5}
    assert updated_floors(floors, today, allow_regression=False) == {
        "f1": 0.9,
        "new": 0.5,
        "nmi": 0.82,
    }
    assert updated_floors(floors, today, allow_regression=True)["f1"] == 0.85
    assert failures(today, floors) == ["f1: 0.850000 is below its floor 0.900000"]
    assert failures({}, {"f1": 0.9}) == ["f1: not measured (floor 0.900000)"]


def _summary(text: str, article_id: str) -> ThreadSummary:
    sentence = SummarySentence(text=text, outlets=("Wire",), article_ids=(article_id,))
    return ThreadSummary(
        thread_id="t1",
        headline="h",
        status="new",
        sentences=(sentence,),
        quotes=(),
        sources=(),
        first_seen=WHEN,
        last_updated=WHEN,
    )


def test_faithfulness_catches_invented_numbers_and_names() -> None:
    body = "Officials in Varnia said 12 people were hurt on March 3. The bridge reopened."
    article = Article(
        id="a1",
        canonical_url=None,
        outlet="Wire",
        title="Bridge",
        text=body,
        published=WHEN,
        fetched_at=WHEN,
        source="t",
        origin="t",
    )
    articles = {"a1": article}
    assert facts("Officials in Varnia said 12 people were hurt on March 3.") == [
        "Varnia",
        "12",
        "March",
        "3",
    ]
    good = _summary("Officials in Varnia said 12 people were hurt on March 3.", "a1")
    assert check([good], articles).share == 1.0
    for bad in (
        "Officials in Varnia said 14 people were hurt on March 3.",
        "Officials in Ostrava said 12 people were hurt on March 3.",
        "The bridge reopened.",  # cites an article that does not exist
    ):
        result = check([_summary(bad, "a1" if "bridge" not in bad else "zz")], articles)
        assert result.share == 0.0, bad
