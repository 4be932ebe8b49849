"""One ingest socket, whatever its protocol: accepting it, its receive loop (key checks, malformed
messages, a vanished client), and decoding media payloads and timestamps."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
import uuid
from contextlib import suppress
from typing import Any

import numpy as np
from anyio import to_thread
from fastapi import WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from calmline.api.auth import Principal, key_guard
from calmline.api.live.base import MAX_ERRORS, LiveCall, ProtocolError, logger
from calmline.api.live.hub import LiveHub
from calmline.pipelines.live import StreamError, decode_samples


async def accept_ingest(ws: WebSocket) -> LiveHub | None:
    """Accept an ingest socket: the live hub, or ``None`` after closing it with 1013 (no hub:
    the server is starting or stopping)."""
    hub = getattr(ws.app.state, "live", None)
    await ws.accept()
    if hub is None:
        await ws.close(1013, "live calls are not available")
    return hub


class IngestStream:
    """One ingest connection: protocol state and error accounting."""

    def __init__(self, ws: WebSocket, hub: LiveHub, principal: Principal | None) -> None:
        self.ws = ws
        self.hub = hub
        self.principal = principal
        self.call: LiveCall | None = None
        self.channels = 0
        self.track_names: list[str] = []
        self.encoding = "pcm16"
        self.errors = 0
        self.stopped = False
        self.guard = key_guard(ws.app, principal)
        self.opened = time.monotonic()

    async def send(self, message: dict[str, Any]) -> None:
        if self.ws.client_state == WebSocketState.CONNECTED:
            with suppress(WebSocketDisconnect, RuntimeError):
                await self.ws.send_json(message)

    async def error(self, detail: str) -> None:
        self.errors += 1
        error_id = f"err_{uuid.uuid4().hex[:12]}"
        logger.info("live stream error %s: %s", error_id, detail)
        await self.send({"type": "error", "detail": detail, "error_id": error_id})

    async def accept(self, track: str, samples: np.ndarray, t: float | None) -> None:
        assert self.call is not None
        session = self.call.session
        jumps, _ = session.timestamp_jumps(track)
        try:
            await to_thread.run_sync(session.accept, track, samples, t)
        except StreamError as e:
            raise ProtocolError(str(e), fatal=session.closed or "longest accepted" in str(e)) from e
        now, warning = session.timestamp_jumps(track)
        if now > jumps and warning:  # a protocol problem of the client's, told like one
            raise ProtocolError(f"media: {warning}")

    async def stop(self) -> None:
        if self.call is None:
            raise ProtocolError("stop before start: nothing to stop")
        self.stopped = True
        result = await self.hub.finish(self.call, incomplete=False)
        await self.send({"type": "stopped", **(result or {})})

    async def vanished(self, reason: str) -> None:
        if self.call is not None and not self.stopped:
            self.stopped = True
            await self.hub.finish(self.call, incomplete=True, reason=reason)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self.ws.client_state == WebSocketState.CONNECTED:
            with suppress(RuntimeError):
                await self.ws.close(code=code, reason=reason)


async def _receive(stream: IngestStream, key_timeout_s: float) -> dict[str, Any] | None:
    """The next message, or ``None`` when the key must be checked first (its re-check is due,
    or a socket without a key has waited long enough)."""
    if stream.principal is not None:
        wait = stream.guard.due_in()
    else:
        wait = max(0.0, stream.opened + key_timeout_s - time.monotonic())
    try:
        return await asyncio.wait_for(stream.ws.receive(), timeout=wait)
    except TimeoutError:
        return None


async def _key_problem(stream: IngestStream, key_timeout_s: float) -> tuple[str, int] | None:
    """Why the stream must close now (revoked key, no key in time) and the close code."""
    problem = await stream.guard.problem()
    if problem is not None:
        return problem, 4401
    if stream.principal is None and time.monotonic() - stream.opened >= key_timeout_s:
        return f"no key within {key_timeout_s:g} s (send customParameters.key)", 1008
    return None


async def serve(stream: IngestStream, handle_text, handle_bytes) -> None:
    """Receive loop shared by both protocols."""
    ws = stream.ws
    key_timeout_s = ws.app.state.settings.live.key_timeout_s
    try:
        while not stream.stopped:
            message = await _receive(stream, key_timeout_s)
            closing = await _key_problem(stream, key_timeout_s)
            if closing is not None:
                detail, code = closing
                await stream.error(detail)
                await stream.vanished(f"stream closed: {detail}")
                await stream.close(code, detail[:120])
                return
            if message is None:
                continue
            if message["type"] == "websocket.disconnect":
                await stream.vanished("the client disconnected without a stop message")
                return
            try:
                if message.get("text") is not None:
                    try:
                        data = json.loads(message["text"])
                    except ValueError as e:
                        raise ProtocolError(f"not JSON: {e}") from e
                    if not isinstance(data, dict):
                        raise ProtocolError("a message must be a JSON object")
                    await handle_text(data)
                elif message.get("bytes") is not None:
                    await handle_bytes(message["bytes"])
            except ProtocolError as e:
                await stream.error(e.detail)
                if e.fatal or stream.errors >= MAX_ERRORS:
                    await stream.vanished(f"stream closed after an error: {e.detail}")
                    await stream.close(e.code, e.detail[:120])
                    return
        await stream.close(1000, "stopped")
    except WebSocketDisconnect:
        await stream.vanished("the client disconnected without a stop message")
    except Exception:
        logger.exception("live stream failed")
        await stream.vanished("the stream failed on the server")
        await stream.close(1011, "internal error")


def decode_payload(payload: Any, encoding: str) -> np.ndarray:
    if not isinstance(payload, str):
        raise ProtocolError("media: payload must be a base64 string")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ProtocolError(f"media: payload is not base64 ({e})") from e
    try:
        return decode_samples(raw, encoding, 1)[0]
    except StreamError as e:
        raise ProtocolError(f"media: {e}") from e


def media_timestamp(value: Any, per_second: float) -> float | None:
    if value is None:
        return None
    try:
        t = float(value) / per_second
    except (TypeError, ValueError) as e:
        raise ProtocolError(f"media: timestamp {value!r} is not a number") from e
    if not t >= 0 or t > 1e7:
        raise ProtocolError(f"media: timestamp {value!r} is out of range")
    return t
