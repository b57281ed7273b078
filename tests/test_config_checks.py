"""Config validation (#13 item 9): every setting's type and range, templates, the schedule,
rules between settings and secrets on the command line; one line per key naming where the
value came from, through ``load_settings`` and the real CLI."""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
import typing
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from digest.config import Settings, load_settings
from digest.errors import ConfigError
from digest.schedule import make_trigger
from tests.conftest import REPO


def _schema() -> Iterator[tuple[str, dataclasses.Field[Any], Any]]:
    """(section.key, field, type) for every setting, walked from the Settings dataclass."""
    sections = typing.get_type_hints(Settings)
    for section in dataclasses.fields(Settings):
        cls = sections[section.name]
        if not dataclasses.is_dataclass(cls):
            continue
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            yield f"{section.name}.{f.name}", f, hints[f.name]


NUMBERS = [(key, f, hint) for key, f, hint in _schema() if hint in (int, float)]
FLOATS = [key for key, _, hint in NUMBERS if hint is float]


def _problems(path: Path | None = None, **kwargs: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ=kwargs.pop("environ", {}), **kwargs)
    return list(caught.value.problems)


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _shown(key: str) -> str:
    section, name = key.split(".")
    return f"[{section}].{name}"


# ── every key ─────────────────────────────────────────────────────────────────────────────


def test_every_number_declares_a_range_that_holds_its_default() -> None:
    assert len(NUMBERS) >= 34  # the walk found the whole schema
    for key, f, _ in NUMBERS:
        low, high = f.metadata.get("min"), f.metadata.get("max")
        assert low is not None, f"{key} declares no min in its field metadata"
        assert high is not None, f"{key} declares no max in its field metadata"
        assert low <= f.default <= high, f"{key}: default {f.default} outside {low}..{high}"


def test_every_number_past_its_range_is_refused_one_line_per_key() -> None:
    flags = []
    for key, f, hint in NUMBERS:
        high = f.metadata.get("max", 1e9)
        flags.append(f"{key}={hint(high) + 1}")
    problems = _problems(overrides=flags)
    assert len(problems) == len(NUMBERS)
    for (key, _, _), line in zip(NUMBERS, problems, strict=True):
        assert line.startswith(f"--set: {_shown(key)}: expected a number in "), line


def test_every_float_refuses_nan_and_infinity() -> None:
    environ = {f"DIGEST_{k.replace('.', '__').upper()}": "nan" for k in FLOATS}
    problems = _problems(environ=environ)
    assert problems == [
        f"environment: {_shown(k)}: expected a finite number, got nan" for k in FLOATS
    ]
    problems = _problems(overrides=[f"{k}=-inf" for k in FLOATS])
    assert problems == [f"--set: {_shown(k)}: expected a finite number, got -inf" for k in FLOATS]


def test_a_new_setting_is_checked_by_what_its_field_declares() -> None:
    from digest.config_checks import check_value, setting

    @dataclasses.dataclass(frozen=True)
    class Future:
        ratio: float = setting("a future ratio", 0.5, min=0, max=1)
        mode: str = setting("a future mode", "a", choices=("a", "b"))

    ratio, mode = dataclasses.fields(Future)
    check_value(ratio.metadata, 0.25)
    for bad in (1.5, -0.1, math.nan):
        with pytest.raises(ValueError, match="expected a"):
            check_value(ratio.metadata, bad)
    with pytest.raises(ValueError, match="expected one of a, b, got 'c'"):
        check_value(mode.metadata, "c")


# ── the attack run's cases ────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("toml", "line"),
    [
        ("[inputs]\ndump_dirs = 5", "[inputs].dump_dirs: expected a list, got 5"),
        ("[cluster]\nyear_penalty = nan", "[cluster].year_penalty: expected a finite number"),
        ("[cluster]\nyear_penalty = -3", "[cluster].year_penalty: expected a number in 0..1"),
        ("[cluster]\nnames_threshold = 7", "[cluster].names_threshold: expected a number in 0..1"),
        ("[cluster]\nattach_threshold = inf", "[cluster].attach_threshold: expected a finite"),
        ('[summary]\nmax_sentences = "5"', "[summary].max_sentences: expected an integer, got '5'"),
        ('[email]\nto_addresses = "a@b.org"', "[email].to_addresses: expected a list"),
        ('[fetch]\nextract_teasers = "no"', "[fetch].extract_teasers: expected true or false"),
        ('[fetch]\nuser_agent = "x\\r\\nX-Evil: 1"', "[fetch].user_agent: expected one line"),
        ('[email]\nusername = "ana\\r\\nQUIT"', "[email].username: expected one line"),
    ],
)
def test_a_bad_value_in_the_file_is_one_line_naming_file_and_key(
    tmp_path: Path, toml: str, line: str
) -> None:
    path = _toml(tmp_path, toml + "\n")
    (problem,) = _problems(path)
    assert problem.startswith(f"{path}: {line}"), problem


