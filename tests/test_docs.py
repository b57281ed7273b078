"""Docs guard: every command and setting is documented."""

from __future__ import annotations

import re

from click.testing import CliRunner

from digest.cli import main
from digest.config import schema_fields
from tests.conftest import REPO


def test_every_setting_is_commented_in_the_default_config() -> None:
    text = (REPO / "config" / "digest.toml").read_text(encoding="utf-8")
    for key, help_text in schema_fields():
        section, name = key.split(".")
        assert f"[{section}]" in text, f"section [{section}] missing from config/digest.toml"
        assert re.search(rf"^# {name}: ", text, re.M), f"{key} is not commented in digest.toml"
        assert help_text, f"{key} has no help text in the schema"


def test_every_command_is_in_the_readme_and_has_an_example() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in main.commands:
        assert f"`digest {name}" in readme, f"digest {name} is not in README.md"
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0
        assert "Example:" in result.output, f"digest {name} --help has no Example"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in readme
    assert ci.strip().splitlines()[-1] == "make test"


def test_the_packaged_default_config_is_the_repository_config() -> None:
    """One source of truth: the package ships config/digest.toml, config/.env.example and
    config/threads.txt (``digest init`` writes them for a new installation). After editing
    one, run ``make defaults`` to copy them into digest/defaults/."""
    pairs = {
        "digest.toml": "digest.toml",
        ".env.example": "env.example",
        "threads.txt": "threads.txt",
    }
    for repo_name, packaged_name in pairs.items():
        ours = (REPO / "config" / repo_name).read_text(encoding="utf-8")
        packaged = (REPO / "digest" / "defaults" / packaged_name).read_text(encoding="utf-8")
        assert packaged == ours, f"digest/defaults/{packaged_name} is stale: run `make defaults`"
