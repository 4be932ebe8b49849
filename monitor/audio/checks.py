"""Whether a decoded recording is whole: what the file declares (a WAV's data size, a FLAC,
Ogg, MP4 or Matroska duration, an MP3's Xing/Info/VBRI frame count, an Ogg end-of-stream page)
against what could be decoded (see :mod:`calmline.monitor.audio.load` for what can and cannot be
told), which container a file's first bytes look like, and whether a path can be read as a
recording at all (:func:`read_head`)."""

from __future__ import annotations

from pathlib import Path

import av

from calmline.monitor.errors import (
    AudioCorruptError,
    AudioDecodeError,
    AudioEmptyError,
    AudioMissingError,
    NotAudioError,
)

TRUNCATION_TOLERANCE_S = 0.1
"""Decoding this much less than the file declares is still a complete file (Opus pre-skip, a
partial last sample); more than this and audio is missing."""

HEAD_BYTES = 64 * 1024
"""How much of the start of a file is read to tell its container and its WAV data size."""
OGG_MAX_PAGE = 27 + 255 + 255 * 255

# Demuxers whose duration comes from the file's own index or header, not from a bit-rate
# estimate; only these can show that audio is missing. MP3 qualifies only with a Xing/Info/VBRI
# header (the frame count).
DECLARES_LENGTH = frozenset(
    {"wav", "w64", "aiff", "flac", "ogg", "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "caf"}
)

# (offset, magic, name): files that start like these are audio containers, so a failure to open
# them means damage, not a wrong file type.
SIGNATURES = (
    (0, b"fLaC", "FLAC"),
    (0, b"OggS", "Ogg"),
    (0, b"ID3", "MP3"),
    (4, b"ftyp", "MP4/M4A"),
    (0, b"\x1a\x45\xdf\xa3", "Matroska/WebM"),
    (0, b"caff", "CAF"),
    (0, b"#!AMR", "AMR"),
)


def declared_duration(
    name: str,
    fmt: str,
    container: av.container.InputContainer,
    stream: av.AudioStream,
    head: bytes,
) -> float | None:
    """Duration the file itself declares (s), or ``None`` when FFmpeg would only estimate it."""
    if fmt == "mp3":
        if not mp3_has_length_header(name, head):
            return None
    elif fmt not in DECLARES_LENGTH:
        return None
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def check_complete(
    name: str, fmt: str, declared: float | None, decoded_s: float, size: int, head: bytes
) -> None:
    """Raise AudioCorruptError when the file declares more audio than could be decoded."""
    if fmt == "wav":
        data = wav_data_chunk(head)
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
                if declared_s - decoded_s > TRUNCATION_TOLERANCE_S:
                    raise AudioCorruptError(
                        name,
                        f"truncated: the WAV header declares {declared_s:.2f} s of audio, "
                        f"the file holds {decoded_s:.2f} s",
                    )
    if fmt == "ogg" and not ogg_has_end(name, size):
        raise AudioCorruptError(
            name,
            f"truncated: the Ogg stream ends without its end-of-stream page "
            f"({decoded_s:.2f} s decoded)",
        )
    if declared is not None and declared - decoded_s > TRUNCATION_TOLERANCE_S:
        if decoded_s == 0:
            raise AudioCorruptError(
                name, f"truncated or damaged: the file declares {declared:.2f} s, none decodes"
            )
        raise AudioCorruptError(
            name,
            f"truncated or damaged: the file declares {declared:.2f} s of audio, "
            f"only {decoded_s:.2f} s could be decoded",
        )


def wav_data_chunk(head: bytes) -> tuple[int, int] | None:
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


def ogg_has_end(name: str, size: int) -> bool:
    """Whether one of the file's last pages carries the end-of-stream flag."""
    tail_len = min(size, OGG_MAX_PAGE + 1024)
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


def mp3_has_length_header(name: str, head: bytes) -> bool:
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


def sniff(head: bytes) -> str | None:
    """Name of the audio container ``head`` starts like, or ``None``."""
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "WAV"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "AIFF"
    for offset, magic, kind in SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return kind
    return None


def read_head(name: str) -> tuple[int, bytes]:
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
            head = f.read(HEAD_BYTES)
    except PermissionError as e:
        raise AudioDecodeError(name, "cannot read the file (permission denied)") from e
    except OSError as e:
        raise AudioDecodeError(name, f"cannot read the file ({e.strerror or e})") from e
    return st.st_size, head
