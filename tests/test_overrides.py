"""Operator corrections to threads (config/threads.txt): every verb, applied on every run,
reported, surviving restarts; and `digest explain` / `digest threads` as a user runs them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from digest.config import Settings
from digest.models import RunReport
from digest.overrides import parse_overrides
from digest.pipeline import RunOptions, run_once
from digest.store import Store
from digest.threadstore import ThreadStore
from tests.test_cli import digest

DATA = Path(__file__).parent / "data" / "news-days" / "jsonl"


def _settings(make_settings: Any, tmp_path: Path) -> tuple[Settings, Path]:
    corrections = tmp_path / "threads.txt"
    return make_settings(f"cluster.overrides_file='{corrections}'"), corrections


def _run(settings: Settings, day: int = 1, *, inputs: bool = True) -> RunReport:
    when = datetime(2026, 5, 10 + day, 18, 5, tzinfo=UTC)
    options = RunOptions(
        day=date(2026, 5, 10 + day), inputs=(DATA / f"day{day}.jsonl",) if inputs else ()
    )
    with Store(settings.store.path) as store:
        return run_once(settings, now=when, store=store, options=options)


def _article(settings: Settings, title_start: str) -> tuple[str, str]:
    """(article id, thread id) of the stored article whose title starts so."""
    with Store(settings.store.path) as store:
        row = store.db.execute(
            "SELECT id, thread_id FROM articles WHERE title LIKE ? AND duplicate_of IS NULL",
            (title_start + "%",),
        ).fetchone()
    return row[0], row[1]


def _threads(settings: Settings) -> list[dict[str, Any]]:
    doc = json.loads(next(settings.output.dir.glob("2026-05-1*/briefing.json")).read_text())
    return doc["threads"]


ENVOY = "Nishara's envoy leaves Corran"
FLOODS = "Flash floods tear through"
CALL = "Volkov tells Halloway"


def test_parse_reports_every_bad_line_and_keeps_the_good_ones() -> None:
    text = "# comment\nmerge t1 t2  # why\nsplt t1 a\nmove a\npin t9\n\nmute\n"
    parsed = parse_overrides(text, "config/threads.txt")
    assert [(o.line, o.verb, o.args) for o in parsed.items] == [
        (2, "merge", ("t1", "t2")),
        (5, "pin", ("t9",)),
    ]
    assert parsed.problems == (
        "config/threads.txt:3: unknown correction 'splt' (expected one of merge, split, move,"
        " pin, mute)",
        "config/threads.txt:4: move takes ARTICLE THREAD",
        "config/threads.txt:7: mute takes THREAD",
    )


def _biggest_thread(settings: Settings) -> tuple[str, list[str]]:
    with Store(settings.store.path) as store:
        rows = store.db.execute(
            "SELECT thread_id, id FROM articles WHERE duplicate_of IS NULL ORDER BY published, id"
        ).fetchall()
    members: dict[str, list[str]] = {}
    for thread, article in rows:
        members.setdefault(thread, []).append(article)
    thread = max(members, key=lambda t: (len(members[t]), t))
    return thread, members[thread]


def test_split_parts_a_thread_and_clustering_never_joins_them_again(
    make_settings: Any, tmp_path: Path
) -> None:
    settings, corrections = _settings(make_settings, tmp_path)
    _run(settings)
    thread, members = _biggest_thread(settings)
    assert len(members) >= 3
    leaving = members[-1]
    corrections.write_text(f"split {thread} {leaving}\n", encoding="utf-8")
    (line,) = _run(settings, inputs=False).overrides
    assert line.startswith(f"override line 1: split {thread} {leaving}: 1 articles left {thread}")
    with Store(settings.store.path) as store:
        (new_thread,) = store.db.execute(
            "SELECT thread_id FROM articles WHERE id = ?", (leaving,)
        ).fetchone()
    assert new_thread != thread
    assert _run(settings, inputs=False).overrides == (
        f"override line 1: split {thread} {leaving}: already in effect",
    )
    _run(settings, day=2)  # the story goes on: the two stay apart through later runs
    with Store(settings.store.path) as store:
        book = ThreadStore(store)
        assert frozenset({thread, new_thread}) in book.kept_apart()
        assert book.resolve(new_thread) == new_thread
        assert book.resolve(thread) == thread
        rows = store.db.execute(
            "SELECT COUNT(*) FROM articles WHERE thread_id IN (?, ?) GROUP BY thread_id",
            (thread, new_thread),
        ).fetchall()
    assert len(rows) == 2


def test_merge_joins_threads_and_the_old_id_redirects(make_settings: Any, tmp_path: Path) -> None:
    settings, corrections = _settings(make_settings, tmp_path)
    _run(settings)
    _, floods = _article(settings, FLOODS)
    _, call = _article(settings, CALL)
    corrections.write_text(f"merge {floods} {call}\n", encoding="utf-8")
    report = _run(settings, inputs=False)
    assert report.overrides == (
        f"override line 1: merge {floods} {call}: merged {call} into {floods}",
    )
    assert _article(settings, CALL)[1] == floods
    with Store(settings.store.path) as store:
        assert ThreadStore(store).resolve(call) == floods
    (merged,) = [t for t in _threads(settings) if t["id"] == floods]
    assert merged["why"]["merged_from"] == [call]
    moved = settings.output.dir / "threads" / call / "index.html"  # readers' old link
    page = moved.read_text(encoding="utf-8")
    assert '<meta http-equiv="refresh"' in page
    assert f"threads/{floods}/index.html" in page
    again = _run(settings, inputs=False)  # the file stays; a restart changes nothing
    assert again.overrides[0].endswith("already in effect")


def test_move_pin_and_mute(make_settings: Any, tmp_path: Path) -> None:
    settings, corrections = _settings(make_settings, tmp_path)
    _run(settings)
    envoy, _ = _article(settings, ENVOY)
    _, floods = _article(settings, FLOODS)
    _, call = _article(settings, CALL)
    corrections.write_text(
        f"move {envoy} {floods}\npin {floods}\nmute {call}\nmute t000000000000\n", encoding="utf-8"
    )
    report = _run(settings, inputs=False)
    assert report.overrides[0].startswith(f"override line 1: move {envoy} {floods}: moved from")
    assert report.overrides[1:] == (
        f"override line 2: pin {floods}: pinned {floods}",
        f"override line 3: mute {call}: muted {call}",
        "override line 4: mute t000000000000: skipped: no thread t000000000000",
    )
    assert _article(settings, ENVOY)[1] == floods
    threads = _threads(settings)
    assert threads[0]["id"] == floods  # pinned: first, though it is not the biggest story
    assert call not in {t["id"] for t in threads}  # muted
    assert threads[0]["why"]["articles"][envoy]["via"] == "override"


def test_explain_and_threads_from_the_command_line(tmp_path: Path) -> None:
    store, site = tmp_path / "db.sqlite3", tmp_path / "site"
    common = ["--db", str(store), "--output", str(site)]
    ran = digest("run", str(DATA / "day1.jsonl"), "--now", "2026-05-11T18:05:00Z", *common)
    assert ran.returncode == 0, ran.stderr
    listed = digest("threads", "--now", "2026-05-11T18:05:00Z", *common)
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split()[:4] == ["thread", "updated", "articles", "outlets"]
    floods = next(r.split()[0] for r in rows if "Flash floods" in r or "Kerran" in r)
    explained = digest("explain", floods, *common)
    assert explained.returncode == 0, explained.stderr
    out = explained.stdout
    assert out.startswith(f"thread {floods}: ")
    assert "started the thread" in out
    assert "joined its core at" in out or "attached to it at" in out
    assert "terms: " in out
    assert "event day Mon 11 May" in out
    unknown = digest("explain", "t000000000000", *common)
    assert unknown.returncode == 1
    assert "no such thread" in unknown.stderr
