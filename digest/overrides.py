"""Operator corrections to event threads: a plain-text file, applied on every run (#11).

One correction per line (``#`` starts a comment); thread ids are the ``t…`` ids that
``digest threads`` and ``digest explain`` show (an id merged away is followed to the thread
it lives on as), article ids the ones ``digest explain`` lists::

    merge THREAD OTHER...      the other threads join THREAD (their ids redirect to it)
    split THREAD ARTICLE...    these articles leave THREAD for a thread of their own,
                               and clustering never joins the two again
    move ARTICLE THREAD        the article (and its copies) moves to THREAD
    pin THREAD                 the thread comes first in every edition it is in
    mute THREAD                the thread is never shown in an edition

Parsing is pure (``parse_overrides``): every bad line is reported (naming the file and line)
and skipped; the good lines still apply. Applying a correction that is already in effect
changes nothing, so the file can stay as it is: every run reports each line as applied,
already in effect, or skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Verb = Literal["merge", "split", "move", "pin", "mute"]
_ARITY: dict[str, tuple[int, str]] = {
    "merge": (2, "THREAD OTHER..."),
    "split": (2, "THREAD ARTICLE..."),
    "move": (2, "ARTICLE THREAD"),
    "pin": (1, "THREAD"),
    "mute": (1, "THREAD"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Override:
    line: int  # 1-based line number in the file
    verb: Verb
    args: tuple[str, ...]

    def __str__(self) -> str:
        return f"line {self.line}: {self.verb} {' '.join(self.args)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Overrides:
    """The parsed file: corrections in file order."""

    path: str
    items: tuple[Override, ...] = ()
    problems: tuple[str, ...] = ()  # bad lines, each naming the file and line

    def threads(self, verb: Verb) -> frozenset[str]:
        return frozenset(o.args[0] for o in self.items if o.verb == verb)


def parse_overrides(text: str, path: str) -> Overrides:
    """The corrections in ``text``, and a problem for every bad line (the good lines still
    apply: a typo in one correction does not stop the editions)."""
    items: list[Override] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        verb, args = words[0].lower(), tuple(words[1:])
        if verb not in _ARITY:
            problems.append(
                f"{path}:{number}: unknown correction {words[0]!r} (expected one of"
                f" {', '.join(_ARITY)})"
            )
            continue
        least, usage = _ARITY[verb]
        exact = verb in ("move", "pin", "mute")
        if len(args) < least or (exact and len(args) != least):
            problems.append(f"{path}:{number}: {verb} takes {usage}")
            continue
        items.append(Override(line=number, verb=verb, args=args))  # type: ignore[arg-type]
    return Overrides(path=path, items=tuple(items), problems=tuple(problems))


def read_overrides(path: Path | None) -> Overrides:
    """The corrections file at ``path`` (none when ``path`` is None or the file is missing)."""
    if path is None or not path.is_file():
        return Overrides(path=str(path or ""))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        problem = f"{path}: cannot be read ({e.__class__.__name__}: {e})"
        return Overrides(path=str(path), problems=(problem,))
    return parse_overrides(text, str(path))


def report_line(override: Override, outcome: str) -> str:
    return f"override {override}: {outcome}"
