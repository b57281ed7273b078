"""The dump readers: page dumps (seeds and samples), json/jsonl/html/md/txt, and bad inputs."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from digest.errors import ParseError, SourceError
from digest.models import RawItem
from digest.sources.aggregator import looks_like_page_dump, resolve_when
from digest.sources.dumps import DUMP_SUFFIXES, UNKNOWN_OUTLET, list_dump_files, read_dump

REPO = Path(__file__).resolve().parents[1]
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
DATA = REPO / "tests" / "data" / "dumps"
SAMPLES = REPO / "samples"
NOW = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)
CAPTURED = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)

# Page furniture that must never reach an article's title or text.
BOILERPLATE = (
    "Orange background",
    "Try Our AI Features",
    "can do for you:",
    "No comments yet",
    "Related Articles",
    "DOWNLOAD THE APP",
    "Download the App",
    "Ready to dive into",
    "app-storeplay-store",
    "Typeface",
    "\u2022",  # the "• Outlet" bullet
)
BOILERPLATE_LINES = ("logo", "Comments")


def read(path: Path, **kw: object) -> tuple[RawItem, ...]:
    args: dict[str, object] = {"source": "test", "outlet": None, "captured_at": None, "now": NOW}
    args.update(kw)
    return read_dump(path, **args)  # type: ignore[arg-type]


def assert_clean(item: RawItem) -> None:
    for junk in BOILERPLATE:
        assert junk not in item.title, (junk, item.title)
        assert junk not in item.text, (junk, item.title)
    for para in item.text.split("\n\n"):
        assert para.strip() == para
        assert para
        assert para not in BOILERPLATE_LINES
    assert not item.text.lower().startswith("time")


def assert_utc(item: RawItem) -> None:
    if item.published is None:  # undated: ordered by the capture time
        assert item.fetched_at.utcoffset() == timedelta(0)
        return
    assert item.published.utcoffset() == timedelta(0)
    assert item.fetched_at == NOW


# ── the seed page dumps ─────────────────────────────────────────────────────────────────

# The seeds' text is not ours to copy, so titles and body boundaries are pinned by digest:
# (file prefix, sha256[:16] of the title, outlet, hours before capture,
#  digest of the first N words, N, digest of the last M words, M, paragraphs)
SEED_ARTICLES = (
    (
        "000_",
        "affd69dbac222f3e",
        "Russia Today",
        24,
        "c97a0b8d5868f1ad",
        4,
        "43c9e1fc39d82457",
        5,
        9,
    ),
    (
        "000_",
        "b3415402381209c7",
        "Russia Today",
        43 / 60,
        "b04b2afbdbb93e6b",
        5,
        "251fe3a108080cb0",
        5,
        1,
    ),
    (
        "000_",
        "b95da1b61c5c8878",
        "Russia Today",
        1,
        "392f3cb288478811",
        5,
        "311a17c2e8d50a13",
        5,
        1,
    ),
    (
        "000_",
        "aa5f32ce59f97152",
        "Russia Today",
        4,
        "d5dd62adf01dd2c4",
        3,
        "32973fc5c7890761",
        3,
        1,
    ),
    (
        "004_",
        "ab3fca11ef9c4518",
        "Al Jazeera",
        12,
        "7ae7430c65f80817",
        6,
        "17c2a8c8c049a6da",
        5,
        15,
    ),
    (
        "004_",
        "6c9978c1b51023fd",
        "Qatar Tribune",
        8,
        "c62681c4c634051a",
        5,
        "a2f7af55c84f49e6",
        3,
        1,
    ),
    (
        "004_",
        "4b80c085fa3c5761",
        "Qatar Tribune",
        8,
        "6c6dd5141eb577bb",
        5,
        "f34e0ccde2b4d5a6",
        8,
        1,
    ),
)


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@pytest.fixture(scope="module")
def seed_items() -> dict[str, tuple[RawItem, ...]]:
    if not SEEDS.is_dir():
        pytest.skip(f"seed dumps not found at {SEEDS} (the shared folder beside the repo)")
    files = list_dump_files(SEEDS)
    return {
        f.name[:4]: read(f, source="seeds", captured_at=CAPTURED)
        for f in files
        if f.suffix == ".txt"
    }


def test_seed_files_split_into_seven_articles(seed_items: dict[str, tuple[RawItem, ...]]) -> None:
    assert {k: len(v) for k, v in seed_items.items()} == {"000_": 4, "004_": 3}
    got = [(p, digest_of(i.title)) for p, items in sorted(seed_items.items()) for i in items]
    assert got == [(a[0], a[1]) for a in SEED_ARTICLES]


@pytest.mark.parametrize("expected", SEED_ARTICLES, ids=lambda a: f"{a[0]}{a[1]}")
def test_seed_article(seed_items: dict[str, tuple[RawItem, ...]], expected: tuple) -> None:
    prefix, title, outlet, hours, first, n_first, last, n_last, n_paragraphs = expected
    (item,) = [i for i in seed_items[prefix] if digest_of(i.title) == title]
    assert item.outlet == outlet
    assert item.published == CAPTURED - timedelta(hours=hours)
    body = item.text.split()
    assert digest_of(" ".join(body[:n_first])) == first
    assert digest_of(" ".join(body[-n_last:])) == last
    assert len(item.text.split("\n\n")) == n_paragraphs
    assert item.source == "seeds"
    assert item.origin.endswith(".txt")
    assert item.url is None  # no sidecar: the page's URL is unknown
    assert_clean(item)
    assert_utc(item)


def test_seed_outlet_argument_overrides(seed_items: dict[str, tuple[RawItem, ...]]) -> None:
    path = next(p for p in list_dump_files(SEEDS) if p.name.startswith("004_"))
    items = read(path, outlet="Override", captured_at=CAPTURED)
    assert {i.outlet for i in items} == {"Override"}


# ── the bundled samples ─────────────────────────────────────────────────────────────────


def sample_items() -> dict[str, tuple[RawItem, ...]]:
    return {p.name: read(p) for p in list_dump_files(SAMPLES / "dumps")}


def test_samples_match_samples_events_json() -> None:
    spec = json.loads((SAMPLES / "events.json").read_text(encoding="utf-8"))
    items = sample_items()
    assert {name: len(v) for name, v in items.items()} == spec["files"]
    everything = [i for v in items.values() for i in v]
    assert len(everything) == spec["articles_read"]
    expected = sorted((a["outlet"], a["title"]) for event in spec["events"].values() for a in event)
    got = sorted({(i.outlet, i.title) for i in everything})  # the exact duplicate counts once
    assert got == expected
    for item in everything:
        assert_clean(item)
        assert_utc(item)
        assert (item.published or item.fetched_at) <= datetime(2026, 3, 2, 21, 30, tzinfo=UTC)


def test_sample_exact_duplicate_and_times() -> None:
    items = sample_items()
    page1, page2 = items["01-aggregator-page-1800.txt"], items["02-aggregator-page-2130.txt"]
    cup1 = next(i for i in page1 if i.outlet == "Sundial Sports")
    cup2 = next(i for i in page2 if i.outlet == "Sundial Sports")
    assert (cup1.title, cup1.text) == (cup2.title, cup2.text)
    assert cup1.published == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # "9 hours ago" at 18:00
    assert cup2.published == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # "12 hours ago" at 21:30
    assert (
        page1[0].url
        == "https://newsloom.example/harbourline-daily/port-brenna-dockworkers-walk-out"
    )
    assert all(i.url is None for i in page1[1:])
    assert page1[0].published == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    storm = page2[2]
    assert storm.text.startswith("The national weather office issued")  # glued junk dropped
    wire = items["03-newswire-export.jsonl"]
    assert [i.origin for i in wire] == [
        f"{SAMPLES / 'dumps' / '03-newswire-export.jsonl'}:{n}" for n in range(1, 5)
    ]
    assert wire[1].published == datetime(2026, 3, 2, 14, 5, tzinfo=UTC)  # +01:00 offset
    assert wire[2].published == datetime(2026, 3, 2, 16, 50, tzinfo=UTC)  # naive = UTC
    assert wire[1].authors == ("Tobias Weir",)
    assert len(wire[2].text.split("\n\n")) == 5  # single newlines are paragraph breaks


def test_sample_html_page_extraction() -> None:
    (item,) = sample_items()["04-valmora-post-bridge.html"]
    assert (
        item.title
        == "Prime Minister Aldane opens Selwick river bridge after four years of construction"
    )
    assert item.outlet == "Valmora Post"  # the page's site name (the sidecar names none)
    assert item.authors == ("Lena Brandt",)
    assert item.published == datetime(2026, 3, 2, 9, 45, tzinfo=UTC)
    assert item.url == "https://valmorapost.example/region/2026/03/02/selwick-bridge-opens"
    assert item.text.startswith("Prime Minister Tomas Aldane opened the Selwick river bridge")
    assert item.text.endswith("with heavy lorries allowed from April.")
    for junk in (
        "Subscribe",
        "ADVERTISEMENT",
        "Eastmere Motors",
        "riverwatcher",
        "ferry coffee",
        "newsletter",
        "More from Region",
        "cookies",
        "Share:",
        "Photo:",
    ):
        assert junk not in item.text


def test_sample_markdown_article() -> None:
    (item,) = sample_items()["05-lorrin-review-coral.md"]
    assert item.title == "Lorrin scientists find coral that survives record sea temperatures"
    assert item.outlet == "The Lorrin Review"  # from the sidecar
    assert item.authors == ("Hana Ilves",)
    assert item.published is None  # undated: ordered by the sidecar's captured_at
    assert item.fetched_at == datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert "**" not in item.text
    assert "Skerry Island to see" in item.text  # link reduced to its text
    assert len(item.text.split("\n\n")) == 5


# ── fixtures of each format ─────────────────────────────────────────────────────────────


def test_variant_page_dump() -> None:
    """No logo, title once, outlet and time on separate lines, optional bullet/repeat lines."""
    items = read(DATA / "variant-page.txt", captured_at=CAPTURED)
    assert [(i.title, i.outlet, i.published) for i in items] == [
        (
            "Ferry fares to rise by a fifth on the Lisk crossing",
            "The Lisk Observer",
            CAPTURED - timedelta(hours=3),
        ),
        (
            "Lisk library extends opening hours",
            "Lisk Community Radio",
            CAPTURED - timedelta(days=1),
        ),
        (
            "Tarrow harbour wall repairs finished early",
            "The Lisk Observer",
            datetime(2026, 3, 1, tzinfo=UTC),
        ),
        ("Choir festival returns to Lisk", "Lisk Community Radio", CAPTURED),
    ]
    assert [len(i.text.split("\n\n")) for i in items] == [3, 1, 2, 1]
    for item in items:
        assert_clean(item)


def test_plain_text_article_with_sidecar() -> None:
    (item,) = read(DATA / "plain-article.txt")
    assert item.title == "Tarrow council approves new cycle lanes"
    assert item.authors == ("Ruth Calloway", "Emil Strand")
    assert item.outlet == "Tarrow Weekly"
    assert item.url == "https://tarrowweekly.example/cycle-lanes"
    assert (item.published, item.fetched_at) == (None, datetime(2026, 2, 27, 7, 15, tzinfo=UTC))
    assert item.text.split("\n\n") == [
        "The town council of Tarrow voted on Monday to build four kilometres of protected "
        "cycle lanes along the harbour road.",
        "Councillor Ada Morven said the lanes would be finished before the summer season.",
        "Work starts in May.",
    ]


def test_markdown_without_sidecar_uses_mtime_and_unknown_outlet(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_bytes((DATA / "note.md").read_bytes())
    stamp = datetime(2026, 1, 5, 12, 30, tzinfo=UTC)
    os.utime(path, (stamp.timestamp(), stamp.timestamp()))
    (item,) = read(path)
    assert item.title == "Lisk bakery wins national bread prize"
    assert item.outlet == UNKNOWN_OUTLET
    assert (item.published, item.fetched_at) == (None, stamp)
    assert item.text.split("\n\n") == [
        "A family bakery in Lisk has won the national sourdough prize, the judges said.",
        "Owner Pavel Hune said the recipe came from his grandmother.",
    ]
    (item,) = read(path, outlet="Lisk Observer", captured_at=CAPTURED)
    assert (item.outlet, item.fetched_at) == ("Lisk Observer", CAPTURED)


def test_captured_at_precedence(tmp_path: Path) -> None:
    path = tmp_path / "page.txt"
    path.write_bytes((DATA / "variant-page.txt").read_bytes())
    os.utime(path, (0, 0))
    assert read(path)[0].published == datetime(1970, 1, 1, tzinfo=UTC) - timedelta(hours=3)
    (tmp_path / "page.txt.meta.json").write_text('{"captured_at": "2026-03-02T12:00:00"}')
    assert read(path)[0].published == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert read(path, captured_at=CAPTURED)[0].published == CAPTURED - timedelta(hours=3)


def test_json_single_object() -> None:
    (item,) = read(DATA / "article.json")
    assert item.title == "Tarrow lighthouse to become a museum"
    assert item.outlet == "Tarrow Weekly"
    assert item.published == datetime(2026, 2, 20, 8, 0, tzinfo=UTC)
    assert item.authors == ("Emil Strand",)
    assert item.origin == str(DATA / "article.json")
    assert len(item.text.split("\n\n")) == 2


def test_json_list_skips_a_bad_object(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="digest.sources.dumps"):
        items = read(DATA / "articles.json", captured_at=CAPTURED)
    assert [(i.title, i.outlet) for i in items] == [
        ("Lisk school wins robotics contest", "Lisk Community Radio"),
        ("Tarrow market moves indoors", "Tarrow Weekly"),
    ]
    assert items[0].published == datetime(2026, 2, 21, tzinfo=UTC)  # date only
    assert (items[1].published, items[1].fetched_at) == (None, CAPTURED)  # no date given
    assert "entry 2: missing text" in caplog.text


def test_jsonl() -> None:
    items = read(DATA / "articles.jsonl")
    assert [(i.title, i.outlet, i.published) for i in items] == [
        (
            "Lisk bus timetable changes",
            "Lisk Community Radio",
            datetime(2026, 2, 22, 7, 30, tzinfo=UTC),
        ),
        (
            "Tarrow swimming pool closes for repairs",
            "Tarrow Weekly",
            datetime(2026, 2, 22, 9, tzinfo=UTC),
        ),
    ]
    assert items[1].origin.endswith("articles.jsonl:3")  # blank line 2 ignored, numbering kept
    assert items[1].authors == ("Ruth Calloway",)
    assert items[1].text == "The pool will close for six weeks.\n\nA temporary timetable is online."


def test_html_page(tmp_path: Path) -> None:
    (item,) = read(DATA / "page.html", captured_at=CAPTURED)
    assert item.title == "Lisk harbour gets a new floating pontoon"
    assert item.outlet == "The Lisk Observer"
    assert (item.published, item.fetched_at) == (None, CAPTURED)  # the page gives no date
    assert item.authors == ("Ida Marsh",)
    assert item.text.startswith("A new floating pontoon was installed")
    assert item.text.endswith("the town council together.")
    assert len(item.text.split("\n\n")) == 3
    for junk in ("Subscribe", "ADVERTISEMENT", "Reader comment", "Cookie", "Home"):
        assert junk not in item.text
    copy = tmp_path / "page.htm"
    copy.write_bytes((DATA / "page.html").read_bytes())
    (tmp_path / "page.htm.meta.json").write_text('{"outlet": "Sidecar Outlet"}')
    assert read(copy)[0].outlet == "Sidecar Outlet"
    assert read(copy, outlet="Argument Outlet")[0].outlet == "Argument Outlet"


_DATED_BODY = (
    "<p>The Lisk harbour board installed a floating pontoon on Monday, the first of three"
    " the town has ordered for its fishing fleet and visiting yachts this summer.</p>"
    "<p>Harbour master Ida Marsh said the pontoon would double the berths for small boats"
    " and that the other two would follow in May, paid for by the regional fund.</p>"
)


@pytest.mark.parametrize(
    "tag",
    [
        '<meta property="article:published_time" content="2026-03-02T09:45:00Z">',
        '<meta content="2026-03-02T09:45:00Z" name="article:published_time">',
        '<meta property="og:published_time" content="2026-03-02T09:45:00Z">',
        '<meta itemprop="datePublished" content="2026-03-02T09:45:00Z">',
        '<time datetime="2026-03-02T09:45:00Z">2 March</time>',
    ],
)
def test_a_page_dated_by_its_url_keeps_the_time_its_tags_give(tmp_path: Path, tag: str) -> None:
    """The page's URL gives only the day; its published-time tag, of any of the kinds pages
    use (the first in page order; a tag of another day or with no time is passed over), the
    time of day."""
    others = '<meta property="og:updated_time" content="2026-03-02T20:00:00Z">'
    page = write(
        tmp_path,
        "page.html",
        f"<html><head><title>Lisk pontoon opens</title>{others}</head><body><article>"
        f'<h1>Lisk pontoon opens</h1><time datetime="2026-03-01">1 March</time>'
        f'<time datetime="2026-02-27T07:00:00Z">27 Feb</time>{tag}{_DATED_BODY}</article>'
        "</body></html>",
    )
    url = "https://lisk.example/2026/03/02/pontoon"
    (tmp_path / "page.html.meta.json").write_text(json.dumps({"url": url}))
    (item,) = read(page, captured_at=CAPTURED)
    assert item.published == datetime(2026, 3, 2, 9, 45, tzinfo=UTC)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffA title\n\nA body line.\n".encode())
    assert read(path)[0].title == "A title"


def test_sentence_ending_in_a_relative_time_is_not_a_page_dump() -> None:
    text = "Flood defences tested\nThe new barrier was raised for the first time a day ago.\n"
    assert not looks_like_page_dump(text)


@pytest.mark.parametrize(
    ("phrase", "delta"),
    [
        ("a day ago", timedelta(days=1)),
        ("an hour ago", timedelta(hours=1)),
        ("43 minutes ago", timedelta(minutes=43)),
        ("12 hours ago", timedelta(hours=12)),
        ("2 days ago", timedelta(days=2)),
        ("just now", timedelta(0)),
        ("yesterday", timedelta(days=1)),
        ("5 mins ago", timedelta(minutes=5)),
        ("a week ago", timedelta(weeks=1)),
    ],
)
def test_resolve_relative_times(phrase: str, delta: timedelta) -> None:
    assert resolve_when(phrase, CAPTURED) == CAPTURED - delta


def test_resolve_absolute_dates() -> None:
    for phrase in ("Mar 1, 2026", "1 March 2026", "2026-03-01", "March 1 2026"):
        assert resolve_when(phrase, CAPTURED) == datetime(2026, 3, 1, tzinfo=UTC)
    assert resolve_when("sometime", CAPTURED) is None


# ── listing ─────────────────────────────────────────────────────────────────────────────


def test_list_dump_files(tmp_path: Path) -> None:
    for name in (
        "b.txt",
        "a/c.jsonl",
        "a/c.jsonl.meta.json",
        ".hidden.txt",
        ".git/x.txt",
        "report.pdf",
        "z.md",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert list_dump_files(tmp_path) == tuple(
        tmp_path / n for n in ("a/c.jsonl", "b.txt", "report.pdf", "z.md")
    )
    assert list_dump_files(tmp_path / "b.txt") == (tmp_path / "b.txt",)
    with pytest.raises(SourceError, match="no such file or folder"):
        list_dump_files(tmp_path / "missing")
    assert {".txt", ".md", ".html", ".htm", ".json", ".jsonl"} == DUMP_SUFFIXES


# ── bad inputs: one clear line naming the file ──────────────────────────────────────────


def parse_error(path: Path) -> str:
    with pytest.raises(ParseError) as info:
        read(path, captured_at=CAPTURED)
    message = str(info.value)
    assert "\n" not in message
    assert str(path).split(":")[0] in message
    return message


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


@pytest.mark.parametrize("data", [b"", b"  \n\n\t\n"])
def test_empty_file(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, "empty.txt", data)
    assert parse_error(path) == f"empty file: {path}"


def test_binary_files(tmp_path: Path) -> None:
    assert "binary file" in parse_error(write(tmp_path, "x.txt", b"PK\x03\x04\x00\x00data"))
    assert "binary file (not UTF-8 text)" in parse_error(write(tmp_path, "x.json", b"\xff\xfe\xfa"))


def test_unknown_extension(tmp_path: Path) -> None:
    path = write(tmp_path, "report.pdf", b"%PDF-1.7")
    assert parse_error(path) == f"unsupported file type '.pdf': {path}"


def sample_page() -> list[str]:
    return (SAMPLES / "dumps" / "01-aggregator-page-1800.txt").read_text().splitlines()


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        (lambda s: s[:1], "no title and outlet/time line"),
        (lambda s: s[:4], "no title and outlet/time line"),
        (lambda s: s[:6], "no body for the main article"),
        (lambda s: s[:9], "the file ends inside the main article"),
        (lambda s: s[:30], "the file ends inside the related articles"),
        (lambda s: s[:-6], "the file ends inside the related articles"),
        (lambda s: [*s[:31], *s[-6:]], "no body for the related article"),
        (lambda s: [*s[:24], "one stray line", *s[-6:]], "related articles without time lines"),
    ],
    ids=[
        "logo-only",
        "titles-only",
        "header-only",
        "cut-in-main",
        "cut-in-related",
        "no-footer",
        "related-header-only",
        "unsplittable",
    ],
)
def test_truncated_page_dump(tmp_path: Path, lines: object, reason: str) -> None:
    path = write(tmp_path, "cut.txt", "\n".join(lines(sample_page())) + "\n")  # type: ignore[operator]
    message = parse_error(path)
    assert message.startswith("truncated page dump (")
    assert reason in message


def test_single_article_without_body(tmp_path: Path) -> None:
    assert "no article text" in parse_error(write(tmp_path, "t.md", "# Only a title\n"))


def test_html_without_article(tmp_path: Path) -> None:
    path = write(tmp_path, "nav.html", "<html><body><nav><a href='/'>Home</a></nav></body></html>")
    assert parse_error(path) == f"no article found in the page: {path}"


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.json", '{\n  "title": "x",\n  "text": oops\n}\n')
    assert parse_error(path).startswith(f"invalid JSON: {path}:3: JSONDecodeError:")


def test_json_object_missing_text(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", '{"title": "Only a title"}')
    assert parse_error(path) == f"missing text (no usable entry in the file): {path}"


def test_jsonl_with_one_broken_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    good = '{"title": "T%d", "text": "Body %d.", "outlet": "O"}'
    path = write(
        tmp_path, "x.jsonl", "\n".join([good % (1, 1), '{"title": "broken', good % (3, 3)])
    )
    with caplog.at_level(logging.WARNING, logger="digest.sources.dumps"):
        items = read(path)
    assert [i.title for i in items] == ["T1", "T3"]
    assert f"invalid JSON: {path}:2: JSONDecodeError" in caplog.text


def test_all_broken_jsonl(tmp_path: Path) -> None:
    path = write(tmp_path, "x.jsonl", '\nnot json\n[1, 2]\n{"title": "no text"}\n')
    message = parse_error(path)
    assert message.startswith(f"invalid JSON (no usable entry in the file): {path}:2: ")


def test_bad_published_time_skips_the_entry(tmp_path: Path) -> None:
    path = write(tmp_path, "x.jsonl", '{"title": "T", "text": "B.", "published": "last Tuesday"}\n')
    assert "invalid published time" in parse_error(path)


def test_bad_sidecar(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", "Title\n\nBody.\n")
    write(tmp_path, "a.txt.meta.json", '{"captured_at": "soon"}')
    message = parse_error(path)
    assert message.startswith(f"invalid captured_at in sidecar: {path}.meta.json")


def test_a_broken_files_error_keeps_no_raw_items_alive(tmp_path: Path) -> None:
    """A source's error is kept as a value in its result; its traceback's frames would keep
    ``ingest_all``'s locals, and with them every raw item of the run, alive through
    clustering (#16). Once the results are emptied of items, none is left."""
    import gc

    from digest.models import SourceSpec
    from digest.sources import IngestContext, ingest_all

    good = tmp_path / "good.jsonl"
    rows = [{"title": f"Title {n}", "text": f"Body text number {n}.", "url": f"https://x.example/{n}"}
            for n in range(5)]  # fmt: skip
    good.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    broken = tmp_path / "broken.jsonl"
    broken.write_text("not json at all\n", encoding="utf-8")
    specs = [
        SourceSpec(name=p.name, kind="dump", location=str(p))
        for p in (good, broken, tmp_path / "missing.jsonl")
    ]
    now = datetime(2026, 1, 6, 12, tzinfo=UTC)
    results = ingest_all(specs, IngestContext(now=now, captured_at=now))
    assert [r.ok for r in results] == [True, False, False]
    errors = [r.value for r in results if not r.ok]
    assert all(isinstance(e, SourceError) and e.__traceback__ is None for e in errors)
    del results
    gc.collect()
    alive = [
        o for o in gc.get_objects() if type(o) is RawItem
    ]  # (others' fixtures too; type: see test_scale_paths)
    assert not [o for o in alive if o.origin.startswith(str(tmp_path))]
    assert all(str(e) for e in errors)  # what the log and `digest status` say stays


def test_a_kept_error_drops_the_tracebacks_of_its_cause_and_its_context() -> None:
    """``raise ... from`` inside an ``except`` links both a cause and a context, each with
    its own frames: neither keeps them once the error is a result's value."""
    from digest.models import SourceResult, SourceSpec

    try:
        raise OSError("the cause")
    except OSError as caught_cause:
        cause = caught_cause
    try:
        try:
            raise ValueError("while handling this")
        except ValueError:
            raise SourceError("feed.xml", "fetch failed") from cause
    except SourceError as caught:
        error = caught
    chain = [error, error.__cause__, error.__context__]
    assert isinstance(chain[2], ValueError)  # (a context that is not the cause)
    assert all(e is not None and e.__traceback__ is not None for e in chain)
    SourceResult(source=SourceSpec(name="feed.xml", kind="dump", location="x"), value=error)
    assert [e.__traceback__ for e in chain if e is not None] == [None] * 3
    assert str(error) == "fetch failed: feed.xml: OSError: the cause"
