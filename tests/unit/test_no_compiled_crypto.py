"""The app's own signature checks need no compiled crypto (ADR 0014): chalicelib never imports cryptography or a JOSE
library, and verifying an agent's ID token and an SNS message works in an interpreter where cryptography, cffi and
joserfc cannot be imported. Keys, tokens and certificates are made here, in the test process, with cryptography."""
from __future__ import annotations

import ast
import base64
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("cryptography", "joserfc", "jose", "jwt", "cffi", "_cffi_backend")

BLOCKED_RUN = f"""
import importlib.abc, json, sys
FORBIDDEN = {FORBIDDEN!r}
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in FORBIDDEN:
            raise ModuleNotFoundError("blocked: " + name, name=name)
sys.meta_path.insert(0, Refuse())
"""

VERIFY = BLOCKED_RUN + """
case = json.loads(sys.stdin.read())
import app  # noqa: F401
from chalicelib.channels import email
from chalicelib.channels.cognito import CognitoAgents
from chalicelib.store.ports import InvalidToken

agents = CognitoAgents(client=lambda: None, pool_id="eu-west-2_T", client_id="client", region="eu-west-2",
                       teams=["customer_service"], fetch_json=lambda url: case["jwks"],
                       wall_clock=lambda: case["now"])
agent = agents.verify(case["token"])
try:
    agents.verify(case["forged"])
    forged = "accepted"
except InvalidToken:
    forged = "refused"
fetch = lambda url: case["pem"].encode()
print(json.dumps({"agent": agent.username, "forged": forged,
                  "sns": [email.verify_sns_message(m, fetch) for m in case["sns"]],
                  "loaded": sorted(m for m in sys.modules if m.split(".")[0] in FORBIDDEN)}))
"""

