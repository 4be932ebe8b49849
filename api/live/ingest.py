"""Ingest sockets: ``WS /api/v1/live/ingest`` (raw PCM / mu-law) and ``WS /api/v1/live/twilio``
(Twilio Media Streams)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from anyio import to_thread
from fastapi import WebSocket
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from calmline.api.auth import Principal, authenticate_ws, ws_key, ws_principal
from calmline.api.live.base import ID_RE, INGEST_ROLES, ProtocolError, router
from calmline.api.live.stream import (
    IngestStream,
    accept_ingest,
    decode_payload,
    media_timestamp,
    serve,
)
from calmline.pipelines.live import CallMeta, StreamError, decode_samples


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


@router.websocket("/ingest")
async def ingest(ws: WebSocket) -> None:
    """Raw audio of a call: start message, binary frames (or JSON media), stop message."""
    principal = await authenticate_ws(ws, INGEST_ROLES)
    if principal is None:
        return
    hub = await accept_ingest(ws)
    if hub is None:
        return
    stream = IngestStream(ws, hub, principal)

    async def on_text(data: dict[str, Any]) -> None:
        kind = data.get("type")
        if kind == "start":
            if stream.call is not None:
                raise ProtocolError("the call has started already")
            try:
                start = RawStart.model_validate(data)
            except ValidationError as e:
                raise ProtocolError(f"bad start message: {_problems(e)}") from e
            channel_map = start.channel_map or (
                {"0": "agent", "1": "customer"} if (start.channels or 2) == 2 else {"0": "mixed"}
            )
            channels = start.channels or len(channel_map)
            if sorted(channel_map) != [str(i) for i in range(channels)]:
                raise ProtocolError(
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
                raise ProtocolError(f"bad start message: {e}") from e
            stream.call = await hub.open(meta, "raw", principal, start.started_at)
            stream.channels = channels
            stream.track_names = [str(i) for i in range(channels)]
            stream.encoding = start.encoding
            await stream.send(
                {"type": "started", "call_id": meta.call_id, "tracks": dict(channel_map)}
            )
        elif kind == "media":
            if stream.call is None:
                raise ProtocolError("send a start message first")
            track = str(data.get("track", ""))
            if track not in stream.track_names:
                raise ProtocolError(
                    f"media: unknown track {track!r}; tracks are {stream.track_names}"
                )
            samples = decode_payload(data.get("payload"), stream.encoding)
            await stream.accept(track, samples, media_timestamp(data.get("timestamp"), 1.0))
        elif kind == "stop":
            await stream.stop()
        else:
            raise ProtocolError(f"unknown message type {kind!r}; expected start, media or stop")

    async def on_bytes(payload: bytes) -> None:
        if stream.call is None:
            raise ProtocolError("send a start message first")
        try:
            x = decode_samples(payload, stream.encoding, stream.channels)
        except StreamError as e:
            raise ProtocolError(str(e)) from e
        for i, track in enumerate(stream.track_names):
            await stream.accept(track, x[i], None)

    await serve(stream, on_text, on_bytes)


@router.websocket("/twilio")
async def twilio(ws: WebSocket) -> None:
    """Twilio Media Streams: inbound track = customer, outbound = agent (``customParameters``:
    ``agent_id`` (required), ``call_id`` (default: the call SID), ``language``,
    ``agent_track`` = ``inbound`` to swap, ``key`` when the URL cannot carry one)."""
    has_key = ws_key(ws) is not None
    principal = await authenticate_ws(ws, INGEST_ROLES) if has_key else None
    if has_key and principal is None:
        return
    hub = await accept_ingest(ws)
    if hub is None:
        return
    stream = IngestStream(ws, hub, principal)
    tracks: dict[str, str] = {}

    async def on_text(data: dict[str, Any]) -> None:
        kind = data.get("event")
        if kind == "connected":
            return
        if kind == "start":
            if stream.call is not None:
                raise ProtocolError("the stream has started already")
            start = data.get("start")
            if not isinstance(start, dict):
                raise ProtocolError("start: the 'start' object is missing")
            params = start.get("customParameters") or {}
            if not isinstance(params, dict):
                raise ProtocolError("start: customParameters must be an object")
            if stream.principal is None:
                stream.principal = await _key_principal(ws, params.get("key"))
                if stream.principal is None:
                    raise ProtocolError("a key is required (header or customParameters.key)", True)
                stream.guard.watch(stream.principal)
            fmt = start.get("mediaFormat") or {}
            encoding = str(fmt.get("encoding", "audio/x-mulaw"))
            if encoding != "audio/x-mulaw":
                raise ProtocolError(
                    f"start: mediaFormat.encoding {encoding!r} is not audio/x-mulaw"
                )
            agent_id = params.get("agent_id")
            call_id = params.get("call_id") or start.get("callSid") or data.get("streamSid")
            for name, value in (("agent_id", agent_id), ("call_id", call_id)):
                if not isinstance(value, str) or not ID_RE.match(value):
                    raise ProtocolError(f"start: customParameters.{name} is missing or not an id")
            names = start.get("tracks") or ["inbound", "outbound"]
            agent_track = params.get("agent_track", "outbound")
            if agent_track not in ("inbound", "outbound"):
                raise ProtocolError("start: agent_track must be inbound or outbound")
            if not isinstance(names, list) or not set(names) <= {"inbound", "outbound"}:
                raise ProtocolError(f"start: tracks must be inbound and/or outbound, got {names!r}")
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
                raise ProtocolError(f"bad start message: {e}") from e
            stream.call = await hub.open(meta, "twilio", stream.principal, None)
            stream.encoding = "mulaw"
        elif kind == "media":
            if stream.call is None:
                raise ProtocolError("media before start")
            media = data.get("media")
            if not isinstance(media, dict):
                raise ProtocolError("media: the 'media' object is missing")
            track = media.get("track", "inbound")
            if track not in tracks:
                raise ProtocolError(f"media: unknown track {track!r}; tracks are {sorted(tracks)}")
            samples = decode_payload(media.get("payload"), "mulaw")
            await stream.accept(track, samples, media_timestamp(media.get("timestamp"), 1000.0))
        elif kind == "stop":
            await stream.stop()
        elif kind in ("mark", "dtmf"):
            return
        else:
            raise ProtocolError(f"unknown event {kind!r}; expected connected, start, media or stop")

    async def on_bytes(payload: bytes) -> None:
        raise ProtocolError("Twilio Media Streams send JSON text messages, not binary frames")

    await serve(stream, on_text, on_bytes)


async def _key_principal(ws: WebSocket, key: Any) -> Principal | None:
    """A key sent inside the stream (Twilio ``customParameters.key``), checked like a header."""
    if not isinstance(key, str) or not key:
        return None
    principal = await to_thread.run_sync(ws_principal, ws, key, INGEST_ROLES)
    return principal if principal is not None and principal.role in INGEST_ROLES else None


def _problems(e: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(x) for x in err.get('loc', ())) or 'message'}: {err.get('msg')}"
        for err in e.errors()
    )
