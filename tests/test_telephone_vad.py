"""Speech on each channel of a stereo phone call: soft speech found at 8 kHz G.711, the other
party's crosstalk not taken for the channel's own talker."""

from __future__ import annotations

import numpy as np
import pytest

from calmline.monitor.crosstalk import (
    FRAME,
    CrosstalkOptions,
    crosstalk_frames,
    evidence,
    own_speech_probabilities,
    refine_onsets,
)
from calmline.monitor.types import SAMPLE_RATE
from tests.conftest import SHARED_DATA, load_bench, shared_data

FRAME_S = FRAME / SAMPLE_RATE


def _talker(rng: np.random.Generator, n: int, dbfs: float) -> np.ndarray:
    """Speech-like noise: band-limited, syllable-rate (4 Hz) amplitude modulation, at ``dbfs``."""
    x = np.convolve(rng.standard_normal(n), np.hanning(9), mode="same")  # below ~2.5 kHz
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 4 * np.arange(n) / SAMPLE_RATE + rng.uniform(0, 6))
    x *= envelope
    return (x * 10 ** (dbfs / 20) / np.sqrt(np.mean(x**2))).astype(np.float32)


def _leak(x: np.ndarray, delay_ms: float, dbfs: float) -> np.ndarray:
    """``x`` low-passed, delayed by ``delay_ms`` (negative: ahead) and set to ``dbfs``."""
    y = np.convolve(x, np.ones(4) / 4, mode="same")
    y = np.roll(y, round(delay_ms * SAMPLE_RATE / 1000))
    return (y * 10 ** (dbfs / 20) / np.sqrt(np.mean(y**2) + 1e-20)).astype(np.float32)


def _frames(a: float, b: float) -> slice:
    """Frames wholly inside a-b (s), one frame of margin each side for the 64 ms window."""
    return slice(int(np.ceil(a / FRAME_S)) + 1, int(b / FRAME_S) - 1)


def _call(leak_delay_ms: float = 3.0, leak_dbfs: float = -53.0, seed: int = 0) -> np.ndarray:
    """Six seconds, two channels at 16 kHz: 0-2 s A talks (channel 1 carries A's leak); 2-4 s
    B talks alone on channel 1; 4-6 s both talk, B softly (-40 dBFS) under A's leak."""
    rng = np.random.default_rng(seed)
    n = 2 * SAMPLE_RATE
    a1, a3 = _talker(rng, n, -25), _talker(rng, n, -22)
    b2, b3 = _talker(rng, n, -30), _talker(rng, n, -40)
    floor = (rng.standard_normal((2, 3 * n)) * 10 ** (-75 / 20)).astype(np.float32)
    ch0 = np.concatenate([a1, np.zeros(n, np.float32), a3])
    ch1 = np.concatenate([_leak(a1, leak_delay_ms, leak_dbfs), b2, b3 + _leak(a3, 3.0, -53)])
    return np.stack([ch0, ch1]) + floor


def test_a_delayed_quieter_correlated_copy_is_crosstalk_and_own_speech_is_not():
    ev = evidence(_call())
    copy = crosstalk_frames(ev)
    assert copy[1, _frames(0.0, 2.0)].mean() >= 0.95  # A's leak on channel 1
    assert not copy[1, _frames(2.0, 4.0)].any()  # B alone
    assert not copy[1, _frames(4.0, 6.0)].any()  # B, soft, over A's leak: B's own speech
    assert not copy[0].any()  # the source is never the copy
    # the evidence itself: the leak is correlated at its delay, the overlap is not
    assert np.median(ev.correlation[_frames(0.0, 2.0)]) > 0.9
    assert np.median(ev.lag_ms[_frames(0.0, 2.0)]) == pytest.approx(3.0, abs=0.25)
    assert ev.correlation[_frames(4.0, 6.0)].max() < CrosstalkOptions().min_correlation


def test_the_rule_is_the_same_in_both_directions():
    x = _call()
    assert np.array_equal(
        crosstalk_frames(evidence(x[::-1].copy())), crosstalk_frames(evidence(x))[::-1]
    )


