"""Hostile stores (#13 items 4, 5, 10): a full disk (a small tmpfs, when we may mount one),
a store another program keeps locked, damaged pages, a zero-byte or deleted store under a
published site, and what killed runs leave behind. The real CLI runs as a subprocess: each
fault is one line naming the store and the cause, exit status 1, and nothing already
stored is lost."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.test_pipeline import BRIDGE, STRIKE_1, STRIKE_2, _jsonl

DAY1, DAY2 = "2026-03-02", "2026-03-03"


class Site:
    """A store and an output folder under ``root``, driven through the real CLI."""

    def __init__(self, root: Path, store: Path | None = None) -> None:
        self.root = root
        self.store = store or root / "var" / "digest.sqlite3"
        self.output = root / "output"

    def digest(
        self, *args: str, day: str = DAY1, hour: int = 22
    ) -> subprocess.CompletedProcess[str]:
        flags = [f"store.path='{self.store}'", f"output.dir='{self.output}'"]
        command = [sys.executable, "-m", "digest", *args]
        if args and args[0] == "run" and "--date" not in args:
            command += ["--date", day, "--now", f"{day}T{hour:02d}:00:00Z", "--quiet"]
        for flag in (*flags, "store.lock_wait_seconds=1"):
            command += ["--set", flag]
        return subprocess.run(
            command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False
        )

    def run(
        self, *inputs: Path, day: str = DAY1, hour: int = 22
    ) -> subprocess.CompletedProcess[str]:
        return self.digest("run", *map(str, inputs), day=day, hour=hour)

    def count(self, table: str = "articles") -> int:
        with contextlib.closing(sqlite3.connect(self.store)) as db:
            return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608


def _day1(root: Path) -> Path:
    return _jsonl(
        root / "in" / "day1.jsonl",
        {"title": "Velmora dockers walk out", "text": STRIKE_1, "outlet": "Harbour Times",
         "published": f"{DAY1}T08:00:00Z", "url": "https://harbour.example/strike"},
        {"title": "Trelleby opens Asker bridge", "text": BRIDGE, "outlet": "Coast Courier",
         "published": f"{DAY1}T10:00:00Z"},
    )  # fmt: skip


def _day2(root: Path) -> Path:
    return _jsonl(
        root / "in" / "day2.jsonl",
        {"title": "Velmora strike enters second day", "text": STRIKE_2,
         "outlet": "Harbour Times", "published": f"{DAY2}T08:00:00Z"},
    )  # fmt: skip


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The run failed with exit 1 and one line on stderr, no traceback."""
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


