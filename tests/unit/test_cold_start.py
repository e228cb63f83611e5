"""The process-wide services are built once, however many threads ask at the same moment.

The local stack's runner starts some forty handler threads and its HTTP server together, and each asks for the
services at once. Built once per asker, each set came with a clock of its own: a set finished late replaced the one
``POST /local/clock`` had just moved, and the app's time jumped back (the team feed's shift undone, its urgent
posts held until the next morning). Here ``build`` is slow on purpose, so that every thread is inside
``services()`` before the first build ends."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import bootstrap
from tests.conftest import LOCAL_ENV


@pytest.fixture
def no_services() -> Iterator[None]:
    bootstrap.use(None)
    yield
    bootstrap.use(None)


def test_forty_threads_asking_at_once_get_one_build_and_the_same_services(no_services: None,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []

    def slow_build(settings: Any, **kwargs: Any) -> object:
        time.sleep(0.2)  # a cold start's clients take a while: every other thread arrives meanwhile
        made = object()
        built.append(made)
        return made

    for key, value in LOCAL_ENV.items():  # the local stage's environment, as the runner's process has it
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(bootstrap, "build", slow_build)
    start = threading.Barrier(40)
    got: list[object] = []

    def ask() -> None:
        start.wait()
        got.append(bootstrap.services())

    threads = [threading.Thread(target=ask) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(built) == 1, f"{len(built)} builds"
    assert len(got) == 40 and all(svc is built[0] for svc in got)
    assert bootstrap.services() is built[0]  # later askers get the same one, nothing is built again


def test_services_set_by_use_are_kept(no_services: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bootstrap, "build", lambda settings, **kwargs: pytest.fail("built although set"))
    mine = object()
    bootstrap.use(mine)  # type: ignore[arg-type]
    assert bootstrap.services() is mine
