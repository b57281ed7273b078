"""Articles + SeenIndex → DedupeResult: exact keys first, then near-duplicate text.

Near duplicates (a wire story re-published with a new headline and a few edits) are found
with word-shingle MinHash signatures and LSH banding (``digest.minhash``), so a batch is
never compared all against all, and the store is never read whole:

1. sign       each article's MinHash and band keys, once per run (``sign``)
2. look up    the pipeline asks the store which of the batch's exact keys it holds and
              which stored articles of the recent window share a band key with the batch
              (``SeenIndex``: an index lookup, whatever the store's size)
3. judge      in (published, id) order, the first wins: exact keys, the same text from
              another outlet, then candidates sharing a band, verified by the estimated
              Jaccard (share of equal minima)

Pure: no I/O, no clock. The signatures of the articles kept go out with the result, so the
store saves them without hashing again.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from digest import minhash
from digest.models import Article, DedupeResult, Duplicate, Fingerprint
from digest.text import letters

__all__ = [
    "CROWDED",
    "DedupeParams",
    "Fingerprint",
    "SeenIndex",
    "Signed",
    "batch_keys",
    "dedupe",
    "exact_keys",
    "fingerprint",
    "fingerprints",
    "minhashes",
    "sign",
    "title_key",
]

MIN_WORDS = 15  # shorter texts (headline-only items) are matched by exact keys only
# A band value shared by more articles than this is boilerplate or house style, not a copy:
# its bucket is passed over (a real copy shares many other bands). Without the cap the
# candidates per article grow with the corpus, and dedupe with its square.
CROWDED = 48


@dataclass(frozen=True, slots=True, kw_only=True)
class DedupeParams:
    shingle_words: int = 5  # word n-gram size for near-duplicate shingles
    # Estimated Jaccard of the body shingles at or above which two texts are near duplicates.
    # A wire story re-run with a new headline and 2-3 edited sentences scores 0.55-0.9. On
    # ECB+ (982 real articles) no pair from different events scores above 0.07, not even two
    # events of the same kind, while syndicated copies score 0.4-1.0; 0.4 keeps a wide margin
    # over the estimate's noise (sd ~0.06 at 64 permutations).
    near_threshold: float = 0.4
    num_perm: int = 64  # MinHash permutations
    # 32 bands of 2 rows: a pair at Jaccard 0.4 becomes a candidate with p = 0.996
    # (16 x 4 would miss a third of the pairs at 0.4 and a tenth at 0.6).
    bands: int = 32

    def __post_init__(self) -> None:
        if self.bands < 1 or self.num_perm % self.bands:
            raise ValueError("dedupe params: num_perm must be a multiple of bands")
        if self.shingle_words < 1:
            raise ValueError("dedupe params: shingle_words must be at least 1")


@dataclass(frozen=True, slots=True, kw_only=True)
class SeenIndex:
    """What the store knows that touches one batch (the answer of the pipeline's lookup)."""

    keys: frozenset[str]  # those of the batch's exact keys already stored (see batch_keys)
    # stored articles of the recent window sharing a band key with the batch
    fingerprints: tuple[Fingerprint, ...]
    # band keys the window's stored articles share more than CROWDED times (passed over)
    crowded: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Signed:
    """A batch's MinHash, computed once per run (``sign``)."""

    order: tuple[Article, ...]  # by (published, id): the processing order
    signatures: np.ndarray  # len(order) x num_perm, values < 2**32
    counts: np.ndarray  # words per text
    bands: np.ndarray = field(repr=False)  # len(order) x bands band keys

    def lookup_bands(self) -> BandKeys:
        """The band keys the store is asked about: those of texts long enough to judge,
        each once, in ascending order (the store's binary search needs it)."""
        keys = np.sort(self.bands[self.counts >= MIN_WORDS], axis=None)
        # each once, by sorting: numpy 2's np.unique hashes integers, 3.4 s for 3.2M keys
        # (a 100k batch's) where a sort and a comparison with the neighbour take 0.02 s
        return BandKeys(
            keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys
        )


class BandKeys(Collection[int]):
    """Band keys, ascending, each once, kept as one int64 array, which the store matches in
    numpy (``digest.fingerprints.candidates``); iterated, they come as Python ints a chunk
    at a time: 100k articles have 3.2M keys, 100 MB as a tuple of ints, 26 MB here."""

    __slots__ = ("keys",)
    _CHUNK = 1 << 16

    def __init__(self, keys: npt.NDArray[np.int64]) -> None:
        self.keys = keys

    def __len__(self) -> int:
        return len(self.keys)

    def __iter__(self) -> Iterator[int]:
        for start in range(0, len(self.keys), self._CHUNK):
            yield from self.keys[start : start + self._CHUNK].tolist()

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, int):
            return False
        at = int(np.searchsorted(self.keys, key))
        return at < len(self.keys) and int(self.keys[at]) == key


