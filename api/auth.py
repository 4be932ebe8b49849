"""API keys and roles.

A key is sent as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``; WebSockets and
EventSource, which cannot set headers from a browser, may use the ``key`` query parameter.
Keys are stored hashed (``calmline.monitor.store``). Roles:

- ``admin``: everything, including keys and re-scoring.
- ``qa_lead``: every call, report, export and re-scoring.
- ``supervisor``: every call and report, uploads, the live feed.
- ``agent``: only the calls and feedback of the agent id the key is bound to.

Refusals are 401 (no or unknown key) or 403 (role not allowed), and 403s are written to the
audit log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from anyio import to_thread
from fastapi import Depends, HTTPException, Request, WebSocket
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from calmline.monitor.store import Store

logger = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`.")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key.")

ALL_ROLES = ("admin", "qa_lead", "supervisor", "agent")
STAFF = ("admin", "qa_lead", "supervisor")
"""Roles that see every agent's calls."""


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str
    role: str
    agent_id: str | None = None

    def can_see_agent(self, agent_id: str | None) -> bool:
        return self.role != "agent" or (agent_id is not None and agent_id == self.agent_id)


def _store(request: Request) -> Store:
    return request.app.state.store


def _lookup(store: Store, key: str | None) -> Principal | None:
    if not key:
        return None
    info = store.lookup_api_key(key.strip())
    if info is None:
        return None
    return Principal(key_id=info.id, role=info.role, agent_id=info.agent_id)


def authenticate(
    request: Request,
    bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
    header_key: str | None = Depends(_header),
) -> Principal:
    """The caller's principal, or 401."""
    key = (bearer.credentials if bearer else None) or header_key
    if key is None and request.url.path.startswith(("/api/v1/live/", "/api/v1/calls/")):
        # EventSource and <audio src> cannot send headers
        key = request.query_params.get("key")
    principal = _lookup(_store(request), key)
    if principal is None:
        raise HTTPException(
            status_code=401,
            detail="missing or unknown API key" if key else "an API key is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    request.state.principal = principal
    return principal


def refuse(request: Request, principal: Principal, what: str) -> HTTPException:
    """Log a refusal to the audit log and return the 403 to raise."""
    store = _store(request)
    detail = f"{principal.role} key {principal.key_id} may not {what}"
    logger.warning("refused: %s (%s %s)", detail, request.method, request.url.path)
    store.audit(
        f"{request.method} {request.url.path}",
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


def ws_key(websocket: WebSocket) -> str | None:
    """The API key a WebSocket client sent: ``X-API-Key``, ``?key=`` or a Bearer header."""
    key = websocket.headers.get("x-api-key") or websocket.query_params.get("key")
    auth = websocket.headers.get("authorization", "")
    if not key and auth.lower().startswith("bearer "):
        key = auth[7:]
    return key or None


def ws_principal(websocket: WebSocket, key: str | None, roles: tuple[str, ...]) -> Principal | None:
    """The principal of ``key`` if its role is one of ``roles``; a known key with another role is
    written to the audit log as refused. Blocking (database): call it from a worker thread."""
    principal = _lookup(websocket.app.state.store, key)
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
    """The principal of a WebSocket client (header or ``?key=``), or ``None`` after closing the
    socket with 4401 (no or unknown key) or 4403 (role not allowed, logged)."""
    key = ws_key(websocket)
    principal = await to_thread.run_sync(ws_principal, websocket, key, roles)
    if principal is None:
        await websocket.close(code=4401, reason="missing or unknown API key")
        return None
    if principal.role not in roles:
        await websocket.close(code=4403, reason=f"{principal.role} keys may not use this")
        return None
    return principal
