"""The floor of the pipeline: what its pieces cost done by plain library calls.

Each piece runs on the same generated dumps as ``bench.pipeline``'s run, in a fresh Python
process (``bench.pipeline`` starts one per piece), so its peak RSS is its own. What a piece
needs but does not do (the decoded dumps, the rows, the TF-IDF) is prepared before its
clock starts; its peak RSS includes that input, as ours includes its own.

- ``read``      read every dump and decode its JSON lines
- ``tokenise``  ``re.findall(r"\\w+", text.lower())`` over every title and body (counted,
                not kept)
- ``rows``      one store row per article as a tuple shaped like ``digest.rows.article_row``
                (sha256 ids and content hashes, ISO times, JSON authors)
- ``sqlite``    insert all rows in one transaction into a scratch SQLite file, in a table
                shaped like our ``articles`` table (its primary key and indexes)
- ``minhash``   the project's numpy MinHash over the bodies' shingles
                (``digest.minhash.signatures`` and ``band_keys`` with ``DedupeParams()``,
                as ``digest.dedupe.sign`` calls them)
- ``tfidf``     ``bench.peers.tfidf``: scikit-learn's TfidfVectorizer fit_transform
                (sublinear tf), the TF-IDF the peers use
- ``ann``       100-d TruncatedSVD of that TF-IDF (``svd_s``), then a faiss HNSW index
                (inner product on unit vectors, M 32) built and searched for every
                article's top 16 (``hnsw_s``)

Library defaults for threads (faiss and BLAS may use both cores): ``cpu_s`` beside the
wall time shows how much.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import sqlite3
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.peers import peak_rss_mb, read_docs, tfidf

PIECES = ("read", "tokenise", "rows", "sqlite", "minhash", "tfidf", "ann")
SVD_DIMS = 100
ANN_K = 16
HNSW_M = 32
_WORD = re.compile(r"\w+")
_IMPORTS = {
    "minhash": ("digest.dedupe", "digest.minhash"),
    "tfidf": ("sklearn.feature_extraction.text",),
    "ann": ("sklearn.feature_extraction.text", "sklearn.decomposition", "faiss"),
}
# digest.schema's articles table as its migrations leave it (minhash column kept, empty)
ARTICLES_TABLE = (
    "CREATE TABLE articles (id TEXT PRIMARY KEY, canonical_url TEXT, outlet TEXT NOT NULL,"
    " title TEXT NOT NULL, text TEXT NOT NULL, published TEXT NOT NULL,"
    " fetched_at TEXT NOT NULL, source TEXT NOT NULL, origin TEXT NOT NULL,"
    " authors TEXT NOT NULL DEFAULT '[]', lang TEXT NOT NULL DEFAULT 'en',"
    " content_hash TEXT NOT NULL, day TEXT NOT NULL, run_id INTEGER, thread_id TEXT,"
    " duplicate_of TEXT, minhash TEXT, dated INTEGER NOT NULL DEFAULT 1)",
    "CREATE INDEX articles_day ON articles(day)",
    "CREATE INDEX articles_thread ON articles(thread_id)",
    "CREATE INDEX articles_published ON articles(published)",
    "CREATE INDEX articles_duplicate_of ON articles(duplicate_of)",
    "CREATE INDEX articles_run ON articles(run_id)",
)
INSERT = "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def tokenise(docs: Sequence[dict[str, str]]) -> list[int]:
    """Words per article; each list is dropped once counted (100k lists held at once
    would be 30M strings, 2 GB, a peak that says nothing about a floor)."""
    return [len(_WORD.findall(f"{d['title']}\n{d['text']}".lower())) for d in docs]


def rows(docs: Sequence[dict[str, str]]) -> list[tuple[object, ...]]:
    """Store rows as ``digest.rows.article_row`` lays them out (18 columns)."""
    fetched = datetime(2026, 1, 1, tzinfo=UTC).isoformat()
    out: list[tuple[object, ...]] = []
    for d in docs:
        published = datetime.fromisoformat(d["published"]).astimezone(UTC)
        out.append(
            (_sha(d["url"]), d["url"], d["outlet"], d["title"], d["text"],
             published.isoformat(), fetched, "bench", "dump", json.dumps([]), "en",
             _sha(f"{d['title'].lower()}\n{d['text'].lower()}"), published.date().isoformat(),
             1, None, None, None, 1)
        )  # fmt: skip
    return out


def insert(table_rows: Sequence[tuple[object, ...]], path: Path) -> None:
    """All rows in one transaction into a fresh file (as the store opens it: WAL)."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("BEGIN")
        for statement in ARTICLES_TABLE:
            db.execute(statement)
        db.executemany(INSERT, table_rows)
        db.execute("COMMIT")
    finally:
        db.close()


