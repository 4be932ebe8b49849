"""Live calls: WebSocket ingest (raw PCM / mu-law, and Twilio Media Streams) and the live feed.

Ingest (roles ``admin`` and ``supervisor``):

- ``WS /api/v1/live/ingest``: a JSON ``start`` message (call and agent ids, sample rate,
  ``pcm16`` or ``mulaw``, channel map), then binary frames of interleaved samples (or JSON
  ``media`` messages with a track, a timestamp and base64 samples), then ``stop``.
- ``WS /api/v1/live/twilio``: the Twilio Media Streams protocol (``connected``, ``start`` with
  ``tracks`` and ``customParameters``, ``media`` with base64 8 kHz mu-law and timestamps,
  ``stop``), so a ``<Stream>`` can point at Calmline as it is. Twilio cannot add headers to
  the stream URL, so the key may also come as the custom parameter ``key`` (inside the
  ``start`` message, not the URL); a socket that has sent no key within
  ``live.key_timeout_s`` is closed.

Keys come in headers (or the pages' session cookie), never in the URL. Every open ingest socket
and feed checks its key again every ``server.auth_recheck_s`` seconds and closes once the key
is revoked (an ingest call is then stored as incomplete, like a vanished client).

Malformed messages get an ``{"type": "error", "detail", "error_id"}`` frame and the stream goes
on; a stream that ends without ``stop`` (the client vanished) still yields a report of what was
received, marked incomplete. Every ended call is stored like an uploaded one (source ``live``):
a WAV of the received audio and its report.

Feed (every role; an agent key sees only its own calls): ``GET /api/v1/live/events`` (Server-Sent
Events) and ``WS /api/v1/live/feed``, for all live calls or one (``call_id``), optionally only
some event ``types``; ``GET /api/v1/live/calls`` lists the calls in progress and
``GET /api/v1/live/calls/{call_id}`` gives one with its transcript so far. Event types and
payloads: ``docs/live.md``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

import numpy as np
from anyio import to_thread
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, WebSocket
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.websockets import WebSocketDisconnect, WebSocketState

from calmline.api.alerts import AlertKeeper
from calmline.api.auth import (
    Principal,
    authenticate,
    authenticate_ws,
    key_guard,
    refuse,
    ws_key,
    ws_principal,
)
from calmline.api.livebus import open_bus
from calmline.api.livereplicas import RemoteCalls
from calmline.monitor.store import Store
from calmline.pipelines.jobs import analyze_params
from calmline.pipelines.streaming import (
    EVENT_TYPES,
    CallMeta,
    LiveEvent,
    StreamError,
    StreamingOptions,
    StreamingPipeline,
    StreamingSession,
    decode_samples,
)

logger = logging.getLogger("calmline.api.live")

router = APIRouter(prefix="/api/v1/live", tags=["live"])

INGEST_ROLES = ("admin", "supervisor")
"""Roles that may stream calls in."""
FEED_ROLES = ("admin", "qa_lead", "supervisor", "agent")
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")
MAX_ERRORS = 50
"""Malformed messages tolerated on one stream before it is closed (policy violation)."""
SUBSCRIBER_QUEUE = 2000
"""Events held for a slow subscriber; beyond it the oldest are dropped (it is told how many)."""
KEEPALIVE_S = 15.0
HEARTBEAT = "replica"
"""Type of a replica's heartbeat on the bus (the calls it holds); never sent to subscribers."""


# --- messages ------------------------------------------------------------------------------------


