"""What a live call is made of: its facts, options, events, input samples and utterances."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from calmline.monitor.audio import MULAW_TO_INT16
from calmline.monitor.errors import CalmlineError
from calmline.monitor.types import Word

ROLES = ("agent", "customer", "mixed")
"""What a track carries: one party, or both mixed on one channel."""

ENCODINGS = ("pcm16", "mulaw", "float32")
WIDTH = {"pcm16": 2, "mulaw": 1, "float32": 4}

EVENT_TYPES = (
    "call_started",
    "transcript",
    "metrics",
    "interruption",
    "apology_demand",
    "acknowledgement",
    "repeated_ack",
    "agent_louder",
    "agent_faster",
    "agitation_rising",
    "non_talk",
    "alert_withdrawn",
    "call_ended",
)
"""Every ``LiveEvent.type``; payloads are listed in ``docs/live.md``."""

CHANNEL_OF_ROLE = {"agent": 0, "customer": 1, "mixed": 0}
MAX_JUMPS_LISTED = 10
"""Timestamp jumps of one track listed in the report's warnings; more are only counted."""


class StreamError(CalmlineError):
    """Live input that cannot be used (unknown track, bad samples, a timestamp out of range)."""


@dataclass(frozen=True, slots=True)
class CallMeta:
    """What is known about a live call when it starts.

    Attributes:
        call_id: the call's id (also the id of its stored report).
        agent_id: the agent taking the call.
        tracks: track name -> ``agent``, ``customer`` or ``mixed`` (e.g. ``{"outbound":
            "agent", "inbound": "customer"}``). ``mixed`` must be the only track.
        sample_rate: rate of the samples given to ``accept`` (Hz).
        encoding: how the client sent them (``pcm16``, ``mulaw``, ``float32``); recorded in the
            report's audio facts.
        language: ``zh``, ``en``, or ``None``/``auto`` to detect from the first speech.
        started_at: wall-clock start (Unix seconds); defaults to when the session opens.
        metadata: free-form facts kept with the call.
    """

    call_id: str
    agent_id: str
    tracks: dict[str, str] = field(
        default_factory=lambda: {"agent": "agent", "customer": "customer"}
    )
    sample_rate: int = 8000
    encoding: str = "pcm16"
    language: str | None = None
    started_at: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.call_id or not self.agent_id:
            raise StreamError("a live call needs a call_id and an agent_id")
        if not self.tracks:
            raise StreamError("a live call needs at least one track")
        bad = {k: v for k, v in self.tracks.items() if v not in ROLES}
        if bad:
            raise StreamError(f"unknown track role(s) {bad}; a track carries one of {ROLES}")
        roles = list(self.tracks.values())
        if "mixed" in roles and len(roles) > 1:
            raise StreamError("a mixed track carries both parties and must be the only track")
        if len(set(roles)) != len(roles):
            raise StreamError(f"two tracks carry the same party: {self.tracks}")
        if not 4000 <= self.sample_rate <= 192_000:
            raise StreamError(f"sample rate {self.sample_rate} Hz is out of range (4000-192000)")
        if self.encoding not in ENCODINGS:
            raise StreamError(f"unknown encoding {self.encoding!r}; known: {ENCODINGS}")
        if self.language not in (None, "auto", "zh", "en"):
            raise StreamError(f"language must be zh, en or auto, not {self.language!r}")


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """Something a supervisor should see now.

    Attributes:
        type: one of :data:`EVENT_TYPES`.
        call_id: the call.
        agent_id: the call's agent (subscribers filter on it).
        t: call time the event refers to (s from the start of the call).
        data: the payload (JSON-ready).
        emitted_at: wall clock when it was emitted (Unix seconds).
        seq: order of the event within its call.
    """

    type: str
    call_id: str
    agent_id: str
    t: float
    data: dict[str, Any]
    emitted_at: float
    seq: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "call_id": self.call_id,
            "agent_id": self.agent_id,
            "t": self.t,
            "seq": self.seq,
            "emitted_at": round(self.emitted_at, 3),
            "data": self.data,
        }


