"""Settings: one schema, loaded with a documented precedence.

defaults < ``config/digest.toml`` < ``.env`` < environment ``DIGEST_<SECTION>__<KEY>`` < flags.

``load_settings`` is pure (the environment and overrides are passed in). It collects every
problem and raises one ``ConfigError`` with one line per problem, each naming the key.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digest.config_editions import EXTRA_CHECKS, EmailSettings, ScheduleSettings, email_problems
from digest.config_sources import FETCH_RANGES, FetchSettings, parse_sources
from digest.errors import ConfigError
from digest.lang import interface
from digest.models import SourceSpec

ENV_PREFIX = "DIGEST_"
SECRET_KEYS = frozenset({("email", "password")})


def _help(text: str, default: Any) -> Any:
    return field(default=default, metadata={"help": text})


@dataclass(frozen=True, slots=True, kw_only=True)
class InputSettings:
    dump_dirs: tuple[Path, ...] = _help(
        "article dump files or folders (.txt .md .html .json .jsonl), relative to the config",
        (),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreSettings:
    path: Path = _help(
        "SQLite database file, relative to the config file", Path("var/digest.sqlite3")
    )
    lock_wait_seconds: float = _help(
        "a run waits this long for another run or the daemon to finish with the store", 600.0
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputSettings:
    dir: Path = _help("folder the briefings are published into", Path("output"))
    title: str = _help("title shown on every briefing", "Daily briefing")
    timezone: str = _help("IANA time zone for briefing dates and shown times", "UTC")
    language: str = _help(
        "language of the interface words and dates (ISO 639-1: en, de, fr, es, ...)", "en"
    )
    templates_dir: Path | None = _help(
        "a folder of Jinja2 templates used instead of the ones inside the package", None
    )
    user_templates_dir: Path | None = _help(
        "optional folder whose templates override the bundled ones", None
    )
    max_threads: int = _help("at most this many threads per briefing (most important first)", 40)
    site_url: str | None = _help(
        "public URL where output/ is served (https://...); emails link to the web edition", None
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DedupeSettings:
    near_threshold: float = _help(
        "estimated Jaccard (0..1) above which two texts are near-duplicates", 0.4
    )
    recent_days: int = _help("stored articles this recent are checked for near-duplicates", 7)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterSettings:
    similarity_threshold: float = _help(
        "mean cosine (0..1) between two groups' articles at which they are one event", 0.18
    )
    attach_threshold: float = _help(
        "mean cosine (0..1) at which a lone article joins a thread as a reaction or angle", 0.10
    )
    window_days: float = _help("a thread quiet for longer than this is closed to new articles", 3.0)
    max_thread_days: float = _help(
        "a thread whose first article is older than this takes no new articles (0: no limit)",
        7.0,
    )
    decay_days: float = _help(
        "beyond a day between the events' days, the score halves over this many days", 1.0
    )
    names_threshold: float = _help(
        "cosine (0..1) of the names two groups need when both name people or places", 0.10
    )
    year_penalty: float = _help(
        "score factor (0..1) when both sides name years in title/lead but not the same", 0.8
    )
    overrides_file: Path | None = _help(
        "operator corrections to threads (merge, split, move, pin, mute), relative to the"
        " config file's folder; empty: none",
        None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SummarySettings:
    max_sentences: int = _help("most sentences in a thread summary", 5)
    min_sentences: int = _help(
        "fewest sentences in a thread summary, when the sources have them", 3
    )
    max_words: int = _help("word budget for one thread summary", 120)
    max_quotes: int = _help("most direct quotes shown per thread", 3)


@dataclass(frozen=True, slots=True, kw_only=True)
class LogSettings:
    format: str = _help("log lines as 'text' or 'json' (one object per line)", "text")
    progress_seconds: float = _help(
        "without a terminal, a running stage logs its progress this often (INFO)", 10.0
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    inputs: InputSettings = field(default_factory=InputSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    output: OutputSettings = field(default_factory=OutputSettings)
    dedupe: DedupeSettings = field(default_factory=DedupeSettings)
    cluster: ClusterSettings = field(default_factory=ClusterSettings)
    summary: SummarySettings = field(default_factory=SummarySettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    fetch: FetchSettings = field(default_factory=FetchSettings)
    log: LogSettings = field(default_factory=LogSettings)
    sources: tuple[SourceSpec, ...] = ()
    config_path: Path | None = None
    origins: Mapping[str, str] = field(
        default_factory=dict
    )  # "section.key" -> default/file/env/flag

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.output.timezone)


_SECTION_TYPES = {
    "inputs": InputSettings,
    "store": StoreSettings,
    "output": OutputSettings,
    "dedupe": DedupeSettings,
    "cluster": ClusterSettings,
    "summary": SummarySettings,
    "schedule": ScheduleSettings,
    "email": EmailSettings,
    "fetch": FetchSettings,
    "log": LogSettings,
}


def _coerce(value: Any, hint: Any, base: Path) -> Any:
    """Convert a TOML/env value to the field's type, or raise ValueError with the fault."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return None if value in (None, "") else _coerce(value, args[0], base)
    if origin is tuple:
        items = (
            value if isinstance(value, list | tuple) else [v for v in str(value).split(",") if v]
        )
        return tuple(_coerce(v, typing.get_args(hint)[0], base) for v in items)
    if hint is Path:
        if not isinstance(value, str | Path):
            raise ValueError(f"expected a path, got {value!r}")
        path = Path(value).expanduser()
        return path if path.is_absolute() else (base / path).resolve()
    if hint is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("1", "true", "yes", "on"):
            return True
        if str(value).lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true or false, got {value!r}")
    if hint in (int, float):
        if isinstance(value, bool):
            raise ValueError(f"expected a number, got {value!r}")
        try:
            number = hint(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"expected {'an integer' if hint is int else 'a number'}, got {value!r}"
            ) from None
        if hint is int and isinstance(value, float) and not value.is_integer():
            raise ValueError(f"expected an integer, got {value!r}")
        return number
    if hint is str:
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {value!r}")
        return value
    raise ValueError(f"unsupported setting type {hint!r}")  # pragma: no cover - schema bug


