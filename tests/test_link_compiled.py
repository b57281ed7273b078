"""The compiled cores (``link.kernel`` through ``link.compiled``) leave what the Python cores
leave, to the bit: the same merges in the same order, and on every node the same sums with
their entries in the same order, the same neighbours, counts, times and days. Checked on
random nodes that take every path: stored threads with weights above 1, headlines alone,
two languages, roundups, undated nodes, years and names that gate, pairs kept apart; and on
a generated batch clustered end to end."""

from __future__ import annotations

import copy
import json
import logging
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bench.corpus import articles as synthetic_articles
from digest.cluster import link
from digest.cluster.link import compiled, pure
from digest.cluster.link.pure import LinkParams, Node, dot
from digest.cluster.nodes import STEPS
from digest.config import Settings
from digest.pipeline import RunOptions, run_once
from digest.store import Store

pytestmark = pytest.mark.skipif(not compiled.available(), reason="numba is not installed")

START = datetime(2026, 5, 1, tzinfo=UTC)
DAY = date(2026, 1, 6)
NOW = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)
PARAMS = LinkParams(threshold=0.05, attach_threshold=0.03, keep_terms=9)  # cuts often


def _on_grid(rng: random.Random, words: list[str], n: int, scale: int = 1) -> dict[str, float]:
    weights = {w: float(rng.randint(1, 9)) for w in rng.sample(words, n)}
    length = sum(x * x for x in weights.values()) ** 0.5
    return {w: round(x / length * STEPS * scale) / STEPS for w, x in weights.items()}


def _nodes(seed: int) -> tuple[dict[str, Node], frozenset[frozenset[str]]]:
    rng = random.Random(seed)  # noqa: S311 (test data)
    words = [f"w{i}" for i in range(14)]  # few words: many pairs score, many ties
    people = [f"@p{i}" for i in range(6)]
    nodes = {}
    for i in range(50):
        stored = rng.random() < 0.2
        size = rng.randint(2, 6) if stored else 1
        day = (START + timedelta(days=rng.randint(0, 5))).date().toordinal()
        dated = rng.random() < 0.85
        node_id = f"t{i:02d}" if stored else f"a:{i:02d}"
        seen = START + timedelta(hours=rng.randint(0, 30))  # ties in age too
        nodes[node_id] = Node(
            id=node_id,
            title=node_id,
            members=[f"{node_id}-{k}" for k in range(size)],
            first_seen=seen,
            last_updated=seen + timedelta(hours=1),
            vec=_on_grid(rng, words, rng.randint(3, 8), scale=size),
            names=_on_grid(rng, people, rng.randint(1, 3)) if rng.random() < 0.7 else {},
            years={f"#{rng.choice((2025, 2026))}": float(size)} if rng.random() < 0.6 else {},
            day_lo=day if dated else None,
            day_hi=day + (rng.randint(0, 2) if stored else 0) if dated else None,
            stored=stored,
            roundup=rng.random() < 0.05,
            short=size if rng.random() < 0.15 else 0,
            lang="de" if rng.random() < 0.1 else "en",
            added=[] if stored else [node_id[2:]],
        )
    ids = sorted(nodes)
    for node_id in ids:  # each with a few candidate neighbours, the dots on both sides
        for other_id in rng.sample(ids, 7):
            if other_id != node_id:
                a, b = nodes[node_id], nodes[other_id]
                a.cross[other_id] = b.cross[node_id] = dot(a.vec, b.vec)
    apart = frozenset(frozenset(rng.sample(ids, 2)) for _ in range(3))
    return nodes, apart


def _state(nodes: dict[str, Node]) -> dict[str, Any]:
    """Everything a node holds after the cores (a dict's order too: signatures keep it)."""
    return {
        node_id: (
            n.alive,
            n.version,
            n.members,
            n.added,
            n.short,
            n.roundup,
            n.first_seen,
            n.last_updated,
            n.day_lo,
            n.day_hi,
            list(n.vec.items()),
            list(n.names.items()),
            list(n.years.items()) if n.alive else None,
            sorted(n.cross.items()),
        )
        for node_id, n in nodes.items()
    }


