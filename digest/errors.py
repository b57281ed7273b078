"""The one exception hierarchy of digest.

``str(error)`` is always one line: ``<message>: <subject>[: <CauseType>: <cause>]``.
Library exceptions are mapped to these at the edge that calls the library, chained with
``raise ... from e``. Anything that is not a ``DigestError`` is a bug and propagates.
"""

from __future__ import annotations


class DigestError(Exception):
    """Base class. ``message`` is a lowercase phrase; ``subject`` names the file/feed/setting;
    ``hint``, when given, says what to do (``... (hint: ...)``)."""

    default_message = "digest error"

    def __init__(self, subject: str = "", message: str | None = None, *, hint: str = "") -> None:
        self.subject = subject
        self.message = message or self.default_message
        self.hint = hint
        super().__init__(self.message, subject)

    def __str__(self) -> str:
        parts = [self.message]
        if self.subject:
            parts.append(self.subject)
        cause = self.__cause__
        if cause is not None and not isinstance(cause, DigestError):
            parts.append(f"{type(cause).__name__}: {cause}")
        text = ": ".join(" ".join(p.split()) for p in parts)
        return f"{text} (hint: {self.hint})" if self.hint else text


def detached(error: BaseException) -> None:
    """Drop the tracebacks of ``error`` and of the errors it was raised from or during, so
    an error kept as a value holds no frames. A traceback's frames keep their callers'
    locals: a source's error kept in its result held the run's whole list of raw items
    alive through clustering (#16: 17 MB of texts at 10k articles)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        link = todo.pop()
        if link is None or id(link) in seen:
            continue
        seen.add(id(link))
        link.__traceback__ = None
        todo += (link.__cause__, link.__context__)  # (``raise ... from`` in an except: both)


class ConfigError(DigestError):
    """All configuration problems at once, one line each."""

    default_message = "invalid configuration"

    def __init__(self, problems: list[str] | tuple[str, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__("", "; ".join(self.problems) or self.default_message)

    def __str__(self) -> str:
        return "\n".join(self.problems) or self.default_message


class SourceError(DigestError):
    default_message = "source error"


class FetchError(SourceError):
    default_message = "fetch failed"


class ParseError(SourceError):
    default_message = "parse error"


class GoneError(FetchError):
    """HTTP 410: the source is disabled until reset."""

    default_message = "gone (HTTP 410), source disabled"


class RetryLaterError(FetchError):
    """HTTP 429/503: the server asked us to wait (``retry_after_seconds``, when it said)."""

    default_message = "server asked to retry later"

    def __init__(
        self, subject: str = "", message: str | None = None, *, retry_after_seconds: float | None
    ) -> None:
        super().__init__(subject, message)
        self.retry_after_seconds = retry_after_seconds


class SourceSkipped(SourceError):
    """Not fetched this run: backing off after failures, or disabled."""

    default_message = "skipped"


class StoreError(DigestError):
    default_message = "store error"


class StoreFault(StoreError):
    """The store's file cannot be used (disk full, locked by another program, damaged,
    empty): one line naming the store and the cause; ``hint`` says what to do."""

    default_message = "cannot use the store"


class RenderError(DigestError):
    default_message = "render error"


class DeliveryError(DigestError):
    """An email could not be delivered; ``hint`` says what to check."""

    default_message = "delivery failed"


class PublishError(DigestError):
    default_message = "publish failed"


class DaemonError(DigestError):
    default_message = "daemon error"
