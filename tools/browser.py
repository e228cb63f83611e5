"""Headless Chromium for the browser tests: find it, install it on a clean Debian machine, drive it.

``find_chromium()`` looks at ``$CHROMIUM`` and then for ``chromium``, ``chromium-browser`` and
``google-chrome`` on the PATH. ``ensure_chromium()`` also installs Debian's ``chromium`` package with
apt-get when it is missing and the process runs as root (as ``make test`` does on a fresh CI machine),
printing each command it runs. ``dump_dom`` and ``screenshot`` run one headless page load each.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
HEADLESS_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars",
)


def find_chromium() -> str | None:
    """The path of a Chromium-compatible browser, or None."""
    configured = os.environ.get("CHROMIUM")
    if configured:
        found = shutil.which(configured)
        if found:
            return found
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def ensure_chromium(timeout: float = 900) -> str | None:
    """The browser's path, installing Debian's ``chromium`` package first if it is missing and we may."""
    found = find_chromium()
    if found or not _is_root() or not shutil.which("apt-get"):
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        print("installing headless Chromium:", " ".join(command), flush=True)
        result = subprocess.run(command, env=env, timeout=timeout, check=False)
        if result.returncode != 0:
            print(f"{' '.join(command)} failed with exit code {result.returncode}", flush=True)
            return None
    return find_chromium()


def _run(browser: str, args: list[str], timeout: float) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        return subprocess.run([browser, *HEADLESS_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout, check=False)


def dump_dom(url: str, *, browser: str | None = None, timeout: float = 60) -> str:
    """The DOM after the page has loaded, serialized by the browser."""
    browser = browser or find_chromium()
    if not browser:
        raise RuntimeError("no Chromium found (set CHROMIUM or install the chromium package)")
    result = _run(browser, ["--dump-dom", url], timeout)
    if result.returncode != 0 or not result.stdout.strip():
        raise RuntimeError(f"chromium --dump-dom failed ({result.returncode}): {result.stderr[-2000:]}")
    return result.stdout


def screenshot(url: str, path: str | Path, *, width: int = 390, height: int = 844, browser: str | None = None,
               timeout: float = 60) -> Path:
    """A PNG of the page at the given viewport size (a phone by default)."""
    browser = browser or find_chromium()
    if not browser:
        raise RuntimeError("no Chromium found (set CHROMIUM or install the chromium package)")
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    result = _run(browser, [f"--screenshot={path}", f"--window-size={width},{height}", url], timeout)
    if result.returncode != 0 or not path.exists():
        raise RuntimeError(f"chromium --screenshot failed ({result.returncode}): {result.stderr[-2000:]}")
    return path


if __name__ == "__main__":
    print(ensure_chromium() or "Chromium is not available")
