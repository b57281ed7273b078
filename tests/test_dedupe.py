"""dedupe: exact keys, syndicated copies, near duplicates by MinHash/LSH (pure)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from digest.dedupe import (
    DedupeParams,
    Fingerprint,
    SeenIndex,
    dedupe,
    exact_keys,
    fingerprint,
    fingerprints,
    minhashes,
)
from digest.models import Article, RawItem
from digest.normalize import normalize

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
EMPTY = SeenIndex(keys=frozenset(), fingerprints=())
SHARED = Path(__file__).resolve().parents[2] / "shared"

# A fictional wire story, and the same story as another outlet ran it: new headline,
# three sentences edited, one dropped, a credit line added.
WIRE = """President Amara Voss of Veloria and Chancellor Ilian Dorsey of Karsten met on Tuesday
in the coastal city of Port Halden for their first talks since the border dispute flared last
spring.

The two leaders spent nearly three hours discussing fishing rights in the Grey Sound, where
patrol boats from both countries have clashed four times this year.

Officials from both delegations said the talks produced a draft agreement to set up a joint
coast guard hotline and to share satellite data on fishing fleets.

"We did not solve everything today, but we stopped shouting across the water," Voss told
reporters after the meeting.

Dorsey said his government would send the draft to parliament within a month and called the
session frank and useful.

Fishing unions in Karsten, which have staged protests at several harbours, said they would
wait to see the final text before ending their blockade.

Analysts in the Velorian capital said the hotline was a modest step but noted that the two
sides had not met at this level for almost two years.

A second round of talks is expected in the autumn, according to a statement released by the
Velorian foreign ministry."""

REWRITE = """President Amara Voss of Veloria and Chancellor Ilian Dorsey of Karsten met on Tuesday
in the coastal city of Port Halden for their first talks since the border dispute flared last
spring.

The two leaders spent almost three hours on fishing rights in the Grey Sound, the strait where
patrol boats from both countries have clashed four times this year.

Officials from both delegations said the talks produced a draft agreement to set up a joint
coast guard hotline and to share satellite data on fishing fleets.

"We did not solve everything today, but we stopped shouting across the water," Voss told
reporters after the meeting.

Chancellor Dorsey told lawmakers the draft would reach parliament within a month, calling the
session frank and useful.

Fishing unions in Karsten, which have staged protests at several harbours, said they would
wait to see the final text before ending their blockade.

A second round of talks is expected in the autumn, according to a statement released by the
Velorian foreign ministry.

Reporting by the Meridian Wire desk."""

# Another meeting of the same two leaders: same names, same topic area, different event.
OTHER_MEETING = """President Amara Voss of Veloria and Chancellor Ilian Dorsey of Karsten met
again on Friday, this time in the inland city of Brenmoor, to discuss tariffs on steel and
grain that have hurt farmers on both sides of the border.

The meeting lasted less than an hour and ended without a joint statement, officials said.

Voss said Veloria would keep its grain levy in place until Karsten lifted its quota on steel
imports, a demand Dorsey rejected as unrealistic.

"Trade is not a favour we grant each other," Dorsey said at a news conference, adding that
his ministers would prepare a counter-proposal before the summer recess.

Steelworkers gathered outside the conference hall with banners calling for a fair deal, and
police closed two streets in the city centre for most of the afternoon.