class RawStart(BaseModel):
    """The first message of a raw stream."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(pattern="^start$")
    call_id: str | None = Field(None, description="Default: generated.")
    agent_id: str
    sample_rate: int = Field(8000, ge=4000, le=48000)
    encoding: str = Field("pcm16", pattern="^(pcm16|mulaw)$")
    channels: int | None = Field(None, ge=1, le=2, description="Default: the channel map's size.")
    channel_map: dict[str, str] | None = Field(
        None,
        description='Channel -> party, e.g. {"0": "agent", "1": "customer"} (the default for '
        'two channels); {"0": "mixed"} for both parties on one channel (the default for one).',
    )
    language: str | None = Field(None, pattern="^(auto|zh|en)$")
    started_at: datetime | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("call_id", "agent_id")
    @classmethod
    def _ids(cls, v: str | None) -> str | None:
        if v is not None and not ID_RE.match(v):
            raise ValueError("ids are letters, digits and ._:@- (up to 128 characters)")
        return v


class _Error(Exception):
    """A malformed message: told to the client, the stream goes on unless ``fatal``."""

    def __init__(self, detail: str, fatal: bool = False, code: int = 1008) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fatal = fatal
        self.code = code  # the close code when fatal


# --- the hub -------------------------------------------------------------------------------------


@dataclass(eq=False)
class Subscriber:
    principal: Principal
    call_id: str | None
    types: frozenset[str] | None
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(SUBSCRIBER_QUEUE))
    dropped: int = 0

    def wants(self, event: dict[str, Any]) -> bool:
        if self.call_id is not None and event.get("call_id") != self.call_id:
            return False
        if self.types is not None and event.get("type") not in self.types:
            return False
        return self.principal.can_see_agent(event.get("agent_id"))

    _getter: asyncio.Task | None = None

    def put(self, event: dict[str, Any]) -> None:
        if self.queue.full():  # a slow reader loses its oldest events, never stalls the rest
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)

    def pending(self) -> asyncio.Task:
        """The task that takes the next event. It outlives a wait that timed out (and any await
        after it), so an event it has taken is handed over by :meth:`take`, never lost."""
        if self._getter is None:
            self._getter = asyncio.ensure_future(self.queue.get())
        return self._getter

    def take(self) -> dict[str, Any] | None:
        """The event the pending task has taken, or None while it has none yet."""
        if self._getter is None or not self._getter.done():
            return None
        getter, self._getter = self._getter, None
        return getter.result()

    async def next(self, timeout: float) -> dict[str, Any] | None:
        """The next event, or None when none came within ``timeout`` seconds."""
        await asyncio.wait({self.pending()}, timeout=timeout)
        return self.take()

    def close(self) -> None:
        if self._getter is not None:
            self._getter.cancel()
            self._getter = None


@dataclass(eq=False)
class LiveCall:
    session: StreamingSession
    source: str
    """``raw`` or ``twilio``."""
    key_id: str
    started_at: datetime
    metadata: dict[str, Any]
    finishing: bool = False
    finished: asyncio.Event = field(default_factory=asyncio.Event)


class LiveHub:
    """The server's live calls and feed subscribers.

    Sessions emit events from their own threads; the hub hands them to the event loop, which
    fans them out to subscriber queues, and to the bus (``calmline.api.livebus``), which takes
    them to the other replicas. Their events come back from the bus into the same fan-out, and
    the hub keeps those calls' state from them (``calmline.api.livereplicas``), so every
    replica lists and shows every call; a call's audio and session stay on the replica that
    holds its socket.
    """

    def __init__(self, app: FastAPI, loop: asyncio.AbstractEventLoop) -> None:
        self.app = app
        self.loop = loop
        self.store: Store = app.state.store
        live = app.state.settings.live
        self.max_calls = live.max_calls
        self.pipeline = StreamingPipeline(
            app.state.settings,
            batch=app.state.pipeline,
            options=StreamingOptions(
                reorder_window_s=live.reorder_window_s,
                max_utterance_s=live.max_utterance_s,
                acoustic_alerts=live.acoustic_alerts,
            ),
        )
        self.calls: dict[str, LiveCall] = {}
        self.subscribers: set[Subscriber] = set()
        self._lock = asyncio.Lock()
        self.alerts = AlertKeeper(self.store, app.state.settings.alerts)
        self.bus = open_bus(live.bus, app.state.settings.storage.resolved_database_url())
        self.remote = RemoteCalls(live.replica_timeout_s)
        """Calls live on other replicas."""
        self._publishing = threading.Lock()
        self.heartbeat_s = live.heartbeat_s

    # events

    def publish(self, event: LiveEvent, source: str | None = None) -> None:
        """Thread-safe: called by sessions from any thread. Alerts are stored (and marked with
        their ``alert_id``) before any subscriber sees them (``calmline.api.alerts``); the
        replica that holds the call stores them, the others get them marked.
        ``call_started`` gains the call's ``source`` (what other replicas list)."""
        data = event.to_dict()
        if data["type"] == "call_started" and source is not None:
            data["data"] = {**data["data"], "source": source}
        data = self.alerts.handle(data)
        with self._publishing:  # this replica's feeds and the others' get one order
            with suppress(RuntimeError):  # a closed loop: the server is going down
                self.loop.call_soon_threadsafe(self._fan_out, data)
            self.bus.publish(data)

    def receive(self, event: dict[str, Any], replica: str) -> None:
        """Thread-safe: called by the bus with another replica's event."""
        with suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self._remote_event, event, replica)

    def _remote_event(self, event: dict[str, Any], replica: str) -> None:
        if event.get("type") == HEARTBEAT:
            self.remote.heartbeat(replica, event.get("calls"), self.calls)
            return
        if event.get("call_id") not in self.calls:
            self.remote.event(event, replica)
        self._fan_out(event)

    async def beat(self) -> None:
        """Every ``live.heartbeat_s``: tell the other replicas which calls this one holds (a
        replica that started late learns them so), and drop their calls gone quiet."""
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                if self.bus.remote:
                    calls = list(self.calls.values())
                    summaries = await to_thread.run_sync(
                        lambda calls=calls: [self.call_summary(c) for c in calls]
                    )
                    self.bus.publish({"type": HEARTBEAT, "calls": summaries})
                for lost in self.remote.expire():
                    self._fan_out(lost)
            except Exception:
                logger.exception("live heartbeat failed")

    def _fan_out(self, data: dict[str, Any]) -> None:
        for sub in list(self.subscribers):
            if sub.wants(data):
                sub.put(data)

    def subscribe(
        self, principal: Principal, call_id: str | None, types: frozenset[str] | None
    ) -> Subscriber:
        sub = Subscriber(principal, call_id, types)
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)
        sub.close()

    def snapshot(self, principal: Principal, call_id: str | None) -> dict[str, Any]:
        if call_id is not None:
            agent_id = self.agent_of(call_id)
            visible = agent_id is not None and principal.can_see_agent(agent_id)
            return {
                "type": "snapshot",
                "call_id": call_id,
                "call": self.detail(call_id) if visible else None,
            }
        return {"type": "snapshot", "calls": self.list_calls(principal)}

    def list_calls(self, principal: Principal) -> list[dict[str, Any]]:
        """Every replica's calls that ``principal`` may see."""
        local = [
            self.call_summary(c)
            for c in list(self.calls.values())
            if principal.can_see_agent(c.session.agent_id)
        ]
        remote = [
            dict(rc.summary)
            for rc in self.remote.calls()
            if rc.agent_id is not None and principal.can_see_agent(rc.agent_id)
        ]
        return local + remote

    def agent_of(self, call_id: str) -> str | None:
        """The agent of a call live on any replica, ``None`` when it is not live."""
        call = self.calls.get(call_id)
        return call.session.agent_id if call is not None else self.remote.agent_of(call_id)

    def detail(self, call_id: str) -> dict[str, Any] | None:
        """A call live on any replica with its transcript so far, ``None`` when it is not."""
        call = self.calls.get(call_id)
        return self.call_detail(call) if call is not None else self.remote.detail(call_id)

    def call_summary(self, call: LiveCall) -> dict[str, Any]:
        s = call.session
        metrics = s.metrics()
        return {
            "call_id": s.call_id,
            "agent_id": s.agent_id,
            "source": call.source,
            "started_at": call.started_at.isoformat(),
            "duration_s": metrics["duration"],
            "language": s.language,
            "tracks": dict(s.meta.tracks),
            "metrics": metrics,
            "alerts": metrics["alerts"],
            "ending": call.finishing,
            "replica": self.bus.replica_id,
        }

    def call_detail(self, call: LiveCall) -> dict[str, Any]:
        return {**self.call_summary(call), "transcript": call.session.snapshot()["transcript"]}

    # calls

    async def open(
        self, meta: CallMeta, source: str, principal: Principal, started_at: datetime | None
    ) -> LiveCall:
        async with self._lock:
            live_here_or_there = meta.call_id in self.calls or meta.call_id in self.remote
            if live_here_or_there or await to_thread.run_sync(self.store.call_exists, meta.call_id):
                raise _Error(f"call {meta.call_id!r} exists already; send another call_id")
            if self.max_calls and len(self.calls) >= self.max_calls:
                logger.warning(
                    "live call %s refused: %d calls in progress", meta.call_id, self.max_calls
                )
                raise _Error(
                    f"{len(self.calls)} live calls are in progress, the most this server follows "
                    "(live.max_calls); try again later",
                    fatal=True,
                    code=1013,
                )
            session = await to_thread.run_sync(
                lambda: self.pipeline.open_session(
                    meta, on_event=partial(self.publish, source=source)
                )
            )
            call = LiveCall(
                session=session,
                source=source,
                key_id=principal.key_id,
                started_at=started_at or datetime.now(UTC),
                metadata=dict(meta.metadata),
            )
            self.calls[meta.call_id] = call
        logger.info("live call %s started (%s, agent %s)", meta.call_id, source, meta.agent_id)
        return call

    async def finish(
        self, call: LiveCall, incomplete: bool, reason: str | None = None
    ) -> dict[str, Any] | None:
        """Close the session, store its audio and report, announce the end. Never raises."""
        if call.finishing:
            await call.finished.wait()
            return None
        call.finishing = True
        call_id = call.session.call_id
        try:
            result = await to_thread.run_sync(self._finish_sync, call, incomplete, reason)
        except Exception as e:
            logger.exception("live call %s could not be finished", call_id)
            result = {"call_id": call_id, "stored": False, "detail": str(e)}
        finally:
            self.calls.pop(call_id, None)
            call.finished.set()
        return result

    def _finish_sync(self, call: LiveCall, incomplete: bool, reason: str | None) -> dict[str, Any]:
        session = call.session
        call_id = session.call_id
        report = session.close(incomplete=incomplete, reason=reason, announce=False)
        audio = session.audio()
        # through the audio store, as an upload: a worker on another machine reads it there
        audio_store = self.app.state.audio_store
        uri = audio_store.put_wav(
            call_id,
            "live.wav",
            audio.samples,
            audio.sample_rate,
            spool_dir=self.store.audio_dir / ".incoming",
        )
        report = replace(report, audio=replace(report.audio, path=uri))
        metadata = {
            **call.metadata,
            "live": {
                "source": call.source,
                "tracks": dict(session.meta.tracks),
                "sample_rate": session.meta.sample_rate,
                "encoding": session.meta.encoding,
                "key_id": call.key_id,
            },
        }
        language = session.meta.language
        try:
            self.store.create_call(
                call_id,
                session.agent_id,
                "live",
                started_at=call.started_at,
                metadata=metadata,
                audio_path=uri,
                audio_name="live.wav",
                language=language if language not in (None, "auto") else None,
                status="running",
            )
        except Exception:
            audio_store.delete(uri)  # no call row took it
            raise
        self.store.save_report(call_id, report, incomplete=report.incomplete)
        jobs = getattr(self.app.state, "jobs", None)
        post_call = self.app.state.settings.live.post_call_batch and jobs is not None
        request = session.post_call_request() if post_call and jobs.workers else None
        post_job = None
        if request is not None:
            # the whole recording through the batch pipeline; its report replaces this one
            post_job = self.store.add_job(call_id, "analyze", analyze_params(request))
            jobs.notify()
        elif jobs is not None:
            # metrics, webhooks: as for an upload
            jobs.announce(call_id, session.agent_id, report, key=f"live:{call_id}")
        report_url = f"/api/v1/calls/{call_id}/report"
        session.announce_end({"report_url": report_url, "post_call_job": post_job})
        sc = report.scorecard
        logger.info(
            "live call %s ended after %.1f s%s",
            call_id,
            audio.duration,
            " (incomplete)" if incomplete else "",
        )
        return {
            "call_id": call_id,
            "stored": True,
            "report_url": report_url,
            "post_call_job": post_job,
            "duration": report.metrics.duration,
            "incomplete": report.incomplete,
            "overall": sc.overall if sc else None,
        }

    async def shutdown(self) -> None:
        """Server stopping: every open call is ended as incomplete and stored."""
        for call in list(self.calls.values()):
            await self.finish(call, incomplete=True, reason="the server shut down")
        await to_thread.run_sync(self.pipeline.close)


