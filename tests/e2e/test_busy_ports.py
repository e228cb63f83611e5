"""`make run` with a port already taken: one sentence naming the port and how to pick another, exit 2, and no local
AWS process left behind."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from tests.e2e.conftest import PROJECT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def local_aws_processes() -> set[int]:
    found = subprocess.run(["pgrep", "-f", "tools.local_aws"], capture_output=True, text=True)
    return {int(pid) for pid in found.stdout.split()}


@pytest.mark.parametrize("taken", ["PORT", "LOCAL_AWS_PORT"])
def test_a_busy_port_is_named_with_how_to_pick_another_and_nothing_is_left_running(taken):
    ports = {"PORT": free_port(), "LOCAL_AWS_PORT": free_port()}
    before = local_aws_processes()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", ports[taken]))
        holder.listen()
        result = subprocess.run([sys.executable, "-m", "tools.local_stack"], cwd=PROJECT, capture_output=True,
                                text=True, timeout=60,
                                env={**os.environ, **{k: str(v) for k, v in ports.items()}})
    said = (result.stdout + result.stderr).strip()
    assert result.returncode == 2 and "Traceback" not in said and len(said.splitlines()) == 1, said
    assert f"port {ports[taken]} ({taken}) already in use" in said and "make run" in said
    assert local_aws_processes() <= before  # no local AWS started, none orphaned
