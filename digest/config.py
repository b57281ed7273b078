"""Settings: one schema, loaded with a documented precedence.

defaults < ``config/digest.toml`` < ``.env`` < environment ``DIGEST_<SECTION>__<KEY>`` < flags.

``load_settings`` is pure (the environment and overrides are passed in). It collects every
problem and raises one ``ConfigError`` with one line per problem, each naming the key.
"""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digest.config_checks import ORDERED, allowed_range, check_value, coerce, never_fires
from digest.config_checks import setting as _help
from digest.config_editions import EmailSettings, ScheduleSettings, check_site_url, email_problems
from digest.config_sources import FetchSettings, parse_sources
from digest.errors import ConfigError
from digest.lang import interface
from digest.models import SourceSpec

ENV_PREFIX = "DIGEST_"


def _check_timezone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None


def _check_postgres_url(value: str | None) -> None:
    if value and not value.startswith(("postgresql://", "postgres://")):
        raise ValueError("expected a postgresql://user@host:port/database URL")


def _check_language(value: str) -> None:
    if not interface.known(value):
        raise ValueError(f"unknown language {value!r} (an ISO 639-1 code such as 'de')")


@dataclass(frozen=True, slots=True, kw_only=True)
class InputSettings:
    dump_dirs: tuple[Path, ...] = _help(
        "article dump files or folders (.txt .md .html .json .jsonl), relative to the config",
        (),
    )
    max_file_bytes: int = _help(
        "a dump file larger than this is skipped with one line (never read whole)",
        32_000_000,
        min=1_000,
        max=10_000_000_000,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreSettings:
    path: Path = _help(
        "SQLite database file, relative to the config file", Path("var/digest.sqlite3")
    )
    lock_wait_seconds: float = _help(
        "a run waits this long for another run or the daemon to finish with the store (and,"
        " at least 1 s, for another program's lock on the SQLite file)",
        600.0,
        min=0,
        max=86400,
    )
    url: str | None = _help(
        "a PostgreSQL store shared by several machines (postgresql://...); unset: the file",
        None,
        check=_check_postgres_url,
    )
    idle_transaction_timeout_seconds: float = _help(
        "PostgreSQL ends a session that sits this long inside a transaction (a frozen"
        " worker's row locks are released); 0: no limit",
        300.0,
        min=0,
        max=86400,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputSettings:
    dir: Path = _help("folder the briefings are published into", Path("output"))
    title: str = _help("title shown on every briefing", "Daily briefing")
    timezone: str = _help(
        "IANA time zone for briefing dates and shown times", "UTC", check=_check_timezone
    )
    language: str = _help(
        "language of the interface words and dates (ISO 639-1: en, de, fr, es, ...)",
        "en",
        check=_check_language,
    )
    templates_dir: Path | None = _help(
        "a folder of Jinja2 templates used instead of the ones inside the package", None
    )
    user_templates_dir: Path | None = _help(
        "optional folder whose templates override the bundled ones", None
    )
    max_threads: int = _help(
        "at most this many threads per briefing (most important first)", 40, min=1, max=10000
    )
    site_url: str | None = _help(
        "public URL where output/ is served (https://...); emails link to the web edition",
        None,
        check=check_site_url,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DedupeSettings:
    near_threshold: float = _help(
        "estimated Jaccard (0..1) above which two texts are near-duplicates", 0.4, min=0, max=1
    )
    recent_days: int = _help(
        "stored articles this recent are checked for near-duplicates"
        " (the fingerprints of older ones are dropped a day later)",
        7,
        min=0,
        max=3650,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterSettings:
    similarity_threshold: float = _help(
        "mean cosine (0..1) between two groups' articles at which they are one event",
        0.18,
        min=0,
        max=1,
    )
    attach_threshold: float = _help(
        "mean cosine (0..1) at which a lone article joins a thread as a reaction or angle",
        0.10,
        min=0,
        max=1,
    )
    window_days: float = _help(
        "a thread quiet for longer than this is closed to new articles", 3.0, min=0, max=365
    )
    max_thread_days: float = _help(
        "a thread whose first article is older than this takes no new articles (0: no limit)",
        7.0,
        min=0,
        max=3650,
    )
    decay_days: float = _help(
        "beyond a day between the events' days, the score halves over this many days",
        1.0,
        min=0.01,
        max=365,
    )
    names_threshold: float = _help(
        "cosine (0..1) of the names two groups need when both name people or places",
        0.10,
        min=0,
        max=1,
    )
    year_penalty: float = _help(
        "score factor (0..1) when both sides name years in title/lead but not the same",
        0.8,
        min=0,
        max=1,
    )
    overrides_file: Path | None = _help(
        "operator corrections to threads (merge, split, move, pin, mute), relative to the"
        " config file's folder; empty: none",
        None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SummarySettings:
    max_sentences: int = _help("most sentences in a thread summary", 5, min=1, max=20)
    min_sentences: int = _help(
        "fewest sentences in a thread summary, when the sources have them", 3, min=1, max=20
    )
    max_words: int = _help("word budget for one thread summary", 120, min=10, max=2000)
    max_quotes: int = _help("most direct quotes shown per thread", 3, min=0, max=20)


@dataclass(frozen=True, slots=True, kw_only=True)
class LogSettings:
    format: str = _help(
        "log lines as 'text' or 'json' (one object per line)", "text", choices=("text", "json")
    )
    progress_seconds: float = _help(
        "without a terminal, a running stage logs its progress this often (INFO)",
        10.0,
        min=0.01,
        max=86400,
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


@dataclass(slots=True)
class _Loading:
    """What ``load_settings`` gathers: each key's value, its origin (file/env/flag), where
    it was set (for messages: the file's path, environment, --set), and the problems."""

    values: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {s: {} for s in _SECTION_TYPES}
    )
    origins: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    def label(self, key: str) -> str:
        return self.labels.get(key, "defaults")


def load_settings(
    path: Path | None,
    *,
    environ: Mapping[str, str],
    overrides: Sequence[str] = (),
) -> Settings:
    """Load settings: defaults < file < environment (incl. .env, already merged) < overrides."""
    loading = _Loading()
    where = str(path) if path else "defaults"
    data = _read_toml(path, loading.problems)
    base = path.resolve().parent if path else Path.cwd()
    layers = [
        ("file", where, data, base),
        ("env", "environment", _env_layer(environ), Path.cwd()),
        ("flag", "--set", _flag_layer(overrides, loading.problems), Path.cwd()),
    ]
    for origin, label, layer, layer_base in layers:
        for section, table in layer.items():
            if section == "sources" and origin == "file":
                continue
            _merge_section(section, table, (origin, label, layer_base), loading)
    sources = parse_sources(data.get("sources", []), where, base, loading.problems)
    sections = {name: cls(**loading.values[name]) for name, cls in _SECTION_TYPES.items()}
    loading.problems.extend(_cross_problems(sections, loading))
    if loading.problems:
        raise ConfigError(loading.problems)
    return Settings(**sections, sources=sources, config_path=path, origins=loading.origins)


def _merge_section(
    section: str, table: Any, layer: tuple[str, str, Path], loading: _Loading
) -> None:
    origin, label, base = layer
    cls = _SECTION_TYPES.get(section)
    if cls is None or not isinstance(table, dict):
        loading.problems.append(f"{label}: [{section}]: unknown section")
        return
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key, raw in table.items():
        where, dotted = f"{label}: [{section}].{key}", f"{section}.{key}"
        if key not in hints:
            loading.problems.append(f"{where}: unknown setting")
            continue
        if fields[key].metadata.get("secret") and origin in _NOT_FOR_SECRETS:
            loading.problems.append(f"{where}: {_NOT_FOR_SECRETS[origin]}")
            continue
        try:
            value = coerce(raw, hints[key], base, typed=origin == "file")
            check_value(fields[key].metadata, value)
        except ValueError as e:
            loading.problems.append(f"{where}: {e}")
            loading.failed.add(dotted)
            continue
        loading.values[section][key] = value
        loading.origins[dotted], loading.labels[dotted] = origin, label


_NOT_FOR_SECRETS = {
    "file": "secrets belong in .env or the environment, not the config file",
    "flag": "secrets belong in .env or the environment, not on the command line"
    " (other users see it in ps)",
}
_PRECEDENCE = ("default", "file", "env", "flag")


def _cross_problems(sections: Mapping[str, Any], loading: _Loading) -> list[str]:
    """The rules between settings (each checked when its keys passed their own checks)."""

    def value(key: str) -> Any:
        section, name = key.split(".")
        return getattr(sections[section], name)

    def shown(key: str) -> str:
        section, name = key.split(".")
        return f"[{section}].{name}"

    problems = []
    for small, large in ORDERED:
        if {small, large} & loading.failed or value(small) <= value(large):
            continue
        rank = [_PRECEDENCE.index(loading.origins.get(k, "default")) for k in (small, large)]
        key, other, relation = (
            (large, small, "less") if rank[1] > rank[0] else (small, large, "more")
        )
        problems.append(
            f"{loading.label(key)}: {shown(key)}: {value(key)!r} is {relation} than"
            f" {shown(other)} ({value(other)!r}, {loading.label(other)})"
        )
    cron, tz = value("schedule.cron"), value("output.timezone")
    checked = "schedule.cron" in loading.origins and "output.timezone" not in loading.failed
    if checked and never_fires(cron, tz):  # (the default fires: apscheduler is not loaded)
        problems.append(
            f"{loading.label('schedule.cron')}: [schedule].cron: {cron!r} never fires"
            f" (no date matches it, in {tz})"
        )
    problems.extend(
        f"{loading.label('email.enabled')}: {p}" for p in email_problems(sections["email"])
    )
    return problems


def redacted_url(url: str) -> str:
    """A database URL without its password (``digest config``, messages, logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def describe(settings: Settings) -> list[tuple[str, Any, str, str]]:
    """Every effective setting as (key, value, origin, help), for ``digest config`` (the
    help ends with the allowed range of a number: "(0..1)")."""
    rows = []
    for name, cls in _SECTION_TYPES.items():
        section = getattr(settings, name)
        for f in dataclasses.fields(cls):
            key = f"{name}.{f.name}"
            value = getattr(section, f.name)
            if f.metadata.get("secret") and value:
                value = "********"
            elif key == "store.url" and value:
                value = redacted_url(value)
            rows.append(
                (
                    key,
                    value,
                    settings.origins.get(key, "default"),
                    f.metadata.get("help", "") + allowed_range(f.metadata),
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
