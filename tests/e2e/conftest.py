"""End-to-end: the real local stack (`python -m tools.local_stack`, as `make run` starts it) in a subprocess."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

PROJECT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalStack:
    def __init__(self, clock: str | None, extra_env: dict[str, str] | None = None):
        self.aws_port, self.http_port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.endpoint = f"http://127.0.0.1:{self.aws_port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(LOCAL_AWS_PORT=str(self.aws_port), PORT=str(self.http_port), PYTHONUNBUFFERED="1")
        if clock:
            env["RESPONDER_CLOCK"] = clock
        env.update(extra_env or {})
        self.log = open(PROJECT / f".pytest_cache/local-stack-{self.http_port}.log", "w+")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "tools.local_stack"], cwd=PROJECT, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"local stack exited: {self.output()}")
            try:
                if requests.get(self.base + "/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"local stack did not become healthy: {self.output()}")

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> int:
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=15)
        finally:
            self.log.close()

    def stop_in_background(self) -> None:
        """``stop()`` on a thread of its own: the stack's clean stop (its runner, server and local AWS, a few seconds)
        overlaps the next module's start; the session waits for every one at its end and fails on one that did
        not stop."""
        def stopping() -> None:
            try:
                self.stop()
            except Exception as exc:  # reported at the session's end
                UNSTOPPED.append(f"{self.base}: {type(exc).__name__}: {exc}")

        thread = threading.Thread(target=stopping, name=f"stop-{self.http_port}", daemon=True)
        thread.start()
        STOPPING.append(thread)

    def get(self, path: str, **kwargs):
        return requests.get(self.base + path, timeout=10, **kwargs)

    def post(self, path: str, **kwargs):
        return requests.post(self.base + path, timeout=10, **kwargs)

    def wait_for(self, predicate, timeout: float = 10.0, interval: float = 0.1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(interval)
        return predicate()


#: the stacks stopping in the background (``LocalStack.stop_in_background``), and those that failed to stop
STOPPING: list[threading.Thread] = []
UNSTOPPED: list[str] = []


def started_at(clock: str):
    """A module's local stack, its clock started at ``clock``; stopped after the module (in the background, while
    the next module starts)."""
    (PROJECT / ".pytest_cache").mkdir(exist_ok=True)
    stack = LocalStack(clock)
    yield stack
    stack.stop_in_background()


@pytest.fixture(scope="session", autouse=True)
def _stacks_stopped():
    """At the session's end, every stack stopped in the background has stopped, cleanly."""
    yield
    for thread in STOPPING:
        thread.join(timeout=30)
    running = [thread.name for thread in STOPPING if thread.is_alive()]
    assert not running and not UNSTOPPED, (running, UNSTOPPED)


def watched_page(browser, problems: list[str], *, init_script: str = ""):
    """A desktop-sized page of its own (a new context), every console error and page error noted in ``problems``;
    ``init_script`` runs before each page's own scripts (a stand-in for a browser API)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page


def sign_in(page, base: str, username: str, password: str) -> None:
    """Sign in on the inbox's sign-in page, as an agent types it, and wait for the inbox."""
    page.goto(base + "/inbox/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/inbox")


@pytest.fixture(scope="module")
def chromium():
    """Debian's headless Chromium for the customers' pages (the status page, the contact form): a failure when it
    is missing, unless RESPONDER_SKIP_BROWSER=1 skips the browser tests on request."""
    if os.environ.get("RESPONDER_SKIP_BROWSER") == "1":
        pytest.skip("RESPONDER_SKIP_BROWSER=1: browser tests skipped on request")
    from tools.browser import ensure_chromium

    browser = ensure_chromium()
    if not browser:
        pytest.fail("headless Chromium is not available: install Debian's chromium package, set CHROMIUM=<path>, "
                    "or set RESPONDER_SKIP_BROWSER=1 to skip browser tests")
    return browser


@pytest.fixture(scope="module")
def sunday_night_stack():
    """The local stack with its clock started at Sunday 03:00 Europe/London (every desk but on-call closed)."""
    yield from started_at("2026-11-29T03:00:00+00:00")


@pytest.fixture(scope="module")
def weekday_stack():
    """The local stack with its clock started at Tuesday 10:00 Europe/London (desks open)."""
    yield from started_at("2026-11-24T10:00:00+00:00")


@pytest.fixture(scope="module")
def wednesday_stack():
    """The local stack with its clock started at Wednesday 10:00 Europe/London: customer service, comms, leads and
    on-call all on shift."""
    yield from started_at("2026-11-25T10:00:00+00:00")