# ── signatures ────────────────────────────────────────────────────────────────────────────


def minhashes(texts: Sequence[str], params: DedupeParams) -> tuple[np.ndarray, np.ndarray]:
    """MinHash signatures (len(texts) x num_perm, values < 2**32) and word counts.

    A text with fewer than ``shingle_words`` words has no shingles and gets all 2**32 - 1.
    """
    return minhash.signatures(texts, shingle_words=params.shingle_words, num_perm=params.num_perm)


def sign(articles: Sequence[Article], params: DedupeParams = DedupeParams()) -> Signed:
    """The batch in processing order with its signatures and band keys."""
    order = tuple(sorted(articles, key=lambda a: (a.published, a.id)))
    signatures, counts = minhashes([a.text for a in order], params)
    bands = minhash.band_keys(signatures, params.bands)
    return Signed(order=order, signatures=signatures, counts=counts, bands=bands)


def _fingerprint(article: Article, signature: np.ndarray, bands: np.ndarray) -> Fingerprint:
    """A text without shingles gets no band keys: no text can share its bands."""
    shingled = int(signature.min()) < minhash.EMPTY
    return Fingerprint(
        article_id=article.id,
        minhash=minhash.to_bytes(signature),
        title_key=title_key(article.outlet, article.title),
        bands=bands.tobytes() if shingled else b"",
    )


def fingerprint(article: Article, params: DedupeParams = DedupeParams()) -> Fingerprint:
    """The MinHash fingerprint of the article body (what the store keeps for it)."""
    return fingerprints([article], params)[0]


def fingerprints(
    articles: Sequence[Article], params: DedupeParams = DedupeParams()
) -> tuple[Fingerprint, ...]:
    """``fingerprint`` of many articles in one vectorised pass (much faster than one by one)."""
    signed = sign(articles, params)
    rows = zip(signed.order, signed.signatures, signed.bands, strict=True)
    by_id = {a.id: _fingerprint(a, sig, bands) for a, sig, bands in rows}
    return tuple(by_id[a.id] for a in articles)


# ── exact keys ────────────────────────────────────────────────────────────────────────────


def _long(article: Article) -> bool:
    return len(article.text.split(maxsplit=MIN_WORDS - 1)) >= MIN_WORDS


def exact_keys(article: Article) -> tuple[str, ...]:
    """Keys that identify the same article: id, canonical URL, and content hash per outlet.

    The content key is scoped to the outlet (``hash:<content_hash>@<outlet>``): the same text
    from another outlet is a syndicated copy, reported as a near duplicate so the outlet is
    still credited. Headline-only items get no content key (titles like "Morning briefing"
    repeat with new content).
    """
    keys = [f"id:{article.id}"]
    if article.canonical_url:
        keys.append(f"url:{article.canonical_url}")
    if article.content_hash and _long(article):
        keys.append(f"hash:{article.content_hash}@{article.outlet.casefold()}")
    return tuple(keys)


def batch_keys(articles: Sequence[Article]) -> tuple[str, ...]:
    """Every exact key of a batch: what the store is asked about (``SeenIndex.keys``)."""
    return tuple(dict.fromkeys(k for a in articles for k in exact_keys(a)))


def title_key(outlet: str, title: str) -> str:
    """An outlet and its title: with a similar text, the same article met again (an
    aggregator page lists yesterday's story with a shorter excerpt and a new relative
    time), not a copy to credit; alone it proves nothing ("Markets wrap" every day)."""
    return f"{letters(title)}@{outlet.casefold()}"


# ── dedupe ────────────────────────────────────────────────────────────────────────────────


