"""The streaming pipeline: audio chunks of a live call in, live events out, a report at hang-up.

``session = pipeline.open_session(meta)``; ``session.accept(track, samples) -> events``;
``session.close() -> CallReport``.

Per track (one party per track: the agent's and the customer's side of a telephone call):

1. chunks are put in time order (a short reorder window), gaps are filled with silence and late
   or repeated audio is dropped, then resampled to 16 kHz with a streaming resampler (the same
   FFmpeg resampler as file decoding; chunked output equals whole-file output sample for
   sample);
2. Silero VAD runs frame by frame with its recurrent state carried across chunks, and the
   span rules of ``calmline.models.vad_silero.spans_from_probabilities`` are applied as the
   frames arrive (with the stereo settings ``vad.channels_*`` when each track carries one
   party, as the batch pipeline's ``channel_speech``), so a streamed channel yields exactly the
   speech spans the batch pipeline finds in the same audio; the batch pipeline's crosstalk
   removal (``monitor.crosstalk``) is not applied live yet, so where one channel carries the
   other party's leak the live spans keep it;
3. each closed span (an utterance) goes to one transcription worker shared by every session of
   the process (:class:`AsrWorker`), which serves calls round-robin and packs a call's pending
   utterances into one recogniser window; a window never holds two calls' audio (see there);
4. a transcribed utterance is measured and judged at once with the rubric's detectors and
   thresholds; what they find is emitted as :class:`LiveEvent`.

At hang-up the utterances' spans and words go through the batch pipeline's own turns,
measurements, scoring and redaction (``BatchPipeline.assemble_report``), so a live call's report
is judged exactly like an uploaded file's. A single mixed track (both parties on one channel)
gets live transcripts, non-talk alerts and running metrics; who is the agent is only known after
diarization of the whole call, so its report is made by the batch pipeline at hang-up.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from statistics import median
from typing import Any

import numpy as np

from calmline.models.device import resolve_device
from calmline.models.vad_silero import CONTEXT, FRAME, VadOptions, default_model_path
from calmline.monitor.detectors import DetectorContext, detector_for
from calmline.monitor.detectors.let_finish import FloorRules, interruption_events
from calmline.monitor.digits import DigitReader
from calmline.monitor.errors import CalmlineError, ModelLoadError
from calmline.monitor.floor import Interruption
from calmline.monitor.measure import MeasureOptions, count_units, measure, rate_unit
from calmline.monitor.redact import MAX_GAP_S, redact_text, redact_word_groups
from calmline.monitor.roles import roles_from_channels
from calmline.monitor.rubric import Rubric
from calmline.monitor.settings import Settings
from calmline.monitor.stress import estimate_stress
from calmline.monitor.textmatch import PhraseMatcher
from calmline.monitor.types import (
    SAMPLE_RATE,
    Audio,
    AudioInfo,
    CallMetrics,
    CallReport,
    Role,
    RoleAssignment,
    SpeechSegment,
    StressTrajectory,
    Turn,
    TurnMetrics,
    Word,
)
from calmline.pipelines.batch import AnalyzeRequest, BatchPipeline, union_spans
from calmline.pipelines.manager import ModelManager

logger = logging.getLogger(__name__)

ROLES = ("agent", "customer", "mixed")
"""What a track carries: one party, or both mixed on one channel."""

ENCODINGS = ("pcm16", "mulaw", "float32")
_WIDTH = {"pcm16": 2, "mulaw": 1, "float32": 4}

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
    "call_ended",
)
"""Every ``LiveEvent.type``; payloads are listed in ``docs/live.md``."""

_CHANNEL_OF_ROLE = {"agent": 0, "customer": 1, "mixed": 0}
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


# --- encodings -----------------------------------------------------------------------------------


def _mulaw_table() -> np.ndarray:
    """G.711 mu-law byte -> int16 sample (the decoder FFmpeg's ``pcm_mulaw`` implements)."""
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(u & 0x80, -magnitude, magnitude).astype(np.int16)


MULAW_TO_INT16 = _mulaw_table()


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
    width = _WIDTH.get(encoding)
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


def _as_float(samples: np.ndarray) -> np.ndarray:
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


# --- buffers -------------------------------------------------------------------------------------


class _Growing:
    """A float32 array that grows at the end in amortised O(1)."""

    def __init__(self, capacity: int = SAMPLE_RATE * 60) -> None:
        self._data = np.zeros(capacity, dtype=np.float32)
        self.size = 0

    def append(self, x: np.ndarray) -> None:
        need = self.size + x.shape[0]
        if need > self._data.shape[0]:
            grown = np.zeros(max(need, 2 * self._data.shape[0]), dtype=np.float32)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : need] = x
        self.size = need

    def view(self, start: int = 0, end: int | None = None) -> np.ndarray:
        end = self.size if end is None else min(end, self.size)
        return self._data[max(0, start) : max(0, end)]


class _Resampler:
    """Streaming resampler to 16 kHz (FFmpeg's, as ``monitor.audio.resample`` uses)."""

    def __init__(self, rate: int) -> None:
        import av

        self.rate = rate
        self._av = av
        self._r = (
            av.AudioResampler(format="fltp", layout="mono", rate=SAMPLE_RATE)
            if rate != SAMPLE_RATE
            else None
        )

    def push(self, x: np.ndarray | None) -> np.ndarray:
        if self._r is None:
            return np.zeros(0, np.float32) if x is None else x
        if x is None:
            frames = self._r.resample(None)
        else:
            if x.size == 0:
                return np.zeros(0, np.float32)
            frame = self._av.AudioFrame.from_ndarray(
                np.ascontiguousarray(x[None, :]), format="fltp", layout="mono"
            )
            frame.sample_rate = self.rate
            frames = self._r.resample(frame)
        parts = [f.to_ndarray()[0] for f in frames]
        return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)


# --- VAD ---------------------------------------------------------------------------------------


