"""Agents' sign-in on an Amazon Cognito user pool (in AWS, and on the local stack's moto ``cognito-idp``).

``sign_in`` runs the pool's ``USER_PASSWORD_AUTH`` flow for the app client and returns the **ID token**; ``verify``
checks an ID token in the app itself (RS256 against the pool's JWKS, issuer, audience = the app client, ``token_use``
= ``id``, expiry), so the JSON API, the web inbox's cookie and the terminal inbox share one check that runs the same
under ``chalice local`` and in Lambda (ADR 0010). An agent's teams are their pool groups named after brand-config
teams; the group ``leads`` makes them a lead.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from chalicelib.domain.agent import LEADS_GROUP, Agent
from chalicelib.store.ports import InvalidToken, SignIn, SignInRefused

#: Clock skew tolerated on ``exp``/``iat`` (seconds).
LEEWAY = 30


def _fetch_json(url: str) -> dict[str, Any]:
    import requests

    response = requests.get(url, timeout=5)
    response.raise_for_status()
    return dict(response.json())


class CognitoAgents:
    def __init__(self, *, client: Callable[[], Any], pool_id: str, client_id: str, region: str, teams: Iterable[str],
                 endpoint_url: str | None = None, fetch_json: Callable[[str], dict[str, Any]] = _fetch_json,
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
        self._keys: Any = None
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
    def _key_set(self, refresh: bool = False) -> Any:
        from joserfc.jwk import KeySet

        with self._lock:
            if self._keys is None or refresh:
                self._keys = KeySet.import_key_set(self._fetch_json(self.jwks_url))  # type: ignore[arg-type]
            return self._keys

    def verify(self, token: str) -> Agent:
        from joserfc import jwt
        from joserfc.errors import JoseError

        if not token or len(token) > 8192 or token.count(".") != 2:
            raise InvalidToken("not a sign-in token")
        try:
            try:
                decoded = jwt.decode(token, self._key_set(), algorithms=["RS256"])
            except JoseError as exc:
                if "key" not in str(exc).lower():
                    raise
                decoded = jwt.decode(token, self._key_set(refresh=True), algorithms=["RS256"])  # keys rotated
            claims = decoded.claims
            registry = jwt.JWTClaimsRegistry(now=int(self._wall_clock()), leeway=LEEWAY,
                                             iss={"essential": True, "value": self.issuer},
                                             aud={"essential": True, "value": self.client_id},
                                             token_use={"essential": True, "value": "id"},
                                             exp={"essential": True})
            registry.validate(claims)
        except (JoseError, ValueError, TypeError, UnicodeError) as exc:
            raise InvalidToken(f"the sign-in token is not valid ({type(exc).__name__})") from None
        return agent_from_claims(claims, self._teams)


def agent_from_claims(claims: dict[str, Any], teams: frozenset[str]) -> Agent:
    groups = claims.get("cognito:groups") or []
    if isinstance(groups, str):
        groups = [groups]
    username = str(claims.get("cognito:username") or claims.get("sub") or "")
    if not username:
        raise InvalidToken("the sign-in token names no user")
    return Agent(username=username, name=str(claims.get("name") or ""),
                 teams=tuple(sorted(g for g in groups if g in teams)), lead=LEADS_GROUP in groups)
