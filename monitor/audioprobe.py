"""Check an upload without decoding it: container, codec, channels, rate and length.

The API process accepts uploads for workers that may run on other machines, so it must not
spend a worker's CPU or memory on them: :func:`inspect_audio` opens the container, reads its
header and walks its packets (demuxing only: no codec runs, no sample is made), which costs a
few milliseconds per minute of audio and a few kilobytes of memory whatever the file holds.

It refuses what :func:`~calmline.monitor.audio.load_audio` would refuse from the container
alone, with the same typed errors and reasons: an empty file, not audio, no audio stream, too
many channels, longer than the limit (declared or counted from the packets, so a header that
declares no length costs a packet walk up to the limit, not a decode), a WAV whose header
declares more data than the file holds, an Ogg stream without its end page, a file that
declares more audio than its packets hold. Damage that only decoding shows (a frame that fails
its CRC, NaN in float samples) is found by the worker's ``load_audio``, which fails the job
with the decoder's reason.
"""

from __future__ import annotations

import os

import av

from calmline.monitor.audio.checks import check_complete, read_head
from calmline.monitor.audio.load import (
    _DURATION_SLACK_S,
    LoadOptions,
    _ffmpeg_reason,
    _open_container,
    _source_rate,
    audio_stream,
)
from calmline.monitor.errors import (
    AudioCorruptError,
    AudioTooLongError,
    AudioZeroLengthError,
)
from calmline.monitor.types import AudioInfo


def inspect_audio(path: str | os.PathLike[str], options: LoadOptions | None = None) -> AudioInfo:
    """Facts of the recording at ``path`` from its header and packets, never decoding it.

    ``AudioInfo.duration`` is the length the packets hold (within an encoder frame of what
    decoding gives: MP3 and AAC count their padding).

    Raises:
        The errors of :func:`~calmline.monitor.audio.load_audio` that the container shows.
    """
    options = options or LoadOptions()
    name = os.fspath(path)
    size, head = read_head(name)
    with _open_container(name, head) as container:
        fmt, stream, declared = audio_stream(name, head, container, options, need_codec=True)
        ctx = stream.codec_context
        channels = ctx.channels or ctx.layout.nb_channels
        held = _packet_seconds(name, container, stream, options)
        info = AudioInfo(
            path=name,
            container=fmt,
            codec=ctx.codec.canonical_name,
            sample_rate=_source_rate(ctx),
            channels=int(channels or 1),
            duration=round(held, 3),
            size_bytes=size,
        )
    check_complete(name, fmt, declared, held, size, head)
    if held == 0:
        raise AudioZeroLengthError(name, "the file holds no audio samples")
    return info


def _packet_seconds(
    name: str, container: av.container.InputContainer, stream: av.AudioStream, options: LoadOptions
) -> float:
    """Seconds of audio the stream's packets span; stops once past the duration limit."""
    limit = options.max_duration_s + _DURATION_SLACK_S
    tb = float(stream.time_base) if stream.time_base is not None else 0.0
    first: int | None = None
    end = 0
    summed = 0
    try:
        for packet in container.demux(stream):
            if packet.size == 0:  # the flush packet at the end of the stream
                continue
            duration = packet.duration or 0
            summed += duration
            if packet.pts is not None:
                first = packet.pts if first is None else min(first, packet.pts)
                end = max(end, packet.pts + duration)
            held = max(summed, end - (first or 0)) * tb
            if held > limit:
                raise AudioTooLongError(
                    name,
                    f"longer than the limit of {options.max_duration_s:.1f} s "
                    f"(reading stopped at {held:.1f} s)",
                )
    except av.error.FFmpegError as e:
        held = max(summed, end - (first or 0)) * tb
        raise AudioCorruptError(
            name, f"damaged audio: reading failed after {held:.2f} s ({_ffmpeg_reason(e)})"
        ) from e
    return max(summed, end - (first or 0)) * tb
