"""Write small test recordings in any format PyAV can encode (no ffmpeg command needed).

Tests build their audio here instead of shipping binary fixtures, so a format can be added or a
signal changed in one line. Every writer takes float32 samples shaped (channels, n) in [-1, 1].
"""

from __future__ import annotations

import os
import struct
import wave
from pathlib import Path

import av
import numpy as np

# Encoder names for the formats a call recording arrives in. ``pcm_*`` go in WAV.
WAV_CODECS = (
    "pcm_u8",
    "pcm_s16le",
    "pcm_s24le",
    "pcm_s32le",
    "pcm_f32le",
    "pcm_mulaw",
    "pcm_alaw",
)


def tone(freq_hz: float, duration_s: float, sample_rate: int, amplitude: float = 0.5) -> np.ndarray:
    """A sine tone, float32 shape (n,)."""
    t = np.arange(round(duration_s * sample_rate)) / sample_rate
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def tones(
    freqs_hz: tuple[float | None, ...],
    duration_s: float,
    sample_rate: int,
    amplitude: float = 0.5,
) -> np.ndarray:
    """One tone per channel (``None`` = silence), float32 shape (channels, n)."""
    n = round(duration_s * sample_rate)
    rows = [
        tone(f, duration_s, sample_rate, amplitude) if f else np.zeros(n, np.float32)
        for f in freqs_hz
    ]
    return np.stack(rows)


def write_audio(
    path: str | os.PathLike[str],
    samples: np.ndarray,
    sample_rate: int,
    codec: str,
    container: str | None = None,
    *,
    bit_rate: int | None = None,
    muxer_options: dict[str, str] | None = None,
) -> Path:
    """Encode ``samples`` to ``path`` with PyAV.

    Args:
        path: output file; its extension picks the container unless ``container`` is given.
        samples: float32 (channels, n) or (n,), values in [-1, 1]; 1 to 8 channels.
        sample_rate: rate of ``samples`` and of the written stream (Hz); it must be one the
            encoder accepts (Opus: 8/12/16/24/48 kHz).
        codec: FFmpeg encoder name, e.g. ``pcm_mulaw``, ``libmp3lame``, ``flac``, ``libopus``,
            ``aac``.
        container: FFmpeg muxer name (``wav``, ``mp3``, ``flac``, ``ogg``, ``ipod`` …).
        bit_rate: for lossy encoders (bits/s); the encoder's default when ``None``.
        muxer_options: FFmpeg muxer options, e.g. ``{"write_xing": "0"}`` (MP3 without a
            length header) or ``{"movflags": "faststart"}`` (MP4 index before the data).

    Returns:
        ``path`` as a :class:`Path`.

    Raises:
        ValueError: the encoder does not accept ``sample_rate``.
    """
    path = Path(path)
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    channels = x.shape[0]
    rates = av.codec.Codec(codec, "w").audio_rates
    if rates and sample_rate not in rates:
        raise ValueError(f"{codec} cannot encode at {sample_rate} Hz (accepts {rates})")

    with av.open(str(path), mode="w", format=container, options=muxer_options) as out:
        stream = out.add_stream(codec, rate=sample_rate, layout=_layout(channels))
        if bit_rate:
            stream.codec_context.bit_rate = bit_rate
        ctx = stream.codec_context
        ctx.open()  # fixes the sample format and frame size the encoder wants
        # the resampler converts float to the encoder's sample format and, for codecs with a
        # fixed frame size (MP3, AAC, Opus), cuts frames of exactly that size
        resampler = av.AudioResampler(
            format=ctx.format.name,
            layout=_layout(channels),
            rate=sample_rate,
            frame_size=ctx.frame_size or None,
        )
        src = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(x), format="fltp", layout=_layout(channels)
        )
        src.sample_rate = sample_rate
        src.pts = 0
        for frame in [*resampler.resample(src), *resampler.resample(None)]:
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def write_wav_header_only(path: str | os.PathLike[str], sample_rate: int = 8000) -> Path:
    """A valid 16-bit mono WAV with a 44-byte header and no samples."""
    path = Path(path)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(b"")
    return path


