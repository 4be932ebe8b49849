"""Streaming clients for the live ingest endpoints, used by the tests and by bench/live_latency.py.

They send real sample calls the way a recorder or a telephony platform does: the raw protocol
(JSON start, binary frames of interleaved samples, stop) and Twilio Media Streams (JSON events
with base64 8 kHz mu-law per track and millisecond timestamps), at real-time pace or as fast as
the server takes them.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

CHUNK_S = 0.02
"""Media chunk length (s): 20 ms, as telephony platforms send."""


@dataclass(frozen=True)
class WavData:
    """A WAV file's samples as they are stored: rate, channels, encoding, raw interleaved bytes."""

    path: Path
    rate: int
    channels: int
    encoding: str
    """``pcm16`` or ``mulaw``."""
    payload: bytes

    @property
    def width(self) -> int:
        return 1 if self.encoding == "mulaw" else 2

    @property
    def frames(self) -> int:
        return len(self.payload) // (self.width * self.channels)

    @property
    def duration(self) -> float:
        return self.frames / self.rate

    def excerpt(self, start_s: float, end_s: float) -> WavData:
        frame = self.width * self.channels
        a = round(start_s * self.rate) * frame
        b = min(round(end_s * self.rate) * frame, len(self.payload))
        return WavData(self.path, self.rate, self.channels, self.encoding, self.payload[a:b])

    def rotated(self, start_s: float) -> WavData:
        """The call from ``start_s`` to its end, then from its beginning: the same voices and
        length with other words at each moment (calls of one script that are not in step)."""
        frame = self.width * self.channels
        cut = (round(start_s * self.rate) * frame) % max(len(self.payload), 1)
        payload = self.payload[cut:] + self.payload[:cut]
        return WavData(self.path, self.rate, self.channels, self.encoding, payload)

    def channel_bytes(self, channel: int) -> bytes:
        """One channel's samples, still encoded."""
        a = np.frombuffer(self.payload, dtype=np.uint8).reshape(-1, self.channels * self.width)
        return a[:, channel * self.width : (channel + 1) * self.width].tobytes()

    def as_mulaw(self) -> WavData:
        """The same call G.711 mu-law encoded, as a telephone network carries it."""
        if self.encoding == "mulaw":
            return self
        pcm = np.frombuffer(self.payload, dtype="<i2")
        return WavData(self.path, self.rate, self.channels, "mulaw", mulaw_encode(pcm).tobytes())


def spans_session(streaming, call_id: str, x, rate: int = 16000, encoding: str = "float32"):
    """A live session of ``streaming`` fed the (2, n) samples ``x`` (agent, customer) in
    ``CHUNK_S`` chunks, the tracks in turn, then closed: its utterances' spans, no transcription
    (the session runs as one beyond the recogniser's capacity)."""
    from calmline.pipelines.live import CallMeta

    tracks = {"agent": "agent", "customer": "customer"}
    session = streaming.open_session(CallMeta(call_id, "a1", tracks, rate, encoding, "en"))
    session.degraded = True  # spans only: nothing queued for the recogniser
    step = round(CHUNK_S * rate)
    for i in range(0, x.shape[1], step):
        for c, name in enumerate(tracks):
            session.accept(name, x[c, i : i + step])
    session.close()
    return session


def read_wav(path: str | Path) -> WavData:
    """PCM16 or mu-law WAV without decoding (the bytes a client would send)."""
    path = Path(path)
    data = path.read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(f"{path}: not a RIFF/WAVE file")
    pos, fmt, payload = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        if cid == b"fmt ":
            code, channels, rate = struct.unpack("<HHI", body[:8])
            bits = struct.unpack("<H", body[14:16])[0]
            fmt = (code, channels, rate, bits)
        elif cid == b"data":
            payload = body
        pos += 8 + size + (size & 1)
    if fmt is None or payload is None:
        raise ValueError(f"{path}: no fmt or data chunk")
    code, channels, rate, bits = fmt
    if (code, bits) == (1, 16):
        encoding = "pcm16"
    elif (code, bits) == (7, 8):
        encoding = "mulaw"
    else:
        raise ValueError(f"{path}: format {code}/{bits} bits is neither PCM16 nor mu-law")
    return WavData(path, rate, channels, encoding, payload)


def mulaw_encode(pcm: np.ndarray) -> np.ndarray:
    """G.711 mu-law encoding of int16 samples -> uint8."""
    x = pcm.astype(np.int32)
    sign = np.where(x < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(x), 32635) + 0x84
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)