class VadFrames:
    """Silero VAD v6 frame probabilities with the recurrent state kept by the caller.

    One ONNX session shared by every live track of the process (onnxruntime sessions may be
    run from several threads at once); the per-track state lives in :class:`StreamingVad`. It
    loads the same model file with the same input layout as ``SileroVad``, whose
    ``speech_probabilities`` restarts the state on every call and so cannot be fed chunks.
    """

    def __init__(self, options: VadOptions) -> None:
        import onnxruntime

        path = options.model_path or default_model_path()
        if not os.path.isfile(path):
            raise ModelLoadError(f"Silero VAD model not found at {path}")
        sess_options = onnxruntime.SessionOptions()
        sess_options.inter_op_num_threads = 1
        sess_options.intra_op_num_threads = 1
        sess_options.log_severity_level = 4
        try:
            self._session = onnxruntime.InferenceSession(
                path,
                providers=list(resolve_device(options.device).onnx_providers),
                sess_options=sess_options,
            )
        except Exception as e:
            raise ModelLoadError(f"cannot load Silero VAD from {path}: {e}") from e

    def run(
        self, frames: np.ndarray, context: np.ndarray, h: np.ndarray, c: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Probabilities of consecutive frames.

        Args:
            frames: float32 (k, 512) at 16 kHz.
            context: float32 (64,): the last samples before the first frame.
            h, c: float32 (1, 1, 128) recurrent state after the previous frame.

        Returns:
            float32 (k,) probabilities and the state after the last frame.
        """
        ctx = np.concatenate([context[None, :], frames[:-1, -CONTEXT:]], axis=0)  # (k, 64)
        batch = np.concatenate([ctx, frames], axis=1)  # (k, 576)
        probs, h, c = self._session.run(None, {"input": batch, "h": h, "c": c})
        return np.asarray(probs, dtype=np.float32).reshape(-1), h, c


@dataclass(slots=True)
class _Span:
    start: float
    end: float
    speech_end: float
    """Where speech ended before padding (s): the moment the speaker stopped."""


class StreamingVad:
    """Speech spans of one track as its samples arrive.

    Applies the rules of ``spans_from_probabilities`` frame by frame: hysteresis, the minimum
    silence that ends a span, the minimum speech kept, padding clipped at the neighbours. A span
    is final when its closing silence has passed: the padding of its end can then never reach
    the next span (that starts at least ``min_silence_ms`` later), so the spans are the batch
    pipeline's, to the millisecond.
    """

    def __init__(self, frames: VadFrames, options: VadOptions, max_utterance_s: float) -> None:
        self._model = frames
        self.options = options
        self._on = options.threshold
        self._off = (
            options.neg_threshold
            if options.neg_threshold is not None
            else max(options.threshold - 0.15, 0.01)
        )
        self._min_silence = options.min_silence_ms / 1000
        self._min_speech = options.min_speech_ms / 1000
        self._pad = options.speech_pad_ms / 1000
        self._max = max_utterance_s
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self.frames = 0
        self.start: float | None = None
        self.silence_since: float | None = None
        self._last_end = 0.0  # padded end of the last kept span (unrounded)

    @property
    def in_speech(self) -> bool:
        return self.start is not None

    def push(self, x: np.ndarray, min_frames: int = 1) -> list[_Span]:
        """Feed 16 kHz samples; returns the spans that closed. The model runs once at least
        ``min_frames`` whole frames are waiting (one call per frame costs more than the frame)."""
        buf = np.concatenate([self._pending, x]) if self._pending.size else x
        k = buf.shape[0] // FRAME
        if k < max(1, min_frames):
            self._pending = buf.copy() if buf is x else buf
            return []
        self._pending = buf[k * FRAME :].copy()
        frames = buf[: k * FRAME].reshape(k, FRAME)
        probs, self._h, self._c = self._model.run(frames, self._context, self._h, self._c)
        self._context = frames[-1, -CONTEXT:].copy()
        out: list[_Span] = []
        for p in probs:
            span = self._step(float(p))
            if span is not None:
                out.append(span)
        return out

    def _step(self, p: float) -> _Span | None:
        frame_s = FRAME / SAMPLE_RATE
        t = self.frames * frame_s
        self.frames += 1
        if self.start is None:
            if p >= self._on:
                self.start = t
                self.silence_since = None
            return None
        if p < self._off:
            if self.silence_since is None:
                self.silence_since = t
            elif t + frame_s - self.silence_since >= self._min_silence:
                span = self._close(self.start, self.silence_since, t + frame_s)
                self.start = None
                self.silence_since = None
                return span
        elif p >= self._on or self.silence_since is None:
            self.silence_since = None
            if t - self.start >= self._max:
                # a speaker who never pauses: cut so the recogniser gets a window at a time
                span = self._close(self.start, t, t, pad=False)
                self.start = t
                return span
        return None

    def _close(self, start: float, end: float, limit: float, pad: bool = True) -> _Span | None:
        if end - start < self._min_speech:
            return None
        pad_s = self._pad if pad else 0.0
        a = max(self._last_end, start - pad_s, 0.0)
        b = min(end + pad_s, limit + pad_s)
        self._last_end = b
        if b <= a:
            return None
        return _Span(round(a, 3), round(b, 3), round(end, 3))

    def open_start(self) -> float | None:
        """Start of the span in progress as it will be when it closes (its padding, clipped at
        the previous span), or ``None`` outside speech."""
        if self.start is None:
            return None
        return round(max(self._last_end, self.start - self._pad, 0.0), 3)

    def open_end(self, heard: float) -> float:
        """Where the span in progress ends so far, the track having been heard up to ``heard``
        (s): there, or where its speech stopped plus the padding while its closing silence is
        still being confirmed."""
        if self.silence_since is not None:
            return min(heard, round(self.silence_since + self._pad, 3))
        return heard

    def finish(self) -> list[_Span]:
        """End of the track: the last partial frame (zero-padded) and any open span."""
        out: list[_Span] = []
        n_samples = self.frames * FRAME + self._pending.size  # before the padding below
        if self._pending.size:
            buf, self._pending = self._pending, np.zeros(0, dtype=np.float32)
            padded = np.pad(buf, (0, (-buf.size) % FRAME))
            out += self.push(padded)
        duration = n_samples / SAMPLE_RATE
        if self.start is not None:
            end = (
                self.silence_since
                if self.silence_since is not None
                else self.frames * FRAME / SAMPLE_RATE
            )
            if end - self.start >= self._min_speech:
                a = max(self._last_end, self.start - self._pad, 0.0)
                b = min(end + self._pad, duration)
                if b > a:
                    out.append(_Span(round(a, 3), round(b, 3), round(end, 3)))
                    self._last_end = b
            self.start = None
            self.silence_since = None
        return out


# --- transcription worker ------------------------------------------------------------------------


@dataclass(slots=True)
class _Utterance:
    index: int
    track: str
    role: str
    channel: int
    start: float
    end: float
    speech_end: float
    closed_at: float
    """Wall clock when VAD closed it (s, perf counter)."""
    words: tuple[Word, ...] = ()
    text: str = ""
    done: bool = False
    turn: int = -1


@dataclass(slots=True)
class _Job:
    session: StreamingSession
    utt: _Utterance
    samples: np.ndarray
    """float32 (n,) at 16 kHz: the utterance's audio."""

    @property
    def seconds(self) -> float:
        return self.samples.shape[0] / SAMPLE_RATE


_Result = tuple[tuple[Word, ...], str | None]
"""An utterance's words (call time) and the error that kept it from being transcribed."""


class AsrScheduler:
    """The utterances waiting for the recogniser, one queue per call, served round-robin.

    A recogniser window never holds audio of two calls: :meth:`take` returns windows that are
    each made of one call's utterances (both its tracks, several utterances in time order, up to
    ``pack_max_s`` of audio with ``pack_gap_s`` of silence between them). Calls are served in
    turn: the call at the head of the line gives one window and goes to the back, so a call with
    a backlog (a client streaming faster than real time, a long monologue cut into pieces) gets
    one window per round like every other waiting call and cannot starve them. Not thread-safe:
    :class:`AsrWorker` holds its lock around every call.
    """

    def __init__(self, pack_max_s: float, pack_gap_s: float) -> None:
        self.pack_max_s = pack_max_s
        self.pack_gap_s = pack_gap_s
        self._queues: dict[int, deque[_Job]] = {}
        self._order: deque[int] = deque()  # calls with work, in service order

    def put(self, job: _Job, urgent: bool = False) -> None:
        """Queue ``job`` behind the earlier utterances of its call; ``urgent``: the call moves to
        the head of the line (its next window decides an alert that waits for these words)."""
        key = id(job.session)
        q = self._queues.get(key)
        if q is None:
            q = self._queues[key] = deque()
            self._order.append(key)
        q.append(job)
        if urgent:
            self._order.remove(key)
            self._order.appendleft(key)

    def pending(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def __bool__(self) -> bool:
        return bool(self._order)

    def take(self, calls: int = 1) -> list[list[_Job]]:
        """The next windows, one per call, for up to ``calls`` calls at the head of the line.

        Several calls are taken only when each call's language is known and the same (they are
        decoded as rows of one batch, in one language); a call whose language is still unknown
        is decoded alone, one utterance per window, as its language is detected per utterance
        until enough speech has been heard.
        """
        windows: list[list[_Job]] = []
        language: str | None = None
        for key in list(self._order)[: max(1, calls)]:
            q = self._queues[key]
            call_language = q[0].session.language
            if windows and (call_language is None or call_language != language):
                break
            language = call_language
            windows.append(self._window(q, alone=call_language is None))
            self._order.remove(key)
            if q:
                self._order.append(key)
            else:
                del self._queues[key]
            if call_language is None:
                break
        return windows

    def _window(self, q: deque[_Job], alone: bool) -> list[_Job]:
        """One call's waiting utterances in order while they fit in ``pack_max_s``."""
        window = [q.popleft()]
        used = window[0].seconds + self.pack_gap_s
        while q and not alone and used + q[0].seconds + self.pack_gap_s <= self.pack_max_s:
            used += q[0].seconds + self.pack_gap_s
            window.append(q.popleft())
        return window


class AsrWorker:
    """One transcription thread for every live session of a process.

    Whisper encodes a 30 s window whatever the length of the speech in it, so on a CPU the
    encoder, not the speech, sets the cost of a short utterance: while a call's utterances wait,
    the worker packs them (both tracks of the call) into one window, ``pack_gap_s`` of silence
    apart, and hands each its words back by time. A window holds one call only
    (:class:`AsrScheduler`): a word the recogniser times wrongly can at worst land in the other
    party's or the neighbouring utterance of the same call, never in another caller's
    transcript. Where the recogniser decodes batches of windows (faster-whisper's batched
    pipeline, on CUDA), windows of up to ``batch_calls`` calls go through the model together as
    rows of one batch: each row is encoded and decoded on its own, and each segment the batch
    returns names its row, so words come back to their call by construction, not by time. On a
    CPU (sequential decoding) the worker decodes one call's window at a time, calls in turn. A
    packed utterance that comes back without words is decoded again alone, so packing never
    loses an utterance.
    """

    def __init__(self, transcriber: Any, options: StreamingOptions) -> None:
        self.transcriber = transcriber
        self.options = options
        self._cv = threading.Condition()
        self._scheduler = AsrScheduler(options.pack_max_s, options.pack_gap_s)
        self._thread: threading.Thread | None = None
        self._stop = False
        self._batched: Any = None
        if getattr(transcriber, "batched", False) and hasattr(transcriber, "model"):
            from faster_whisper import BatchedInferencePipeline

            self._batched = BatchedInferencePipeline(transcriber.model)
        self.batch_calls = options.batch_calls if self._batched is not None else 1
        """Calls decoded together (rows of one batch); 1 with a sequential recogniser."""
        self.stats = {
            "packs": 0,
            "windows": 0,
            "utterances": 0,
            "busy_s": 0.0,
            "judge_s": 0.0,
            "retries": 0,
        }

    def submit(self, job: _Job, urgent: bool = False) -> None:
        """Queue an utterance; ``urgent`` puts its call at the head of the line
        (:meth:`AsrScheduler.put`)."""
        with self._cv:
            if self._stop:
                raise StreamError("the transcription worker is stopped")
            self._scheduler.put(job, urgent)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="calmline-live-asr", daemon=True
                )
                self._thread.start()
            self._cv.notify_all()

    def pending(self) -> int:
        with self._cv:
            return self._scheduler.pending()

    def stop(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._scheduler and not self._stop:
                    self._cv.wait()
                if self._stop:
                    return
                windows = self._scheduler.take(self.batch_calls)
            t0 = time.perf_counter()
            try:
                results = self._transcribe(windows)
            except Exception as e:  # one bad utterance must not stop every live call
                logger.exception("live transcription failed")
                results = [[((), f"transcription failed: {e}") for _ in w] for w in windows]
            self.stats["busy_s"] += time.perf_counter() - t0
            logger.debug(
                "decoded %d window(s) of %s in %.2f s, %d waiting",
                len(windows),
                ",".join(w[0].session.call_id for w in windows),
                time.perf_counter() - t0,
                self.pending(),
            )
            self.stats["packs"] += 1
            self.stats["windows"] += len(windows)
            t1 = time.perf_counter()
            for window, result in zip(windows, results, strict=True):
                self.stats["utterances"] += len(window)
                for job, (words, error) in zip(window, result, strict=True):
                    try:
                        job.session._transcribed(job.utt, words, error)
                    except Exception:
                        logger.exception(
                            "live session %s failed on a transcript", job.session.call_id
                        )
            self.stats["judge_s"] += time.perf_counter() - t1

    def _language(self, job: _Job) -> str | None:
        """The call's language: given, detected once from enough speech, else per utterance."""
        session = job.session
        if session.language is not None:
            return session.language
        speech = session._speech_for_detection(job)
        if speech.shape[0] >= self.options.language_min_speech_s * SAMPLE_RATE:
            language, probability = self.transcriber.detect_language(speech)
            session._set_language(language, probability)
            return session.language
        return None

    def _transcribe(self, windows: list[list[_Job]]) -> list[list[_Result]]:
        """Words of each utterance of each window (windows of one call each)."""
        if len(windows) == 1:
            return [self._transcribe_window(windows[0])]
        language = windows[0][0].session.language  # the scheduler batches one known language
        laid = [self._lay_out(w) for w in windows]
        heard = self._decode_rows([audio for audio, _ in laid], language)
        return [
            self._hand_back(w, spans, words)
            for w, (_, spans), words in zip(windows, laid, heard, strict=True)
        ]

    def _transcribe_window(self, window: list[_Job]) -> list[_Result]:
        language = self._language(window[0])
        audio, spans = self._lay_out(window)
        words = self.transcriber.transcribe(audio, language=language).words
        return self._hand_back(window, spans, words)

    def _lay_out(self, window: list[_Job]) -> tuple[np.ndarray, list[tuple[float, float]]]:
        """One call's utterances as one signal, ``pack_gap_s`` apart, a second of silence after
        the last; and where each utterance lies in it (s)."""
        gap = np.zeros(round(self.options.pack_gap_s * SAMPLE_RATE), dtype=np.float32)
        parts: list[np.ndarray] = []
        spans: list[tuple[float, float]] = []
        offset = 0
        for k, job in enumerate(window):
            if k:
                parts.append(gap)
                offset += gap.shape[0]
            spans.append((offset / SAMPLE_RATE, (offset + job.samples.shape[0]) / SAMPLE_RATE))
            parts.append(job.samples)
            offset += job.samples.shape[0]
        parts.append(np.zeros(SAMPLE_RATE, dtype=np.float32))  # a second of silence closes it
        return np.concatenate(parts), spans

    def _hand_back(
        self, window: list[_Job], spans: list[tuple[float, float]], words: Sequence[Word]
    ) -> list[_Result]:
        """The words of one call's window, each to the utterance it falls in (:func:`_owner`)."""
        mine: list[list[Word]] = [[] for _ in window]
        for w in words:
            k = _owner((w.start + w.end) / 2, spans)
            if k is not None:
                mine[k].append(w)
        out: list[_Result] = []
        for job, (a, _), own in zip(window, spans, mine, strict=True):
            if len(window) > 1 and not own and job.samples.shape[0] >= 0.5 * SAMPLE_RATE:
                # Whisper sometimes skips one utterance of a full window: decode it alone
                self.stats["retries"] += 1
                out.append(self._transcribe_window([job])[0])
            else:
                out.append((self._place(own, a, job.utt), None))
        return out

    def _decode_rows(self, rows: list[np.ndarray], language: str) -> list[tuple[Word, ...]]:
        """Words of windows of different calls decoded as rows of one batch of the batched
        pipeline; each word's time is in its own row's signal.

        The rows are laid end to end, each from a whole second on, and given to the pipeline as
        its clips: one clip is one row of the batch, encoded and decoded alone, and every
        segment it returns carries its clip's start (``seek``), which says whose words they are.
        """
        fps = self.transcriber.model.frames_per_second
        starts: list[int] = []
        parts: list[np.ndarray] = []
        at = 0
        for x in rows:
            starts.append(at)
            whole = -(-x.shape[0] // SAMPLE_RATE) * SAMPLE_RATE  # on to the next second
            parts.append(np.pad(x[: 30 * SAMPLE_RATE], (0, whole - min(x.shape[0], whole))))
            at += whole
        clips = [
            {"start": a / SAMPLE_RATE, "end": (a + x.shape[0]) / SAMPLE_RATE}
            for a, x in zip(starts, rows, strict=True)
        ]
        row_of = {int(a / SAMPLE_RATE * fps): k for k, a in enumerate(starts)}
        segments, _ = self._batched.transcribe(
            np.concatenate(parts),
            language=language,
            beam_size=self.transcriber.options.beam_size,
            word_timestamps=True,
            vad_filter=False,
            clip_timestamps=clips,
            batch_size=len(rows),
        )
        out: list[list[Word]] = [[] for _ in rows]
        for segment in segments:
            k = row_of[segment.seek]
            offset, length = starts[k] / SAMPLE_RATE, rows[k].shape[0] / SAMPLE_RATE
            for w in segment.words or ():
                text = w.word.strip()
                start, end = float(w.start) - offset, float(w.end) - offset
                if not text or (start + end) / 2 > length:
                    continue
                if language == "zh":
                    text = self.transcriber._simplified(text)
                start = min(max(start, 0.0), length)
                end = min(max(end, start), length)
                out[k].append(Word(round(start, 3), round(end, 3), text, round(w.probability, 4)))
        return [tuple(ws) for ws in out]

    @staticmethod
    def _place(words: Sequence[Word], offset: float, utt: _Utterance) -> tuple[Word, ...]:
        out = []
        for w in words:
            start = min(max(utt.start + w.start - offset, utt.start), utt.end)
            end = min(max(utt.start + w.end - offset, start), utt.end)
            out.append(Word(round(start, 3), round(end, 3), w.text, w.prob))
        return tuple(sorted(out, key=lambda w: (w.start, w.end)))


# --- the pipeline --------------------------------------------------------------------------------


class StreamingPipeline:
    """Live calls of one process: shared models, one transcription worker, one session per call.

    Args:
        settings: Calmline settings (VAD, ASR, measurement, scoring, privacy).
        models: the process's model manager (shared with the batch pipeline).
        batch: the process's batch pipeline; its rubrics and report assembly are reused.
        options: buffering, cutting and packing choices.
    """

    def __init__(
        self,
        settings: Settings,
        models: ModelManager | None = None,
        *,
        batch: BatchPipeline | None = None,
        options: StreamingOptions | None = None,
    ) -> None:
        self.settings = settings
        self.batch = batch or BatchPipeline(settings, models)
        self.models = self.batch.models
        self.options = options or StreamingOptions()
        self._lock = threading.Lock()
        self._frames: VadFrames | None = None
        self._worker: AsrWorker | None = None
        self.sessions: dict[str, StreamingSession] = {}

    def warm_up(self) -> None:
        """Load the models now rather than on the first call."""
        self._vad_frames()
        self._asr()

    def _vad_frames(self) -> VadFrames:
        with self._lock:
            if self._frames is None:
                self._frames = VadFrames(self.models.vad_options())
            return self._frames

    def _asr(self) -> AsrWorker:
        with self._lock:
            if self._worker is None:
                self._worker = AsrWorker(self.models.transcriber(), self.options)
            return self._worker

    def open_session(
        self, meta: CallMeta, on_event: Callable[[LiveEvent], None] | None = None
    ) -> StreamingSession:
        """Start a live call.

        Args:
            meta: the call's facts and track map.
            on_event: called with every event as soon as it exists, from the thread that made
                it (the caller's for ``accept``, the transcription worker's for transcripts and
                findings); it must not block.

        Raises:
            StreamError: a call with this id is already live.
        """
        with self._lock:
            if meta.call_id in self.sessions:
                raise StreamError(f"call {meta.call_id!r} is already live")
        session = StreamingSession(self, meta, on_event)
        with self._lock:
            self.sessions[meta.call_id] = session
        session._started()
        return session

    def _forget(self, session: StreamingSession) -> None:
        with self._lock:
            if self.sessions.get(session.call_id) is session:
                del self.sessions[session.call_id]

    def stats(self) -> dict[str, Any]:
        worker = self._worker
        return {
            "sessions": len(self.sessions),
            "asr_pending": worker.pending() if worker else 0,
            **(dict(worker.stats) if worker else {}),
        }

    def close(self) -> None:
        """Stop the transcription worker (sessions still open get no more transcripts)."""
        if self._worker is not None:
            self._worker.stop()


@dataclass(slots=True)
class _Track:
    name: str
    role: str
    channel: int
    resampler: _Resampler
    vad: StreamingVad
    audio: _Growing = field(default_factory=_Growing)
    position: int = 0
    """Source-rate samples placed so far (received or filled)."""
    heap: list[tuple[int, int, np.ndarray]] = field(default_factory=list)
    newest: int = 0
    received: int = 0
    gaps: int = 0
    gap_samples: int = 0
    late: int = 0
    late_samples: int = 0
    offset: int = 0
    """Samples taken off the media timestamps after jumps past ``live.max_gap_s``."""
    jumps: int = 0
    last_jump: str | None = None

    @property
    def seconds(self) -> float:
        return self.audio.size / SAMPLE_RATE


@dataclass(slots=True)
class _LiveTurn:
    role: str
    track: str
    utterances: list[int]
    start: float
    end: float
    measured: tuple[float | None, float | None, float | None, int] | None = None
    """(loudness_dbfs, f0_median_hz, articulation_rate, rate units) once all its utterances
    are transcribed."""


class StreamingSession:
    """One live call. ``accept`` from one thread at a time; events may come from the
    transcription worker's thread too (through ``on_event`` and the outbox)."""

    def __init__(
        self,
        pipeline: StreamingPipeline,
        meta: CallMeta,
        on_event: Callable[[LiveEvent], None] | None,
    ) -> None:
        self.pipeline = pipeline
        self.meta = meta
        self.call_id = meta.call_id
        self.options = pipeline.options
        self.settings = pipeline.settings
        self.on_event = on_event
        self.started_at = meta.started_at if meta.started_at is not None else time.time()
        self.opened = time.perf_counter()
        self.language: str | None = None
        self.language_probability: float | None = None
        given = meta.language if meta.language not in (None, "auto") else None
        default = self.settings.asr.language
        self.language = given or (default if default != "auto" else None)
        self._lock = threading.RLock()
        self._done_cv = threading.Condition(self._lock)
        self._outbox: deque[LiveEvent] = deque(maxlen=self.options.max_outbox)
        self._seq = itertools.count()
        frames = pipeline._vad_frames()
        vad_options = pipeline.models.vad_options()
        if "mixed" not in meta.tracks.values():
            # one party per track: the stereo settings of the batch pipeline's channel_speech
            v = self.settings.vad
            vad_options = replace(
                vad_options,
                threshold=v.channels_threshold,
                min_silence_ms=v.channels_min_silence_ms,
                speech_pad_ms=v.channels_speech_pad_ms,
            )
        self.tracks: dict[str, _Track] = {
            name: _Track(
                name=name,
                role=role,
                channel=_CHANNEL_OF_ROLE[role],
                resampler=_Resampler(meta.sample_rate),
                vad=StreamingVad(frames, vad_options, self.options.max_utterance_s),
            )
            for name, role in meta.tracks.items()
        }
        self.mixed = any(t.role == "mixed" for t in self.tracks.values())
        self.utterances: list[_Utterance] = []
        self.turns: list[_LiveTurn] = []
        self._pending = 0
        self.closed = False
        self.warnings: list[str] = []
        self.received_bytes = 0
        self._reported: set[tuple] = set()
        self._alerts: dict[str, int] = {}
        self._stress: StressTrajectory | None = None
        self._agitated = False
        self._non_talk_from: float | None = 0.0  # start of the current silence, if reported once
        self._non_talk_said = False
        self._matcher: PhraseMatcher | None = None
        self._held: dict[str, _Utterance] = {}
        """Per track: a transcript held back while its digit run may go on (``_publish``)."""
        self.report: CallReport | None = None

    # --- public ----------------------------------------------------------------------------------

    @property
    def agent_id(self) -> str:
        return self.meta.agent_id

    @property
    def duration(self) -> float:
        """Audio received so far (s): the longest track."""
        return max((t.seconds for t in self.tracks.values()), default=0.0)

    def accept(self, track: str, samples: np.ndarray, t: float | None = None) -> list[LiveEvent]:
        """Add audio of one track.

        Args:
            track: a track name of ``meta.tracks``.
            samples: float (-1..1) or int16 samples at ``meta.sample_rate``, shape (n,).
            t: call time of the first sample (s), from the media timestamps; ``None`` = right
                after the previous chunk. Chunks may come out of order by up to
                ``reorder_window_s``; a gap is filled with silence, at most
                ``live.max_gap_s`` of it (a larger jump ahead is a warning and the track goes
                on from the new timestamp); audio for a time already played out is dropped.

        Returns:
            The events that became ready since the previous ``accept`` or ``drain`` (none when
            the session has an ``on_event`` callback: events then go only there).

        Raises:
            StreamError: unknown track, bad samples or timestamp, closed session, or a call
                longer than the configured maximum.
        """
        if self.closed:
            raise StreamError(f"call {self.call_id} is closed")
        tr = self.tracks.get(track)
        if tr is None:
            raise StreamError(f"unknown track {track!r}; this call has {sorted(self.tracks)}")
        x = _as_float(samples)
        rate = self.meta.sample_rate
        if t is not None and (not math.isfinite(t) or t < 0):
            raise StreamError(f"timestamp must be a non-negative number of seconds, got {t}")
        pos = tr.position if t is None else self._bounded_gap(tr, round(t * rate) - tr.offset)
        limit = self.settings.audio.max_duration_s * rate
        if pos + x.shape[0] > limit:
            raise StreamError(
                f"call {self.call_id} passed the longest accepted call "
                f"({self.settings.audio.max_duration_s:.0f} s)"
            )
        with self._lock:
            tr.received += x.shape[0]
            self.received_bytes += x.shape[0] * _WIDTH[self.meta.encoding]
            if x.shape[0]:
                heapq.heappush(tr.heap, (pos, next(self._seq), x))
                tr.newest = max(tr.newest, pos + x.shape[0])
            window = round(self.options.reorder_window_s * rate)
            # in order: at once; ahead of missing audio: once the stream is a window past it
            while tr.heap and (tr.heap[0][0] <= tr.position or tr.newest - tr.position > window):
                start, _, chunk = heapq.heappop(tr.heap)
                self._place(tr, start, chunk)
            self._after_audio()
            self._release_held()
            return self._drain()

    def drain(self) -> list[LiveEvent]:
        """Events that became ready since the previous call (and were not returned yet)."""
        with self._lock:
            return self._drain()

    def close(
        self, incomplete: bool = False, reason: str | None = None, *, announce: bool = True
    ) -> CallReport:
        """End the call: flush the audio, wait for its transcripts, make the report.

        Args:
            incomplete: the stream stopped before the call ended (the client vanished); the
                report covers what was received and says so.
            reason: why, for the report's warnings.
            announce: emit ``call_ended`` now; a caller that stores the report first passes
                ``False`` and calls :meth:`announce_end` once it is stored.

        Returns:
            The call's report (``incomplete`` set when asked), scored like an uploaded call.
        """
        with self._lock:
            if self.closed:
                if self.report is None:
                    raise StreamError(f"call {self.call_id} is closed")
                return self.report
            self.closed = True
            t_close = time.perf_counter()
            for tr in self.tracks.values():
                while tr.heap:
                    start, _, chunk = heapq.heappop(tr.heap)
                    self._place(tr, start, chunk)
                tail = tr.resampler.push(None)
                if tail.size:
                    self._vad_push(tr, tail)
            # every channel as long as the longest, as in a recorded file
            n = max((tr.audio.size for tr in self.tracks.values()), default=0)
            for tr in self.tracks.values():
                if tr.audio.size < n:
                    self._vad_push(tr, np.zeros(n - tr.audio.size, dtype=np.float32))
                for span in tr.vad.finish():
                    self._utterance(tr, span)
            self._after_audio(final=True)
            deadline = time.monotonic() + self.options.close_timeout_s
            while self._pending and time.monotonic() < deadline:
                self._done_cv.wait(timeout=0.5)
            if self._pending:
                self.warnings.append(
                    f"{self._pending} utterance(s) were not transcribed within "
                    f"{self.options.close_timeout_s:.0f} s of hang-up"
                )
            self._release_held(final=True)
            wait_s = time.perf_counter() - t_close
        try:
            report = self._final_report(incomplete, reason, wait_s)
        finally:
            self.pipeline._forget(self)
        with self._lock:
            self.report = report
        if announce:
            self.announce_end()
        return report

    def announce_end(self, extra: dict[str, Any] | None = None) -> None:
        """Emit ``call_ended`` with the report's score (after :meth:`close`)."""
        with self._lock:
            report = self.report
            if report is None:
                raise StreamError(f"call {self.call_id} has no report yet")
            sc = report.scorecard
            self._emit(
                "call_ended",
                report.metrics.duration,
                {
                    "duration": report.metrics.duration,
                    "incomplete": report.incomplete,
                    "language": report.language,
                    "overall": sc.overall if sc else None,
                    "critical": bool(sc and sc.capped_by),
                    "practices": {p.practice: p.score for p in sc.practices} if sc else {},
                    "alerts": dict(self._alerts),
                    **(extra or {}),
                },
            )

    def audio(self) -> Audio:
        """What was received, at 16 kHz: (2, n) agent/customer, or (1, n) for a mixed track."""
        with self._lock:
            n = max((tr.audio.size for tr in self.tracks.values()), default=0)
            channels = 1 if self.mixed else 2
            samples = np.zeros((channels, n), dtype=np.float32)
            for tr in self.tracks.values():
                data = tr.audio.view(0, n)
                samples[tr.channel, : data.shape[0]] = data
            info = AudioInfo(
                path=f"live:{self.call_id}",
                container="live",
                codec={"mulaw": "pcm_mulaw", "pcm16": "pcm_s16le", "float32": "pcm_f32le"}[
                    self.meta.encoding
                ],
                sample_rate=self.meta.sample_rate,
                channels=channels,
                duration=round(n / SAMPLE_RATE, 3),
                size_bytes=self.received_bytes,
            )
            return Audio(samples=samples, info=info)

    def snapshot(self, transcript_limit: int = 200) -> dict[str, Any]:
        """The call as a late subscriber should first see it: metrics and transcript so far."""
        with self._lock:
            held = [id(u) for u in self._held.values()]
            done = [u for u in self.utterances if u.done and u.text and id(u) not in held]
            done = done[-transcript_limit:]
            return {
                "call_id": self.call_id,
                "agent_id": self.agent_id,
                "started_at": self.started_at,
                "duration": round(self.duration, 3),
                "language": self.language,
                "closed": self.closed,
                "metrics": self._metrics(),
                "transcript": [self._utterance_payload(u) for u in done],
            }

    def metrics(self) -> dict[str, Any]:
        with self._lock:
            return self._metrics()

    def timestamp_jumps(self, track: str) -> tuple[int, str | None]:
        """How often ``track``'s media timestamps jumped ahead by more than ``live.max_gap_s``,
        and the warning about the latest jump."""
        tr = self.tracks.get(track)
        return (tr.jumps, tr.last_jump) if tr is not None else (0, None)

    # --- audio in --------------------------------------------------------------------------------

    def _bounded_gap(self, tr: _Track, pos: int) -> int:
        """``pos`` (source samples on the track's timeline) with a jump of the media timestamps
        past ``live.max_gap_s`` ahead of the newest audio cut to that much silence: the track
        goes on from the new timestamp (its later timestamps are shifted the same way), and the
        jump is a warning, not hours of zeros."""
        rate = self.meta.sample_rate
        max_gap = round(self.settings.live.max_gap_s * rate)
        newest = max(tr.newest, tr.position)
        jump = pos - newest
        if jump <= max_gap:
            return pos
        with self._lock:
            tr.offset += jump - max_gap
            tr.jumps += 1
            tr.last_jump = (
                f"track {tr.name}: the media timestamps jumped {jump / rate:.1f} s ahead after "
                f"{newest / rate:.1f} s of audio; {max_gap / rate:g} s of silence put in "
                "(live.max_gap_s) and the track goes on from the new timestamp"
            )
            if tr.jumps <= MAX_JUMPS_LISTED:
                self.warnings.append(tr.last_jump)
            elif tr.jumps == MAX_JUMPS_LISTED + 1:
                self.warnings.append(f"track {tr.name}: more timestamp jumps, not listed")
        return pos - (jump - max_gap)

    def _place(self, tr: _Track, start: int, chunk: np.ndarray) -> None:
        if start > tr.position:
            gap = start - tr.position
            tr.gaps += 1
            tr.gap_samples += gap
            self._feed(tr, np.zeros(gap, dtype=np.float32))
        elif start < tr.position:
            overlap = tr.position - start
            tr.late += 1
            tr.late_samples += min(overlap, chunk.shape[0])
            chunk = chunk[overlap:]
        if chunk.shape[0]:
            self._feed(tr, chunk)

    def _feed(self, tr: _Track, x: np.ndarray) -> None:
        tr.position += x.shape[0]
        y = tr.resampler.push(x)
        if y.size:
            self._vad_push(tr, y)

    def _vad_push(self, tr: _Track, y: np.ndarray) -> None:
        tr.audio.append(y)
        for span in tr.vad.push(y, self.options.vad_frames):
            self._utterance(tr, span)

    def _utterance(self, tr: _Track, span: _Span) -> None:
        utt = _Utterance(
            index=len(self.utterances),
            track=tr.name,
            role=tr.role,
            channel=tr.channel,
            start=span.start,
            end=span.end,
            speech_end=span.speech_end,
            closed_at=time.perf_counter(),
        )
        self.utterances.append(utt)
        self._join_turn(utt)
        samples = tr.audio.view(round(utt.start * SAMPLE_RATE), round(utt.end * SAMPLE_RATE))
        self._pending += 1
        urgent = self._interruption_candidate(utt)
        self.pipeline._asr().submit(_Job(self, utt, samples.copy()), urgent=urgent)
        self._check_interruptions(trigger=utt)
        self._emit("metrics", utt.end, {**self._metrics(), "utterance_end": utt.speech_end})

    def _join_turn(self, utt: _Utterance) -> None:
        """The turn rule of ``monitor.turns.build_turns``: a speaker's utterance continues their
        last turn when the pause is short and nobody else started talking in between."""
        last = next((t for t in reversed(self.turns) if t.track == utt.track), None)
        if last is not None and self._joins(utt.track, last.end, utt.start):
            last.utterances.append(utt.index)
            last.end = max(last.end, utt.end)
            last.measured = None
            utt.turn = self.turns.index(last)
            return
        self.turns.append(_LiveTurn(utt.role, utt.track, [utt.index], utt.start, utt.end))
        utt.turn = len(self.turns) - 1

    def _starts_of_others(self, track: str, lo: float, hi: float) -> bool:
        for u in reversed(self.utterances):
            if u.end < lo - self.options.window_s:
                break
            if u.track != track and lo <= u.start < hi:
                return True
        for tr in self.tracks.values():
            if tr.name != track and tr.vad.in_speech and lo <= (tr.vad.start or 0.0) < hi:
                return True
        return False

    def _now(self) -> float:
        """Call time every track has reached (s)."""
        heard = [tr.seconds for tr in self.tracks.values() if tr.position > 0]
        return min(heard) if heard else 0.0

    def _after_audio(self, final: bool = False) -> None:
        now = self._now()
        if any(tr.vad.in_speech for tr in self.tracks.values()):
            self._non_talk_from = None
            return
        last_end = max((u.end for u in self.utterances), default=0.0)
        if self._non_talk_from is None or self._non_talk_from < last_end:
            self._non_talk_from = last_end
            self._non_talk_said = False
        threshold = self.settings.measure.non_talk_min_s
        if not self._non_talk_said and now - self._non_talk_from > threshold and not final:
            self._non_talk_said = True
            start = self._non_talk_from
            self._alert("non_talk")
            self._emit(
                "non_talk",
                start,
                {
                    "start": round(start, 3),
                    "duration_s": round(now - start, 3),
                    "threshold_s": threshold,
                    "utterance_end": round(start + threshold, 3),
                },
            )

    # --- transcripts in --------------------------------------------------------------------------

    def _speech_for_detection(self, job: _Job) -> np.ndarray:
        """Closed speech of the call so far (up to 30 s) for language detection."""
        with self._lock:
            parts, total = [], 0
            for u in self.utterances:
                tr = self.tracks[u.track]
                x = tr.audio.view(round(u.start * SAMPLE_RATE), round(u.end * SAMPLE_RATE))
                parts.append(x)
                total += x.shape[0]
                if total >= 30 * SAMPLE_RATE:
                    break
            if not parts:
                return job.samples
            return np.concatenate(parts)[: 30 * SAMPLE_RATE].copy()

    def _set_language(self, language: str, probability: float | None) -> None:
        with self._lock:
            if self.language is None:
                self.language = language
                self.language_probability = probability

    def _transcribed(self, utt: _Utterance, words: tuple[Word, ...], error: str | None) -> None:
        with self._lock:
            utt.words = words
            utt.text = _join(words, self.language or "en")
            utt.done = True
            self._pending -= 1
            if error:
                self.warnings.append(f"utterance at {utt.start:.2f} s: {error}")
            self._done_cv.notify_all()
            self._publish(utt)
            if self.mixed or not self.language:
                return
            try:
                self._judge(utt)
            except Exception:
                logger.exception("live judging failed for call %s", self.call_id)

    # --- live transcript redaction: a digit run said across utterances is redacted whole -------

    def _publish(self, utt: _Utterance) -> None:
        """Emit ``utt``'s transcript, after the track's held one; hold ``utt`` back instead
        while it ends in a digit run that the speaker's next utterance may continue."""
        held = self._held.pop(utt.track, None)
        if held is not None:
            self._emit_transcript(held)
        if self.settings.privacy.redact and not self.closed and _digits_at(utt, end=True):
            self._held[utt.track] = utt
        else:
            self._emit_transcript(utt)

    def _release_held(self, final: bool = False) -> None:
        """Emit held transcripts whose digit run can no longer go on: the track moved on more
        than ``MAX_GAP_S`` past the run with no utterance starting in that time (a later
        utterance's transcript releases the held one itself), or the call ended."""
        for track, u in list(self._held.items()):
            end = u.words[-1].end
            tr = self.tracks[track]
            later = next((v for v in self.utterances[u.index + 1 :] if v.track == track), None)
            if later is not None:
                going_on = later.start <= end + MAX_GAP_S
            elif tr.vad.in_speech:
                going_on = (tr.vad.start or 0.0) <= end + MAX_GAP_S
            else:
                going_on = tr.seconds <= end + MAX_GAP_S
            if final or not going_on:
                del self._held[track]
                self._emit_transcript(u)

    def _emit_transcript(self, u: _Utterance) -> None:
        payload = self._utterance_payload(u)
        self._emit("transcript", u.start, {**payload, "utterance_end": u.speech_end})

    def _neighbour(self, u: _Utterance, step: int) -> _Utterance | None:
        """The track's transcribed utterance before (-1) or after (1) ``u``, if it has words."""
        i = u.index + step
        while 0 <= i < len(self.utterances):
            v = self.utterances[i]
            if v.track == u.track:
                return v if v.done and v.words else None
            i += step
        return None

    def _redacted_words(self, u: _Utterance) -> tuple[Word, ...]:
        """``u``'s words redacted together with the track's utterances that a digit run goes
        on into (or comes from), and the utterance before them for the words that name it."""
        chain = [u]
        before = self._neighbour(u, -1)
        while before is not None and _crosses(before, chain[0]):
            chain.insert(0, before)
            before = self._neighbour(before, -1)
        after = self._neighbour(u, 1)
        while after is not None and _crosses(chain[-1], after):
            chain.append(after)
            after = self._neighbour(after, 1)
        groups = ([before.words] if before is not None else []) + [v.words for v in chain]
        privacy = self.settings.privacy
        out = redact_word_groups(groups, privacy.kinds, long_numbers=privacy.long_numbers)
        return out[len(groups) - len(chain) + chain.index(u)]

    def _utterance_payload(self, u: _Utterance) -> dict[str, Any]:
        words = u.words
        if self.settings.privacy.redact and words:
            words = self._redacted_words(u)
        return {
            "role": "unknown" if u.role == "mixed" else u.role,
            "track": u.track,
            "start": u.start,
            "end": u.end,
            "text": _join(words, self.language or "en"),
            "words": [[w.start, w.end, w.text, w.prob] for w in words],
        }

    # --- live judges -----------------------------------------------------------------------------

    def _rubric(self) -> Rubric:
        return self.pipeline.batch.rubric_for(self.language or "en")

    def _matcher_for(self, rubric: Rubric) -> PhraseMatcher:
        if self._matcher is None or self._matcher.language != rubric.language:
            self._matcher = PhraseMatcher(rubric.matching, rubric.language)
        return self._matcher

    def _turn_obj(self, i: int, transcribed_only: bool = True) -> Turn:
        lt = self.turns[i]
        utts = [self.utterances[k] for k in lt.utterances]
        if transcribed_only:
            utts = [u for u in utts if u.done]
        words = _joined_words(utts, self.language or "en")
        channel = _CHANNEL_OF_ROLE[lt.role]
        start = min((u.start for u in utts), default=lt.start)
        end = max((u.end for u in utts), default=lt.end)
        metrics = None
        if lt.measured is not None:
            loud, f0, rate, _ = lt.measured
            metrics = TurnMetrics(
                duration=round(end - start, 3),
                speech_rate=None,
                articulation_rate=rate,
                rate_unit=rate_unit(self.language or "en"),
                loudness_dbfs=loud,
                loudness_rel_db=self._rel_loudness(lt.role, loud),
                f0_median_hz=f0,
                f0_rel_semitones=self._rel_f0(lt.role, f0),
                f0_range_semitones=None,
                mean_word_prob=None,
                low_conf_share=None,
                gap_before=None,
                overlap=0.0,
            )
        return Turn(
            index=i,
            speaker=f"channel_{channel}",
            role=Role(lt.role),
            start=start,
            end=end,
            text=_join(words, self.language or "en"),
            words=words,
            channel=channel,
            metrics=metrics,
        )

    def _measured_turns(self, role: str) -> list[_LiveTurn]:
        return [t for t in self.turns if t.role == role and t.measured is not None]

    def _rel_loudness(self, role: str, loud: float | None) -> float | None:
        levels = [t.measured[0] for t in self._measured_turns(role) if t.measured[0] is not None]
        if loud is None or not levels:
            return None
        return round(loud - median(levels), 2)

    def _rel_f0(self, role: str, f0: float | None) -> float | None:
        pitches = [t.measured[1] for t in self._measured_turns(role) if t.measured[1] is not None]
        if f0 is None or not pitches:
            return None
        return round(12.0 * math.log2(f0 / median(pitches)), 2)

    def _measure_turn(self, i: int) -> None:
        """Level, F0 and articulation rate of a turn whose utterances are all transcribed,
        measured on its own audio with the batch pipeline's definitions."""
        lt = self.turns[i]
        if lt.measured is not None or not all(self.utterances[k].done for k in lt.utterances):
            return
        turn = self._turn_obj(i)
        tr = self.tracks[lt.track]
        a, b = round(turn.start * SAMPLE_RATE), round(turn.end * SAMPLE_RATE)
        x = tr.audio.view(a, b)
        units = count_units(turn.words, self.language or "en")
        if x.shape[0] < SAMPLE_RATE // 10:
            lt.measured = (None, None, None, units)
            return
        offset = a / SAMPLE_RATE
        local = replace(
            turn,
            start=0.0,
            end=x.shape[0] / SAMPLE_RATE,
            channel=None,
            words=tuple(
                Word(max(0.0, w.start - offset), max(0.0, w.end - offset), w.text, w.prob)
                for w in turn.words
            ),
        )
        info = AudioInfo("live", "live", "pcm_f32le", SAMPLE_RATE, 1, local.end, 0)
        (measured,), _ = measure(
            Audio(samples=x[None, :].copy(), info=info),
            [local],
            self.language or "en",
            MeasureOptions(
                low_conf_threshold=self.settings.measure.low_conf_threshold,
                non_talk_min_s=self.settings.measure.non_talk_min_s,
            ),
        )
        m = measured.metrics
        lt.measured = (m.loudness_dbfs, m.f0_median_hz, m.articulation_rate, units)

    def _judge(self, utt: _Utterance) -> None:
        """Live findings after a transcript: the rubric's own detectors on the live turns."""
        rubric = self._rubric()
        self._measure_turn(utt.turn)
        if utt.role == "customer":
            self._customer_stress(rubric, utt)
        else:
            self._phrases(rubric, utt)
            self._louder_faster(rubric, utt)
        self._check_interruptions(trigger=utt)

    def _mini_report(self, turns: Sequence[Turn], duration: float) -> CallReport:
        """A report of a few live turns, for detectors that only read turns."""
        # the call's talk time so far, not the few turns': detectors judge against it
        talk = {r: 0.0 for r in ("agent", "customer")} | self._metrics()["talk_time"]
        return CallReport(
            call_id=self.call_id,
            audio=AudioInfo(f"live:{self.call_id}", "live", "", self.meta.sample_rate, 2, 0, 0),
            language=self.language or "en",
            language_probability=None,
            attribution="channels",
            roles=_CHANNEL_ROLES,
            segments=(),
            turns=tuple(turns),
            overlaps=(),
            metrics=CallMetrics(
                duration=duration,
                talk_time=talk,
                talk_ratio=None,
                overlap_time=0.0,
                non_talk=(),
                non_talk_time=0.0,
                turn_count=len(turns),
                speakers=(),
            ),
            models=(),
            timings={},
        )

    def _context(self, rubric: Rubric, turns: Sequence[Turn]) -> DetectorContext:
        report = self._mini_report(turns, self._now())
        stress = self._stress or estimate_stress(report, rubric, self._matcher_for(rubric))
        return DetectorContext(
            report=report, rubric=rubric, matcher=self._matcher_for(rubric), stress=stress
        )

    def _phrases(self, rubric: Rubric, utt: _Utterance) -> None:
        """Apology demands, acknowledgements and repeated acknowledgements in the agent's
        current turn, by the ``no_apology_demand`` and ``acknowledge`` detectors."""
        turn = self._turn_obj(utt.turn)
        if not turn.text.strip():
            return
        ctx = self._context(rubric, [turn])
        wanted = {
            "no_apology_demand": {"apology_demand": "apology_demand"},
            "acknowledge": {"ack_phrase": "acknowledgement", "repeated_ack": "repeated_ack"},
        }
        for practice_id, kinds in wanted.items():
            practice = rubric.practices.get(practice_id)
            detector = detector_for(practice_id)
            if practice is None or not practice.enabled or detector is None:
                continue
            for f in detector(ctx, practice_id, practice).findings:
                event = kinds.get(f.kind)
                if event is None:
                    continue
                self._alert_once(
                    (event, round(f.start, 1), f.phrase),
                    f.start,
                    {
                        "start": f.start,
                        "end": f.end,
                        "quote": self._scrub(f.quote),
                        "phrase": f.phrase,
                        "severity": str(f.severity),
                        "practice": practice_id,
                        "detail": f.detail,
                        "utterance_end": utt.speech_end,
                    },
                )

    def _louder_faster(self, rubric: Rubric, utt: _Utterance) -> None:
        """``let_finish``'s ``louder`` and ``faster`` findings for the agent turn just measured,
        by the batch detector itself run on the measured turns so far: the same baseline (the
        agent's own turns, this one included: median level, median articulation rate over turns
        of :data:`~calmline.monitor.stress.MIN_RATE_UNITS` units or more), the same thresholds
        from the rubric (``louder_db``, ``faster_ratio``), only while the customer is agitated
        (the customer's trajectory so far at the turn's start), and a rate only over
        ``min_rate_phonation_s`` of phonation (``monitor.measure``)."""
        lt = self.turns[utt.turn]
        practice = rubric.practices.get("let_finish")
        detector = detector_for("let_finish")
        if lt.measured is None or practice is None or not practice.enabled or detector is None:
            return
        turns = [self._turn_obj(i) for i, t in enumerate(self.turns) if t.measured is not None]
        ctx = self._context(rubric, turns)
        findings = detector(ctx, "let_finish", practice).findings
        events = {"louder": "agent_louder", "faster": "agent_faster"}
        for f in findings:
            if f.turn_index != utt.turn or f.kind not in events:
                continue
            agitation = ctx.agitation_at(f.start)  # what the detector judged it by
            data: dict[str, Any] = {
                "start": f.start,
                "end": f.end,
                "quote": self._scrub(f.quote),
                "customer_agitation": agitation,
                "customer_agitated": True,
                "severity": str(f.severity),
                "practice": "let_finish",
                "detail": f.detail,
                "utterance_end": utt.speech_end,
            }
            if f.kind == "louder":
                data |= {"loudness_rel_db": f.value, "threshold_db": f.threshold}
            else:
                data |= {"rate_ratio": f.value, "threshold_ratio": f.threshold}
            self._alert_once((events[f.kind], utt.turn), f.start, data)

    def _customer_stress(self, rubric: Rubric, utt: _Utterance) -> None:
        """The customer's agitation per turn so far (``monitor.stress``); an alert when the
        latest turn crosses the rubric's agitated level."""
        ids = [i for i, t in enumerate(self.turns) if t.role == "customer"]
        turns = [self._turn_obj(i) for i in ids if self.turns[i].measured is not None]
        if not turns:
            return
        report = self._mini_report(turns, self._now())
        self._stress = estimate_stress(report, rubric, self._matcher_for(rubric))
        latest = self._stress.turns[-1]
        level = rubric.stress.agitated_level
        if latest.agitation >= level and not self._agitated:
            self._agitated = True
            previous = self._stress.turns[-2].agitation if len(self._stress.turns) > 1 else None
            self._alert("agitation_rising")
            self._emit(
                "agitation_rising",
                latest.start,
                {
                    "start": latest.start,
                    "end": latest.end,
                    "agitation": latest.agitation,
                    "previous": previous,
                    "threshold": level,
                    "loudness_rel_db": latest.loudness_rel_db,
                    "f0_rel_semitones": latest.f0_rel_semitones,
                    "rate_rel": latest.rate_rel,
                    "anger_words": list(latest.anger_words),
                    "utterance_end": utt.speech_end,
                },
            )
        elif latest.agitation < level:
            self._agitated = False

    def _agitation(self) -> float | None:
        if self._stress is None or not self._stress.turns:
            return None
        return self._stress.turns[-1].agitation

    def _check_interruptions(self, trigger: _Utterance) -> None:
        """``let_finish``'s interruption rule (``docs/interruptions.md``,
        :func:`calmline.monitor.detectors.let_finish.interruption_events`) on the speech so far:
        the closed utterances of both tracks and the speech in progress as segments, the
        transcribed words of the turns. An agent interruption is told as soon as its outcome
        cannot change: the agent's stretch has ended and all its words are in (the rule reads
        its length and its words), while the customer may still be talking (the overlap only
        grows with the customer's speech, so once it passes ``min_overlap_s`` it stays)."""
        if self.mixed:
            return
        rubric = self._rubric()
        practice = rubric.practices.get("let_finish")
        if practice is None or not practice.enabled:
            return
        now = self._now()
        horizon = now - self.options.window_s
        segments, open_from = self._live_segments(horizon)
        agent = next((tr for tr in self.tracks.values() if tr.role == "agent"), None)
        if agent is None or not segments:
            return
        turns = [self._turn_obj(i) for i, lt in enumerate(self.turns) if lt.end > horizon]
        report = replace(self._mini_report(turns, now), segments=tuple(segments))
        ctx = DetectorContext(
            report=report,
            rubric=rubric,
            matcher=self._matcher_for(rubric),
            stress=self._stress or estimate_stress(report, rubric, self._matcher_for(rubric)),
        )
        rules = FloorRules.of(rubric, practice)
        for event, turn in interruption_events(ctx, rules):
            if turn.role is not Role.AGENT or not self._settled(agent, event, open_from):
                continue
            held_until = _stretch_end(segments, event.interrupted, event.held_since)
            customer_open = open_from.get(self._customer_track() or "")
            ongoing = customer_open is not None and customer_open <= held_until + 1e-6
            if self._alert_once(
                ("interruption", round(event.start, 2)),
                event.start,
                {
                    "agent_start": round(event.start, 3),
                    "overlap_s": round(event.overlap, 3),
                    "customer_start": round(event.held_since, 3),
                    "customer_end": None if ongoing else round(held_until, 3),
                    "agent_end": round(event.stretch.end, 3),
                    "quote": self._scrub(_join(event.stretch.words or (), report.language)),
                    "min_overlap_s": rules.min_overlap_s,
                    "min_speech_s": rules.backchannel_max_s,
                    "utterance_end": trigger.speech_end,
                },
            ):
                # the running count changed after the utterances' own metrics went out
                self._emit(
                    "metrics", trigger.end, {**self._metrics(), "utterance_end": trigger.speech_end}
                )

    def _interruption_candidate(self, utt: _Utterance) -> bool:
        """Whether agent utterance ``utt`` may be an interruption that only its words can still
        settle: long enough to take the floor and over customer speech that started before it
        by more than ``simultaneous_start_s``, for ``min_overlap_s`` or more. Its transcription
        goes to the head of the line, so the alert is not held up behind other calls' backlog
        (such utterances are few: a call cannot take the line by them)."""
        if self.mixed or utt.role != "agent":
            return False
        rubric = self._rubric()
        practice = rubric.practices.get("let_finish")
        if practice is None or not practice.enabled:
            return False
        rules = FloorRules.of(rubric, practice)
        if utt.end - utt.start < rules.backchannel_max_s:
            return False
        segments, _ = self._live_segments(utt.start - self.options.max_utterance_s)
        for s in segments:
            if s.channel != 1 or utt.start - s.start <= rules.simultaneous_start_s:
                continue
            if min(s.end, utt.end) - max(s.start, utt.start) >= rules.min_overlap_s:
                return True
        return False

    def _customer_track(self) -> str | None:
        return next((tr.name for tr in self.tracks.values() if tr.role == "customer"), None)

    def _live_segments(self, horizon: float) -> tuple[list[SpeechSegment], dict[str, float | None]]:
        """The speech of both tracks since ``horizon`` as segments (``channel_0`` agent,
        ``channel_1`` customer): closed utterances, and per track the span in progress up to
        the track's end so far; and per track where its span in progress starts (``None``: not
        talking). The start of a span in progress is final (the VAD's padding rule, clipped at
        the previous span), only its end grows."""
        segments = [
            SpeechSegment(u.start, u.end, f"channel_{u.channel}", u.channel)
            for u in self.utterances
            if u.end > horizon
        ]
        open_from: dict[str, float | None] = {}
        for tr in self.tracks.values():
            start = tr.vad.open_start()
            open_from[tr.name] = start
            end = tr.vad.open_end(tr.seconds)
            if start is not None and end > start:
                segments.append(SpeechSegment(start, end, f"channel_{tr.channel}", tr.channel))
        return sorted(segments, key=lambda s: (s.start, s.end)), open_from

    def _settled(
        self, agent: _Track, event: Interruption, open_from: dict[str, float | None]
    ) -> bool:
        """Whether the agent's stretch of ``event`` is over (no speech in progress continues
        it) and every utterance in it is transcribed."""
        stretch = event.stretch
        start = open_from.get(agent.name)
        if start is not None and start <= stretch.end + 1e-6:
            return False
        return all(
            u.done
            for u in self.utterances
            if u.track == agent.name and u.start < stretch.end and u.end > stretch.start
        )

    def _joins(self, track: str, end: float, start: float) -> bool:
        """Whether speech starting at ``start`` continues the track's turn that ended at
        ``end`` (``build_turns``' rule)."""
        pause = start - end
        if pause <= 0:
            return True
        others = self._starts_of_others(track, end - 1e-6, start)
        return not others and pause <= self.settings.measure.max_turn_pause_s

    # --- events ----------------------------------------------------------------------------------

    def _scrub(self, text: str | None) -> str | None:
        privacy = self.settings.privacy
        if text and privacy.redact:
            return redact_text(text, privacy.kinds, long_numbers=privacy.long_numbers)
        return text

    def _alert(self, kind: str) -> None:
        self._alerts[kind] = self._alerts.get(kind, 0) + 1

    def _alert_once(self, key: tuple, t: float, data: dict[str, Any]) -> bool:
        """Count and emit the alert ``key[0]`` unless ``key`` was reported already (the judges
        look at a window of the call again after every utterance); whether it was emitted."""
        if key in self._reported:
            return False
        self._reported.add(key)
        self._alert(key[0])
        self._emit(key[0], t, data)
        return True

    def _emit(self, kind: str, t: float, data: dict[str, Any]) -> None:
        event = LiveEvent(
            type=kind,
            call_id=self.call_id,
            agent_id=self.agent_id,
            t=round(float(t), 3),
            data=data,
            emitted_at=time.time(),
            seq=next(self._seq),
        )
        if self.on_event is None:
            self._outbox.append(event)
        else:
            try:
                self.on_event(event)
            except Exception:
                logger.exception("live event subscriber failed for call %s", self.call_id)

    def _drain(self) -> list[LiveEvent]:
        out = list(self._outbox)
        self._outbox.clear()
        return out

    def _started(self) -> None:
        with self._lock:
            self._emit(
                "call_started",
                0.0,
                {
                    "started_at": self.started_at,
                    "tracks": dict(self.meta.tracks),
                    "sample_rate": self.meta.sample_rate,
                    "encoding": self.meta.encoding,
                    "language": self.language,
                },
            )

    def _metrics(self) -> dict[str, Any]:
        """Running metrics: talk time per role, talk ratio, overlap, alerts, agitation."""
        now = self._now()
        spans: dict[str, list[tuple[float, float]]] = {}
        for u in self.utterances:
            spans.setdefault(u.role, []).append((u.start, u.end))
        for tr in self.tracks.values():
            if tr.vad.in_speech:
                spans.setdefault(tr.role, []).append((tr.vad.start or 0.0, tr.seconds))
        talk = {("unknown" if r == "mixed" else r): round(_length(s), 3) for r, s in spans.items()}
        agent, customer = talk.get("agent", 0.0), talk.get("customer", 0.0)
        overlap = _intersection(spans.get("agent", []), spans.get("customer", []))
        return {
            "duration": round(now, 3),
            "talk_time": talk,
            "talk_ratio": round(agent / (agent + customer), 3) if agent + customer > 0 else None,
            "overlap_time": round(overlap, 3),
            "interruptions": self._alerts.get("interruption", 0),
            "customer_agitation": self._agitation(),
            "alerts": dict(self._alerts),
            "language": self.language,
        }

    # --- report ----------------------------------------------------------------------------------

    def _final_report(self, incomplete: bool, reason: str | None, wait_s: float) -> CallReport:
        audio = self.audio()
        warnings = list(self.warnings)
        for tr in self.tracks.values():
            rate = self.meta.sample_rate
            if tr.gaps:
                warnings.append(
                    f"track {tr.name}: {tr.gaps} gap(s) in the media timestamps, "
                    f"{tr.gap_samples / rate:.2f} s filled with silence"
                )
            if tr.late:
                warnings.append(
                    f"track {tr.name}: {tr.late} chunk(s) arrived after their time had passed, "
                    f"{tr.late_samples / rate:.2f} s dropped"
                )
            if tr.position == 0:
                warnings.append(f"track {tr.name} ({tr.role}) sent no audio")
        if incomplete:
            warnings.append(
                f"incomplete: {reason or 'the stream ended without a stop message'} after "
                f"{audio.duration:.1f} s; the report covers the audio received"
            )
        batch = self.pipeline.batch
        timings = {"hangup_wait": round(wait_s, 3)}
        if audio.samples.shape[1] == 0:
            raise StreamError(f"call {self.call_id} ended before any audio arrived")
        if self.mixed:
            request = AnalyzeRequest(language=self.language, call_id=self.call_id)
            report = batch.analyze_audio(audio, request, timings=timings)
            report = replace(report, warnings=(*report.warnings, *warnings))
        else:
            segments = sorted(
                (
                    SpeechSegment(u.start, u.end, f"channel_{u.channel}", u.channel)
                    for u in self.utterances
                ),
                key=lambda s: (s.start, s.end),
            )
            words_by_channel: dict[int | None, tuple[Word, ...]] = {}
            for channel in (0, 1):
                utts = [u for u in self.utterances if u.channel == channel]
                words_by_channel[channel] = tuple(
                    sorted(
                        _joined_words(utts, self.language or "en", by_turn=True),
                        key=lambda w: (w.start, w.end),
                    )
                )
            if not segments:
                warnings.append("no speech found")
            roles = roles_from_channels({0: "channel_0", 1: "channel_1"}, 0)
            report = batch.assemble_report(
                audio,
                segments,
                words_by_channel,
                roles,
                call_id=self.call_id,
                language=self.language or ("en" if not segments else None),
                language_probability=self.language_probability,
                attribution="channels",
                models_used=[
                    self.pipeline.models.vad().info,
                    self.pipeline.models.transcriber().info,
                ],
                warnings=warnings,
                timings=timings,
            )
        return replace(report, incomplete=incomplete)


TAIL_S = 0.2
"""A word may end this far after its utterance's end (s); later ones are in the silence."""


def _owner(mid: float, windows: Sequence[tuple[float, float]]) -> int | None:
    """Which packed utterance a word belongs to, by the time of its middle.

    Inside a window: that utterance. In the silence between two: the previous utterance when
    within :data:`TAIL_S` of its end, else the next one (Whisper starts the first word after a
    pause early, by up to half a second, and rarely ends one late). After the last window: the
    last utterance within :data:`TAIL_S`, else nobody: words well into the closing silence are
    made up by the recogniser from the silence itself.
    """
    for k, (a, b) in enumerate(windows):
        if mid < a:
            if k and mid <= windows[k - 1][1] + TAIL_S:
                return k - 1
            return k
        if mid < b:
            return k
    return len(windows) - 1 if windows and mid <= windows[-1][1] + TAIL_S else None


_CHANNEL_ROLES = RoleAssignment(
    roles={"channel_0": Role.AGENT, "channel_1": Role.CUSTOMER}, method="channels"
)


_SENTENCE_END = re.compile(r"[.!?]+$")


def _joined_words(
    utts: Sequence[_Utterance], language: str, by_turn: bool = False
) -> tuple[Word, ...]:
    """The words of consecutive utterances of one speaker, as one text.

    Each utterance is recognised on its own, so Whisper ends it with a full stop even where
    the speaker only paused ("tomorrow morning." | "or on Thursday"). In English a next
    utterance of the same turn that starts in lower case continues the sentence: the stop is
    dropped, as a recogniser hearing both at once would have written it. Mandarin has no case
    to tell, and keeps its punctuation. ``by_turn``: only join utterances of the same live turn.
    """
    out: list[Word] = []
    previous: _Utterance | None = None
    for u in utts:
        if (
            out
            and u.words
            and previous is not None
            and (not by_turn or previous.turn == u.turn)
            and not language.startswith("zh")
            and u.words[0].text[:1].islower()
            and _SENTENCE_END.sub("", out[-1].text)
            and _SENTENCE_END.search(out[-1].text)
        ):
            last = out[-1]
            out[-1] = Word(last.start, last.end, _SENTENCE_END.sub("", last.text), last.prob)
        out.extend(u.words)
        if u.words:
            previous = u
    return tuple(out)


def _stretch_end(segments: Sequence[SpeechSegment], speaker: str, start: float) -> float:
    """End of ``speaker``'s stretch that starts at ``start``: their segments (sorted by start)
    from there on, joined while they touch or overlap (``monitor.floor.stretches``, join gap 0)."""
    end = start
    for s in segments:
        if s.speaker != speaker or s.end <= end:
            continue
        if s.start > end + 1e-9 and end > start:
            break
        if s.start <= end + 1e-9 or s.start == start:
            end = max(end, s.end)
    return end


def _digits_at(u: _Utterance, end: bool) -> bool:
    """Whether ``u``'s words end (``end``) or start with a digit run that may go on across an
    utterance boundary."""
    if not u.words:
        return False
    reader = DigitReader([w.text for w in u.words], [(w.start, w.end) for w in u.words], MAX_GAP_S)
    return reader.trailing_run() if end else reader.leading_run()


def _crosses(a: _Utterance, b: _Utterance) -> bool:
    """A digit run said at the end of ``a`` may go on at the start of ``b`` (same track)."""
    return (
        b.words[0].start - a.words[-1].end <= MAX_GAP_S
        and _digits_at(a, end=True)
        and _digits_at(b, end=False)
    )


def _join(words: Sequence[Word], language: str) -> str:
    return ("" if language == "zh" else " ").join(w.text for w in words)


def _length(spans: Sequence[tuple[float, float]]) -> float:
    return sum(b - a for a, b in union_spans(spans))


def _intersection(x: Sequence[tuple[float, float]], y: Sequence[tuple[float, float]]) -> float:
    ux, uy = union_spans(x), union_spans(y)
    total, i, j = 0.0, 0, 0
    while i < len(ux) and j < len(uy):
        lo, hi = max(ux[i][0], uy[j][0]), min(ux[i][1], uy[j][1])
        if hi > lo:
            total += hi - lo
        if ux[i][1] < uy[j][1]:
            i += 1
        else:
            j += 1
    return total
