"""RSA signature checks in pure Python, for the two signatures the app verifies: agents' Cognito ID tokens (RS256,
``cognito``) and SNS messages (SignatureVersion 1 = SHA1withRSA, 2 = SHA256withRSA, ``email``).

Both are RSASSA-PKCS1-v1_5 verifications with a public key: ``rsa`` (pure Python) does the modular exponentiation
and rebuilds the whole padded block to compare, and this module adds what it leaves to the caller: the key's size,
the signature's length and range, and that the hash in the signature is the one the caller expects (``rsa.verify``
accepts any hash it knows and says which). No compiled code, so the Lambda package stays small (ADR 0014).
``rsa`` is imported on first use, not at cold start.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import rsa

#: Smallest RSA modulus accepted (Cognito's and SNS's keys are 2048 bits) and largest, to bound the work.
MIN_KEY_BITS = 2048
MAX_KEY_BITS = 8192
#: Largest public exponent accepted (65537 in practice): the exponentiation's cost grows with it.
MAX_EXPONENT_BITS = 32
#: The hash names ``rsa.verify`` reports.
SHA1 = "SHA-1"
SHA256 = "SHA-256"


def rsa_public_key(n: object, e: object) -> rsa.PublicKey:
    """The public key (modulus ``n``, exponent ``e``); ``ValueError`` for one too small, too big or malformed."""
    import rsa

    if not isinstance(n, int) or not isinstance(e, int) or isinstance(n, bool) or isinstance(e, bool):
        raise ValueError("RSA modulus and exponent must be integers")
    if not MIN_KEY_BITS <= n.bit_length() <= MAX_KEY_BITS or n % 2 == 0:
        raise ValueError(f"RSA modulus of {n.bit_length()} bits is not accepted")
    if e < 3 or e % 2 == 0 or e.bit_length() > MAX_EXPONENT_BITS:
        raise ValueError("RSA public exponent is not accepted")
    return rsa.PublicKey(n, e)


def verify_pkcs1_v15(message: bytes, signature: bytes, key: rsa.PublicKey, hash_name: str) -> bool:
    """True only when ``signature`` is ``key``'s RSASSA-PKCS1-v1_5 signature of ``message`` with ``hash_name``
    (``SHA1`` or ``SHA256``); a signature made with another hash, even a valid one, is False."""
    import rsa

    if hash_name not in (SHA1, SHA256):
        raise ValueError(f"unsupported hash {hash_name!r}")
    size = (key.n.bit_length() + 7) // 8
    if len(signature) != size or int.from_bytes(signature, "big") >= key.n:  # RFC 8017 8.2.2 step 1, 5.2.2 step 1
        return False
    try:
        used = rsa.verify(message, signature, key)
    except (rsa.VerificationError, ValueError, OverflowError):
        return False
    return used == hash_name
