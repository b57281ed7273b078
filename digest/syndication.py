"""Syndication vs corroboration (pure): a thread's independent reports, the copies other
outlets ran of them, and whom a summary sentence rests on.

A *copy* is an article dedupe found to be a near-duplicate of an earlier one (stored with
``duplicate_of``; :attr:`digest.models.SourceRef.copy_of` names its original): a wire story
or a syndicated piece that another outlet ran. Every other article is an *independent
report*. Corroboration is counted in reports and the outlets behind them; copies are
counted, and listed only where there is room (folded away on the web, not in the email).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from digest.models import SourceRef, SummarySentence, ThreadSummary

# Outlet names shown after a sentence, at most this many characters together (at least one
# name); the rest are counted ("and 28 more"). 24 keeps the attribution on one line at
# 375 px (tests/test_browser.py measures it).
CREDIT_CHARS = 24


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """An independent report and the copies of it, in order of publication."""

    ref: SourceRef = field(metadata={"help": "the report"})
    copies: tuple[SourceRef, ...] = field(metadata={"help": "copies other outlets ran of it"})

    @property
    def copy_outlets(self) -> tuple[str, ...]:
        """Distinct outlets that ran a copy, in order of their copy."""
        return tuple(dict.fromkeys(c.outlet for c in self.copies))


@dataclass(frozen=True, slots=True, kw_only=True)
class Basis:
    """What a thread rests on."""

    reports: int = field(metadata={"help": "independent reports"})
    outlets: int = field(metadata={"help": "distinct outlets among them"})
    copies: int = field(metadata={"help": "copies of those reports (syndication, wire)"})
    copy_outlets: int = field(metadata={"help": "distinct outlets among the copies"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Credit:
    """Whom one summary sentence rests on: the outlets whose independent reports carry it
    (first reports first) and those that carry it only in a copy."""

    outlets: tuple[str, ...] = field(metadata={"help": "outlets of independent reports"})
    copy_outlets: tuple[str, ...] = field(metadata={"help": "outlets that ran it in a copy"})
    shown: tuple[str, ...] = field(metadata={"help": "the outlets named where room is short"})

    @property
    def more(self) -> int:
        """Independent outlets counted, not named, after ``shown``."""
        return len(self.outlets) - len(self.shown)


def is_copy(ref: SourceRef, ids: frozenset[str]) -> bool:
    """A copy of one of ``ids`` (the thread's articles); a copy of an article the thread
    does not hold counts as a report."""
    return ref.copy_of is not None and ref.copy_of in ids


def reports(sources: Sequence[SourceRef]) -> tuple[Report, ...]:
    """The independent reports among ``sources``, each with its copies (in source order)."""
    ids = frozenset(r.article_id for r in sources)
    copies: dict[str, list[SourceRef]] = {}
    for ref in sources:
        if ref.copy_of is not None and is_copy(ref, ids):
            copies.setdefault(ref.copy_of, []).append(ref)
    return tuple(
        Report(ref=r, copies=tuple(copies.get(r.article_id, ())))
        for r in sources
        if not is_copy(r, ids)
    )


def basis(sources: Sequence[SourceRef]) -> Basis:
    found = reports(sources)
    copies = [c for r in found for c in r.copies]
    return Basis(
        reports=len(found),
        outlets=len({r.ref.outlet for r in found}),
        copies=len(copies),
        copy_outlets=len({c.outlet for c in copies}),
    )


def credit(
    sentence: SummarySentence, thread: ThreadSummary, *, max_chars: int = CREDIT_CHARS
) -> Credit:
    """Whom ``sentence`` rests on, from its articles (a sentence without article ids, as
    older documents have, credits its outlets as reports)."""
    refs = {r.article_id: r for r in thread.sources}
    carried = [refs[i] for i in sentence.article_ids if i in refs]
    if not carried:
        return _credit(sentence.outlets, (), max_chars)
    ids = frozenset(sentence.article_ids)  # a copy counts as one when its original carries it
    independent = tuple(dict.fromkeys(r.outlet for r in carried if not is_copy(r, ids)))
    copied = (r.outlet for r in carried if is_copy(r, ids) and r.outlet not in independent)
    return _credit(independent, tuple(dict.fromkeys(copied)), max_chars)


def _credit(outlets: tuple[str, ...], copies: tuple[str, ...], max_chars: int) -> Credit:
    shown: list[str] = []
    for outlet in outlets:
        if shown and len(", ".join((*shown, outlet))) > max_chars:
            break
        shown.append(outlet)
    return Credit(outlets=outlets, copy_outlets=copies, shown=tuple(shown))
