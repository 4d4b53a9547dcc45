"""IAM Identity Center for the `mfa` tests: the SSO portal and SSO OIDC.

moto 5 has neither (only sso-admin), so this module answers them as AWS
documents them (restJson1), in the same process as fake_aws.py, which
routes these paths here and records each call in its call list:

  GET  /federation/credentials?account_id=&role_name=   sso:GetRoleCredentials
       header x-amz-sso_bearer_token: an access token this server issued and
       that has not expired, else 401 UnauthorizedException. The credentials
       are fresh ASIA keys, which the fake STS accepts for AssumeRole.
  POST /client/register            sso-oidc:RegisterClient
  POST /device_authorization       sso-oidc:StartDeviceAuthorization
  POST /token                      sso-oidc:CreateToken, grants
       refresh_token (InvalidGrantException for an unknown or used refresh
       token; each refresh hands out a new refresh token) and
       urn:ietf:params:oauth:grant-type:device_code
       (AuthorizationPendingException until approved, SlowDownException when
       polled faster than the interval or when told to, ExpiredTokenException
       after expiresIn).

Errors are AWS's: status 400/401, `x-amzn-ErrorType`, and for OIDC an
OAuth body (`{"error": "authorization_pending", "error_description": ...}`),
for the portal `{"message": ...}`.

Control (JSON):
  POST /_fake/sso/grant    {"expires_in": N, "client_expires_in": N}
       -> a signed-in token, as `aws sso login` would have cached it:
          {"accessToken", "refreshToken", "clientId", "clientSecret",
           "registrationExpiresAt" (Unix seconds)}
  POST /_fake/sso/settings {"token_seconds": N, "role_seconds": N,
                            "interval": N, "device_seconds": N,
                            "slow_down": N}
       token lifetime CreateToken gives, role credentials' lifetime, the
       device flow's interval and code lifetime, and how many of the next
       device-code polls answer slow_down whatever their timing.

Role credentials are a role session, as AWS names it:
assumed-role/AWSReservedSSO_<role name>_<16 hex>/<user> (`role_session`);
fake_aws.py tells the console's federation endpoint about them, and counts
an AssumeRole signed with them as role chaining.
  GET  /_fake/sso/devices  -> {"devices": [{"user_code", "approved",
                               "polls": [unix times]}]}
  POST /_fake/sso/approve  {} -> approves every pending device code
"""

from __future__ import annotations

import hashlib
import json
import secrets
import string
import threading
import time
from typing import Any, Callable
from urllib.parse import parse_qs

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

PATHS = {
    ("GET", "/federation/credentials"): ("sso", "GetRoleCredentials"),
    ("POST", "/client/register"): ("sso-oidc", "RegisterClient"),
    ("POST", "/device_authorization"): ("sso-oidc", "StartDeviceAuthorization"),
    ("POST", "/token"): ("sso-oidc", "CreateToken"),
}


