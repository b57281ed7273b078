"""Atomic writes and safe joins. Contains no business logic."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from digest.errors import PublishError


def safe_join(root: Path, *parts: str) -> Path:
    """Join ``parts`` under ``root``, refusing anything that escapes it (``..``, absolute)."""
    base = root.resolve()
    target = base.joinpath(*parts).resolve()
    if target != base and base not in target.parents:
        raise PublishError(str(Path(*parts)), "path escapes the output folder")
    return target


def atomic_write(path: Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` via a temp file in the same folder, fsync, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# the names atomic_write's temp files get (mkstemp: 8 characters of [a-z0-9_])
_TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


def remove_temp_files(root: Path) -> list[Path]:
    """Remove the temp files ``atomic_write`` left under ``root`` (a process killed in the
    middle of a write leaves one). Call it only while nothing writes there."""
    removed = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if _TEMP_NAME.match(name):
                path = Path(folder, name)
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def display_path(path: Path) -> str:
    """A path relative to the working folder when it is below it (shorter messages)."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # pragma: no cover - other drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative
