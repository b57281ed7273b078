"""Atomic writes and safe joins. Contains no business logic."""

from __future__ import annotations

import os
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


def display_path(path: Path) -> str:
    """A path relative to the working folder when it is below it (shorter messages)."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # pragma: no cover - other drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative
