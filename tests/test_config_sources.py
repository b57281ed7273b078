"""[[sources]] tables for live sources and the [fetch] section: parsing and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import load_settings
from digest.errors import ConfigError
from digest.models import SourceSpec


def load(tmp_path: Path, text: str, environ: dict[str, str] | None = None):
    path = tmp_path / "digest.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, environ=environ or {})


def test_feed_page_and_dump_sources(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        '[[sources]]\nname = "desk"\nkind = "feed"\nurl = "https://news.example/rss"\n'
        'outlet = "Example News"\n'
        '[[sources]]\nname = "council"\nkind = "page"\n'
        'urls = ["https://c.example/a", "https://c.example/b"]\nenabled = false\n'
        '[[sources]]\nkind = "feed"\nlocation = "http://plain.example/atom"\n'
        '[[sources]]\nkind = "dump"\nlocation = "dumps"\n',
    )
    assert settings.sources == (
        SourceSpec(
            name="desk", kind="feed", location="https://news.example/rss", outlet="Example News"
        ),
        SourceSpec(name="council[1]", kind="page", location="https://c.example/a", enabled=False),
        SourceSpec(name="council[2]", kind="page", location="https://c.example/b", enabled=False),
        SourceSpec(
            name="http://plain.example/atom", kind="feed", location="http://plain.example/atom"
        ),
        SourceSpec(name="dumps", kind="dump", location=str((tmp_path / "dumps").resolve())),
    )


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        (
            'kind = "feed"\nurl = "ftp://x.example/rss"',
            "#1.url: expected an http(s) URL, got 'ftp://x.example/rss'",
        ),
        ('kind = "feed"\nurl = "not a url"', "#1.url: expected an http(s) URL"),
        ('kind = "page"\nurls = []', "#1.urls: expected at least one URL"),
        (
            'kind = "page"\nurls = ["https://a.example/", 3]',
            "#1.urls: expected an http(s) URL, got 3",
        ),
        ('kind = "feed"', "#1: give exactly one of url, urls, location"),
        (
            'kind = "feed"\nurl = "https://a.example/"\nurls = ["https://b.example/"]',
            "give exactly one",
        ),
        (
            'kind = "podcast"\nurl = "https://a.example/"',
            "#1.kind: unsupported source kind 'podcast'",
        ),
        (
            'kind = "feed"\nurl = "https://a.example/"\nenabled = "yes"',
            "#1.enabled: expected true or false",
        ),
        ('kind = "feed"\nurl = "https://a.example/"\noutlet = 3', "#1.outlet: expected a string"),
        (
            'kind = "feed"\nurl = "https://a.example/"\nfeed_url = "x"',
            "#1: unknown key(s) feed_url",
        ),
    ],
)
def test_bad_sources_are_one_line_each(tmp_path: Path, table: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, f"[[sources]]\n{table}\n")
    (line,) = [p for p in info.value.problems if problem in p]
    assert line.startswith(f"{tmp_path / 'digest.toml'}: [[sources]] #1")


def test_duplicate_source_names_are_an_error(tmp_path: Path) -> None:
    table = '[[sources]]\nname = "x"\nkind = "feed"\nurl = "https://a.example/"\n'
    with pytest.raises(ConfigError, match="duplicate name 'x'"):
        load(tmp_path, table * 2)


def test_fetch_settings_with_ranges_and_env(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        "[fetch]\nmax_bytes = 2048\nallow_private_addresses = true\n",
        environ={"DIGEST_FETCH__PER_HOST_CONCURRENCY": "4"},
    )
    assert settings.fetch.max_bytes == 2048
    assert settings.fetch.allow_private_addresses is True
    assert settings.fetch.per_host_concurrency == 4
    with pytest.raises(
        ConfigError, match=r"\[fetch\]\.max_redirects: expected a number in 0\.\.30"
    ):
        load(tmp_path, "[fetch]\nmax_redirects = 99\n")
    with pytest.raises(ConfigError, match=r"\[fetch\]\.timeout: unknown setting"):
        load(tmp_path, "[fetch]\ntimeout = 3\n")


def test_the_default_config_enables_no_live_source() -> None:
    repo = Path(__file__).resolve().parents[1]
    settings = load_settings(repo / "config" / "digest.toml", environ={})
    assert [s for s in settings.sources if s.kind != "dump"] == []
    assert settings.fetch.allow_private_addresses is False