@dataclass(frozen=True, slots=True)
class StreamingOptions:
    """How live audio is buffered, cut and transcribed.

    Attributes:
        reorder_window_s: how long a chunk that arrives ahead of a missing one waits for it
            before the missing audio counts as lost and is filled with silence.
        vad_frames: VAD frames (32 ms each) gathered before the model runs; 3 adds at most
            64 ms to an utterance's end and runs the model a third as often.
        max_utterance_s: an utterance is cut after this long even if the speaker goes on (a
            recogniser window holds 30 s).
        pack_max_s: most audio (s, speech and the gaps between) packed into one recogniser
            window from one call's pending utterances. A window holds 30 s; fuller ones make
            Whisper skip an utterance now and then (it is then decoded again alone).
        pack_gap_s: silence between packed utterances (s).
        batch_calls: most calls whose windows are decoded together as rows of one batch, where
            the recogniser decodes batches (faster-whisper's batched pipeline, on CUDA); a
            sequential recogniser (CPU) decodes one call's window at a time.
        language_min_speech_s: speech needed before a call's language is detected once for the
            whole call; shorter first utterances are recognised with per-utterance detection.
        window_s: the live judges look this far back (s).
        close_timeout_s: the longest ``close`` waits for the call's pending transcriptions.
        max_outbox: events kept for ``accept``/``drain`` callers that never read them.
        acoustic_alerts: tell interruptions by sound, before the words.
        beam_size: the live recogniser's beam width; ``None``: ``live.beam_size`` (1, greedy).
    """

    reorder_window_s: float = 0.2
    vad_frames: int = 3
    max_utterance_s: float = 28.0
    pack_max_s: float = 24.0
    pack_gap_s: float = 1.0
    batch_calls: int = 8
    language_min_speech_s: float = 2.0
    window_s: float = 60.0
    close_timeout_s: float = 300.0
    max_outbox: int = 10_000
    acoustic_alerts: bool = True
    """Interruption alerts by sound before the words (``live/floor.py``; ``live.acoustic_alerts``
    on a server). The rule runs on the accepting thread only while it can hold (an agent
    stretch long enough over customer speech, not told yet), so it does not slow the reading
    of the calls' audio."""
    beam_size: int | None = None


def decode_samples(payload: bytes, encoding: str, channels: int = 1) -> np.ndarray:
    """Bytes of interleaved samples -> float32 (channels, n) in [-1, 1].

    Args:
        payload: ``pcm16`` little-endian, ``mulaw`` (G.711, one byte per sample) or ``float32``
            little-endian samples, channels interleaved.
        encoding: one of :data:`ENCODINGS`.
        channels: interleaved channels in ``payload``.

    Raises:
        StreamError: unknown encoding, or a byte count that is not a whole number of frames.
    """
    width = WIDTH.get(encoding)
    if width is None:
        raise StreamError(f"unknown encoding {encoding!r}; known: {ENCODINGS}")
    if channels < 1:
        raise StreamError(f"channels must be at least 1, got {channels}")
    if len(payload) % (width * channels):
        raise StreamError(
            f"{len(payload)} bytes is not a whole number of {encoding} frames of {channels} "
            f"channel(s) ({width * channels} bytes each)"
        )
    if encoding == "pcm16":
        x = np.frombuffer(payload, dtype="<i2").astype(np.float32) / 32768.0
    elif encoding == "mulaw":
        x = MULAW_TO_INT16[np.frombuffer(payload, dtype=np.uint8)].astype(np.float32) / 32768.0
    else:
        x = np.frombuffer(payload, dtype="<f4").astype(np.float32)
        if not np.all(np.isfinite(x)):
            raise StreamError("float32 samples must be finite")
        x = np.clip(x, -1.0, 1.0)
    return x.reshape(-1, channels).T.copy()


def as_float(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples)
    if x.ndim != 1:
        raise StreamError(f"a track takes one-dimensional samples, got shape {x.shape}")
    if x.dtype == np.int16:
        return x.astype(np.float32) / 32768.0
    if x.dtype.kind != "f":
        raise StreamError(f"samples must be int16 or float, got {x.dtype}")
    x = x.astype(np.float32)
    if not np.all(np.isfinite(x)):
        raise StreamError("samples must be finite")
    return np.clip(x, -1.0, 1.0)


@dataclass(slots=True)
class Utterance:
    index: int
    track: str
    role: str
    channel: int
    start: float
    end: float
    speech_end: float
    closed_at: float
    """Wall clock when VAD closed it (s, perf counter)."""
    heard: float | None = None
    """Where the audio given to the recogniser starts (s): the VAD span's start, before
    ``start`` moved back to the talker's level rise; ``None``: ``start``."""
    words: tuple[Word, ...] = ()
    text: str = ""
    done: bool = False
    turn: int = -1

    @property
    def audio_start(self) -> float:
        """Where the audio given to the recogniser starts (s)."""
        return self.start if self.heard is None else self.heard
