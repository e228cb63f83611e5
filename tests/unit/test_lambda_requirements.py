"""requirements.txt is exactly what the Lambda ships (chalice packages it with PIP_NO_DEPS=1; ADR 0014): every
package a listed one needs at run time is listed too, or comes with the Lambda runtime (boto3 and its own
dependencies), or is one atproto declares for parts the app never imports; the pins are the versions installed
here (the ones the tests run with); and what the listed packages ask of the runtime's packages holds for the oldest
boto3 of the Python 3.11 and 3.12 runtimes."""
from __future__ import annotations

from importlib.metadata import distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements.txt"
#: The Lambda Python 3.11/3.12 runtimes' SDK: boto3 and what it needs, at the oldest versions they have shipped
#: since 2024 (the runtimes are updated, never downgraded).
RUNTIME = {"boto3": "1.34.0", "botocore": "1.34.0", "s3transfer": "0.10.0", "jmespath": "1.0.1",
           "urllib3": "1.26.18"}
#: Declared by atproto for its firehose, identity resolution and command line, and (cryptography) for its DID key
#: algorithms, which its client loads but never runs (chalicelib/channels/atproto_load.py); the app uses
#: atproto_client only.
UNUSED = {"zstandard", "websockets", "dnspython", "click", "cryptography"}
ENVIRONMENT = {"python_version": "3.11", "python_full_version": "3.11.9", "platform_system": "Linux",
               "sys_platform": "linux", "platform_python_implementation": "CPython", "implementation_name": "cpython",
               "os_name": "posix", "platform_machine": "x86_64"}


def listed() -> dict[str, Requirement]:
    out = {}
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            out[canonicalize_name(requirement.name)] = requirement
    return out


def needs(requirement: Requirement) -> list[Requirement]:
    found = []
    for text in distribution(requirement.name).requires or []:
        need = Requirement(text)
        extras = requirement.extras or {""}
        if need.marker is None or any(need.marker.evaluate({**ENVIRONMENT, "extra": e}) for e in extras):
            found.append(need)
    return found


def test_every_listed_package_is_pinned_to_the_installed_version() -> None:
    for name, requirement in listed().items():
        (spec,) = requirement.specifier
        assert spec.operator == "==", f"{name} must be pinned exactly"
        assert Version(distribution(requirement.name).version) == Version(spec.version), name


def test_the_list_is_closed_apart_from_the_runtime_and_atproto_extras() -> None:
    requirements = listed()
    missing = {}
    for name, requirement in requirements.items():
        for need in needs(requirement):
            key = canonicalize_name(need.name)
            if key not in requirements and key not in RUNTIME and key not in UNUSED:
                missing[key] = name
    assert missing == {}, f"needed at run time but not in requirements.txt: {missing}"
    assert not set(requirements) & set(RUNTIME), "the runtime provides these: do not ship them"


def test_what_they_ask_of_the_runtime_holds_for_its_oldest_boto3() -> None:
    for name, requirement in listed().items():
        for need in needs(requirement):
            key = canonicalize_name(need.name)
            if key in RUNTIME:
                assert need.specifier.contains(RUNTIME[key], prereleases=True), \
                    f"{name} needs {need} but the runtime may have {key} {RUNTIME[key]}"


def test_the_vendored_yaml_is_the_installed_pyyaml_without_its_c_extension() -> None:
    """vendor/yaml (what the Lambda reads the brand file with) is byte for byte the pure-Python modules of the
    PyYAML the venv pins, and nothing more: no C extension, no ``cyaml`` that would need one."""
    import importlib.metadata
    from pathlib import Path

    import yaml

    installed = Path(yaml.__file__).parent
    vendored = Path(__file__).resolve().parents[2] / "vendor" / "yaml"
    modules = {p.name for p in installed.glob("*.py")} - {"cyaml.py"}
    assert {p.name for p in vendored.glob("*.py")} == modules
    assert all((vendored / name).read_bytes() == (installed / name).read_bytes() for name in modules)
    assert not list(vendored.glob("*.so")) and (vendored / "LICENSE").exists()
    assert importlib.metadata.version("PyYAML") == yaml.__version__ == "6.0.3"