_RANGES: dict[str, tuple[float, float]] = {
    **FETCH_RANGES,
    "dedupe.near_threshold": (0.0, 1.0),
    "cluster.similarity_threshold": (0.0, 1.0),
    "cluster.window_days": (0.0, 365.0),
    "cluster.max_thread_days": (0.0, 3650.0),
    "cluster.merge_threshold": (0.0, 1.0),
    "cluster.decay_days": (0.01, 365.0),
    "dedupe.recent_days": (0, 3650),
    "summary.max_sentences": (1, 20),
    "summary.min_sentences": (1, 20),
    "summary.max_words": (10, 2000),
    "summary.max_quotes": (0, 20),
    "output.max_threads": (1, 10000),
    "schedule.misfire_grace_seconds": (1, 7 * 86400),
    "email.port": (1, 65535),
    "email.max_html_bytes": (10_000, 10_000_000),
    "email.timeout_seconds": (1, 600),
    "store.lock_wait_seconds": (0, 86400),
    "log.progress_seconds": (0.01, 86400),
}


def _check(key: str, value: Any) -> None:
    if key in _RANGES and value is not None:
        low, high = _RANGES[key]
        if not low <= value <= high:
            raise ValueError(f"expected a number in {low:g}..{high:g}, got {value:g}")
    if key == "log.format" and value not in ("text", "json"):
        raise ValueError(f"expected 'text' or 'json', got {value!r}")
    if key == "output.timezone":
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
    if key == "output.language" and not interface.known(value):
        raise ValueError(f"unknown language {value!r} (an ISO 639-1 code such as 'de')")
    if key in EXTRA_CHECKS:
        EXTRA_CHECKS[key](value)


