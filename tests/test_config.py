"""Configuration: precedence, one-line errors naming file and key, secrets, docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import load_settings
from digest.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config" / "digest.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file() -> None:
    settings = load_settings(None, environ={})
    assert settings.cluster.similarity_threshold == pytest.approx(0.18)
    assert settings.output.timezone == "UTC"
    assert settings.origins == {}


def test_precedence_file_then_env_then_flag(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[output]\ntitle = "From file"\ntimezone = "Europe/Berlin"\n'
        "[cluster]\nsimilarity_threshold = 0.3\n",
    )
    env = {"DIGEST_OUTPUT__TITLE": "From env", "DIGEST_CLUSTER__SIMILARITY_THRESHOLD": "0.4"}
    settings = load_settings(path, environ=env, overrides=["cluster.similarity_threshold=0.5"])
    assert settings.output.timezone == "Europe/Berlin"
    assert settings.output.title == "From env"
    assert settings.cluster.similarity_threshold == pytest.approx(0.5)
    assert settings.origins["output.timezone"] == "file"
    assert settings.origins["output.title"] == "env"
    assert settings.origins["cluster.similarity_threshold"] == "flag"


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    path = write(tmp_path, '[store]\npath = "../var/x.sqlite3"\n[inputs]\ndump_dirs = ["../in"]\n')
    settings = load_settings(path, environ={})
    assert settings.store.path == (tmp_path / "var" / "x.sqlite3").resolve()
    assert settings.inputs.dump_dirs == ((tmp_path / "in").resolve(),)


def test_every_problem_is_reported_once_per_line_naming_file_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[cluster]\nsimilarity_threshold = 1.5\nwindow_dayz = 3\n"
        '[summary]\nmax_sentences = "five"\n[output]\ntimezone = "Mars/Base"\n'
        "[nonsense]\nx = 1\n",
    )
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={"DIGEST_DEDUPE__RECENT_DAYS": "soon"})
    lines = str(info.value).splitlines()
    assert len(lines) == 6
    assert f"{path}: [cluster].similarity_threshold: expected a number in 0..1, got 1.5" in lines
    assert f"{path}: [cluster].window_dayz: unknown setting" in lines
    assert any("[summary].max_sentences: expected an integer" in line for line in lines)
    assert any("[output].timezone: unknown time zone 'Mars/Base'" in line for line in lines)
    assert f"{path}: [nonsense]: unknown section" in lines
    assert any(line.startswith("environment: [dedupe].recent_days") for line in lines)


def test_a_secret_in_the_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[email]\npassword = "hunter2"\n')
    with pytest.raises(ConfigError, match=r"\[email\]"):
        load_settings(path, environ={})


def test_bad_toml_and_missing_file_are_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[output\n")
    with pytest.raises(ConfigError, match="cannot read config") as info:
        load_settings(path, environ={})
    assert len(str(info.value).splitlines()) == 1
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_flag_values_use_toml_syntax_and_bare_strings(tmp_path: Path) -> None:
    settings = load_settings(
        None, environ={}, overrides=["output.timezone=Asia/Tokyo", "summary.max_quotes=0"]
    )
    assert settings.output.timezone == "Asia/Tokyo"
    assert settings.summary.max_quotes == 0
    with pytest.raises(ConfigError, match=r"expected section\.key=VALUE"):
        load_settings(None, environ={}, overrides=["timezone"])


def test_sources_table(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[sources]]\nname = "wire"\nkind = "dump"\nlocation = "../in"\n'
        'outlet = "Example Wire"\n[[sources]]\nname = "x"\nkind = "gopher"\n'
        'location = "y"\n',
    )
    with pytest.raises(ConfigError, match="unsupported source kind 'gopher'"):
        load_settings(path, environ={})
    path = write(tmp_path, '[[sources]]\nname = "wire"\nlocation = "../in"\noutlet = "W"\n')
    (spec,) = load_settings(path, environ={}).sources
    assert (spec.name, spec.kind, spec.outlet) == ("wire", "dump", "W")
    assert spec.location == str((tmp_path / "in").resolve())
