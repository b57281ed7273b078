"""The checks of setting values, declared in the schema beside each setting's help.

Every field of the settings dataclasses is made with :func:`setting`, whose keywords become
the field's metadata: ``help`` (required), ``min``/``max`` (numbers; every int and float
setting declares both), ``choices`` (a closed vocabulary), ``fields`` (a ``str.format``
template: only these names, each with a sample value; no attribute or index access),
``check`` (one more test: a function raising ValueError) and ``secret`` (only from .env or
the environment). :func:`coerce` converts a value to the field's type and
:func:`check_value` applies the declared checks, so a new key is checked by what it
declares. The rules between settings are :data:`ORDERED` and :func:`never_fires` (applied
by :func:`digest.config.load_settings`).

Pure: nothing here reads files, the clock or the environment.
"""

from __future__ import annotations

import math
import string
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# A schedule repeats within 28 years (every date on every weekday, leap days included, as
# long as no century year without a leap day intervenes): one that does not fire in the
# 28 years from 2024 never fires.
CRON_REFERENCE = datetime(2024, 1, 1, tzinfo=UTC)
CRON_HORIZON = timedelta(days=28 * 366)

# (smaller, larger): the first may not exceed the second.
ORDERED: tuple[tuple[str, str], ...] = (
    ("summary.min_sentences", "summary.max_sentences"),
    ("fetch.backoff_base_seconds", "fetch.backoff_max_seconds"),
)


def setting(
    help_text: str,
    default: Any,
    *,
    min: float | None = None,  # (the schema's words: read back as metadata["min"], ["max"])
    max: float | None = None,
    choices: tuple[str, ...] | None = None,
    fields: Mapping[str, object] | None = None,
    check: Callable[[Any], None] | None = None,
    secret: bool = False,
) -> Any:
    """A settings dataclass field: its default, help text and the checks of its values."""
    declared = {"min": min, "max": max, "choices": choices, "fields": fields, "check": check}
    metadata = {"help": help_text, **{k: v for k, v in declared.items() if v is not None}}
    if secret:
        metadata["secret"] = True
    return field(default=default, metadata=metadata)


def coerce(value: Any, hint: Any, base: Path, *, typed: bool) -> Any:
    """``value`` as the field's type, or ValueError saying what was expected. ``typed``
    values come from TOML and must have the type already (``5`` is no list, ``"5"`` no
    number); the environment's are text, converted ("3", "true", "a,b")."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return None if value in (None, "") else coerce(value, args[0], base, typed=typed)
    if origin is tuple:
        return _coerce_tuple(value, typing.get_args(hint)[0], base, typed=typed)
    if hint is Path:
        if not isinstance(value, str | Path):
            raise ValueError(f"expected a path, got {value!r}")
        path = Path(value).expanduser()
        return path if path.is_absolute() else (base / path).resolve()
    if hint is bool:
        return _coerce_bool(value, typed=typed)
    if hint in (int, float):
        return _coerce_number(value, hint, typed=typed)
    if hint is str:
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {value!r}")
        return value
    raise ValueError(f"unsupported setting type {hint!r}")  # pragma: no cover - schema bug


def _coerce_tuple(value: Any, item: Any, base: Path, *, typed: bool) -> tuple[Any, ...]:
    if isinstance(value, list | tuple):
        items = list(value)
    elif isinstance(value, str) and not typed:
        items = [v for v in value.split(",") if v]
    else:
        raise ValueError(f"expected a list, got {value!r}")
    return tuple(coerce(v, item, base, typed=typed) for v in items)


def _coerce_bool(value: Any, *, typed: bool) -> bool:
    if isinstance(value, bool):
        return value
    if not typed and str(value).lower() in ("1", "true", "yes", "on"):
        return True
    if not typed and str(value).lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _coerce_number(value: Any, hint: type[int] | type[float], *, typed: bool) -> int | float:
    wanted = "an integer" if hint is int else "a number"
    if isinstance(value, bool) or (typed and not isinstance(value, int | float)):
        raise ValueError(f"expected {wanted}, got {value!r}")
    try:
        number = hint(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"expected {wanted}, got {value!r}") from None
    if hint is int and isinstance(value, float) and not value.is_integer():
        raise ValueError(f"expected an integer, got {value!r}")
    return number


def check_value(meta: Mapping[str, Any], value: Any) -> None:
    """Raise ValueError saying what is wrong with ``value`` for a field with ``meta``."""
    if value is None:
        return
    for item in value if isinstance(value, tuple) else (value,):
        _check_one(meta, item)


def _check_one(meta: Mapping[str, Any], value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value}")
    low, high = meta.get("min", -math.inf), meta.get("max", math.inf)
    if isinstance(value, int | float) and not isinstance(value, bool) and not low <= value <= high:
        raise ValueError(f"expected a number in {allowed_range(meta)[2:-1]}, got {value:g}")
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        raise ValueError(f"expected one of {', '.join(choices)}, got {value!r}")
    if "fields" in meta:
        check_template(value, meta["fields"])
    if "check" in meta:
        meta["check"](value)


def one_line(value: str) -> None:
    """For text sent in a protocol line (an HTTP header, an SMTP command)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(f"expected one line without control characters, got {value!r}")


def allowed_range(meta: Mapping[str, Any]) -> str:
    """`` (low..high)`` for a number with a declared range, else ``""``."""
    if "min" not in meta and "max" not in meta:
        return ""
    return f" ({meta.get('min', -math.inf):g}..{meta.get('max', math.inf):g})"


def check_template(template: str, samples: Mapping[str, object]) -> None:
    """``template`` may use only ``{name}`` fields named in ``samples`` (with a format spec
    or conversion that suits the sample), never ``{name.attr}``, ``{name[0]}``, ``{}``."""
    allowed = " ".join(f"{{{n}}}" for n in samples)
    for used in _template_fields(template):
        if used not in samples:
            raise ValueError(f"unknown field {{{used}}} in {template!r} (use {allowed})")
    try:
        template.format(**samples)
    except (KeyError, IndexError, ValueError) as e:
        raise ValueError(f"bad template {template!r} ({e}; use {allowed})") from None


def _template_fields(template: str) -> list[str]:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:
        raise ValueError(f"bad template {template!r} ({e})") from None
    used = []
    for _text, name, spec, _conversion in parsed:
        if name is not None:
            used.append(name)
            used.extend(_template_fields(spec or ""))  # "{title:{date}}" nests a field
    return used


def never_fires(cron: str, timezone: str) -> bool:
    """True when the crontab ``cron`` has no fire time at all in ``timezone`` (the real
    APScheduler trigger the daemon uses, asked from a fixed date over a whole cycle)."""
    from digest.schedule import make_trigger  # apscheduler is only needed when checked

    trigger = make_trigger(cron, timezone, end_date=CRON_REFERENCE + CRON_HORIZON)
    return trigger.get_next_fire_time(None, CRON_REFERENCE) is None