def write_wav_declaring_more(
    path: str | os.PathLike[str],
    samples: np.ndarray,
    sample_rate: int,
    declared_s: float,
) -> Path:
    """A 16-bit PCM WAV whose header declares ``declared_s`` of audio but holds ``samples`` only.

    This is what a recording cut off mid-transfer looks like: the header was written first.
    """
    path = Path(path)
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    channels = x.shape[0]
    pcm = (np.clip(x.T, -1, 1) * 32767).astype("<i2").tobytes()
    declared_bytes = round(declared_s * sample_rate) * channels * 2
    header = b"RIFF" + struct.pack("<I", 36 + declared_bytes) + b"WAVE"
    header += b"fmt " + struct.pack(
        "<IHHIIHH", 16, 1, channels, sample_rate, sample_rate * channels * 2, channels * 2, 16
    )
    header += b"data" + struct.pack("<I", declared_bytes)
    path.write_bytes(header + pcm)
    return path


def set_wav_data_size(path: str | os.PathLike[str], data_size: int) -> Path:
    """Rewrite the size in a WAV's ``data`` chunk header (and the RIFF size), in place.

    ``0xFFFFFFFF`` (or 0) is what a recorder streaming WAV leaves when it never finalises.
    """
    path = Path(path)
    data = bytearray(path.read_bytes())
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(f"{path}: not a RIFF WAVE file")
    pos = 12
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        if data[pos : pos + 4] == b"data":
            data[pos + 4 : pos + 8] = struct.pack("<I", data_size)
            data[4:8] = struct.pack("<I", min(pos + data_size, 0xFFFFFFFF))
            path.write_bytes(bytes(data))
            return path
        pos += 8 + size + (size & 1)
    raise ValueError(f"{path}: no data chunk")


def set_flac_total_samples(path: str | os.PathLike[str], total: int) -> Path:
    """Rewrite the total-sample count in a FLAC file's STREAMINFO, in place (0 = unknown)."""
    path = Path(path)
    data = bytearray(path.read_bytes())
    if data[:4] != b"fLaC" or data[4] & 0x7F != 0:
        raise ValueError(f"{path}: no STREAMINFO block first")
    # STREAMINFO bytes 10-17: rate (20 bits), channels (3), bits (5), total samples (36)
    field = int.from_bytes(data[18:26], "big")
    field = (field & ~((1 << 36) - 1)) | (total & ((1 << 36) - 1))
    data[18:26] = field.to_bytes(8, "big")
    path.write_bytes(bytes(data))
    return path


def write_video_only(path: str | os.PathLike[str], frames: int = 5) -> Path:
    """A tiny MPEG-4 video file with no audio stream (``.mp4`` or ``.mkv``)."""
    path = Path(path)
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for i in range(frames):
            img = np.full((32, 32, 3), i * 40, dtype=np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(stream.encode(None))
    return path


def write_png(path: str | os.PathLike[str]) -> Path:
    """A small PNG image, written with PyAV's PNG encoder."""
    path = Path(path)
    with av.open(str(path), mode="w", format="image2") as out:
        stream = out.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "rgb24"
        img = np.zeros((16, 16, 3), dtype=np.uint8)
        img[:, :8] = 255
        out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(stream.encode(None))
    return path


def truncate(path: str | os.PathLike[str], keep: float) -> Path:
    """Cut a file to its first ``keep`` fraction of bytes, in place."""
    path = Path(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def overwrite_middle(path: str | os.PathLike[str], fraction: float = 0.3, seed: int = 0) -> Path:
    """Write random bytes over the middle ``fraction`` of a file, in place (size unchanged)."""
    path = Path(path)
    data = bytearray(path.read_bytes())
    n = int(len(data) * fraction)
    start = (len(data) - n) // 2
    data[start : start + n] = np.random.default_rng(seed).integers(0, 256, n, np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path


_LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


def _layout(channels: int) -> str:
    return _LAYOUTS[channels]