IMPORT_ALL = BLOCKED_RUN + """
import importlib, pkgutil
import chalicelib
failed = []
for info in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
    try:
        importlib.import_module(info.name)
    except ImportError as exc:
        failed.append([info.name, str(exc)])
print(json.dumps(failed))
"""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def run(code: str, stdin: str = "") -> str:
    env = {"STAGE": "local", "PATH": os.environ.get("PATH", ""), "POWERTOOLS_TRACE_DISABLED": "true",
           "AWS_DEFAULT_REGION": "eu-west-2"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, input=stdin, capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_chalicelib_and_the_app_never_import_cryptography_or_a_jose_library() -> None:
    offending = []
    for path in [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offending += [f"{path.relative_to(ROOT)}:{node.lineno} {name}" for name in names
                          if name.split(".")[0] in FORBIDDEN]
    assert offending == []


def test_token_and_sns_verification_run_without_cryptography() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    now = int(time.time())
    jwks = {"keys": [{"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig", "e": "AQAB",
                      "n": b64url(numbers.n.to_bytes(256, "big"))}]}
    head = b64url(json.dumps({"kid": "k1", "alg": "RS256"}).encode())
    claims = {"iss": "https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_T", "aud": "client", "token_use": "id",
              "exp": now + 600, "iat": now, "cognito:username": "amira", "cognito:groups": ["customer_service"]}
    payload = b64url(json.dumps(claims).encode())
    signature = b64url(key.sign(f"{head}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256()))
    forged = b64url(json.dumps({**claims, "cognito:groups": ["leads"]}).encode())

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    stamp = datetime.now(timezone.utc)
    pem = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
           .serial_number(1).not_valid_before(stamp - timedelta(days=1)).not_valid_after(stamp + timedelta(days=1))
           .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    from chalicelib.channels.email import string_to_sign

    messages = []
    for version, algorithm in (("1", hashes.SHA1()), ("2", hashes.SHA256()), ("2", hashes.SHA1())):
        message = {"Type": "Notification", "MessageId": "m1", "TopicArn": "arn:aws:sns:eu-west-2:1:t",
                   "Message": "{}", "Timestamp": "2026-11-25T10:00:00Z", "SignatureVersion": version,
                   "SigningCertURL": "https://sns.eu-west-2.amazonaws.com/SimpleNotificationService-1.pem"}
        message["Signature"] = base64.b64encode(key.sign(string_to_sign(message), padding.PKCS1v15(),
                                                         algorithm)).decode()
        messages.append(message)
    tampered = dict(messages[1], Message='{"x": 1}')

    case = {"jwks": jwks, "now": now, "token": f"{head}.{payload}.{signature}",
            "forged": f"{head}.{forged}.{signature}", "pem": pem.decode(), "sns": [*messages, tampered]}
    result = json.loads(run(VERIFY, json.dumps(case)))
    assert result == {"agent": "amira", "forged": "refused", "sns": [True, True, False, False], "loaded": []}


BLUESKY = BLOCKED_RUN + """
import base64, time
import httpx
from chalicelib.domain.outbound import OutboundMessage
from chalicelib.channels.bluesky_api import BlueskySender

DID = "did:plc:brand0000000000000000000"
PAT = "did:plc:pat00000000000000000000"


def jwt(exp):
    part = lambda data: base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return part({"alg": "ES256K", "typ": "at+jwt"}) + "." + part({"sub": DID, "exp": exp}) + ".c2ln"


calls = []


def pds(request):
    name = request.url.path.rsplit("/", 1)[-1]
    calls.append(name)
    if name == "com.atproto.server.createSession":  # as a PDS answers: with the account's DID document
        return httpx.Response(200, json={
            "did": DID, "handle": "brand.bsky.social", "accessJwt": jwt(int(time.time()) + 7200),
            "refreshJwt": jwt(int(time.time()) + 86400), "didDoc": {
                "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
                "id": DID, "alsoKnownAs": ["at://brand.bsky.social"],
                "verificationMethod": [{"id": DID + "#atproto", "type": "Multikey", "controller": DID,
                                        "publicKeyMultibase": "zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF"}],
                "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                             "serviceEndpoint": "https://pds.example"}]}})
    if name == "app.bsky.notification.listNotifications":
        at = "2026-11-29T03:00:00.000Z"
        return httpx.Response(200, json={"notifications": [{
            "uri": f"at://{PAT}/app.bsky.feed.post/3abc", "cid": "bafyreiabccid", "reason": "mention",
            "isRead": False, "indexedAt": at, "labels": [],
            "author": {"did": PAT, "handle": "pat.bsky.social", "displayName": "Pat"},
            "record": {"$type": "app.bsky.feed.post", "text": "@brand.bsky.social my train was cancelled",
                       "createdAt": at}}]})
    if name == "com.atproto.repo.createRecord":
        return httpx.Response(200, json={"uri": f"at://{DID}/app.bsky.feed.post/3reply", "cid": "bafyreireply"})
    return httpx.Response(404, json={"error": "MethodNotImplemented"})


sender = BlueskySender("brand.bsky.social", "app-pass-word-1234", transport=httpx.MockTransport(pds))
page = sender.fetch_notifications(cursor=None)
sent = sender.send(OutboundMessage(channel="bluesky", recipient="pat.bsky.social", text="Sorry, we're on it",
                                   in_reply_to=f"at://{PAT}/app.bsky.feed.post/3abc",
                                   extra={"cid": "bafyreiabccid"}))
print(json.dumps({"read": len(page.items), "sent": sent.external_id, "calls": calls,
                  "loaded": sorted(m for m in sys.modules if m.split(".")[0] in FORBIDDEN)}))
"""


def test_every_module_loads_without_cryptography() -> None:
    """The deployment ships no cryptography (ADR 0014): every module of chalicelib imports without it, the Bluesky
    client included (atproto's DID key algorithms, which import it, are stood in for: channels.atproto_load)."""
    assert json.loads(run(IMPORT_ALL)) == []


def test_the_bluesky_client_signs_in_reads_and_replies_without_cryptography() -> None:
    result = json.loads(run(BLUESKY))
    assert result["read"] == 1 and result["sent"] == "at://did:plc:brand0000000000000000000/app.bsky.feed.post/3reply"
    assert result["calls"] == ["com.atproto.server.createSession", "app.bsky.notification.listNotifications",
                               "com.atproto.repo.createRecord"]
    assert result["loaded"] == []


def test_with_cryptography_installed_atproto_is_left_as_it_is() -> None:
    from chalicelib.channels.atproto_load import without_did_key_algorithms

    assert without_did_key_algorithms() is False  # the development venv has cryptography
