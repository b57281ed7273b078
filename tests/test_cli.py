"""The real CLI as a subprocess: output lines, exit codes, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def digest(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "digest", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


def _store_args(tmp_path: Path) -> list[str]:
    return ["--db", str(tmp_path / "digest.sqlite3"), "--output", str(tmp_path / "site")]


def test_run_on_samples_then_again(tmp_path: Path) -> None:
    args = [
        "run",
        "samples/dumps",
        "--date",
        "2026-03-02",
        "--now",
        "2026-03-02T22:00:00Z",
        *_store_args(tmp_path),
    ]
    first = digest(*args)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    inputs = [line for line in lines if line.startswith("samples/dumps/")]
    assert inputs
    assert all("  new  " in line or "  seen " in line for line in inputs)
    assert any(
        line.startswith("wrote ") and line.endswith("2026-03-02/briefing.md") for line in lines
    )
    assert (tmp_path / "site" / "index.html").exists()
    again = digest(*args)
    assert again.returncode == 0, again.stderr
    assert "0 new articles" in again.stdout
    assert all(
        "  seen " in line for line in again.stdout.splitlines() if line.startswith("samples/")
    )


def test_nothing_new_exits_0_says_so_on_stdout_and_quiet_says_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    args = ["run", str(empty), "--date", "2026-03-03", *_store_args(tmp_path)]
    result = digest(*args)
    assert (result.returncode, result.stderr) == (0, "")
    assert "nothing new for 2026-03-03: no edition published" in result.stdout
    quiet = digest(*args, "--quiet")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


def test_bad_config_value_exits_2_with_one_line_naming_the_key(tmp_path: Path) -> None:
    result = digest("run", "--set", "cluster.similarity_threshold=7", *_store_args(tmp_path))
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert errors == [
        "Error: --set: [cluster].similarity_threshold: expected a number in 0..1, got 7"
    ]


def test_env_overrides_file_and_flag_overrides_env(tmp_path: Path) -> None:
    env = {"DIGEST_OUTPUT__TITLE": "Env title", "DIGEST_OUTPUT__TIMEZONE": "Europe/Berlin"}
    result = digest("config", "--set", "output.title='Flag title'", env=env)
    assert result.returncode == 0, result.stderr
    assert "output.title = 'Flag title'  [flag]" in result.stdout
    assert "output.timezone = 'Europe/Berlin'  [env]" in result.stdout
    assert "cluster.similarity_threshold = 0.18  [file]" in result.stdout


def test_bad_date_is_a_usage_error() -> None:
    result = digest("run", "--date", "yesterday")
    assert result.returncode == 2
    assert "--date" in result.stderr


def test_help_does_not_import_the_stages() -> None:
    """`digest --help` (and a command's --help) loads neither trafilatura, httpx nor numpy:
    the commands import the stages they run (0.8 s of imports before #16)."""
    code = (
        "import sys, runpy\n"
        "for argv in (['digest', '--help'], ['digest', 'run', '--help']):\n"
        "    sys.argv = argv\n"
        "    try:\n"
        "        runpy.run_module('digest', run_name='__main__')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ('trafilatura', 'httpx', 'numpy', 'lxml', 'feedparser', 'jinja2')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert "Usage: digest" in out.stdout
    assert out.stderr.strip() == "[]"
