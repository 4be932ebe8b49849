"""Silero VAD (ONNX through onnxruntime), the model file shipped inside faster-whisper."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import numpy as np

from calmline.models.base import vad_backends
from calmline.models.device import resolve_device
from calmline.monitor.errors import ModelLoadError
from calmline.monitor.spool import read_span
from calmline.monitor.types import SAMPLE_RATE, ModelInfo

FRAME = 512
"""Samples per VAD frame at 16 kHz (32 ms)."""
CONTEXT = 64
"""Samples of left context the v6 model expects in front of every frame."""
_BLOCK_FRAMES = 1_000
"""Frames per model run (32 s); also how much of the signal is read at a time. The model's
working memory grows with it (about 18 MB per 1000 frames); the probabilities do not depend on
it, since the recurrent state is carried from run to run."""


@dataclass(frozen=True, slots=True)
class VadOptions:
    """How speech probabilities become speech spans.

    Attributes:
        threshold: probability at or above which a frame starts speech.
        neg_threshold: probability under which a frame counts as silence once in speech
            (hysteresis); ``None`` = threshold - 0.15.
        min_speech_ms: spans shorter than this are dropped.
        min_silence_ms: a silence must last this long to end a span.
        speech_pad_ms: padding added on each side of a span (clipped at neighbours and edges).
        model_path: an ONNX file to use instead of the one shipped with faster-whisper.
        device: ``auto``, ``cpu`` or ``cuda``.
    """

    threshold: float = 0.5
    neg_threshold: float | None = None
    min_speech_ms: int = 150
    min_silence_ms: int = 300
    speech_pad_ms: int = 60
    model_path: str | None = None
    device: str = "auto"


def default_model_path() -> str:
    from faster_whisper.utils import get_assets_path

    return os.path.join(get_assets_path(), "silero_vad_v6.onnx")


class SileroVad:
    """Frame-level speech probabilities and speech spans from Silero VAD v6.

    The session is shared read-only; ``speech_probabilities`` keeps its recurrent state local to
    the call, so one instance serves many threads.
    """

    def __init__(self, options: VadOptions | None = None) -> None:
        import onnxruntime

        self.options = options or VadOptions()
        path = self.options.model_path or default_model_path()
        if not os.path.isfile(path):
            raise ModelLoadError(f"Silero VAD model not found at {path}")
        choice = resolve_device(self.options.device)
        sess_options = onnxruntime.SessionOptions()
        sess_options.inter_op_num_threads = 1
        sess_options.intra_op_num_threads = 1
        sess_options.log_severity_level = 4
        try:
            self._session = onnxruntime.InferenceSession(
                path, providers=list(choice.onnx_providers), sess_options=sess_options
            )
        except Exception as e:
            raise ModelLoadError(f"cannot load Silero VAD from {path}: {e}") from e
        self._lock = threading.Lock()
        provider = self._session.get_providers()[0]
        self.info = ModelInfo(
            kind="vad",
            name="silero-vad-v6",
            version=os.path.basename(path),
            device="cuda" if provider == "CUDAExecutionProvider" else "cpu",
        )

    def speech_probabilities(self, samples: np.ndarray) -> np.ndarray:
        """Speech probability of each 32 ms frame: float32 (n,) at 16 kHz -> float32 (frames,).

        The signal is read and run ``_BLOCK_FRAMES`` frames at a time, the recurrent state and
        the 64 context samples carried from block to block, so memory does not grow with the
        signal's length and a file-backed signal (:mod:`calmline.monitor.spool`) is never
        resident whole; the result is the same as one pass over the whole signal.
        """
        if samples.ndim != 1:
            raise ValueError("VAD expects a one-dimensional signal")
        n = samples.shape[0]
        if n == 0:
            return np.zeros(0, dtype=np.float32)
        h = np.zeros((1, 1, 128), dtype=np.float32)
        c = np.zeros((1, 1, 128), dtype=np.float32)
        tail = np.zeros(CONTEXT, dtype=np.float32)  # the first frame has zeros in front
        out = []
        block = _BLOCK_FRAMES * FRAME
        for lo in range(0, n, block):
            x = read_span(samples, lo, min(lo + block, n)).astype(np.float32, copy=False)
            frames = np.pad(x, (0, (-x.shape[0]) % FRAME)).reshape(-1, FRAME)  # (frames, 512)
            # each frame is fed with the last 64 samples of the previous one in front of it
            context = np.empty((frames.shape[0], CONTEXT), dtype=np.float32)
            context[0] = tail
            context[1:] = frames[:-1, -CONTEXT:]
            tail = frames[-1, -CONTEXT:].copy()
            batch = np.concatenate([context, frames], axis=1)  # (frames, 576)
            probs, h, c = self._session.run(None, {"input": batch, "h": h, "c": c})
            out.append(np.asarray(probs).reshape(-1))
        return np.concatenate(out).astype(np.float32)

    def frame_probabilities(
        self, frames: np.ndarray, context: np.ndarray, h: np.ndarray, c: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Probabilities of consecutive frames with the recurrent state kept by the caller: a
        live track carries its own state across chunks through this one shared session.

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

    def detect(self, samples: np.ndarray) -> list[tuple[float, float]]:
        probs = self.speech_probabilities(samples)
        return spans_from_probabilities(probs, self.options, samples.shape[0] / SAMPLE_RATE)


def spans_from_probabilities(
    probs: np.ndarray, options: VadOptions, duration: float
) -> list[tuple[float, float]]:
    """Turn per-frame probabilities into padded speech spans (seconds), with hysteresis.

    The whole signal goes through the same :class:`~calmline.models.vad_spans.SpanEngine` a live
    track feeds chunk by chunk, so batch and live calls have one definition of a speech span.

    Args:
        probs: float32 (frames,), one value per 512-sample frame at 16 kHz.
        options: thresholds and durations.
        duration: length of the signal (s); spans never pass it.
    """
    from calmline.models.vad_spans import SpanEngine  # the engine module imports this one

    engine = SpanEngine(options)
    spans = engine.feed(probs) + engine.finish(duration)
    limit = round(duration, 3)
    return [(s.start, min(s.end, limit)) for s in spans if min(s.end, limit) > s.start]


@vad_backends.register("silero")
def create_silero(options: VadOptions | None = None) -> SileroVad:
    return SileroVad(options)
