"""``digest init [DIR]``: the files of a new installation (the I/O edge).

It writes ``DIR/digest.toml`` (the packaged, fully commented default config: the
repository's ``config/digest.toml``, read with importlib.resources) with the paths of an
installation folder, ``DIR/.env.example``, a commented ``DIR/threads.txt`` for corrections
to event threads, and an empty ``DIR/dumps/`` watched folder. The
store and the site are created by the first run, inside DIR (paths in the config are
relative to it). Without DIR it writes ``$XDG_CONFIG_HOME/digest/``, where every digest
command finds its config from any folder.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from digest.errors import ConfigError
from digest.fsutil import atomic_write

# (section, key) -> TOML value in a new installation's config (the repository's points at
# the bundled samples and at the checkout's var/ and output/)
INSTALLATION_VALUES = {
    ("inputs", "dump_dirs"): '["dumps"]',
    ("store", "path"): '"var/digest.sqlite3"',
    ("output", "dir"): '"output"',
}
CONFIG_NAME = "digest.toml"


def packaged(name: str) -> str:
    """A file of ``digest/defaults/`` (the packaged default config and .env example)."""
    return resources.files("digest").joinpath("defaults", name).read_text(encoding="utf-8")


def set_value(text: str, section: str, key: str, value: str) -> str:
    """``text`` with the line ``key = ...`` of ``[section]`` set to ``key = value``."""
    header = re.search(rf"^\[{re.escape(section)}\]\s*$", text, re.M)
    if header is None:
        raise ValueError(f"no [{section}] in the default config")
    end = re.search(r"^\[", text[header.end() :], re.M)
    body_end = header.end() + end.start() if end else len(text)
    line = re.compile(rf"^{re.escape(key)}\s*=.*$", re.M)
    found = line.search(text, header.end(), body_end)
    if found is None:
        raise ValueError(f"no [{section}].{key} in the default config")
    return text[: found.start()] + f"{key} = {value}" + text[found.end() :]


def installation_config() -> str:
    text = packaged(CONFIG_NAME)
    for (section, key), value in INSTALLATION_VALUES.items():
        text = set_value(text, section, key, value)
    return text


def init_dir(target: Path, *, force: bool = False) -> tuple[Path, ...]:
    """Write a new installation into ``target``; returns what was written or created."""
    config = target / CONFIG_NAME
    if config.exists() and not force:
        raise ConfigError([f"{config}: already exists (--force replaces it)"])
    written = [
        atomic_write(config, installation_config()),
        atomic_write(target / ".env.example", packaged("env.example")),
    ]
    corrections = target / "threads.txt"
    if not corrections.exists():  # the operator's corrections: never overwritten
        written.append(atomic_write(corrections, packaged("threads.txt")))
    dumps = target / "dumps"
    if not dumps.is_dir():
        dumps.mkdir(parents=True)
        written.append(dumps)
    return tuple(written)