Economists said the dispute had cut trade between the two countries by about a fifth since
January."""


def article(
    text: str,
    *,
    outlet: str = "Meridian Wire",
    title: str = "Leaders agree coast guard hotline",
    url: str | None = "https://meridian.example/world/hotline",
    hours: float = 0.0,
) -> Article:
    return normalize(
        RawItem(
            source=outlet.lower().replace(" ", "-"),
            outlet=outlet,
            origin="test",
            url=url,
            title=title,
            text=text,
            published=NOW - timedelta(hours=hours),
            fetched_at=NOW,
        )
    )


def jaccard(a: Article, b: Article) -> float:
    signatures, _ = minhashes([a.text, b.text], DedupeParams())
    return float((signatures[0] == signatures[1]).mean())


def summary(result: object) -> tuple[tuple[str, ...], tuple[tuple[str, str, str], ...]]:
    new = tuple(a.id for a in result.new)  # type: ignore[attr-defined]
    dups = tuple((d.article.id, d.of_id, d.reason) for d in result.duplicates)  # type: ignore[attr-defined]
    return new, dups


# ── exact ─────────────────────────────────────────────────────────────────────────────────


def test_exact_keys() -> None:
    a = article(WIRE)
    keys = exact_keys(a)
    assert keys[0] == f"id:{a.id}"
    assert keys[1] == "url:https://meridian.example/world/hotline"
    assert keys[2] == f"hash:{a.content_hash}@meridian wire"
    headline_only = article("Leaders meet.", url=None)
    assert exact_keys(headline_only) == (f"id:{headline_only.id}",)


def test_same_url_twice_in_batch_is_exact() -> None:
    first = article(WIRE, hours=2)
    again = article(WIRE, url="https://meridian.example/world/hotline/?utm_source=rss")
    result = dedupe([again, first], EMPTY)
    assert result.new == (first,)
    assert summary(result)[1] == ((again.id, first.id, "exact"),)


def test_same_text_same_outlet_other_url_is_exact() -> None:
    first = article(WIRE, hours=1)
    mirror = article(WIRE, url="https://meridian.example/print/8812")
    result = dedupe([first, mirror], EMPTY)
    assert summary(result) == ((first.id,), ((mirror.id, first.id, "exact"),))


def test_exact_against_seen_keys() -> None:
    stored = article(WIRE)
    seen = SeenIndex(keys=frozenset(exact_keys(stored)), fingerprints=(fingerprint(stored),))
    refetched = article(WIRE, url="https://meridian.example/world/hotline#comments")
    result = dedupe([refetched], seen)
    assert summary(result) == ((), ((refetched.id, stored.id, "exact"),))


def test_same_outlet_copy_of_stored_text_names_the_stored_article() -> None:
    stored = article(WIRE, hours=30)
    seen = SeenIndex(keys=frozenset(exact_keys(stored)), fingerprints=(fingerprint(stored),))
    copy = article(WIRE, url="https://meridian.example/archive/1")
    unknown = SeenIndex(keys=seen.keys, fingerprints=())  # original left the window
    assert summary(dedupe([copy], seen))[1] == ((copy.id, stored.id, "exact"),)
    assert summary(dedupe([copy], unknown))[1] == ((copy.id, "", "exact"),)


# ── near and syndicated ───────────────────────────────────────────────────────────────────


def test_syndicated_copy_from_another_outlet_is_near_and_credits_it() -> None:
    wire = article(WIRE, hours=3)
    copy = article(WIRE, outlet="Valley Courier", url="https://courier.example/a/77")
    result = dedupe([copy, wire], EMPTY)
    assert result.new == (wire,)
    (dup,) = result.duplicates
    assert (dup.of_id, dup.reason, dup.article.outlet) == (wire.id, "near", "Valley Courier")


def test_rewritten_wire_story_is_near_duplicate() -> None:
    wire = article(WIRE, hours=3)
    rewrite = article(
        REWRITE,
        outlet="Valley Courier",
        title="Veloria and Karsten agree hotline after fishing clashes",
        url="https://courier.example/world/veloria-karsten",
    )
    assert 0.4 <= jaccard(wire, rewrite) < 0.95
    result = dedupe([wire, rewrite], EMPTY)
    assert summary(result) == ((wire.id,), ((rewrite.id, wire.id, "near"),))


def test_near_duplicate_of_a_stored_fingerprint() -> None:
    wire = article(WIRE, hours=26)
    stored = Fingerprint(article_id=wire.id, minhash=fingerprint(wire).minhash)
    seen = SeenIndex(keys=frozenset(exact_keys(wire)), fingerprints=(stored,))
    rewrite = article(REWRITE, outlet="Valley Courier", url="https://courier.example/b")
    assert summary(dedupe([rewrite], seen)) == ((), ((rewrite.id, wire.id, "near"),))


def test_different_meetings_of_the_same_leaders_are_not_duplicates() -> None:
    first = article(WIRE, hours=48)
    second = article(
        OTHER_MEETING, title="Tariff talks end without deal", url="https://meridian.example/w/2"
    )
    assert jaccard(first, second) < 0.15
    result = dedupe([first, second], EMPTY)
    assert result.new == (first, second)
    assert result.duplicates == ()


@pytest.mark.parametrize("outlet", ["Meridian Wire", "Valley Courier"])
def test_short_texts_are_never_near_duplicates(outlet: str) -> None:
    text = "Leaders of Veloria and Karsten met in Port Halden on Tuesday."
    first = article(text, hours=1, url="https://meridian.example/brief/1")
    second = article(text + " More soon.", outlet=outlet, url="https://other.example/brief/2")
    same = article(text, outlet=outlet, url="https://other.example/brief/3")
    result = dedupe([first, second, same], EMPTY)
    assert result.duplicates == ()
    assert len(result.new) == 3


def test_earliest_published_is_the_original() -> None:
    early = article(REWRITE, outlet="Valley Courier", url="https://courier.example/c", hours=5)
    late = article(WIRE, hours=1)
    result = dedupe([late, early], EMPTY)
    assert summary(result) == ((early.id,), ((late.id, early.id, "near"),))


def test_copies_of_a_duplicate_resolve_to_the_original() -> None:
    wire = article(WIRE, hours=3)
    copy = article(WIRE, outlet="Valley Courier", url="https://courier.example/d", hours=2)
    copy_again = replace(copy, published=NOW)
    result = dedupe([wire, copy, copy_again], EMPTY)
    assert [(d.of_id, d.reason) for d in result.duplicates] == [
        (wire.id, "near"),
        (wire.id, "exact"),
    ]


def test_empty_batch() -> None:
    assert dedupe([], EMPTY) == dedupe((), EMPTY)
    assert dedupe([], EMPTY).new == ()


# ── fingerprints ──────────────────────────────────────────────────────────────────────────


def test_fingerprint_is_compact_bytes() -> None:
    """4 bytes per permutation (JSON took ~11), and 8 per band key."""
    fp = fingerprint(article(WIRE))
    assert isinstance(fp.minhash, bytes)
    assert len(fp.minhash) == 4 * DedupeParams().num_perm
    assert len(fp.bands) == 8 * DedupeParams().bands
    values = np.frombuffer(fp.minhash, dtype="<u4")
    assert int(values.max()) < 2**32 - 1  # all 2**32 - 1: no shingles


def test_a_text_without_shingles_has_no_band_keys() -> None:
    assert fingerprint(article("Too short")).bands == b""


def test_fingerprint_matches_batch_signatures() -> None:
    texts = [WIRE, REWRITE, OTHER_MEETING, "", "too short"]
    signatures, counts = minhashes(texts, DedupeParams())
    for text, signature in zip(texts, signatures, strict=True):
        assert fingerprint(article(text)).minhash == signature.astype("<u4").tobytes()
    assert counts[3] == 0
    assert set(signatures[3].tolist()) == {2**32 - 1}
    batch = [article(t, url=f"https://meridian.example/{i}") for i, t in enumerate(texts)]
    assert fingerprints(batch) == tuple(fingerprint(a) for a in batch)


def test_fingerprints_are_the_same_in_another_process() -> None:
    code = (
        "import sys; from tests.test_dedupe import WIRE, article;"
        "from digest.dedupe import fingerprint; print(fingerprint(article(WIRE)).minhash.hex())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=root
    )
    assert out.stdout.strip() == fingerprint(article(WIRE)).minhash.hex()


def test_results_are_deterministic() -> None:
    batch = [
        article(WIRE, hours=3),
        article(REWRITE, outlet="Valley Courier", url="https://courier.example/e"),
        article(OTHER_MEETING, url="https://meridian.example/w/9", hours=1),
    ]
    runs = {summary(dedupe(order, EMPTY)) for order in (batch, batch[::-1], batch[1:] + batch[:1])}
    assert len(runs) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"num_perm": 64, "bands": 24}, "multiple of bands"),
        ({"bands": 0}, "multiple of bands"),
        ({"shingle_words": 0}, "shingle_words"),
    ],
)
def test_params_are_checked(changes: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DedupeParams(**changes)


def test_fingerprints_of_other_params_are_ignored() -> None:
    wire = article(WIRE, hours=26)
    old = Fingerprint(article_id=wire.id, minhash=fingerprint(wire).minhash[:128])
    rewrite = article(REWRITE, outlet="Valley Courier", url="https://courier.example/f")
    result = dedupe([rewrite], SeenIndex(keys=frozenset(), fingerprints=(old,)))
    assert result.new == (rewrite,)


def test_other_params_still_find_the_rewrite() -> None:
    params = DedupeParams(num_perm=128, bands=32, shingle_words=4)
    wire = article(WIRE, hours=3)
    rewrite = article(REWRITE, outlet="Valley Courier", url="https://courier.example/g")
    seen = SeenIndex(keys=frozenset(), fingerprints=(fingerprint(wire, params),))
    assert summary(dedupe([rewrite], seen, params))[1] == ((rewrite.id, wire.id, "near"),)


# ── real text from shared/seeds (read at run time, never copied) ────────────────────────────


def test_the_same_outlets_article_met_again_with_a_shorter_excerpt_is_seen_not_a_copy() -> None:
    """An aggregator page lists yesterday's story again, with a shorter excerpt and a new
    relative time, so its id differs: it is the article already stored (shown once), not a
    copy that credits its own outlet a second time (news-days T12-1 on day 2)."""
    body = " ".join(f"Sentence {i} of the report on the harbour strike talks." for i in range(30))
    stored = article(
        body, title="Dockers strike over pay", outlet="Harbour Daily", url=None, hours=20
    )
    excerpt = " ".join(body.split()[:200])
    again = article(excerpt, title="Dockers strike over pay", outlet="Harbour Daily", url=None)
    seen = SeenIndex(keys=frozenset(exact_keys(stored)), fingerprints=(fingerprint(stored),))
    result = dedupe([again], seen)
    assert [(d.of_id, d.reason) for d in result.duplicates] == [(stored.id, "exact")]
    copy = article(excerpt, title="Dockers strike over pay", outlet="Bay Wire", url=None)
    assert [d.reason for d in dedupe([copy], seen).duplicates] == ["near"]


def test_seed_articles_copied_by_another_outlet() -> None:
    seeds = sorted((SHARED / "seeds").glob("*.txt")) if SHARED.is_dir() else []
    if not seeds:
        pytest.skip(f"shared seeds not found at {SHARED / 'seeds'}")
    originals = [
        article(p.read_text(encoding="utf-8"), url=f"https://seed.example/{p.stem}", hours=2)
        for p in seeds
    ]
    copies = [
        article(a.text, outlet="Valley Courier", title="Copy", url=f"{a.canonical_url}/copy")
        for a in originals
    ]
    result = dedupe(copies + originals, EMPTY)
    assert {a.id for a in result.new} == {a.id for a in originals}
    assert {(d.article.outlet, d.reason) for d in result.duplicates} == {("Valley Courier", "near")}


def test_a_house_footer_shared_by_many_stories_neither_joins_them_nor_hides_a_copy() -> None:
    """Sixty different stories end with the same long footer, so some LSH band values are
    shared by all of them (crowded buckets, passed over); the rewritten wire story is still
    found through its other bands, and the stories stay apart."""
    footer = (
        " Meridian Wire keeps its reporting free to read for everyone in the region, and"
        " relies on readers who support independent journalism with a monthly gift."
    )
    stories = [
        article(
            " ".join(f"item{i}word{j}" for j in range(50)) + "." + footer,
            title=f"Council {i} votes",
            url=f"https://meridian.example/local/{i}",
            hours=5 + i / 100,
        )
        for i in range(60)
    ]
    wire = article(WIRE, hours=3)
    rewrite = article(
        REWRITE,
        outlet="Valley Courier",
        title="Veloria and Karsten agree hotline after fishing clashes",
        url="https://courier.example/world/veloria-karsten",
    )
    result = dedupe([*stories, wire, rewrite], EMPTY)
    assert [d.article.id for d in result.duplicates] == [rewrite.id]
    assert len(result.new) == 61


def test_crowded_band_buckets_are_passed_over() -> None:
    """A band value shared by more than ``CROWDED`` articles finds no candidates; a
    signature that also shares other bands with one article still finds that one."""
    import numpy as np

    from digest.dedupe import CROWDED, _Lsh

    params = DedupeParams()
    lsh = _Lsh(params, capacity=CROWDED + 2)
    for i in range(CROWDED + 1):  # all share band 0's value, nothing else
        keys = [7] + [1000 * i + b for b in range(1, params.bands)]
        lsh.add(f"a{i}", np.full(params.num_perm, i, dtype=np.uint64), keys)
    probe = [7] + [-b for b in range(1, params.bands)]
    assert lsh.best(np.zeros(params.num_perm, dtype=np.uint64), probe) is None
    probe[5] = 1000 * 3 + 5  # shares band 5 with a3 as well
    found = lsh.best(np.full(params.num_perm, 3, dtype=np.uint64), probe)
    assert found == ("a3", 1.0)
