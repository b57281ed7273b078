"""PROTOTYPE: batch average-link event clustering over candidate pairs."""

from __future__ import annotations

import hashlib
import heapq
import itertools
import math
import os
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from digest.cluster import ClusterParams, Vocabulary
from digest.models import Article, ClusterPlan, EventThread, ThreadExtension
from digest.vectors import NAME_MARK, YEAR_MARK, Terms, Vector, dot, idf_of, term_counts, doc_vectors

ENV = os.environ.get
THRESH = float(ENV("AL_T", "0.2"))
NAME_BAR = float(ENV("AL_NB", "0.1"))
DECAY = float(ENV("AL_DECAY", "1.0"))  # days beyond 1 per halving
USE_DAYS = ENV("AL_DAYS", "1") == "1"
PROBE = int(ENV("AL_PROBE", "12"))
CANDS = int(ENV("AL_CANDS", "16"))
ALPHA = float(ENV("AL_ALPHA", "0"))
DEBUG = ENV("AL_DEBUG") == "1"
HEADJ = float(ENV("AL_HJ", "0"))
HEADC = ENV("AL_HC", "1") == "1"
KEEP = int(ENV("AL_KEEP", "150"))
DAY_MARK = "%"
HEAD_MARK = "^"

_WD = {d: i for i, d in enumerate("monday tuesday wednesday thursday friday saturday sunday".split())}
_MONTHS = {m: i + 1 for i, m in enumerate(
    "january february march april may june july august september october november december".split())}
_DAYREF = re.compile(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|tonight|last night)\b"
    r"|\b(january|february|march|april|may|june|july|august|september|october|november|december)\s+(\d{1,2})\b"
    r"|\b(\d{1,2})\s+(january|february|march|april|may|june|july|august|september|october|november|december)\b",
    re.I,
)


def _resolve(m: re.Match[str], pub: date) -> date | None:
    word = (m.group(1) or "").lower()
    if word:
        if word in ("today", "tonight"):
            return pub
        if word in ("yesterday", "last night"):
            return pub - timedelta(days=1)
        back = (pub.weekday() - _WD[word]) % 7
        return pub - timedelta(days=back) if back <= 4 else pub + timedelta(days=7 - back)
    month = (m.group(2) or m.group(5)).lower()
    day = int(m.group(3) or m.group(4))
    try:
        d = date(pub.year, _MONTHS[month], day)
    except ValueError:
        return None
    if (d - pub).days > 180:
        d = d.replace(year=d.year - 1)
    elif (pub - d).days > 180:
        try:
            d = d.replace(year=d.year + 1)
        except ValueError:
            return None
    return d


W_TITLE = float(ENV("AL_WT", "3"))
W_P0 = float(ENV("AL_WP0", "1.5"))
W_P1 = float(ENV("AL_WP1", "1.5"))
W_REST = float(ENV("AL_WR", "1.0"))
MAX_WORDS = int(ENV("AL_MAXW", "600"))
NAME_W = float(ENV("AL_NW", "2.0"))
L1 = int(ENV("AL_L1", "50"))
L2 = int(ENV("AL_L2", "150"))


def al_terms(article: Article, params: ClusterParams) -> Terms:
    from digest.vectors import _NAME, _YEAR
    from digest.text import STOPWORDS, content_terms, stem
    counts: Terms = {}
    words = article.text.split()
    parts = [
        (article.title, W_TITLE),
        (" ".join(words[:L1]), W_P0),
        (" ".join(words[L1:L2]), W_P1),
        (" ".join(words[L2:MAX_WORDS]), W_REST),
    ]
    for text, weight in parts:
        if weight <= 0:
            continue
        for term, n in Counter(content_terms(text)).items():
            counts[term] = counts.get(term, 0.0) + n * weight
        for name, n in Counter(_NAME.findall(text)).items():
            word = name.lower().replace("’", "'")
            if word not in STOPWORDS and len(word) > 1:
                key = stem(word)
                counts[key] = counts.get(key, 0.0) + n * NAME_W * weight
                counts[NAME_MARK + key] = counts.get(NAME_MARK + key, 0.0) + n * weight
        if weight > 1.0:
            for year in _YEAR.findall(text):
                counts[YEAR_MARK + year] = counts.get(YEAR_MARK + year, 0.0) + 1.0
    return counts


def head_terms(article: Article) -> Terms:
    import dataclasses
    words = article.text.split()
    global W_REST, W_P1
    saved = (W_REST, W_P1)
    W_REST, W_P1 = 0.0, 0.0
    try:
        return al_terms(article, None)
    finally:
        W_REST, W_P1 = saved


def event_day(article: Article) -> date:
    pub = article.published.date()
    paras = article.paragraphs
    for text in (paras[0] if paras else "", article.title, paras[1] if len(paras) > 1 else ""):
        for m in _DAYREF.finditer(text):
            d = _resolve(m, pub)
            if d is not None and abs((d - pub).days) <= 7:
                return d
    return pub


