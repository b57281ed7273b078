"""The agglomeration's heap holds pairs at their ungated scores and gates a pair only when it
comes out current: the merges are those of gating every pair as it is offered (the plain
rule, written out below), on random nodes whose names and years make both gates fire."""

from __future__ import annotations

import heapq
import random
from datetime import UTC, datetime, timedelta

from digest.cluster.link import agglomerate
from digest.cluster.link.pure import (
    Apart,
    LinkParams,
    Merge,
    Node,
    Scorer,
    _absorb,
    _rewire,
    dot,
    keeps,
)
from digest.cluster.nodes import STEPS

START = datetime(2026, 5, 1, tzinfo=UTC)
PARAMS = LinkParams(threshold=0.05, attach_threshold=0.03)


def _unit(rng: random.Random, words: list[str], n: int) -> dict[str, float]:
    """A vector of whole 1/16384 steps (as vectorised), near length 1."""
    weights = {w: float(rng.randint(1, 9)) for w in rng.sample(words, n)}
    length = sum(x * x for x in weights.values()) ** 0.5
    return {w: round(x / length * STEPS) / STEPS for w, x in weights.items()}


def _nodes(seed: int) -> dict[str, Node]:
    rng = random.Random(seed)  # noqa: S311 (test data)
    words = [f"w{i}" for i in range(12)]  # few words: many pairs score, many ties
    people = [f"@p{i}" for i in range(5)]
    nodes = {}
    for i in range(40):
        day = (START + timedelta(days=rng.randint(0, 3))).date().toordinal()
        node_id = f"a:{i:02d}"
        nodes[node_id] = Node(
            id=node_id,
            title=node_id,
            members=[node_id[2:]],
            first_seen=START + timedelta(hours=i),
            last_updated=START + timedelta(hours=i),
            vec=_unit(rng, words, 5),
            names=_unit(rng, people, 2) if rng.random() < 0.7 else {},
            years={f"#{rng.choice((2025, 2026))}": 1.0} if rng.random() < 0.6 else {},
            day_lo=day,
            day_hi=day,
            stored=False,
        )
    ids = sorted(nodes)
    for node_id in ids:  # each with a few candidate neighbours, the dots on both sides
        for other_id in rng.sample(ids, 6):
            if other_id != node_id:
                a, b = nodes[node_id], nodes[other_id]
                a.cross[other_id] = b.cross[node_id] = dot(a.vec, b.vec)
    return nodes


def _gated_as_offered(nodes: dict[str, Node], params: LinkParams) -> list[Merge]:
    """The cores by the plain rule: each pair gated as it is offered."""
    scorer = Scorer(params)
    apart = Apart(frozenset())
    heap: list[tuple[float, str, str, int, int]] = []

    def offer(a: Node, b: Node, cross: float) -> None:
        s = scorer.score(a, b, cross, params.threshold)
        if s >= params.threshold:
            x, y = (a, b) if a.id < b.id else (b, a)
            heapq.heappush(heap, (-s, x.id, y.id, x.version, y.version))

    for node in nodes.values():
        for other_id, cross in node.cross.items():
            if node.id < other_id:
                offer(node, nodes[other_id], cross)
    merges = []
    while heap:
        negative, x, y, vx, vy = heapq.heappop(heap)
        kept, gone = nodes[x], nodes[y]
        if not (kept.alive and gone.alive) or kept.version != vx or gone.version != vy:
            continue
        if keeps(gone, kept):
            kept, gone = gone, kept
        merges.append(_absorb(kept, gone, params, -negative, "core"))
        apart.inherit(kept.id, gone.id)
        _rewire(nodes, kept, gone, offer)
    return merges


def test_the_merges_are_those_of_gating_every_offer() -> None:
    gated_later = 0
    for seed in range(60):
        expected = _gated_as_offered(_nodes(seed), PARAMS)
        found = [m for m in agglomerate(_nodes(seed), PARAMS) if m.via == "core"]
        assert found == expected, seed
        gated_later += len(found)
    assert gated_later > 300  # (the seeds merge plenty)


def test_the_gates_fire_in_these_nodes() -> None:
    scorer = Scorer(PARAMS)
    named_apart = lowered = 0
    for seed in range(60):
        nodes = list(_nodes(seed).values())
        for a in nodes:
            for b in nodes:
                s = scorer.ungated(a, b)
                if s >= PARAMS.threshold:
                    gated = scorer.gated(a, b, s)
                    named_apart += gated == 0.0
                    lowered += 0.0 < gated < s
                    assert gated == scorer.gated(b, a, scorer.ungated(b, a))
    assert named_apart > 100
    assert lowered > 100


def _two(
    a_vec: dict[str, float],
    b_vec: dict[str, float],
    *,
    headlines: int = 0,
    b_lang: str = "en",
    names: dict[str, float] | None = None,
) -> dict[str, Node]:
    """Two new neighbouring nodes: ``a`` of ``headlines`` headlines alone (or one article),
    ``b`` of one (a headline too when ``a`` is), ``b`` in ``b_lang``; both naming ``names``."""
    day = START.date().toordinal()
    nodes = {}
    for node_id, vec, size, lang in (
        ("a:a", a_vec, headlines or 1, "en"),
        ("a:b", b_vec, 1, b_lang),
    ):
        nodes[node_id] = Node(
            id=node_id,
            title=node_id,
            members=[f"{node_id[2:]}{i}" for i in range(size)],
            first_seen=START,
            last_updated=START,
            vec=vec,
            names=dict(names or {}),
            years={},
            day_lo=day,
            day_hi=day,
            stored=False,
            short=size if headlines else 0,
            lang=lang,
        )
    a, b = nodes["a:a"], nodes["a:b"]
    a.cross[b.id] = b.cross[a.id] = dot(a.vec, b.vec)
    return nodes


def test_a_pair_whose_average_is_under_the_threshold_still_merges_on_a_higher_score() -> None:
    """An offer is passed over unscored when the average of its dot alone is under the
    threshold; not when its score is not that average: headlines (the cosine to a centroid)
    or two languages (their names)."""
    params = LinkParams()
    eight = {f"w{i}": 1.0 for i in range(8)}  # eight headlines, a word each
    nodes = _two(eight, {"w0": 1.0}, headlines=8)
    assert nodes["a:a"].cross["a:b"] / 8 < params.threshold  # the average: under it
    assert [m.via for m in agglomerate(nodes, params)] == ["core"]
    names = {"@halvorsen": 0.7, "@dukov": 0.7}
    nodes = _two({"w0": 0.01, "w1": 1.0}, {"w0": 0.01, "w2": 1.0}, b_lang="de", names=names)
    assert nodes["a:a"].cross["a:b"] < params.threshold
    assert [m.via for m in agglomerate(nodes, params)] == ["core"]
    nodes = _two({"w0": 0.01, "w1": 1.0}, {"w0": 0.01, "w2": 1.0}, names=names)
    assert agglomerate(nodes, params) == []  # (one language: the average decides)