def minhash(docs: Sequence[dict[str, str]]) -> Any:
    from digest import minhash as mh
    from digest.dedupe import DedupeParams

    params = DedupeParams()
    signatures, _ = mh.signatures(
        [d["text"] for d in docs], shingle_words=params.shingle_words, num_perm=params.num_perm
    )
    return mh.band_keys(signatures, params.bands)


def svd(matrix: Any) -> Any:
    """Unit-length float32 rows of the 100-d TruncatedSVD (what faiss indexes)."""
    import numpy as np
    from sklearn.decomposition import TruncatedSVD

    dims = min(SVD_DIMS, matrix.shape[1] - 1, matrix.shape[0] - 1)
    vectors = TruncatedSVD(n_components=dims, random_state=0).fit_transform(matrix)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


def hnsw(vectors: Any) -> Any:
    """Build a faiss HNSW index of ``vectors`` and search every one's top ``ANN_K``."""
    import faiss

    index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.add(vectors)
    _, neighbours = index.search(vectors, min(ANN_K, len(vectors)))
    return neighbours


def _preload(piece: str) -> None:
    """Import what a piece uses before its clock starts (an import is not its cost), and
    only that (so its peak RSS is not another piece's libraries)."""
    for module in _IMPORTS.get(piece, ()):
        importlib.import_module(module)


def _timed(func: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    func()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(piece: str, folder: Path) -> dict[str, Any]:
    """Time one piece (its input prepared first); wall and CPU seconds, peak RSS."""
    extra: dict[str, float] = {}
    _preload(piece)
    if piece == "read":
        wall, cpu = _timed(lambda: read_docs(folder))
    else:
        docs = read_docs(folder)
        if piece == "tokenise":
            wall, cpu = _timed(lambda: tokenise(docs))
        elif piece == "rows":
            wall, cpu = _timed(lambda: rows(docs))
        elif piece == "sqlite":
            table_rows = rows(docs)
            with tempfile.TemporaryDirectory() as tmp:
                wall, cpu = _timed(lambda: insert(table_rows, Path(tmp) / "floor.sqlite3"))
        elif piece == "minhash":
            wall, cpu = _timed(lambda: minhash(docs))
        elif piece == "tfidf":
            wall, cpu = _timed(lambda: tfidf(docs))
        elif piece == "ann":
            matrix = tfidf(docs)
            held: list[Any] = []
            svd_wall, svd_cpu = _timed(lambda: held.append(svd(matrix)))
            hnsw_wall, hnsw_cpu = _timed(lambda: hnsw(held[0]))
            wall, cpu = svd_wall + hnsw_wall, svd_cpu + hnsw_cpu
            extra = {"svd_s": svd_wall, "svd_cpu_s": svd_cpu, "hnsw_s": hnsw_wall}
            extra |= {"hnsw_cpu_s": hnsw_cpu}
        else:
            raise ValueError(f"unknown floor piece {piece!r} (one of {', '.join(PIECES)})")
    return {"total_s": wall, "cpu_s": cpu, "peak_rss_mb": peak_rss_mb()} | extra