class _Lsh:
    """Band buckets in flat numpy arrays (private, mutable, one call).

    Rows are the articles indexed: the stored ones, then the batch in processing order. A
    bucket is a band key that several rows hold; its slots (one per holder) take the rows
    as they are added, in order, as a list per key would, so ``best`` sees what a dict of
    lists gave, in a few arrays instead of millions of Python ints (100k articles: 3.2M
    keys, ~250 MB as a dict).

    ``keys``: the band keys of every row (matrices of ``bands`` columns, rows in order). The
    buckets are laid out once, without the keys one row holds alone (no other row can meet
    them), and each row's buckets are listed, so ``add`` and ``best`` can be given a row
    number instead. Without ``keys`` (a few rows: tests) rows are added in order and the
    buckets laid out again when ``best`` follows an ``add``. ``signatures``: matrices of
    the rows' signatures in the same order, read in place; without it ``add`` copies them.
    """

    def __init__(
        self,
        params: DedupeParams,
        capacity: int,
        crowded: frozenset[int] = frozenset(),
        *,
        keys: Sequence[np.ndarray] | None = None,
        signatures: Sequence[np.ndarray] | None = None,
    ) -> None:
        self.crowded = np.array(sorted(crowded), dtype=np.int64)
        self.ids = [""] * capacity  # by row
        self.size = 0  # rows up to the last one added
        self.matrix: np.ndarray | None = None
        if signatures is None:
            self.matrix = np.zeros((capacity, params.num_perm), dtype=np.uint64)
            signatures = (self.matrix,)
        self.sources = tuple(signatures)
        self.offsets = np.cumsum([0] + [len(m) for m in self.sources]).tolist()
        self.collide: set[int] = set()  # rows holding one bucket twice (a 63-bit collision)
        self.added: np.ndarray | None = None  # without a plan: the keys of the rows added
        self.dirty = False
        if keys is None:
            self.added = np.zeros((capacity, params.bands), dtype=np.int64)
            self._layout(np.zeros(0, dtype=np.int64), shared_only=False)
        else:
            flat = np.concatenate([np.zeros(0, np.int64), *(np.ravel(k) for k in keys)])
            self._layout(flat.astype(np.int64, copy=False), shared_only=True)
            self._list(keys)

    def _layout(self, flat: np.ndarray, *, shared_only: bool) -> None:
        """Empty buckets for the keys in ``flat`` (sorted in place), a slot per holder."""
        flat.sort()
        if shared_only:
            same = flat[1:] == flat[:-1]
            held = np.zeros(len(flat), dtype=bool)
            held[1:] |= same
            held[:-1] |= same
            flat = flat[held]
        first = np.flatnonzero(np.concatenate(([True], flat[1:] != flat[:-1])))[: len(flat)]
        sizes = np.diff(np.append(first, len(flat)))
        keys = flat[first]
        if len(self.crowded):  # crowded among the stored articles alone: never read
            read = ~np.isin(keys, self.crowded)
            keys, sizes = keys[read], sizes[read]
        self.keys = keys
        self.start = np.cumsum(sizes) - sizes
        self.count = np.zeros(len(keys), dtype=np.int32)  # rows in each bucket so far
        self.slots = np.zeros(int(sizes.sum()), dtype=np.int32)  # the rows, bucket by bucket

    def _find(self, keys: np.ndarray) -> np.ndarray:
        """The bucket of each of ``keys`` (any shape), -1 for none."""
        if not len(self.keys):
            return np.full(keys.shape, -1, dtype=np.intp)
        found = np.searchsorted(self.keys, keys)
        np.minimum(found, len(self.keys) - 1, out=found)
        found[self.keys[found] != keys] = -1
        return found

    def _list(self, keys: Sequence[np.ndarray], chunk: int = 4096) -> None:
        """Each row's buckets, in band order: ``buckets[bounds[row]:bounds[row + 1]]``."""
        counts, found = [np.zeros(1, dtype=np.int64)], [np.zeros(0, dtype=np.int32)]
        row = 0
        for matrix in keys:
            for lo in range(0, len(matrix), chunk):
                buckets = self._find(matrix[lo : lo + chunk])
                hit = buckets >= 0
                counts.append(hit.sum(axis=1))
                found.append(buckets[hit].astype(np.int32))
                ordered = np.sort(buckets, axis=1)
                twice = (ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)
                self.collide.update((row + lo + np.flatnonzero(twice.any(axis=1))).tolist())
            row += len(matrix)
        self.bounds = np.cumsum(np.concatenate(counts))
        self.buckets = np.concatenate(found)

    def _of_row(self, row: int) -> np.ndarray:
        lo, hi = self.bounds[row : row + 2].tolist()
        held: np.ndarray = self.buckets[lo:hi]
        return held

    def _of_keys(self, keys: Sequence[int] | np.ndarray) -> np.ndarray:
        found = self._find(np.asarray(keys, dtype=np.int64))
        held: np.ndarray = found[found >= 0]
        return held

    def _fill(self, index: int, buckets: np.ndarray, collide: bool) -> None:
        if not collide:  # each bucket once: all at once
            count = self.count[buckets]
            self.slots[self.start[buckets] + count] = index
            self.count[buckets] = count + 1
            return
        for bucket in buckets.tolist():
            count, start = int(self.count[bucket]), int(self.start[bucket])
            if count == 1 and self.slots[start] == index:
                continue  # a lone holder is not held twice (as the dict's lone ints were not)
            self.slots[start + count] = index
            self.count[bucket] = count + 1

    def add(
        self,
        article_id: str,
        signature: np.ndarray,
        keys: Sequence[int] | np.ndarray,
        row: int | None = None,
    ) -> None:
        """Row ``row`` (default: the next one; rows not kept are never added) joins the
        buckets of its band ``keys`` (with a plan, those the plan listed for the row)."""
        index = self.size if row is None else row
        self.size = index + 1
        self.ids[index] = article_id
        if self.matrix is not None:
            self.matrix[index] = signature
        if self.added is not None:
            self.added[index] = keys
            self.dirty = True
            return
        buckets = self._of_row(index)
        if len(buckets):
            self._fill(index, buckets, index in self.collide)

    def add_first(self, article_ids: Sequence[str]) -> None:
        """Rows 0..n-1 (the stored ones, before any other) join their planned buckets, in
        one pass of arrays: what ``add`` of each in turn gives. A row holding a bucket
        twice (a 63-bit collision, ~never) goes through ``add``, in its turn."""
        if self.added is not None or self.matrix is not None or self.size:
            raise ValueError("add_first takes the first rows of a planned index")
        n, done = len(article_ids), 0
        for row in sorted(r for r in self.collide if r < n):
            self._fill_span(done, row)
            self._fill(row, self._of_row(row), True)
            done = row + 1
        self._fill_span(done, n)
        self.ids[:n] = article_ids
        self.size = n

    def _fill_span(self, first: int, end: int) -> None:
        """Rows ``first:end``, none holding a bucket twice, join their buckets in row order."""
        lo, hi = self.bounds[first], self.bounds[end]
        buckets = self.buckets[lo:hi]
        if not len(buckets):
            return
        rows = np.repeat(
            np.arange(first, end, dtype=np.int32), np.diff(self.bounds[first : end + 1])
        )
        by_bucket = np.argsort(buckets, kind="stable")  # (row order kept within a bucket)
        ordered = buckets[by_bucket]
        group_start = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        group_size = np.diff(np.append(group_start, len(ordered)))
        rank = np.arange(len(ordered)) - np.repeat(group_start, group_size)
        self.slots[self.start[ordered] + self.count[ordered] + rank] = rows[by_bucket]
        self.count[ordered[group_start]] += group_size.astype(np.int32)

    def _relayout(self, added: np.ndarray) -> None:
        """Without a plan: the buckets of the rows ``added`` so far, from scratch."""
        self._layout(added.ravel().copy(), shared_only=False)
        for index, keys in enumerate(added):
            buckets = self._of_keys(keys)
            self._fill(index, buckets, len(np.unique(buckets)) < len(buckets))
        self.dirty = False

    def _rows(self, indexes: np.ndarray) -> np.ndarray:
        """The signatures of rows ``indexes`` (ascending)."""
        first, last = int(indexes[0]), int(indexes[-1])
        for source, offset in zip(self.sources, self.offsets, strict=False):
            if offset <= first and last < offset + len(source):  # all in one (the usual case)
                rows: np.ndarray = source[indexes - offset if offset else indexes]
                return rows
        cuts = np.searchsorted(indexes, self.offsets).tolist()
        spans = zip(self.sources, self.offsets, cuts[:-1], cuts[1:], strict=False)
        return np.concatenate([source[indexes[a:b] - offset] for source, offset, a, b in spans])

    def best(
        self, signature: np.ndarray, keys: Sequence[int] | np.ndarray, row: int | None = None
    ) -> tuple[str, float] | None:
        """The most similar indexed article (earliest on ties) and its estimated Jaccard;
        ``row``: the asking row of the plan, whose buckets stand for ``keys``."""
        if self.added is not None and self.dirty:
            self._relayout(self.added[: self.size])
        buckets = self._of_row(row) if self.added is None and row is not None else None
        buckets = self._of_keys(keys) if buckets is None else buckets
        if not len(buckets):
            return None  # no key shared with another row: the usual case
        count = self.count[buckets]
        taken = (count > 0) & (count <= max(CROWDED, 1))  # a lone row always
        buckets, count = buckets[taken], count[taken]
        if not len(buckets):
            return None
        starts = self.start[buckets]
        if count.max() == 1:
            members = self.slots[starts]
        else:
            spans = zip(starts.tolist(), count.tolist(), strict=True)
            members = np.concatenate([self.slots[s : s + c] for s, c in spans])
        members.sort()
        candidates = members[np.concatenate(([True], members[1:] != members[:-1]))]
        similarity = (self._rows(candidates) == signature).mean(axis=1)
        top = int(np.argmax(similarity))
        return self.ids[candidates[top]], float(similarity[top])


