"""Speech spans from VAD frame probabilities, one frame at a time: the one span engine.

:class:`SpanEngine` holds the rules that turn Silero's per-frame probabilities into padded
speech spans (hysteresis, the minimum silence that ends a span, the minimum speech kept, the
padding clipped at the neighbours) as a state machine carried across chunks. The batch pipeline
feeds a whole file through it (``vad_silero.spans_from_probabilities``), a live track feeds it
chunk by chunk (:class:`StreamingVad`): one definition of a speech span, so a streamed channel
gets the spans the batch pipeline finds in the same audio, to the millisecond.

A span is final when its closing silence has passed: its padded end can then never reach the
next span, which starts at least ``min_silence_ms`` later (this holds while ``speech_pad_ms`` is
shorter than ``min_silence_ms``, as in every shipped setting).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from calmline.models.vad_silero import CONTEXT, FRAME, SileroVad, VadOptions
from calmline.monitor.types import SAMPLE_RATE

FRAME_S = FRAME / SAMPLE_RATE
"""Length of one VAD frame (s)."""


@dataclass(slots=True)
class Span:
    """A closed speech span (s)."""

    start: float
    end: float
    speech_end: float
    """Where speech ended before padding (s): the moment the speaker stopped."""


class SpanEngine:
    """Speech spans of one signal as its frame probabilities arrive.

    Args:
        options: thresholds and durations (``VadOptions``).
        max_span_s: a span is cut after this long even if the speech goes on (a live
            recogniser window holds 30 s); ``inf`` for whole files.
    """

    def __init__(self, options: VadOptions, max_span_s: float = math.inf) -> None:
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
        self._max = max_span_s
        self.frames = 0
        """Frames judged so far."""
        self.start: float | None = None
        """Where the speech in progress started (s, unpadded); ``None`` outside speech."""
        self.silence_since: float | None = None
        """Where the silence that may end the speech in progress started (s)."""
        self._last_end = 0.0  # padded end of the last kept span (unrounded)

    @property
    def in_speech(self) -> bool:
        return self.start is not None

    def feed(self, probs: Iterable[float]) -> list[Span]:
        """Judge the next frames; returns the spans that closed."""
        out: list[Span] = []
        for p in probs:
            span = self._step(float(p))
            if span is not None:
                out.append(span)
        return out

    def _step(self, p: float) -> Span | None:
        t = self.frames * FRAME_S
        self.frames += 1
        if self.start is None:
            if p >= self._on:
                self.start = t
                self.silence_since = None
            return None
        if p < self._off:
            if self.silence_since is None:
                self.silence_since = t
            elif t + FRAME_S - self.silence_since >= self._min_silence:
                span = self._close(self.start, self.silence_since, t + FRAME_S)
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

    def _close(self, start: float, end: float, limit: float, pad: bool = True) -> Span | None:
        if end - start < self._min_speech:
            return None
        pad_s = self._pad if pad else 0.0
        a = max(self._last_end, start - pad_s, 0.0)
        b = min(end + pad_s, limit + pad_s)
        self._last_end = b
        if b <= a:
            return None
        return Span(round(a, 3), round(b, 3), round(end, 3))

    def open_start(self) -> float | None:
        """Start of the span in progress as it will be when it closes (its padding, clipped at
        the previous span), or ``None`` outside speech."""
        if self.start is None:
            return None
        return round(max(self._last_end, self.start - self._pad, 0.0), 3)

    def open_end(self, heard: float) -> float:
        """Where the span in progress ends so far, the signal having been heard up to ``heard``
        (s): there, or where its speech stopped plus the padding while its closing silence is
        still being confirmed."""
        if self.silence_since is not None:
            return min(heard, round(self.silence_since + self._pad, 3))
        return heard

    def finish(self, duration: float) -> list[Span]:
        """End of the signal (``duration`` s long): the span still open, if long enough."""
        out: list[Span] = []
        if self.start is not None:
            end = self.silence_since if self.silence_since is not None else self.frames * FRAME_S
            if end - self.start >= self._min_speech:
                a = max(self._last_end, self.start - self._pad, 0.0)
                b = min(end + self._pad, duration)
                if b > a:
                    out.append(Span(round(a, 3), round(b, 3), round(end, 3)))
                    self._last_end = b
            self.start = None
            self.silence_since = None
        return out


class StreamingVad:
    """Speech spans of one live track as its 16 kHz samples arrive.

    The process's one Silero session (:meth:`SileroVad.frame_probabilities`) runs the frames
    with this track's recurrent state and context, carried across chunks; the spans come from a
    :class:`SpanEngine`. Whole-file and chunked probabilities are the same, so are the spans.

    Args:
        model: the shared Silero VAD.
        options: the span rules for this track (the stereo ``vad.channels_*`` settings when the
            track carries one party).
        max_utterance_s: a span is cut after this long.
    """

    def __init__(self, model: SileroVad, options: VadOptions, max_utterance_s: float) -> None:
        self._model = model
        self.options = options
        self.engine = SpanEngine(options, max_utterance_s)
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self.held: list[np.ndarray] | None = None
        """While not ``None``: probabilities computed and not yet fed to the engine (a gate
        releases them once it has judged their frames; :meth:`hold`, :meth:`release`)."""
        self.held_frames = 0
        self._fed: list[np.ndarray] = []

    def fed_probabilities(self) -> np.ndarray:
        """Every probability the span engine has read, from the track's first frame (those a
        gate silenced at 0): what the batch pipeline's pause rule reads of a channel."""
        if len(self._fed) > 1:
            self._fed = [np.concatenate(self._fed)]
        return self._fed[0] if self._fed else np.zeros(0, dtype=np.float32)

    def _feed(self, probs: np.ndarray) -> list[Span]:
        probs = np.asarray(probs, dtype=np.float32)
        self._fed.append(probs)
        return self.engine.feed(probs)

    @property
    def in_speech(self) -> bool:
        return self.engine.in_speech

    @property
    def start(self) -> float | None:
        return self.engine.start

    @property
    def frames(self) -> int:
        """Frames whose probabilities exist (fed to the engine or held)."""
        return self.engine.frames + self.held_frames

    def open_start(self) -> float | None:
        return self.engine.open_start()

    def open_end(self, heard: float) -> float:
        return self.engine.open_end(heard)

    def hold(self) -> None:
        """From now on keep the probabilities until :meth:`release` feeds them."""
        if self.held is None:
            self.held = []

    def held_probabilities(self) -> np.ndarray:
        """The held probabilities, oldest first (frames ``engine.frames`` on)."""
        if not self.held:
            return np.zeros(0, dtype=np.float32)
        if len(self.held) > 1:
            self.held = [np.concatenate(self.held)]
        return self.held[0]

    def release(self, n: int, silenced: np.ndarray | None = None) -> list[Span]:
        """Feed the ``n`` oldest held frames to the engine, those where ``silenced`` (bool, at
        least ``n`` long) holds at probability 0; returns the spans that closed."""
        if n <= 0 or self.held is None:
            return []
        probs = self.held_probabilities()
        n = min(n, probs.size)
        out = probs[:n].copy()
        if silenced is not None:
            out[silenced[:n]] = 0.0
        self.held = [probs[n:]] if n < probs.size else []
        self.held_frames -= n
        return self._feed(out)

    def push(self, x: np.ndarray, min_frames: int = 1) -> list[Span]:
        """Feed 16 kHz samples; returns the spans that closed (none while holding). The model
        runs once at least ``min_frames`` whole frames are waiting (one call per frame costs
        more than the frame)."""
        buf = np.concatenate([self._pending, x]) if self._pending.size else x
        k = buf.shape[0] // FRAME
        if k < max(1, min_frames):
            self._pending = buf.copy() if buf is x else buf
            return []
        self._pending = buf[k * FRAME :].copy()
        frames = buf[: k * FRAME].reshape(k, FRAME)
        probs, self._h, self._c = self._model.frame_probabilities(
            frames, self._context, self._h, self._c
        )
        self._context = frames[-1, -CONTEXT:].copy()
        if self.held is not None:
            self.held.append(np.asarray(probs, dtype=np.float32))
            self.held_frames += len(probs)
            return []
        return self._feed(probs)

    def flush(self) -> tuple[int, list[Span]]:
        """End of the track's audio: the last partial frame (zero-padded) through the model.
        Returns the track's length in samples before that padding, and the spans that closed
        (none while holding)."""
        n_samples = self.frames * FRAME + self._pending.size
        spans: list[Span] = []
        if self._pending.size:
            buf, self._pending = self._pending, np.zeros(0, dtype=np.float32)
            spans = self.push(np.pad(buf, (0, (-buf.size) % FRAME)))
        return n_samples, spans

    def finish(self, n_samples: int | None = None) -> list[Span]:
        """End of the track: the last partial frame (zero-padded), every frame still held (fed
        unjudged) and any open span. ``n_samples``: the length :meth:`flush` returned, when the
        caller flushed already."""
        out: list[Span] = []
        if n_samples is None:
            n_samples, out = self.flush()
        out += self.release(self.held_frames)
        return out + self.engine.finish(n_samples / SAMPLE_RATE)
