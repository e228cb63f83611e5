"""tools.admin as an operator meets it: with nothing running, one line that says what to do, never a traceback."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.e2e.conftest import PROJECT


def admin(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RESPONDER_", "LOCAL_AWS"))}
    return subprocess.run([sys.executable, "-m", "tools.admin", *args], cwd=PROJECT, capture_output=True, text=True,
                          env={**base, "COLUMNS": "200", **env}, timeout=120)


def one_line(result: subprocess.CompletedProcess) -> str:
    said = (result.stdout + result.stderr).strip()
    assert "Traceback" not in said and len(said.splitlines()) == 1, said
    return said


def test_with_the_api_unreachable_an_http_command_says_so_in_one_line():
    result = admin("rota", RESPONDER_URL="http://127.0.0.1:9")
    assert result.returncode == 2
    assert "cannot reach the responder API at http://127.0.0.1:9" in one_line(result) and "make run" in result.stdout


def test_with_no_local_stack_the_dead_letter_commands_say_so_in_one_line():
    for command in ("dlq", "redrive"):
        result = admin(command, "responder-inbound", LOCAL_AWS_PORT="9")
        assert result.returncode == 2
        assert "no local stack answers at http://127.0.0.1:9" in one_line(result)


def test_a_deployed_stage_without_a_region_is_told_how_to_give_one():
    result = admin("dlq", "responder-inbound", RESPONDER_STAGE="dev", HOME="/nonexistent")
    assert result.returncode == 2 and "export AWS_REGION" in one_line(result) and "--region" not in result.stdout


def test_a_deployed_stages_url_means_its_queues_not_the_local_stack():
    result = admin("dlq", "responder-inbound", RESPONDER_URL="https://abc.execute-api.eu-west-2.amazonaws.com/api",
                   HOME="/nonexistent")
    assert result.returncode == 2 and "export AWS_REGION" in one_line(result)
