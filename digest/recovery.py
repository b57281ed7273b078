"""What a killed run, a full disk or a lost store leave behind, settled when the next run
starts (it holds the store's writer lock, so nothing else writes the store or the site).

1. **The site and the ledger agree.** Every edition folder under output/ with a
   ``briefing.json`` must be one the ledger records. A store that was deleted, emptied or
   replaced by an older copy does not know the site's editions: publishing would make a
   new No. 1 over an old permalink folder while the archive keeps the others. The run is
   refused (:class:`UnknownEditionsError`, one line) before anything is ingested or
   stored; ``digest run --start-over`` moves the old site aside and starts a new one.

   One unknown folder is expected: publishing writes the edition's files first and
   records it in the ledger after, so a process killed in between leaves a complete
   edition the ledger lacks. It is recognised precisely, and recorded (the row its run
   would have written): its number is the ledger's next one, and it was produced by a
   run of this store that never finished (its ``generated_at`` is that run's start).

2. **Runs left 'running'** by a killed process are marked 'interrupted'.

3. **Litter under output/**: temp files of atomic writes cut short
   (``.favicon.svg.*.tmp`` ...), and edition folders the ledger does not record that never
   got their ``briefing.json`` (a kill or a full disk during the first publication):
   nothing links to them yet, since the JSON is written before any page that links to the
   edition. Such a folder is removed only if it holds nothing but the pages publishing
   writes before the JSON. Only a run that did not finish (killed, or stopped by an
   error) leaves litter, so the sweep over output/ happens only after one (a run that
   finished leaves its row finished): other runs pay only for listing output/.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from digest.errors import PublishError
from digest.fsutil import remove_temp_files
from digest.ledger import Ledger
from digest.models import Edition
from digest.publish import BRIEFING_JSON, is_edition_folder
from digest.store import Store
from digest.threadsite import THREADS

log = logging.getLogger(__name__)

# what publishing writes into an edition's folder before its briefing.json
_BEFORE_JSON = frozenset({"index.html", "briefing.md"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class UnknownEditionsError(PublishError):
    """The output folder holds editions the store's ledger does not record."""

    default_message = "the output folder holds editions its store does not know"

    def __init__(self, subject: str, message: str, *, hint: str) -> None:
        super().__init__(subject, message, hint=hint)  # the hint is required here


@dataclass(frozen=True, slots=True, kw_only=True)
class Settled:
    """What :func:`settle` did."""

    recorded: Edition | None = None  # the edition a killed run published but did not record
    interrupted: int = 0  # runs marked 'interrupted'
    removed: tuple[Path, ...] = ()  # temp files and unfinished edition folders
    moved_to: Path | None = None  # where --start-over put the old site


def settle(
    store: Store, out_dir: Path, *, publishing: bool, start_over: bool, now: datetime
) -> Settled:
    """Put the store and the site in order before a run begins (see the module docstring);
    raises :class:`UnknownEditionsError` when the site has editions the store does not
    know, unless ``start_over``."""
    ledger = Ledger(store)
    unfinished = bool(ledger.unfinished_runs())  # a run before this one was killed or failed
    recorded, moved_to = None, None
    removed: tuple[Path, ...] = ()
    if publishing and out_dir.is_dir():
        unknown = _unknown_editions(ledger, out_dir)
        orphan = _killed_before_recording(ledger, unknown)
        if orphan is not None:
            recorded = ledger.save(_edition_of(ledger, *orphan))
            unknown = [u for u in unknown if u[0] != orphan[0]]
            log.warning(
                "recorded edition No. %s (%s/): its run was killed after publishing it",
                recorded.number,
                recorded.slug,
            )
        if unknown and not start_over:
            raise _refusal(out_dir, store.path, unknown)
        if unknown:
            moved_to = _move_aside(out_dir, now)
            log.warning("moved the old site to %s; a new one starts at No. 1", moved_to)
        if unfinished:  # only a run that was killed or failed leaves litter
            removed = tuple(_tidy(out_dir, ledger.slugs()))
        for path in removed:
            log.info("removed %s (left by a run that did not finish)", path)
    interrupted = ledger.mark_interrupted() if unfinished else 0
    if interrupted:
        log.info("marked %d run(s) that never finished as interrupted", interrupted)
    return Settled(recorded=recorded, interrupted=interrupted, removed=removed, moved_to=moved_to)


Document = Mapping[str, Any]


