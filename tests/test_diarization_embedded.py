"""The embedded mono diarizer (Silero VAD + resemblyzer GE2E) on real speech."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from calmline.monitor.types import SAMPLE_RATE, SpeechSegment

pytest.importorskip("resemblyzer", reason="needs the mono extra: pip install 'calmline[mono]'")

from calmline.models.base import (
    Diarizer,
    SpeakerEmbedder,
    diarization_backends,
    embedding_backends,
)
from calmline.models.diarization_embedded import (
    EmbeddedDiarizationOptions,
    EmbeddedDiarizer,
)
from calmline.models.embedding_resemblyzer import ResemblyzerEmbedder

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SAMPLE = DATA / "diarization" / "pyannote_sample"
JFK = DATA / "asr" / "en" / "jfk.flac"
LIBRI = DATA / "asr" / "en" / "librispeech-1995-1837-0001.wav"

# DER of the default options on the pyannote sample, collar 0, overlap scored, whole file:
# 0.139 when measured (bench/accuracy.py); the margin covers BLAS/torch numeric differences.
SAMPLE_DER_BOUND = 0.20


def _need(*paths: Path) -> None:
    for path in paths:
        if not path.exists():
            pytest.skip(f"shared evaluation data absent: {path}")


def _mono(path: Path) -> np.ndarray:
    from calmline.monitor.audio import load_audio

    return load_audio(path).mono()


@pytest.fixture(scope="module")
def diarizer() -> EmbeddedDiarizer:
    return EmbeddedDiarizer()


@pytest.fixture(scope="module")
def sample_segments(diarizer: EmbeddedDiarizer) -> tuple[np.ndarray, list[SpeechSegment]]:
    _need(SAMPLE / "sample.wav")
    samples = _mono(SAMPLE / "sample.wav")
    return samples, diarizer.diarize(samples)


@pytest.fixture(scope="module")
def two_voices() -> tuple[np.ndarray, float]:
    """A LibriSpeech reader followed without a pause by John F. Kennedy: (signal, join in s)."""
    _need(JFK, LIBRI)
    first = _mono(LIBRI)[: round(8.7 * SAMPLE_RATE)]
    # jfk.flac opens with 0.2 s of silence: drop it so the voices abut inside one speech span
    second = _mono(JFK)[round(0.2 * SAMPLE_RATE) : round(10.5 * SAMPLE_RATE)]
    return np.concatenate([first, second]), first.shape[0] / SAMPLE_RATE


def _check_invariants(segments: list[SpeechSegment], duration: float) -> None:
    starts = [s.start for s in segments]
    assert starts == sorted(starts)
    for seg in segments:
        assert 0.0 <= seg.start < seg.end <= duration + 1e-6
        assert seg.channel is None
    for a, b in itertools.pairwise(segments):
        assert a.end <= b.start + 1e-6, "the embedded backend gives one speaker per moment"
    # named in order of first appearance
    order = list(dict.fromkeys(s.speaker for s in segments))
    assert order == [f"SPEAKER_{i:02d}" for i in range(len(order))]


def test_registered_backends_satisfy_protocols(diarizer: EmbeddedDiarizer) -> None:
    assert "embedded" in diarization_backends.names()
    assert "resemblyzer" in embedding_backends.names()
    assert isinstance(diarizer, Diarizer)
    assert isinstance(diarizer.embedder, SpeakerEmbedder)
    assert diarizer.info.kind == "diarization"
    assert diarizer.embedder.info.name == "resemblyzer-ge2e"
    assert diarizer.embedder.info.device in {"cpu", "cuda"}


@pytest.mark.shared_data
def test_embedder_returns_unit_vectors_per_window(diarizer: EmbeddedDiarizer) -> None:
    _need(LIBRI)
    embedder = diarizer.embedder
    assert isinstance(embedder, ResemblyzerEmbedder)
    speech = _mono(LIBRI)
    windows = [speech[i * 8000 : i * 8000 + 24_000] for i in range(6)]
    windows.append(speech[:12_000])  # another length goes in its own batch
    embeddings = embedder.embed(windows)
    assert embeddings.shape == (7, 256)
    assert embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    # batched and one-by-one agree: batching changes speed, not results
    np.testing.assert_allclose(embedder.embed(windows[:1])[0], embeddings[0], atol=1e-4)
    assert embedder.embed([]).shape == (0, 256)


@pytest.mark.shared_data
def test_embedder_same_speaker_is_closer(diarizer: EmbeddedDiarizer) -> None:
    _need(JFK, LIBRI)
    a, b = _mono(JFK), _mono(LIBRI)
    # 1.5 s windows from the speech of each recording
    starts = (1.0, 3.3, 5.5, 8.3)
    ea = diarizer.embedder.embed([a[round(s * SAMPLE_RATE) :][:24_000] for s in starts])
    eb = diarizer.embedder.embed([b[round(s * SAMPLE_RATE) :][:24_000] for s in starts])
    off_diagonal = ~np.eye(len(starts), dtype=bool)
    within_a = (ea @ ea.T)[off_diagonal].mean()
    within_b = (eb @ eb.T)[off_diagonal].mean()
    across = (ea @ eb.T).mean()
    assert within_a > across + 0.05
    assert within_b > across + 0.05


@pytest.mark.shared_data
def test_pyannote_sample_two_speakers_low_der(
    sample_segments: tuple[np.ndarray, list[SpeechSegment]],
) -> None:
    metrics = pytest.importorskip("pyannote.metrics.diarization", reason="needs the dev extra")
    from pyannote.core import Annotation, Segment, Timeline

    samples, segments = sample_segments
    assert {s.speaker for s in segments} == {"SPEAKER_00", "SPEAKER_01"}
    reference = Annotation(uri="sample")
    for i, line in enumerate((SAMPLE / "sample.rttm").read_text().splitlines()):
        parts = line.split()
        start, dur = float(parts[3]), float(parts[4])
        reference[Segment(start, start + dur), i] = parts[7]
    hypothesis = Annotation(uri="sample")
    for i, seg in enumerate(segments):
        hypothesis[Segment(seg.start, seg.end), i] = seg.speaker
    uem = Timeline([Segment(0.0, samples.shape[0] / SAMPLE_RATE)])
    der = metrics.DiarizationErrorRate(collar=0.0)(reference, hypothesis, uem=uem)
    assert der < SAMPLE_DER_BOUND


@pytest.mark.shared_data
def test_pyannote_sample_invariants(
    sample_segments: tuple[np.ndarray, list[SpeechSegment]],
) -> None:
    samples, segments = sample_segments
    assert segments
    _check_invariants(segments, samples.shape[0] / SAMPLE_RATE)


@pytest.mark.shared_data
def test_two_real_voices_split_at_the_join(
    diarizer: EmbeddedDiarizer, two_voices: tuple[np.ndarray, float]
) -> None:
    signal, join = two_voices
    segments = diarizer.diarize(signal)
    _check_invariants(segments, signal.shape[0] / SAMPLE_RATE)
    assert {s.speaker for s in segments} == {"SPEAKER_00", "SPEAKER_01"}
    # one change of speaker, close to where the recordings meet
    changes = [b.start for a, b in itertools.pairwise(segments) if a.speaker != b.speaker]
    assert len(changes) == 1
    assert abs(changes[0] - join) < 0.5
    talk = {
        name: sum(s.end - s.start for s in segments if s.speaker == name)
        for name in ("SPEAKER_00", "SPEAKER_01")
    }
    assert talk["SPEAKER_00"] > 6.0 and talk["SPEAKER_01"] > 7.0


@pytest.mark.shared_data
def test_estimated_count_finds_the_two_voices(
    diarizer: EmbeddedDiarizer, two_voices: tuple[np.ndarray, float]
) -> None:
    signal, _ = two_voices
    segments = diarizer.diarize(signal, num_speakers=None, min_speakers=1, max_speakers=4)
    assert len({s.speaker for s in segments}) == 2


def test_silence_and_empty_give_no_segments(diarizer: EmbeddedDiarizer) -> None:
    assert diarizer.diarize(np.zeros(0, dtype=np.float32)) == []
    assert diarizer.diarize(np.zeros(5 * SAMPLE_RATE, dtype=np.float32)) == []
    # faint white noise is not speech either
    noise = np.random.default_rng(0).normal(0, 1e-3, 5 * SAMPLE_RATE).astype(np.float32)
    assert diarizer.diarize(noise) == []


@pytest.mark.shared_data
def test_too_little_speech_is_one_speaker(diarizer: EmbeddedDiarizer) -> None:
    _need(JFK)
    speech = _mono(JFK)[round(0.2 * SAMPLE_RATE) : round(1.8 * SAMPLE_RATE)]
    segments = diarizer.diarize(speech, num_speakers=2)
    assert segments
    assert {s.speaker for s in segments} == {"SPEAKER_00"}
    _check_invariants(segments, speech.shape[0] / SAMPLE_RATE)


@pytest.mark.shared_data
def test_more_speakers_asked_than_windows(diarizer: EmbeddedDiarizer) -> None:
    _need(LIBRI)
    speech = _mono(LIBRI)[: 3 * SAMPLE_RATE]
    few = EmbeddedDiarizer(
        EmbeddedDiarizationOptions(min_cluster_speech_s=0.5),
        vad=diarizer.vad,
        embedder=diarizer.embedder,
    )
    segments = few.diarize(speech, num_speakers=10)
    assert segments
    assert len({s.speaker for s in segments}) < 10
    _check_invariants(segments, speech.shape[0] / SAMPLE_RATE)


def test_rejects_bad_input(diarizer: EmbeddedDiarizer) -> None:
    with pytest.raises(ValueError):
        diarizer.diarize(np.zeros((2, 100), dtype=np.float32))
    with pytest.raises(ValueError):
        diarizer.diarize(np.zeros(100, dtype=np.float32), num_speakers=0)


@pytest.mark.shared_data
def test_embed_at_shares_frames_and_matches_cut_windows(diarizer: EmbeddedDiarizer) -> None:
    _need(LIBRI)
    embedder = diarizer.embedder
    speech = _mono(LIBRI)
    length = 19_200  # the diarizer's 1.2 s window
    # overlapping windows a whole number of hops apart, plus one off the frame grid
    starts = np.array([16_000, 16_000 + 4_800, 16_000 + 9_600, 40_123])
    shared = embedder.embed_at(speech, starts, length)
    cut = embedder.embed([speech[s : s + length] for s in starts])
    assert shared.shape == (4, 256)
    np.testing.assert_allclose(np.linalg.norm(shared, axis=1), 1.0, atol=1e-5)
    # the same embeddings as windows cut out one by one, up to float rounding
    np.testing.assert_allclose(shared, cut, atol=2e-4)
    with pytest.raises(ValueError, match="inside the signal"):
        embedder.embed_at(speech, np.array([speech.shape[0] - 100]), length)
    assert embedder.embed_at(speech, np.zeros(0, dtype=np.int64), length).shape == (0, 256)
