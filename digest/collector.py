"""Python's cyclic garbage collector, paused while a stage builds big structures.

CPython runs a collection every few hundred new container objects, and a full one each
time the heap has grown by a quarter, and each full one walks every live object. A run's
middle stages (normalize, dedupe, cluster and store, summarise) build millions of small
dicts and tuples that live until the stage ends and form no reference cycles, so those
walks find nothing: 9% of a 100k-article run (11.6 of 127 s, 8.3 s of it in full
collections; #16). Reference counting still frees everything that is not in a cycle; the
few cycles made meanwhile wait for the first collection after the stage.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside (nested: the outermost one enables it again)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
