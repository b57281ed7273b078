"""archive.json: the archive in JSON and the index that spares a run reading every edition's
document (#16). The site it gives is the one a full read gives; an index that is missing,
broken or stale is read around, never trusted."""

from __future__ import annotations

import json
import logging
import os
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from digest.archive import ARCHIVE_JSON, outline
from digest.document import archive_entry_from_dict
from digest.history import edition_ref
from digest.models import Briefing, SourceRef, SummarySentence, ThreadSummary
from digest.publish import publish, read_archive
from digest.render import make_environment, render

START = date(2026, 3, 1)


def _briefing(day: date, thread_ids: list[str], *, title: str = "") -> Briefing:
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    threads = tuple(
        ThreadSummary(
            thread_id=tid,
            headline=f"{title}Story {tid} on {day}",
            status="new",
            sentences=(SummarySentence(text=f"Story {tid} went on.", outlets=("Valley Times",)),),
            quotes=(),
            sources=(
                SourceRef(
                    outlet="Valley Times",
                    title=f"Story {tid}",
                    url=f"https://valley.example/{tid}/{day}",
                    published=noon,
                ),
            ),
            first_seen=noon,
            last_updated=noon,
        )
        for tid in thread_ids
    )
    return Briefing(day=day, generated_at=noon, timezone="UTC", threads=threads)


@pytest.fixture(scope="module")
def env():
    return make_environment()


def _publish(env, out: Path, briefing: Briefing) -> None:
    publish(render(env, briefing), briefing, out, env=env)


def _days(env, out: Path, n: int, *, forget_index: bool = False) -> None:
    """``n`` daily editions; a thread runs three days (each day's editions show it)."""
    for k in range(n):
        if forget_index:
            (out / ARCHIVE_JSON).unlink(missing_ok=True)
        day = START + timedelta(days=k)
        _publish(env, out, _briefing(day, [f"t{j}" for j in range(max(0, k - 2), k + 1)]))


def _site(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): p.read_text(encoding="utf-8")
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != ARCHIVE_JSON
    }


def test_the_site_is_the_one_a_full_read_of_every_edition_gives(env, tmp_path):
    _days(env, tmp_path / "indexed", 9)
    _days(env, tmp_path / "full", 9, forget_index=True)
    indexed, full = _site(tmp_path / "indexed"), _site(tmp_path / "full")
    assert indexed == full
    assert "threads/t4/index.html" in indexed  # thread pages with their history, too
    assert read_archive(tmp_path / "indexed") == read_archive(tmp_path / "full")


def test_an_outline_gives_what_the_whole_document_gives(env, tmp_path):
    _days(env, tmp_path, 4)
    second = _briefing(START + timedelta(days=3), ["t9"], title="Later: ")
    _publish(env, tmp_path, second)  # (the day's folder again)
    for path in tmp_path.glob("*/briefing.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        entry = archive_entry_from_dict(doc)
        short = outline(doc, entry.article_count)
        assert archive_entry_from_dict(short) == entry
        assert edition_ref(short) == edition_ref(doc)
        assert outline(short, entry.article_count) == short
    index = json.loads((tmp_path / ARCHIVE_JSON).read_text(encoding="utf-8"))
    assert [e["folder"] for e in index["editions"]] == [
        "2026-03-04",
        "2026-03-03",
        "2026-03-02",
        "2026-03-01",
    ]
    assert index["editions"][0]["document"]["threads"][0]["headline"].startswith("Later: ")


def test_a_run_reads_only_the_editions_that_showed_its_threads(env, tmp_path, monkeypatch):
    _days(env, tmp_path, 12)
    read: list[str] = []
    real = Path.read_bytes

    def spy(self: Path) -> bytes:
        if self.name == "briefing.json":
            read.append(self.parent.name)
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", spy)
    day = START + timedelta(days=12)
    _publish(env, tmp_path, _briefing(day, ["t10", "t11", "t12"]))
    # t10 and t11 were shown in the last two editions (of 12): those, not the ten before
    assert sorted(read) == ["2026-03-11", "2026-03-12"]
    page = (tmp_path / "threads" / "t10" / "index.html").read_text(encoding="utf-8")
    for shown in ("2026-03-11", "2026-03-12", "2026-03-13"):
        assert shown in page  # its story, edition by edition


def test_a_missing_or_broken_index_is_read_around(env, tmp_path, caplog):
    _days(env, tmp_path, 5)
    archive = (tmp_path / "archive.html").read_text(encoding="utf-8")
    (tmp_path / ARCHIVE_JSON).unlink()
    assert [e.day for e in read_archive(tmp_path)][-1] == START
    (tmp_path / ARCHIVE_JSON).write_text('{"version": 1, "editions": "none"}', "utf-8")
    with caplog.at_level(logging.WARNING, logger="digest.archive"):
        assert len(read_archive(tmp_path)) == 5
    assert "archive.json is not used" in caplog.text
    (tmp_path / ARCHIVE_JSON).write_text("{not json", encoding="utf-8")
    _publish(env, tmp_path, _briefing(START + timedelta(days=4), ["t2", "t3", "t4"]))
    assert (tmp_path / "archive.html").read_text(encoding="utf-8") == archive
    assert json.loads((tmp_path / ARCHIVE_JSON).read_text(encoding="utf-8"))["version"] == 1


def test_an_edition_changed_or_removed_after_the_index_is_read_again(env, tmp_path):
    _days(env, tmp_path, 4)
    path = tmp_path / "2026-03-02" / "briefing.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["threads"][0]["headline"] = "Corrected by hand"
    path.write_text(json.dumps(doc), encoding="utf-8")
    later = (tmp_path / ARCHIVE_JSON).stat().st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(later, later))  # (the same second as the index on a fast machine)
    shutil.rmtree(tmp_path / "2026-03-03")
    entries = {e.day: e for e in read_archive(tmp_path)}
    assert entries[date(2026, 3, 2)].headlines[0] == "Corrected by hand"
    assert date(2026, 3, 3) not in entries
