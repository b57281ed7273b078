"""An operator's digest, through the real CLI (#12): first-time set-up and config discovery,
one site per store, one writer per store, cron-friendly output, logs that mean something."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.corpus import articles as generated_articles
from tests.conftest import REPO
from tests.test_cli import digest
from tests.test_daemon import daemons, stop, wait_for_log, write_config  # noqa: F401
from tests.test_pipeline import BRIDGE, STRIKE_1

SAMPLES = REPO / "samples" / "dumps"


def _jsonl(folder: Path, name: str, *items: tuple[str, str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps({"title": t, "text": text, "outlet": "Harbour Times", "published": when})
        for t, text, when in items
    ]
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _xdg(tmp_path: Path) -> dict[str, str]:
    return {
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
        "DIGEST_CONFIG": "",
    }


# ── digest init and config discovery (problem 2) ─────────────────────────────────────────


def test_init_writes_a_commented_installation_found_from_any_folder(tmp_path):
    env = _xdg(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    init = digest("init", cwd=elsewhere, env=env)
    assert init.returncode == 0, init.stderr
    home = tmp_path / "xdg-config" / "digest"
    config = (home / "digest.toml").read_text(encoding="utf-8")
    assert 'dump_dirs = ["dumps"]' in config
    assert 'path = "var/digest.sqlite3"' in config
    assert "# near_threshold: " in config  # every setting, commented
    assert (home / ".env.example").read_text(encoding="utf-8").count("DIGEST_EMAIL__PASSWORD=")
    assert (home / "dumps").is_dir()
    assert "next: add feeds as [[sources]]" in init.stdout
    assert "--config" not in init.stdout  # found without it
    again = digest("init", cwd=elsewhere, env=env)
    assert again.returncode == 2
    assert again.stderr.strip().endswith("already exists (--force replaces it)")

    _jsonl(
        home / "dumps", "news.jsonl", ("Velmora dockers walk out", STRIKE_1, "2026-03-02T08:00Z")
    )
    (home / ".env").write_text("DIGEST_OUTPUT__TITLE=Harbour brief\n", encoding="utf-8")
    run = digest("run", cwd=elsewhere, env=env)
    assert run.returncode == 0, run.stderr
    assert (home / "output" / "index.html").is_file()  # relative to the config file
    assert (home / "var" / "digest.sqlite3").is_file()
    assert not any(elsewhere.iterdir())  # nothing written where it ran
    shown = digest("config", cwd=elsewhere, env=env).stdout
    assert f"# config file: {home / 'digest.toml'}" in shown
    assert "output.title = 'Harbour brief'  [env]" in shown  # the .env beside the config


def test_config_discovery_order(tmp_path):
    env = _xdg(tmp_path)
    assert digest("init", env=env).returncode == 0
    project = tmp_path / "project"
    (project / "config").mkdir(parents=True)
    (project / "config" / "digest.toml").write_text('[output]\ntitle = "Local"\n')
    named = tmp_path / "named.toml"
    named.write_text('[output]\ntitle = "Named"\n')
    flag = tmp_path / "flag.toml"
    flag.write_text('[output]\ntitle = "Flag"\n')

    def title(cwd: Path, **extra: str) -> str:
        result = digest("config", cwd=cwd, env={**env, **extra})
        assert result.returncode == 0, result.stderr
        return next(line for line in result.stdout.splitlines() if line.startswith("output.title"))

    assert "'Daily briefing'  [file]" in title(tmp_path)  # $XDG_CONFIG_HOME/digest/digest.toml
    assert "'Local'" in title(project)  # ./config/digest.toml before it
    assert "'Named'" in title(project, DIGEST_CONFIG=str(named))  # $DIGEST_CONFIG before that
    result = digest("config", "--config", str(flag), cwd=project, env={"DIGEST_CONFIG": str(named)})
    assert "output.title = 'Flag'" in result.stdout  # --config first
    missing = digest("config", cwd=project, env={"DIGEST_CONFIG": str(tmp_path / "nope.toml")})
    assert missing.returncode == 2
    assert "nope.toml: config file not found" in missing.stderr


# ── one site per store, one writer per store (problem 4) ────────────────────────────────


def test_output_without_db_is_a_new_site_with_a_store_of_its_own(tmp_path):
    env = _xdg(tmp_path)
    config = write_config(tmp_path, "0 7 1 1 *")
    first = digest("run", "--config", str(config), env=env)
    assert "edition No. 1 (" in first.stdout, first.stderr
    other = tmp_path / "other-site"
    second = digest("run", str(SAMPLES), "--config", str(config), "--output", str(other), env=env)
    assert second.returncode == 0, second.stderr
    assert "edition No. 1 (" in second.stdout  # a new site starts at No. 1
    assert (other / "index.html").is_file()
    _jsonl(
        tmp_path / "in", "more.jsonl", ("Bridge closes for repairs", BRIDGE, "2026-03-02T09:00Z")
    )
    third = digest("run", "--config", str(config), env=env)
    assert "edition No. 2 (" in third.stdout  # and the main site goes on from No. 1 to No. 2
    same = digest("run", "--config", str(config), "--output", str(tmp_path / "out"), env=env)
    assert "edition No. 2 (" in same.stdout  # --output naming the configured site: its store


LOCK_HOLDER = """
import sys, time
from pathlib import Path
from digest.locks import StoreLock
with StoreLock(Path(sys.argv[1]), "digest daemon, edition for 2026-03-02 07:00", wait_seconds=0):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _hold_lock(store: Path, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(store), str(seconds)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_run_waits_for_the_writer_holding_the_store_or_names_it(tmp_path, daemons):  # noqa: F811
    config = write_config(tmp_path, "*/2 * * * * *")
    store = tmp_path / "var" / "digest.sqlite3"
    holder = _hold_lock(store, 60)
    try:
        busy = digest("run", "--config", str(config), "--set", "store.lock_wait_seconds=0.5")
        assert busy.returncode == 1
        (line,) = busy.stderr.splitlines()
        assert line.startswith(f"Error: the store is in use by pid {holder.pid} (digest daemon,")
        assert "gave up after 0.5 s" in line
        assert line.endswith(str(store))
        daemon = daemons(config, "--set", "store.lock_wait_seconds=0.2")
        log = wait_for_log(config, "failed: the store is in use by pid")
        assert "edition No." not in log  # the scheduled run did not write either
        assert stop(daemon)[0] == 0
    finally:
        holder.kill()
        holder.communicate()
    holder = _hold_lock(store, 60)
    run = subprocess.Popen(
        [sys.executable, "-m", "digest", "run", "--config", str(config), "-v"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert run.stderr is not None
    first = ""  # the run says it waits, however slowly it started
    while "waiting for" not in first and (line := run.stderr.readline()):
        first += line
    assert "waiting for" in first
    holder.kill()  # the lock is the holder's: free once it is gone
    holder.communicate()
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0, first + err
    assert "edition No. 1 (" in out


# ── cron conventions and logs (problem 3) ───────────────────────────────────────────────


def test_quiet_prints_only_the_inputs_that_failed_and_exit_1_when_all_did(tmp_path):
    inputs = tmp_path / "in"
    _jsonl(inputs, "good.jsonl", ("Velmora dockers walk out", STRIKE_1, "2026-03-02T08:00Z"))
    (inputs / "bad.json").write_text("{not json", encoding="utf-8")
    args = ["--db", str(tmp_path / "s.sqlite3"), "--output", str(tmp_path / "site"), "-q"]
    result = digest("run", str(inputs), *args)
    assert result.returncode == 0
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ")
    assert "bad.json" in line
    assert "invalid JSON" in line
    failed = digest("run", str(inputs / "bad.json"), *args)
    assert failed.returncode == 1
    assert failed.stderr.splitlines()[-1] == "Error: no input could be read (1 failed)"


def _big_dump(tmp_path: Path, n: int = 1500) -> Path:
    path = tmp_path / "big" / "news.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = (json.dumps(a) for a in generated_articles(n))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_verbosity_levels_json_logs_and_periodic_progress(tmp_path):
    dump = _big_dump(tmp_path)
    base = ["run", str(dump), "--db", str(tmp_path / "s.sqlite3"), "--output", str(tmp_path / "o")]
    one = digest(*base, "-v", "--set", "log.progress_seconds=0.05")
    assert one.returncode == 0, one.stderr
    for name in ("ingest", "normalize", "dedupe", "cluster", "summarise", "publish"):
        assert f"INFO digest.progress: {name}: done, " in one.stderr
    assert "running, " in one.stderr  # periodic lines while a stage runs
    assert " DEBUG " not in one.stderr
    (tmp_path / "s.sqlite3").unlink()
    shutil.rmtree(tmp_path / "o")  # a new store publishes a new site (#13: never over one)
    two = digest(*base, "-vv", "--log-format", "json")
    records = [json.loads(line) for line in two.stderr.splitlines()]
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert any(r["level"] == "DEBUG" and r["logger"].startswith("digest.") for r in records)
    progress = [r for r in records if r.get("stage") == "cluster"]
    assert progress
    assert progress[-1]["done"] == progress[-1]["total"] > 1000


def test_a_terminal_gets_a_progress_bar(tmp_path):
    dump = _big_dump(tmp_path, 300)
    leader, follower = pty.openpty()
    args = ["run", str(dump), "--db", str(tmp_path / "s.sqlite3"), "--output", str(tmp_path / "o")]
    process = subprocess.Popen(
        [sys.executable, "-m", "digest", *args],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env={**os.environ, "COLUMNS": "100"},
    )
    os.close(follower)
    drawn = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    assert process.wait(timeout=120) == 0
    text = drawn.decode(errors="replace")
    assert "normalize" in text
    assert "100%" in text


# ── operator and reader apart (problem 5) ────────────────────────────────────────────────


def test_a_folder_s_readme_is_not_a_story_and_readers_get_no_paths_or_errors(tmp_path):
    site = tmp_path / "site"
    store = ["--db", str(tmp_path / "s.sqlite3"), "--output", str(site)]
    result = digest("run", "samples", "--date", "2026-03-02", *store)
    assert result.returncode == 0, result.stderr
    assert "not read (README*, LICENSE*, hidden files): samples/README.md" in result.stdout
    assert "samples/README.md" not in [line.split()[0] for line in result.stdout.splitlines()]
    published = (site / "2026-03-02" / "briefing.json").read_text(encoding="utf-8")
    doc = json.loads(published)
    assert "Bundled sample data" not in [t["headline"] for t in doc["threads"]]
    assert str(REPO) not in published
    assert all("/" not in s["name"] and "error" not in s for s in doc["sources"])
    failed = [s["name"] for s in doc["sources"] if s["status"] == "error"]
    assert failed == ["events.json"]  # not an article dump: its name only, for readers
    page = (site / "2026-03-02" / "index.html").read_text(encoding="utf-8")
    assert "1 source could not be read today: events.json." in page
    assert "missing" not in page
    status = digest("status", *store)
    assert "1 of " in status.stdout
    assert "  samples/events.json: missing title and text" in status.stdout  # for the operator
    sources = digest("sources", *store)
    assert "inputs that failed in the last run:" in sources.stdout
    assert "samples/events.json: missing title and text" in sources.stdout


# ── the feed of editions, by the standard (problem 6) ───────────────────────────────────


def _atom_problems(xml: bytes) -> list[str]:
    """RFC 4287's must-haves, checked on the element tree (a schema-level check)."""
    from lxml import etree

    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = etree.fromstring(xml)  # our own output
    problems = []
    for where, node, required in [("feed", root, ("id", "title", "updated"))] + [
        (f"entry {i}", e, ("id", "title", "updated", "published", "content"))
        for i, e in enumerate(root.findall("a:entry", ns))
    ]:
        problems += [
            f"{where}: {len(node.findall(f'a:{n}', ns))} <{n}>"
            for n in required
            if len(node.findall(f"a:{n}", ns)) != 1
        ]
        if not node.findall("a:link[@rel='alternate']", ns):
            problems.append(f"{where}: no alternate link")
    if not root.findall("a:author", ns):
        problems.append("feed: no author")
    ids = [i.text for i in root.iter("{http://www.w3.org/2005/Atom}id")]
    problems += [f"duplicate id {i}" for i in set(ids) if ids.count(i) > 1]
    return problems


def test_the_feed_has_ids_unique_to_the_site_absolute_links_and_dates(tmp_path):
    import feedparser

    config = write_config(tmp_path, "0 7 1 1 *")
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("[output]\n", '[output]\nsite_url = "https://news.example.org/brief"\n'),
        encoding="utf-8",
    )
    assert digest("run", "--config", str(config)).returncode == 0
    bridge = ("Bridge closes for repairs", BRIDGE, "2026-03-02T09:00Z")
    _jsonl(tmp_path / "in", "more.jsonl", bridge)
    second = digest("run", "--config", str(config))
    assert "edition No. 2 (" in second.stdout, second.stderr
    xml = (tmp_path / "out" / "feed.xml").read_bytes()
    assert _atom_problems(xml) == []
    feed = feedparser.parse(xml)
    assert not feed.bozo
    (created,) = {e.id.split(",")[1].split(":")[0] for e in feed.entries}
    assert feed.feed.id == f"tag:news.example.org,{created}:/brief/"
    assert feed.feed.link == "https://news.example.org/brief/"
    folders = [Path(e.link).name for e in feed.entries]
    assert [e.id for e in feed.entries] == [f"{feed.feed.id}{f}/" for f in folders]
    assert [e.link for e in feed.entries] == [
        f"https://news.example.org/brief/{f}/" for f in folders
    ]
    for entry in feed.entries:
        assert entry.published_parsed
        assert entry.updated_parsed
    content = feed.entries[-1].content[0].value  # No. 1: the strike
    assert "<h3>Velmora dockers walk out</h3>" in content
    assert STRIKE_1.split(". ")[0] in content


def test_feed_ids_differ_between_installations_and_stay_across_runs(tmp_path):
    import feedparser

    def feed_id(name: str) -> str:
        site = tmp_path / name
        store = ["--db", str(tmp_path / f"{name}.sqlite3"), "--output", str(site)]
        assert digest("run", str(SAMPLES), "--date", "2026-03-02", *store).returncode == 0
        return str(feedparser.parse((site / "feed.xml").read_bytes()).feed.id)

    first = feed_id("a")
    assert first.startswith("urn:uuid:")
    assert feed_id("a") == first  # a re-run keeps it
    assert feed_id("b") != first  # another installation has its own


# ── dates a reader trusts (problem 7) ───────────────────────────────────────────────────


def test_the_edition_speaks_of_its_news_in_the_site_zone(tmp_path):
    site = tmp_path / "site"
    store = ["--db", str(tmp_path / "s.sqlite3"), "--output", str(site)]
    zone = ["--set", "output.timezone=Europe/Berlin"]
    result = digest("run", str(SAMPLES), "--date", "2025-07-04", *zone, *store)
    assert result.returncode == 0, result.stderr
    page = (site / "2025-07-04" / "index.html").read_text(encoding="utf-8")
    assert "Friday 4 July 2025" in page
    assert "News published on 2 March 2026 between 10:00 and 21:30 (Europe/Berlin)" in page
    assert "stored" not in page
    archive = (site / "archive.html").read_text(encoding="utf-8")
    footer = archive[archive.index('<p class="generated">') :]
    assert "(Europe/Berlin)" in footer
    assert "UTC" not in footer


def test_the_sample_run_is_dated_and_titled_as_what_it_is(tmp_path):
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    line = next(x for x in makefile.splitlines() if x.startswith("SAMPLE_RUN :="))
    import shlex

    args = shlex.split(line.partition(":=")[2])
    site = tmp_path / "site"
    store = ["--db", str(tmp_path / "s.sqlite3"), "--output", str(site)]
    assert digest(*args, *store).returncode == 0
    page = (site / "index.html").read_text(encoding="utf-8")
    assert "<h1>Sample briefing (bundled fictional news)</h1>" in page
    assert "Monday 2 March 2026" in page
    assert "News published on 2 Mar between " in page
