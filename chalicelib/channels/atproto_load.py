"""Load atproto's client in a deployment without ``cryptography`` (ADR 0014).

``atproto_client`` imports ``atproto_core.did_doc``, which imports ``atproto_crypto``'s two signature algorithms
(P-256 and secp256k1) for turning a DID document's signing key into a ``did:key``; those import ``cryptography``,
a 4.5 MB compiled package, as they load. The responder's Bluesky client signs in, reads notifications and posts
replies: it never checks a DID signature or builds a ``did:key``. Where ``cryptography`` is not installed (the
deployed package), ``without_did_key_algorithms`` registers stand-ins for those two algorithm modules that keep
their names and refuse to run, so the client loads; where it is installed (the development venv), it does nothing.
``tests/unit/test_no_compiled_crypto.py`` signs in, polls and replies through the real client with
``cryptography`` blocked, and fails if a release of atproto starts using the algorithms on that path.
"""
from __future__ import annotations

import importlib.util
import sys
import types

_ALGS = "atproto_crypto.algs"


class UnavailableAlgorithm:
    """A DID key algorithm this deployment cannot run (it would need ``cryptography``)."""

    NAME = ""

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError(f"the {self.NAME} DID key algorithm needs the cryptography package, which the deployment "
                           "leaves out (docs/adr/0014-deployment-package-size.md)")


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def without_did_key_algorithms() -> bool:
    """Register the stand-ins when ``cryptography`` is missing; True if it did."""
    if _installed("cryptography") or _ALGS in sys.modules:
        return False
    from atproto_crypto import consts  # plain constants: the algorithms' names

    p256 = type("P256", (UnavailableAlgorithm,), {"NAME": consts.P256_JWT_ALG})
    secp256k1 = type("Secp256k1", (UnavailableAlgorithm,), {"NAME": consts.SECP256K1_JWT_ALG})
    package = types.ModuleType(_ALGS)
    package.__path__ = []
    package.P256, package.Secp256k1 = p256, secp256k1  # type: ignore[attr-defined]
    package.AVAILABLE_ALGORITHMS = [p256, secp256k1]  # type: ignore[attr-defined]
    package.ALGORITHM_TO_CLASS = {alg.NAME: alg for alg in (p256, secp256k1)}  # type: ignore[attr-defined]
    modules = {_ALGS: package}
    for name, algorithm in (("p256", p256), ("secp256k1", secp256k1)):
        module = types.ModuleType(f"{_ALGS}.{name}")
        setattr(module, algorithm.__name__, algorithm)
        modules[module.__name__] = module
    sys.modules.update(modules)
    return True
