"""Decode any common call recording to float32 at 16 kHz, channels kept.

One decoder (PyAV / FFmpeg) for every container and codec: WAV (PCM 8/16/24/32-bit, float,
mu-law, A-law), MP3, FLAC, OGG/Opus, M4A/AAC. Every failure is a typed error naming the file.

Damaged files. A recording that lost part of its audio is refused with
:class:`~calmline.monitor.errors.AudioCorruptError` rather than scored as if it were the whole
call. FFmpeg alone does not say so reliably: it clamps a WAV's declared length to the bytes
present, drops FLAC frames that fail their CRC and Ogg pages that fail theirs without an error,
and ends a cut Ogg stream at its last whole page as if it were complete. So besides any decode
error, ``load_audio`` compares what it decoded with what the file declares:

* Every format: a packet the decoder rejects (damaged MP3 or AAC frames, a FLAC frame cut short).
* WAV: the ``data`` chunk size in the header against the bytes in the file.
* FLAC (STREAMINFO), Ogg (last page), MP4/M4A (``moov``), Matroska, MP3 with a Xing/Info/VBRI
  header: the declared duration against the decoded duration.
* Ogg: a stream must end with its end-of-stream page; a cut file has none.
* MP4/M4A whose ``moov`` index was lost (cut before it was written): cannot be opened, reported
  as corrupt because the file starts like an MP4.

What cannot be detected is decoded as it is, and that is the documented behaviour: an MP3
without a Xing/Info header (plain CBR) cut short decodes to the audio it holds, because nothing
in it declares a length; so does a WAV whose recorder never finalised its header (data size 0 or
0xFFFFFFFF); bytes overwritten inside PCM data decode as noise, because PCM has no checksum.
"""

from __future__ import annotations

import os
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from calmline.monitor.errors import (
    AudioCorruptError,
    AudioDecodeError,
    AudioEmptyError,
    AudioMissingError,
    AudioTooLongError,
    AudioZeroLengthError,
    NotAudioError,
    TooManyChannelsError,
)
from calmline.monitor.spool import SampleSpool
from calmline.monitor.types import SAMPLE_RATE, Audio, AudioInfo

AUDIO_SUFFIXES = frozenset(
    {".wav", ".mp3", ".flac", ".ogg", ".opus", ".m4a", ".aac", ".mp4", ".wma", ".au"}
)
"""File name endings treated as call audio when scanning folders."""

_DURATION_SLACK_S = 0.25
"""Encoder priming and frame padding (MP3, AAC, Opus) make a file decode longer than its nominal
length: tens of ms, up to about 0.17 s for an 8 kHz MP3 without a gapless header. The duration
limit allows this much before refusing."""

_TRUNCATION_TOLERANCE_S = 0.1
"""Decoding this much less than the file declares is still a complete file (Opus pre-skip, a
partial last sample); more than this and audio is missing."""

_HEAD_BYTES = 64 * 1024
_OGG_MAX_PAGE = 27 + 255 + 255 * 255