def _ok(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, (done.stdout, done.stderr)


def _integrity(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


# ── item 5: store faults are one line, exit 1, nothing stored lost ─────────────────────────


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs mounted at tmp_path/disk (we are root in CI); skipped otherwise."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` but ``leave`` bytes with one file; returns the file."""
    filler = disk / "filler"
    stat = os.statvfs(disk)
    with filler.open("wb") as fh:
        fh.write(b"\0" * max(0, stat.f_bavail * stat.f_frsize - leave))
    return filler


def _many(root: Path, n: int) -> Path:
    """``n`` articles of distinct words: a batch that needs far more room than is left."""
    rows = []
    for i in range(n):
        words = " ".join(f"word{i}x{j}" for j in range(60))
        rows.append(
            {"title": f"Report {i} on matter {i}", "text": f"Report {i}. {words}.",
             "outlet": f"Outlet {i % 7}", "published": f"{DAY2}T{i % 24:02d}:00:00Z"}
        )  # fmt: skip
    return _jsonl(root / "in" / "many.jsonl", *rows)


def test_a_full_disk_is_one_line_and_keeps_what_was_stored(
    tmp_path: Path, small_disk: Path
) -> None:
    site = Site(tmp_path, store=small_disk / "digest.sqlite3")
    _ok(site.run(_day1(tmp_path)))
    stored = site.count()
    filler = _fill(small_disk, leave=64 * 1024)
    line = _one_error_line(site.run(_many(tmp_path, 300), day=DAY2))
    assert line.startswith(f"Error: the store's disk is full: {site.store}: ")
    assert "database or disk is full" in line
    assert "(hint: free space on its disk" in line
    filler.unlink()
    assert _integrity(site.store) == "ok"
    assert site.count() == stored  # the failed batch rolled back, the first run's stays
    _ok(site.run(_many(tmp_path, 300), day=DAY2))  # with room again, the batch goes in
    assert site.count() == stored + 300


HOLD_LOCK = textwrap.dedent(
    """
    import sqlite3, sys, time
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO meta (key, value) VALUES ('held', 'yes')")
    print("locked", flush=True)
    time.sleep(60)
    """
)


def test_a_store_locked_by_another_program_is_one_line(tmp_path: Path) -> None:
    site = Site(tmp_path)
    _ok(site.run(_day1(tmp_path)))
    stored = site.count()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(site.store)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        line = _one_error_line(site.run(_day2(tmp_path), day=DAY2))
    finally:
        holder.kill()
        holder.communicate()
    assert line.startswith(f"Error: the store is locked by another program: {site.store}: ")
    assert "database is locked" in line
    assert site.count() == stored
    _ok(site.run(_day2(tmp_path), day=DAY2))  # once the lock is gone, the run goes through
    assert site.count() == stored + 1


def _damage(store: Path, *tables: str) -> tuple[int, ...]:
    """Overwrite the root pages of ``tables`` (and their indexes) with 0xFF bytes: the
    schema stays readable, so the store opens and fails when those pages are read."""
    with contextlib.closing(sqlite3.connect(store)) as db:
        page = int(db.execute("PRAGMA page_size").fetchone()[0])
        marks = ",".join("?" * len(tables))
        query = f"SELECT rootpage FROM sqlite_master WHERE tbl_name IN ({marks})"  # noqa: S608
        roots = tuple(sorted(int(r) for (r,) in db.execute(query, tables) if r))
    data = bytearray(store.read_bytes())
    for root in roots:
        data[(root - 1) * page : root * page] = b"\xff" * page
    store.write_bytes(bytes(data))
    return roots


def test_damaged_pages_are_one_line_and_the_rest_is_kept(tmp_path: Path) -> None:
    site = Site(tmp_path)
    _ok(site.run(_day1(tmp_path)))
    _damage(site.store, "articles", "seen_keys")
    line = _one_error_line(site.run(_day2(tmp_path), day=DAY2))
    assert line.startswith(f"Error: the store is damaged: {site.store}: ")
    assert "database disk image is malformed" in line
    assert "(hint: restore it from a backup" in line
    assert site.count("editions") == 1  # what the damage did not reach is still there
    status = site.digest("status")
    assert "Traceback" not in status.stderr


def test_a_zero_byte_store_is_refused_not_taken_for_a_new_one(tmp_path: Path) -> None:
    site = Site(tmp_path)
    _ok(site.run(_day1(tmp_path)))
    front = (site.output / "index.html").read_bytes()
    site.store.write_bytes(b"")  # emptied: a failed copy, a truncating editor
    line = _one_error_line(site.run(_day2(tmp_path), day=DAY2))
    assert line == (
        f"Error: the store file is empty (0 bytes): {site.store}"
        " (hint: restore it from a backup, or delete it to start a new store)"
    )
    assert site.store.stat().st_size == 0
    assert (site.output / "index.html").read_bytes() == front  # the site is untouched
    assert not (site.output / DAY2).exists()


# ── item 4: a site the store does not know is never published over ────────────────────────


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _numbers(output: Path) -> dict[str, int]:
    """Edition folder -> the number in its briefing.json."""
    return {
        p.parent.name: json.loads(p.read_text(encoding="utf-8"))["edition"]["number"]
        for p in output.glob("*/briefing.json")
    }


def test_a_deleted_store_is_refused_and_start_over_moves_the_old_site_aside(
    tmp_path: Path,
) -> None:
    site = Site(tmp_path)
    _ok(site.run(_day1(tmp_path)))
    _ok(site.run(_day2(tmp_path), day=DAY2))
    assert _numbers(site.output) == {DAY1: 1, DAY2: 2}
    before = _snapshot(site.output)
    site.store.unlink()  # lost: a new, empty store would start again at No. 1
    line = _one_error_line(site.run(_day2(tmp_path), day=DAY2, hour=23))
    assert line == (
        f"Error: refusing to publish: the output folder holds 2 editions (No. 1 {DAY1}/,"
        f" No. 2 {DAY2}/) that the store {site.store} does not know: {site.output}"
        " (hint: the store was lost, emptied or replaced: restore it from a backup, or run"
        " `digest run --start-over` to move the old site aside and start a new one)"
    )
    assert _snapshot(site.output) == before  # not a byte of the site changed
    assert site.count("runs") == 0  # refused before anything was ingested or stored
    assert site.count() == 0
    again = site.digest(
        "run", str(_day2(tmp_path)), "--start-over", "--date", DAY2, "--now", f"{DAY2}T23:00:00Z"
    )
    _ok(again)
    (aside,) = tmp_path.glob("output.replaced-*")
    assert aside.name == "output.replaced-20260303T230000Z"
    assert _snapshot(aside) == before  # the old site, whole, beside the new one
    assert _numbers(site.output) == {DAY2: 1}  # the new site starts at No. 1
    assert site.count() == 1


def test_start_over_changes_nothing_when_the_store_knows_the_site(tmp_path: Path) -> None:
    site = Site(tmp_path)
    _ok(site.run(_day1(tmp_path)))
    done = site.digest(
        "run", str(_day2(tmp_path)), "--start-over", "--date", DAY2, "--now", f"{DAY2}T22:00:00Z"
    )
    _ok(done)
    assert _numbers(site.output) == {DAY1: 1, DAY2: 2}
    assert not list(tmp_path.glob("output.replaced-*"))


KILLED_BEFORE_RECORDING = textwrap.dedent(
    """
    import os, sys
    from datetime import date, datetime
    from pathlib import Path
    from digest.config import load_settings
    from digest.ledger import Ledger
    from digest.pipeline import RunOptions, run_once
    from digest.store import Store

    settings = load_settings(None, environ={}, overrides=sys.argv[2:])
    # the process dies as it goes to record the edition it has just published (kill -9)
    Ledger.save = lambda self, edition: os._exit(9)
    now = datetime.fromisoformat("2026-03-02T22:00:00+00:00")
    options = RunOptions(day=date(2026, 3, 2), inputs=(Path(sys.argv[1]),))
    with Store(settings.store.path) as store:
        run_once(settings, now=now, store=store, options=options)
    """
)


def test_an_edition_a_killed_run_published_but_did_not_record_is_recorded_next_run(
    tmp_path: Path,
) -> None:
    site = Site(tmp_path)
    flags = [f"store.path='{site.store}'", f"output.dir='{site.output}'"]
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_BEFORE_RECORDING, str(_day1(tmp_path)), *flags],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == 9, killed.stderr
    assert _numbers(site.output) == {DAY1: 1}  # published, not in the ledger
    assert site.count("editions") == 0
    _ok(site.run(_day2(tmp_path), day=DAY2))  # the next day's run is not blocked ...
    assert _numbers(site.output) == {DAY1: 1, DAY2: 2}  # ... and No. 1 is not made twice
    with contextlib.closing(sqlite3.connect(site.store)) as db:
        rows = db.execute("SELECT number, slug, first_run, last_run FROM editions ORDER BY id")
        assert rows.fetchall() == [(1, DAY1, 1, 1), (2, DAY2, 2, 2)]
        runs = db.execute("SELECT id, status FROM runs ORDER BY id").fetchall()
    assert runs == [(1, "interrupted"), (2, "ok")]
    archive = (site.output / "archive.html").read_text(encoding="utf-8")
    assert f"{DAY1}/" in archive
    assert f"{DAY2}/" in archive


# ── item 10: what killed runs and full disks leave behind is cleaned up ──────────────────


def test_the_next_run_cleans_up_what_killed_runs_and_a_full_disk_left(tmp_path: Path) -> None:
    site = Site(tmp_path)
    _ok(site.run(_day1(tmp_path)))
    with contextlib.closing(sqlite3.connect(site.store)) as db:  # a run killed mid-ingest
        db.execute(
            "INSERT INTO runs (started, day) VALUES ('2026-03-02T23:00:00+00:00', ?)", (DAY1,)
        )
        db.commit()
    out = site.output
    litter = [
        out / ".favicon.svg.k2j4h5g6.tmp",  # killed in the middle of an atomic write
        out / DAY1 / ".index.html.a1b2c3d4.tmp",
        out / "threads" / ".x.tmp-not-ours",  # not one of our temp names: kept
    ]
    for path in litter:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("half", encoding="utf-8")
    (out / "2026-03-05").mkdir()  # a full disk: the folder made, no file in it
    (out / "2026-03-06").mkdir()  # killed before the JSON: the page only, linked from nowhere
    (out / "2026-03-06" / "index.html").write_text("<html>", encoding="utf-8")
    (out / "2026-03-07").mkdir()  # something else's: left alone
    (out / "2026-03-07" / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "threads" / "t-empty").mkdir()
    _ok(site.run(_day2(tmp_path), day=DAY2))
    assert not litter[0].exists()
    assert not litter[1].exists()
    assert litter[2].exists()
    assert not (out / "2026-03-05").exists()
    assert not (out / "2026-03-06").exists()
    assert (out / "2026-03-07" / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert not (out / "threads" / "t-empty").exists()
    assert (out / DAY1 / "briefing.json").exists()  # recorded editions are never touched
    with contextlib.closing(sqlite3.connect(site.store)) as db:
        statuses = [s for (s,) in db.execute("SELECT status FROM runs ORDER BY id")]
    assert statuses == ["ok", "interrupted", "ok"]