def _env_layer(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    layer: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        if name.startswith(ENV_PREFIX) and "__" in name:
            section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
            layer.setdefault(section, {})[key] = value
    return layer


def _flag_layer(overrides: Sequence[str], problems: list[str]) -> dict[str, dict[str, Any]]:
    layer: dict[str, dict[str, Any]] = {}
    for item in overrides:
        dotted, sep, raw = item.partition("=")
        section, dot, key = dotted.strip().partition(".")
        if not sep or not dot:
            problems.append(f"--set {item}: expected section.key=VALUE")
            continue
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw  # bare words are strings: --set output.timezone=Europe/Berlin
        layer.setdefault(section, {})[key] = value
    return layer


def _read_toml(path: Path | None, problems: list[str]) -> dict[str, Any]:
    if path is None or not path.exists():
        if path is not None:
            problems.append(f"{path}: config file not found")
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as e:
        problems.append(f"{path}: cannot read config: {e}")
        return {}


def load_settings(
    path: Path | None,
    *,
    environ: Mapping[str, str],
    overrides: Sequence[str] = (),
) -> Settings:
    """Load settings: defaults < file < environment (incl. .env, already merged) < overrides."""
    problems: list[str] = []
    where = str(path) if path else "defaults"
    data = _read_toml(path, problems)
    base = path.resolve().parent if path else Path.cwd()
    layers = [
        ("file", where, data, base),
        ("env", "environment", _env_layer(environ), Path.cwd()),
        ("flag", "--set", _flag_layer(overrides, problems), Path.cwd()),
    ]
    values: dict[str, dict[str, Any]] = {s: {} for s in _SECTION_TYPES}
    origins: dict[str, str] = {}
    for origin, label, layer, layer_base in layers:
        for section, table in layer.items():
            if section == "sources" and origin == "file":
                continue
            _merge_section(section, table, origin, label, layer_base, values, origins, problems)
    sources = parse_sources(data.get("sources", []), where, base, problems)
    sections = {}
    for name, cls in _SECTION_TYPES.items():
        try:
            sections[name] = cls(**values[name])
        except TypeError as e:  # pragma: no cover - guarded by _merge_section
            problems.append(f"{where}: [{name}]: {e}")
    if "email" in sections:
        problems.extend(email_problems(sections["email"]))
    if problems:
        raise ConfigError(problems)
    return Settings(**sections, sources=sources, config_path=path, origins=origins)


def _merge_section(
    section: str,
    table: Any,
    origin: str,
    label: str,
    base: Path,
    values: dict[str, dict[str, Any]],
    origins: dict[str, str],
    problems: list[str],
) -> None:
    cls = _SECTION_TYPES.get(section)
    if cls is None or not isinstance(table, dict):
        problems.append(f"{label}: [{section}]: unknown section")
        return
    hints = typing.get_type_hints(cls)
    for key, raw in table.items():
        where = f"{label}: [{section}].{key}"
        if (section, key) in SECRET_KEYS and origin == "file":
            problems.append(
                f"{where}: secrets belong in .env or the environment, not the config file"
            )
            continue
        if key not in hints:
            problems.append(f"{where}: unknown setting")
            continue
        try:
            value = _coerce(raw, hints[key], base)
            _check(f"{section}.{key}", value)
        except ValueError as e:
            problems.append(f"{where}: {e}")
            continue
        values[section][key] = value
        origins[f"{section}.{key}"] = origin


def describe(settings: Settings) -> list[tuple[str, Any, str, str]]:
    """Every effective setting as (key, value, origin, help), for ``digest config``."""
    rows = []
    for name, cls in _SECTION_TYPES.items():
        section = getattr(settings, name)
        for f in dataclasses.fields(cls):
            key = f"{name}.{f.name}"
            value = getattr(section, f.name)
            if (name, f.name) in SECRET_KEYS and value:
                value = "********"
            rows.append(
                (
                    key,
                    value,
                    settings.origins.get(key, "default"),
                    f.metadata.get("help", ""),
                )
            )
    return rows


def schema_fields() -> list[tuple[str, str]]:
    """(section.key, help) for every setting: what the docs test checks."""
    return [
        (f"{name}.{f.name}", f.metadata.get("help", ""))
        for name, cls in _SECTION_TYPES.items()
        for f in dataclasses.fields(cls)
    ]