@dataclass
class StreamResult:
    """What the server said on one ingest connection."""

    call_id: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    sent_s: float = 0.0
    """Audio seconds sent."""
    t0: float = 0.0
    """Wall clock (time.time()) when the first audio chunk was sent."""
    wall_s: float = 0.0
    close_code: int | None = None

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == "error"]

    @property
    def stopped(self) -> dict[str, Any] | None:
        return next((m for m in self.messages if m.get("type") == "stopped"), None)


async def _pace(t0: float, audio_s: float, speed: float | None) -> None:
    """Real-time pacing: chunk k leaves at t0 + k * 20 ms / speed; ``None`` = no pacing."""
    if speed is None:
        await asyncio.sleep(0)
        return
    delay = t0 + audio_s / speed - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


async def _collect(ws, result: StreamResult) -> None:
    try:
        async for message in ws:
            if isinstance(message, str):
                result.messages.append(json.loads(message))
    except Exception:  # the connection closed
        pass


async def stream_raw(
    url: str,
    wav: WavData,
    *,
    call_id: str,
    agent_id: str,
    key: str | None = None,
    speed: float | None = None,
    stop: bool = True,
    language: str | None = None,
    channel_map: dict[str, str] | None = None,
    before: list[str | bytes] = (),
    on_start: Callable[[float], None] | None = None,
) -> StreamResult:
    """Stream ``wav`` over the raw protocol in 20 ms frames.

    Args:
        url: ``ws://host:port/api/v1/live/ingest``.
        speed: 1.0 = real time, ``None`` = as fast as the server reads.
        stop: send ``stop`` at the end (``False``: just close the socket, a vanished client).
        before: messages sent before the start message (malformed ones, for tests).
    """
    from websockets.asyncio.client import connect

    result = StreamResult(call_id)
    headers = {"Authorization": f"Bearer {key}"} if key else None
    async with connect(url, additional_headers=headers, max_size=None) as ws:
        reader = asyncio.create_task(_collect(ws, result))
        for m in before:
            await ws.send(m)
        start: dict[str, Any] = {
            "type": "start",
            "call_id": call_id,
            "agent_id": agent_id,
            "sample_rate": wav.rate,
            "encoding": wav.encoding,
            "channels": wav.channels,
        }
        if channel_map is not None:
            start["channel_map"] = channel_map
        if language is not None:
            start["language"] = language
        await ws.send(json.dumps(start))
        step = round(CHUNK_S * wav.rate) * wav.width * wav.channels
        t0 = result.t0 = time.time()
        if on_start is not None:
            on_start(t0)
        for k, i in enumerate(range(0, len(wav.payload), step)):
            await _pace(t0, k * CHUNK_S, speed)
            await ws.send(wav.payload[i : i + step])
        result.sent_s = wav.duration
        if stop:
            await ws.send(json.dumps({"type": "stop"}))
            await asyncio.wait_for(reader, timeout=600)
        else:
            await asyncio.sleep(0.2)
            reader.cancel()
        result.wall_s = time.time() - t0
        result.close_code = ws.close_code
    return result


def twilio_messages(
    wav: WavData, *, call_sid: str, agent_id: str, params: dict[str, str] | None = None
) -> tuple[dict[str, Any], list[tuple[float, dict[str, Any]]], dict[str, Any]]:
    """(start, [(audio time, media message)], stop) for a stereo call: channel 0 (the agent) as
    the ``outbound`` track, channel 1 (the customer) as ``inbound``, 20 ms each."""
    if wav.channels != 2:
        raise ValueError(f"{wav.path}: Twilio carries two tracks; the file has {wav.channels}")
    mu = wav.as_mulaw()
    stream_sid = f"MZ{call_sid[2:]}"
    start = {
        "event": "start",
        "sequenceNumber": "1",
        "streamSid": stream_sid,
        "start": {
            "accountSid": "AC00000000000000000000000000000000",
            "streamSid": stream_sid,
            "callSid": call_sid,
            "tracks": ["inbound", "outbound"],
            "customParameters": {"agent_id": agent_id, **(params or {})},
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": wav.rate, "channels": 1},
        },
    }
    chunk = round(CHUNK_S * wav.rate)
    tracks = {"outbound": mu.channel_bytes(0), "inbound": mu.channel_bytes(1)}
    media = []
    seq = 2
    for k, i in enumerate(range(0, len(tracks["inbound"]), chunk)):
        for name in ("inbound", "outbound"):
            media.append(
                (
                    k * CHUNK_S,
                    {
                        "event": "media",
                        "sequenceNumber": str(seq),
                        "streamSid": stream_sid,
                        "media": {
                            "track": name,
                            "chunk": str(k + 1),
                            "timestamp": str(round(k * CHUNK_S * 1000)),
                            "payload": base64.b64encode(tracks[name][i : i + chunk]).decode(),
                        },
                    },
                )
            )
            seq += 1
    stop = {
        "event": "stop",
        "sequenceNumber": str(seq),
        "streamSid": stream_sid,
        "stop": {"accountSid": "AC00000000000000000000000000000000", "callSid": call_sid},
    }
    return start, media, stop


