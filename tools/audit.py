"""`make audit`: known vulnerabilities in the pinned requirements (requirements.txt and requirements-dev.txt), with
pip-audit, when a vulnerability database can be reached.

pip-audit asks PyPI's JSON API (its default) and then OSV. Where neither answers — a registry mirror that serves
packages but not the JSON API, no route to api.osv.dev — it would skip every package and still say "No known
vulnerabilities found"; this says instead, on one line, that nothing was audited, and exits 0. Vulnerabilities
found exit 1.

    python -m tools.audit
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt")
SERVICES = ("pypi", "osv")


def audit(service: str) -> tuple[dict[str, Any] | None, str]:
    """pip-audit's JSON report against one vulnerability service, or None with the reason it could not run."""
    command = [sys.executable, "-m", "pip_audit", "--progress-spinner", "off", "--format", "json", "--no-deps",
               "--vulnerability-service", service]
    for name in REQUIREMENTS:
        command += ["-r", str(PROJECT / name)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=PROJECT)
    try:
        return json.loads(done.stdout), ""
    except ValueError:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, last[:160]


def reachable(service: str) -> str:
    """Empty when the service answers a query about a known package, else why not (a short phrase)."""
    import requests

    try:
        if service == "pypi":
            response = requests.get("https://pypi.org/pypi/requests/2.31.0/json", timeout=15)
        else:
            response = requests.post("https://api.osv.dev/v1/query", timeout=15, json={
                "package": {"name": "requests", "ecosystem": "PyPI"}, "version": "2.31.0"})
    except requests.RequestException as exc:
        return type(exc).__name__
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    return "" if "vulnerabilities" in response.text or "vulns" in response.text else "no vulnerability data"


def main() -> int:
    reasons = []
    for service in SERVICES:
        why = reachable(service)
        report, reason = audit(service) if not why else (None, why)
        if report is None:
            reasons.append(f"{service}: {reason}")
            continue
        dependencies = report.get("dependencies", [])
        audited = [d for d in dependencies if "skip_reason" not in d]
        if not audited:
            reasons.append(f"{service}: every package skipped")
            continue
        vulnerable = [d for d in audited if d.get("vulns")]
        for dependency in vulnerable:
            for vuln in dependency["vulns"]:
                fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version"
                print(f"{dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixed})")
        skipped = len(dependencies) - len(audited)
        print(f"audit: {len(audited)} pinned packages checked against {service}"
              f"{f' ({skipped} skipped)' if skipped else ''}: {len(vulnerable)} with known vulnerabilities")
        return 1 if vulnerable else 0
    print(f"audit: skipped, no vulnerability database reachable ({'; '.join(reasons)}); nothing was audited")
    return 0


if __name__ == "__main__":
    sys.exit(main())
