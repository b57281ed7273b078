"""dedupe's LSH buckets (numpy arrays): the same candidates as a dict of lists per band key,
crowded buckets passed over, and copies of a duplicate judged against the original."""

from __future__ import annotations

import numpy as np
import pytest

from digest.dedupe import CROWDED, DedupeParams, SeenIndex, _Lsh, dedupe, fingerprint
from tests.test_dedupe import EMPTY, REWRITE, WIRE, article

PARAMS = DedupeParams()


class _Reference:
    """The buckets as they were specified: a list of kept rows per band key, a row once
    when it holds a key alone; a list longer than CROWDED, or a crowded key, is skipped."""

    def __init__(self, crowded: frozenset[int]) -> None:
        self.buckets: dict[int, list[int]] = {}
        self.crowded = crowded
        self.rows: list[np.ndarray] = []
        self.ids: list[str] = []

    def add(self, article_id: str, signature: np.ndarray, keys: list[int]) -> None:
        index = len(self.ids)
        self.ids.append(article_id)
        self.rows.append(signature)
        for key in keys:
            held = self.buckets.setdefault(key, [])
            if held != [index]:
                held.append(index)

    def best(self, signature: np.ndarray, keys: list[int]) -> tuple[str, float] | None:
        held = [self.buckets.get(k, []) for k in keys if k not in self.crowded]
        found = {i for rows in held if len(rows) <= max(CROWDED, 1) for i in rows}
        if not found:
            return None
        candidates = sorted(found)
        similarity = [float((self.rows[i] == signature).mean()) for i in candidates]
        top = int(np.argmax(similarity))
        return self.ids[candidates[top]], similarity[top]


STORED, COUNT = 40, 240  # rows: the stored ones, then the batch's


def _kept(row: int) -> bool:
    return row < STORED or row % 4 != 1  # every fourth batch row is a duplicate


def _rows() -> tuple[np.ndarray, np.ndarray]:
    """Band keys with buckets of every size around CROWDED, keys held twice by one row
    (63-bit collisions), and signatures of few values (many ties)."""
    rng = np.random.default_rng(16)
    keys = 10_000 * np.arange(COUNT)[:, None] + np.arange(PARAMS.bands)
    keys[:, 0] = 7  # one bucket for all
    keys[:, 1] = 100 + np.arange(COUNT) // (CROWDED + 20)  # filled, then over
    keys[:, 2] = 200 + np.arange(COUNT) % 3
    keys[::2, 3] = 300 + rng.integers(COUNT // 8, size=len(keys[::2]))
    holders = [r for r in range(COUNT) if _kept(r)][:CROWDED]
    keys[holders, 8] = keys[holders[0], 9] = 555  # the first holds it twice: one entry
    keys[holders, 10] = keys[holders[-1], 11] = 556  # the last holds it twice: two
    keys[200, 8], keys[201, 10] = 555, 556  # the probes (nothing else shared)
    keys[200:202, :4] = -1 - 10_000 * np.arange(200, 202)[:, None] - np.arange(4)
    signatures = rng.integers(3, size=(COUNT, PARAMS.num_perm)).astype(np.uint64)
    return keys.astype(np.int64), signatures


def _collisions(keys: np.ndarray) -> list[int]:
    """The rows of ``keys`` that hold one key twice."""
    return [row for row, held in enumerate(keys.tolist()) if len(set(held)) < len(held)]


@pytest.mark.parametrize("planned", ["stored at once", "planned", "unplanned"])
@pytest.mark.parametrize("crowded", [frozenset(), frozenset({7, 201, 305})])
def test_buckets_give_what_lists_per_key_gave(planned: str, crowded: frozenset[int]) -> None:
    """``planned``: the buckets laid out from every row's keys, the stored rows added at
    once (``add_first``, with a row holding a key twice among them) or one by one; or not
    laid out (rows added one by one)."""
    keys, signatures = _rows()
    assert 0 in _collisions(keys[:STORED])  # the stored rows hold a key twice, in row 0
    at_once, row_of = planned == "stored at once", planned != "unplanned"
    if row_of:
        plan = (keys[:STORED], keys[STORED:])
        sources = (signatures[:STORED], signatures[STORED:])
        lsh = _Lsh(PARAMS, COUNT, crowded, keys=plan, signatures=sources)
    else:
        lsh = _Lsh(PARAMS, COUNT, crowded)
    reference = _Reference(crowded)
    if at_once:
        lsh.add_first([f"r{row}" for row in range(STORED)])
    answers = {}
    for row in range(COUNT):
        if row >= STORED:
            expected = reference.best(signatures[row], keys[row].tolist())
            answers[row] = lsh.best(signatures[row], keys[row], row if row_of else None)
            assert answers[row] == expected, row
        if _kept(row):
            if not (at_once and row < STORED):
                lsh.add(f"r{row}", signatures[row], keys[row], row if row_of else None)
            reference.add(f"r{row}", signatures[row], keys[row].tolist())
    assert answers[200] is not None  # CROWDED entries: read
    assert answers[201] is None  # CROWDED + 1: passed over
    assert len(set(answers.values())) > 20


def test_a_copy_of_a_near_duplicate_is_a_duplicate_of_the_original() -> None:
    """The rewrite is not kept, so its copy from a third outlet meets the wire story only."""
    wire = article(WIRE, hours=3)
    rewrite = article(REWRITE, outlet="Valley Courier", url="https://courier.example/r", hours=2)
    copy = article(REWRITE, outlet="Harbour Post", url="https://post.example/r", hours=1)
    result = dedupe([copy, rewrite, wire], EMPTY)
    assert [a.id for a in result.new] == [wire.id]
    assert [(d.article.id, d.of_id, d.reason) for d in result.duplicates] == [
        (rewrite.id, wire.id, "near"),
        (copy.id, wire.id, "near"),
    ]


@pytest.mark.parametrize("stored", [True, False])
def test_band_keys_crowded_in_the_store_are_passed_over(stored: bool) -> None:
    """A stored or batch original met only through crowded keys is not found; one key left
    uncrowded is enough."""
    wire = article(WIRE, hours=3)
    rewrite = article(REWRITE, outlet="Valley Courier", url="https://courier.example/r")
    wire_keys = np.frombuffer(fingerprint(wire).bands, dtype=np.int64).tolist()
    rewrite_keys = set(np.frombuffer(fingerprint(rewrite).bands, dtype=np.int64).tolist())
    shared = [k for k in wire_keys if k in rewrite_keys]
    assert len(shared) > 1
    prints = (fingerprint(wire),) if stored else ()
    batch = [rewrite] if stored else [wire, rewrite]
    for crowded, found in ((frozenset(shared), False), (frozenset(shared[1:]), True)):
        seen = SeenIndex(keys=frozenset(), fingerprints=prints, crowded=crowded)
        result = dedupe(batch, seen)
        assert [(d.of_id, d.reason) for d in result.duplicates] == (
            [(wire.id, "near")] if found else []
        )
