"""The AWS console's federation endpoint, for fake_aws.py (`mfa console`).

Kept apart from fake_aws.py, which imports it: fake_aws.py tells it about
every credential STS hands out (`note_issued`) and routes /federation here.
What AWS documents ("Enable custom identity broker access to the AWS
console", IAM User Guide) and this endpoint checks:

  GET /federation?Action=getSigninToken&Session=JSON[&SessionDuration=N]
      Session is {"sessionId", "sessionKey", "sessionToken"} of temporary
      credentials from AssumeRole or GetFederationToken that this server
      issued (or the SSO portal's GetRoleCredentials, `note_role_session`)
      and that have not expired; GetSessionToken credentials cannot
      sign in.  SessionDuration: 900 to 43200, at most 3600 for a role
      assumed with another role's credentials (role chaining), and never
      with GetFederationToken credentials.
      -> 200 {"SigninToken": "..."} (valid 15 minutes); else 400, a text.
  GET /federation?Action=login&SigninToken=T&Destination=URL[&Issuer=I]
      -> 200 an HTML page naming the session: element #identity holds
         "assumed-role/ROLE/SESSION" or "federated-user/NAME", #arn the
         session's ARN, #destination the Destination; else 400.

GetFederationToken (moto answers it with fixed example keys) is checked as
AWS does (Name 2-32 of [\\w+=,.@-], DurationSeconds 900-129600, long-term
keys only) and answered with fresh keys.

Each federation call is recorded in the shared call list as service
"signin", action "getSigninToken" or "login", with "status",
"access_key_id" (the Session's), "root_access_key_id", "session_duration"
and "signin_token" (the token issued or presented, so that a test can look
for it where it must never be).
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import string
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from typing import Any, Callable
from urllib.parse import parse_qs

ISSUING_ACTIONS = frozenset({"GetSessionToken", "AssumeRole", "GetFederationToken"})
CONSOLE_SESSION = (900, 43200)
CHAINED_ROLE_MAX = 3600
FEDERATION_DURATION = (900, 129600, 43200)
FEDERATED_NAME_RE = re.compile(r"[\w+=,.@-]{2,32}")
SIGNIN_TOKEN_SECONDS = 15 * 60


class Refused(Exception):
    """An AWS error answer for an STS call (fake_aws.py turns it into XML)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Issued:
    secret: str
    token: str
    expires: float
    kind: str  # "session", "role" or "federation"
    chained: bool
    arn: str
    identity: str


def _element(xml: str, tag: str) -> str | None:
    match = re.search(rf"<{tag}>([^<]*)</{tag}>", xml)
    return match.group(1) if match else None


def _replace(xml: str, tag: str, value: str) -> str:
    return re.sub(rf"<{tag}>[^<]*</{tag}>", lambda _: f"<{tag}>{value}</{tag}>", xml, count=1)


