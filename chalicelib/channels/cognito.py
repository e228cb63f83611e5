"""Agents' sign-in on an Amazon Cognito user pool (in AWS, and on the local stack's moto ``cognito-idp``).

``sign_in`` runs the pool's ``USER_PASSWORD_AUTH`` flow for the app client and returns the **ID token**; ``verify``
checks an ID token in the app itself (RS256 against the pool's JWKS, issuer, audience = the app client, ``token_use``
= ``id``, expiry), so the JSON API, the web inbox's cookie and the terminal inbox share one check that runs the same
under ``chalice local`` and in Lambda (ADR 0010). The JWS check is the short strict one below (RS256 only, the
signature by ``rsa`` in pure Python: no compiled crypto in the Lambda package, ADR 0014). An agent's teams are their
pool groups named after brand-config teams; the group ``leads`` makes them a lead.
"""
from __future__ import annotations

import base64
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from chalicelib.channels.signatures import SHA256, rsa_public_key, verify_pkcs1_v15
from chalicelib.domain.agent import LEADS_GROUP, Agent
from chalicelib.domain.jsonvalue import JsonObject, elements, is_object
from chalicelib.store.ports import InvalidToken, SignIn, SignInRefused

if TYPE_CHECKING:
    import rsa

#: Clock skew tolerated on ``exp``/``nbf``/``iat`` (seconds).
LEEWAY = 30
#: The only signature algorithm accepted: Cognito signs ID tokens with RS256.
ALGORITHM = "RS256"


def _fetch_json(url: str) -> JsonObject:
    import requests

    response = requests.get(url, timeout=5)
    response.raise_for_status()
    return dict(response.json())


class CognitoAgents:
    def __init__(self, *, client: Callable[[], Any], pool_id: str, client_id: str, region: str, teams: Iterable[str],
                 endpoint_url: str | None = None, fetch_json: Callable[[str], JsonObject] = _fetch_json,
                 wall_clock: Callable[[], float] = time.time):
        self._make_client = client  # built on the first sign-in, not at cold start
        self._client: Any = None
        self.pool_id, self.client_id = pool_id, client_id
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
        base = (endpoint_url or f"https://cognito-idp.{region}.amazonaws.com").rstrip("/")
        self.jwks_url = f"{base}/{pool_id}/.well-known/jwks.json"
        self._teams = frozenset(teams)
        self._fetch_json = fetch_json
        self._wall_clock = wall_clock  # tokens are issued in real time, whatever the app's clock says
        self._keys: dict[str, rsa.PublicKey] | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------------------------ sign-in
    def sign_in(self, username: str, password: str) -> SignIn:
        if not self.pool_id or not self.client_id:
            raise SignInRefused("agent sign-in is not configured (AGENT_POOL_ID and AGENT_CLIENT_ID)")
        if self._client is None:
            self._client = self._make_client()
        try:
            answer = self._client.initiate_auth(
                AuthFlow="USER_PASSWORD_AUTH", ClientId=self.client_id,
                AuthParameters={"USERNAME": username, "PASSWORD": password})
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
            if code in ("NotAuthorizedException", "UserNotFoundException", "InvalidParameterException"):
                raise SignInRefused("wrong username or password") from None
            if code == "PasswordResetRequiredException":
                raise SignInRefused("this account must reset its password first") from None
            if code == "UserNotConfirmedException":
                raise SignInRefused("this account is not confirmed yet") from None
            raise
        if answer.get("ChallengeName"):
            raise SignInRefused(f"this account must first answer the challenge {answer['ChallengeName']} "
                                "(e.g. set a permanent password: ask a lead or ops)")
        result = answer["AuthenticationResult"]
        token = result["IdToken"]
        return SignIn(token=token, expires_in=int(result.get("ExpiresIn", 3600)), agent=self.verify(token))

    # ------------------------------------------------------------------------------------------------ verify
    def _key_set(self, refresh: bool = False) -> dict[str, rsa.PublicKey]:
        with self._lock:
            if self._keys is None or refresh:
                self._keys = rsa_key_set(self._fetch_json(self.jwks_url))
            return dict(self._keys)

    def _key(self, kid: str) -> rsa.PublicKey:
        key = self._key_set().get(kid)
        if key is None:
            key = self._key_set(refresh=True).get(kid)  # the pool's keys rotated
        if key is None:
            raise InvalidJWT("no key in the pool's JWKS has the token's kid")
        return key

    def verify(self, token: str) -> Agent:
        if not isinstance(token, str) or not token or len(token) > 8192 or token.count(".") != 2:
            raise InvalidToken("not a sign-in token")
        try:
            claims = decode_rs256(token, self._key)
            check_claims(claims, now=int(self._wall_clock()), issuer=self.issuer, client_id=self.client_id)
        except (ValueError, TypeError, UnicodeError) as exc:
            raise InvalidToken(f"the sign-in token is not valid ({type(exc).__name__})") from None
        return agent_from_claims(claims, self._teams)


# ---------------------------------------------------------------------------------------------------- JWT (RS256)
class InvalidJWT(ValueError):
    """The token is not a JWS in compact form signed with RS256 by a key of the pool."""


class BadSignature(InvalidJWT):
    pass


