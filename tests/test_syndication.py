"""Syndication vs corroboration (#14): wire copies are grouped under their original and
counted, and every output says how many independent reports and copies a thread rests on."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from digest.config import Settings
from digest.mailer import email_parts
from digest.models import SourceRef, SummarySentence, ThreadSummary
from digest.pipeline import RunOptions, edition_briefing, run_once
from digest.render import make_environment
from digest.store import Store
from digest.syndication import basis, credit, reports
from tests.conftest import NOW
from tests.test_pipeline import _jsonl

SettingsFactory = Callable[..., Settings]
T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)

WIRE = (
    "Firefighters in the mountain town of Orsk contained a forest fire on Monday after it "
    "burned for three days across the Tavel ridge. About 1,200 residents who had left their "
    "homes were allowed to return by the evening, the regional fire service said. Fire chief "
    "Lena Vos said crews would watch the ridge for flare-ups through the week.\n\n"
    "The fire destroyed four holiday cabins and a sawmill on the edge of Orsk. Nobody was "
    "hurt. Investigators have not yet said how the fire started."
)
OWN = (
    "Residents of Orsk returned on Monday evening to homes that smelled of smoke after "
    "firefighters contained the fire on the Tavel ridge. Shop owner Piet Haan said the "
    "town had been lucky, because the wind turned on Sunday night and pushed the flames back "
    "towards the burned slope."
)
COPIERS = tuple(f"{town} {kind}" for town in ("Avel", "Brisk", "Corlan", "Dunmere")
                for kind in ("Gazette", "Echo", "Observer"))  # fmt: skip


def ref(article_id: str, outlet: str, hours: float, copy_of: str | None = None) -> SourceRef:
    return SourceRef(
        outlet=outlet,
        title=f"Story by {outlet}",
        url=f"https://{article_id}.example/",
        published=T0 + timedelta(hours=hours),
        article_id=article_id,
        copy_of=copy_of,
    )


def thread(*sources: SourceRef, sentences: tuple[SummarySentence, ...] = ()) -> ThreadSummary:
    return ThreadSummary(
        thread_id="t1",
        headline="Orsk fire contained",
        status="new",
        sentences=sentences,
        quotes=(),
        sources=sources,
        first_seen=T0,
        last_updated=T0,
    )


WIRE_REF = ref("w", "Atlas Newswire", 0)
WIRE_COPIES = tuple(ref(f"c{i}", name, 1 + i / 10, copy_of="w") for i, name in enumerate(COPIERS))
OWN_REF = ref("h", "Harbour Times", 2)


# ── pure: grouping, counting, credit ─────────────────────────────────────────────────────


def test_copies_are_grouped_under_their_original_and_counted_apart() -> None:
    sources = (WIRE_REF, *WIRE_COPIES, OWN_REF)
    found = reports(sources)
    assert [r.ref.article_id for r in found] == ["w", "h"]
    assert found[0].copies == WIRE_COPIES
    assert found[0].copy_outlets == COPIERS
    assert found[1].copies == ()
    b = basis(sources)
    assert (b.reports, b.outlets, b.copies, b.copy_outlets) == (2, 2, 12, 12)


def test_a_copy_of_an_article_the_thread_does_not_hold_is_a_report() -> None:
    stray = ref("x", "Lone Post", 1, copy_of="elsewhere")
    assert [r.ref.article_id for r in reports((OWN_REF, stray))] == ["h", "x"]


def test_a_sentence_names_its_reports_and_counts_the_copies() -> None:
    ids = ("w", *(c.article_id for c in WIRE_COPIES), "h")
    sentence = SummarySentence(text="The fire is out.", outlets=(), article_ids=ids)
    c = credit(sentence, thread(WIRE_REF, *WIRE_COPIES, OWN_REF))
    assert c.outlets == ("Atlas Newswire", "Harbour Times")
    assert c.copy_outlets == COPIERS
    assert c.shown == ("Atlas Newswire",)  # a second name would pass 24 characters
    assert c.more == 1


def test_a_copy_whose_original_does_not_carry_the_sentence_is_credited_as_a_report() -> None:
    sentence = SummarySentence(text="Edited.", outlets=(), article_ids=("c0",))
    c = credit(sentence, thread(WIRE_REF, *WIRE_COPIES))
    assert (c.outlets, c.copy_outlets) == (("Avel Gazette",), ())


def test_many_reports_are_named_up_to_the_room_and_the_rest_counted() -> None:
    many = tuple(ref(f"r{i}", name, i) for i, name in enumerate(COPIERS))
    sentence = SummarySentence(text="x", outlets=(), article_ids=tuple(r.article_id for r in many))
    c = credit(sentence, thread(*many))
    assert c.shown == ("Avel Gazette", "Avel Echo")  # 23 characters; a third passes 24
    assert c.more == 10


def test_a_sentence_without_article_ids_credits_its_outlets() -> None:
    sentence = SummarySentence(text="x", outlets=("Harbour Times", "Bay Post"))
    assert credit(sentence, thread(OWN_REF)).shown == ("Harbour Times", "Bay Post")


# ── end to end: a wire story that twelve outlets ran ─────────────────────────────────────


def _wire_day(root: Path) -> Path:
    rows = [
        {
            "title": "Orsk fire contained after three days",
            "text": WIRE,
            "outlet": "Atlas Newswire",
            "url": "https://atlas.example/orsk-fire",
            "published": T0.isoformat(),
        }
    ]
    for i, outlet in enumerate(COPIERS):
        slug = outlet.lower().replace(" ", "")
        when = T0 + timedelta(minutes=20 + 5 * i)
        url = f"https://{slug}.example/fire"
        rows.append(dict(rows[0], outlet=outlet, url=url, published=when.isoformat()))
    rows.append(
        {
            "title": "Orsk residents return home",
            "text": OWN,
            "outlet": "Harbour Times",
            "url": "https://harbourtimes.example/orsk",
            "published": (T0 + timedelta(hours=3)).isoformat(),
        }
    )
    return _jsonl(root / "wire" / "day.jsonl", *rows)


def _published(make_settings: SettingsFactory, tmp_path: Path) -> tuple[Settings, Path]:
    settings = make_settings()
    with Store(settings.store.path) as store:
        options = RunOptions(day=date(2026, 3, 2), inputs=(_wire_day(tmp_path),))
        run_once(settings, now=NOW, store=store, options=options)
    return settings, settings.output.dir / "2026-03-02"


def test_wire_copies_are_counted_not_listed_in_every_output(
    tmp_path: Path, make_settings: SettingsFactory
) -> None:
    settings, folder = _published(make_settings, tmp_path)
    doc = json.loads((folder / "briefing.json").read_text(encoding="utf-8"))
    fire = next(t for t in doc["threads"] if "Orsk" in t["headline"])
    assert fire["corroboration"] == {
        "independent_reports": 2,
        "independent_outlets": 2,
        "copies": 12,
        "copy_outlets": 12,
    }
    wire_id = next(a["id"] for a in fire["articles"] if a["outlet"] == "Atlas Newswire")
    copies = [a for a in fire["articles"] if a["copy_of"] == wire_id]
    assert sorted(a["outlet"] for a in copies) == sorted(COPIERS)
    lead = next(s for s in fire["summary"] if "Atlas Newswire" in s["independent_outlets"])
    assert lead["independent_outlets"] == ["Atlas Newswire"]
    assert sorted(lead["copy_outlets"]) == sorted(COPIERS)

    page = (folder / "index.html").read_text(encoding="utf-8")
    assert "2 independent reports from 2 outlets · 12 copies" in page
    assert "— Atlas Newswire and 12 copies</span>" in page
    assert '<details class="copies"><summary>carried by 12 outlets</summary>' in page
    assert page.count("Avel Gazette") == 1  # in the folded list, not after every sentence

    markdown = (folder / "briefing.md").read_text(encoding="utf-8")
    assert "2 independent reports from 2 outlets · 12 copies" in markdown
    assert "*(Atlas Newswire and 12 copies)*" in markdown
    assert "; carried by 12 outlets: Avel Gazette, Avel Echo," in markdown

    with Store(settings.store.path) as store:
        from digest.ledger import Ledger

        edition = Ledger(store).latest_published()
        assert edition is not None
        briefing = edition_briefing(store, settings, edition, now=edition.produced_at)
    parts = email_parts(make_environment(), briefing, max_html_bytes=100_000, site_url=None)
    for part in (parts.html, parts.text):
        assert "2 independent reports from 2 outlets · 12 copies" in part
        assert "carried by 12 outlets" in part
        assert "Avel Gazette" not in part  # copies are counted, not listed, in the email
    assert "(Atlas Newswire and 12 copies)" in parts.text
