"""End to end through run_once: seeds, re-runs, continuation, broken inputs, golden output."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from digest.config import Settings
from digest.errors import PublishError
from digest.pipeline import RunOptions, run_once
from digest.store import Store
from tests.conftest import NOW, REPO

SettingsFactory = Callable[..., Settings]
SEED_CAPTURE = datetime(2025, 7, 4, 18, 0, tzinfo=UTC)


def _run(
    settings: Settings,
    inputs: tuple[Path, ...],
    day: date,
    *,
    now: datetime = NOW,
    captured_at: datetime | None = None,
):
    with Store(settings.store.path) as store:
        return run_once(
            settings,
            now=now,
            store=store,
            options=RunOptions(day=day, inputs=inputs, captured_at=captured_at),
        )


def _briefing(settings: Settings, day: date) -> dict:
    path = settings.output.dir / day.isoformat() / "briefing.json"
    return json.loads(path.read_text(encoding="utf-8"))


def test_seeds_make_six_event_threads(shared_dir: Path, make_settings: SettingsFactory) -> None:
    settings = make_settings()
    day = date(2025, 7, 4)
    report = _run(settings, (shared_dir / "seeds",), day, captured_at=SEED_CAPTURE)
    assert report.new_articles == 7
    threads = _briefing(settings, day)["threads"]
    groups = sorted(sorted(a["outlet"] for a in t["articles"]) for t in threads)
    assert len(threads) == 6
    assert ["Al Jazeera", "Russia Today"] in groups
    call = next(t for t in threads if len(t["articles"]) == 2)
    assert {a["outlet"] for a in call["articles"]} == {"Al Jazeera", "Russia Today"}
    assert threads[0] is call  # two outlets: the most important thread comes first
    singles = sorted(t["articles"][0]["title"] for t in threads if len(t["articles"]) == 1)
    assert len(singles) == 5
    for thread in threads:
        assert 1 <= len(thread["summary"]) <= 5
        assert all(s["outlets"] for s in thread["summary"])


def test_a_second_run_adds_nothing_and_shows_nothing_twice(
    shared_dir: Path, make_settings: SettingsFactory
) -> None:
    settings = make_settings()
    day = date(2025, 7, 4)
    _run(settings, (shared_dir / "seeds",), day, captured_at=SEED_CAPTURE)
    first = _briefing(settings, day)
    again = _run(settings, (shared_dir / "seeds",), day, captured_at=SEED_CAPTURE)
    assert again.new_articles == 0
    assert again.threads_new == again.threads_extended == 0
    assert {s.status for s in again.sources} == {"seen"}
    second = _briefing(settings, day)
    assert [t["id"] for t in second["threads"]] == [t["id"] for t in first["threads"]]
    titles = [a["title"] for t in second["threads"] for a in t["articles"]]
    assert len(titles) == len(set(titles)) == 7
    with Store(settings.store.path) as store:
        assert store.counts()["articles"] == 7


def _jsonl(path: Path, *rows: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


STRIKE_1 = (
    "Dock workers in the port of Velmora walked off the job on Monday, halting container "
    "traffic at the country's largest harbour. The Velmora dockers' union demands a 9 percent "
    "pay rise and limits on automated cranes. Union leader Mara Okonkwo said the strike would "
    "last until the port authority returned to talks."
)
STRIKE_2 = (
    "The Velmora port strike entered its second day on Tuesday as the port authority offered "
    "dockers a 5 percent pay rise. Mara Okonkwo, the dockers' union leader, rejected the offer "
    "and said crane automation remained the sticking point. Container ships queued outside "
    "the Velmora harbour."
)
BRIDGE = (
    "Engineers in Trelleby opened a new cable-stayed bridge over the Asker river on Tuesday. "
    "The 840-metre crossing cuts the drive between the two halves of the city by twenty minutes, "
    "the city's transport office said. Cyclists get a separate deck."
)
FERRY = (
    "The Asker river ferry will run every forty minutes instead of every twenty from April, "
    "the Trelleby transport office said on Friday, citing fewer passengers since the new "
    "bridge opened. Commuters on the northern bank said the longer wait would push them back "
    "into their cars, and the ferry crews' association asked the city to review the cut."
)


def test_a_thread_continues_across_two_dates(
    tmp_path: Path, make_settings: SettingsFactory
) -> None:
    settings = make_settings()
    monday = _jsonl(
        tmp_path / "in" / "monday.jsonl",
        {
            "title": "Velmora dockers walk out",
            "text": STRIKE_1,
            "outlet": "Harbour Times",
            "published": "2026-03-02T08:00:00Z",
            "url": "https://harbour.example/strike",
        },
    )
    tuesday = _jsonl(
        tmp_path / "in" / "tuesday.jsonl",
        {
            "title": "Velmora strike enters day two",
            "text": STRIKE_2,
            "outlet": "Coast Courier",
            "published": "2026-03-03T09:00:00Z",
        },
        {
            "title": "Trelleby opens Asker bridge",
            "text": BRIDGE,
            "outlet": "Coast Courier",
            "published": "2026-03-03T10:00:00Z",
        },
    )
    _run(settings, (monday,), date(2026, 3, 2))
    report = _run(settings, (tuesday,), date(2026, 3, 3), now=NOW + timedelta(days=1))
    assert (report.threads_new, report.threads_extended) == (1, 1)
    first = _briefing(settings, date(2026, 3, 2))["threads"]
    threads = {t["headline"]: t for t in _briefing(settings, date(2026, 3, 3))["threads"]}
    strike = next(t for t in threads.values() if t["id"] == first[0]["id"])
    assert strike["status"] == "continuing"
    assert {a["outlet"] for a in strike["articles"]} == {"Harbour Times", "Coast Courier"}
    bridge = next(t for t in threads.values() if t is not strike)
    assert bridge["status"] == "new"


def test_broken_inputs_are_reported_and_the_rest_is_published(
    tmp_path: Path, make_settings: SettingsFactory
) -> None:
    settings = make_settings()
    folder = tmp_path / "in"
    _jsonl(
        folder / "good.jsonl",
        {
            "title": "Trelleby opens Asker bridge",
            "text": BRIDGE,
            "outlet": "Coast Courier",
            "published": "2026-03-02T10:00:00Z",
        },
    )
    (folder / "empty.txt").write_text("", encoding="utf-8")
    (folder / "binary.json").write_bytes(b"\x00\x01\x02\xff\xfe")
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4")
    (folder / "cut.txt").write_text(
        "logo\nA headline\n\nA headline\n\nMeridian Wire2 hours ago\n", encoding="utf-8"
    )
    report = _run(settings, (folder,), date(2026, 3, 2))
    errors = {Path(s.name).name: s.error for s in report.sources if s.status == "error"}
    assert set(errors) == {"empty.txt", "binary.json", "notes.pdf", "cut.txt"}
    for name, error in errors.items():
        assert name in error
        assert "\n" not in error
    assert report.new_articles == 1
    assert (settings.output.dir / "2026-03-02" / "index.html").exists()


def test_nothing_new_publishes_nothing(tmp_path: Path, make_settings: SettingsFactory) -> None:
    settings = make_settings()
    report = _run(settings, (tmp_path,), date(2026, 3, 2))
    assert report.outputs == ()
    assert not settings.output.dir.exists() or not any(settings.output.dir.iterdir())


def test_sample_run_matches_the_golden_markdown(
    make_settings: SettingsFactory,
    golden: Callable[[str, str], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO)  # input names in the briefing are relative to the working folder
    samples = REPO / "samples" / "dumps"
    if not samples.is_dir():
        pytest.fail("samples/dumps is missing")
    settings = make_settings()
    day = date(2026, 3, 2)
    report = _run(settings, (samples,), day)
    assert not report.failed
    out = settings.output.dir / day.isoformat()
    golden("sample-run/briefing.md", (out / "briefing.md").read_text(encoding="utf-8"))
    golden("sample-run/briefing.json", (out / "briefing.json").read_text(encoding="utf-8"))


def test_a_crash_after_storing_is_completed_by_the_rerun(
    tmp_path: Path, make_settings: SettingsFactory
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the output folder should be", encoding="utf-8")
    inputs = (
        _jsonl(
            tmp_path / "in" / "day.jsonl",
            {
                "title": "Trelleby opens Asker bridge",
                "text": BRIDGE,
                "outlet": "Coast Courier",
                "published": "2026-03-02T10:00:00Z",
            },
        ),
    )
    with pytest.raises(PublishError):
        _run(make_settings(f"output.dir='{blocked}'"), inputs, date(2026, 3, 2))
    settings = make_settings()
    report = _run(settings, inputs, date(2026, 3, 2))
    assert report.new_articles == 0  # stored by the run that crashed
    (thread,) = _briefing(settings, date(2026, 3, 2))["threads"]
    assert thread["headline"] == "Trelleby opens Asker bridge"


def test_a_run_forgets_the_fingerprints_its_near_duplicate_checks_no_longer_reach(
    tmp_path: Path, make_settings: SettingsFactory
) -> None:
    """Ten days on, the strike's band rows and signature are past the lookup window
    (dedupe.recent_days = 7, and a day more) and go; the article stays, and the same page
    sent again is still seen by its exact keys. The cutoff counts back from the run's
    newest article or its clock, whichever is earlier: a replay of last month's news today
    keeps the fingerprints that news needs."""
    settings = make_settings()
    strike = {
        "title": "Velmora dockers walk out",
        "text": STRIKE_1,
        "outlet": "Harbour Times",
        "published": "2026-03-02T08:00:00Z",
        "url": "https://harbour.example/strike",
    }
    monday = _jsonl(tmp_path / "in" / "monday.jsonl", strike)
    bridge = {
        "title": "Trelleby opens Asker bridge",
        "text": BRIDGE + " " + STRIKE_2,
        "outlet": "Coast Courier",
        "published": "2026-03-12T10:00:00Z",
    }
    later = _jsonl(tmp_path / "in" / "later.jsonl", bridge)

    def kept() -> list[str]:
        with Store(settings.store.path) as store:
            query = "SELECT a.title FROM minhashes AS m JOIN articles AS a ON a.id = m.article_id"
            return sorted(t for (t,) in store.db.execute(query))

    _run(settings, (monday,), date(2026, 3, 2))
    assert kept() == [strike["title"]]
    _run(settings, (later,), date(2026, 3, 12), now=NOW + timedelta(days=9))
    assert kept() == [bridge["title"]]
    ferry = {
        "title": "Asker ferry timetable cut",
        "text": FERRY,
        "outlet": "Coast Courier",
        "published": "2026-03-13T09:00:00Z",
    }
    replay = _jsonl(tmp_path / "in" / "replay.jsonl", ferry)
    again = _run(settings, (monday, replay), date(2026, 4, 20), now=NOW + timedelta(days=49))
    assert (again.new_articles, again.duplicates) == (1, 1)  # the strike page, by its URL
    assert kept() == [ferry["title"], bridge["title"]]  # counted back from March 13
    with Store(settings.store.path) as store:
        assert store.counts()["articles"] == 3
