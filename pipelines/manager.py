"""Loads each model once per process and shares it read-only between calls and threads."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Hashable
from typing import Any

from calmline.models.asr_whisper import WhisperOptions
from calmline.models.base import (
    Diarizer,
    Transcriber,
    VoiceActivityDetector,
    asr_backends,
    diarization_backends,
    vad_backends,
)
from calmline.models.vad_silero import VadOptions
from calmline.monitor.errors import BackendUnavailable
from calmline.monitor.settings import Settings

# Importing a backend's module registers it. Modules are imported when first needed, so a
# stereo call never pays for torch (the embedded diarizer's dependency).
_BACKEND_MODULES = {
    ("vad", "silero"): "calmline.models.vad_silero",
    ("asr", "faster-whisper"): "calmline.models.asr_whisper",
    ("diarization", "embedded"): "calmline.models.diarization_embedded",
    ("diarization", "pyannote"): "calmline.models.diarization_pyannote",
}


def _import_backend(kind: str, name: str) -> None:
    import importlib

    module = _BACKEND_MODULES.get((kind, name))
    if module is not None:
        importlib.import_module(module)


class ModelManager:
    """Owned by a pipeline or the app's lifespan; never a module-level singleton."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._models: dict[Hashable, Any] = {}
        self._lock = threading.Lock()

    def _get(self, key: Hashable, factory: Callable[[], Any]) -> Any:
        with self._lock:
            model = self._models.get(key)
            if model is None:
                model = factory()
                self._models[key] = model
            return model

    def vad_options(self) -> VadOptions:
        s = self.settings
        return VadOptions(
            threshold=s.vad.threshold,
            min_speech_ms=s.vad.min_speech_ms,
            min_silence_ms=s.vad.min_silence_ms,
            speech_pad_ms=s.vad.speech_pad_ms,
            device=s.asr.device,
        )

    def vad(self) -> VoiceActivityDetector:
        options = self.vad_options()
        _import_backend("vad", "silero")
        return self._get(("vad", options), lambda: vad_backends.create("silero", options))

    def transcriber(self, model: str | None = None) -> Transcriber:
        s = self.settings.asr
        # a server's job workers transcribe side by side: one model replica each, and the
        # cores shared between them rather than oversubscribed
        workers = max(1, self.settings.jobs.workers)
        threads = s.cpu_threads or (max(1, (os.cpu_count() or 1) // workers) if workers > 1 else 0)
        options = WhisperOptions(
            model=model or s.model,
            device=s.device,
            compute_type=s.compute_type,
            cpu_threads=threads,
            num_workers=workers,
            beam_size=s.beam_size,
            cache_dir=self.settings.cache_dir,
            nice=s.nice,
        )
        _import_backend("asr", "faster-whisper")
        return self._get(("asr", options), lambda: asr_backends.create("faster-whisper", options))

    def diarizer(self, backend: str) -> Diarizer:
        s = self.settings
        _import_backend("diarization", backend)
        if backend == "embedded":
            from calmline.models.diarization_embedded import EmbeddedDiarizationOptions

            options: Any = EmbeddedDiarizationOptions(vad=self.vad_options(), device=s.asr.device)
        elif backend == "pyannote":
            from calmline.models.diarization_pyannote import PyannoteOptions

            options = PyannoteOptions(
                pipeline=s.diarization.pyannote_pipeline,
                token=s.diarization.pyannote_token,
                device=s.asr.device,
            )
        else:
            raise BackendUnavailable(backend, "unknown diarization backend")
        if backend == "embedded":
            # share the loaded Silero session instead of opening a second one
            vad = self.vad()
            return self._get(
                ("diarization", backend, options),
                lambda: diarization_backends.create(backend, options, vad=vad),
            )
        return self._get(
            ("diarization", backend, options),
            lambda: diarization_backends.create(backend, options),
        )