async def stream_twilio(
    url: str,
    wav: WavData,
    *,
    call_sid: str,
    agent_id: str,
    key: str | None = None,
    key_in_params: bool = False,
    speed: float | None = None,
    stop: bool = True,
    params: dict[str, str] | None = None,
    transform: Callable[[list[tuple[float, dict[str, Any]]]], list] | None = None,
    on_start: Callable[[float], None] | None = None,
) -> StreamResult:
    """Stream ``wav`` as Twilio Media Streams would (``connected``, ``start``, ``media``…,
    ``stop``). ``key_in_params`` sends the key as ``customParameters.key`` instead of a header
    (Twilio cannot set headers); ``transform`` may reorder or drop media messages."""
    from websockets.asyncio.client import connect

    extra = dict(params or {})
    if key_in_params and key:
        extra["key"] = key
    start, media, stop_msg = twilio_messages(
        wav, call_sid=call_sid, agent_id=agent_id, params=extra
    )
    if transform is not None:
        media = transform(media)
    frames = [(t, json.dumps(m)) for t, m in media]  # serialised ahead: pacing stays exact
    result = StreamResult(call_sid)
    headers = {"Authorization": f"Bearer {key}"} if key and not key_in_params else None
    async with connect(url, additional_headers=headers, max_size=None) as ws:
        reader = asyncio.create_task(_collect(ws, result))
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await ws.send(json.dumps(start))
        t0 = result.t0 = time.time()
        if on_start is not None:
            on_start(t0)
        for audio_t, message in frames:
            await _pace(t0, audio_t, speed)
            await ws.send(message)
        result.sent_s = wav.duration
        if stop:
            await ws.send(json.dumps(stop_msg))
            # Twilio does not wait for an answer; the server closes after storing the call
            await asyncio.wait_for(reader, timeout=600)
        else:
            await asyncio.sleep(0.2)
            reader.cancel()
        result.wall_s = time.time() - t0
        result.close_code = ws.close_code
    return result


async def sse_events(
    url: str, key: str, sink: list[dict[str, Any]], ready: asyncio.Event | None = None
) -> None:
    """Read a Server-Sent Events feed into ``sink`` (each event's JSON plus ``received_at``)
    until cancelled."""
    import httpx

    async with (
        httpx.AsyncClient(timeout=None) as client,
        client.stream("GET", url, headers={"Authorization": f"Bearer {key}"}) as response,
    ):
        response.raise_for_status()
        if ready is not None:
            ready.set()
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                event = json.loads(line[6:])
                event["received_at"] = time.time()
                sink.append(event)


async def ws_events(
    url: str, key: str, sink: list[dict[str, Any]], ready: asyncio.Event | None = None
) -> None:
    """Read the WebSocket feed into ``sink`` until cancelled or closed."""
    from websockets.asyncio.client import connect

    async with connect(url, additional_headers={"Authorization": f"Bearer {key}"}) as ws:
        if ready is not None:
            ready.set()
        async for message in ws:
            event = json.loads(message)
            event["received_at"] = time.time()
            sink.append(event)


# --- agreement with batch analysis -------------------------------------------------------------

FINDING_TIME_TOLERANCE_S = 1.0
"""A major or critical live finding must start within this of its batch counterpart."""
OVERALL_TOLERANCE = 5.0
"""Largest difference of the overall score (points)."""
MEAN_PRACTICE_TOLERANCE = 5.0
"""Largest mean absolute difference of the practice scores (points)."""
FLIP_POINTS = 20.0
"""A practice score that differs by more than this has flipped: a phrase said once and heard
differently (utterances are recognised one by one live, the whole channel at once in batch)
turns a presence practice from 100 to its missing score. At most one practice may flip."""


def serious_findings(report: dict[str, Any]) -> list[tuple[str, str, float]]:
    """(practice, kind, start) of every major or critical finding, in time order."""
    out = []
    for p in report["scorecard"]["practices"]:
        for f in p["findings"]:
            if f["severity"] in ("major", "critical"):
                out.append((p["practice"], f["kind"], f["start"]))
    return sorted(out, key=lambda x: (x[2], x[0], x[1]))


def _said(text: str) -> str:
    """Text reduced to what decides a phrase finding: lower-case words and sentence breaks
    (``|``), nothing else (a full stop between two words changes what a detector reads)."""
    text = re.sub(r"[.?!。？！;；]+", "|", text.lower().replace("…", ""))
    return re.sub(r"[^\w|]+", "", text)


