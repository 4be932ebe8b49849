"""API keys, page sessions and roles.

A program sends its key as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. Keys never
travel in a URL: a ``?key=`` is refused (URLs end up in access logs, proxies and browser
history). Keys are stored hashed (``calmline.monitor.store``).

The pages sign in once with ``POST /api/v1/session`` (the key in a JSON body) and then carry an
HttpOnly, SameSite=Strict session cookie, which ``<audio>``, EventSource and WebSockets send by
themselves. The cookie holds an HMAC-signed token ``<key id>.<expiry>.<nonce>.<signature>``: it
names the key, not the key itself, so revoking the key ends the session at the next request,
and it expires after ``server.session_ttl_s``. ``DELETE /api/v1/session`` signs out (the token
is refused from then on). A state-changing request (not GET/HEAD/OPTIONS) authenticated by the
cookie must also carry the header ``X-Calmline-Request`` (cross-site pages cannot add it without
a CORS preflight, which this server never grants): together with SameSite=Strict this stops
cross-site request forgery.

Roles:

- ``admin``: everything, including keys and re-scoring.
- ``qa_lead``: every call, report, export, upload and re-scoring.
- ``supervisor``: every call and report, uploads, the live feed.
- ``agent``: only the calls and feedback of the agent id the key is bound to.

Refusals are 401 (no or unknown key) or 403 (role not allowed), and 403s are written to the
audit log. Open live feeds and ingest sockets check their principal again every
``server.auth_recheck_s`` seconds (:class:`KeyGuard`) and close once it is no longer valid.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from anyio import to_thread
from fastapi import Depends, HTTPException, Request, WebSocket
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from calmline.monitor.store import Store

logger = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`.")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key.")

ALL_ROLES = ("admin", "qa_lead", "supervisor", "agent")
STAFF = ("admin", "qa_lead", "supervisor")
"""Roles that see every agent's calls."""

SESSION_COOKIE = "calmline_session"
SESSION_COOKIE_PATH = "/api/"
"""The cookie goes only to the API (the pages' HTML needs none)."""
CSRF_HEADER = "X-Calmline-Request"
"""Required on state-changing requests authenticated by the session cookie."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
URL_SECRETS = ("key", "token", "api_key", "apikey", "access_token")
"""Query parameters whose values are secrets: refused by the API, redacted in the logs."""


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str
    role: str
    agent_id: str | None = None
    session: str | None = None
    """The session's nonce when authenticated by the page cookie, else ``None`` (a key)."""
    expires_at: float | None = None
    """Unix time the session ends (cookie only)."""

    def can_see_agent(self, agent_id: str | None) -> bool:
        return self.role != "agent" or (agent_id is not None and agent_id == self.agent_id)


# --- sessions ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionToken:
    key_id: str
    expires_at: int
    nonce: str


