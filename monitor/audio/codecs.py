"""Sample-level conversions shared by recorded files and live tracks: FFmpeg's resampler, for a
whole signal and chunk by chunk with the same output, and the G.711 mu-law table of raw telephone
bytes (Twilio media, live clients; files go through FFmpeg)."""

from __future__ import annotations

import av
import numpy as np

from calmline.monitor.types import SAMPLE_RATE


def resample(samples: np.ndarray, sample_rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """Resample with FFmpeg's resampler; returns a new float32 array.

    Args:
        samples: float, shape (n,) or (channels, n), any number of channels.
        sample_rate: rate of ``samples`` (Hz).
        target: rate wanted (Hz).

    Returns:
        float32, same number of dimensions as ``samples``, about ``n * target / sample_rate``
        samples per channel.

    Raises:
        ValueError: a rate is not positive, or ``samples`` is not 1-D or 2-D.
    """
    if sample_rate <= 0 or target <= 0:
        raise ValueError(f"sample rates must be positive, got {sample_rate} -> {target}")
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim not in (1, 2):
        raise ValueError(f"expected (n,) or (channels, n) samples, got shape {x.shape}")
    rows = x[None, :] if x.ndim == 1 else x
    if sample_rate == target:
        out = rows.copy()
    elif rows.shape[1] == 0:
        out = np.zeros((rows.shape[0], 0), dtype=np.float32)
    else:
        # one mono pass per channel: no layout is guessed, so channels can never be mixed
        out = np.stack([_resample_mono(row, sample_rate, target) for row in rows])
    return out[0] if x.ndim == 1 else out


def _resample_mono(x: np.ndarray, sample_rate: int, target: int) -> np.ndarray:
    r = StreamResampler(sample_rate, target)
    return np.concatenate([r.push(x), r.push(None)])


class StreamResampler:
    """FFmpeg's resampler fed a mono signal chunk by chunk (a live track): the output of the
    chunks, then of ``push(None)``, equals :func:`resample` of the whole signal sample for
    sample (it is what :func:`resample` runs)."""

    def __init__(self, sample_rate: int, target: int = SAMPLE_RATE) -> None:
        self.rate = sample_rate
        self._r = (
            av.AudioResampler(format="fltp", layout="mono", rate=target)
            if sample_rate != target
            else None
        )

    def push(self, x: np.ndarray | None) -> np.ndarray:
        """float32 (n,) at the source rate -> float32 (m,) at the target; ``None`` flushes."""
        if self._r is None:
            return np.zeros(0, np.float32) if x is None else x
        if x is None:
            frames = self._r.resample(None)
        else:
            if x.size == 0:
                return np.zeros(0, np.float32)
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(x[None, :], dtype=np.float32), format="fltp", layout="mono"
            )
            frame.sample_rate = self.rate
            frames = self._r.resample(frame)
        parts = [f.to_ndarray()[0] for f in frames]
        return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)


def _mulaw_table() -> np.ndarray:
    """G.711 mu-law byte -> int16 sample (the decoder FFmpeg's ``pcm_mulaw`` implements)."""
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(u & 0x80, -magnitude, magnitude).astype(np.int16)


MULAW_TO_INT16 = _mulaw_table()
"""Raw mu-law bytes (Twilio media, live clients) -> int16 samples; files go through FFmpeg."""