class _Batch:
    """What one dedupe call has accepted so far (private, mutable)."""

    def __init__(self, seen: SeenIndex, params: DedupeParams, signed: Signed) -> None:
        self.seen, self.params = seen, params
        self.owners: dict[str, str] = {}  # exact key → id of the article kept for it
        self.texts: dict[str, tuple[str, str]] = {}  # content hash → (id, outlet) kept
        self.titles = {f.article_id: f.title_key for f in seen.fingerprints}  # id → title key
        width = 4 * params.num_perm  # fingerprints made with another num_perm cannot be compared
        usable = [f for f in seen.fingerprints if len(f.minhash) == width]
        prints = minhash.from_bytes([f.minhash for f in usable], params.num_perm)
        keys = minhash.band_keys(prints, params.bands)
        self.lsh = _Lsh(
            params,
            len(usable) + len(signed.order),
            seen.crowded,
            keys=(keys, signed.bands),
            signatures=(prints, signed.signatures),
        )
        self.lsh.add_first([f.article_id for f in usable])
        self.stored = len(usable)  # the batch's rows follow: row = stored + place in order

    def exact(
        self, article: Article, keys: tuple[str, ...], near: tuple[str, float] | None
    ) -> str | None:
        """Id of the article this one repeats by an exact key ("" if only known by key)."""
        for key in keys:
            if key in self.owners:
                return self.owners[key]
        if any(key in self.seen.keys for key in keys):
            if f"id:{article.id}" in self.seen.keys:
                return article.id
            return near[0] if near and near[1] == 1.0 else ""
        same = near and self.titles.get(near[0]) == title_key(article.outlet, article.title)
        if near and same and near[1] >= self.params.near_threshold:
            return near[0]  # the same outlet's article, met again
        return None

    def syndicated(self, article: Article) -> str | None:
        kept = self.texts.get(article.content_hash) if _long(article) else None
        return kept[0] if kept and kept[1] != article.outlet.casefold() else None

    def alias(self, article: Article, original: str) -> None:
        """Later copies of a duplicate resolve to its original."""
        for key in exact_keys(article):
            self.owners.setdefault(key, original)

    def keep(self, article: Article, signature: np.ndarray, bands: np.ndarray, row: int) -> None:
        self.alias(article, article.id)
        self.titles[article.id] = title_key(article.outlet, article.title)
        if _long(article):
            self.texts.setdefault(article.content_hash, (article.id, article.outlet.casefold()))
        self.lsh.add(article.id, signature, bands, row)