@dataclass(slots=True)
class Node:
    id: str
    title: str
    members: list[str]
    first_seen: datetime
    last_updated: datetime
    vec: Vector  # sum of unit content vectors
    head: Vector
    names: Vector
    years: Vector
    day_lo: int
    day_hi: int
    stored: bool
    alive: bool = True
    added: list[str] = field(default_factory=list)
    nbrs: set[str] = field(default_factory=set)
    version: int = 0


def _names_cos(a: Node, b: Node) -> float | None:
    if not a.names or not b.names:
        return None
    na = math.sqrt(sum(w * w for w in a.names.values()))
    nb = math.sqrt(sum(w * w for w in b.names.values()))
    return dot(a.names, b.names) / (na * nb or 1.0)


def _main(years: Vector) -> set[str]:
    top = max(years.values())
    return {y for y, n in years.items() if n * 2 >= top}


def similarity(a: Node, b: Node, params: ClusterParams) -> float:
    na = math.sqrt(sum(w * w for w in a.vec.values())) or 1.0
    nb = math.sqrt(sum(w * w for w in b.vec.values())) or 1.0
    s = dot(a.vec, b.vec) / ((na ** ALPHA) * len(a.members) ** (1 - ALPHA) * (nb ** ALPHA) * len(b.members) ** (1 - ALPHA))
    if HEADJ > 0 and min(len(a.members), len(b.members)) == 1 and max(len(a.members), len(b.members)) > 1:
        one, many = (a, b) if len(a.members) == 1 else (b, a)
        target = many.head if HEADC else many.vec
        nt = math.sqrt(sum(w * w for w in target.values())) or 1.0
        s = max(s, HEADJ * dot(one.head, target) / nt)
        if DEBUG and one.title.startswith(("Kerran floods could", "Kaito Motors", "Exporters brace")):
            print(f"  HEADDBG {one.title[:30]!r} vs [{len(many.members)}] {many.title[:40]!r}: avg={dot(a.vec, b.vec)/(len(a.members)*len(b.members)):.3f} head={dot(one.head, target)/nt:.3f} |head|={len(one.head)} |target|={len(target)}")
    if s <= 0:
        return 0.0
    gap = max(0, max(a.day_lo, b.day_lo) - min(a.day_hi, b.day_hi))
    if gap > 1:
        s *= 0.5 ** ((gap - 1) / DECAY)
    nc = _names_cos(a, b)
    if nc is not None and nc < NAME_BAR:
        return 0.0
    if a.years and b.years and not _main(a.years) & _main(b.years):
        s *= params.year_penalty
    return s


def _top(v: Vector, keep: int) -> Vector:
    if len(v) <= keep:
        return v
    return dict(sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))[:keep])


def _thread_id(first: str) -> str:
    return "t" + hashlib.sha256(first.encode()).hexdigest()[:12]


