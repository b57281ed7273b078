"""The features of a big batch's slices read one slice ahead, in a second process.

Clustering a slice (``digest.intake``) starts by reading its articles
(``digest.cluster.read_articles``: ~5 s for 20k articles on one core), which depends on
nothing but the articles. A batch that comes in several slices (a first run over an
archive) therefore has the next slice read by a worker process while this one is clustered
and stored, and the first slice read half here and half there: on a machine with a second
core, reading is out of the way of everything but the first half slice. The features are
the same wherever they are read (pure functions of the articles), so the threads are the
same; a worker that dies or cannot start costs time, never the run: what it had not read
is read here.

A batch of one slice (every run of a daemon) is read here, as before: a worker's start and
its copy of the texts would cost more than it saves, and its memory would come on top.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from digest import collector
from digest.cluster import ClusterParams, read_articles
from digest.cluster.features import Features
from digest.models import Article
from digest.processes import worker_context

log = logging.getLogger("digest.pipeline")
Read = dict[str, Features]


def spare_cores() -> int:
    """The cores this process may run on beyond its own (0: read everything here)."""
    try:
        return len(os.sched_getaffinity(0)) - 1
    except AttributeError:  # pragma: no cover - not on Linux
        return (os.cpu_count() or 1) - 1


def read_slices(
    slices: deque[list[Article]], params: ClusterParams, *, ahead: bool | None = None
) -> Iterator[tuple[list[Article], Read]]:
    """Each slice of ``slices`` with its features, in order, taken from the deque as they
    are given (so a slice given and let go by the caller is let go here too). ``ahead``:
    read the next slice in a worker process (None: when there are two slices or more and
    a spare core)."""
    if ahead is None:
        ahead = len(slices) > 1 and spare_cores() > 0
    pool = _pool() if ahead and slices else None
    if pool is None:
        while slices:
            part = slices.popleft()
            yield part, read_articles(part, params)
        return
    try:
        worker = _Worker(pool, params)
        first = slices.popleft()
        half = len(first) // 2
        rest = worker.read(first[half:])
        coming = worker.read(slices[0]) if slices else []  # queued behind the half
        read = read_articles(first[:half], params)
        read.update(worker.result(rest))
        yield first, read
        del first, read
        while slices:
            part = slices.popleft()
            now, coming = coming, (worker.read(slices[0]) if slices else [])
            read = worker.result(now)
            yield part, read
            del part, read
    finally:  # (given up early, the run failing: what is queued is not read)
        pool.shutdown(wait=True, cancel_futures=True)


class _Worker:
    """The pool's one worker, given a slice in chunks of ``CHUNK`` articles (its memory is
    a chunk's, and what it sends back is kept as it came, pickled: ~1.2 kB an article
    where the features take several times that, until their slice is clustered). Once it
    failed, whatever it had not read is read here."""

    def __init__(self, pool: ProcessPoolExecutor, params: ClusterParams) -> None:
        self.pool, self.params, self.broken = pool, params, False

    def read(self, part: list[Article]) -> list[tuple[list[Article], Future[bytes] | None]]:
        chunks = [part[i : i + CHUNK] for i in range(0, len(part), CHUNK)]
        return [(chunk, self._submit(chunk)) for chunk in chunks]

    def _submit(self, chunk: list[Article]) -> Future[bytes] | None:
        if self.broken:
            return None
        try:
            return self.pool.submit(_read, chunk, self.params)
        except Exception as e:  # noqa: BLE001 (no worker, whatever the cause: read here)
            self._failed(e)
            return None

    def result(self, chunks: list[tuple[list[Article], Future[bytes] | None]]) -> Read:
        read: Read = {}
        while chunks:
            chunk, future = chunks.pop(0)
            read.update(self._chunk(chunk, future))
        return read

    def _chunk(self, chunk: list[Article], future: Future[bytes] | None) -> Read:
        if future is not None:
            try:
                found: Read = pickle.loads(future.result())  # noqa: S301 (our worker's, _read)
            except Exception as e:  # noqa: BLE001 (read here: a fault of the reading says so)
                self._failed(e)
            else:
                return found
        return read_articles(chunk, self.params)

    def _failed(self, error: BaseException) -> None:
        if not self.broken:
            log.warning("reading ahead stopped, the rest is read in this process: %s", error)
        self.broken = True


CHUNK = 2_048  # articles a worker reads at a time


@collector.paused()  # (the worker builds what clustering would: digest.collector)
def _read(part: list[Article], params: ClusterParams) -> bytes:
    return pickle.dumps(read_articles(part, params), protocol=pickle.HIGHEST_PROTOCOL)


def _pool() -> ProcessPoolExecutor | None:
    """The one-worker pool (None, said in the log, when none can be made here: no
    semaphores in a container's /dev/shm, a daemonic process)."""
    try:
        return ProcessPoolExecutor(max_workers=1, mp_context=worker_context(__name__))
    except Exception as e:  # noqa: BLE001 (no worker, whatever the cause: read here)
        log.warning("reading ahead unavailable, the batch is read in this process: %s", e)
        return None
