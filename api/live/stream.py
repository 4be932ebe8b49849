"""One ingest socket, whatever its protocol: accepting it, its receive loop (key checks, malformed
messages, a vanished client), and decoding media payloads and timestamps."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
import uuid
from collections import deque
from contextlib import suppress
from typing import Any

import numpy as np
from anyio import CapacityLimiter, to_thread
from fastapi import WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from calmline.api.auth import Principal, key_guard
from calmline.api.live.base import MAX_ERRORS, LiveCall, ProtocolError, logger
from calmline.api.live.hub import LiveHub
from calmline.pipelines.live import StreamError, StreamingSession, decode_samples

READ_AHEAD_S = 60.0
"""Audio (s of call time) a socket may read ahead of its call's analysis. Reading goes on while
the analysis catches up, so the socket's keep-alive pings and pongs are never queued behind
the client's audio (a client that sends faster than real time has its whole call in the kernel's
buffers: on 2 busy cores, more than the 20 s a ping may wait). Past it the receive loop waits,
and the client's sends back up. At most this much decoded audio per call is held (60 s of
8 kHz stereo: 3.8 MB)."""
BATCH_S = 1.0
"""Audio (s of call time) handed to the analysis in one thread hop at most. The chunks that
arrived while the previous hop ran go together: a call read in real time still goes chunk by
chunk, one read faster than its analysis in batches (five flooding calls on 2 cores: 55 s of CPU
with a hop per 20 ms chunk and track, 23 s in batches; bench/live_ingest.py)."""


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
        self._queued: deque[tuple[str, np.ndarray, float | None]] = deque()
        """Audio read and not yet analysed: (track, samples, media time)."""
        self._backlog = 0
        """Samples read and not yet analysed (queued or in the hop in progress), all tracks."""
        self._analysis: asyncio.Task | None = None
        self._progress = asyncio.Event()
        self._failure: BaseException | None = None
        """What stopped the analysis (a fatal protocol error, a crash): raised in the loop."""

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
        """Queue one track's chunk for the analysis; waits while the call's backlog is past
        :data:`READ_AHEAD_S`. Raises what stopped the analysis of earlier chunks, if anything
        did."""
        assert self.call is not None
        self._raise_failure()
        self._queued.append((track, samples, t))
        self._backlog += samples.shape[0]
        if self._analysis is None or self._analysis.done():
            self._analysis = asyncio.create_task(self._analyse())
        bound = READ_AHEAD_S * self.call.session.meta.sample_rate * len(self.call.session.tracks)
        while self._backlog > bound and not self._analysis.done():
            self._progress.clear()
            await self._progress.wait()
        self._raise_failure()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure

    async def _analyse(self) -> None:
        """Hand the queued chunks to the session, up to :data:`BATCH_S` per thread hop, until
        none is left. A timestamp jump is told as an error and the stream goes on; a fatal error
        (a closed call, one past the longest accepted) stops the analysis for the loop to raise."""
        assert self.call is not None
        session = self.call.session
        most = BATCH_S * session.meta.sample_rate * len(session.tracks)
        try:
            while self._queued and self._failure is None:
                batch, size = [], 0
                while self._queued and (not batch or size < most):
                    batch.append(self._queued.popleft())
                    size += batch[-1][1].shape[0]
                warnings, failure = await to_thread.run_sync(
                    _analyse_batch, session, batch, limiter=_analysis_limiter(self.ws.app)
                )
                self._backlog -= size
                self._progress.set()
                for detail in warnings:
                    if self.errors + 1 >= MAX_ERRORS:  # the last one closes the stream
                        failure = failure or ProtocolError(detail)
                        break
                    await self.error(detail)
                if failure is not None:
                    self._failure = failure
        except Exception as e:  # raised in the loop, which logs it and closes the stream
            self._failure = e
        finally:
            self._progress.set()

    async def _drained(self) -> None:
        """Wait until the queued audio is analysed (or its analysis stopped)."""
        while self._analysis is not None and not self._analysis.done():
            await asyncio.shield(self._analysis)

    async def stop(self) -> None:
        if self.call is None:
            raise ProtocolError("stop before start: nothing to stop")
        await self._drained()
        self._raise_failure()
        self.stopped = True
        result = await self.hub.finish(self.call, incomplete=False)
        await self.send({"type": "stopped", **(result or {})})

    async def vanished(self, reason: str) -> None:
        if self.call is not None and not self.stopped:
            self.stopped = True
            await self._drained()  # the audio read before the end is kept
            await self.hub.finish(self.call, incomplete=True, reason=reason)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self.ws.client_state == WebSocketState.CONNECTED:
            with suppress(RuntimeError):
                await self.ws.close(code=code, reason=reason)


def _analysis_limiter(app) -> CapacityLimiter:
    """The server's ``live.analysis_threads`` limiter, made in its event loop on first use."""
    limiter = getattr(app.state, "live_analysis_limiter", None)
    if limiter is None:
        threads = app.state.settings.live.analysis_threads
        limiter = app.state.live_analysis_limiter = CapacityLimiter(threads)
    return limiter


def _analyse_batch(
    session: StreamingSession, batch: list[tuple[str, np.ndarray, float | None]]
) -> tuple[list[str], ProtocolError | None]:
    """Add queued chunks to ``session`` in order (on a worker thread): the timestamp-jump
    warnings they raised, and the fatal error that stopped them, if one did."""
    warnings: list[str] = []
    for track, samples, t in batch:
        jumps, _ = session.timestamp_jumps(track)
        try:
            session.accept(track, samples, t)
        except StreamError as e:
            fatal = session.closed or "longest accepted" in str(e)
            if fatal:
                return warnings, ProtocolError(str(e), fatal=True)
            warnings.append(str(e))
            continue
        now, warning = session.timestamp_jumps(track)
        if now > jumps and warning:  # a protocol problem of the client's, told like one
            warnings.append(f"media: {warning}")
    return warnings, None


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