# Demuxers whose duration comes from the file's own index or header, not from a bit-rate
# estimate; only these can show that audio is missing. MP3 qualifies only with a Xing/Info/VBRI
# header (the frame count).
_DECLARES_LENGTH = frozenset(
    {"wav", "w64", "aiff", "flac", "ogg", "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "caf"}
)

# (offset, magic, name): files that start like these are audio containers, so a failure to open
# them means damage, not a wrong file type.
_SIGNATURES = (
    (0, b"fLaC", "FLAC"),
    (0, b"OggS", "Ogg"),
    (0, b"ID3", "MP3"),
    (4, b"ftyp", "MP4/M4A"),
    (0, b"\x1a\x45\xdf\xa3", "Matroska/WebM"),
    (0, b"caff", "CAF"),
    (0, b"#!AMR", "AMR"),
)


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """Limits applied while decoding.

    Attributes:
        max_duration_s: longest accepted call (default 4 h). A file whose container declares a
            longer duration is refused before decoding; otherwise decoding stops as soon as the
            limit is passed, so a long file is never held whole in memory.
        max_channels: more channels than this is an error (telephony: agent + customer).
        spool_after_s: a call longer than this (s) is decoded into a temporary file instead of
            memory (:mod:`calmline.monitor.spool`): ``Audio.samples`` is then a read-only
            memmap with the same values, and memory no longer grows with the call's length.
        spool_dir: directory of that temporary file (``None`` = the system's, ``TMPDIR``);
            it needs 128 kB of free disk per second and channel (1.8 GB for 4 h of stereo).
    """

    max_duration_s: float = 4 * 3600.0
    max_channels: int = 2
    spool_after_s: float = 600.0
    spool_dir: str | None = None

    def __post_init__(self) -> None:
        if not self.max_duration_s > 0:
            raise ValueError(f"max_duration_s must be positive, got {self.max_duration_s}")
        if self.max_channels < 1:
            raise ValueError(f"max_channels must be at least 1, got {self.max_channels}")
        if not self.spool_after_s >= 0:
            raise ValueError(f"spool_after_s must not be negative, got {self.spool_after_s}")


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


def load_audio(path: str | os.PathLike[str], options: LoadOptions | None = None) -> Audio:
    """Decode ``path`` to float32 samples at 16 kHz, shape (channels, n).

    Channels are kept in file order (stereo telephony: one party per channel). Samples are
    clipped to [-1, 1]. A call longer than ``options.spool_after_s`` is decoded into a
    temporary file and ``samples`` is a read-only memmap of it (same values); decoding stops as
    soon as ``options.max_duration_s`` is passed, whatever the file declares.

    Args:
        path: the recording.
        options: limits; :class:`LoadOptions` defaults when ``None``.

    Returns:
        The decoded call. ``info.sample_rate`` is the source rate (for Opus, the rate the audio
        was recorded at, which the stream header keeps; Opus itself always decodes at 48 kHz).

    Raises:
        AudioMissingError: no such file.
        AudioEmptyError: the file has zero bytes.
        NotAudioError: not a container/stream the decoder knows, or no audio stream in it.
        AudioCorruptError: truncated or damaged (see the module docstring for what is detected).
        AudioZeroLengthError: a valid file that holds no samples.
        AudioTooLongError: longer than ``options.max_duration_s``.
        TooManyChannelsError: more than ``options.max_channels`` channels.
        AudioDecodeError: the file cannot be read (permissions, I/O error).
    """
    options = options or LoadOptions()
    sink = _Collector(options)
    try:
        info = _read(path, options, sink)
    except BaseException:
        sink.discard()
        raise
    return Audio(samples=sink.samples(), info=info)


def probe_audio(path: str | os.PathLike[str], options: LoadOptions | None = None) -> AudioInfo:
    """Check that ``path`` decodes as :func:`load_audio` would, without keeping the samples.

    The file is decoded frame by frame and only counted, so memory stays at a few megabytes
    whatever the file holds, and decoding stops with :class:`AudioTooLongError` as soon as
    ``options.max_duration_s`` is passed (a header that lies about the length, or declares
    none, costs at most the limit's worth of decoding). Everything :func:`load_audio` refuses
    is refused with the same error; ``AudioInfo.duration`` is the duration it would decode.

    Raises:
        The errors of :func:`load_audio`.
    """
    return _read(path, options or LoadOptions(), _Counter())


class _Counter:
    """Decode sink that keeps nothing: the sample count and whether a value was not finite."""

    def __init__(self) -> None:
        self.total = 0
        self.nonfinite = False

    def add(self, chunk: np.ndarray) -> None:
        self.total += chunk.shape[1]
        if not self.nonfinite and not np.isfinite(chunk).all():
            self.nonfinite = True

    def finish(self, channels: int) -> None:
        return None

    def discard(self) -> None:
        return None


class _Collector(_Counter):
    """Decode sink that keeps the samples clipped to [-1, 1]: in memory up to
    ``options.spool_after_s``, then in a :class:`~calmline.monitor.spool.SampleSpool`."""

    def __init__(self, options: LoadOptions) -> None:
        super().__init__()
        self._options = options
        self._spool_after = round(options.spool_after_s * SAMPLE_RATE)
        self._capacity = round((options.max_duration_s + _DURATION_SLACK_S + 1.0) * SAMPLE_RATE)
        self._chunks: list[np.ndarray] = []
        self._spool: SampleSpool | None = None
        self._result: np.ndarray | None = None

    def add(self, chunk: np.ndarray) -> None:
        super().add(chunk)
        # float formats (WAV float, decoded MP3/AAC overshoot) can exceed full scale
        clipped = np.clip(chunk, -1.0, 1.0).astype(np.float32, copy=False)
        if self._spool is not None:
            self._spool.append(clipped)
            return
        self._chunks.append(clipped)
        if self.total > self._spool_after:
            self._spool = SampleSpool(clipped.shape[0], self._capacity, self._options.spool_dir)
            for kept in self._chunks:
                self._spool.append(kept)
            self._chunks = []

    def finish(self, channels: int) -> None:
        if self._spool is not None:
            self._result = self._spool.samples()
            self._spool = None
        elif self._chunks:
            self._result = np.ascontiguousarray(np.concatenate(self._chunks, axis=1))
        else:
            self._result = np.zeros((channels, 0), dtype=np.float32)
        self._chunks = []

    def samples(self) -> np.ndarray:
        assert self._result is not None, "finish() not called"
        return self._result

    def discard(self) -> None:
        if self._spool is not None:
            self._spool.close()
        self._spool, self._chunks, self._result = None, [], None


def _open_container(name: str, head: bytes) -> av.container.InputContainer:
    """Open ``name`` for reading; a file that cannot be opened raises the error that says why
    (missing, unreadable, a known format cut short or damaged, not audio)."""
    try:
        return av.open(name, mode="r", metadata_errors="ignore", options=_demuxer_options(head))
    except FileNotFoundError as e:  # removed since _read_head looked
        raise AudioMissingError(name, "file not found") from e
    except PermissionError as e:
        raise AudioDecodeError(name, "cannot read the file (permission denied)") from e
    except av.error.FFmpegError as e:
        kind = _sniff(head)
        if kind is not None:
            raise AudioCorruptError(
                name,
                f"truncated or damaged: the file starts as {kind} but cannot be opened "
                f"({_ffmpeg_reason(e)})",
            ) from e
        raise NotAudioError(name, f"not a recognised audio format ({_ffmpeg_reason(e)})") from e
    except OSError as e:
        raise AudioDecodeError(name, f"cannot read the file ({e})") from e


def _read(path: str | os.PathLike[str], options: LoadOptions, sink: _Counter) -> AudioInfo:
    """Open, check and decode ``path`` into ``sink``; the checks of :func:`load_audio`."""
    name = os.fspath(path)
    size, head = _read_head(name)

    with _open_container(name, head) as container:
        fmt = container.format.name if container.format else "unknown"
        if not container.streams.audio:
            kinds = ", ".join(sorted({s.type for s in container.streams})) or "no streams"
            raise NotAudioError(name, f"no audio stream in the file (it holds: {kinds})")
        stream = container.streams.audio[0]
        ctx = stream.codec_context
        if ctx is None:
            raise NotAudioError(name, f"no decoder for the audio codec of this {fmt} file")
        channels = ctx.channels or ctx.layout.nb_channels
        if channels > options.max_channels:
            raise TooManyChannelsError(
                name, f"{channels} channels; at most {options.max_channels} are supported"
            )
        declared = _declared_duration(name, fmt, container, stream, head)
        if declared is not None and declared > options.max_duration_s + _DURATION_SLACK_S:
            raise AudioTooLongError(
                name,
                f"the file declares {declared:.1f} s of audio; "
                f"the limit is {options.max_duration_s:.1f} s",
            )
        decoded_channels = _decode(name, container, stream, options, sink)
        codec = ctx.codec.canonical_name if ctx.codec else ctx.name
        source_rate = _source_rate(ctx)

    decoded_s = sink.total / SAMPLE_RATE
    _check_complete(name, fmt, declared, decoded_s, size, head)
    if sink.total == 0:
        raise AudioZeroLengthError(name, "the file holds no audio samples")
    if sink.nonfinite:
        raise AudioCorruptError(name, "decoded samples contain NaN or infinity")
    sink.finish(decoded_channels)
    return AudioInfo(
        path=name,
        container=fmt,
        codec=codec,
        sample_rate=source_rate,
        channels=decoded_channels,
        duration=round(decoded_s, 3),
        size_bytes=size,
    )


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


# --- G.711 ---------------------------------------------------------------------------------------


def _mulaw_table() -> np.ndarray:
    """G.711 mu-law byte -> int16 sample (the decoder FFmpeg's ``pcm_mulaw`` implements)."""
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(u & 0x80, -magnitude, magnitude).astype(np.int16)


MULAW_TO_INT16 = _mulaw_table()
"""Raw mu-law bytes (Twilio media, live clients) -> int16 samples; files go through FFmpeg."""


def _read_head(name: str) -> tuple[int, bytes]:
    """Size and first bytes of the file; raises the typed errors for files that cannot be used."""
    p = Path(name)
    try:
        st = p.stat()
    except FileNotFoundError as e:
        raise AudioMissingError(name, "file not found") from e
    except OSError as e:
        raise AudioDecodeError(name, f"cannot read the file ({e.strerror or e})") from e
    if p.is_dir():
        raise NotAudioError(name, "is a directory, not an audio file")
    if not p.is_file():
        # a FIFO or device would block or never end
        raise NotAudioError(name, "is not a regular file")
    if st.st_size == 0:
        raise AudioEmptyError(name, "file is empty (0 bytes)")
    try:
        with p.open("rb") as f:
            head = f.read(_HEAD_BYTES)
    except PermissionError as e:
        raise AudioDecodeError(name, "cannot read the file (permission denied)") from e
    except OSError as e:
        raise AudioDecodeError(name, f"cannot read the file ({e.strerror or e})") from e
    return st.st_size, head


def _decode(
    name: str,
    container: av.container.InputContainer,
    stream: av.AudioStream,
    options: LoadOptions,
    sink: _Counter,
) -> int:
    """Feed every sample of ``stream`` to ``sink`` as float32 (channels, k) chunks at 16 kHz,
    frame by frame; stops with AudioTooLongError once the limit is passed. Returns the
    channel count."""
    limit = round((options.max_duration_s + _DURATION_SLACK_S) * SAMPLE_RATE)
    total = 0
    resampler: av.AudioResampler | None = None
    setup: tuple[str, int, int] | None = None
    channels: int | None = None

    def flush() -> None:
        nonlocal total
        if resampler is not None:
            for f in resampler.resample(None):
                chunk = f.to_ndarray()
                sink.add(chunk)
                total += chunk.shape[1]

    try:
        for frame in container.decode(stream):
            key = (frame.format.name, frame.layout.nb_channels, frame.sample_rate)
            if key != setup:
                # a stream may change rate or format part-way (joined MP3s); a resampler only
                # takes the input it was built for
                flush()
                if channels is not None and frame.layout.nb_channels != channels:
                    raise AudioCorruptError(
                        name,
                        f"the channel count changes from {channels} to "
                        f"{frame.layout.nb_channels} after {total / SAMPLE_RATE:.2f} s",
                    )
                channels = frame.layout.nb_channels
                # output layout = input layout: convert rate and format, never remix channels
                resampler = av.AudioResampler(format="fltp", layout=frame.layout, rate=SAMPLE_RATE)
                setup = key
            frame.pts = None  # resample by sample count; broken timestamps must not gap it
            for out in resampler.resample(frame):
                chunk = out.to_ndarray()
                sink.add(chunk)
                total += chunk.shape[1]
            if total > limit:
                raise AudioTooLongError(
                    name,
                    f"longer than the limit of {options.max_duration_s:.1f} s "
                    f"(decoding stopped at {total / SAMPLE_RATE:.1f} s)",
                )
        flush()
    except av.error.FFmpegError as e:
        raise AudioCorruptError(
            name,
            f"damaged audio: decoding failed after {total / SAMPLE_RATE:.2f} s "
            f"({_ffmpeg_reason(e)})",
        ) from e
    return int(channels or stream.codec_context.channels or 1)


def _declared_duration(
    name: str,
    fmt: str,
    container: av.container.InputContainer,
    stream: av.AudioStream,
    head: bytes,
) -> float | None:
    """Duration the file itself declares (s), or ``None`` when FFmpeg would only estimate it."""
    if fmt == "mp3":
        if not _mp3_has_length_header(name, head):
            return None
    elif fmt not in _DECLARES_LENGTH:
        return None
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def _check_complete(
    name: str, fmt: str, declared: float | None, decoded_s: float, size: int, head: bytes
) -> None:
    """Raise AudioCorruptError when the file declares more audio than could be decoded."""
    if fmt == "wav":
        data = _wav_data_chunk(head)
        # 0 and 0xFFFFFFFF: a recorder that streams WAV writes these until it finalises
        if data is not None and data[1] not in (0, 0xFFFFFFFF):
            offset, declared_bytes = data
            held = max(size - offset, 0)
            if declared_bytes > held:
                if held == 0 or decoded_s == 0:
                    raise AudioCorruptError(
                        name,
                        f"truncated: the WAV header declares {declared_bytes} bytes of audio, "
                        "the file holds none",
                    )
                # PCM and G.711 are constant bit rate: seconds scale with bytes
                declared_s = decoded_s * declared_bytes / held
                if declared_s - decoded_s > _TRUNCATION_TOLERANCE_S:
                    raise AudioCorruptError(
                        name,
                        f"truncated: the WAV header declares {declared_s:.2f} s of audio, "
                        f"the file holds {decoded_s:.2f} s",
                    )
    if fmt == "ogg" and not _ogg_has_end(name, size):
        raise AudioCorruptError(
            name,
            f"truncated: the Ogg stream ends without its end-of-stream page "
            f"({decoded_s:.2f} s decoded)",
        )
    if declared is not None and declared - decoded_s > _TRUNCATION_TOLERANCE_S:
        if decoded_s == 0:
            raise AudioCorruptError(
                name, f"truncated or damaged: the file declares {declared:.2f} s, none decodes"
            )
        raise AudioCorruptError(
            name,
            f"truncated or damaged: the file declares {declared:.2f} s of audio, "
            f"only {decoded_s:.2f} s could be decoded",
        )


def _wav_data_chunk(head: bytes) -> tuple[int, int] | None:
    """(offset of the sample data, size its chunk header declares), or ``None`` if not found."""
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None  # RF64 and others declare their size elsewhere; FFmpeg checks them
    pos = 12
    while pos + 8 <= len(head):
        chunk_id = head[pos : pos + 4]
        chunk_size = int.from_bytes(head[pos + 4 : pos + 8], "little")
        if chunk_id == b"data":
            return pos + 8, chunk_size
        pos += 8 + chunk_size + (chunk_size & 1)  # chunks are padded to even sizes
    return None


def _ogg_has_end(name: str, size: int) -> bool:
    """Whether one of the file's last pages carries the end-of-stream flag."""
    tail_len = min(size, _OGG_MAX_PAGE + 1024)
    try:
        with open(name, "rb") as f:
            f.seek(size - tail_len)
            tail = f.read(tail_len)
    except OSError as e:
        raise AudioDecodeError(name, f"cannot read the file ({e.strerror or e})") from e
    pos = tail.find(b"OggS")
    while pos != -1:
        # byte 4 is the version (0), byte 5 the header type; 0x04 = last page of the stream
        if pos + 6 <= len(tail) and tail[pos + 4] == 0 and tail[pos + 5] & 0x04:
            return True
        pos = tail.find(b"OggS", pos + 1)
    return False


def _mp3_has_length_header(name: str, head: bytes) -> bool:
    """Whether the first MP3 frame carries a Xing/Info/VBRI header (frame count = length)."""
    start = 0
    if head[:3] == b"ID3" and len(head) >= 10:
        # ID3v2 size: four 7-bit bytes, plus a 10-byte footer when flagged
        size = 0
        for b in head[6:10]:
            size = (size << 7) | (b & 0x7F)
        start = 10 + size
        if head[5] & 0x10:
            start += 10
    window = head[start : start + 2048]
    if start + 2048 > len(head):  # a large tag (cover art) pushes the first frame further
        try:
            with open(name, "rb") as f:
                f.seek(start)
                window = f.read(2048)
        except OSError:
            return False
    return any(tag in window for tag in (b"Xing", b"Info", b"VBRI"))


def _demuxer_options(head: bytes) -> dict[str, str]:
    """FFmpeg demuxer options for the file that starts with ``head``."""
    if _sniff(head) == "WAV":
        # FFmpeg reads WAV in 4 KB packets (512 frames of 8 kHz G.711 stereo); per-packet Python
        # work then dominates, and 64 KB packets decode a long call about four times faster
        return {"max_size": "65536"}
    return {}


def _sniff(head: bytes) -> str | None:
    """Name of the audio container ``head`` starts like, or ``None``."""
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "WAV"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "AIFF"
    for offset, magic, kind in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return kind
    return None


def _source_rate(ctx: av.audio.codeccontext.AudioCodecContext) -> int:
    """Sample rate of the source; for Opus, the input rate its OpusHead header records."""
    rate = int(ctx.sample_rate or 0)
    extradata = ctx.extradata or b""
    if ctx.name in ("opus", "libopus") and extradata[:8] == b"OpusHead" and len(extradata) >= 16:
        original = int.from_bytes(extradata[12:16], "little")
        if original > 0:
            return original
    return rate


def _ffmpeg_reason(e: Exception) -> str:
    text = str(getattr(e, "strerror", None) or e).strip().rstrip(".")
    log = getattr(e, "log", None)
    # PyAV attaches FFmpeg's last log line (level, component, message): the specific cause
    if isinstance(log, tuple) and len(log) == 3 and log[2]:
        text = f"{text}: {str(log[2]).strip()}"
    return text
