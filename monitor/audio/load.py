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
from dataclasses import dataclass

import av
import numpy as np

from calmline.monitor.audio.checks import (
    check_complete,
    declared_duration,
    read_head,
    sniff,
)
from calmline.monitor.errors import (
    AudioCorruptError,
    AudioDecodeError,
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
        kind = sniff(head)
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
    size, head = read_head(name)

    with _open_container(name, head) as container:
        fmt, stream, declared = audio_stream(name, head, container, options)
        ctx = stream.codec_context
        decoded_channels = _decode(name, container, stream, options, sink)
        codec = ctx.codec.canonical_name if ctx.codec else ctx.name
        source_rate = _source_rate(ctx)

    decoded_s = sink.total / SAMPLE_RATE
    check_complete(name, fmt, declared, decoded_s, size, head)
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


def audio_stream(
    name: str,
    head: bytes,
    container: av.container.InputContainer,
    options: LoadOptions,
    need_codec: bool = False,
) -> tuple[str, av.AudioStream, float | None]:
    """The container's first audio stream, checked before any of it is decoded: there is one,
    with a decoder (``need_codec``: a known codec too), at most ``options.max_channels``
    channels and no declared duration past the limit. Returns (container format, stream,
    declared duration or ``None``)."""
    fmt = container.format.name if container.format else "unknown"
    if not container.streams.audio:
        kinds = ", ".join(sorted({s.type for s in container.streams})) or "no streams"
        raise NotAudioError(name, f"no audio stream in the file (it holds: {kinds})")
    stream = container.streams.audio[0]
    ctx = stream.codec_context
    if ctx is None or (need_codec and ctx.codec is None):
        raise NotAudioError(name, f"no decoder for the audio codec of this {fmt} file")
    channels = ctx.channels or ctx.layout.nb_channels
    if channels > options.max_channels:
        raise TooManyChannelsError(
            name, f"{channels} channels; at most {options.max_channels} are supported"
        )
    declared = declared_duration(name, fmt, container, stream, head)
    if declared is not None and declared > options.max_duration_s + _DURATION_SLACK_S:
        raise AudioTooLongError(
            name,
            f"the file declares {declared:.1f} s of audio; "
            f"the limit is {options.max_duration_s:.1f} s",
        )
    return fmt, stream, declared


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


def _demuxer_options(head: bytes) -> dict[str, str]:
    """FFmpeg demuxer options for the file that starts with ``head``."""
    if sniff(head) == "WAV":
        # FFmpeg reads WAV in 4 KB packets (512 frames of 8 kHz G.711 stereo); per-packet Python
        # work then dominates, and 64 KB packets decode a long call about four times faster
        return {"max_size": "65536"}
    return {}


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