class Sessions:
    """Issues and checks HMAC-signed session tokens; remembers signed-out ones until they expire.

    Args:
        secret: the HMAC key; ``None`` = random (sessions end when the process does).
        ttl_s: how long a token is valid.
    """

    _TOKEN = re.compile(
        r"^([A-Za-z0-9_-]{1,64})\.(\d{1,12})\.([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{43})$"
    )

    def __init__(self, secret: str | None, ttl_s: float) -> None:
        self._secret = secret.encode("utf-8") if secret else secrets.token_bytes(32)
        self.ttl_s = ttl_s
        self._ended: dict[str, float] = {}
        self._lock = threading.Lock()

    def _sign(self, payload: str) -> str:
        mac = hmac.new(self._secret, payload.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")

    def issue(self, key_id: str, now: float | None = None) -> tuple[str, SessionToken]:
        """A new token for ``key_id`` and what it holds."""
        now = time.time() if now is None else now
        token = SessionToken(key_id, int(now + self.ttl_s), secrets.token_urlsafe(18))
        payload = f"{token.key_id}.{token.expires_at}.{token.nonce}"
        return f"{payload}.{self._sign(payload)}", token

    def verify(self, value: str | None, now: float | None = None) -> SessionToken | None:
        """What a token holds when it is well formed, signed by us, unexpired and not signed
        out; else ``None``."""
        if not value:
            return None
        m = self._TOKEN.match(value)
        if m is None:
            return None
        key_id, expires, nonce, sig = m.groups()
        if not hmac.compare_digest(self._sign(f"{key_id}.{expires}.{nonce}"), sig):
            return None
        now = time.time() if now is None else now
        if int(expires) <= now or self.ended(nonce):
            return None
        return SessionToken(key_id, int(expires), nonce)

    def end(self, token: SessionToken) -> None:
        """Sign out: the token is refused from now on."""
        with self._lock:
            now = time.time()
            self._ended = {n: t for n, t in self._ended.items() if t > now}  # forget expired
            self._ended[token.nonce] = token.expires_at

    def ended(self, nonce: str) -> bool:
        with self._lock:
            return nonce in self._ended


def _sessions(app) -> Sessions:
    return app.state.sessions


# --- HTTP ---------------------------------------------------------------------------------------


def _store(request: HTTPConnection) -> Store:
    return request.app.state.store


def _lookup(store: Store, key: str | None) -> Principal | None:
    if not key:
        return None
    info = store.lookup_api_key(key.strip())
    if info is None:
        return None
    return Principal(key_id=info.id, role=info.role, agent_id=info.agent_id)


def session_principal(conn: HTTPConnection) -> Principal | None:
    """The principal of the connection's session cookie, if it is valid and its key is not
    revoked. Blocking (database)."""
    token = _sessions(conn.app).verify(conn.cookies.get(SESSION_COOKIE))
    if token is None:
        return None
    info = _store(conn).get_api_key(token.key_id)
    if info is None or info.revoked:
        return None
    return Principal(
        key_id=info.id,
        role=info.role,
        agent_id=info.agent_id,
        session=token.nonce,
        expires_at=float(token.expires_at),
    )


def authenticate(
    request: Request,
    bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
    header_key: str | None = Depends(_header),
) -> Principal:
    """The caller's principal (key header or session cookie), or 401."""
    key = (bearer.credentials if bearer else None) or header_key
    if key is not None:
        principal = _lookup(_store(request), key)
        detail = "missing or unknown API key"
    else:
        principal = session_principal(request)
        detail = "an API key is required (Authorization: Bearer, or sign in)"
        if principal is None and SESSION_COOKIE in request.cookies:
            detail = "the session has ended; sign in again"
        if principal is None and any(p in request.query_params for p in URL_SECRETS):
            detail = (
                "API keys are not accepted in URLs; send Authorization: Bearer <key> or "
                "X-API-Key, or sign in (POST /api/v1/session)"
            )
        if (
            principal is not None
            and request.method not in SAFE_METHODS
            and CSRF_HEADER.lower() not in request.headers
        ):
            raise HTTPException(
                403,
                f"a {request.method} with the session cookie needs the {CSRF_HEADER} header",
            )
    if principal is None:
        raise HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})
    request.state.principal = principal
    return principal


def refuse(request: HTTPConnection, principal: Principal, what: str) -> HTTPException:
    """Log a refusal to the audit log and return the 403 to raise."""
    store = _store(request)
    method = getattr(request, "method", "WS")
    detail = f"{principal.role} key {principal.key_id} may not {what}"
    logger.warning("refused: %s (%s %s)", detail, method, request.url.path)
    store.audit(
        f"{method} {request.url.path}",
        "refused",
        key_id=principal.key_id,
        role=principal.role,
        target=str(request.url.path),
        detail=detail,
    )
    return HTTPException(status_code=403, detail=detail)


def require_roles(*roles: str):
    """Dependency: the caller must have one of ``roles`` (403 otherwise, logged)."""

    def check(request: Request, principal: Principal = Depends(authenticate)) -> Principal:
        if principal.role not in roles:
            raise refuse(request, principal, f"use {request.method} {request.url.path}")
        return principal

    return check


def check_agent_access(request: Request, principal: Principal, agent_id: str | None) -> None:
    """403 (logged) unless ``principal`` may see calls of ``agent_id``."""
    if not principal.can_see_agent(agent_id):
        raise refuse(request, principal, "see another agent's calls")


# --- WebSockets ---------------------------------------------------------------------------------


def ws_key(websocket: WebSocket) -> str | None:
    """The API key a WebSocket client sent in a header: ``X-API-Key`` or ``Authorization:
    Bearer``. (Never from the URL.)"""
    key = websocket.headers.get("x-api-key")
    auth = websocket.headers.get("authorization", "")
    if not key and auth.lower().startswith("bearer "):
        key = auth[7:]
    return key or None


def same_origin(websocket: WebSocket) -> bool:
    """Whether a browser's ``Origin`` (if any) is this server: a cookie-authenticated socket
    opened by another site's page is refused (cross-site WebSocket hijacking)."""
    origin = websocket.headers.get("origin")
    if not origin:
        return True
    return urlsplit(origin).netloc.lower() == websocket.headers.get("host", "").lower()


