"""The deployment package's bytes, built by the real ``chalice package`` in a temporary copy of the project, as
``make package`` builds it (``PIP_NO_DEPS=1``: exactly what requirements.txt pins; see
docs/adr/0014-deployment-package-size.md), and a check that it is complete: a fresh interpreter that sees only the
unpacked package, the standard library and what the Lambda runtime provides (boto3, botocore, s3transfer,
jmespath, urllib3) imports the app and every module of chalicelib."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3")
#: The issue's "≤ 10 MB zipped", read strictly: 10,000,000 bytes (10 MiB would allow 10,485,760).
TARGET_ZIPPED_BYTES = 10_000_000
IMPORT_CHECK = """
import importlib, pkgutil, sys
sys.path[:0] = sys.argv[1:3]
import app, chalicelib
modules = [m.name for m in pkgutil.walk_packages(chalicelib.__path__, "chalicelib.")]
for name in modules:
    importlib.import_module(name)
print(len(modules))
"""


def project_files() -> list[str]:
    """What a fresh clone holds (tracked files, and new ones not ignored), as they are in the working tree."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                         capture_output=True, check=True).stdout.decode()
    return [name for name in out.split("\0") if name and (ROOT / name).is_file()]


def copy_project(target: Path) -> None:
    for name in project_files():
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes((ROOT / name).read_bytes())
    config = json.loads((target / ".chalice" / "config.json").read_text())
    for stage in config.get("stages", {}).values():  # written by the deploy from the stage's stack; not packaged
        policy = stage.get("iam_policy_file")
        if policy and not (target / ".chalice" / policy).exists():
            (target / ".chalice" / policy).write_text('{"Version": "2012-10-17", "Statement": []}')


def measure(stage: str = "dev") -> dict[str, Any]:
    chalice = Path(sys.executable).with_name("chalice")
    with tempfile.TemporaryDirectory(prefix="responder-package-") as tmp:
        project, out = Path(tmp) / "project", Path(tmp) / "out"
        copy_project(project)
        env = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-2", "PIP_NO_DEPS": "1",
               "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        started = time.perf_counter()
        subprocess.run([str(chalice), "package", "--stage", stage, str(out)], cwd=project, env=env, check=True,
                       capture_output=True)
        seconds = time.perf_counter() - started
        package = out / "deployment.zip"
        by_top: Counter[str] = Counter()
        unzipped = 0
        with zipfile.ZipFile(package) as archive:
            for info in archive.infolist():
                unzipped += info.file_size
                top = info.filename.split("/")[0]
                by_top["*.dist-info" if top.endswith(".dist-info") else top] += info.compress_size
            archive.extractall(Path(tmp) / "unzipped")
        zipped = package.stat().st_size
        runtime = Path(tmp) / "runtime"
        runtime.mkdir()
        site = Path(__import__("botocore").__file__).parents[1]
        for name in RUNTIME_PROVIDED:
            (runtime / name).symlink_to(site / name)
        check = subprocess.run([sys.executable, "-I", "-S", "-c", IMPORT_CHECK, str(Path(tmp) / "unzipped"),
                                str(runtime)], cwd=tmp, capture_output=True, text=True,
                               env={"STAGE": "local", "PATH": os.environ.get("PATH", "")})
    return {
        "tool": "chalice package --stage " + stage + " (PIP_NO_DEPS=1)", "zipped_bytes": zipped,
        "unzipped_bytes": unzipped, "zipped_mb": round(zipped / 2**20, 2), "unzipped_mb": round(unzipped / 2**20, 2),
        "target_zipped_bytes": TARGET_ZIPPED_BYTES, "within_target": zipped <= TARGET_ZIPPED_BYTES,
        "largest_zipped": {name: size for name, size in by_top.most_common(8)},
        "not_shipped_runtime_provides": list(RUNTIME_PROVIDED),
        "imports_with_runtime_only": check.returncode == 0,
        "modules_imported": int(check.stdout.strip() or 0) if check.returncode == 0 else 0,
        "import_error": check.stderr.strip().splitlines()[-1] if check.returncode else "",
        "build_seconds": round(seconds, 1),
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
