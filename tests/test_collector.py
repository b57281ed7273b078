"""The garbage collector pause of a run's middle stages (``digest.collector``)."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from digest import collector, intake, pipeline
from digest.config import Settings
from digest.pipeline import RunOptions, run_once
from digest.store import Store

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _enabled() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_paused_inside_and_enabled_again_after_even_on_an_error() -> None:
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector.paused():
        raise RuntimeError("a stage failed")
    assert gc.isenabled()


def test_a_nested_pause_leaves_the_outer_one_paused() -> None:
    with collector.paused():
        with collector.paused():
            pass
        assert not gc.isenabled()  # the inner one must not enable it early
    assert gc.isenabled()


def test_a_pause_inside_disabled_code_keeps_it_disabled() -> None:
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled()  # the caller's choice stands


def test_a_run_pauses_its_middle_stages_and_leaves_the_collector_on(
    tmp_path: Path, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A daemon runs for months in one process: a run must end with collection on, and the
    stages that build the big structures (whoever calls them: a run, a worker's job) run
    without it."""
    seen: dict[str, bool] = {}

    def spy(module: object, name: str) -> None:
        real = getattr(module, name)

        def wrapped(*args: object, **kwargs: object) -> object:
            seen[name] = gc.isenabled()
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapped)

    for name in ("normalize", "dedupe", "summarize", "render"):
        spy(pipeline, name)
    spy(intake, "plan_clusters")
    dump = tmp_path / "in" / "day.jsonl"
    dump.parent.mkdir()
    dump.write_text(
        '{"title": "Trelleby opens the Asker bridge", "outlet": "Coast Courier",'
        ' "published": "2026-03-02T10:00:00Z", "text": "The Asker bridge opened on Monday'
        ' after four years of work, the city of Trelleby said."}\n',
        encoding="utf-8",
    )
    settings = make_settings()
    with Store(settings.store.path) as store:
        options = RunOptions(day=date(2026, 3, 2), inputs=(dump,))
        report = run_once(settings, now=NOW, store=store, options=options)
    assert report.new_articles == 1
    assert seen == {
        "normalize": False,
        "dedupe": False,
        "plan_clusters": False,
        "summarize": False,
        "render": True,  # (templates make cycles: rendering keeps collection on)
    }
    assert gc.isenabled()
