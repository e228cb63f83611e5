"""Least privilege, checked (``make lint``): the functions' IAM policy (``infra/policy.json``, rendered per stage by
``tools.deploy``) and every IAM policy in ``infra/template.yaml`` must not

- allow a wildcard action (``*``, ``sqs:*``, ``ssm:Get*``),
- allow an action on every resource (``"Resource": "*"``) unless the action supports no resource-level permission
  and only writes telemetry (X-Ray segments),
- use ``NotAction`` / ``NotResource`` with Allow,
- name a resource without the stage's account and region (every ARN is built from them).

    python -m tools.check_policy            exit 1 and one line per finding
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
#: Actions that have no resource-level permissions and only write telemetry: allowed on "*".
TELEMETRY_ON_ANY_RESOURCE = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def findings(policy: dict[str, Any], where: str) -> Iterator[str]:
    for number, statement in enumerate(_as_list(policy.get("Statement", [])), 1):
        label = f"{where} statement {statement.get('Sid') or number}"
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement or "NotResource" in statement:
            yield f"{label}: NotAction/NotResource with Allow grants everything else"
        actions = [str(a) for a in _as_list(statement.get("Action", []))]
        resources = [r for r in _as_list(statement.get("Resource", []))]
        for action in actions:
            if "*" in action:
                yield f"{label}: wildcard action {action!r}; list the actions the code calls"
        if "*" in resources:
            for action in actions:
                if action not in TELEMETRY_ON_ANY_RESOURCE:
                    yield f"{label}: {action} on every resource ('*'); name the ARNs"
        for resource in resources:
            if isinstance(resource, str) and resource.startswith("arn:") and resource != "*":
                parts = resource.split(":")
                service, region, account = parts[2], parts[3], parts[4]
                if service not in ("iam", "s3") and (region in ("", "*") or account in ("", "*")):
                    yield f"{label}: {resource} is not scoped to one account and region"


def template_policies(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Inline policies in the CloudFormation template (roles, managed policies, queue/topic policies)."""
    from cfnlint.decode import decode

    template, matches = decode(str(path))
    if matches or template is None:
        raise SystemExit(f"{path}: cannot be read: {matches}")
    for name, resource in (template.get("Resources") or {}).items():
        properties = resource.get("Properties") or {}
        if "PolicyDocument" in properties:
            yield f"{path.name} {name}", properties["PolicyDocument"]
        for policy in properties.get("Policies") or []:
            if isinstance(policy, dict) and "PolicyDocument" in policy:
                yield f"{path.name} {name} {policy.get('PolicyName', '')}", policy["PolicyDocument"]


def check(project: Path = PROJECT) -> list[str]:
    from tools.deploy import render_policy

    found: list[str] = []
    for stage in ("dev", "prod"):
        policy = render_policy(stage, account="123456789012", region="eu-west-2", email_identity="example.org")
        found.extend(findings(policy, f"infra/policy.json ({stage})"))
    template_found: list[str] = []
    for where, policy in template_policies(project / "infra" / "template.yaml"):
        # the template's ARNs are intrinsic functions (!GetAtt, !Sub) scoped by CloudFormation itself
        template_found.extend(f for f in findings(policy, where) if "not scoped" not in f)
    return found + template_found


def main() -> int:
    problems = check()
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} IAM finding(s): least privilege is required (tools/check_policy.py)")
        return 1
    print("IAM policies: no wildcard actions, no actions on every resource")
    return 0


if __name__ == "__main__":
    sys.exit(main())
