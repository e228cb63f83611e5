"""Agents' ID tokens, checked by CognitoAgents.verify with the app's own RS256 verifier (no JOSE library): only a
compact JWS with alg RS256, signed with SHA-256 by a key of the pool's JWKS, whose claims name this pool, this app
client and an ID token that has not expired. Keys and tokens are made here with cryptography (a test dependency)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from chalicelib.channels import signatures
from chalicelib.channels.cognito import LEEWAY, CognitoAgents, decode_rs256, rsa_key_set
from chalicelib.store.ports import InvalidToken

POOL = "eu-west-2_Test1234"
CLIENT = "app-client-id"
ISSUER = f"https://cognito-idp.eu-west-2.amazonaws.com/{POOL}"
NOW = 1_795_000_000
TEAMS = ("customer_service", "social")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_int(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def jwk(key: rsa.RSAPrivateKey, kid: str, **extra: str) -> dict[str, str]:
    numbers = key.public_key().public_numbers()
    return {"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": b64url_int(numbers.n),
            "e": b64url_int(numbers.e), **extra}


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def claims(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"sub": "0f1e2d3c", "iss": ISSUER, "aud": CLIENT, "token_use": "id", "auth_time": NOW - 60,
                            "iat": NOW - 60, "exp": NOW + 3600, "cognito:username": "amira", "name": "Amira",
                            "cognito:groups": ["customer_service", "leads", "not-a-team"]}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def token(key: rsa.RSAPrivateKey, body: dict[str, Any] | None = None, *, header: dict[str, Any] | None = None,
          algorithm: hashes.HashAlgorithm | None = None) -> str:
    head = b64url(json.dumps(header if header is not None else {"kid": "k1", "alg": "RS256"}).encode())
    payload = b64url(json.dumps(body if body is not None else claims()).encode())
    signature = key.sign(f"{head}.{payload}".encode(), padding.PKCS1v15(), algorithm or hashes.SHA256())
    return f"{head}.{payload}.{b64url(signature)}"


class Jwks:
    def __init__(self, *keys: dict[str, str]):
        self.keys = list(keys)
        self.urls: list[str] = []

    def __call__(self, url: str) -> dict[str, Any]:
        self.urls.append(url)
        return {"keys": list(self.keys)}


def agents(fetch: Jwks, now: float = NOW) -> CognitoAgents:
    return CognitoAgents(client=lambda: None, pool_id=POOL, client_id=CLIENT, region="eu-west-2", teams=TEAMS,
                         fetch_json=fetch, wall_clock=lambda: now)


@pytest.fixture
def jwks(key) -> Jwks:
    return Jwks(jwk(key, "k1"))


def rejected(jwks: Jwks, value: str, now: float = NOW) -> bool:
    try:
        agents(jwks, now).verify(value)
    except InvalidToken:
        return True
    return False


# ------------------------------------------------------------------------------------------------ accepted


def test_a_valid_id_token_names_the_agent(key, jwks):
    agent = agents(jwks).verify(token(key))
    assert (agent.username, agent.name, agent.teams, agent.lead) == ("amira", "Amira", ("customer_service",), True)
    assert jwks.urls == [f"https://cognito-idp.eu-west-2.amazonaws.com/{POOL}/.well-known/jwks.json"]


def test_audience_as_a_list_holding_the_client(key, jwks):
    assert agents(jwks).verify(token(key, claims(aud=["other", CLIENT]))).username == "amira"


def test_clock_skew_within_the_leeway(key, jwks):
    assert not rejected(jwks, token(key, claims(exp=NOW - LEEWAY + 1, iat=NOW + LEEWAY, nbf=NOW + LEEWAY)))


def test_the_jwks_is_fetched_once_and_again_only_for_an_unknown_kid(key, other_key):
    fetch = Jwks(jwk(key, "k1"))
    directory = agents(fetch)
    directory.verify(token(key))
    directory.verify(token(key))
    assert len(fetch.urls) == 1
    fetch.keys.append(jwk(other_key, "k2"))  # the pool rotates its keys
    rotated = token(other_key, header={"kid": "k2", "alg": "RS256"})
    assert directory.verify(rotated).username == "amira"
    assert len(fetch.urls) == 2
    directory.verify(rotated)
    assert len(fetch.urls) == 2
    with pytest.raises(InvalidToken):
        directory.verify(token(key, header={"kid": "k9", "alg": "RS256"}))
    assert len(fetch.urls) == 3  # an unknown kid is looked up once more, then refused


# ------------------------------------------------------------------------------------------------ algorithms


def test_alg_none_is_rejected(key, jwks):
    head = b64url(json.dumps({"kid": "k1", "alg": "none"}).encode())
    payload = b64url(json.dumps(claims()).encode())
    assert rejected(jwks, f"{head}.{payload}.")
    assert rejected(jwks, f"{head}.{payload}.{token(key).split('.')[2]}")
    for alg in ("None", "NONE", "", None):
        assert rejected(jwks, token(key, header={"kid": "k1", "alg": alg}))


def test_hs256_signed_with_the_public_key_is_rejected(key, jwks):
    """The classic confusion: an HMAC keyed with the published RSA key (as PEM and as the JWK's n)."""
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    for secret in (public_pem, jwks.keys[0]["n"].encode(), json.dumps(jwks.keys[0]).encode()):
        head = b64url(json.dumps({"kid": "k1", "alg": "HS256"}).encode())
        payload = b64url(json.dumps(claims()).encode())
        mac = hmac.new(secret, f"{head}.{payload}".encode(), hashlib.sha256).digest()
        assert rejected(jwks, f"{head}.{payload}.{b64url(mac)}")


@pytest.mark.parametrize("alg, algorithm", [("RS512", hashes.SHA512()), ("RS384", hashes.SHA384()),
                                            ("RS1", hashes.SHA1()), ("rs256", hashes.SHA256())])
def test_other_rsa_algorithms_are_rejected_even_when_the_signature_is_good(key, jwks, alg, algorithm):
    assert rejected(jwks, token(key, header={"kid": "k1", "alg": alg}, algorithm=algorithm))


@pytest.mark.parametrize("algorithm", [hashes.SHA1(), hashes.SHA512(), hashes.SHA384(), hashes.SHA224()])
def test_rs256_header_with_a_signature_over_another_hash_is_rejected(key, jwks, algorithm):
    """``rsa.verify`` accepts any hash it knows and names it; the verifier insists on SHA-256."""
    assert rejected(jwks, token(key, algorithm=algorithm))


def test_pss_signature_is_rejected(key, jwks):
    head = b64url(json.dumps({"kid": "k1", "alg": "RS256"}).encode())
    payload = b64url(json.dumps(claims()).encode())
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    assert rejected(jwks, f"{head}.{payload}.{b64url(key.sign(f'{head}.{payload}'.encode(), pss, hashes.SHA256()))}")


# ------------------------------------------------------------------------------------------------ keys, tampering


def test_signed_by_another_key_is_rejected(other_key, jwks):
    assert rejected(jwks, token(other_key))
    assert len(jwks.urls) == 1  # the kid is known: a bad signature does not refetch the keys


def test_kid_missing_or_not_in_the_jwks_is_rejected(key, jwks):
    assert rejected(jwks, token(key, header={"alg": "RS256"}))
    assert rejected(jwks, token(key, header={"alg": "RS256", "kid": ""}))
    assert rejected(jwks, token(key, header={"alg": "RS256", "kid": 1}))
    assert rejected(jwks, token(key, header={"alg": "RS256", "kid": "unknown"}))


def test_tampered_payload_is_rejected(key, jwks):
    head, payload, signature = token(key).split(".")
    promoted = b64url(json.dumps(claims(**{"cognito:groups": ["customer_service", "social", "leads"]})).encode())
    assert rejected(jwks, f"{head}.{promoted}.{signature}")
    other = b64url(json.dumps(claims(**{"cognito:username": "chloe"})).encode())
    assert rejected(jwks, f"{head}.{other}.{signature}")


def test_tampered_header_or_signature_is_rejected(key, other_key, jwks):
    jwks.keys.append(jwk(other_key, "k2"))
    head, payload, signature = token(key).split(".")
    moved = b64url(json.dumps({"kid": "k2", "alg": "RS256"}).encode())
    assert rejected(jwks, f"{moved}.{payload}.{signature}")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[-1] ^= 1
    assert rejected(jwks, f"{head}.{payload}.{b64url(bytes(raw))}")
    longer = b64url(bytes(1) + base64.urlsafe_b64decode(signature + "=="))
    assert rejected(jwks, f"{head}.{payload}.{longer}")
    assert rejected(jwks, f"{head}.{payload}.{signature[:-4]}")


def test_crit_header_is_rejected(key, jwks):
    assert rejected(jwks, token(key, header={"kid": "k1", "alg": "RS256", "crit": ["exp"], "exp": 1}))


@pytest.mark.parametrize("mangle", [
    lambda t: t + ".",
    lambda t: "." + t,
    lambda t: t.replace(".", "..", 1),
    lambda t: t.split(".")[0] + "=." + ".".join(t.split(".")[1:]),  # padding
    lambda t: t.replace("-", "+").replace("_", "/") if ("-" in t or "_" in t) else t + "+",
    lambda t: t[:10] + " " + t[10:],
    lambda t: t[:-1] + "\u00e9",
    lambda t: "",
    lambda t: "a.b.c",
    lambda t: "x" * 9000,
])
def test_malformed_tokens_are_rejected(key, jwks, mangle):
    assert rejected(jwks, mangle(token(key)))


def test_duplicate_header_members_are_rejected(key, jwks):
    head = b64url(b'{"kid":"k1","alg":"RS256","alg":"none"}')
    payload = b64url(json.dumps(claims()).encode())
    signature = key.sign(f"{head}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    assert rejected(jwks, f"{head}.{payload}.{b64url(signature)}")


@pytest.mark.parametrize("payload", [b"[]", b'"x"', b"not json", b'{"exp": NaN}', b"\xff\xfe"])
def test_a_payload_that_is_not_a_json_object_is_rejected(key, jwks, payload):
    head = b64url(json.dumps({"kid": "k1", "alg": "RS256"}).encode())
    body = b64url(payload)
    signature = key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    assert rejected(jwks, f"{head}.{body}.{b64url(signature)}")


# ------------------------------------------------------------------------------------------------ claims


@pytest.mark.parametrize("changes", [
    {"iss": "https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_Other"}, {"iss": None}, {"iss": [ISSUER]},
    {"aud": "other-client"}, {"aud": None}, {"aud": ["other"]}, {"aud": [CLIENT, 1]}, {"aud": ""},
    {"token_use": "access"}, {"token_use": None},
    {"exp": None}, {"exp": NOW - LEEWAY}, {"exp": NOW - 7200}, {"exp": str(NOW + 3600)}, {"exp": True},
    {"nbf": NOW + LEEWAY + 1}, {"nbf": "soon"}, {"iat": NOW + LEEWAY + 1}, {"iat": [NOW]},
    {"sub": 42}, {"jti": 7},
])
def test_claims_that_do_not_hold_are_rejected(key, jwks, changes):
    assert rejected(jwks, token(key, claims(**changes)))


def test_expired_by_the_wall_clock(key, jwks):
    value = token(key)
    assert not rejected(jwks, value, now=NOW + 3600 + LEEWAY - 1)
    assert rejected(jwks, value, now=NOW + 3600 + LEEWAY)


def test_a_token_that_names_no_user_is_rejected(key, jwks):
    assert rejected(jwks, token(key, claims(sub=None, **{"cognito:username": None})))


def test_the_refusal_says_only_that_the_token_is_not_valid(other_key, jwks):
    with pytest.raises(InvalidToken, match=r"^the sign-in token is not valid \(BadSignature\)$"):
        agents(jwks).verify(token(other_key))


# ------------------------------------------------------------------------------------------------ JWKS and RSA


def test_only_rsa_signing_keys_for_rs256_of_2048_bits_or_more_are_used(key):
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    keys = rsa_key_set({"keys": [
        jwk(key, "good"), jwk(key, "no-alg-use", alg="RS256"),
        {k: v for k, v in jwk(key, "bare").items() if k not in ("alg", "use")},
        jwk(key, "enc", use="enc"), jwk(key, "rs512", alg="RS512"), jwk(small, "small"),
        {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
        {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"}, {"kty": "RSA", "kid": "no-n", "e": "AQAB"},
        {"kty": "RSA", "kid": "even-e", "n": jwk(key, "x")["n"], "e": b64url_int(65536)},
        "not a key", {"kty": "RSA", "n": jwk(key, "x")["n"], "e": "AQAB"},
    ]})
    assert sorted(keys) == ["bare", "good", "no-alg-use"]
    assert keys["good"].n == key.public_key().public_numbers().n


@pytest.mark.parametrize("document", [{}, {"keys": "x"}, [], {"keys": None}])
def test_a_jwks_without_keys_is_not_valid(key, document):
    directory = CognitoAgents(client=lambda: None, pool_id=POOL, client_id=CLIENT, region="eu-west-2", teams=TEAMS,
                              fetch_json=lambda url: document, wall_clock=lambda: NOW)  # type: ignore[arg-type,return-value]
    with pytest.raises(InvalidToken):
        directory.verify(token(key))


def test_decode_rs256_checks_the_signature_before_reading_the_payload(key):
    public = signatures.rsa_public_key(key.public_key().public_numbers().n, 65537)
    head = b64url(json.dumps({"kid": "k1", "alg": "RS256"}).encode())
    body = b64url(b"not json")
    with pytest.raises(ValueError, match="signature"):
        decode_rs256(f"{head}.{body}.{b64url(b'x' * 256)}", lambda kid: public)


def test_verify_pkcs1_v15_insists_on_the_named_hash_and_a_signature_below_the_modulus(key):
    numbers = key.public_key().public_numbers()
    public = signatures.rsa_public_key(numbers.n, numbers.e)
    message = b"header.payload"
    sha256 = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    sha1 = key.sign(message, padding.PKCS1v15(), hashes.SHA1())
    assert signatures.verify_pkcs1_v15(message, sha256, public, signatures.SHA256)
    assert not signatures.verify_pkcs1_v15(message, sha256, public, signatures.SHA1)
    assert signatures.verify_pkcs1_v15(message, sha1, public, signatures.SHA1)
    assert not signatures.verify_pkcs1_v15(message, sha1, public, signatures.SHA256)
    assert not signatures.verify_pkcs1_v15(message + b"!", sha256, public, signatures.SHA256)
    shifted = int.from_bytes(sha256, "big") + numbers.n  # the same value modulo n
    if shifted.bit_length() <= 2048:
        assert not signatures.verify_pkcs1_v15(message, shifted.to_bytes(256, "big"), public, signatures.SHA256)
    assert not signatures.verify_pkcs1_v15(message, numbers.n.to_bytes(256, "big"), public, signatures.SHA256)
    assert not signatures.verify_pkcs1_v15(message, b"\x00" + sha256, public, signatures.SHA256)
    assert not signatures.verify_pkcs1_v15(message, b"", public, signatures.SHA256)
    with pytest.raises(ValueError):
        signatures.verify_pkcs1_v15(message, sha256, public, "MD5")


@pytest.mark.parametrize("n_bits, e", [(1024, 65537), (2048, 1), (2048, 2), (2048, 2**33 + 1), (8200, 65537)])
def test_weak_or_odd_rsa_keys_are_refused(n_bits, e):
    n = (1 << (n_bits - 1)) | 1
    with pytest.raises(ValueError):
        signatures.rsa_public_key(n, e)
    with pytest.raises(ValueError):
        signatures.rsa_public_key(True, 65537)


def test_verification_is_quick(key, jwks):
    directory = agents(jwks)
    value = token(key)
    directory.verify(value)
    started = time.perf_counter()
    for _ in range(50):
        directory.verify(value)
    assert (time.perf_counter() - started) / 50 < 0.02