@pytest.mark.parametrize(
    ("delay_ms", "dbfs", "why"),
    [(-4.0, -53.0, "the copy leads its source"), (3.0, -26.0, "the copy is as loud")],
)
def test_a_correlated_stretch_is_not_a_copy_unless_late_and_quieter(delay_ms, dbfs, why):
    copy = crosstalk_frames(evidence(_call(leak_delay_ms=delay_ms, leak_dbfs=dbfs)))
    assert copy[1, _frames(0.0, 2.0)].mean() < 0.05, why


def test_own_speech_probabilities_zero_only_the_copy():
    x = _call()
    probs = [np.full(x.shape[1] // FRAME, 0.9, np.float32) for _ in range(2)]
    out = own_speech_probabilities(x, probs)
    assert out[1][_frames(0.0, 2.0)].max() == 0.0
    assert np.all(out[1][_frames(2.0, 6.0)] == 0.9)
    assert np.all(out[0] == 0.9)
    same = own_speech_probabilities(x, probs, CrosstalkOptions(enabled=False))
    assert all(np.array_equal(a, b) for a, b in zip(same, probs, strict=True))


def test_an_onset_moves_back_over_the_channels_own_level_only():
    """Frames over the floor move a span's start back; the other talker's copy, the floor, the
    previous span and the bound stop it."""
    level = np.full(100, -70.0)  # noise floor
    level[40:60] = -30.0  # the talker, from frame 40
    level[5:15] = -30.0  # an earlier span's speech
    copy = np.zeros(100, bool)
    f = FRAME_S
    spans = [(5 * f, 15 * f), (50 * f, 60 * f)]  # Silero's start 10 frames late
    assert refine_onsets(spans, level, copy, 0.5, 6.0)[1][0] == pytest.approx(40 * f, abs=1e-3)
    assert refine_onsets(spans, level, copy, 5 * f, 6.0)[1][0] == pytest.approx(45 * f, abs=1e-3)
    assert refine_onsets(spans, level, copy, 0.0, 6.0) == spans
    copy[30:44] = True  # the other talker's leak right before: never taken
    assert refine_onsets(spans, level, copy, 0.5, 6.0)[1][0] == pytest.approx(44 * f, abs=1e-3)
    level[15:40] = -30.0  # loud all the way back: stops at the previous span's end
    out = refine_onsets(spans, level, np.zeros(100, bool), 2.0, 6.0)
    assert out[1][0] >= out[0][1] and out[0] == spans[0]
    # a soft bump far under the span's own level (a breath, line noise) is not its onset
    level = np.full(100, -70.0)
    level[40:50], level[50:60] = -60.0, -20.0
    assert refine_onsets([(50 * f, 60 * f)], level, copy, 0.5, 6.0)[0][0] == 50 * f


def test_evidence_refuses_a_mono_signal():
    with pytest.raises(ValueError, match="two channels"):
        evidence(np.zeros((1, 16000), np.float32))


# -- a real call ------------------------------------------------------------------------------

CALL, START, END = "3a20358e1bfc4a17", 0.0, 20.0
"""Harper Valley call excerpt: a soft agent (-35 dBFS over its speech) and a caller, 4-5 s of
speech each."""


@pytest.fixture(scope="module")
def pbx_call():
    data = shared_data("calls", "harper_valley")
    pbx = load_bench("pbx")
    call = pbx.excerpt(pbx.add_crosstalk(pbx.load_call(data.parents[1], CALL)), START, END)
    return pbx, call, pbx.encode_call(call, "mulaw")


def test_real_call_at_8khz_mulaw_soft_speech_found_crosstalk_rejected(pbx_call, models, settings):
    from calmline.pipelines.batch import channel_speech

    pbx, call, audio = pbx_call
    assert audio.info.sample_rate == 8000 and audio.channels == 2
    assert audio.info.codec == "pcm_mulaw"
    assert_own_speech_without_leak(pbx, call, channel_speech(audio.samples, models.vad(), settings))


def assert_own_speech_without_leak(pbx, call, spans) -> None:
    """Each channel's ``spans`` hold 95 % of its talker's speech and at most 1 % of it in leak."""
    for c in (0, 1):
        own, other = call.reference[c], call.reference[1 - c]
        refined = pbx.refine_reference(call.samples[c], own)
        found = pbx.intersect_seconds(pbx.merge(spans[c]), refined)
        assert found >= 0.95 * pbx.speech_seconds(refined), (c, spans[c], refined)
        leaked = pbx.crosstalk_seconds(spans[c], own, other)
        assert leaked <= 0.01 * pbx.speech_seconds(own), (c, leaked, spans[c])


def test_real_call_planted_crosstalk_is_what_plain_vad_marks(pbx_call, models):
    """The premise of the test above: the planted leak is speech to Silero on its own."""
    pbx, call, audio = pbx_call
    vad = models.vad()
    leaked = sum(
        pbx.crosstalk_seconds(vad.detect(audio.samples[c]), call.reference[c], call.crosstalk[c])
        for c in (0, 1)
    )
    assert leaked >= 2.0


def test_pbx_builder_plants_the_leak_at_its_level_and_delay():
    pbx = load_bench("pbx")
    rng = np.random.default_rng(1)
    n = 4 * pbx.RATE
    x = np.zeros((2, n), np.float32)
    x[0, : 2 * pbx.RATE] = rng.standard_normal(2 * pbx.RATE) * 0.05  # A talks 0-2 s
    x[1, 2 * pbx.RATE :] = rng.standard_normal(2 * pbx.RATE) * 0.05  # B talks 2-4 s
    call = pbx.add_crosstalk(pbx.PbxCall("synthetic", x, ([(0.0, 2.0)], [(2.0, 4.0)])))
    lo, hi = pbx.CROSSTALK_DBFS
    for c, (a, b) in ((1, (0.0, 2.0)), (0, (2.0, 4.0))):
        leak = call.samples[c] - x[c]
        assert lo - 0.5 <= pbx.level_dbfs(leak, [(a, b)]) <= hi + 0.5
        assert call.crosstalk_dbfs[c] == pytest.approx(pbx.level_dbfs(leak, [(a, b)]), abs=0.1)
        src = x[1 - c, int(a * pbx.RATE) : int(b * pbx.RATE)]
        got = leak[int(a * pbx.RATE) : int(b * pbx.RATE)]
        lags = range(0, 80)
        best = max(lags, key=lambda d: float(np.dot(src[: src.size - d], got[d:])))
        assert pbx.CROSSTALK_DELAY_MS[0] <= best * 1000 / pbx.RATE <= pbx.CROSSTALK_DELAY_MS[1]
    assert call.crosstalk == (call.reference[1], call.reference[0])
    with pytest.raises(ValueError, match="unknown codec"):
        pbx.encode_call(call, "gsm")


# -- a late onset after silence ---------------------------------------------------------------


def test_a_late_vad_onset_after_silence_moves_back_to_the_talkers_level_rise(models, settings):
    """The pyannote sample as a two-channel mix (``bench/accuracy.py``): speaker90 cuts in at
    27.85 s on a channel that was digitally silent; Silero's probability stays under the
    threshold until 28.42 s while the channel is 20-30 dB over its floor from 27.94 s."""
    shared_data("diarization", "pyannote_sample", "sample.wav")
    accuracy = load_bench("accuracy")
    rec = accuracy.recordings(SHARED_DATA)[0]
    assert rec.name == "sample"
    mix = accuracy.stereo_mix(rec)
    assert mix.speakers[1] == "speaker90"
    from calmline.pipelines.batch import channel_speech

    spans = channel_speech(mix.samples, models.vad(), settings)
    start = next(a for a, b in spans[1] if a < 28.6 < b)
    assert 27.85 - 0.05 <= start <= 27.85 + 0.15, spans[1]
