"""The wheel, as pip and pipx install it: package data, the licence, a digest that works from
any folder (#12). The wheel is built from a copy of the sources (nothing outside them is
needed) and installed with pip, offline: ``--no-build-isolation`` (the test extra installs
setuptools into the project's venv), ``--no-index``, ``--no-deps``."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
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


def _venv_with_the_wheel(wheel: Path, root: Path) -> Path:
    """A fresh environment holding the wheel and nothing of this checkout: the project's
    dependencies come from its venv's site-packages (a path in a .pth file, so its editable
    digest is not seen), digest only from the wheel (pip --no-index --no-deps)."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (site_packages,) = (venv / "lib").glob("python3.*/site-packages")
    deps = [p for p in map(Path, sys.path) if p.name == "site-packages" and p.is_dir()]
    (site_packages / "_project_deps.pth").write_text("\n".join(map(str, deps)) + "\n")
    install = [*PIP, "--python", str(venv / "bin" / "python"), "install", "--no-index"]
    subprocess.run([*install, "--no-deps", str(wheel)], check=True, timeout=300)
    return venv / "bin"


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_the_installed_wheel_inits_runs_and_serves_from_an_unrelated_folder(wheel, tmp_path):
    bin_dir = _venv_with_the_wheel(wheel, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "home" / ".config"),
        "LANG": "C.UTF-8",
    }
    where = _run(["python", "-c", "import digest; print(digest.__file__)"], elsewhere, env)
    assert where.stdout.startswith(str(tmp_path / "venv"))  # the wheel's, not the checkout's
    _run(["digest", "init"], elsewhere, env)
    home = tmp_path / "home" / ".config" / "digest"
    shutil.copytree(REPO / "samples" / "dumps", home / "dumps", dirs_exist_ok=True)
    run = _run(["digest", "run", "--date", "2026-03-02"], elsewhere, env)
    assert "edition No. 1 (2026-03-02/)" in run.stdout
    page = (home / "output" / "2026-03-02" / "index.html").read_text(encoding="utf-8")
    assert "Calderra" in page
    assert (home / "output" / "feed.xml").is_file()
    assert list(elsewhere.iterdir()) == []

    log = home / "var" / "daemon.log"
    cron = "schedule.cron='*/2 * * * * *'"
    daemon = subprocess.Popen(
        ["digest", "daemon", "--set", cron, "--set", f"schedule.log_file='{log}'"],
        cwd=elsewhere,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while "nothing new for" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, log.read_text() if log.exists() else "no log"
            time.sleep(0.2)
        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=60)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.communicate()
    assert daemon.returncode == 0, stderr
    assert "Traceback" not in stderr


def test_the_docker_entrypoint_sets_up_the_volume_then_runs(wheel, tmp_path):
    """The Dockerfile's steps without docker: the wheel alone installed, the entrypoint."""
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert "RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels ." in dockerfile
    assert "pip install --no-cache-dir /wheels/*.whl" in dockerfile
    assert 'ENTRYPOINT ["/bin/sh", "/usr/local/bin/docker-entrypoint.sh"]' in dockerfile
    bin_dir = _venv_with_the_wheel(wheel, tmp_path)
    data = tmp_path / "data"
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path / "home"),
        "DIGEST_CONFIG": str(data / "digest.toml"),
        "LANG": "C.UTF-8",
    }
    entrypoint = ["/bin/sh", str(REPO / "deploy" / "docker-entrypoint.sh")]
    first = _run([*entrypoint, "run"], tmp_path, env)
    assert (data / "digest.toml").is_file()
    assert "nothing new for " in first.stdout  # an empty dumps/ folder: exit 0
    shutil.copy2(REPO / "samples" / "dumps" / "03-newswire-export.jsonl", data / "dumps")
    second = _run([*entrypoint, "run", "--quiet"], tmp_path, env)
    assert second.stdout == ""
    assert (data / "output" / "index.html").is_file()


SYSTEMD_UNITS = ("digest.service", "digest-run.service", "digest-run.timer")


def test_the_systemd_units_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed: the units in deploy/ are not verified")
    digest_bin = Path(sys.executable).with_name("digest")
    for name in SYSTEMD_UNITS:
        text = (REPO / "deploy" / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace("%h/.local/bin/digest", str(digest_bin)))
    result = subprocess.run(
        [analyze, "verify", *(str(tmp_path / n) for n in SYSTEMD_UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    ours = [line for line in result.stderr.splitlines() if str(tmp_path) in line]
    assert result.returncode == 0, result.stderr
    assert ours == []  # no warning about our files either (a bad key is only a warning)


def test_the_dockerfile_builds_when_docker_may_fetch_its_base_image(tmp_path):
    if not os.environ.get("DIGEST_TEST_DOCKER"):
        pytest.skip("set DIGEST_TEST_DOCKER=1 to build deploy/Dockerfile (it downloads)")
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("docker is not installed")
    build = subprocess.run(
        [docker, "build", "-f", "deploy/Dockerfile", "-t", "digest-test", "."],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert build.returncode == 0, build.stderr