def test_the_compiled_cores_leave_what_the_python_cores_leave() -> None:
    merges = kept_apart = 0
    for seed in range(80):
        nodes, apart = _nodes(seed)
        twin = copy.deepcopy(nodes)
        plain, apart_plain = pure.Apart(apart), pure.Apart(apart)
        expected = pure.cores(nodes, PARAMS, apart_plain)
        found = compiled.cores(twin, PARAMS, plain)
        assert found == expected, seed
        assert _state(twin) == _state(nodes), seed
        assert plain.pairs == apart_plain.pairs, seed
        merges += len(found)
        kept_apart += sum(len(p) for p in plain.pairs.values())
    assert merges > 1500  # (the seeds merge plenty, across every path above)
    assert kept_apart > 0


def test_these_nodes_take_every_path() -> None:
    """The random nodes above do meet each case of the score: a check that they test it."""
    scorer = pure.Scorer(PARAMS)
    seen = {"headlines": 0, "languages": 0, "roundup": 0, "names apart": 0, "years": 0}
    for seed in range(80):
        nodes, _ = _nodes(seed)
        for a in nodes.values():
            for b_id in a.cross:
                b = nodes[b_id]
                s = scorer.ungated(a, b, a.cross[b_id])
                seen["headlines"] += (a.short == a.size or b.short == b.size) and s > 0
                seen["languages"] += a.lang != b.lang and s > 0
                seen["roundup"] += a.roundup or b.roundup
                if s >= PARAMS.threshold:
                    gated = scorer.gated(a, b, s)
                    seen["names apart"] += gated == 0.0
                    seen["years"] += 0.0 < gated < s
    assert all(n > 20 for n in seen.values()), seen


def test_agglomerate_gives_the_same_merges_compiled_or_not() -> None:
    for seed in range(20):
        nodes, apart = _nodes(seed)
        twin = copy.deepcopy(nodes)
        expected = link.agglomerate(nodes, PARAMS, apart=apart, compiled_from=10**9)
        assert link.agglomerate(twin, PARAMS, apart=apart, compiled_from=0) == expected
        assert _state(twin) == _state(nodes)


def test_a_weight_off_the_grid_falls_back_to_python(caplog: pytest.LogCaptureFixture) -> None:
    nodes, apart = _nodes(3)
    first = next(iter(nodes.values()))
    term = next(iter(first.vec))
    first.vec[term] += 1e-7  # (no run makes one: its weights are whole steps)
    twin = copy.deepcopy(nodes)
    with pytest.raises(compiled.OffGrid):
        compiled.cores(copy.deepcopy(nodes), PARAMS, pure.Apart(apart))
    expected = link.agglomerate(nodes, PARAMS, apart=apart, compiled_from=10**9)
    with caplog.at_level(logging.WARNING, logger="digest.cluster.link"):
        assert link.agglomerate(twin, PARAMS, apart=apart, compiled_from=0) == expected
    assert "clustering in Python: a weight off the 1/16384 grid" in caplog.text
    assert _state(twin) == _state(nodes)


def test_a_generated_batch_is_stored_the_same_either_way(
    tmp_path: Path, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A generated batch run end to end, with the cores compiled and in Python: the same
    threads, signatures (their entries in order) and reasons in the store."""
    dump = tmp_path / "in" / "day.jsonl"
    dump.parent.mkdir()
    lines = [json.dumps(a) for a in synthetic_articles(700, seed=4)]
    dump.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tables, calls = [], []
    real = compiled.cores

    def spy(*args: Any) -> list[pure.Merge]:
        calls.append(len(args[0]))
        return real(*args)

    monkeypatch.setattr(compiled, "cores", spy)
    for side, least in (("python", 10**9), ("compiled", 0)):
        monkeypatch.setattr(link, "COMPILED_NODES", least)
        settings = make_settings(f"store.path='{tmp_path / side}.sqlite3'")
        with Store(settings.store.path) as store:
            options = RunOptions(day=DAY, inputs=(dump,), captured_at=NOW, publish=False)
            run_once(settings, now=NOW, store=store, options=options)
            tables.append(
                [
                    store.db.execute(q).fetchall()
                    for q in (
                        "SELECT id, thread_id FROM articles ORDER BY id",
                        "SELECT id, signature FROM threads ORDER BY id",
                        "SELECT article_id, thread_id, via, score, terms, names"
                        " FROM thread_reasons ORDER BY article_id",
                    )
                ]
            )
    assert tables[0] == tables[1]
    assert max(calls, default=0) > 600  # (the compiled side did run compiled)
    threads = {thread for _, thread in tables[0][0]}
    assert 20 < len(threads) < 300  # (it merged plenty)