class InvalidClaim(ValueError):
    pass


class ExpiredToken(InvalidClaim):
    pass


_B64URL = re.compile(r"[A-Za-z0-9_-]+")


def b64url_decode(part: str) -> bytes:
    """Unpadded base64url (RFC 7515 section 2), strictly: no padding, whitespace or other alphabet."""
    if not _B64URL.fullmatch(part) or len(part) % 4 == 1:
        raise InvalidJWT("not base64url")
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise InvalidJWT("a member name appears twice")
    return out


def _reject_constant(name: str) -> Any:
    raise InvalidJWT(f"{name} is not JSON")


def json_object(data: bytes) -> JsonObject:
    value = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    if not is_object(value):
        raise InvalidJWT("not a JSON object")
    return value


def rsa_key_set(jwks: object) -> dict[str, rsa.PublicKey]:
    """The JWKS's RSA signing keys usable for RS256 by ``kid`` (RFC 7517/7518); other keys are left out."""
    keys = jwks.get("keys") if is_object(jwks) else None
    if not isinstance(keys, list):
        raise InvalidJWT("the JWKS has no keys")
    out: dict[str, rsa.PublicKey] = {}
    for jwk in keys:
        if not is_object(jwk) or jwk.get("kty") != "RSA":
            continue
        kid, n_b64, e_b64 = jwk.get("kid"), jwk.get("n"), jwk.get("e")
        if not isinstance(kid, str):
            continue
        if jwk.get("use", "sig") != "sig" or jwk.get("alg", ALGORITHM) != ALGORITHM:
            continue
        if not isinstance(n_b64, str) or not isinstance(e_b64, str):
            continue  # a missing or non-text modulus or exponent
        try:
            n = int.from_bytes(b64url_decode(n_b64), "big")
            e = int.from_bytes(b64url_decode(e_b64), "big")
            out[kid] = rsa_public_key(n, e)
        except ValueError:
            continue
    return out


def decode_rs256(token: str, key_for: Callable[[str], rsa.PublicKey]) -> JsonObject:
    """The claims of a compact JWS signed with RS256 by the key ``key_for(kid)`` returns; ``InvalidJWT`` otherwise.

    Exactly three base64url parts; the header's ``alg`` exactly ``RS256`` (never ``none``, an HMAC or another
    hash), a ``kid``, no ``crit``; the signature RSASSA-PKCS1-v1_5 with SHA-256 over ``header.payload``, checked
    before the payload is parsed.
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidJWT("not three parts")
    header_b64, payload_b64, signature_b64 = parts
    header = json_object(b64url_decode(header_b64))
    if header.get("alg") != ALGORITHM:
        raise InvalidJWT("alg is not RS256")
    if "crit" in header:
        raise InvalidJWT("critical header parameters are not understood")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidJWT("no kid")
    key = key_for(kid)
    signature = b64url_decode(signature_b64)
    if not verify_pkcs1_v15(f"{header_b64}.{payload_b64}".encode("ascii"), signature, key, SHA256):
        raise BadSignature("the signature does not verify")
    return json_object(b64url_decode(payload_b64))


def _numeric_date(name: str, value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidClaim(f"{name} is not a NumericDate")
    return value


def check_claims(claims: JsonObject, *, now: int, issuer: str, client_id: str) -> None:
    """An ID token of this pool for this app client, within its validity (``LEEWAY`` seconds of skew allowed).

    Required: ``iss`` = the pool's issuer, ``aud`` = the app client (or a list holding it), ``token_use`` = ``id``,
    ``exp`` not passed. When present: ``nbf`` and ``iat`` not in the future, ``sub`` and ``jti`` strings.
    """
    for name in ("iss", "aud", "token_use", "exp"):
        if claims.get(name) is None:
            raise InvalidClaim(f"{name} is missing")
    if claims["iss"] != issuer:
        raise InvalidClaim("iss")
    audience = claims["aud"]
    if isinstance(audience, list) and all(isinstance(a, str) for a in audience):
        if client_id not in audience:
            raise InvalidClaim("aud")
    elif audience != client_id:
        raise InvalidClaim("aud")
    if claims["token_use"] != "id":
        raise InvalidClaim("token_use")
    if _numeric_date("exp", claims["exp"]) <= now - LEEWAY:
        raise ExpiredToken("exp")
    for name in ("nbf", "iat"):
        if name in claims and _numeric_date(name, claims[name]) > now + LEEWAY:
            raise InvalidClaim(f"{name} is in the future")
    for name in ("sub", "jti"):
        if name in claims and not isinstance(claims[name], str):
            raise InvalidClaim(f"{name} is not a string")


def agent_from_claims(claims: JsonObject, teams: frozenset[str]) -> Agent:
    raw_groups = claims.get("cognito:groups") or []
    username = str(claims.get("cognito:username") or claims.get("sub") or "")
    if not username:
        raise InvalidToken("the sign-in token names no user")
    groups = [raw_groups] if isinstance(raw_groups, str) else list(elements(raw_groups))
    return Agent(username=username, name=str(claims.get("name") or ""),
                 teams=tuple(sorted(g for g in groups if g in teams and isinstance(g, str))),
                 lead=LEADS_GROUP in groups)
