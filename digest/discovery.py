"""Where a command's settings come from: the config file, the ``.env`` files beside it, and
the store of a site named on the command line (the I/O edge; nothing here parses TOML).

Config file, first found: ``--config``; ``$DIGEST_CONFIG``; ``./config/digest.toml``;
``$XDG_CONFIG_HOME/digest/digest.toml`` (``~/.config`` when unset; ``digest init`` writes it).
None: the built-in defaults, with paths relative to the current folder. Paths in a config
file are relative to that file (see :mod:`digest.config`).

``.env`` (secrets; real environment variables win): the one beside the config file, and the
one above it when the config sits in a ``config/`` folder (a checkout's layout); without a
config file, ``./.env``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values

CONFIG_ENV = "DIGEST_CONFIG"
LOCAL_CONFIG = Path("config") / "digest.toml"


def xdg_config_home(environ: Mapping[str, str]) -> Path:
    value = environ.get("XDG_CONFIG_HOME", "")
    return Path(value) if value else Path("~/.config").expanduser()


def xdg_state_home(environ: Mapping[str, str]) -> Path:
    value = environ.get("XDG_STATE_HOME", "")
    return Path(value) if value else Path("~/.local/state").expanduser()


def user_config(environ: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME/digest/digest.toml``: the last place looked, where init writes."""
    return xdg_config_home(environ) / "digest" / "digest.toml"


def find_config(explicit: Path | None, environ: Mapping[str, str], cwd: Path) -> Path | None:
    """The config file a command reads (an explicit one need not exist: that is an error
    ``load_settings`` reports), or None for the built-in defaults."""
    if explicit is not None:
        return explicit
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV]).expanduser()
    for candidate in (cwd / LOCAL_CONFIG, user_config(environ)):
        if candidate.is_file():
            return candidate
    return None


def env_files(config: Path | None, cwd: Path) -> tuple[Path, ...]:
    if config is None:
        return (cwd / ".env",)
    folder = config.resolve().parent
    above = (folder.parent / ".env",) if folder.name == "config" else ()
    return (*above, folder / ".env")


def environment(config: Path | None, environ: Mapping[str, str], cwd: Path) -> dict[str, str]:
    """``environ`` with the ``.env`` files underneath it (real variables win)."""
    merged: dict[str, str] = {}
    for path in env_files(config, cwd):
        if path.is_file():
            merged.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    merged.update(environ)
    return merged


def site_store(output: Path, environ: Mapping[str, str]) -> Path:
    """The store of a site named with ``--output`` alone (not the configured one): one per
    folder, under ``$XDG_STATE_HOME/digest/sites/``, so two sites never share a ledger."""
    folder = output.resolve()
    tag = hashlib.sha256(str(folder).encode()).hexdigest()[:10]
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", folder.name).strip("-") or "site"
    return xdg_state_home(environ) / "digest" / "sites" / f"{name}-{tag}.sqlite3"
