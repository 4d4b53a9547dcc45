#!/usr/bin/env python3
"""A local, AWS-like STS/IAM endpoint for the `mfa` integration tests.

moto (`moto[server]` 5.x) supplies real STS/IAM behaviour, but it accepts any
MFA code and any duration and never checks signatures.  This script puts a
small WSGI layer in front of moto's server app, in the same process, that

  * validates GetSessionToken / AssumeRole the way AWS does (MFA code format
    and value, DurationSeconds ranges, role-chaining limit, no
    GetSessionToken with session credentials), answering with AWS's XML
    error format for the query protocol;
  * records every request so tests can assert on what the CLI sent;
  * injects faults (delays, error statuses, garbage bodies, dropped
    connections) on demand;
  * makes moto's credentials realistic (GetSessionToken returns unique ASIA…
    keys instead of moto's fixed example keys; Expiration is now +
    DurationSeconds in AWS's second-precision format);
  * gives virtual MFA devices real TOTP behaviour (see "Virtual MFA
    devices" below), and fills in what moto's IAM lacks for the calls the
    CLI makes.

Usage:
    python3 tests/support/fake_aws.py [--port N] [--no-stdin-watch]

  --port N          port to bind on 127.0.0.1 (default 0 = any free port)
  --no-stdin-watch  do not exit when stdin reaches EOF (for running by hand)

Once listening it prints exactly one line, `PORT <n>`, to stdout; nothing
else is ever written to stdout (logs go to stderr; FAKE_AWS_VERBOSE=1 turns
on per-request logging).  It exits when stdin reaches EOF (so it dies with
the test process that spawned it with a piped stdin), and on SIGTERM/SIGINT.

MFA codes: a TokenCode must be six ASCII digits (else 400 ValidationError).
Which codes are right for a SerialNumber, first rule that applies:
  registered  codes were registered for it via /_fake/mfa: only those;
  totp        a seed is known for it (a device enabled through IAM, or
              POST /_fake/totp): the TOTP codes of the steps t-1, t and
              t+1 (t = now // 30 s), each step's code accepted only once
              (a replay is refused with the ordinary invalid-code error);
  any         otherwise every six-digit code except "000000", so tests get
              a wrong code without any setup.
A wrong code is answered with 403 AccessDenied.

Virtual MFA devices (IAM, which moto serves with any code accepted):
  * CreateVirtualMFADevice: moto's 40-byte seed is replaced by a fresh
    20-byte one (32 base32 characters, like AWS's) and its random QR bytes
    by a real PNG whose tEXt chunk "otpauth" holds the otpauth:// URI.  As
    in AWS both are blobs, so the XML carries them base64-encoded.  The
    layer remembers serial -> seed.
  * EnableMFADevice for such a device: AuthenticationCode1 must be the
    TOTP code of step t-1, t or t+1 and AuthenticationCode2 that of the
    step after it; otherwise 403 InvalidAuthenticationCode ("Authentication
    code for device is not valid.").  Once enabled, STS checks the serial's
    TokenCodes by TOTP (rule "totp" above).  Devices the layer did not see
    created are left to moto, which accepts any codes.
  * ListVirtualMFADevices: seed and QR code are removed, as AWS never
    returns them again.
  * ListMFADevices without UserName: moto would look up a user named None,
    so the layer asks moto (GetUser) who signed and passes that UserName.

Point clients at it with e.g. AWS_ENDPOINT_URL_STS=http://127.0.0.1:<n> and
AWS_ENDPOINT_URL_IAM=http://127.0.0.1:<n>.  moto picks the service from the
SigV4 credential scope in the Authorization header, so one port serves all.

The console's federation endpoint (getSigninToken and login, for
`mfa console`) is served at /federation by fake_signin.py; point clients
at it with AWS_ENDPOINT_URL_SIGNIN=http://127.0.0.1:<n>.

Control API (JSON; these paths can never collide with AWS requests):
  GET  /_fake/calls   -> {"calls": [record, ...]} in arrival order;
                         ?root_access_key_id=AKID keeps only that key's calls
  POST /_fake/reset   -> clears calls, registered MFA codes, /_fake/totp
                         seeds, the used-TOTP-code memory and faults (not
                         what IAM created: moto keeps its devices too)
  POST /_fake/mfa     {"serial": "...", "codes": ["123456", ...]}
                      -> the accepted codes for that serial (replaces)
  POST /_fake/totp    {"serial": "...", "seed": "BASE32"}
                      -> STS checks that serial's codes by TOTP with this
                         seed (no IAM needed; replaces; 400 if not base32)
  GET  /_fake/totp    -> {"devices": {serial: seed}, "totp": {serial: seed}}:
                         seeds of created devices, seeds STS checks with
  POST /_fake/faults  {"action": "GetSessionToken"|"AssumeRole"|...|"*",
                       "delay_ms": int, "status": int, "garbage": bool,
                       "reset": bool, "count": int,
                       "code": str, "message": str, "access_key_id": str}
                      -> appends a fault (every field optional; see Fault)
  GET  /_fake/faults  -> {"faults": [...]} (remaining faults, for debugging)
  GET  /_fake/health  -> {"ok": true}
  /_fake/sso/...      -> the SSO portal's and OIDC's controls: see fake_sso.py

A call record is
  {"service", "action", "access_key_id", "session_token", "serial",
   "token_code", "duration", "role_arn", "role_session_name", "external_id",
   "status", "time", "returned_access_key_id", "root_access_key_id",
   "user_name", "mfa_check"}
where status is the HTTP status sent (0 when the connection was dropped by a
"reset" fault), returned_access_key_id is the AccessKeyId handed out by a
successful GetSessionToken/AssumeRole (else null) and root_access_key_id is
the long-term key the signer's credentials descend from (the signer itself
for long-term keys).  The root key lets several tests share one server:
give each test its own long-term AccessKeyId and MFA serial, filter calls
with ?root_access_key_id= and scope faults with "access_key_id".
user_name is the UserName parameter as the client sent it (before any
filling in).  mfa_check says how the call's code(s) were (or would have
been) checked: "registered", "totp" or "any" for a GetSessionToken or
AssumeRole with TokenCode and SerialNumber, "totp" or "any" for an
EnableMFADevice with authentication codes, else null.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import email.utils
import gzip
import hashlib
import hmac
import http
import io
import json
import logging
import os
import re
import secrets
import signal
import socket
import string
import struct
import sys
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, quote, urlencode
from xml.sax.saxutils import escape

# The console's federation endpoint (`mfa console`): a module of its own.
import fake_signin
# IAM Identity Center (SSO portal and OIDC), which moto lacks: its own module.
from fake_sso import FakeSso
from fake_sso import control_app as sso_control_app

LOG = logging.getLogger("fake_aws")

XML_NAMESPACES = {
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
}

# action -> (min, max, default) DurationSeconds, as documented by AWS.
DURATION_LIMITS = {
    "GetSessionToken": (900, 129600, 43200),
    "AssumeRole": (900, 43200, 3600),
}
ROLE_CHAINING_MAX_DURATION = 3600
MFA_ACTIONS = frozenset(DURATION_LIMITS)

# With no codes registered for a serial every six-digit code is accepted
# except this one, so tests get a wrong code without any setup.
ALWAYS_WRONG_CODE = "000000"

# SigV4 credential scope: Credential=AKID/date/region/service/aws4_request
CREDENTIAL_SCOPE_RE = re.compile(
    r"Credential=([^/\s,]+)/[^/\s,]*/([^/\s,]*)/([^/\s,]*)/aws4_request"
)
ASCII_DIGITS_RE = re.compile(r"[0-9]*")

# Default error for a fault's status: code, message, type.
FAULT_ERRORS = {
    400: ("Throttling", "Rate exceeded", "Sender"),
    403: ("AccessDenied", "Access denied", "Sender"),
    500: (
        "InternalFailure",
        "The request processing has failed because of an unknown error, "
        "exception or failure.",
        "Receiver",
    ),
    503: ("ServiceUnavailable", "Service is unable to handle request.", "Receiver"),
}

# Valid UTF-8, so clients fail in their XML parser rather than in decoding.
GARBAGE_BODY = b"this is not XML at all }{ <<<"

# TOTP as virtual MFA devices use it (RFC 6238 defaults): HMAC-SHA1 over
# 30-second steps since the epoch, six digits.
TOTP_STEP_SECONDS = 30
TOTP_DIGITS = 6
# Seeds AWS hands out are 20 random bytes (32 base32 characters).
SEED_BYTES = 20
# Steps, relative to the current one, at which an STS TokenCode is right.
STS_TOTP_WINDOW = (-1, 0, 1)
# Steps, relative to the current one, that EnableMFADevice accepts for
# AuthenticationCode1; AuthenticationCode2 must be the step after it.
ENABLE_TOTP_WINDOW = (-1, 0, 1)

INVALID_CODE_MESSAGE = "MultiFactorAuthentication failed with invalid MFA one time pass code. "
# AWS refuses a code that was already used; its exact wording for that case
# could not be confirmed, so the ordinary invalid-code text is used.
REPLAYED_CODE_MESSAGE = INVALID_CODE_MESSAGE
INVALID_AUTHENTICATION_CODE = (403, "InvalidAuthenticationCode",
                               "Authentication code for device is not valid.")


class Reject(Exception):
    """An AWS error answer produced by this layer instead of moto."""

    def __init__(self, status: int, code: str, message: str, kind: str = "Sender",
                 service: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.kind = status, code, message, kind
        self.service = service  # XML namespace to answer in; default: the request's


class DropConnection(Exception):
    """Raised by a 'reset' fault: answer nothing and reset the connection."""


@dataclass
class Fault:
    """One injected fault; applies to the next `count` matching requests.

    The first matching fault in the list is used.  delay_ms sleeps first;
    then reset drops the connection, garbage answers 200 with a non-XML
    body, status answers an AWS XML error (code/message override the
    defaults in FAULT_ERRORS); with none of those the request goes on
    normally after the delay.
    """

    action: str = "*"
    delay_ms: int = 0
    status: int | None = None
    garbage: bool = False
    reset: bool = False
    count: int | None = None  # remaining uses; None = forever
    code: str | None = None
    message: str | None = None
    access_key_id: str | None = None  # only requests rooted at this key

    def matches(self, action: str | None, root_key: str | None) -> bool:
        if self.access_key_id is not None and self.access_key_id != root_key:
            return False
        return self.action == "*" or self.action == action


@dataclass
class State:
    """Everything shared between request threads; guarded by `lock`."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    calls: list[dict[str, Any]] = field(default_factory=list)
    mfa_codes: dict[str, set[str]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    # AccessKeyIds of role sessions: from AssumeRole, and SSO's
    # GetRoleCredentials (a role assumed with one is role chaining).
    role_keys: set[str] = field(default_factory=set)
    # AccessKeyId from GetSessionToken -> AccessKeyId that requested it.
    session_parents: dict[str, str] = field(default_factory=dict)
    # Any AccessKeyId handed out (GetSessionToken or AssumeRole) -> signer.
    key_parents: dict[str, str] = field(default_factory=dict)
    # Sockets a 'reset' fault wants closed with RST; see install_reset_support.
    doomed_sockets: set[socket.socket] = field(default_factory=set)
    # Serial -> base32 seed of every virtual device CreateVirtualMFADevice
    # handed out (EnableMFADevice checks its codes against it).
    device_seeds: dict[str, str] = field(default_factory=dict)
    # Serial -> seed of devices enabled with EnableMFADevice: STS checks
    # TokenCodes for these serials as TOTP codes.
    enabled_seeds: dict[str, str] = field(default_factory=dict)
    # Serial -> seed registered with POST /_fake/totp (wins over the above).
    totp_seeds: dict[str, str] = field(default_factory=dict)
    # Serial -> TOTP steps whose code STS already accepted (replay check).
    used_steps: dict[str, set[int]] = field(default_factory=dict)

    def reset(self) -> None:
        # The key and device bookkeeping describes credentials and devices
        # moto still has, so it survives a reset, like moto's own state does.
        with self.lock:
            self.calls.clear()
            self.mfa_codes.clear()
            self.faults.clear()
            self.totp_seeds.clear()
            self.used_steps.clear()

    def root_key(self, access_key_id: str | None) -> str | None:
        """The long-term key a chain of temporary credentials started from."""
        with self.lock:
            key = access_key_id
            for _ in range(100):  # guards against (impossible) cycles
                if key not in self.key_parents:
                    break
                key = self.key_parents[key]
            return key

    def take_fault(self, action: str | None, root_key: str | None) -> Fault | None:
        with self.lock:
            for i, fault in enumerate(self.faults):
                if fault.matches(action, root_key):
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count <= 0:
                            del self.faults[i]
                    return fault
        return None

    def sts_mfa_rule(self, serial: str) -> str:
        """How STS checks TokenCodes for serial: registered, totp or any."""
        with self.lock:
            if serial in self.mfa_codes:
                return "registered"
            if serial in self.totp_seeds or serial in self.enabled_seeds:
                return "totp"
            return "any"

    def check_token_code(self, serial: str, code: str) -> str | None:
        """Check an STS TokenCode; None if right, else the error message.

        Registered codes win; then a known seed (TOTP, each step's code
        accepted once); otherwise anything but ALWAYS_WRONG_CODE.
        """
        with self.lock:
            accepted = self.mfa_codes.get(serial)
            if accepted is not None:
                return None if code in accepted else INVALID_CODE_MESSAGE
            seed = self.totp_seeds.get(serial) or self.enabled_seeds.get(serial)
            if seed is None:
                return None if code != ALWAYS_WRONG_CODE else INVALID_CODE_MESSAGE

            now = totp_step()
            used = self.used_steps.setdefault(serial, set())
            # Steps before the window can never match again: forget them.
            used.difference_update({s for s in used if s < now + STS_TOTP_WINDOW[0]})
            matching = [now + d for d in STS_TOTP_WINDOW if totp(seed, now + d) == code]
            fresh = [s for s in matching if s not in used]
            if fresh:
                used.add(fresh[0])
                return None
            return REPLAYED_CODE_MESSAGE if matching else INVALID_CODE_MESSAGE


@dataclass
class AwsRequest:
    action: str | None
    params: dict[str, str]
    service: str | None
    access_key_id: str | None
    has_session_token: bool


# --------------------------------------------------------------------------
# Request/response helpers
# --------------------------------------------------------------------------


def read_body(environ: dict[str, Any]) -> bytes:
    """Read the whole request body and put it back for the next app."""
    stream = environ["wsgi.input"]
    if environ.get("wsgi.input_terminated"):
        # Chunked request: the server delimits the stream for us.
        body = stream.read()
    else:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = stream.read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ["wsgi.input_terminated"] = True
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    return body


def parse_request(environ: dict[str, Any], body: bytes) -> AwsRequest:
    params: dict[str, str] = {}
    for key, values in parse_qs(
        environ.get("QUERY_STRING", ""), keep_blank_values=True
    ).items():
        params[key] = values[0]
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        if environ.get("HTTP_CONTENT_ENCODING", "").lower() == "gzip":
            try:
                body = gzip.decompress(body)
            except OSError:
                body = b""
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        for key, values in form.items():
            params[key] = values[0]

    # Signed requests carry the scope in the Authorization header; presigned
    # ones in the X-Amz-Credential query parameter.
    scope = environ.get("HTTP_AUTHORIZATION", "")
    if "X-Amz-Credential" in params:
        scope = "Credential=" + params["X-Amz-Credential"]
    match = CREDENTIAL_SCOPE_RE.search(scope)
    return AwsRequest(
        action=params.get("Action"),
        params=params,
        service=match.group(3).lower() if match else None,
        access_key_id=match.group(1) if match else None,
        has_session_token=bool(environ.get("HTTP_X_AMZ_SECURITY_TOKEN"))
        or "X-Amz-Security-Token" in params,
    )


def aws_error_xml(service: str | None, code: str, message: str, kind: str) -> bytes:
    namespace = XML_NAMESPACES.get(service or "sts", XML_NAMESPACES["sts"])
    return (
        f'<ErrorResponse xmlns="{namespace}"><Error><Type>{kind}</Type>'
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    ).encode()


def status_line(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def random_access_key_id() -> str:
    # Real temporary keys: "ASIA" + 16 characters of [A-Z2-7].
    alphabet = string.ascii_uppercase + "234567"
    return "ASIA" + "".join(secrets.choice(alphabet) for _ in range(16))


def random_secret_key() -> str:
    return base64.b64encode(os.urandom(30)).decode()  # 40 characters


def random_session_token() -> str:
    return "IQoJb3JpZ2luX2VjE" + base64.b64encode(os.urandom(300)).decode()


def replace_element(xml: str, tag: str, value: str) -> str:
    return re.sub(
        rf"<{tag}>[^<]*</{tag}>", lambda _: f"<{tag}>{value}</{tag}>", xml, count=1
    )


def element_text(xml: str, tag: str) -> str | None:
    match = re.search(rf"<{tag}>([^<]*)</{tag}>", xml)
    return match.group(1) if match else None


def remove_element(xml: str, tag: str) -> str:
    return re.sub(rf"<{tag}>[^<]*</{tag}>|<{tag}/>", "", xml)


def add_request_param(environ: dict[str, Any], name: str, value: str) -> None:
    """Add a parameter to a query-protocol request before moto sees it.

    moto reads the form body if there is one, else the query string; the
    signature is not checked, so editing the request is harmless.
    """
    pair = urlencode({name: value})
    is_form = environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")
    body = read_body(environ)
    if is_form and body:
        if environ.get("HTTP_CONTENT_ENCODING", "").lower() == "gzip":
            body = gzip.decompress(body)
            environ.pop("HTTP_CONTENT_ENCODING")
        body += b"&" + pair.encode()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
    else:
        query = environ.get("QUERY_STRING", "")
        environ["QUERY_STRING"] = f"{query}&{pair}" if query else pair


# --------------------------------------------------------------------------
# TOTP (RFC 6238) and virtual MFA devices
# --------------------------------------------------------------------------


def seed_key(seed: str) -> bytes:
    """The HMAC key of a base32 seed (any case, padding optional)."""
    text = seed.strip().upper().rstrip("=")
    if not text:
        raise ValueError("empty seed")
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        raise ValueError(f"not a base32 seed: {seed!r}") from None


def totp_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // TOTP_STEP_SECONDS)


def totp(seed: str, step: int) -> str:
    """The code of `seed` for time step `step` (RFC 4226 truncation)."""
    digest = hmac.new(seed_key(seed), struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**TOTP_DIGITS).zfill(TOTP_DIGITS)


def random_seed() -> str:
    return base64.b32encode(os.urandom(SEED_BYTES)).decode()  # 32 characters


def enable_codes_valid(seed: str, code1: str | None, code2: str | None) -> bool:
    """Are code1, code2 the codes of two consecutive steps, code1's step
    being within ENABLE_TOTP_WINDOW of now?"""
    now = totp_step()
    return any(
        totp(seed, now + d) == code1 and totp(seed, now + d + 1) == code2
        for d in ENABLE_TOTP_WINDOW
    )


def qr_code_png(uri: str) -> bytes:
    """A real PNG standing in for AWS's QR code.

    The picture only looks like a QR code (three finder squares and noise
    derived from the URI); the otpauth:// URI a real one would encode is
    in a tEXt chunk with keyword "otpauth", so tests can read it.
    """
    modules = 29  # a version-3 QR code is 29 x 29 modules
    noise = hashlib.sha256(uri.encode()).digest()
    while len(noise) * 8 < modules * modules:
        noise += hashlib.sha256(noise).digest()

    def dark(x: int, y: int) -> bool:
        for fx, fy in ((0, 0), (modules - 7, 0), (0, modules - 7)):
            if fx <= x < fx + 7 and fy <= y < fy + 7:
                dx, dy = x - fx, y - fy
                ring = min(dx, dy, 6 - dx, 6 - dy)
                return ring != 1  # dark border, light ring, dark 3x3 centre
        bit = y * modules + x
        return bool(noise[bit // 8] >> (bit % 8) & 1)

    scale, quiet = 4, 4  # pixels per module, modules of white margin
    size = (modules + 2 * quiet) * scale
    rows = []
    for py in range(size):
        y = py // scale - quiet
        row = bytearray([0])  # filter type None
        for px in range(size):
            x = px // scale - quiet
            inside = 0 <= x < modules and 0 <= y < modules
            row.append(0 if inside and dark(x, y) else 255)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0))
        + chunk(b"tEXt", b"otpauth\0" + uri.encode("latin-1"))
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def otpauth_uri(serial: str, device_name: str, seed: str) -> str:
    """The otpauth:// URI for a new device, labelled like AWS's
    ("Amazon Web Services:<device name>@<account id>")."""
    account = serial.split(":")[4] if serial.count(":") >= 5 else ""
    issuer = "Amazon Web Services"
    label = quote(f"{issuer}:{device_name}@{account}", safe=":@")
    return f"otpauth://totp/{label}?secret={seed}&issuer={quote(issuer)}"


# --------------------------------------------------------------------------
# The WSGI layer
# --------------------------------------------------------------------------

StartResponse = Callable[..., Any]


class FakeAws:
    def __init__(self, moto_app: Callable[..., Iterable[bytes]], state: State):
        self.moto_app = moto_app
        self.state = state
        self.signin = fake_signin.Federation(self.record_call, state.root_key)

    def record_call(self, record: dict[str, Any]) -> None:
        with self.state.lock:
            self.state.calls.append(record)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse):
        # IAM Identity Center (the SSO portal and OIDC): fake_sso.py.
        if environ.get("PATH_INFO", "").startswith("/_fake/sso/"):
            return SSO_CONTROL(environ, start_response)
        if FakeSso.route(environ) is not None:
            return self.sso(environ, start_response)
        if environ.get("PATH_INFO", "").startswith("/_fake/"):
            return self.control(environ, start_response)
        if environ.get("PATH_INFO", "") == "/federation":
            return self.signin(environ, start_response)

        arrival = time.time()
        body = read_body(environ)
        req = parse_request(environ, body)
        p = req.params
        root_key = self.state.root_key(req.access_key_id)
        record: dict[str, Any] = {
            "service": req.service,
            "action": req.action,
            "access_key_id": req.access_key_id,
            "session_token": req.has_session_token,
            "serial": p.get("SerialNumber"),
            "token_code": p.get("TokenCode"),
            "duration": _int_or_none(p.get("DurationSeconds")),
            "role_arn": p.get("RoleArn"),
            "role_session_name": p.get("RoleSessionName"),
            "external_id": p.get("ExternalId"),
            "status": None,
            "time": arrival,
            "returned_access_key_id": None,
            "root_access_key_id": root_key,
            "user_name": p.get("UserName"),
            "mfa_check": self.mfa_rule(req),
        }
        with self.state.lock:
            self.state.calls.append(record)

        try:
            status, headers, out = self.handle(environ, req, record, root_key)
        except DropConnection:
            with self.state.lock:
                record["status"] = 0
            self.doom_connection(environ)
            # werkzeug treats ConnectionError from the app as "client went
            # away" and stays quiet; the socket is then closed with RST.
            raise ConnectionResetError("fault injection: reset") from None
        except Exception:
            # werkzeug turns this into a bare 500 and logs the traceback.
            with self.state.lock:
                record["status"] = 500
            raise

        with self.state.lock:
            record["status"] = status
        LOG.debug("%s %s -> %s", req.service, req.action, status)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(out))))
        start_response(status_line(status), headers)
        return [out]

    # -- request handling ---------------------------------------------------

    def handle(
        self,
        environ: dict[str, Any],
        req: AwsRequest,
        record: dict[str, Any],
        root_key: str | None,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        fault = self.state.take_fault(req.action, root_key)
        if fault is not None:
            if fault.delay_ms > 0:
                time.sleep(fault.delay_ms / 1000)
            if fault.reset:
                raise DropConnection()
            if fault.garbage:
                return 200, [("Content-Type", "text/xml")], GARBAGE_BODY
            if fault.status is not None:
                code, message, kind = FAULT_ERRORS.get(
                    fault.status,
                    ("InternalFailure", "Injected fault",
                     "Receiver" if fault.status >= 500 else "Sender"),
                )
                return self.error(
                    req,
                    Reject(fault.status, fault.code or code,
                           fault.message or message, kind),
                )

        duration = None
        federation_duration = None
        try:
            if req.action in MFA_ACTIONS and req.service in ("sts", None):
                duration = self.validate(req)
            elif req.action == "EnableMFADevice":
                self.validate_enable(req)
            elif req.action == "GetFederationToken" and req.service in ("sts", None):
                federation_duration = self.signin.validate_federation_token(
                    req.params, req.has_session_token)
        except Reject as rejection:
            return self.error(req, rejection)
        except fake_signin.Refused as refused:
            return self.error(req, Reject(refused.status, refused.code, refused.message))

        self.present_session_creds_as_parent(environ, req)
        if req.action in BOUNDARY_ACTIONS:  # see "Users' permissions boundaries"
            return user_boundary_call(self, environ, req)
        if req.action == "ListMFADevices" and not req.params.get("UserName"):
            self.fill_in_caller(environ)
        with self.state.lock:
            signed_by_role = req.access_key_id in self.state.role_keys
        status, headers, out = self.call_moto(environ)
        if status == 200 and duration is not None:
            out = self.fix_credentials(req, out, duration, record)
        elif status == 200:
            out = self.after_iam_success(req, out)
            out = iam_answer_as_aws(req, out)
        if status == 200 and req.action in fake_signin.ISSUING_ACTIONS:
            out = self.signin.note_issued(req.action, req.params, out, signed_by_role,
                                          federation_duration)
        return status, headers, out

    def mfa_rule(self, req: AwsRequest) -> str | None:
        """How this call's MFA code(s) are checked (the "mfa_check" field):
        "registered", "totp" or "any"; None if the call carries no code and
        serial."""
        p = req.params
        serial = p.get("SerialNumber")
        if not serial:
            return None
        if req.action in MFA_ACTIONS and "TokenCode" in p:
            return self.state.sts_mfa_rule(serial)
        if req.action == "EnableMFADevice" and (
            "AuthenticationCode1" in p or "AuthenticationCode2" in p
        ):
            with self.state.lock:
                return "totp" if serial in self.state.device_seeds else "any"
        return None

    def validate_enable(self, req: AwsRequest) -> None:
        """EnableMFADevice: for a device whose seed this layer knows, the two
        codes must be consecutive TOTP codes (see enable_codes_valid).
        Devices created before the layer saw them are left to moto, which
        accepts anything."""
        p = req.params
        with self.state.lock:
            seed = self.state.device_seeds.get(p.get("SerialNumber") or "")
        if seed is not None and not enable_codes_valid(
            seed, p.get("AuthenticationCode1"), p.get("AuthenticationCode2")
        ):
            raise Reject(*INVALID_AUTHENTICATION_CODE, service="iam")

    def fill_in_caller(self, environ: dict[str, Any]) -> None:
        """ListMFADevices without UserName means the caller's devices; moto
        looks up a user named None instead.  Ask moto who the signer is
        (GetUser without UserName, which moto does answer from the access
        key) and pass that UserName on.  moto answers "default_user" for
        keys it does not know, so those still get NoSuchEntity."""
        from werkzeug.test import EnvironBuilder

        auth = environ.get("HTTP_AUTHORIZATION")
        if not auth:
            return
        lookup = EnvironBuilder(
            method="POST",
            path="/",
            data="Action=GetUser&Version=2010-05-08",
            content_type="application/x-www-form-urlencoded",
            headers={"Authorization": auth},
        ).get_environ()
        status, _, out = self.call_moto(lookup)
        user_name = element_text(out.decode("utf-8", "replace"), "UserName")
        if status == 200 and user_name:
            add_request_param(environ, "UserName", user_name)

    def after_iam_success(self, req: AwsRequest, out: bytes) -> bytes:
        """Keep the device bookkeeping in step with moto, and make its
        answers look like AWS's."""
        serial = req.params.get("SerialNumber") or ""
        state = self.state
        if req.action == "CreateVirtualMFADevice":
            return self.record_new_device(req, out)
        if req.action == "ListVirtualMFADevices":
            # AWS returns the seed and QR code only from CreateVirtualMFADevice
            # (moto repeats its own, which this layer replaced).
            xml = out.decode("utf-8")
            xml = remove_element(remove_element(xml, "Base32StringSeed"), "QRCodePNG")
            return xml.encode("utf-8")
        with state.lock:
            if req.action == "EnableMFADevice" and serial in state.device_seeds:
                state.enabled_seeds[serial] = state.device_seeds[serial]
                state.used_steps.pop(serial, None)
            elif req.action == "DeactivateMFADevice":
                state.enabled_seeds.pop(serial, None)
            elif req.action == "DeleteVirtualMFADevice":
                state.device_seeds.pop(serial, None)
                state.enabled_seeds.pop(serial, None)
        return out

    def record_new_device(self, req: AwsRequest, out: bytes) -> bytes:
        """Remember the new device's seed, and make seed and QR code real.

        Base32StringSeed and QRCodePNG are blobs, so the XML carries them
        base64-encoded (the seed is base64 of the base32 text, as in AWS).
        moto's seed is 64 base32 characters (40 bytes) and its QR code 64
        random bytes; AWS's seed is 20 bytes, so a seed that is not valid
        20-byte base32 is replaced by a fresh one, and the QR code by a PNG
        that carries the otpauth:// URI (see qr_code_png).
        """
        xml = out.decode("utf-8")
        serial = element_text(xml, "SerialNumber")
        encoded = element_text(xml, "Base32StringSeed")
        if not serial or encoded is None:
            LOG.warning("CreateVirtualMFADevice answer without serial or seed; "
                        "its codes will not be checked")
            return out
        try:
            seed = base64.b64decode(encoded, validate=True).decode("ascii")
            if len(seed_key(seed)) != SEED_BYTES:
                raise ValueError("wrong seed length")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            seed = random_seed()
            xml = replace_element(xml, "Base32StringSeed",
                                  base64.b64encode(seed.encode()).decode())
        if element_text(xml, "QRCodePNG") is not None:
            uri = otpauth_uri(serial, req.params.get("VirtualMFADeviceName", ""), seed)
            xml = replace_element(xml, "QRCodePNG",
                                  base64.b64encode(qr_code_png(uri)).decode())
        with self.state.lock:
            self.state.device_seeds[serial] = seed
            self.state.enabled_seeds.pop(serial, None)
            self.state.used_steps.pop(serial, None)
        return xml.encode("utf-8")

    def validate(self, req: AwsRequest) -> int:
        """Apply AWS's checks; return the effective DurationSeconds."""
        p = req.params
        action = req.action
        assert action is not None
        code = p.get("TokenCode")
        serial = p.get("SerialNumber")

        # Syntactic constraints first, reported together like AWS does.
        errors = []
        if code is not None:
            prefix = f"Value '{code}' at 'tokenCode' failed to satisfy constraint: "
            if not ASCII_DIGITS_RE.fullmatch(code):
                errors.append(prefix + "Member must satisfy regular expression pattern: [\\d]*")
            if len(code) < 6:
                errors.append(prefix + "Member must have length greater than or equal to 6")
            elif len(code) > 6:
                errors.append(prefix + "Member must have length less than or equal to 6")
        low, high, duration = DURATION_LIMITS[action]
        raw_duration = p.get("DurationSeconds")
        if raw_duration is not None:
            prefix = f"Value '{raw_duration}' at 'durationSeconds' failed to satisfy constraint: "
            parsed = _int_or_none(raw_duration)
            if parsed is None:
                errors.append(prefix + "Member must be a number")
            else:
                duration = parsed
                if duration < low:
                    errors.append(prefix + f"Member must have value greater than or equal to {low}")
                elif duration > high:
                    errors.append(prefix + f"Member must have value less than or equal to {high}")
        if errors:
            plural = "s" if len(errors) > 1 else ""
            raise Reject(
                400, "ValidationError",
                f"{len(errors)} validation error{plural} detected: " + "; ".join(errors),
            )

        if code is not None and not serial:
            raise Reject(
                400, "ValidationError",
                "MultiFactorAuthentication failed, must provide both MFA serial "
                "number and one time pass code.",
            )
        if serial and code is None:
            raise Reject(
                403, "AccessDenied",
                "MultiFactorAuthentication failed, must provide both MFA serial "
                "number and one time pass code.",
            )

        if action == "GetSessionToken" and req.has_session_token:
            raise Reject(403, "AccessDenied",
                         "Cannot call GetSessionToken with session credentials")

        if action == "AssumeRole" and duration > ROLE_CHAINING_MAX_DURATION:
            with self.state.lock:
                chained = req.access_key_id in self.state.role_keys
            if chained:
                raise Reject(
                    400, "ValidationError",
                    "The requested DurationSeconds exceeds the 1 hour session "
                    "limit for roles assumed by role chaining.",
                )

        if code is not None and serial:
            problem = self.state.check_token_code(serial, code)
            if problem is not None:
                raise Reject(403, "AccessDenied", problem)
        return duration

    def error(
        self, req: AwsRequest, rejection: Reject
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        body = aws_error_xml(rejection.service or req.service, rejection.code,
                             rejection.message, rejection.kind)
        return rejection.status, [("Content-Type", "text/xml")], body

    def present_session_creds_as_parent(
        self, environ: dict[str, Any], req: AwsRequest
    ) -> None:
        """Let moto see GetSessionToken credentials as the keys that got them.

        moto knows nothing about the keys this layer invents, so e.g.
        GetCallerIdentity would answer with its default 'user/moto'.  AWS
        answers with the identity of the long-term keys, so swap them in.
        """
        with self.state.lock:
            parent = self.state.session_parents.get(req.access_key_id or "")
        auth = environ.get("HTTP_AUTHORIZATION")
        if parent and auth:
            environ["HTTP_AUTHORIZATION"] = auth.replace(
                f"Credential={req.access_key_id}/", f"Credential={parent}/", 1
            )

    def call_moto(
        self, environ: dict[str, Any]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        captured: dict[str, Any] = {}
        chunks: list[bytes] = []

        def start_response(status: str, headers: list, exc_info: Any = None):
            captured["status"], captured["headers"] = status, headers
            return chunks.append

        result = self.moto_app(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return int(captured["status"].split()[0]), list(captured["headers"]), b"".join(chunks)

    def fix_credentials(
        self, req: AwsRequest, out: bytes, duration: int, record: dict[str, Any]
    ) -> bytes:
        xml = out.decode("utf-8")
        # moto honours DurationSeconds, but with microseconds; AWS sends whole
        # seconds.  Recompute so the value is right whatever moto does.
        expiration = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(
            seconds=duration
        )
        xml = replace_element(xml, "Expiration", expiration.strftime("%Y-%m-%dT%H:%M:%SZ"))

        if req.action == "GetSessionToken":
            # moto always returns the same documentation example keys
            # (AKIAIOSFODNN7EXAMPLE); hand out unique temporary keys instead.
            access_key_id = random_access_key_id()
            xml = replace_element(xml, "AccessKeyId", access_key_id)
            xml = replace_element(xml, "SecretAccessKey", random_secret_key())
            xml = replace_element(xml, "SessionToken", random_session_token())
            with self.state.lock:
                if req.access_key_id:
                    self.state.session_parents[access_key_id] = req.access_key_id
        else:
            access_key_id = element_text(xml, "AccessKeyId")
            with self.state.lock:
                if access_key_id:
                    self.state.role_keys.add(access_key_id)
        with self.state.lock:
            if access_key_id and req.access_key_id:
                self.state.key_parents[access_key_id] = req.access_key_id
            record["returned_access_key_id"] = access_key_id
        return xml.encode("utf-8")

    def doom_connection(self, environ: dict[str, Any]) -> None:
        sock = environ.get("werkzeug.socket")
        if sock is None:
            return
        try:
            # Make the handler's next read see EOF so it stops at once; the
            # RST itself is sent by install_reset_support on close.
            sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass
        with self.state.lock:
            self.state.doomed_sockets.add(sock)

    # -- IAM Identity Center (see fake_sso.py) -----------------------------

    def sso(self, environ: dict[str, Any], start_response: StartResponse):
        """An SSO portal or OIDC call: answered by fake_sso.py, recorded
        (and subject to faults) like every other call."""
        service, action = FakeSso.route(environ) or ("", "")
        body = read_body(environ)
        record: dict[str, Any] = {"service": service, "action": action, "status": None,
                                  "time": time.time(), "returned_access_key_id": None}
        with self.state.lock:
            self.state.calls.append(record)
        fault = self.state.take_fault(action, None)
        if fault is not None and fault.delay_ms > 0:
            time.sleep(fault.delay_ms / 1000)
        if fault is not None and fault.status is not None:
            status, headers = fault.status, [("Content-Type", "application/json"),
                                             ("x-amzn-ErrorType", fault.code or "InternalServerException")]
            out = json.dumps({"message": fault.message or "Injected fault"}).encode()
        else:
            status, headers, out = SSO.handle(environ, body, record)
        if status == 200 and action == "GetRoleCredentials":
            self.note_sso_role_credentials(out, record)
        with self.state.lock:
            record["status"] = status
        headers.append(("Content-Length", str(len(out))))
        start_response(status_line(status), headers)
        return [out]

    def note_sso_role_credentials(self, out: bytes, record: dict[str, Any]) -> None:
        """GetRoleCredentials' keys are a role session, as AssumeRole's are:
        a role assumed with them is chained, and they sign in to the console."""
        credentials = json.loads(out)["roleCredentials"]
        access_key_id = credentials["accessKeyId"]
        with self.state.lock:
            self.state.role_keys.add(access_key_id)
        self.signin.note_role_session(
            access_key_id, credentials["secretAccessKey"], credentials["sessionToken"],
            credentials["expiration"] / 1000, record["account_id"], record["role_session"])

    # -- control API --------------------------------------------------------

    def control(self, environ: dict[str, Any], start_response: StartResponse):
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "").rstrip("/")
        body = read_body(environ)
        try:
            query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            status, payload = self.control_route(method, path, query, body)
        except ValueError as exc:
            status, payload = 400, {"error": str(exc)}
        out = json.dumps(payload).encode()
        start_response(
            status_line(status),
            [("Content-Type", "application/json"), ("Content-Length", str(len(out)))],
        )
        return [out]

    def control_route(
        self, method: str, path: str, query: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        routes = {
            "/_fake/calls": ("GET",),
            "/_fake/reset": ("POST",),
            "/_fake/mfa": ("POST",),
            "/_fake/totp": ("GET", "POST"),
            "/_fake/faults": ("GET", "POST"),
            "/_fake/health": ("GET",),
        }
        if path not in routes:
            return 404, {"error": f"no such control endpoint: {path}"}
        if method not in routes[path]:
            return 405, {"error": f"{method} not allowed on {path}"}

        state = self.state
        if path == "/_fake/health":
            return 200, {"ok": True}
        if path == "/_fake/calls":
            root = query.get("root_access_key_id")
            with state.lock:
                calls = [dict(c) for c in state.calls
                         if root is None or c["root_access_key_id"] == root]
            return 200, {"calls": calls}
        if path == "/_fake/reset":
            state.reset()
            return 200, {"ok": True}
        if path == "/_fake/faults" and method == "GET":
            with state.lock:
                return 200, {"faults": [vars(f).copy() for f in state.faults]}
        if path == "/_fake/totp" and method == "GET":
            with state.lock:
                return 200, {
                    "devices": dict(state.device_seeds),
                    "totp": {**state.enabled_seeds, **state.totp_seeds},
                }

        data = _json_object(body)
        if path == "/_fake/mfa":
            serial, codes = data.get("serial"), data.get("codes")
            if not isinstance(serial, str) or not isinstance(codes, list) or not all(
                isinstance(c, str) for c in codes
            ):
                raise ValueError('expected {"serial": str, "codes": [str, ...]}')
            with state.lock:
                state.mfa_codes[serial] = set(codes)
            return 200, {"ok": True}
        if path == "/_fake/totp":
            serial, seed = data.get("serial"), data.get("seed")
            if not isinstance(serial, str) or not serial or not isinstance(seed, str):
                raise ValueError('expected {"serial": str, "seed": "BASE32"}')
            seed_key(seed)  # ValueError (400) unless valid base32
            with state.lock:
                state.totp_seeds[serial] = seed
                state.used_steps.pop(serial, None)
            return 200, {"ok": True}

        # POST /_fake/faults
        fault = Fault(
            action=_field(data, "action", str, "*"),
            delay_ms=_field(data, "delay_ms", int, 0),
            status=_field(data, "status", int, None),
            garbage=_field(data, "garbage", bool, False),
            reset=_field(data, "reset", bool, False),
            count=_field(data, "count", int, None),
            code=_field(data, "code", str, None),
            message=_field(data, "message", str, None),
            access_key_id=_field(data, "access_key_id", str, None),
        )
        if fault.count is not None and fault.count <= 0:
            raise ValueError("count must be positive")
        with state.lock:
            state.faults.append(fault)
            return 200, {"ok": True, "faults": len(state.faults)}


# The one IAM Identity Center of this server, and its /_fake/sso/ controls.
SSO = FakeSso()
SSO_CONTROL = sso_control_app(SSO, read_body, status_line)


def _int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def _field(data: dict[str, Any], name: str, kind: type, default: Any) -> Any:
    value = data.get(name)
    if value is None:
        return default
    # bool is a subclass of int; do not accept true as a status.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{name} must be of type {kind.__name__}")
    return value


# --------------------------------------------------------------------------
# Server plumbing
# --------------------------------------------------------------------------


def isolate_stdout():
    """Keep the real stdout for the PORT line only.

    fd 1 is pointed at stderr, so anything moto, flask or werkzeug print
    (even from C) can never reach the test's stdout pipe.
    """
    sys.stdout.flush()
    port_channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return port_channel


def watch_stdin() -> None:
    """Exit as soon as stdin reaches EOF, i.e. the spawning process died."""

    def run() -> None:
        try:
            while os.read(0, 65536):
                pass
        except OSError as exc:
            LOG.warning("cannot watch stdin (%s); not exiting on EOF", exc)
            return
        os._exit(0)

    threading.Thread(target=run, name="stdin-watch", daemon=True).start()


def install_reset_support(server: Any, state: State) -> None:
    """Close connections doomed by a 'reset' fault with a TCP RST.

    socketserver normally does shutdown(SHUT_WR) (a FIN) before close; for
    doomed sockets skip that and close with SO_LINGER 0, which sends RST.
    """
    original = server.shutdown_request

    def shutdown_request(request: socket.socket) -> None:
        with state.lock:
            doomed = request in state.doomed_sockets
            state.doomed_sockets.discard(request)
        if not doomed:
            original(request)
            return
        try:
            request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        server.close_request(request)

    server.shutdown_request = shutdown_request


def prewarm(moto_app: Callable[..., Iterable[bytes]]) -> None:
    """Build moto's STS and IAM apps now, so the first test request is fast."""
    from werkzeug.test import EnvironBuilder

    for service, body in (
        ("sts", "Action=GetCallerIdentity&Version=2011-06-15"),
        ("iam", "Action=ListVirtualMFADevices&Version=2010-05-08"),
    ):
        environ = EnvironBuilder(
            method="POST",
            path="/",
            data=body,
            content_type="application/x-www-form-urlencoded",
            headers={
                "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAFAKEAWSPREWARM00/"
                f"20000101/us-east-1/{service}/aws4_request, "
                "SignedHeaders=host, Signature=0"
            },
        ).get_environ()
        result = moto_app(environ, lambda *args, **kwargs: (lambda data: None))
        for _ in result:
            pass
        if hasattr(result, "close"):
            result.close()


# -- clock skew (mfa doctor) -------------------------------------------------
#
# POST /_fake/clock {"skew_seconds": N} makes every later answer carry a
# `Date` header N seconds off the real time (negative: behind), as an STS
# seen from a machine whose clock is wrong; GET /_fake/clock says the skew.
# The server writes `Date` itself (http.server's date_time_string), so the
# shift is made there.


class ClockSkew:
    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app
        self.skew_seconds = 0.0

    def __call__(self, environ: dict[str, Any], start_response: StartResponse):
        if environ.get("PATH_INFO", "").rstrip("/") != "/_fake/clock":
            return self.app(environ, start_response)
        status = 200
        if environ.get("REQUEST_METHOD") == "POST":
            try:
                self.skew_seconds = float(_json_object(read_body(environ))["skew_seconds"])
            except (KeyError, TypeError, ValueError) as exc:
                status = 400
                out = json.dumps({"error": f"want {{\"skew_seconds\": N}}: {exc}"}).encode()
        if status == 200:
            out = json.dumps({"skew_seconds": self.skew_seconds}).encode()
        start_response(
            status_line(status),
            [("Content-Type", "application/json"), ("Content-Length", str(len(out)))],
        )
        return [out]

    def request_handler(self) -> type:
        from werkzeug.serving import WSGIRequestHandler

        skew = self

        class ShiftedDateHandler(WSGIRequestHandler):
            def make_environ(self) -> dict[str, Any]:
                # werkzeug drops headers with `_` in their names, and the SSO
                # portal's bearer header is `x-amz-sso_bearer_token`.
                environ = super().make_environ()
                token = self.headers.get("x-amz-sso_bearer_token")
                if token is not None:
                    environ["fake_sso.bearer_token"] = token
                return environ

            def date_time_string(self, timestamp: float | None = None) -> str:
                now = time.time() if timestamp is None else timestamp
                return super().date_time_string(now + skew.skew_seconds)

        return ShiftedDateHandler


# -- Users' permissions boundaries (mfa enforce) ----------------------------
#
# moto 5 has role permissions boundaries but not users': it answers
# PutUserPermissionsBoundary with a 500 and GetUser with no
# PermissionsBoundary.  This layer keeps user -> boundary ARN itself and
# answers as IAM does (API reference, PutUserPermissionsBoundary /
# DeleteUserPermissionsBoundary / GetUser): the user must exist
# (404 NoSuchEntity), the policy too (404 NoSuchEntity); GetUser's <User>
# gains <PermissionsBoundary> with PermissionsBoundaryType
# "PermissionsBoundaryPolicy" and PermissionsBoundaryArn.

BOUNDARY_ACTIONS = frozenset({"PutUserPermissionsBoundary", "DeleteUserPermissionsBoundary"})
USER_BOUNDARIES: dict[str, str] = {}
USER_BOUNDARIES_LOCK = threading.Lock()


def _moto_iam(app: "FakeAws", environ: dict[str, Any], query: dict[str, str]) -> tuple[int, str]:
    """One IAM call to moto, signed as the request was."""
    from werkzeug.test import EnvironBuilder

    lookup = EnvironBuilder(
        method="POST",
        path="/",
        data=urlencode({**query, "Version": "2010-05-08"}),
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": environ.get("HTTP_AUTHORIZATION", "")},
    ).get_environ()
    status, _, out = app.call_moto(lookup)
    return status, out.decode("utf-8", "replace")


def user_boundary_call(app: "FakeAws", environ: dict[str, Any], req: AwsRequest):
    user = req.params.get("UserName") or ""
    status, _ = _moto_iam(app, environ, {"Action": "GetUser", "UserName": user})
    if status != 200:
        return app.error(req, Reject(404, "NoSuchEntity",
                                     f"The user with name {user} cannot be found.",
                                     service="iam"))
    with USER_BOUNDARIES_LOCK:
        if req.action == "DeleteUserPermissionsBoundary":
            USER_BOUNDARIES.pop(user, None)
            arn = None
        else:
            arn = req.params.get("PermissionsBoundary") or ""
    if arn is not None:
        status, _ = _moto_iam(app, environ, {"Action": "GetPolicy", "PolicyArn": arn})
        if status != 200:
            return app.error(req, Reject(404, "NoSuchEntity",
                                         f"Policy {arn} does not exist or is not attachable.",
                                         service="iam"))
        with USER_BOUNDARIES_LOCK:
            USER_BOUNDARIES[user] = arn
    body = (f'<{req.action}Response xmlns="{XML_NAMESPACES["iam"]}">'
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            f"</{req.action}Response>")
    return 200, [("Content-Type", "text/xml")], body.encode("utf-8")


# IAM returns policy documents URL-encoded (RFC 3986; API reference,
# GetPolicyVersion: "The policy document returned in this structure is URL-
# encoded compliant with RFC 3986"), moto as plain JSON: this layer encodes
# them, so that clients are tested against what AWS sends.
URL_ENCODED_DOCUMENTS = {
    "GetPolicyVersion": "Document",
    "GetRole": "AssumeRolePolicyDocument",
    "GetGroupPolicy": "PolicyDocument",
    "GetUserPolicy": "PolicyDocument",
    "GetRolePolicy": "PolicyDocument",
}


def iam_answer_as_aws(req: AwsRequest, out: bytes) -> bytes:
    """Documents URL-encoded; GetUser with the user's boundary."""
    tag = URL_ENCODED_DOCUMENTS.get(req.action or "")
    if tag is not None:
        xml = out.decode("utf-8")

        def encode(match: re.Match) -> str:
            from xml.sax.saxutils import unescape
            text = unescape(match.group(1), {"&quot;": '"', "&apos;": "'"})
            if text.lstrip().startswith("{"):
                text = quote(text, safe="")
            return f"<{tag}>{text}</{tag}>"

        return re.sub(rf"<{tag}>([^<]*)</{tag}>", encode, xml).encode("utf-8")
    if req.action != "GetUser":
        return out
    xml = remove_element(out.decode("utf-8"), "PermissionsBoundary")
    user = element_text(xml, "UserName") or ""
    with USER_BOUNDARIES_LOCK:
        arn = USER_BOUNDARIES.get(user)
    if arn is not None:
        boundary = ("<PermissionsBoundary>"
                    "<PermissionsBoundaryType>PermissionsBoundaryPolicy</PermissionsBoundaryType>"
                    f"<PermissionsBoundaryArn>{escape(arn)}</PermissionsBoundaryArn>"
                    "</PermissionsBoundary>")
        xml = xml.replace("</User>", boundary + "</User>", 1)
    return xml.encode("utf-8")



# -- Pages of IAM's List calls (mfa enforce) --------------------------------
#
# moto answers most IAM List calls in one page whatever MaxItems says.  POST
# /_fake/iam_page_size {"size": N} makes this layer answer them as IAM does
# when a list is longer than a page: at most N members, IsTruncated true and
# a Marker to pass back for the next page ({"size": null} turns it off;
# GET says the size).  The layer asks moto for the whole list and slices it.

PAGED_LISTS = {
    "ListUsers": "Users",
    "GetGroup": "Users",
    "ListGroupsForUser": "Groups",
    "ListAttachedUserPolicies": "AttachedPolicies",
    "ListAttachedGroupPolicies": "AttachedPolicies",
    "ListAttachedRolePolicies": "AttachedPolicies",
    "ListAccessKeys": "AccessKeyMetadata",
    "ListMFADevices": "MFADevices",
    "ListUserPolicies": "PolicyNames",
    "ListGroupPolicies": "PolicyNames",
    "ListPolicyVersions": "Versions",
}


def _members(inner: str) -> list[str]:
    """The top-level <member> elements of a list's XML (members may nest)."""
    members, depth, start = [], 0, 0
    for token in re.finditer(r"<member>|</member>|<member/>", inner):
        if token.group() == "<member/>":
            if depth == 0:
                members.append(token.group())
            continue
        if token.group() == "<member>":
            if depth == 0:
                start = token.start()
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                members.append(inner[start:token.end()])
    return members


def page_of(xml: str, tag: str, start: int, size: int) -> str:
    match = re.search(rf"<{tag}>(.*?)</{tag}>(?!.*</{tag}>)", xml, re.S)
    members = _members(match.group(1)) if match else []
    page = members[start:start + size]
    truncated = start + size < len(members)
    if match:
        xml = xml[:match.start()] + f"<{tag}>{''.join(page)}</{tag}>" + xml[match.end():]
    xml = re.sub(r"<IsTruncated>[^<]*</IsTruncated>|<Marker>[^<]*</Marker>", "", xml)
    more = f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"
    if truncated:
        more += f"<Marker>{start + size}</Marker>"
    return re.sub(rf"(</{tag}>)", rf"\1{more}", xml, count=1)


class IamPages:
    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app
        self.size: int | None = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse):
        path = environ.get("PATH_INFO", "")
        if path.rstrip("/") == "/_fake/iam_page_size":
            return self.control(environ, start_response)
        if self.size is None or path.startswith("/_fake/"):
            return self.app(environ, start_response)
        body = read_body(environ)
        req = parse_request(environ, body)
        tag = PAGED_LISTS.get(req.action or "")
        if tag is None:
            return self.app(environ, start_response)
        try:
            start = max(0, int(req.params.get("Marker") or 0))
        except ValueError:
            start = 0
        params = {k: v for k, v in req.params.items() if k not in ("Marker", "MaxItems")}
        new_body = urlencode(params).encode()
        environ["wsgi.input"] = io.BytesIO(new_body)
        environ["CONTENT_LENGTH"] = str(len(new_body))
        environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
        environ.pop("HTTP_CONTENT_ENCODING", None)
        environ["QUERY_STRING"] = ""
        answer: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info: Any = None):
            answer["status"], answer["headers"] = status, headers
            return lambda data: None

        out = b"".join(self.app(environ, capture))
        if answer.get("status", "").startswith("200"):
            out = page_of(out.decode("utf-8"), tag, start, self.size).encode("utf-8")
        headers = [(k, v) for k, v in answer.get("headers", []) if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(out))))
        start_response(answer.get("status", "500 Internal Server Error"), headers)
        return [out]

    def control(self, environ: dict[str, Any], start_response: StartResponse):
        status = 200
        if environ.get("REQUEST_METHOD") == "POST":
            try:
                size = _json_object(read_body(environ)).get("size")
                self.size = None if size is None else max(1, int(size))
            except (TypeError, ValueError) as exc:
                status = 400
        out = json.dumps({"size": self.size}).encode()
        start_response(status_line(status), [("Content-Type", "application/json"),
                                              ("Content-Length", str(len(out)))])
        return [out]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0,
                        help="port on 127.0.0.1 (default 0: any free port)")
    parser.add_argument("--no-stdin-watch", action="store_true",
                        help="do not exit when stdin reaches EOF")
    args = parser.parse_args(argv)

    verbose = os.environ.get("FAKE_AWS_VERBOSE") == "1"
    port_channel = isolate_stdout()
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                        format="%(name)s: %(message)s")
    # werkzeug logs one INFO line per request; quiet unless asked.
    logging.getLogger("werkzeug").setLevel(logging.INFO if verbose else logging.WARNING)
    LOG.setLevel(logging.DEBUG if verbose else logging.WARNING)

    # Start watching before the slow moto import, so a test process that
    # dies during start-up does not leave us behind.
    if args.no_stdin_watch:
        pass
    elif os.isatty(0):
        # A background job reading its terminal would be stopped (SIGTTIN).
        LOG.warning("stdin is a terminal; not watching it for EOF")
    else:
        watch_stdin()

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    moto_app = DomainDispatcherApplication(create_backend_app)
    prewarm(moto_app)
    state = State()
    skew = ClockSkew(IamPages(FakeAws(moto_app, state)))
    server = make_server("127.0.0.1", args.port, skew, threaded=True,
                         request_handler=skew.request_handler())
    install_reset_support(server, state)

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    port_channel.write(f"PORT {server.server_port}\n")
    port_channel.flush()
    port_channel.close()
    LOG.info("listening on 127.0.0.1:%d", server.server_port)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
