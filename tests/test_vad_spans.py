"""The one span engine: whole files and live chunks get the same speech spans."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from calmline.models.vad_silero import FRAME, VadOptions, spans_from_probabilities
from calmline.models.vad_spans import FRAME_S, SpanEngine
from calmline.monitor.audio import MULAW_TO_INT16, StreamResampler, resample
from calmline.monitor.types import SAMPLE_RATE

OPTIONS = (
    VadOptions(),
    VadOptions(threshold=0.4, min_silence_ms=500, speech_pad_ms=100),
    VadOptions(threshold=0.6, min_silence_ms=200, speech_pad_ms=30, min_speech_ms=250),
)


def _probabilities(rng: np.random.Generator, n: int) -> np.ndarray:
    """Runs of speech and silence with noisy edges, as Silero gives them."""
    levels = rng.random(n // 6 + 1)
    return np.clip(np.repeat(levels, 6)[:n] + rng.normal(0, 0.1, n), 0, 1).astype(np.float32)


@pytest.mark.parametrize("options", OPTIONS)
def test_chunks_of_any_size_give_the_whole_signals_spans(options):
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(1, 800))
        probs = _probabilities(rng, n)
        duration = n * FRAME / SAMPLE_RATE
        whole = spans_from_probabilities(probs, options, duration)
        engine, spans, i = SpanEngine(options), [], 0
        while i < n:
            k = int(rng.integers(1, 40))
            spans += engine.feed(probs[i : i + k])
            i += k
        spans += engine.finish(duration)
        assert [(s.start, s.end) for s in spans] == whole


@pytest.mark.parametrize("options", OPTIONS)
def test_spans_keep_the_rules(options):
    """Sorted, apart, inside the signal, each holding at least ``min_speech_ms`` of speech, and
    the speech end (before padding) inside its span."""
    rng = np.random.default_rng(11)
    for _ in range(200):
        n = int(rng.integers(1, 800))
        probs = _probabilities(rng, n)
        duration = n * FRAME / SAMPLE_RATE
        engine = SpanEngine(options)
        spans = engine.feed(probs) + engine.finish(duration)
        for s in spans:
            assert 0.0 <= s.start < s.speech_end <= s.end <= round(duration, 3) + 1e-9
            assert s.speech_end - s.start >= options.min_speech_ms / 1000 - 1e-3
        for a, b in itertools.pairwise(spans):
            assert a.end <= b.start


def test_a_burst_of_speech_is_one_padded_span():
    probs = np.zeros(100, np.float32)
    probs[20:40] = 0.9
    spans = spans_from_probabilities(probs, VadOptions(speech_pad_ms=60), 100 * FRAME_S)
    assert spans == [(round(20 * FRAME_S - 0.06, 3), round(40 * FRAME_S + 0.06, 3))]
    short = np.zeros(100, np.float32)
    short[20:23] = 0.9  # 96 ms: under min_speech_ms
    assert spans_from_probabilities(short, VadOptions(), 100 * FRAME_S) == []


def test_a_speaker_who_never_pauses_is_cut_into_spans_of_the_longest_length():
    probs = np.full(1000, 0.9, np.float32)  # 32 s of speech
    engine = SpanEngine(VadOptions(), max_span_s=10.0)
    spans = engine.feed(probs) + engine.finish(1000 * FRAME_S)
    assert len(spans) == 4
    assert all(s.end - s.start <= 10.0 + FRAME_S for s in spans)
    assert all(a.end == b.start for a, b in itertools.pairwise(spans))


def test_the_streaming_resampler_is_the_whole_file_resampler():
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(8000 * 3 + 17) * 0.1).astype(np.float32)
    r, parts, i = StreamResampler(8000), [], 0
    while i < x.shape[0]:
        k = int(rng.integers(1, 900))
        parts.append(r.push(x[i : i + k]))
        i += k
    parts.append(r.push(None))
    assert np.array_equal(np.concatenate(parts), resample(x, 8000, SAMPLE_RATE))


def test_mulaw_table_is_symmetric_and_monotonic():
    """G.711: byte 0xFF is +0, 0x7F is -0 (both 0), and magnitude grows as the byte falls."""
    assert MULAW_TO_INT16[0xFF] == 0 and MULAW_TO_INT16[0x7F] == 0
    positive = MULAW_TO_INT16[0x80:][::-1]
    assert np.all(np.diff(positive.astype(int)) > 0)
    assert np.array_equal(MULAW_TO_INT16[:0x80], -MULAW_TO_INT16[0x80:])
    assert MULAW_TO_INT16.max() == 32124
