"""Calmline's error hierarchy. Every error names what failed and why."""

from __future__ import annotations


class CalmlineError(Exception):
    """Base class of every error Calmline raises on purpose."""


class AudioDecodeError(CalmlineError):
    """An audio file cannot be used. ``path`` names the file, ``reason`` says what is wrong."""

    reason_code = "decode_failed"

    def __init__(self, path: str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class AudioMissingError(AudioDecodeError):
    reason_code = "missing"


class AudioEmptyError(AudioDecodeError):
    """The file has zero bytes."""

    reason_code = "empty"


class NotAudioError(AudioDecodeError):
    """The file is not in an audio format the decoder knows."""

    reason_code = "not_audio"


class AudioCorruptError(AudioDecodeError):
    """The file starts like audio but cannot be decoded to the end (truncated or damaged)."""

    reason_code = "corrupt"


class AudioZeroLengthError(AudioDecodeError):
    """The file is valid but holds no samples."""

    reason_code = "zero_length"


class AudioTooLongError(AudioDecodeError):
    reason_code = "too_long"


class TooManyChannelsError(AudioDecodeError):
    reason_code = "too_many_channels"


class ChannelMapError(CalmlineError):
    """The requested channel layout does not fit the audio (e.g. channel 1 of a mono file)."""


class ModelLoadError(CalmlineError):
    """A model could not be found, verified or loaded."""


class BackendUnavailable(CalmlineError):
    """A backend needs an optional extra that is not installed."""

    def __init__(self, backend: str, hint: str) -> None:
        self.backend = backend
        super().__init__(f"backend {backend!r} is not available: {hint}")
