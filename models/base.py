"""Protocols for each kind of model and the name -> factory registries of their backends.

A backend is a class implementing one Protocol, in a module of its own, registered under a name.
Backends take one frozen options object; anything that belongs to one call lives in the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

import numpy as np

from calmline.monitor.errors import CalmlineError
from calmline.monitor.types import ModelInfo, SpeechSegment, Word


@dataclass(frozen=True, slots=True)
class Transcript:
    """What a transcriber returns for one signal: words with absolute times."""

    language: str
    language_probability: float | None
    words: tuple[Word, ...]


@runtime_checkable
class VoiceActivityDetector(Protocol):
    info: ModelInfo

    def speech_probabilities(self, samples: np.ndarray) -> np.ndarray:
        """Speech probability per frame. samples: float32 (n,) at 16 kHz -> float32 (frames,)."""
        ...

    def detect(self, samples: np.ndarray) -> list[tuple[float, float]]:
        """Speech spans (start, end) in seconds for a float32 (n,) signal at 16 kHz."""
        ...


@runtime_checkable
class SpeakerEmbedder(Protocol):
    info: ModelInfo

    def embed(self, windows: list[np.ndarray]) -> np.ndarray:
        """One L2-normalised embedding per window: float32 (n_windows, dim)."""
        ...


@runtime_checkable
class Diarizer(Protocol):
    info: ModelInfo

    def diarize(
        self,
        samples: np.ndarray,
        *,
        num_speakers: int | None = None,
        min_speakers: int = 1,
        max_speakers: int = 2,
    ) -> list[SpeechSegment]:
        """Who spoke when in a mono float32 (n,) signal at 16 kHz.

        ``num_speakers`` fixes the count; ``None`` estimates it between min and max.
        Segments may overlap when the backend detects overlapped speech.
        """
        ...


@runtime_checkable
class Transcriber(Protocol):
    info: ModelInfo

    def transcribe(
        self,
        samples: np.ndarray,
        *,
        spans: list[tuple[float, float]] | None = None,
        language: str | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> Transcript:
        """Words with timestamps and probabilities for a float32 (n,) signal at 16 kHz.

        ``spans`` restricts recognition to those (start, end) spans in seconds (speech found by a
        VAD); word times are always relative to the start of ``samples``. ``progress``, when
        given, is called between decoding windows with the share of the speech done (0–1), in
        the calling thread: a pause there (an analysis making way for live calls) holds the
        decoding, not a window half done.
        """
        ...


T = TypeVar("T")


class Registry(Generic[T]):
    """Backend name -> factory. Factories import their heavy dependencies lazily."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def decorator(factory: Callable[..., T]) -> Callable[..., T]:
            self._factories[name] = factory
            return factory

        return decorator

    def names(self) -> list[str]:
        return sorted(self._factories)

    def create(self, name: str, *args: Any, **kwargs: Any) -> T:
        try:
            factory = self._factories[name]
        except KeyError:
            raise CalmlineError(
                f"unknown {self.kind} backend {name!r}; known: {', '.join(self.names())}"
            ) from None
        return factory(*args, **kwargs)


vad_backends: Registry[VoiceActivityDetector] = Registry("vad")
diarization_backends: Registry[Diarizer] = Registry("diarization")
embedding_backends: Registry[SpeakerEmbedder] = Registry("embedding")
asr_backends: Registry[Transcriber] = Registry("asr")