def _random(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


class OAuthError(Exception):
    def __init__(self, status: int, kind: str, error: str, description: str):
        super().__init__(description)
        self.status, self.kind, self.error, self.description = status, kind, error, description


class FakeSso:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clients: dict[str, dict[str, Any]] = {}
        self.devices: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, float] = {}
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> client id
        self.token_seconds = 8 * 3600
        self.role_seconds = 3600
        self.interval = 1
        self.device_seconds = 600
        self.slow_down = 0
        # Who signed in to the portal: the role session's name.
        self.user = "alice@example.com"

    # -- routing -------------------------------------------------------------

    @staticmethod
    def route(environ: dict[str, Any]) -> tuple[str, str] | None:
        key = (environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "").rstrip("/"))
        return PATHS.get(key)

    def handle(self, environ: dict[str, Any], body: bytes, record: dict[str, Any]
               ) -> tuple[int, list[tuple[str, str]], bytes]:
        service, action = self.route(environ) or ("", "")
        try:
            if action == "GetRoleCredentials":
                payload = self.get_role_credentials(environ, record)
            else:
                data = json.loads(body or b"{}")
                if not isinstance(data, dict):
                    raise OAuthError(400, "InvalidRequestException", "invalid_request",
                                     "the body must be a JSON object")
                record["grant_type"] = data.get("grantType")
                payload = getattr(self, _snake(action))(data)
        except OAuthError as e:
            # The portal's errors carry a message; OIDC's are OAuth's.
            if action == "GetRoleCredentials":
                body_fields = {"message": e.description}
            else:
                body_fields = {"error": e.error, "error_description": e.description}
            out = json.dumps(body_fields).encode()
            return e.status, [("Content-Type", "application/json"),
                              ("x-amzn-ErrorType", e.kind)], out
        except ValueError:
            return 400, [("Content-Type", "application/json"),
                         ("x-amzn-ErrorType", "InvalidRequestException")], b'{"error":"invalid_request"}'
        return 200, [("Content-Type", "application/json")], json.dumps(payload).encode()

    # -- the portal ------------------------------------------------------------

    def get_role_credentials(self, environ: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
        # Put there by fake_aws.py's request handler (see make_environ).
        token = environ.get("fake_sso.bearer_token", "")
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        record["role_name"] = query.get("role_name")
        record["account_id"] = query.get("account_id")
        with self.lock:
            expires = self.access_tokens.get(token)
            role_seconds = self.role_seconds
        if expires is None or expires <= time.time():
            raise OAuthError(401, "UnauthorizedException", "unauthorized",
                             "Session token not found or invalid")
        if not query.get("account_id") or not query.get("role_name"):
            raise OAuthError(400, "InvalidRequestException", "invalid_request",
                             "account_id and role_name are required")
        access_key_id = "ASIA" + _random(16, string.ascii_uppercase + string.digits)
        record["returned_access_key_id"] = access_key_id
        record["role_session"] = role_session(query["account_id"], query["role_name"], self.user)
        return {"roleCredentials": {
            "accessKeyId": access_key_id,
            "secretAccessKey": _random(40),
            "sessionToken": _random(120),
            "expiration": int((time.time() + role_seconds) * 1000),
        }}

    # -- OIDC --------------------------------------------------------------------

    def client(self, data: dict[str, Any]) -> str:
        client_id = data.get("clientId", "")
        with self.lock:
            client = self.clients.get(client_id)
        if (client is None or client["secret"] != data.get("clientSecret")
                or client["expires"] <= time.time()):
            raise OAuthError(401, "InvalidClientException", "invalid_client",
                             "Invalid client")
        return client_id

    def new_client(self, seconds: int = 90 * 86400) -> tuple[str, str, int]:
        client_id, secret = _random(22), _random(60)
        expires = int(time.time()) + seconds
        with self.lock:
            self.clients[client_id] = {"secret": secret, "expires": expires}
        return client_id, secret, expires

    def new_tokens(self, client_id: str, seconds: int) -> tuple[str, str]:
        access, refresh = "aoa" + _random(60), "aor" + _random(60)
        with self.lock:
            self.access_tokens[access] = time.time() + seconds
            self.refresh_tokens[refresh] = client_id
        return access, refresh

    def register_client(self, data: dict[str, Any]) -> dict[str, Any]:
        if not data.get("clientName") or data.get("clientType") != "public":
            raise OAuthError(400, "InvalidRequestException", "invalid_request",
                             "clientName and clientType public are required")
        client_id, secret, expires = self.new_client()
        return {"clientId": client_id, "clientSecret": secret,
                "clientIdIssuedAt": int(time.time()), "clientSecretExpiresAt": expires}

    def start_device_authorization(self, data: dict[str, Any]) -> dict[str, Any]:
        client_id = self.client(data)
        device_code = _random(40)
        user_code = _random(4, string.ascii_uppercase) + "-" + _random(4, string.ascii_uppercase)
        with self.lock:
            self.devices[device_code] = {
                "client_id": client_id, "user_code": user_code, "approved": False,
                "expires": time.time() + self.device_seconds, "interval": self.interval,
                "polls": [], "used": False,
            }
            interval, seconds = self.interval, self.device_seconds
        uri = "https://device.sso.example/"
        return {"deviceCode": device_code, "userCode": user_code, "verificationUri": uri,
                "verificationUriComplete": f"{uri}?user_code={user_code}",
                "expiresIn": seconds, "interval": interval}

    def create_token(self, data: dict[str, Any]) -> dict[str, Any]:
        client_id = self.client(data)
        grant = data.get("grantType")
        with self.lock:
            seconds = self.token_seconds
        if grant == "refresh_token":
            with self.lock:
                owner = self.refresh_tokens.pop(data.get("refreshToken", ""), None)
            if owner != client_id:
                raise OAuthError(400, "InvalidGrantException", "invalid_grant",
                                 "Invalid refresh token provided")
        elif grant == DEVICE_GRANT:
            self.poll_device(data.get("deviceCode", ""), client_id)
        else:
            raise OAuthError(400, "UnsupportedGrantTypeException", "unsupported_grant_type",
                             "Unsupported grant type")
        access, refresh = self.new_tokens(client_id, seconds)
        return {"accessToken": access, "tokenType": "Bearer", "expiresIn": seconds,
                "refreshToken": refresh}

    def poll_device(self, device_code: str, client_id: str) -> None:
        now = time.time()
        with self.lock:
            device = self.devices.get(device_code)
            if device is None or device["client_id"] != client_id or device["used"]:
                raise OAuthError(400, "InvalidGrantException", "invalid_grant",
                                 "Invalid device code provided")
            last = device["polls"][-1] if device["polls"] else None
            device["polls"].append(now)
            if now >= device["expires"]:
                raise OAuthError(400, "ExpiredTokenException", "expired_token",
                                 "Device code has expired")
            # RFC 8628 §3.5: too soon (10% grace for timer jitter), or told to.
            too_soon = last is not None and now - last < device["interval"] * 0.9
            if too_soon or self.slow_down > 0:
                if self.slow_down > 0:
                    self.slow_down -= 1
                device["interval"] += 5
                raise OAuthError(400, "SlowDownException", "slow_down", "Client is polling too fast")
            if not device["approved"]:
                raise OAuthError(400, "AuthorizationPendingException", "authorization_pending",
                                 "Authorization is still pending")
            device["used"] = True

    # -- control -------------------------------------------------------------------

    def control(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        data = json.loads(body or b"{}") if method == "POST" else {}
        if not isinstance(data, dict):
            raise ValueError("want a JSON object")
        if path == "/_fake/sso/grant" and method == "POST":
            client_id, secret, expires = self.new_client(int(data.get("client_expires_in", 90 * 86400)))
            access, refresh = self.new_tokens(client_id, int(data.get("expires_in", 3600)))
            return 200, {"accessToken": access, "refreshToken": refresh, "clientId": client_id,
                         "clientSecret": secret, "registrationExpiresAt": expires}
        if path == "/_fake/sso/settings" and method == "POST":
            with self.lock:
                for key in ("token_seconds", "role_seconds", "interval", "device_seconds",
                            "slow_down"):
                    if key in data:
                        setattr(self, key, int(data[key]))
            return 200, {"ok": True}
        if path == "/_fake/sso/devices" and method == "GET":
            with self.lock:
                devices = [{"user_code": d["user_code"], "approved": d["approved"],
                            "polls": list(d["polls"])} for d in self.devices.values()]
            return 200, {"devices": devices}
        if path == "/_fake/sso/approve" and method == "POST":
            with self.lock:
                for device in self.devices.values():
                    device["approved"] = True
            return 200, {"ok": True}
        return 404, {"error": f"no control {method} {path}"}


def role_session(account_id: str, role_name: str, user: str) -> str:
    """The role session of a permission set's credentials, as IAM names it:
    the role IAM Identity Center made in the account, and the user."""
    suffix = hashlib.sha256(f"{account_id}/{role_name}".encode()).hexdigest()[:16]
    return f"assumed-role/AWSReservedSSO_{role_name}_{suffix}/{user}"


def _snake(action: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in action).lstrip("_")


def control_app(sso: FakeSso, read_body: Callable[[dict[str, Any]], bytes],
                status_line: Callable[[int], str]):
    """The WSGI handler for /_fake/sso/… ."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]):
        try:
            status, payload = sso.control(environ.get("REQUEST_METHOD", "GET"),
                                          environ.get("PATH_INFO", "").rstrip("/"),
                                          read_body(environ))
        except (ValueError, TypeError) as exc:
            status, payload = 400, {"error": str(exc)}
        out = json.dumps(payload).encode()
        start_response(status_line(status), [("Content-Type", "application/json"),
                                             ("Content-Length", str(len(out)))])
        return [out]

    return app
