"""Average-link agglomeration over candidate pairs (pure).

Each node is a cluster kept as sums: of its members' unit content vectors and unit name
vectors. The mean cosine between two clusters' members (group average, "average link") is
then one dot product of their sums divided by both sizes, exactly; a big, mixed cluster has a
low average and does not attract what merely touches its topic, as a centroid would.

1. core     the best-scoring pair of neighbours merges while its score reaches the
            threshold; the merged node's neighbours are scored again. Reports of one event
            form a tight core this way.
2. attach   a lone new article (a reaction, an analysis, an angle of its own) then joins the
            neighbouring thread it scores best with, at the lower attach threshold; each
            offer is made once, so attachments never chain.

The score is the average, discounted when the two clusters' event days are more than a day
apart, zero when both name people or places and the names disagree, and lowered when their
main years differ. A headline alone has too few words for an average: where one side is
headlines only, the score is its cosine to the other side's centroid, raised a little for a
larger cluster (a short text's cosine to a centroid shrinks as the cluster grows).

Two implementations of the cores, one result: ``pure`` (Python, the reference) and
``kernel`` (the same loop compiled by numba, fed by ``compiled``), which a clustering of
2,000 nodes or more uses when numba is installed (the ``compiled`` extra): a 23k-node slice
of a 100k first run takes 4.3-6.3 s in Python, 2.2 s compiled (0.9 s of it the loop, the
rest the nodes packed as arrays and back), for ~180 MB of numba's compiler in memory. The
attachments run in Python after either.
"""

from __future__ import annotations

import logging

from digest.cluster.link import compiled, pure
from digest.cluster.link.pure import (
    LinkParams,
    Merge,
    Node,
    Scorer,
    Vector,
    absorb,
    dot,
    heaviest_first,
    top_entries,
)

__all__ = [
    "COMPILED_NODES",
    "LinkParams",
    "Merge",
    "Node",
    "Scorer",
    "Vector",
    "absorb",
    "agglomerate",
    "dot",
    "heaviest_first",
    "top_entries",
]

log = logging.getLogger(__name__)

# nodes from which the cores run compiled (below, Python's time is small beside numba's
# loading of its cached machine code, and a first run's compiling)
COMPILED_NODES = 2000


def agglomerate(
    nodes: dict[str, Node],
    params: LinkParams,
    *,
    apart: frozenset[frozenset[str]] = frozenset(),
    compiled_from: int | None = None,
) -> list[Merge]:
    """Cores, then attachments (see the module docstring); the merges made, in order.
    ``nodes``: each with the dot products of its sums with its candidate neighbours
    (``cross``, on both sides), as made for a run (alive, unmerged).
    Two stored threads may merge (the larger, else the older, is kept); a pair of ids in
    ``apart`` never does, nor the clusters that grow from them. From ``compiled_from``
    nodes (None: ``COMPILED_NODES``) the cores run compiled when numba is installed, with
    the same result."""
    kept_apart = pure.Apart(apart)
    merges = None
    least = COMPILED_NODES if compiled_from is None else compiled_from
    if nodes and len(nodes) >= least and compiled.available():
        try:
            merges = compiled.cores(nodes, params, kept_apart)
        except compiled.OffGrid as e:  # (never from a run's nodes: their weights are on it)
            log.warning("clustering in Python: %s", e)
    if merges is None:
        merges = pure.cores(nodes, params, kept_apart)
    merges.extend(pure.attach(nodes, Scorer(params), kept_apart))
    return merges
