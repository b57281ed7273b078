"""Shared fixtures: a fixed clock, article factory, settings over tmp_path, goldens."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digest.config import Settings, load_settings
from digest.models import Article
from tests.httpserver import drip_server, http_server  # noqa: F401 - loopback server fixtures

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
NOW = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden files")


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def shared_dir() -> Path:
    if not (SHARED / "seeds").is_dir():
        pytest.skip(f"shared data not found at {SHARED}")
    return SHARED


@pytest.fixture
def make_article() -> Callable[..., Article]:
    def make(
        title: str,
        text: str,
        *,
        outlet: str = "Test Wire",
        hours: float = 0.0,
        url: str | None = None,
    ) -> Article:
        published = datetime.fromtimestamp(NOW.timestamp() - hours * 3600, tz=UTC)
        digest = hashlib.sha256(f"{outlet}\n{title}\n{text}".encode()).hexdigest()[:16]
        return Article(
            id=digest,
            canonical_url=url,
            outlet=outlet,
            title=title,
            text=text,
            published=published,
            fetched_at=NOW,
            source="test",
            origin="test",
            content_hash=digest,
        )

    return make


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings with the store and output under tmp_path; extra ``--set`` overrides allowed."""

    def make(*overrides: str, environ: dict[str, str] | None = None) -> Settings:
        flags = [
            f"store.path='{tmp_path / 'var' / 'digest.sqlite3'}'",
            f"output.dir='{tmp_path / 'output'}'",
            *overrides,
        ]
        return load_settings(None, environ=environ or {}, overrides=flags)

    return make


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """Compare text with tests/golden/NAME; ``--update-golden`` rewrites it."""
    update = request.config.getoption("--update-golden")

    def check(name: str, actual: str) -> None:
        path = REPO / "tests" / "golden" / name
        if update or not path.exists():
            if not update:
                pytest.fail(f"missing golden file {path}; run pytest --update-golden")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            return
        expected = path.read_text(encoding="utf-8")
        if actual != expected:
            diff = "".join(
                difflib.unified_diff(
                    expected.splitlines(True), actual.splitlines(True), f"golden/{name}", "actual"
                )
            )
            pytest.fail(f"output differs from golden/{name} (pytest --update-golden):\n{diff}")

    return check


# ── editions, email and the daemon (#4) ───────────────────────────────────────────────────


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (aiosmtpd's Controller cannot take port 0)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it accepts.

    ``stop()`` and ``start()`` simulate an outage; the port stays the same.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[object] = []  # aiosmtpd Envelopes: mail_from, rcpt_tos, content
        self.controller = None
        self.refuse: set[str] = {"nobody@example.org"}  # RCPT TO these gets a 550

    async def handle_RCPT(
        self, server: object, session: object, envelope: object, address: str, options: list
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)  # type: ignore[attr-defined]
        return "250 OK"

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(envelope)
        return "250 Message accepted for delivery"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def settings(self, *extra: str) -> list[str]:
        """``--set`` overrides that point [email] at this server."""
        return [
            "email.enabled=true",
            "email.host='127.0.0.1'",
            f"email.port={self.port}",
            "email.security='none'",
            "email.from_address='Briefing <digest@example.org>'",
            "email.to_addresses=['ana@example.org', 'ben@example.org']",
            "email.timeout_seconds=5",
            *extra,
        ]


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