def test_toml_values_need_their_type_and_the_environment_gives_text(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[summary]\nmax_sentences = "6"\n[email]\nto_addresses = "a@b.org"\n')
    assert _problems(path) == [
        f"{path}: [summary].max_sentences: expected an integer, got '6'",
        f"{path}: [email].to_addresses: expected a list, got 'a@b.org'",
    ]
    environ = {
        "DIGEST_SUMMARY__MAX_SENTENCES": "6",
        "DIGEST_EMAIL__TO_ADDRESSES": "a@b.org,c@d.org",
        "DIGEST_FETCH__EXTRACT_TEASERS": "no",
    }
    settings = load_settings(None, environ=environ)
    assert settings.summary.max_sentences == 6
    assert settings.email.to_addresses == ("a@b.org", "c@d.org")
    assert settings.fetch.extract_teasers is False


@pytest.mark.parametrize(
    "template",
    [
        "{title.__class__}",
        "{title.__class__.__mro__}",
        "{title[0]}",
        "{edition.real}",
        "{date:{edition.real}}",
    ],
)
def test_the_subject_template_takes_only_its_documented_fields(template: str) -> None:
    (problem,) = _problems(overrides=[f"email.subject_template={template!r}"])
    assert problem.startswith("--set: [email].subject_template: unknown field {")
    assert problem.endswith("(use {title} {date} {edition})")


def test_documented_fields_with_formats_and_braces_are_fine() -> None:
    (problem,) = _problems(overrides=["email.subject_template='{title.__class__}'"])
    assert "unknown field {title.__class__}" in problem
    for bad in ("{}", "{0}", "{nope}", "{title", "{title:d}"):  # refused before too
        (problem,) = _problems(overrides=[f"email.subject_template={bad!r}"])
        assert problem.startswith("--set: [email].subject_template: "), problem
    template = "{{{title}}} No. {edition:03d}, {date!s:>12}"
    settings = load_settings(None, environ={}, overrides=[f"email.subject_template={template!r}"])
    assert settings.email.subject_template == template


@pytest.mark.parametrize(
    ("never", "rare"),
    [
        ("0 7 30 2 *", "0 7 29 2 *"),
        ("0 7 31 4,6,9,11 *", "0 7 31 1,3 *"),
        ("0 0 7 31 2 *", "0 7 29 2 mon"),
        ("0 7 31 2 fri", "0 7 13 * fri"),
    ],
)
def test_a_cron_that_never_fires_is_refused_and_a_rare_one_kept(
    tmp_path: Path, never: str, rare: str
) -> None:
    path = _toml(tmp_path, f'[output]\ntimezone = "Europe/Berlin"\n[schedule]\ncron = "{never}"\n')
    assert _problems(path) == [
        f"{path}: [schedule].cron: {never!r} never fires (no date matches it, in Europe/Berlin)"
    ]
    settings = load_settings(path, environ={}, overrides=[f"schedule.cron={rare!r}"])
    trigger = make_trigger(settings.schedule.cron, settings.tz)  # as the daemon makes it
    assert trigger.get_next_fire_time(None, datetime(2026, 3, 2, tzinfo=UTC)) is not None


# ── rules between settings ────────────────────────────────────────────────────────────────


def test_min_sentences_above_max_is_one_line_naming_the_key_that_was_set(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[summary]\nmax_sentences = 4\n")
    assert _problems(path, overrides=["summary.min_sentences=9"]) == [
        f"--set: [summary].min_sentences: 9 is more than [summary].max_sentences (4, {path})"
    ]
    assert _problems(path, environ={"DIGEST_SUMMARY__MAX_SENTENCES": "2"}) == [
        "environment: [summary].max_sentences: 2 is less than [summary].min_sentences (3, defaults)"
    ]
    problems = _problems(
        overrides=["fetch.backoff_base_seconds=7200", "fetch.backoff_max_seconds=60"]
    )
    assert problems == [
        "--set: [fetch].backoff_base_seconds: 7200.0 is more than"
        " [fetch].backoff_max_seconds (60.0, --set)"
    ]
    # a value refused by its own check is not reported again by a rule
    problems = _problems(overrides=["summary.min_sentences=9", "summary.max_sentences=99"])
    assert problems == ["--set: [summary].max_sentences: expected a number in 1..20, got 99"]


# ── secrets ───────────────────────────────────────────────────────────────────────────────


def test_a_password_on_the_command_line_is_refused_without_repeating_it() -> None:
    (problem,) = _problems(overrides=["email.password=hunter2"])
    assert problem.startswith("--set: [email].password: secrets belong in .env or the environment")
    assert "hunter2" not in problem
    settings = load_settings(None, environ={"DIGEST_EMAIL__PASSWORD": "hunter2"})
    assert settings.email.password == "hunter2"  # noqa: S105 - a made-up test value


# ── the real CLI ──────────────────────────────────────────────────────────────────────────


def _digest(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "digest", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "DIGEST_CONFIG": ""},
        check=False,
    )


def test_run_with_a_bad_config_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[store]\npath = "var/s.sqlite3"\n[cluster]\nyear_penalty = nan\n')
    result = _digest("run", "--config", str(path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"Error: {path}: [cluster].year_penalty: expected a finite number, got nan"
    ]
    assert not (tmp_path / "var").exists()  # refused before anything was opened


def test_daemon_with_a_cron_that_never_fires_exits_2_at_once(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[store]\npath = "var/s.sqlite3"\n[schedule]\ncron = "0 7 30 2 *"\n')
    result = _digest("daemon", "--config", str(path), timeout=30)  # main: ran forever
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"Error: {path}: [schedule].cron: '0 7 30 2 *' never fires (no date matches it, in UTC)"
    ]


def test_config_refuses_a_password_flag_and_prints_values_with_their_ranges() -> None:
    refused = _digest("config", "--set", "email.password=hunter2")
    assert refused.returncode == 2
    assert "[email].password: secrets belong in .env or the environment" in refused.stderr
    assert "hunter2" not in refused.stderr + refused.stdout
    shown = _digest("config", "--set", "summary.min_sentences=2")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert any(
        line.startswith("summary.min_sentences = 2  [flag]  # ") and line.endswith(" (1..20)")
        for line in lines
    ), lines
    assert any(line.startswith("cluster.year_penalty = 0.8  [file]") for line in lines)
