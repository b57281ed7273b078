"""Store locks (the I/O edge): one writer at a time per store, one daemon per store.

- ``<store>.lock``: every writer (``digest run``, each daemon run, ``digest sources --reset``)
  holds an exclusive ``flock`` on it while it writes. Another writer waits for it, up to
  ``[store].lock_wait_seconds``, then gives up with one line naming the holder (its pid, what
  it is doing and since when: written into the file by the holder). So a manual run during a
  scheduled one waits for it, and never two runs plan editions at once.
- ``<store>.daemon.lock``: held by a daemon for its whole life; a second daemon exits at once.

The OS releases a ``flock`` when its process dies, however it dies: a stale file is harmless.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from digest.errors import DaemonError, StoreError

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1


class StoreBusy(StoreError):
    default_message = "the store is busy"


def lock_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".lock")


def daemon_lock_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".daemon.lock")


class _FileLock:
    """An exclusive ``flock`` on ``path``; the holder writes ``pid<TAB>what<TAB>since`` in it."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what
        self.fd: int | None = None

    def acquire(self, wait_seconds: float, *, announce: bool = True) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait_seconds
        waited = False
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                os.close(fd)
                return False
            if announce and not waited:
                log.info("waiting for %s (held by %s)", self.path, holder(self.path))
                waited = True
            time.sleep(POLL_SECONDS)
        since = datetime.now(UTC).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\t{self.what}\t{since}\n".encode())
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the lock
            self.fd = None


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class StoreLock:
    """``with StoreLock(store, "digest run", wait_seconds=600):`` the store's writer lock."""

    def __init__(self, store_path: Path, what: str, *, wait_seconds: float) -> None:
        self.lock = _FileLock(lock_path(store_path), what)
        self.store_path = store_path
        self.wait_seconds = wait_seconds

    def __enter__(self) -> StoreLock:
        if not self.lock.acquire(self.wait_seconds):
            raise StoreBusy(
                str(self.store_path),
                f"the store is in use by {holder(self.lock.path)};"
                f" gave up after {self.wait_seconds:g} s"
                " (hint: [store].lock_wait_seconds)",
            )
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.lock.release()


class DaemonLock:
    """Held by ``digest daemon`` for its life: one daemon per store."""

    def __init__(self, store_path: Path) -> None:
        self.lock = _FileLock(daemon_lock_path(store_path), "digest daemon")

    def __enter__(self) -> DaemonLock:
        if not self.lock.acquire(1.0, announce=False):  # `digest status` looks at it briefly
            pid = holder_pid(self.lock.path)
            raise DaemonError(
                f"{self.lock.path} is locked by pid {pid or '?'}",
                "another digest daemon is already running for this store",
            )
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def _fields(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").strip().split("\t")
    except (OSError, UnicodeDecodeError):
        return []


def holder_pid(path: Path) -> int | None:
    """The pid written in the lock file, if any."""
    fields = _fields(path)
    return int(fields[0]) if fields and fields[0].isdigit() else None


def holder(path: Path) -> str:
    """``pid 1234 (digest daemon, since 2026-03-02 07:00:01 UTC)``, as far as the file says."""
    fields = _fields(path)
    if not fields or not fields[0].isdigit():
        return "another process"
    if len(fields) < 3:
        return f"pid {fields[0]}"
    since = fields[2].replace("T", " ").replace("+00:00", " UTC")
    return f"pid {fields[0]} ({fields[1]}, since {since})"


def running_daemon(store_path: Path) -> int | None:
    """The pid of the daemon holding the store's daemon lock, or None when none does."""
    path = daemon_lock_path(store_path)
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return holder_pid(path) or -1
    finally:
        os.close(fd)
    return None
