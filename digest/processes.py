"""Worker processes of a run (page extraction, reading a big batch ahead): where they come
from. Forked from a fork server, never by a plain fork of a process with live threads
(the daemon's scheduler, a worker's event loop, the fetcher's pool); spawned where there
is no fork server. A process has one fork server: the module the first pool asks for is
the one it imports once; later pools' workers import theirs as they start."""

from __future__ import annotations

import multiprocessing


def worker_context(preload: str) -> multiprocessing.context.BaseContext:
    """The start method for worker processes that run module ``preload``'s functions."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")  # pragma: no cover - not on Linux
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([preload])  # no effect once the server runs
    return context
