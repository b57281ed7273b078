"""The wheel, as pip and pipx install it: package data, the licence, a digest that works from
any folder (#12). The wheel is built from a copy of the sources (nothing outside them is
needed) and installed with pip, offline: ``--no-build-isolation`` (the test extra installs
setuptools into the project's venv), ``--no-index``, ``--no-deps``."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow
PIP = [sys.executable, "-m", "pip", "--quiet", "--no-input", "--isolated"]


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "digest", src / "digest", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [
            *PIP,
            "wheel",
            "--no-index",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    (found,) = out.glob("digest-*.whl")  # pip --isolated: no configured index is read
    return found


def test_the_wheel_carries_templates_static_files_default_config_and_licence(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = {
        p.relative_to(REPO).as_posix()
        for p in (REPO / "digest" / "templates").rglob("*")
        if p.is_file()
    }
    assert {"digest/templates/briefing.html", "digest/templates/static/style.css"} <= templates
    assert templates <= names
    assert {"digest/defaults/digest.toml", "digest/defaults/env.example"} <= names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "License-Expression: MIT" in text