def mount(app: FastAPI) -> None:
    """Called by ``create_app``: the hub lives inside the app's lifespan (it needs the store
    and the models, and must end open calls before the store closes)."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[Any]:
        async with inner(a) as state:
            hub = LiveHub(a, asyncio.get_running_loop())
            await to_thread.run_sync(hub.bus.start, hub.receive)
            beat = asyncio.create_task(hub.beat())
            a.state.live = hub
            if getattr(a.state, "metrics", None) is not None:
                a.state.metrics.watch_live(hub.pipeline.stats)
            if a.state.settings.server.load_models:
                await to_thread.run_sync(hub.pipeline.warm_up)
            try:
                yield state
            finally:
                await hub.shutdown()  # the calls' ends go out on the bus before it closes
                beat.cancel()
                await to_thread.run_sync(hub.bus.close)

    app.router.lifespan_context = lifespan


def _hub(app: Any) -> LiveHub:
    hub = getattr(app.state, "live", None)
    if hub is None:
        raise HTTPException(503, "live calls are not available (server starting or stopping)")
    return hub


# --- ingest --------------------------------------------------------------------------------------


async def _accept(ws: WebSocket) -> LiveHub | None:
    """Accept an ingest socket: the live hub, or ``None`` after closing it with 1013 (no hub:
    the server is starting or stopping)."""
    hub = getattr(ws.app.state, "live", None)
    await ws.accept()
    if hub is None:
        await ws.close(1013, "live calls are not available")
    return hub


class _Stream:
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
            raise _Error(str(e), fatal=session.closed or "longest accepted" in str(e)) from e
        now, warning = session.timestamp_jumps(track)
        if now > jumps and warning:  # a protocol problem of the client's, told like one
            raise _Error(f"media: {warning}")

    async def stop(self) -> None:
        if self.call is None:
            raise _Error("stop before start: nothing to stop")
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


async def _receive(stream: _Stream, key_timeout_s: float) -> dict[str, Any] | None:
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


async def _key_problem(stream: _Stream, key_timeout_s: float) -> tuple[str, int] | None:
    """Why the stream must close now (revoked key, no key in time) and the close code."""
    problem = await stream.guard.problem()
    if problem is not None:
        return problem, 4401
    if stream.principal is None and time.monotonic() - stream.opened >= key_timeout_s:
        return f"no key within {key_timeout_s:g} s (send customParameters.key)", 1008
    return None


async def _serve(stream: _Stream, handle_text, handle_bytes) -> None:
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
                        raise _Error(f"not JSON: {e}") from e
                    if not isinstance(data, dict):
                        raise _Error("a message must be a JSON object")
                    await handle_text(data)
                elif message.get("bytes") is not None:
                    await handle_bytes(message["bytes"])
            except _Error as e:
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


@router.websocket("/ingest")
async def ingest(ws: WebSocket) -> None:
    """Raw audio of a call: start message, binary frames (or JSON media), stop message."""
    principal = await authenticate_ws(ws, INGEST_ROLES)
    if principal is None:
        return
    hub = await _accept(ws)
    if hub is None:
        return
    stream = _Stream(ws, hub, principal)

    async def on_text(data: dict[str, Any]) -> None:
        kind = data.get("type")
        if kind == "start":
            if stream.call is not None:
                raise _Error("the call has started already")
            try:
                start = RawStart.model_validate(data)
            except ValidationError as e:
                raise _Error(f"bad start message: {_problems(e)}") from e
            channel_map = start.channel_map or (
                {"0": "agent", "1": "customer"} if (start.channels or 2) == 2 else {"0": "mixed"}
            )
            channels = start.channels or len(channel_map)
            if sorted(channel_map) != [str(i) for i in range(channels)]:
                raise _Error(
                    f"channel_map must name channels 0..{channels - 1}, got {sorted(channel_map)}"
                )
            try:
                meta = CallMeta(
                    call_id=start.call_id or f"live-{uuid.uuid4().hex[:12]}",
                    agent_id=start.agent_id,
                    tracks=dict(channel_map),
                    sample_rate=start.sample_rate,
                    encoding=start.encoding,
                    language=start.language,
                    started_at=start.started_at.timestamp() if start.started_at else None,
                    metadata=start.metadata,
                )
            except StreamError as e:
                raise _Error(f"bad start message: {e}") from e
            stream.call = await hub.open(meta, "raw", principal, start.started_at)
            stream.channels = channels
            stream.track_names = [str(i) for i in range(channels)]
            stream.encoding = start.encoding
            await stream.send(
                {"type": "started", "call_id": meta.call_id, "tracks": dict(channel_map)}
            )
        elif kind == "media":
            if stream.call is None:
                raise _Error("send a start message first")
            track = str(data.get("track", ""))
            if track not in stream.track_names:
                raise _Error(f"media: unknown track {track!r}; tracks are {stream.track_names}")
            samples = _payload(data.get("payload"), stream.encoding)
            await stream.accept(track, samples, _timestamp(data.get("timestamp"), 1.0))
        elif kind == "stop":
            await stream.stop()
        else:
            raise _Error(f"unknown message type {kind!r}; expected start, media or stop")

    async def on_bytes(payload: bytes) -> None:
        if stream.call is None:
            raise _Error("send a start message first")
        try:
            x = decode_samples(payload, stream.encoding, stream.channels)
        except StreamError as e:
            raise _Error(str(e)) from e
        for i, track in enumerate(stream.track_names):
            await stream.accept(track, x[i], None)

    await _serve(stream, on_text, on_bytes)


@router.websocket("/twilio")
async def twilio(ws: WebSocket) -> None:
    """Twilio Media Streams: inbound track = customer, outbound = agent (``customParameters``:
    ``agent_id`` (required), ``call_id`` (default: the call SID), ``language``,
    ``agent_track`` = ``inbound`` to swap, ``key`` when the URL cannot carry one)."""
    has_key = ws_key(ws) is not None
    principal = await authenticate_ws(ws, INGEST_ROLES) if has_key else None
    if has_key and principal is None:
        return
    hub = await _accept(ws)
    if hub is None:
        return
    stream = _Stream(ws, hub, principal)
    tracks: dict[str, str] = {}

    async def on_text(data: dict[str, Any]) -> None:
        kind = data.get("event")
        if kind == "connected":
            return
        if kind == "start":
            if stream.call is not None:
                raise _Error("the stream has started already")
            start = data.get("start")
            if not isinstance(start, dict):
                raise _Error("start: the 'start' object is missing")
            params = start.get("customParameters") or {}
            if not isinstance(params, dict):
                raise _Error("start: customParameters must be an object")
            if stream.principal is None:
                stream.principal = await _key_principal(ws, params.get("key"))
                if stream.principal is None:
                    raise _Error("a key is required (header or customParameters.key)", True)
                stream.guard.watch(stream.principal)
            fmt = start.get("mediaFormat") or {}
            encoding = str(fmt.get("encoding", "audio/x-mulaw"))
            if encoding != "audio/x-mulaw":
                raise _Error(f"start: mediaFormat.encoding {encoding!r} is not audio/x-mulaw")
            agent_id = params.get("agent_id")
            call_id = params.get("call_id") or start.get("callSid") or data.get("streamSid")
            for name, value in (("agent_id", agent_id), ("call_id", call_id)):
                if not isinstance(value, str) or not ID_RE.match(value):
                    raise _Error(f"start: customParameters.{name} is missing or not an id")
            names = start.get("tracks") or ["inbound", "outbound"]
            agent_track = params.get("agent_track", "outbound")
            if agent_track not in ("inbound", "outbound"):
                raise _Error("start: agent_track must be inbound or outbound")
            if not isinstance(names, list) or not set(names) <= {"inbound", "outbound"}:
                raise _Error(f"start: tracks must be inbound and/or outbound, got {names!r}")
            tracks.update(
                {n: ("agent" if n == agent_track else "customer") for n in dict.fromkeys(names)}
            )
            language = params.get("language")
            try:
                meta = CallMeta(
                    call_id=call_id,
                    agent_id=agent_id,
                    tracks=dict(tracks),
                    sample_rate=int(fmt.get("sampleRate", 8000)),
                    encoding="mulaw",
                    language=language if language in ("zh", "en", "auto") else None,
                    metadata={
                        **{k: v for k, v in params.items() if k not in ("key", "agent_id")},
                        "twilio": {
                            "callSid": start.get("callSid"),
                            "streamSid": data.get("streamSid"),
                        },
                    },
                )
            except (StreamError, ValueError) as e:
                raise _Error(f"bad start message: {e}") from e
            stream.call = await hub.open(meta, "twilio", stream.principal, None)
            stream.encoding = "mulaw"
        elif kind == "media":
            if stream.call is None:
                raise _Error("media before start")
            media = data.get("media")
            if not isinstance(media, dict):
                raise _Error("media: the 'media' object is missing")
            track = media.get("track", "inbound")
            if track not in tracks:
                raise _Error(f"media: unknown track {track!r}; tracks are {sorted(tracks)}")
            samples = _payload(media.get("payload"), "mulaw")
            await stream.accept(track, samples, _timestamp(media.get("timestamp"), 1000.0))
        elif kind == "stop":
            await stream.stop()
        elif kind in ("mark", "dtmf"):
            return
        else:
            raise _Error(f"unknown event {kind!r}; expected connected, start, media or stop")

    async def on_bytes(payload: bytes) -> None:
        raise _Error("Twilio Media Streams send JSON text messages, not binary frames")

    await _serve(stream, on_text, on_bytes)


async def _key_principal(ws: WebSocket, key: Any) -> Principal | None:
    """A key sent inside the stream (Twilio ``customParameters.key``), checked like a header."""
    if not isinstance(key, str) or not key:
        return None
    principal = await to_thread.run_sync(ws_principal, ws, key, INGEST_ROLES)
    return principal if principal is not None and principal.role in INGEST_ROLES else None


def _payload(payload: Any, encoding: str) -> np.ndarray:
    if not isinstance(payload, str):
        raise _Error("media: payload must be a base64 string")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as e:
        raise _Error(f"media: payload is not base64 ({e})") from e
    try:
        return decode_samples(raw, encoding, 1)[0]
    except StreamError as e:
        raise _Error(f"media: {e}") from e


def _timestamp(value: Any, per_second: float) -> float | None:
    if value is None:
        return None
    try:
        t = float(value) / per_second
    except (TypeError, ValueError) as e:
        raise _Error(f"media: timestamp {value!r} is not a number") from e
    if not t >= 0 or t > 1e7:
        raise _Error(f"media: timestamp {value!r} is out of range")
    return t


def _problems(e: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(x) for x in err.get('loc', ())) or 'message'}: {err.get('msg')}"
        for err in e.errors()
    )


# --- feed ----------------------------------------------------------------------------------------


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
    hub = _hub(request.app)
    items = hub.list_calls(principal)
    return {"items": items, "total": len(items), "stats": hub.pipeline.stats()}


@router.get("/calls/{call_id}")
def live_call(
    request: Request, call_id: str, principal: Principal = Depends(authenticate)
) -> dict[str, Any]:
    """One call in progress with its transcript so far."""
    hub = _hub(request.app)
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
    hub = _hub(request.app)
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
