"""The live feed: the calls in progress (``GET /api/v1/live/calls``, ``/calls/{call_id}``)
and their events, as Server-Sent Events (``GET /api/v1/live/events``) or over
``WS /api/v1/live/feed``."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import suppress
from typing import Any

from fastapi import Depends, HTTPException, Query, Request, WebSocket
from fastapi.responses import StreamingResponse
from starlette.websockets import WebSocketDisconnect, WebSocketState

from calmline.api.auth import Principal, authenticate, authenticate_ws, key_guard, refuse
from calmline.api.live.base import FEED_ROLES, KEEPALIVE_S, router
from calmline.api.live.hub import LiveHub, hub_of
from calmline.pipelines.live import EVENT_TYPES


def _types(types: str | None) -> frozenset[str] | None:
    if not types:
        return None
    chosen = frozenset(t.strip() for t in types.split(",") if t.strip())
    unknown = chosen - set(EVENT_TYPES)
    if unknown:
        raise HTTPException(422, f"unknown event type(s) {sorted(unknown)}; known: {EVENT_TYPES}")
    return chosen


def _check_call(request_or_ws: Any, hub: LiveHub, principal: Principal, call_id: str | None):
    if call_id is None:
        return
    agent_id = hub.agent_of(call_id)
    if agent_id is not None and not principal.can_see_agent(agent_id):
        raise refuse(request_or_ws, principal, "see another agent's calls")


@router.get("/calls")
def live_calls(request: Request, principal: Principal = Depends(authenticate)) -> dict[str, Any]:
    """Calls in progress: agent, duration, running metrics, alert counts."""
    hub = hub_of(request.app)
    items = hub.list_calls(principal)
    return {"items": items, "total": len(items), "stats": hub.pipeline.stats()}


@router.get("/calls/{call_id}")
def live_call(
    request: Request, call_id: str, principal: Principal = Depends(authenticate)
) -> dict[str, Any]:
    """One call in progress with its transcript so far."""
    hub = hub_of(request.app)
    detail = hub.detail(call_id)
    if detail is None:
        raise HTTPException(404, f"call {call_id!r} is not live")
    if not principal.can_see_agent(detail["agent_id"]):
        raise refuse(request, principal, "see another agent's calls")
    return detail


@router.get("/events")
async def live_events(
    request: Request,
    call_id: str | None = Query(None, description="Only this call (default: every live call)."),
    types: str | None = Query(None, description="Comma-separated event types (default: all)."),
    principal: Principal = Depends(authenticate),
) -> StreamingResponse:
    """Server-Sent Events: a ``snapshot`` first, then every event as it happens
    (``event: <type>``, ``data: <json>``, ``id: <call_id>:<seq>``)."""
    hub = hub_of(request.app)
    chosen = _types(types)
    _check_call(request, hub, principal, call_id)
    sub = hub.subscribe(principal, call_id, chosen)
    snapshot = hub.snapshot(principal, call_id)

    guard = key_guard(request.app, principal)

    async def stream() -> AsyncIterator[bytes]:
        sent_at = time.monotonic()
        try:
            yield _sse(snapshot)
            while True:
                wait = min(KEEPALIVE_S - (time.monotonic() - sent_at), guard.due_in())
                event = await sub.next(timeout=max(0.0, wait))
                problem = await guard.problem()
                if problem is not None:  # the key was revoked: the feed ends
                    yield _sse({"type": "closed", "detail": problem})
                    return
                if event is not None:
                    yield _sse(event, dropped=sub.dropped)
                elif time.monotonic() - sent_at >= KEEPALIVE_S:
                    if await request.is_disconnected():
                        return
                    yield b": keep-alive\n\n"
                else:
                    continue
                sent_at = time.monotonic()
        finally:
            hub.unsubscribe(sub)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _sse(event: dict[str, Any], dropped: int = 0) -> bytes:
    if dropped:
        event = {**event, "dropped_before": dropped}
    lines = [f"event: {event['type']}"]
    if "seq" in event:
        lines.append(f"id: {event['call_id']}:{event['seq']}")
    lines.append("data: " + json.dumps(event, ensure_ascii=False, separators=(",", ":")))
    return ("\n".join(lines) + "\n\n").encode()


@router.websocket("/feed")
async def live_feed(ws: WebSocket) -> None:
    """WebSocket feed: the same messages as the SSE feed, one JSON object per frame."""
    principal = await authenticate_ws(ws, FEED_ROLES)
    if principal is None:
        return
    hub = getattr(ws.app.state, "live", None)
    call_id = ws.query_params.get("call_id") or None
    try:
        chosen = _types(ws.query_params.get("types"))
    except HTTPException as e:
        await ws.close(4422, str(e.detail)[:120])
        return
    if hub is None:
        await ws.close(1013, "live calls are not available")
        return
    if call_id is not None:
        agent_id = hub.agent_of(call_id)
        if agent_id is not None and not principal.can_see_agent(agent_id):
            await ws.close(4403, "agent keys may only follow their own calls")
            return
    await ws.accept()
    sub = hub.subscribe(principal, call_id, chosen)
    sent_at = time.monotonic()

    async def drain_client() -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return

    reader = asyncio.create_task(drain_client())
    guard = key_guard(ws.app, principal)
    try:
        await ws.send_json(hub.snapshot(principal, call_id))
        while not reader.done():
            await asyncio.wait(
                {sub.pending(), reader},
                timeout=min(KEEPALIVE_S, guard.due_in()),
                return_when=asyncio.FIRST_COMPLETED,
            )
            problem = await guard.problem()
            if problem is not None:  # the key was revoked: the feed ends
                await ws.send_json({"type": "closed", "detail": problem})
                await ws.close(4401, problem[:120])
                return
            # taken only now: the event may have arrived while the key was checked
            event = sub.take()
            if event is not None:
                if sub.dropped:
                    event = {**event, "dropped_before": sub.dropped}
                await ws.send_json(event)
                sent_at = time.monotonic()
            elif time.monotonic() - sent_at >= KEEPALIVE_S and not reader.done():
                await ws.send_json({"type": "keepalive"})
                sent_at = time.monotonic()
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        reader.cancel()
        hub.unsubscribe(sub)
        if ws.client_state == WebSocketState.CONNECTED:
            with suppress(RuntimeError):
                await ws.close()