def _unknown_editions(ledger: Ledger, out_dir: Path) -> list[tuple[str, Document]]:
    """(folder, document) of the numbered editions on disk that the ledger does not record
    (documents without an edition number are not editions of a ledger: left alone)."""
    known = ledger.slugs()
    found: list[tuple[str, Document]] = []
    for child in sorted(out_dir.iterdir()):  # only the unknown folders' documents are read
        if child.name in known or not is_edition_folder(child.name) or not child.is_dir():
            continue
        try:
            doc = json.loads((child / BRIEFING_JSON).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            continue  # no readable document: not (yet) an edition of the site
        if isinstance(doc, dict) and isinstance(_number(doc), int):
            found.append((child.name, doc))
    return found


def _number(doc: Document) -> object:
    edition = doc.get("edition")
    return edition.get("number") if isinstance(edition, Mapping) else None


def _killed_before_recording(
    ledger: Ledger, unknown: Sequence[tuple[str, Document]]
) -> tuple[str, Document, int] | None:
    """The unknown edition a killed run of this store published, with that run's id: it
    bears the ledger's next number and the start time of a run that never finished."""
    unfinished = ledger.unfinished_runs()
    after = max((e.last_run for e in ledger.editions()), default=0)
    for folder, doc in unknown:
        if _number(doc) != ledger.next_number():
            continue
        run_id = unfinished.get(_time(doc.get("generated_at")) or _EPOCH)
        if run_id is not None and run_id > after:
            return folder, doc, run_id
    return None


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None


def _edition_of(ledger: Ledger, folder: str, doc: Document, run_id: int) -> Edition:
    """The ledger row the killed run would have written for the edition it published."""
    edition = doc["edition"]
    produced = _time(doc.get("generated_at")) or ledger.run_started(run_id) or _EPOCH
    slot = _time(edition.get("scheduled_for"))
    start, end = _time(edition.get("window_start")), _time(edition.get("window_end"))
    existing = ledger.find(slot=slot, day=None) if slot is not None else None  # its empty row
    latest = ledger.latest()
    first_run = existing.first_run if existing else (latest.last_run + 1 if latest else 1)
    return Edition(
        id=existing.id if existing else 0,
        number=int(edition["number"]),
        slug=folder,
        day=date.fromisoformat(str(doc["date"])),
        first_run=first_run,
        last_run=run_id,
        window_start=start or produced,
        window_end=end or produced,
        scheduled_for=slot,
        produced_at=produced,
        late=bool(edition.get("late")),
        status="published",
    )


def _refusal(
    out_dir: Path, store_path: Path, unknown: Sequence[tuple[str, Document]]
) -> UnknownEditionsError:
    named = sorted((int(str(_number(doc))), folder) for folder, doc in unknown)
    shown = ", ".join(f"No. {n} {folder}/" for n, folder in named[:3])
    more = f" and {len(named) - 3} more" if len(named) > 3 else ""
    count = f"{len(named)} edition{'s' if len(named) != 1 else ''}"
    return UnknownEditionsError(
        str(out_dir),
        f"refusing to publish: the output folder holds {count} ({shown}{more})"
        f" that the store {store_path} does not know",
        hint="the store was lost, emptied or replaced: restore it from a backup, or run"
        " `digest run --start-over` to move the old site aside and start a new one",
    )


def _move_aside(out_dir: Path, now: datetime) -> Path:
    """Move everything in ``out_dir`` into a new sibling folder; returns it."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = out_dir.with_name(f"{out_dir.name}.replaced-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = out_dir.with_name(f"{out_dir.name}.replaced-{stamp}-{n}")
    aside.mkdir(parents=True)
    for child in sorted(out_dir.iterdir()):
        shutil.move(child, aside / child.name)
    return aside


def _tidy(out_dir: Path, recorded: frozenset[str]) -> list[Path]:
    """Remove temp files, unrecorded edition folders without their JSON (holding only what
    publishing writes before it) and empty thread folders."""
    removed = remove_temp_files(out_dir)
    for child in sorted(out_dir.iterdir()):
        if not child.is_dir() or not is_edition_folder(child.name) or child.name in recorded:
            continue
        if (child / BRIEFING_JSON).exists():
            continue
        contents = list(child.iterdir())
        if all(p.is_file() and p.name in _BEFORE_JSON for p in contents):
            for path in contents:
                path.unlink()
            child.rmdir()
            removed.append(child)
    threads = out_dir / THREADS
    for child in sorted(threads.iterdir()) if threads.is_dir() else ():
        if child.is_dir() and not any(child.iterdir()):
            child.rmdir()
            removed.append(child)
    return removed