def ws_principal(websocket: WebSocket, key: str | None, roles: tuple[str, ...]) -> Principal | None:
    """The principal of ``key`` (or, without one, of a same-origin session cookie) if any; a
    known principal whose role is not in ``roles`` is written to the audit log as refused.
    Blocking (database): call it from a worker thread."""
    if key is not None:
        principal = _lookup(websocket.app.state.store, key)
    elif same_origin(websocket):
        principal = session_principal(websocket)
    else:
        principal = None
    if principal is not None and principal.role not in roles:
        websocket.app.state.store.audit(
            f"WS {websocket.url.path}",
            "refused",
            key_id=principal.key_id,
            role=principal.role,
            target=str(websocket.url.path),
            detail=f"{principal.role} may not use {websocket.url.path}",
        )
    return principal


async def authenticate_ws(websocket: WebSocket, roles: tuple[str, ...] = ALL_ROLES):
    """The principal of a WebSocket client (key header or session cookie), or ``None`` after
    closing the socket with 4401 (no or unknown key) or 4403 (role not allowed, logged)."""
    key = ws_key(websocket)
    principal = await to_thread.run_sync(ws_principal, websocket, key, roles)
    if principal is None:
        await websocket.close(code=4401, reason="missing or unknown API key")
        return None
    if principal.role not in roles:
        await websocket.close(code=4403, reason=f"{principal.role} keys may not use this")
        return None
    return principal


# --- open connections ---------------------------------------------------------------------------


def principal_problem(app, principal: Principal, now: float | None = None) -> str | None:
    """Why ``principal`` may no longer be served (revoked key, expired or signed-out session),
    or ``None`` while it is valid. Blocking (database)."""
    now = time.time() if now is None else now
    if principal.expires_at is not None and now >= principal.expires_at:
        return "the session has expired; sign in again"
    if principal.session is not None and _sessions(app).ended(principal.session):
        return "the session was signed out"
    info = app.state.store.get_api_key(principal.key_id)
    if info is None or info.revoked:
        return f"key {principal.key_id} was revoked"
    return None


class KeyGuard:
    """Checks an open connection's principal again every ``interval_s`` seconds.

    ``await guard.problem()`` is cheap between checks (no database); once due it asks the
    store (in a worker thread) and returns why the connection must close, or ``None``.
    """

    def __init__(self, app, principal: Principal | None, interval_s: float) -> None:
        self.app = app
        self.principal = principal
        self.interval_s = interval_s
        self._next = time.monotonic() + interval_s

    def due_in(self) -> float:
        """Seconds until the next check (0 when due)."""
        return max(0.0, self._next - time.monotonic())

    def watch(self, principal: Principal) -> None:
        """Start checking ``principal`` (a key that arrived after the socket opened)."""
        self.principal = principal
        self._next = time.monotonic() + self.interval_s

    async def problem(self) -> str | None:
        if self.principal is None or time.monotonic() < self._next:
            return None
        self._next = time.monotonic() + self.interval_s
        problem = await to_thread.run_sync(principal_problem, self.app, self.principal)
        if problem is not None:
            logger.info("closing a live connection of key %s: %s", self.principal.key_id, problem)
        return problem


def key_guard(app, principal: Principal | None) -> KeyGuard:
    return KeyGuard(app, principal, app.state.settings.server.auth_recheck_s)


# --- logs ---------------------------------------------------------------------------------------

_URL_SECRET = re.compile(r"(?i)([?&](?:" + "|".join(URL_SECRETS) + r")=)[^&#\s\"']*")


def redact_url_secrets(text: str) -> str:
    """``text`` with the value of every ``key=``/``token=``-like query parameter replaced."""
    return _URL_SECRET.sub(r"\1[redacted]", text)


class RedactSecretsFilter(logging.Filter):
    """A log filter (uvicorn's access and error logs) that redacts secrets in query strings, in
    case a client puts a key in a URL anyway."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_url_secrets(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_url_secrets(a) if isinstance(a, str) else a for a in record.args
            )
        elif isinstance(record.args, dict):
            record.args = {
                k: redact_url_secrets(v) if isinstance(v, str) else v
                for k, v in record.args.items()
            }
        return True


def install_log_redaction() -> None:
    """Add :class:`RedactSecretsFilter` to uvicorn's loggers (once)."""
    for name in ("uvicorn.access", "uvicorn.error", "uvicorn"):
        log = logging.getLogger(name)
        if not any(isinstance(f, RedactSecretsFilter) for f in log.filters):
            log.addFilter(RedactSecretsFilter())