def _parse_time(text: str | None) -> float:
    if not text:
        return 0.0
    text = text.replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return 0.0


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Federation:
    def __init__(self, record_call: Callable[[dict[str, Any]], None],
                 root_key: Callable[[str | None], str | None]):
        self.lock = threading.Lock()
        self.issued: dict[str, Issued] = {}
        self.tokens: dict[str, tuple[float, Issued]] = {}
        self.record_call = record_call
        self.root_key = root_key

    # -- STS side -------------------------------------------------------------

    def validate_federation_token(self, params: dict[str, str], has_session_token: bool) -> int:
        """AWS's checks for GetFederationToken; the DurationSeconds to use."""
        name = params.get("Name") or ""
        if not FEDERATED_NAME_RE.fullmatch(name):
            raise Refused(400, "ValidationError",
                          f"Value '{name}' at 'name' failed to satisfy constraint: "
                          "Member must have length between 2 and 32, matching [\\w+=,.@-]*")
        low, high, duration = FEDERATION_DURATION
        raw = params.get("DurationSeconds")
        if raw is not None:
            try:
                duration = int(raw)
            except ValueError:
                raise Refused(400, "ValidationError", "DurationSeconds must be a number") from None
            if not low <= duration <= high:
                raise Refused(400, "ValidationError",
                              f"Value '{raw}' at 'durationSeconds' failed to satisfy "
                              f"constraint: Member must have value between {low} and {high}")
        if has_session_token:
            raise Refused(403, "AccessDenied",
                          "Cannot call GetFederationToken with session credentials")
        return duration

    def note_issued(self, action: str, params: dict[str, str], xml_bytes: bytes,
                    chained: bool, federation_duration: int | None) -> bytes:
        """Remember credentials STS handed out (fresh keys for
        GetFederationToken, whose moto answer always holds the same ones)."""
        xml = xml_bytes.decode("utf-8")
        if action == "GetFederationToken":
            alphabet = string.ascii_uppercase + "234567"
            xml = _replace(xml, "AccessKeyId",
                           "ASIA" + "".join(secrets.choice(alphabet) for _ in range(16)))
            xml = _replace(xml, "SecretAccessKey", base64.b64encode(os.urandom(30)).decode())
            xml = _replace(xml, "SessionToken",
                           "FQoGZXIvYXdzE" + base64.b64encode(os.urandom(300)).decode())
            xml = _replace(xml, "Expiration", _utc(time.time() + (federation_duration or 43200)))
        access_key_id = _element(xml, "AccessKeyId")
        secret = _element(xml, "SecretAccessKey")
        token = _element(xml, "SessionToken")
        if not (access_key_id and secret and token):
            return xml.encode("utf-8")
        if action == "AssumeRole":
            role_arn = params.get("RoleArn", "")
            account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else "123456789012"
            role_name = role_arn.rsplit("/", 1)[-1]
            session = params.get("RoleSessionName", "")
            identity = f"assumed-role/{role_name}/{session}"
            arn = f"arn:aws:sts::{account}:{identity}"
            kind = "role"
        elif action == "GetFederationToken":
            identity = f"federated-user/{params.get('Name', '')}"
            arn = _element(xml, "Arn") or f"arn:aws:sts::123456789012:{identity}"
            kind = "federation"
        else:
            identity, arn, kind = "session", "", "session"
        with self.lock:
            self.issued[access_key_id] = Issued(
                secret=secret, token=token, expires=_parse_time(_element(xml, "Expiration")),
                kind=kind, chained=chained, arn=arn, identity=identity,
            )
        return xml.encode("utf-8")

    def note_role_session(self, access_key_id: str, secret: str, token: str, expires: float,
                          account: str, identity: str) -> None:
        """Remember role credentials issued elsewhere than STS (IAM Identity
        Center's GetRoleCredentials): `identity` is assumed-role/ROLE/SESSION."""
        with self.lock:
            self.issued[access_key_id] = Issued(
                secret=secret, token=token, expires=expires, kind="role", chained=False,
                arn=f"arn:aws:sts::{account}:{identity}", identity=identity,
            )

    # -- the endpoint ---------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", ""),
                                              keep_blank_values=True).items()}
        action = query.get("Action")
        record: dict[str, Any] = {
            "service": "signin", "action": action, "status": None, "time": time.time(),
            "access_key_id": None, "root_access_key_id": None,
            "session_duration": query.get("SessionDuration"), "signin_token": None,
        }
        if environ.get("REQUEST_METHOD") != "GET":
            status, kind, body = 405, "text/plain", "Only GET.\n"
        elif action == "getSigninToken":
            status, kind, body = self.signin_token(query, record)
        elif action == "login":
            status, kind, body = self.login(query, record)
        else:
            status, kind, body = 400, "text/plain", "Unknown Action.\n"
        record["status"] = status
        self.record_call(record)
        out = body.encode("utf-8")
        phrase = {200: "OK", 400: "Bad Request", 405: "Method Not Allowed"}[status]
        start_response(f"{status} {phrase}", [("Content-Type", kind),
                                              ("Content-Length", str(len(out)))])
        return [out]

    def signin_token(self, query: dict[str, str], record: dict[str, Any]) -> tuple[int, str, str]:
        try:
            session = json.loads(query.get("Session", ""))
        except ValueError:
            return 400, "text/plain", "Session is not JSON.\n"
        parts = ("sessionId", "sessionKey", "sessionToken")
        if not isinstance(session, dict) or not all(isinstance(session.get(p), str) for p in parts):
            return 400, "text/plain", "Session needs sessionId, sessionKey and sessionToken.\n"
        access_key_id = session["sessionId"]
        record["access_key_id"] = access_key_id
        record["root_access_key_id"] = self.root_key(access_key_id)
        with self.lock:
            issued = self.issued.get(access_key_id)
        if issued is None or not (secrets.compare_digest(issued.secret, session["sessionKey"])
                                  and secrets.compare_digest(issued.token, session["sessionToken"])):
            return 400, "text/plain", "Unknown credentials.\n"
        if issued.expires <= time.time():
            return 400, "text/plain", "The credentials have expired.\n"
        if issued.kind == "session":
            return 400, "text/plain", "GetSessionToken credentials cannot sign in to the console.\n"
        raw = query.get("SessionDuration")
        if raw is not None:
            if issued.kind == "federation":
                return 400, "text/plain", "SessionDuration cannot be used with GetFederationToken credentials.\n"
            try:
                seconds = int(raw)
            except ValueError:
                return 400, "text/plain", "SessionDuration is not a number.\n"
            high = CHAINED_ROLE_MAX if issued.chained else CONSOLE_SESSION[1]
            if not CONSOLE_SESSION[0] <= seconds <= high:
                return 400, "text/plain", f"SessionDuration must be {CONSOLE_SESSION[0]} to {high}.\n"
        signin_token = secrets.token_urlsafe(96)
        with self.lock:
            self.tokens[signin_token] = (time.time() + SIGNIN_TOKEN_SECONDS, issued)
        record["signin_token"] = signin_token
        return 200, "application/json", json.dumps({"SigninToken": signin_token})

    def login(self, query: dict[str, str], record: dict[str, Any]) -> tuple[int, str, str]:
        signin_token = query.get("SigninToken", "")
        record["signin_token"] = signin_token
        with self.lock:
            found = self.tokens.get(signin_token)
        if found is None or found[0] <= time.time():
            return 400, "text/plain", "Unknown or expired SigninToken.\n"
        destination = query.get("Destination")
        if not destination:
            return 400, "text/plain", "Destination is required.\n"
        issued = found[1]
        page = (
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
            "<title>AWS Management Console (local federation endpoint)</title></head><body>"
            "<h1>Signed in to the AWS Management Console</h1>"
            f"<p id=\"identity\">{escape(issued.identity)}</p>"
            f"<p id=\"arn\">{escape(issued.arn)}</p>"
            f"<p id=\"issuer\">{escape(query.get('Issuer', ''))}</p>"
            f"<p id=\"destination\">{escape(destination)}</p>"
            "</body></html>\n"
        )
        return 200, "text/html; charset=utf-8", page
