"""MinHash signatures of texts, their LSH band keys and their stored form (pure, numpy).

1. tokens     lower-cased words of the body (runs of letters/digits; apostrophes, dashes
              and quotes split), found and hashed on the UTF-8 bytes with numpy: a fixed
              polynomial hash, never Python's salted ``hash()``
2. shingles   every run of ``shingle_words`` words inside one text, hashed into 64 bits
3. minhash    ``num_perm`` multiply-add hash functions with fixed constants; the minimum of
              each over the shingles, top 32 bits kept (stored as 4 bytes each)
4. bands      ``bands`` bands of ``num_perm / bands`` rows, each hashed with its band number
              into one 63-bit key: two texts sharing a key share that band (the store keeps
              the keys in an index, so candidates are one batch query away)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

CHUNK_DOCS = 128  # articles hashed per numpy pass (bounds memory: num_perm x shingles)
_U64 = np.uint64
EMPTY = 2**32 - 1  # signature value of a text without shingles
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


def _chunk(
    texts: Sequence[str], shingle_words: int, num_perm: int
) -> tuple[np.ndarray, np.ndarray]:
    hashes, text = _tokens(texts)
    shingles, owner = _shingles(hashes, text, shingle_words)
    counts = np.bincount(owner, minlength=len(texts))
    has = np.flatnonzero(counts)
    out = np.full((len(texts), num_perm), EMPTY, dtype=_U64)
    if len(has):
        out[has] = _minima(shingles, (np.cumsum(counts) - counts)[has], num_perm)
    return out, np.bincount(text, minlength=len(texts))


def signatures(
    texts: Sequence[str], *, shingle_words: int, num_perm: int
) -> tuple[np.ndarray, np.ndarray]:
    """MinHash signatures (len(texts) x num_perm, values < 2**32) and word counts.

    A text with fewer than ``shingle_words`` words has no shingles and gets all 2**32 - 1.
    """
    sigs = [np.zeros((0, num_perm), dtype=_U64)]
    counts = [np.zeros(0, dtype=np.int64)]
    for i in range(0, len(texts), CHUNK_DOCS):
        chunk_sigs, chunk_counts = _chunk(texts[i : i + CHUNK_DOCS], shingle_words, num_perm)
        sigs.append(chunk_sigs)
        counts.append(chunk_counts)
    return np.concatenate(sigs), np.concatenate(counts)


def band_keys(signatures: np.ndarray, bands: int) -> np.ndarray:
    """One 63-bit key per band of each signature (len x bands, int64, never negative)."""
    rows = signatures.shape[1] // bands
    banded = signatures.reshape(len(signatures), bands, rows)
    keys = (banded * _constants("band", rows)).sum(axis=2, dtype=_U64)
    keys += _constants("band:number", bands, odd=False)
    return (_mix(keys) >> _U64(1)).astype(np.int64)


def to_bytes(signature: np.ndarray) -> bytes:
    """A signature as stored: 4 little-endian bytes per value."""
    return signature.astype("<u4").tobytes()


def from_bytes(blobs: Sequence[bytes], num_perm: int) -> np.ndarray:
    """Stored signatures back as a matrix (len x num_perm, uint64)."""
    if not blobs:
        return np.zeros((0, num_perm), dtype=_U64)
    return np.frombuffer(b"".join(blobs), dtype="<u4").reshape(len(blobs), num_perm).astype(_U64)