def _judge(
    batch: _Batch,
    article: Article,
    signature: np.ndarray,
    count: int,
    bands: np.ndarray,
    row: int,
) -> Duplicate | None:
    """Exact key → "exact"; same text elsewhere or similar enough text → "near"; else None."""
    near = batch.lsh.best(signature, bands, row) if count >= MIN_WORDS else None
    if near and near[0] == article.id:
        near = None
    original = batch.exact(article, exact_keys(article), near)
    if original is not None:
        return Duplicate(article=article, of_id=original, reason="exact")
    original = batch.syndicated(article)
    if original is None and near and near[1] >= batch.params.near_threshold:
        original = near[0]
    return None if original is None else Duplicate(article=article, of_id=original, reason="near")


def dedupe(
    articles: Sequence[Article],
    seen: SeenIndex,
    params: DedupeParams = DedupeParams(),
    *,
    signed: Signed | None = None,
) -> DedupeResult:
    """Split ``articles`` into new ones and duplicates (of stored or earlier batch articles);
    ``signed``: their ``sign`` when the pipeline already has it (it asked the store about
    its band keys). The result carries the new articles' fingerprints, for the store.

    ``new`` is in processing order: by (published, id), so the earliest copy is the original.
    """
    signed = signed or sign(articles, params)
    batch = _Batch(seen, params, signed)
    new: list[Article] = []
    prints: list[Fingerprint] = []
    duplicates: list[Duplicate] = []
    rows = zip(signed.order, signed.signatures, signed.counts, signed.bands, strict=True)
    for row, (article, signature, count, bands) in enumerate(rows, start=batch.stored):
        duplicate = _judge(batch, article, signature, int(count), bands, row)
        if duplicate is None:
            batch.keep(article, signature, bands, row)
            new.append(article)
            prints.append(_fingerprint(article, signature, bands))
        else:
            batch.alias(article, duplicate.of_id)
            duplicates.append(duplicate)
    return DedupeResult(new=tuple(new), duplicates=tuple(duplicates), fingerprints=tuple(prints))
