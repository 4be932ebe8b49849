"""Per-track and per-turn state of a live call, and the span arithmetic of its running metrics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from calmline.models.vad_spans import StreamingVad
from calmline.monitor.audio import StreamResampler
from calmline.monitor.types import SAMPLE_RATE
from calmline.pipelines.batch import union_spans


class Growing:
    """A float32 (or ``dtype``) array that grows at the end in amortised O(1)."""

    def __init__(self, capacity: int = SAMPLE_RATE * 60, dtype: type = np.float32) -> None:
        self._data = np.zeros(capacity, dtype=dtype)
        self.size = 0

    def append(self, x: np.ndarray) -> None:
        need = self.size + x.shape[0]
        if need > self._data.shape[0]:
            grown = np.zeros(max(need, 2 * self._data.shape[0]), dtype=self._data.dtype)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : need] = x
        self.size = need

    def view(self, start: int = 0, end: int | None = None) -> np.ndarray:
        end = self.size if end is None else min(end, self.size)
        return self._data[max(0, start) : max(0, end)]


@dataclass(slots=True)
class Track:
    name: str
    role: str
    channel: int
    resampler: StreamResampler
    vad: StreamingVad
    audio: Growing = field(default_factory=Growing)
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
class LiveTurn:
    role: str
    track: str
    utterances: list[int]
    start: float
    end: float
    measured: tuple[float | None, float | None, float | None, int] | None = None
    """(loudness_dbfs, f0_median_hz, articulation_rate, rate units) once all its utterances
    are transcribed."""
    sound: tuple[float | None, float | None] | None = None
    """(loudness_dbfs, f0_median_hz) of its closed utterances, words or not (``live/voice.py``);
    ``None`` until measured, and again when an utterance joins the turn."""


def span_length(spans: Sequence[tuple[float, float]]) -> float:
    return sum(b - a for a, b in union_spans(spans))


def span_intersection(x: Sequence[tuple[float, float]], y: Sequence[tuple[float, float]]) -> float:
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
