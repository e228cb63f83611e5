"""The shape of the suite: use-case behaviour is tested on the in-memory stores (``mem``, proven equal to DynamoDB
and SQS by tests/contract), and moto keeps the adapters. Counted from the tests' fixture parameters, with ``ast``
(no test is imported or run)."""
from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
SCANNED = ("unit", "integration", "reliability")

#: Files that test an adapter, where ``svc`` is there for the AWS side, not for the use case:
ADAPTER_FILES = {
    "test_channels.py",  # every channel other than X through its real route (SNS certificate fetch intercepted)
    "test_aws_calls.py",  # the AWS calls per scenario, counted with a botocore hook: only moto has them
    "test_observability.py",  # EMF metrics, log correlation, the template's alarms, moto's API Gateway responses
    "test_unstorable_events.py",  # ids longer than a DynamoDB key may be, refused at the routes, handlers, pollers
    "test_policy_grants.py",  # the template's IAM policy against every AWS call the code makes on moto
    "test_contracts.py",  # the template, the stage config and the desk-queue contract
}

#: Fixtures that mean the test is about AWS or an HTTP adapter, not a use case: the Chalice routes, moto itself,
#: the services as the Lambda runtime builds them, the production X sender, the local HTTP server.
ADAPTER_FIXTURES = {"client", "aws", "lambda_svc", "real_x", "local_server"}


def _fixtures(tree: ast.Module) -> dict[str, set[str]]:
    """The fixtures a module defines, each with the fixtures it takes."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                "fixture" in ast.unparse(d) for d in node.decorator_list):
            found[node.name] = {a.arg for a in node.args.args}
    return found


def _used(params: set[str], fixtures: dict[str, set[str]]) -> set[str]:
    """Every fixture a test uses: its parameters and, through the fixtures its own module defines, the fixtures
    those take (tests/conftest.py's are not followed: ``svc`` takes ``aws`` whatever the test is about)."""
    seen, todo = set(), list(params)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(fixtures.get(name, ()))
    return seen


def _tests(tree: ast.Module):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
            params = {a.arg for a in node.args.args} - {"self"}
            for decorator in node.decorator_list:  # @pytest.mark.usefixtures("...")
                if isinstance(decorator, ast.Call) and ast.unparse(decorator.func).endswith("usefixtures"):
                    params |= {a.value for a in decorator.args if isinstance(a, ast.Constant)}
            yield node.name, params


def classify() -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = {"memory": [], "moto": []}
    for folder in SCANNED:
        for path in sorted((TESTS / folder).glob("test_*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            fixtures = _fixtures(tree)
            for name, params in _tests(tree):
                used, where = _used(params, fixtures), f"{folder}/{path.name}::{name}"
                if "mem" in used and "svc" not in used:
                    kinds["memory"].append(where)
                elif "svc" in used and not used & ADAPTER_FIXTURES and path.name not in ADAPTER_FILES:
                    kinds["moto"].append(where)
    return kinds


def test_use_cases_are_tested_on_the_memory_stores_more_than_on_moto():
    kinds = classify()
    memory, moto = len(kinds["memory"]), len(kinds["moto"])
    assert memory > moto, (f"use-case tests: {memory} on the memory stores, {moto} on moto; move these to mem: "
                           + ", ".join(kinds["moto"]))


def test_the_count_sees_both_kinds():
    """The counter finds tests of each kind it knows (a parse that found nothing would pass the rule above)."""
    kinds = classify()
    assert "unit/test_test_pyramid.py" not in " ".join(kinds["memory"] + kinds["moto"])
    assert len(kinds["memory"]) >= 100
