"""Articles + SeenIndex → DedupeResult: exact keys first, then near-duplicate text.

Near duplicates (a wire story re-published with a new headline and a few edits) are found
with word-shingle MinHash signatures and LSH banding, so a batch is never compared all
against all:

1. tokens     lower-cased words of the body (runs of letters/digits; apostrophes, dashes
              and quotes split), found and hashed on the UTF-8 bytes with numpy: a fixed
              polynomial hash, never Python's salted ``hash()``
2. shingles   every run of ``shingle_words`` words inside one text, hashed into 64 bits
3. minhash    ``num_perm`` multiply-add hash functions with fixed constants; the minimum of
              each over the shingles, top 32 bits kept (fits JSON and SQLite integers)
4. lsh        ``bands`` bands of ``num_perm / bands`` rows; articles sharing a band bucket
              are candidates, verified by the estimated Jaccard (share of equal minima)

Pure: no I/O, no clock. Articles are processed in (published, id) order and the first wins.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from digest.models import Article, DedupeResult, Duplicate
from digest.text import letters

MIN_WORDS = 15  # shorter texts (headline-only items) are matched by exact keys only
CHUNK_DOCS = 128  # articles hashed per numpy pass (bounds memory: num_perm x shingles)
_U64 = np.uint64
_EMPTY = 2**32 - 1  # signature value of a text without shingles
_SMALL = 1 << 16  # shingles x num_perm up to which one matrix beats a loop per permutation
# Word bytes: ASCII letters and digits, and any non-ASCII byte except the punctuation below.
_BYTES = np.arange(256)
_WORD_BYTES = np.isin(_BYTES, list(b"abcdefghijklmnopqrstuvwxyz0123456789")) | (_BYTES >= 128)
# UTF-8 punctuation treated as separators: U+0080-U+00BF (nbsp, «», ©, °…) and U+2000-U+207F
# (spaces, dashes, curly quotes, ellipsis), as (lead byte, second bytes, sequence length).
_PUNCT_UTF8 = (
    (0xC2, _BYTES // 64 == 2, 2),  # second byte 0x80-0xBF
    (0xE2, np.isin(_BYTES, (0x80, 0x81)), 3),
)
_MIX1, _MIX2 = _U64(0xBF58476D1CE4E5B9), _U64(0x94D049BB133111EB)  # splitmix64 finaliser


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
class Fingerprint:
    article_id: str
    minhash: tuple[int, ...]  # num_perm ints in [0, 2**32)
    title_key: str = ""  # ``title_key(outlet, title)`` of the article


@dataclass(frozen=True, slots=True, kw_only=True)
class SeenIndex:
    keys: frozenset[str]  # those of the batch's exact keys already stored (see batch_keys)
    fingerprints: tuple[Fingerprint, ...]  # recent stored articles, for near-dup detection


# ── hashing ───────────────────────────────────────────────────────────────────────────────


def _hash64(label: str) -> int:
    return int.from_bytes(hashlib.blake2b(label.encode("utf-8"), digest_size=8).digest(), "big")


@lru_cache(maxsize=64)
def _constants(label: str, count: int, odd: bool = True) -> np.ndarray:
    """``count`` fixed 64-bit constants (odd ones multiply bijectively mod 2**64)."""
    values = [_hash64(f"{label}:{i}") | int(odd) for i in range(count)]
    return np.array(values, dtype=_U64)


@lru_cache(maxsize=4)
def _powers(size: int) -> tuple[np.ndarray, np.ndarray]:
    """R**k and R**-k mod 2**64 for k < size (R odd, so it has an inverse)."""
    radix = _constants("radix", 1)[0]
    inverse = _U64(pow(int(radix), -1, 2**64))
    up, down = np.full(size, radix, dtype=_U64), np.full(size, inverse, dtype=_U64)
    up[0] = down[0] = 1
    return np.cumprod(up, dtype=_U64), np.cumprod(down, dtype=_U64)


def _word_bytes(data: np.ndarray) -> np.ndarray:
    """True where a byte belongs to a word: a-z, 0-9, or non-ASCII that is not punctuation."""
    word: np.ndarray = _WORD_BYTES[data]
    for lead, second, width in _PUNCT_UTF8:
        last = len(data) - width + 1
        if last > 0:
            starts = np.flatnonzero((data[:last] == lead) & second[data[1 : last + 1]])
            for k in range(width):
                word[starts + k] = False
    return word


def _tokens(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hash of every lower-cased word in ``texts`` (in order) and the index of its text."""
    encoded = [t.lower().encode("utf-8") for t in texts]
    data = np.frombuffer(b"\n".join(encoded), dtype=np.uint8)
    edges = np.diff(_word_bytes(data).view(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    up, down = _powers(1 << max(10, len(data).bit_length()))
    prefix = np.zeros(len(data) + 1, dtype=_U64)
    np.cumsum(data.astype(_U64) * up[: len(data)], out=prefix[1:])
    hashes = prefix[ends]
    hashes -= prefix[starts]
    hashes *= down[starts]
    _mix(hashes)
    text_starts = np.cumsum([0] + [len(e) + 1 for e in encoded[:-1]])
    return hashes, np.searchsorted(text_starts, starts, side="right") - 1


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, in place: spreads every input bit over the output."""
    values ^= values >> _U64(31)
    values *= _MIX1
    values ^= values >> _U64(27)
    values *= _MIX2
    values ^= values >> _U64(31)
    return values


def _shingles(hashes: np.ndarray, text: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Hash of every run of ``n`` words within one text, and the index of that text."""
    total = len(hashes) - n + 1
    if total <= 0:
        return np.zeros(0, dtype=_U64), np.zeros(0, dtype=np.int64)
    weights = _constants("shingle", n)
    acc = hashes[:total] * weights[0]
    for i in range(1, n):
        acc += hashes[i : i + total] * weights[i]
    inside = text[:total] == text[n - 1 :]
    return _mix(acc[inside]), text[:total][inside]


def _minima(shingles: np.ndarray, offsets: np.ndarray, num_perm: int) -> np.ndarray:
    """Per text (starting at ``offsets``), the minimum of each hash function, top 32 bits."""
    mul = _constants("minhash:a", num_perm)
    add = _constants("minhash:b", num_perm, odd=False)
    if len(shingles) * num_perm <= _SMALL:  # one small matrix: fewer numpy calls
        values = mul[:, None] * shingles
        values += add[:, None]  # in place: numpy's `a * b + c` is ~7x slower here
        return np.minimum.reduceat(values, offsets, axis=1).T >> _U64(32)
    out = np.empty((len(offsets), num_perm), dtype=_U64)
    scratch = np.empty_like(shingles)
    for p in range(num_perm):  # one row at a time stays in cache (a big matrix does not)
        np.multiply(shingles, mul[p], out=scratch)
        scratch += add[p]
        out[:, p] = np.minimum.reduceat(scratch, offsets) >> _U64(32)
    return out


def _minhash_chunk(texts: Sequence[str], params: DedupeParams) -> tuple[np.ndarray, np.ndarray]:
    hashes, text = _tokens(texts)
    shingles, owner = _shingles(hashes, text, params.shingle_words)
    counts = np.bincount(owner, minlength=len(texts))
    has = np.flatnonzero(counts)
    out = np.full((len(texts), params.num_perm), _EMPTY, dtype=_U64)
    if len(has):
        out[has] = _minima(shingles, (np.cumsum(counts) - counts)[has], params.num_perm)
    return out, np.bincount(text, minlength=len(texts))


def minhashes(texts: Sequence[str], params: DedupeParams) -> tuple[np.ndarray, np.ndarray]:
    """MinHash signatures (len(texts) x num_perm, values < 2**32) and word counts.

    A text with fewer than ``shingle_words`` words has no shingles and gets all 2**32 - 1.
    """
    sigs = [np.zeros((0, params.num_perm), dtype=_U64)]
    counts = [np.zeros(0, dtype=np.int64)]
    for i in range(0, len(texts), CHUNK_DOCS):
        chunk_sigs, chunk_counts = _minhash_chunk(texts[i : i + CHUNK_DOCS], params)
        sigs.append(chunk_sigs)
        counts.append(chunk_counts)
    return np.concatenate(sigs), np.concatenate(counts)


def fingerprint(article: Article, params: DedupeParams = DedupeParams()) -> Fingerprint:
    """The MinHash fingerprint of the article body (for the store's recent-articles window)."""
    return fingerprints([article], params)[0]


def fingerprints(
    articles: Sequence[Article], params: DedupeParams = DedupeParams()
) -> tuple[Fingerprint, ...]:
    """``fingerprint`` of many articles in one vectorised pass (much faster than one by one)."""
    signatures, _ = minhashes([a.text for a in articles], params)
    return tuple(
        Fingerprint(article_id=a.id, minhash=tuple(s), title_key=title_key(a.outlet, a.title))
        for a, s in zip(articles, signatures.tolist(), strict=True)
    )


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


# A band value shared by more articles than this is boilerplate or house style, not a copy:
# its bucket is passed over (a real copy shares many other bands). Without the cap the
# candidates per article grow with the corpus, and dedupe with its square.
_CROWDED = 48


class _Lsh:
    """Band buckets over a preallocated signature matrix (private, mutable, one call)."""

    def __init__(self, params: DedupeParams, capacity: int) -> None:
        rows = params.num_perm // params.bands
        self.weights = _constants("band", rows)
        self.shape = (params.bands, rows)
        self.buckets: list[dict[int, int | list[int]]] = [{} for _ in range(params.bands)]
        self.matrix = np.zeros((capacity, params.num_perm), dtype=_U64)
        self.ids: list[str] = []

    def band_keys(self, signatures: np.ndarray) -> list[list[int]]:
        banded = signatures.reshape(len(signatures), *self.shape)
        keys: list[list[int]] = (banded * self.weights).sum(axis=2, dtype=_U64).tolist()
        return keys

    def add(self, article_id: str, signature: np.ndarray, keys: list[int]) -> None:
        index = len(self.ids)
        self.ids.append(article_id)
        self.matrix[index] = signature
        for bucket, key in zip(self.buckets, keys, strict=True):
            held = bucket.setdefault(key, index)  # a lone int: millions of lists slow the GC
            if isinstance(held, list):
                held.append(index)
            elif held != index:
                bucket[key] = [held, index]

    def best(self, signature: np.ndarray, keys: list[int]) -> tuple[str, float] | None:
        """The most similar indexed article (earliest on ties) and its estimated Jaccard."""
        found: set[int] = set()
        for bucket, key in zip(self.buckets, keys, strict=True):
            held = bucket.get(key)
            if isinstance(held, int):
                found.add(held)
            elif held and len(held) <= _CROWDED:
                found.update(held)
        if not found:
            return None
        candidates = np.array(sorted(found))
        similarity = (self.matrix[candidates] == signature).mean(axis=1)
        top = int(np.argmax(similarity))
        return self.ids[candidates[top]], float(similarity[top])


class _Batch:
    """What one dedupe call has accepted so far (private, mutable)."""

    def __init__(self, seen: SeenIndex, params: DedupeParams, capacity: int) -> None:
        self.seen, self.params = seen, params
        self.owners: dict[str, str] = {}  # exact key → id of the article kept for it
        self.texts: dict[str, tuple[str, str]] = {}  # content hash → (id, outlet) kept
        self.titles = {f.article_id: f.title_key for f in seen.fingerprints}  # id → title key
        usable = [f for f in seen.fingerprints if len(f.minhash) == params.num_perm]
        self.lsh = _Lsh(params, len(usable) + capacity)
        if usable:  # fingerprints made with another num_perm cannot be compared
            prints = np.array([f.minhash for f in usable], dtype=_U64)
            for fp, sig, keys in zip(usable, prints, self.lsh.band_keys(prints), strict=True):
                self.lsh.add(fp.article_id, sig, keys)

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

    def keep(self, article: Article, signature: np.ndarray, bands: list[int]) -> None:
        self.alias(article, article.id)
        self.titles[article.id] = title_key(article.outlet, article.title)
        if _long(article):
            self.texts.setdefault(article.content_hash, (article.id, article.outlet.casefold()))
        self.lsh.add(article.id, signature, bands)


def _judge(
    batch: _Batch, article: Article, signature: np.ndarray, count: int, bands: list[int]
) -> Duplicate | None:
    """Exact key → "exact"; same text elsewhere or similar enough text → "near"; else None."""
    near = batch.lsh.best(signature, bands) if count >= MIN_WORDS else None
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
    articles: Sequence[Article], seen: SeenIndex, params: DedupeParams = DedupeParams()
) -> DedupeResult:
    """Split ``articles`` into new ones and duplicates (of stored or earlier batch articles).

    ``new`` is in processing order: by (published, id), so the earliest copy is the original.
    """
    order = sorted(articles, key=lambda a: (a.published, a.id))
    signatures, counts = minhashes([a.text for a in order], params)
    batch = _Batch(seen, params, len(order))
    band_keys = batch.lsh.band_keys(signatures)
    new: list[Article] = []
    duplicates: list[Duplicate] = []
    for article, signature, count, bands in zip(order, signatures, counts, band_keys, strict=True):
        duplicate = _judge(batch, article, signature, int(count), bands)
        if duplicate is None:
            batch.keep(article, signature, bands)
            new.append(article)
        else:
            batch.alias(article, duplicate.of_id)
            duplicates.append(duplicate)
    return DedupeResult(new=tuple(new), duplicates=tuple(duplicates))
