"""Audio held in memory: samples wrapped as an :class:`~calmline.monitor.types.Audio`, and
samples written out as 16-bit PCM WAV."""

from __future__ import annotations

import os
import wave
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from calmline.monitor.audio.codecs import resample
from calmline.monitor.errors import (
    AudioDecodeError,
    AudioZeroLengthError,
    TooManyChannelsError,
)
from calmline.monitor.types import SAMPLE_RATE, Audio, AudioInfo


def write_wav(samples: np.ndarray, sample_rate: int, path: str | os.PathLike[str]) -> Path:
    """Write float32 (channels, n) samples as 16-bit PCM WAV, atomically (a partly written file
    never stands at ``path``). Returns the path."""
    return write_wav_blocks([samples], samples.shape[0], sample_rate, path)


def write_wav_blocks(
    blocks: Iterable[np.ndarray], channels: int, sample_rate: int, path: str | os.PathLike[str]
) -> Path:
    """Write consecutive float32 (channels, n) blocks as one 16-bit PCM WAV, atomically, holding
    one block at a time in memory (a long call's export stays bounded). Returns the path."""
    out = Path(path)
    tmp = out.with_name(out.name + ".tmp")
    try:
        with wave.open(str(tmp), "wb") as w:
            w.setnchannels(channels)
            w.setsampwidth(2)
            w.setframerate(sample_rate)
            for block in blocks:
                if block.shape[0] != channels:
                    raise ValueError(f"block has {block.shape[0]} channels, expected {channels}")
                pcm = np.round(np.clip(block, -1.0, 1.0) * 32767).astype("<i2")
                w.writeframes(pcm.T.tobytes())
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def audio_from_array(
    samples: np.ndarray, sample_rate: int = SAMPLE_RATE, name: str = "<array>"
) -> Audio:
    """Wrap in-memory samples as an :class:`Audio`.

    Args:
        samples: float samples in [-1, 1], shape (n,) or (channels, n) with 1 or 2 channels.
            Copied, never mutated or shared.
        sample_rate: rate of ``samples`` (Hz); resampled to 16 kHz when different.
        name: stands in for a file path in ``info`` and in error messages.

    Raises:
        AudioDecodeError: not a 1-D or 2-D array, or a non-positive ``sample_rate``.
        TooManyChannelsError: more than two channels.
        AudioZeroLengthError: no samples.
    """
    x = np.array(samples, dtype=np.float32)  # a copy: the caller keeps its array
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise AudioDecodeError(name, f"expected (n,) or (channels, n) samples, got {x.shape}")
    if x.shape[0] > 2:
        raise TooManyChannelsError(
            name, f"{x.shape[0]} channels in shape {x.shape}; expected (channels<=2, n)"
        )
    if x.shape[1] == 0:
        raise AudioZeroLengthError(name, "no samples")
    if sample_rate <= 0:
        raise AudioDecodeError(name, f"sample rate must be positive, got {sample_rate}")
    if sample_rate != SAMPLE_RATE:
        x = resample(x, sample_rate)
    info = AudioInfo(
        path=name,
        container="array",
        codec="pcm_f32",
        sample_rate=sample_rate,
        channels=int(x.shape[0]),
        duration=round(x.shape[1] / SAMPLE_RATE, 3),
        size_bytes=int(x.nbytes),
    )
    return Audio(samples=np.ascontiguousarray(x), info=info)
