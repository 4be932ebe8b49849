"""The batch pipeline: one recorded call file in, one :class:`CallReport` out.

decode -> attribution (stereo channel map + VAD per channel, or mono diarization) -> roles ->
ASR with word timestamps -> turns -> measurements -> report.

Memory does not grow with the call's length beyond small per-frame arrays: a call longer than
``LoadOptions.spool_after_s`` (10 min) is decoded into a temporary file
(:mod:`calmline.monitor.spool`), and every stage reads it a stretch at a time: VAD in 32 s
blocks with its state carried over, ASR in pieces of at most ``max_piece_s`` of speech, speaker
embeddings and measurements over the speech they need, each releasing what it read.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from calmline.models.base import VoiceActivityDetector
from calmline.monitor.audio import LoadOptions, load_audio
from calmline.monitor.errors import AudioDecodeError, AudioMissingError, ChannelMapError
from calmline.monitor.measure import MeasureOptions, measure, overlaps
from calmline.monitor.redact import redact_report
from calmline.monitor.roles import RoleOptions, roles_from_channels, roles_from_cues
from calmline.monitor.rubric import Rubric, default_rubric, load_rubric
from calmline.monitor.scoring import score_report
from calmline.monitor.settings import Settings
from calmline.monitor.spool import read_span
from calmline.monitor.turns import TurnOptions, build_turns
from calmline.monitor.types import (
    SAMPLE_RATE,
    Audio,
    CallReport,
    ModelInfo,
    RoleAssignment,
    SpeakerCount,
    SpeechSegment,
    Word,
)
from calmline.pipelines.manager import ModelManager

logger = logging.getLogger(__name__)

LANGUAGE_WINDOW_S = 30.0
"""Language detection hears the first this many seconds of speech (Whisper's window)."""

STEPS = ("decode", "speech", "transcribe", "roles", "turns", "measure", "score", "redact")
"""Stages in order; each reports to the hook and gets a time in ``CallReport.timings``."""


class Hook(Protocol):
    """Progress hook: ``hook(step, artifact, completed=, total=)`` (pyannote's convention)."""

    def __call__(
        self,
        step: str,
        artifact: Any = None,
        *,
        completed: float | None = None,
        total: float | None = None,
    ) -> None: ...


def _no_hook(step: str, artifact: Any = None, **_: Any) -> None:
    return None


@dataclass(frozen=True, slots=True)
class AnalyzeRequest:
    """Per-call choices that override the settings for one file."""

    language: str | None = None
    """``zh``, ``en`` or ``None``/``auto`` to detect."""
    asr_model: str | None = None
    diarization: str | None = None
    """``auto``, ``channels``, ``embedded`` or ``pyannote``."""
    agent_channel: int | None = None
    agent_speaker: str | None = None
    num_speakers: int | None = None
    call_id: str | None = None


class BatchPipeline:
    """Analyses recorded calls with models loaded once and shared."""

    def __init__(self, settings: Settings, models: ModelManager | None = None) -> None:
        self.settings = settings
        self.models = models or ModelManager(settings)
        self._rubrics: dict[str, Rubric] = {}
        self._audio_store = None

    def analyze(
        self,
        path: str | os.PathLike[str],
        request: AnalyzeRequest | None = None,
        hook: Hook | Callable[..., None] | None = None,
    ) -> CallReport:
        """Analyse one call file (a local path or an audio-store URI). Raises the typed errors
        of ``load_audio`` for bad input."""
        hook = hook or _no_hook
        timings: dict[str, float] = {}
        with _stage("decode", hook, timings):
            audio = self.load(path)
        return self.analyze_audio(audio, request, hook, timings)

    def load(self, source: str | os.PathLike[str]) -> Audio:
        """Decode a call from a local path or an audio-store URI (``s3://…``, ``file://…``).

        A worker may run on another machine than the API that stored the upload, so the URI is
        read through the audio store (:mod:`calmline.monitor.audiostore`; a remote file is
        downloaded to a temporary file for the decoder). Errors and ``info.path`` name
        ``source``, never the download.
        """
        options = LoadOptions(max_duration_s=self.settings.audio.max_duration_s)
        name = os.fspath(source)
        if "://" not in name:
            return load_audio(name, options)
        from calmline.monitor.audiostore import audio_store_from_settings

        if self._audio_store is None:
            self._audio_store = audio_store_from_settings(self.settings)
        try:
            with self._audio_store.local_path(name) as local:
                audio = load_audio(local, options)
        except AudioDecodeError as e:
            raise type(e)(name, e.reason) from e
        except FileNotFoundError as e:
            raise AudioMissingError(name, "no such stored audio") from e
        return replace(audio, info=replace(audio.info, path=name))

    def analyze_audio(
        self,
        audio: Audio,
        request: AnalyzeRequest | None = None,
        hook: Hook | Callable[..., None] | None = None,
        timings: dict[str, float] | None = None,
    ) -> CallReport:
        """Analyse decoded audio (used by :meth:`analyze` and by callers holding samples)."""
        hook = hook or _no_hook
        request = request or AnalyzeRequest()
        timings = timings if timings is not None else {}

        def stage(name: str):
            return _stage(name, hook, timings)

        s = self.settings
        warnings: list[str] = []
        backend = request.diarization or s.diarization.backend
        if backend == "auto":
            backend = "channels" if audio.channels == 2 else "embedded"
        if backend == "channels" and audio.channels != 2:
            raise ChannelMapError(
                f"{audio.info.path}: channel attribution needs a two-channel (stereo) file, "
                f"this one has {audio.channels} channel; use --diarization embedded"
            )
        agent_channel = (
            request.agent_channel if request.agent_channel is not None else s.roles.agent_channel
        )
        language = request.language or s.asr.language
        language = None if language == "auto" else language
        transcriber = self.models.transcriber(request.asr_model)
        vad = self.models.vad()
        models_used = [vad.info, transcriber.info]

        with stage("speech"):
            segments: list[SpeechSegment] = []
            spans_by_channel: dict[int | None, list[tuple[float, float]]] = {}
            speaker_count: SpeakerCount | None = None
            if backend == "channels":
                # Whisper hears the VAD's spans (with its own context around them); the
                # segments start where each talker's level rose (channel_speech_spans)
                heard, spoken = channel_speech_spans(audio.samples, vad, s)
                spans_by_channel.update(heard)
                for channel, spans in spoken.items():
                    speaker = f"channel_{channel}"
                    segments += [SpeechSegment(a, b, speaker, channel) for a, b in spans]
                segments.sort(key=lambda x: (x.start, x.end))
                attribution = "channels"
            else:
                # a mono file's own channel, not a copy (a 30-minute call is 115 MB); the
                # diarizer and the transcriber only read it
                mono = audio.samples[0] if audio.channels == 1 else audio.mono()
                diarizer = self.models.diarizer(backend)
                models_used.append(diarizer.info)
                num = request.num_speakers or s.diarization.num_speakers
                counts = {
                    "num_speakers": num,
                    "min_speakers": s.diarization.min_speakers,
                    "max_speakers": s.diarization.max_speakers,
                }
                diarize_counted = getattr(diarizer, "diarize_counted", None)
                if diarize_counted is not None:
                    # the embedded backend also says how many voices and how sure it is
                    counted = diarize_counted(mono, **counts)
                    segments, speaker_count = counted.segments, counted.speaker_count
                else:
                    segments = diarizer.diarize(mono, **counts)
                spans_by_channel[None] = union_spans([(x.start, x.end) for x in segments])
                attribution = backend

        with stage("transcribe"):
            words_by_channel: dict[int | None, tuple[Word, ...]] = {}
            if backend == "channels":
                if language is None:
                    # detect once on the channel with most speech so both sides agree
                    busiest = max(
                        spans_by_channel, key=lambda c: sum(b - a for a, b in spans_by_channel[c])
                    )
                    speech = _speech_only(audio.samples[busiest], spans_by_channel[busiest])
                    if speech.size:
                        language, language_probability = transcriber.detect_language(speech)
                    else:
                        language, language_probability = "en", None
                        warnings.append("no speech found; language could not be detected")
                else:
                    language_probability = None
                n_channels = len(spans_by_channel)
                for i, channel in enumerate(spans_by_channel):
                    hook("transcribe", None, completed=i, total=n_channels)
                    result = transcriber.transcribe(
                        audio.samples[channel],
                        spans=spans_by_channel[channel],
                        language=language,
                        progress=_progress(hook, "transcribe", i, n_channels),
                    )
                    words_by_channel[channel] = result.words
            else:
                spans = spans_by_channel[None]
                if not spans:
                    language = language or "en"
                    language_probability = None
                    words_by_channel[None] = ()
                    warnings.append("no speech found")
                else:
                    # the mix made for diarization (a second one costs a copy of the call)
                    result = transcriber.transcribe(
                        mono,
                        spans=spans,
                        language=language,
                        progress=_progress(hook, "transcribe", 0, 1),
                    )
                    language, language_probability = result.language, result.language_probability
                    words_by_channel[None] = result.words

        with stage("roles"):
            if backend == "channels":
                if agent_channel >= audio.channels:
                    raise ChannelMapError(
                        f"{audio.info.path}: agent channel {agent_channel} does not exist "
                        f"(the file has {audio.channels} channels)"
                    )
                roles = roles_from_channels(
                    {c: f"channel_{c}" for c in range(audio.channels)}, agent_channel
                )
            else:
                all_words = [w for ws in words_by_channel.values() for w in ws]
                roles = roles_from_cues(
                    segments,
                    all_words,
                    language or "en",
                    RoleOptions(
                        cue_window_s=s.roles.cue_window_s,
                        agent_speaker=request.agent_speaker or s.roles.agent_speaker,
                    ),
                )
                if roles.confidence < 0.3 and roles.roles:
                    warnings.append(
                        f"agent identified with low confidence ({roles.confidence}); "
                        "check the role evidence or set the agent speaker"
                    )

        return self.assemble_report(
            audio,
            segments,
            words_by_channel,
            roles,
            call_id=request.call_id or _call_id(audio.info.path),
            language=language,
            language_probability=language_probability,
            attribution=attribution,
            models_used=models_used,
            warnings=warnings,
            hook=hook,
            timings=timings,
            speaker_count=speaker_count,
        )

    def assemble_report(
        self,
        audio: Audio,
        segments: list[SpeechSegment],
        words_by_channel: dict[int | None, tuple[Word, ...]],
        roles: RoleAssignment,
        *,
        call_id: str,
        language: str | None,
        language_probability: float | None,
        attribution: str,
        models_used: list[ModelInfo],
        warnings: list[str],
        hook: Hook | Callable[..., None] | None = None,
        timings: dict[str, float] | None = None,
        speaker_count: SpeakerCount | None = None,
    ) -> CallReport:
        """Turns, measurements, scores and redaction from attributed speech and words.

        The part of the analysis that the batch pipeline and the streaming pipeline
        (``calmline.pipelines.live``) share, so a live call is judged exactly like a file.
        """
        hook = hook or _no_hook
        timings = timings if timings is not None else {}
        s = self.settings

        def stage(name: str):
            return _stage(name, hook, timings)

        with stage("turns"):
            turns = build_turns(
                segments,
                words_by_channel,
                roles.roles,
                language or "en",
                audio.duration,
                TurnOptions(max_pause_s=s.measure.max_turn_pause_s),
            )

        with stage("measure"):
            turns, metrics = measure(
                audio,
                turns,
                language or "en",
                MeasureOptions(
                    low_conf_threshold=s.measure.low_conf_threshold,
                    non_talk_min_s=s.measure.non_talk_min_s,
                ),
                segments=segments,
            )

        report = CallReport(
            call_id=call_id,
            audio=audio.info,
            language=language or "unknown",
            language_probability=(
                round(language_probability, 4) if language_probability is not None else None
            ),
            attribution=attribution,
            roles=roles,
            segments=tuple(segments),
            turns=turns,
            overlaps=overlaps(segments),  # speech, not turns: turns span pauses
            metrics=metrics,
            models=tuple(models_used),
            timings=timings,
            warnings=tuple(warnings),
            speaker_count=speaker_count,
        )
        if s.scoring.enabled:
            with stage("score"):
                report = score_report(report, self.rubric_for(report.language))
        if s.privacy.redact:
            # after scoring, so redaction never changes a score
            with stage("redact"):
                report = redact_report(report, s.privacy.kinds, long_numbers=s.privacy.long_numbers)
        timings["total"] = round(sum(v for k, v in timings.items() if k != "total"), 3)
        return replace(report, timings=dict(timings))

    def rubric_for(self, language: str) -> Rubric:
        """The configured rubric of ``language`` (loaded once), else the default one."""
        language = language if language in ("zh", "en") else "en"
        rubric = self._rubrics.get(language)
        if rubric is None:
            for path in self.settings.scoring.rubrics:
                candidate = load_rubric(path)
                self._rubrics.setdefault(candidate.language, candidate)
            rubric = self._rubrics.setdefault(language, default_rubric(language))
        return rubric


def channel_speech(
    samples: np.ndarray, vad: VoiceActivityDetector, settings: Settings
) -> dict[int, list[tuple[float, float]]]:
    """Speech spans of each channel of a stereo call, each channel's own talker only: who
    spoke when (the call's segments; :func:`channel_speech_spans`)."""
    return channel_speech_spans(samples, vad, settings)[1]


def channel_speech_spans(
    samples: np.ndarray, vad: VoiceActivityDetector, settings: Settings
) -> tuple[dict[int, list[tuple[float, float]]], dict[int, list[tuple[float, float]]]]:
    """(heard, spoken): the speech spans of each channel of a stereo call, each channel's own
    talker only, as Whisper is to hear them and as the call's segments.

    Silero's probabilities per channel, with the frames where a channel only carries the
    other party (crosstalk, echo: :mod:`calmline.monitor.crosstalk`) set to 0, made into spans
    with the stereo VAD settings (``vad.channels_*``, tuned on real 8 kHz calls): ``heard``.
    ``spoken`` is the same spans with each start moved back to where the channel's own level
    rose (``refine_onsets``: Silero is late on onsets after silence) and cut at the talker's
    own pauses of 0.2 s or more that the VAD bridges where the other party starts in one
    (``split_at_pauses``), what the overlap and interruption rules read. Whisper hears
    ``heard`` with ``asr.context_pad_s`` (0.4 s) of signal around each span, which covers the
    onset already; moving its chunks' edges only reshuffles its windows (fed the moved spans,
    Whisper got 7 more of the 361 words of the six Harper Valley agent channels wrong:
    ``bench/README.md``).
    """
    from calmline.models.vad_silero import VadOptions, spans_from_probabilities
    from calmline.monitor.crosstalk import CrosstalkOptions, own_speech, refine_onsets
    from calmline.monitor.pauses import split_at_pauses

    v, x = settings.vad, settings.crosstalk
    options = VadOptions(
        threshold=v.channels_threshold,
        min_speech_ms=v.min_speech_ms,
        min_silence_ms=v.channels_min_silence_ms,
        speech_pad_ms=v.channels_speech_pad_ms,
    )
    probs = [vad.speech_probabilities(samples[c]) for c in range(samples.shape[0])]
    duration = samples.shape[1] / SAMPLE_RATE
    if len(probs) != 2:
        heard = {c: spans_from_probabilities(p, options, duration) for c, p in enumerate(probs)}
        return heard, heard
    probs, ev, copy = own_speech(samples, probs, CrosstalkOptions.of(x))
    heard = {c: spans_from_probabilities(p, options, duration) for c, p in enumerate(probs)}
    refined = {
        c: refine_onsets(
            spans,
            ev.level_db[c],
            copy[c],
            v.channels_onset_shift_ms / 1000,
            v.channels_onset_margin_db,
        )
        for c, spans in heard.items()
    }
    spoken = {
        c: split_at_pauses(
            spans,
            probs[c],
            ev.level_db[c],
            copy[c],
            v.channels_threshold,
            v.channels_onset_margin_db,
            onsets=[a for a, _ in refined[1 - c]],
        )
        for c, spans in refined.items()
    }
    return heard, spoken


def _progress(hook: Callable[..., None], step: str, i: int, n: int) -> Callable[[float], None]:
    """A transcriber's ``progress`` (share of part ``i`` of ``n`` done) as hook calls."""
    return lambda share: hook(step, None, completed=i + share, total=n)


@contextmanager
def _stage(name: str, hook: Callable[..., None], timings: dict[str, float]) -> Iterator[None]:
    hook(name, None, completed=0, total=1)
    t0 = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - t0, 3)
    hook(name, None, completed=1, total=1)


def _call_id(path: str) -> str:
    stem = Path(path).stem if path and not path.startswith("<") else "call"
    return f"{stem}-{uuid.uuid4().hex[:8]}"


def union_spans(
    spans: Sequence[tuple[float, float]], gap: float = 0.0
) -> list[tuple[float, float]]:
    """Sorted, non-overlapping union of (start, end) spans, joining those closer than ``gap`` s."""
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1] + gap:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _speech_only(
    samples: np.ndarray, spans: list[tuple[float, float]], limit_s: float = LANGUAGE_WINDOW_S
) -> np.ndarray:
    """The first ``limit_s`` seconds of the speech in ``spans``, joined (what language detection
    hears); only those spans are read, so a long file-backed call stays on disk."""
    parts: list[np.ndarray] = []
    need = round(limit_s * SAMPLE_RATE)
    for a, b in spans:
        if need <= 0:
            break
        part = read_span(samples, int(a * SAMPLE_RATE), int(b * SAMPLE_RATE))[:need]
        parts.append(part)
        need -= part.shape[0]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