def plan_clusters(
    new: Sequence[Article],
    open_threads: Sequence[EventThread],
    *,
    now: datetime,
    params: ClusterParams = ClusterParams(),
    vocabulary: Vocabulary = Vocabulary(),
    terms: Mapping[str, Terms] | None = None,
) -> ClusterPlan:
    counts = {a.id: al_terms(a, params) for a in new}
    df: Counter[str] = Counter(vocabulary.df)
    for c in counts.values():
        df.update(c.keys())
    n_docs = vocabulary.n_docs + len(new)
    idf = idf_of(df, n_docs)
    default_idf = math.log(1 + n_docs) + 1.0
    nodes: dict[str, Node] = {}
    for t in open_threads:
        if (now - t.last_updated) > timedelta(days=params.window_days) and new:
            continue
        sig = dict(t.signature)
        days = [int(k[1:]) for k in sig if k[0] == DAY_MARK]
        nodes[t.id] = Node(
            id=t.id, title=t.title, members=list(t.article_ids), first_seen=t.first_seen,
            last_updated=t.last_updated,
            vec={k: w for k, w in sig.items() if k[0] not in (NAME_MARK, YEAR_MARK, DAY_MARK, HEAD_MARK)},
            head={k[1:]: w for k, w in sig.items() if k[0] == HEAD_MARK},
            names={k: w for k, w in sig.items() if k[0] == NAME_MARK},
            years={k: w for k, w in sig.items() if k[0] == YEAR_MARK},
            day_lo=min(days, default=t.last_updated.date().toordinal()),
            day_hi=max(days, default=t.last_updated.date().toordinal()),
            stored=True,
        )
    order = sorted(new, key=lambda a: (a.published, a.id))
    from digest.vectors import _vectorise
    heads = {a.id: _vectorise({k: v for k, v in head_terms(a).items() if k[0] not in (NAME_MARK, YEAR_MARK)}, idf, default_idf, 60) for a in order}
    for a in order:
        doc = doc_vectors(counts[a.id], idf, default_idf, params)
        d = event_day(a).toordinal() if USE_DAYS and a.dated else a.published.date().toordinal()
        nid = "a:" + a.id
        nodes[nid] = Node(
            id=nid, title=a.title, members=[a.id], first_seen=a.published, last_updated=a.published,
            vec=dict(doc.vec), head=heads[a.id], names=dict(doc.names), years=dict(doc.years), day_lo=d, day_hi=d,
            stored=False, added=[a.id],
        )
    # inverted index over every node's heaviest terms
    postings: defaultdict[str, list[str]] = defaultdict(list)
    for node in nodes.values():
        for term, _ in sorted(node.vec.items(), key=lambda kv: -kv[1])[:30]:
            postings[term].append(node.id)
    heap: list[tuple[float, str, str, int, int]] = []
    for a in order:
        me = nodes["a:" + a.id]
        shared: defaultdict[str, float] = defaultdict(float)
        for term, w in sorted(me.vec.items(), key=lambda kv: -kv[1])[:PROBE]:
            ids = postings.get(term, ())
            if len(ids) > 200:
                continue
            for other in ids:
                if other != me.id:
                    shared[other] += w
        for other, _ in sorted(shared.items(), key=lambda kv: (-kv[1], kv[0]))[:CANDS]:
            me.nbrs.add(other)
            nodes[other].nbrs.add(me.id)
    for node in nodes.values():
        for other in node.nbrs:
            if node.id < other:
                o = nodes[other]
                if node.stored and o.stored:
                    continue
                s = similarity(node, o, params)
                if s >= THRESH:
                    heapq.heappush(heap, (-s, node.id, other, 0, 0))
    while heap:
        negs, x, y, vx, vy = heapq.heappop(heap)
        a, b = nodes[x], nodes[y]
        if not (a.alive and b.alive) or a.version != vx or b.version != vy:
            continue
        # keep the stored/bigger/older one
        if (b.stored, len(b.members)) > (a.stored, len(a.members)):
            a, b = b, a
        b.alive = False
        if DEBUG:
            shared = sorted(((a.vec[k]*b.vec[k], k) for k in a.vec.keys() & b.vec.keys()), reverse=True)[:8]
            print(f"MERGE {-negs:.3f} nc={_names_cos(a,b) or 0:.2f} [{len(a.members)}] {a.title[:50]!r} <- [{len(b.members)}] {b.title[:50]!r} :: {' '.join(k for _, k in shared)}")
        for k, w in b.vec.items():
            a.vec[k] = a.vec.get(k, 0.0) + w
        for k, w in b.head.items():
            a.head[k] = a.head.get(k, 0.0) + w
        a.head = _top(a.head, KEEP)
        for k, w in b.names.items():
            a.names[k] = a.names.get(k, 0.0) + w
        for k, w in b.years.items():
            a.years[k] = a.years.get(k, 0.0) + w
        a.vec = _top(a.vec, KEEP)
        a.names = _top(a.names, 40)
        a.members.extend(b.members)
        a.added.extend(b.added)
        a.first_seen = min(a.first_seen, b.first_seen)
        a.last_updated = max(a.last_updated, b.last_updated)
        a.day_lo, a.day_hi = min(a.day_lo, b.day_lo), max(a.day_hi, b.day_hi)
        if b.stored and not a.stored:
            raise AssertionError
        a.version += 1
        nb = (a.nbrs | b.nbrs) - {a.id, b.id}
        a.nbrs = nb
        for o_id in nb:
            o = nodes[o_id]
            o.nbrs.discard(b.id)
            o.nbrs.add(a.id)
            if not o.alive:
                continue
            if a.stored and o.stored:
                continue
            s = similarity(a, o, params)
            if s >= THRESH:
                p, q = (a, o) if a.id < o.id else (o, a)
                heapq.heappush(heap, (-s, p.id, q.id, p.version, q.version))
    new_threads, extensions = [], []
    for node in nodes.values():
        if not node.alive:
            continue
        sig = _signature(node)
        if node.stored:
            if node.added:
                extensions.append(ThreadExtension(
                    thread_id=node.id, article_ids=tuple(node.added), signature=sig,
                    last_updated=node.last_updated))
        else:
            new_threads.append(EventThread(
                id=_thread_id(node.members[0]), title=node.title, article_ids=tuple(node.members),
                first_seen=node.first_seen, last_updated=node.last_updated, signature=sig))
    return ClusterPlan(new_threads=tuple(new_threads), extensions=tuple(extensions))


def _signature(node: Node) -> tuple[tuple[str, float], ...]:
    items = itertools.chain(
        _top(node.vec, KEEP).items(), node.names.items(), node.years.items(),
        ((HEAD_MARK + k, w) for k, w in _top(node.head, KEEP).items()),
        ((f"{DAY_MARK}{node.day_lo}", 1.0), (f"{DAY_MARK}{node.day_hi}", 1.0)),
    )
    return tuple((t, round(w, 6)) for t, w in items)
