"""Candidate neighbours from the array index are what a plain loop over the articles gives:
postings added in publication order and forgotten past the window, a term posted by too
many nodes left unprobed, the best by shared weight with ties by id, stored threads found
by their heaviest terms, and the threads one article links crossed with each other."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import numpy as np

from digest.cluster.candidates import IndexParams, link_candidates
from digest.cluster.link import Node, dot, heaviest_first
from digest.cluster.nodes import STEPS, PackedVectors
from digest.models import Article

START = datetime(2026, 5, 1, tzinfo=UTC)
PARAMS = IndexParams(window_days=1.0, probe_terms=4, index_terms=6, max_candidates=3, common=5)


def _vector(rng: random.Random, words: list[str], n: int) -> dict[str, float]:
    """A unit-ish vector of whole steps, heaviest first, ties by term (as vectorised)."""
    items = [(w, rng.choice((1, 2, 3, 3, 5)) * 512 / STEPS) for w in rng.sample(words, n)]
    heaviest_first(items)
    return dict(items)


def _node(node_id: str, vec: dict[str, float], *, stored: bool) -> Node:
    return Node(
        id=node_id,
        title=node_id,
        members=[node_id],
        first_seen=START,
        last_updated=START,
        vec=vec,
        names={},
        years={},
        day_lo=None,
        day_hi=None,
        stored=stored,
    )


def _batch(seed: int) -> tuple[dict[str, Node], list[Article]]:
    rng = random.Random(seed)  # noqa: S311 (test data)
    words = [f"w{i}" for i in range(14)]  # few words: common terms and many ties
    nodes = {f"t{k}": _node(f"t{k}", _vector(rng, words, 9), stored=True) for k in range(4)}
    # a thread's weights are sums of its articles' (whole steps still): one of ~1000 members
    # makes products past 32 bits
    nodes["t0"].vec = {t: w * 1009 for t, w in nodes["t0"].vec.items()}
    articles = []
    for i in range(60):  # ~2.5 days: articles leave the window
        published = START + timedelta(hours=i * rng.choice((0.5, 1, 1.5)))
        a = Article(
            id=f"{i:03d}",
            canonical_url=f"https://example.test/{i}",
            outlet="Ledger",
            title=f"report {i}",
            text="",
            published=published,
            fetched_at=published,
            source="test",
            origin="test",
        )
        articles.append(a)
        nodes["a:" + a.id] = _node(
            "a:" + a.id, _vector(rng, words, rng.randint(0, 8)), stored=False
        )
    articles.sort(key=lambda a: (a.published, a.id))
    return nodes, articles


def _reference(
    nodes: dict[str, Node], order: list[Article], p: IndexParams
) -> dict[str, dict[str, float]]:
    """The loop the index stands for, written plainly."""
    cross: dict[str, dict[str, float]] = defaultdict(dict)
    stored_under: dict[str, list[str]] = defaultdict(list)
    for node in nodes.values():
        if node.stored:
            items = list(node.vec.items())
            heaviest_first(items)
            for term, _ in items[: p.index_terms]:
                stored_under[term].append(node.id)
    posted: list[tuple[datetime, str, list[str]]] = []
    for article in order:
        me = nodes["a:" + article.id]
        live = [
            (t, i, ts)
            for t, i, ts in posted
            if article.published - t <= timedelta(days=p.window_days)
        ]
        heaviest = list(me.vec)[: p.index_terms]
        shared: dict[str, float] = defaultdict(float)
        for term in heaviest[: p.probe_terms]:
            ids = [i for _, i, ts in live if term in ts]
            if len(ids) + len(stored_under[term]) <= p.common:
                for other in [*stored_under[term], *ids]:
                    shared[other] += me.vec[term]
        best = sorted(shared.items(), key=lambda kv: (-kv[1], kv[0]))[: p.max_candidates]
        for other, _ in best:
            cross[me.id][other] = cross[other][me.id] = dot(me.vec, nodes[other].vec)
        threads = [o for o, _ in best if nodes[o].stored]
        for x in threads:
            for y in threads:
                if x != y:
                    cross[x][y] = dot(nodes[x].vec, nodes[y].vec)
        posted.append((article.published, me.id, heaviest))
    return cross


def test_the_index_finds_what_a_plain_loop_finds() -> None:
    checked = 0
    for seed in range(25):
        nodes, order = _batch(seed)
        expected = _reference(nodes, order, PARAMS)
        link_candidates(nodes, order, PARAMS)
        got = {node.id: node.cross for node in nodes.values() if node.cross}
        assert got == {k: v for k, v in expected.items() if v}, seed
        checked += sum(map(len, got.values()))
    assert checked > 1000  # (the batches do link)


def _packed(
    vecs: list[dict[str, float]], number: dict[str, int], rng: random.Random
) -> list[PackedVectors]:
    """The vectors as ``packed_nodes`` gives them: groups of arrays, terms numbered."""
    groups: list[PackedVectors] = []
    start = 0
    while start < len(vecs):  # groups of varied sizes, some empty
        part = vecs[start : start + rng.randint(0, 7)]
        start += len(part)
        tids = [number.setdefault(t, len(number)) for v in part for t in v]
        steps = [round(w * STEPS) for v in part for w in v.values()]
        groups.append(
            PackedVectors(
                np.array(tids, dtype=np.int32),
                np.array(steps, dtype=np.int32),
                np.array([len(v) for v in part], dtype=np.int64),
            )
        )
    return groups


def test_the_articles_given_as_arrays_find_what_their_dicts_find() -> None:
    """``packed``: the articles' vectors as arrays (how a run gives them), the numbers of
    their terms in any order, the stored threads' terms found among them."""
    for seed in range(25):
        nodes, order = _batch(seed)
        expected = _reference(nodes, order, PARAMS)
        rng = random.Random(seed)  # noqa: S311 (test data)
        # some terms numbered already (by earlier groups), in any order
        number = {t: k for k, t in enumerate(rng.sample([f"w{i}" for i in range(14)], 6))}
        groups = _packed([nodes["a:" + a.id].vec for a in order], number, rng)
        link_candidates(nodes, order, PARAMS, packed=groups, number=number)
        assert groups == []  # (consumed)
        got = {node.id: node.cross for node in nodes.values() if node.cross}
        assert got == {k: v for k, v in expected.items() if v}, seed


def test_an_empty_batch_links_nothing() -> None:
    nodes, _ = _batch(1)
    stored = {k: n for k, n in nodes.items() if n.stored}
    link_candidates(stored, [], PARAMS)
    assert all(not n.cross for n in stored.values())


def test_a_threads_indexed_terms_are_its_heaviest_first_ties_by_term() -> None:
    """The terms a stored thread is indexed by: the first of its entries sorted heaviest
    first, ties by term, whichever order its vector holds them in (many ties here)."""
    import random

    from digest.cluster.link import heaviest_first, top_entries

    rng = random.Random(30)  # noqa: S311 (test data)
    for _ in range(200):
        terms = rng.sample([f"t{i}" for i in range(300)], rng.randint(0, 80))
        vec = {t: rng.randint(1, 6) / 16384 for t in terms}
        keep = rng.randint(1, 40)
        items = list(vec.items())
        heaviest_first(items)
        expected = [t for t, _ in items[:keep]]
        found = top_entries(vec, keep, larger_ties=False)
        assert sorted(found) == sorted(expected)