def heard_in(report: dict[str, Any], finding: dict[str, Any]) -> bool:
    """Whether ``report``'s transcript holds ``finding``'s quote (same words, same sentence
    breaks) in a turn around the finding's time. A finding without a quote comes from the
    speech spans and measurements alone, which do not depend on the recogniser: always heard."""
    quote = _said(finding.get("quote") or "").strip("|")
    if not quote or finding.get("start") is None:
        return True
    start = finding["start"]
    return any(
        t["start"] - FINDING_TIME_TOLERANCE_S <= start <= t["end"] + FINDING_TIME_TOLERANCE_S
        and quote in _said(t["text"])
        for t in report["turns"]
    )


def _heard_differently(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, str, float]]:
    """Findings of ``a`` (any severity) with no counterpart in ``b`` (practice, kind, start within
    the tolerance) whose words ``b``'s transcript does not hold: the recogniser heard that moment
    differently, so the detectors rightly read it differently."""
    others = {
        (p["practice"], f["kind"], f["start"])
        for p in b["scorecard"]["practices"]
        for f in p["findings"]
    }
    out = []
    for p in a["scorecard"]["practices"]:
        for f in p["findings"]:
            if f["start"] is None:
                continue
            twin = any(
                (pr, k) == (p["practice"], f["kind"])
                and s is not None
                and abs(s - f["start"]) <= FINDING_TIME_TOLERANCE_S
                for pr, k, s in others
            )
            if not twin and not heard_in(b, f):
                out.append((p["practice"], f["kind"], f["start"]))
    return out


def agreement(live: dict[str, Any], batch: dict[str, Any]) -> dict[str, Any]:
    """How a live report compares with the batch report of the same audio.

    Live audio is recognised utterance by utterance, batch audio a channel at a time, so the
    words can differ (greedy decoding differs between CPUs and with the other calls sharing the
    recogniser). The rule: findings that come from speech spans and measurements must agree;
    findings from words must agree wherever both transcripts hold the same words (with the same
    sentence breaks). What was heard differently is listed under ``heard_differently`` and its
    practices are left out of the practice-score tolerances, never out of the overall score."""
    lf, bf = serious_findings(live), serious_findings(batch)
    differently = _heard_differently(batch, live) + _heard_differently(live, batch)
    unmatched = list(bf)
    matched, extra = [], []
    for practice, kind, start in lf:
        hit = next(
            (
                b
                for b in unmatched
                if b[0] == practice
                and b[1] == kind
                and abs(b[2] - start) <= FINDING_TIME_TOLERANCE_S
            ),
            None,
        )
        if hit is None:
            if (practice, kind, start) not in differently:
                extra.append((practice, kind, start))
        else:
            unmatched.remove(hit)
            matched.append((practice, kind, round(start - hit[2], 3)))
    missing = [b for b in unmatched if b not in differently]
    explained = {d[0] for d in differently}
    scores_live = {p["practice"]: p["score"] for p in live["scorecard"]["practices"]}
    scores_batch = {p["practice"]: p["score"] for p in batch["scorecard"]["practices"]}
    diffs = {
        k: round(scores_live[k] - scores_batch[k], 1)
        for k in scores_batch
        if scores_batch[k] is not None and scores_live.get(k) is not None and k not in explained
    }
    judged_only_one = sorted(
        k for k in scores_batch if (scores_batch[k] is None) != (scores_live.get(k) is None)
    )
    return {
        "matched": matched,
        "missing": missing,
        "extra": extra,
        "heard_differently": differently,
        "score_diffs": diffs,
        "judged_only_one": judged_only_one,
        "overall_diff": round(live["scorecard"]["overall"] - batch["scorecard"]["overall"], 1),
    }


def assert_agrees(live: dict[str, Any], batch: dict[str, Any], name: str) -> dict[str, Any]:
    """The stated tolerance: the same major and critical findings (practice and kind, start
    within 1 s) wherever both transcripts hold the same words (see :func:`agreement`); the
    overall score within 5 points; the practice scores (those not heard differently) within 5
    points on average, with at most one practice flipped by more than 20 points."""
    a = agreement(live, batch)
    assert not a["missing"] and not a["extra"], f"{name}: findings differ from batch: {a}"
    diffs = [abs(v) for v in a["score_diffs"].values()]
    assert sum(diffs) / max(len(diffs), 1) <= MEAN_PRACTICE_TOLERANCE, f"{name}: {a}"
    assert sum(d > FLIP_POINTS for d in diffs) <= 1, f"{name}: practices flipped: {a}"
    assert abs(a["overall_diff"]) <= OVERALL_TOLERANCE, f"{name}: overall differs: {a}"
    return a
