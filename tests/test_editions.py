"""Editions: the pure plan, numbering, windows, re-runs and "new since the last edition"."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from digest.config import Settings
from digest.editions import EditionRequest, plan_edition, publish_as
from digest.ledger import Ledger
from digest.models import Edition
from digest.pipeline import RunOptions, run_once
from digest.schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    _migrate_1_to_2,
    _migrate_2_to_3,
    _migrate_3_to_4,
    _migrate_4_to_5,
    _migrate_5_to_6,
    _migrate_6_to_7,
    _migrate_7_to_8,
    _migrate_8_to_9,
    _migrate_9_to_10,
)
from digest.store import Store, open_store
from tests.conftest import NOW
from tests.test_pipeline import BRIDGE, STRIKE_1, STRIKE_2, _jsonl

SettingsFactory = Callable[..., Settings]
DAY1, DAY2 = date(2026, 3, 2), date(2026, 3, 3)


def edition(**changes: object) -> Edition:
    base = Edition(
        id=1,
        number=1,
        slug="2026-03-02",
        day=DAY1,
        first_run=1,
        last_run=3,
        window_start=NOW - timedelta(days=1),
        window_end=NOW,
        scheduled_for=None,
        produced_at=NOW,
        late=False,
        status="published",
    )
    return Edition(**{**{f: getattr(base, f) for f in base.__slots__}, **changes})


def request(**changes: object) -> EditionRequest:
    values = {"day": DAY2, "slot": None, "late": False, "run_id": 5, "now": NOW + timedelta(1)}
    return EditionRequest(**{**values, **changes})


# ── the plan (pure) ───────────────────────────────────────────────────────────────────────


def test_the_first_edition_covers_every_run_so_far():
    plan = plan_edition(request(), existing=None, latest=None, first_run_started=NOW)
    assert (plan.first_run, plan.last_run) == (1, 5)
    assert (plan.window_start, plan.window_end) == (NOW, NOW + timedelta(1))
    assert (plan.id, plan.number, plan.status) == (0, None, "empty")


def test_a_new_edition_starts_where_the_newest_ended():
    plan = plan_edition(request(), existing=None, latest=edition(), first_run_started=NOW)
    assert (plan.first_run, plan.last_run, plan.window_start) == (4, 5, NOW)
    assert plan.day == DAY2


def test_rerunning_the_newest_edition_extends_it_and_keeps_its_number():
    newest = edition()
    plan = plan_edition(request(late=True), existing=newest, latest=newest, first_run_started=NOW)
    assert (plan.id, plan.number, plan.slug) == (1, 1, "2026-03-02")
    assert (plan.first_run, plan.last_run, plan.window_end) == (1, 5, NOW + timedelta(1))
    assert plan.late


def test_rerunning_an_older_edition_keeps_its_window():
    older, newest = edition(), edition(id=2, number=2, first_run=4, last_run=4)
    plan = plan_edition(request(), existing=older, latest=newest, first_run_started=NOW)
    assert (plan.first_run, plan.last_run, plan.window_end) == (1, 3, NOW)


def test_numbers_and_folders_are_given_once():
    fresh = edition(id=0, number=None, slug="", status="empty")
    first = publish_as(fresh, next_number=7, taken_slugs=set())
    assert (first.number, first.slug, first.status) == (7, "2026-03-02", "published")
    second = publish_as(fresh, next_number=8, taken_slugs={"2026-03-02"})
    assert second.slug == "2026-03-02-8"
    assert publish_as(first, next_number=9, taken_slugs={"2026-03-02"}) == first


# ── through run_once ──────────────────────────────────────────────────────────────────────


def _inputs(tmp_path: Path) -> tuple[Path, Path]:
    monday = _jsonl(
        tmp_path / "in" / "monday.jsonl",
        {
            "title": "Velmora dockers walk out",
            "text": STRIKE_1,
            "outlet": "Harbour Times",
            "published": "2026-03-02T08:00:00Z",
        },
    )
    tuesday = _jsonl(
        tmp_path / "in2" / "tuesday.jsonl",
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
    return monday, tuesday


def _run(settings: Settings, inputs: tuple[Path, ...], **options: object):
    now = options.pop("now", NOW)
    with open_store(settings.store) as store:
        return run_once(
            settings, now=now, store=store, options=RunOptions(inputs=inputs, **options)
        )


def _doc(settings: Settings, folder: str) -> dict:
    return json.loads((settings.output.dir / folder / "briefing.json").read_text("utf-8"))


def test_consecutive_editions_and_what_is_new_since_the_last(
    tmp_path: Path, make_backend_settings: SettingsFactory
) -> None:
    settings = make_backend_settings()
    monday, tuesday = _inputs(tmp_path)
    first = _run(settings, (monday,), day=DAY1)
    second = _run(settings, (tuesday,), day=DAY2, now=NOW + timedelta(days=1))
    assert (first.edition.number, second.edition.number) == (1, 2)
    assert second.edition.window_start == first.edition.window_end == NOW
    doc = _doc(settings, "2026-03-03")
    assert doc["edition"] == {
        "number": 2,
        "folder": "2026-03-03",
        "late": False,
        "published": "2026-03-03T22:00:00Z",
        "scheduled_for": None,
        "window_start": "2026-03-02T22:00:00Z",
        "window_end": "2026-03-03T22:00:00Z",
    }
    strike = next(t for t in doc["threads"] if t["status"] == "continuing")
    assert strike["new_since_previous_edition"]["outlets"] == ["Coast Courier"]
    assert len(strike["new_since_previous_edition"]["article_ids"]) == 1
    assert strike["summary"][0]["new"] is True  # the fresh sentences lead
    assert not strike["summary"][-1]["new"]  # the background follows
    page = (settings.output.dir / "2026-03-03" / "index.html").read_text("utf-8")
    assert "New since the last edition:" in page
    assert "first report from Coast Courier" in page
    assert "No. 2" in page
    markdown = (settings.output.dir / "2026-03-03" / "briefing.md").read_text("utf-8")
    assert "**New since the last edition:** 1 article" in markdown
    assert "**New:**" in markdown


def test_rerunning_an_edition_replaces_it(
    tmp_path: Path, make_backend_settings: SettingsFactory
) -> None:
    settings = make_backend_settings()
    monday, _ = _inputs(tmp_path)
    _run(settings, (monday,), day=DAY1)
    again = _run(settings, (monday,), day=DAY1, now=NOW + timedelta(hours=1))
    assert again.edition.number == 1
    folders = sorted(p.name for p in settings.output.dir.iterdir() if p.is_dir())
    assert folders == ["2026-03-02", "threads"]  # one edition folder (and the thread pages)
    with open_store(settings.store) as store:
        (row,) = Ledger(store).editions()
    assert (row.number, row.window_end) == (1, NOW + timedelta(hours=1))


def test_two_editions_on_one_day_get_two_folders(
    tmp_path: Path, make_backend_settings: SettingsFactory
) -> None:
    settings = make_backend_settings()
    monday, tuesday = _inputs(tmp_path)
    _run(settings, (monday,))
    second = _run(settings, (tuesday,), now=NOW + timedelta(hours=1))
    assert (second.edition.number, second.edition.slug) == (2, "2026-03-02-2")
    archive = (settings.output.dir / "archive.html").read_text("utf-8")
    assert 'href="2026-03-02-2/index.html"' in archive
    assert 'href="2026-03-02/index.html"' in archive
    front = (settings.output.dir / "index.html").read_text("utf-8")
    assert "No. 2" in front


def test_a_scheduled_slot_is_recorded_even_when_empty(
    tmp_path: Path, make_backend_settings: SettingsFactory
) -> None:
    settings = make_backend_settings()
    monday, _ = _inputs(tmp_path)
    slot1 = datetime(2026, 3, 2, 7, tzinfo=UTC)
    slot2 = slot1 + timedelta(days=1)
    first = _run(settings, (monday,), slot=slot1, now=slot1)
    assert (first.edition.number, first.edition.scheduled_for) == (1, slot1)
    empty = _run(settings, (monday,), slot=slot2, now=slot2)  # nothing new
    assert empty.outputs == ()
    assert (empty.edition.number, empty.edition.status) == (None, "empty")
    again = _run(settings, (monday,), slot=slot1, now=slot2 + timedelta(hours=1))
    assert again.edition.number == 1  # the slot's edition, re-run
    with open_store(settings.store) as store:
        ledger = Ledger(store)
        assert ledger.last_scheduled_for() == slot2
        assert [e.number for e in ledger.editions()] == [None, 1]


def test_a_store_from_before_editions_is_upgraded(
    tmp_path: Path, make_settings: SettingsFactory
) -> None:
    import sqlite3

    settings = make_settings()
    monday, _ = _inputs(tmp_path)
    _run(settings, (monday,), day=DAY1)
    step = MIGRATIONS.index(_migrate_1_to_2)  # the editions migration: undo it, redo it
    later = MIGRATIONS[step + 1 :]
    assert later == (
        _migrate_2_to_3,
        _migrate_3_to_4,
        _migrate_4_to_5,
        _migrate_5_to_6,
        _migrate_6_to_7,
        _migrate_7_to_8,  # new columns of sources, dropped above with the table
        _migrate_8_to_9,
        _migrate_9_to_10,  # minhash_bands moved into minhashes, dropped above with both
    ), "later migrations: undo them here too"
    db = sqlite3.connect(settings.store.path)
    db.executescript(
        "DROP TABLE editions; DROP TABLE outbox; DROP TABLE sources;"  # sources: 2 -> 3 (#3)
        " DROP INDEX articles_duplicate_of;"  # 3 -> 4 (#5)
        " ALTER TABLE articles DROP COLUMN dated;"  # 4 -> 5 (#14)
        " DROP TABLE thread_redirects; DROP TABLE thread_reasons; DROP TABLE threads_apart;"  # 5->6
        " DROP TABLE minhashes; DROP INDEX articles_run;"  # 6 -> 7 (minhash_bands: 9 -> 10)
        " DROP TABLE clustering_version;"  # 8 -> 9 (#15)
        f" PRAGMA user_version = {step};"
    )
    db.close()
    for page in settings.output.dir.glob("*/briefing.json"):  # as digest wrote it then (#13)
        doc = json.loads(page.read_text(encoding="utf-8"))
        page.write_text(json.dumps({**doc, "edition": None}), encoding="utf-8")
    with Store(settings.store.path) as store:
        assert store.version == SCHEMA_VERSION
        assert Ledger(store).editions() == ()
    report = _run(settings, (), day=DAY2, now=NOW + timedelta(days=1))
    assert report.edition.number == 1  # the first edition covers everything stored before
    assert report.edition.first_run == 1


def test_running_again_with_nothing_new_republishes_todays_edition(
    tmp_path: Path, make_settings: SettingsFactory
) -> None:
    settings = make_settings()
    monday, _ = _inputs(tmp_path)
    _run(settings, (monday,))
    again = _run(settings, (monday,), now=NOW + timedelta(minutes=5))
    assert again.new_articles == 0
    assert again.outputs  # republished, as a second run on the same day always was
    assert (again.edition.number, again.edition.last_run) == (1, 2)
    tomorrow = _run(settings, (monday,), now=NOW + timedelta(days=1))
    assert tomorrow.outputs == ()  # nothing new, and no edition dated that day
