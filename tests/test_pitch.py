"""F0 estimator: accuracy on harmonic signals with known F0, voicing, frame timing, real speech."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
import scipy.signal

from calmline.monitor.pitch import (
    PitchOptions,
    estimate_f0,
    frame_count,
    frame_times,
    track_pitch,
)

SR = 16_000
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def voice(
    f0_hz: float | np.ndarray,
    seconds: float = 1.5,
    *,
    snr_db: float | None = 10.0,
    telephone: bool = False,
    rms: float = 0.1,
    sample_rate: int = SR,
    seed: int = 0,
) -> np.ndarray:
    """A harmonic signal with 1/k harmonics up to 3.4 kHz, float32 shape (n,).

    ``f0_hz`` is a constant or float (n,) per sample (a glide). ``telephone`` drops the harmonics
    below 300 Hz, as a telephone channel does, so the fundamental is missing. White noise is
    added at ``snr_db`` below the signal.
    """
    rng = np.random.default_rng(seed)
    n = round(seconds * sample_rate)
    f = np.broadcast_to(np.asarray(f0_hz, dtype=np.float64), (n,))
    phase = 2 * np.pi * np.cumsum(f) / sample_rate  # (n,) phase of the fundamental
    x = np.zeros(n)
    for k in range(1, int(3400 // f.min()) + 1):
        # Harmonics leave the band one by one as a glide rises; gate each per sample.
        inside = (k * f <= 3400) & ~(telephone & (k * f < 300))
        x += inside * np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k
    x *= rms / np.sqrt(np.mean(x**2))
    if snr_db is not None:
        x += rng.normal(0.0, rms * 10 ** (-snr_db / 20), n)
    return x.astype(np.float32)


@pytest.mark.parametrize("telephone", [False, True], ids=["wideband", "no-fundamental"])
@pytest.mark.parametrize("f0", [100.0, 150.0, 220.0])
def test_f0_of_a_noisy_harmonic_signal_is_within_2_percent(f0, telephone):
    est = estimate_f0(voice(f0, snr_db=10.0, telephone=telephone))
    voiced = est[~np.isnan(est)]
    assert voiced.size >= 0.95 * est.size
    assert abs(np.median(voiced) / f0 - 1) < 0.02
    # Frame by frame, not only in the median: no octave errors hide behind a good median.
    assert np.mean(np.abs(voiced / f0 - 1) < 0.02) > 0.97


def test_f0_at_the_edges_of_the_search_range():
    for f0 in (65.0, 380.0):
        est = estimate_f0(voice(f0, snr_db=20.0))
        assert abs(np.nanmedian(est) / f0 - 1) < 0.02


@pytest.mark.parametrize("rms", [0.3, 0.01, 0.001])
def test_white_noise_is_unvoiced(rms):
    noise = np.random.default_rng(1).normal(0.0, rms, 5 * SR).astype(np.float32)
    est = estimate_f0(noise)
    assert np.mean(~np.isnan(est)) < 0.02


def test_band_limited_noise_is_unvoiced():
    # Telephone-band noise is far more correlated than white noise, the harder case.
    b, a = scipy.signal.butter(2, [300, 3400], btype="band", fs=SR)
    noise = scipy.signal.lfilter(b, a, np.random.default_rng(2).normal(0.0, 0.1, 5 * SR))
    est = estimate_f0(noise.astype(np.float32))
    assert np.mean(~np.isnan(est)) < 0.02


def test_silence_is_unvoiced():
    est = estimate_f0(np.zeros(2 * SR, dtype=np.float32))
    assert est.shape == (frame_count(2 * SR),)
    assert np.isnan(est).all()


def test_a_very_quiet_voice_is_unvoiced():
    # -70 dBFS is below the level gate: line hum and echo at that level are not the speaker.
    est = estimate_f0(voice(150.0, rms=10 ** (-70 / 20), snr_db=None))
    assert np.isnan(est).all()


def test_frame_grid():
    x = voice(150.0, seconds=1.234)
    est = estimate_f0(x)
    assert est.dtype == np.float32
    assert est.shape == (1 + x.size // 160,) == (frame_count(x.size),)
    np.testing.assert_allclose(frame_times(3), [0.0, 0.01, 0.02])
    np.testing.assert_allclose(frame_times(2, 8000), [0.0, 0.01])


def test_frames_are_centred_on_their_times():
    # A glide of one octave per second: an F0 measured dt seconds late is dt octaves high, so
    # the median log-ratio to the truth at the frame times is the timing error of the grid.
    t = np.arange(2 * SR) / SR
    est = estimate_f0(voice(100.0 * 2.0**t, seconds=2.0, snr_db=20.0))
    times = frame_times(est.size)
    inner = (times > 0.05) & (times < 1.95)
    truth = 100.0 * 2.0 ** times[inner]
    assert np.mean(np.abs(est[inner] / truth - 1) < 0.02) > 0.97
    # YIN integrates over the first part of its frame, a few ms early (see the module); a grid
    # off by a hop (10 ms) or half a frame (20 ms) is not.
    timing_error_s = np.median(np.log2(est[inner] / truth))
    assert -0.0075 < timing_error_s < 0.002


def test_voicing_follows_the_voice():
    x = np.zeros(2 * SR, dtype=np.float32)
    x[SR // 2 : SR] = voice(180.0, seconds=0.5, snr_db=None)
    est = estimate_f0(x)
    times = frame_times(est.size)
    voiced = times[~np.isnan(est)]
    assert voiced.min() >= 0.5 - 0.025 and voiced.max() <= 1.0 + 0.025
    assert voiced.size >= 45  # of the 50 frames centred inside the voice


def test_a_frame_range_matches_the_whole_signal_analysis():
    x = voice(np.linspace(120.0, 240.0, 3 * SR), seconds=3.0, snr_db=5.0, seed=3)
    whole = track_pitch(x)
    part = track_pitch(x, start_frame=57, stop_frame=213)
    assert part.first_frame == 57
    np.testing.assert_array_equal(part.f0, whole.f0[57:213])
    np.testing.assert_array_equal(part.level_dbfs, whole.level_dbfs[57:213])
    np.testing.assert_allclose(part.times(), frame_times(whole.f0.size)[57:213])


def test_level_of_a_sine():
    t = np.arange(SR) / SR
    x = (0.1 * np.sqrt(2) * np.sin(2 * np.pi * 200.0 * t)).astype(np.float32)  # RMS 0.1
    level = track_pitch(x).level_dbfs[5:-5]
    np.testing.assert_allclose(level, -20.0, atol=0.1)


def test_8_khz_input():
    est = estimate_f0(voice(150.0, sample_rate=8000, snr_db=15.0), sample_rate=8000)
    assert est.shape == (1 + round(1.5 * 8000) // 80,)
    assert abs(np.nanmedian(est) / 150.0 - 1) < 0.02


def test_options_that_cannot_work_are_refused():
    with pytest.raises(ValueError):
        estimate_f0(np.zeros(SR, np.float32), options=PitchOptions(f0_min=20.0))
    with pytest.raises(ValueError):
        estimate_f0(np.zeros((2, SR), np.float32))


def _read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        if w.getframerate() != SR or w.getsampwidth() != 2 or w.getnchannels() != 1:
            pytest.skip(f"{path.name}: expected 16 kHz 16-bit mono")
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return (pcm / 32768.0).astype(np.float32)


def _telephone(x: np.ndarray) -> np.ndarray:
    """16 kHz -> 8 kHz -> 300-3400 Hz band -> mu-law 8 bit -> 16 kHz, like a phone line."""
    narrow = scipy.signal.resample_poly(x, 1, 2)
    b, a = scipy.signal.butter(4, [300, 3400], btype="band", fs=8000)
    narrow = scipy.signal.lfilter(b, a, narrow)
    mu = 255.0
    code = np.round(np.sign(narrow) * np.log1p(mu * np.abs(narrow)) / np.log1p(mu) * 127) / 127
    narrow = np.sign(code) * np.expm1(np.abs(code) * np.log1p(mu)) / mu
    return scipy.signal.resample_poly(narrow, 2, 1).astype(np.float32)


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("name", "max_octave_errors"),
    [
        ("en/librispeech-1995-1837-0001.wav", 0.03),
        # A short sentence of a female voice with a strong second harmonic: the hard case.
        ("zh/aishell-BAC009S0724W0121.wav", 0.15),
    ],
)
def test_real_speech_survives_a_telephone_line(name, max_octave_errors):
    path = SHARED_DATA / "asr" / name
    if not path.exists():
        pytest.skip(f"evaluation data not present: {path}")
    x = _read_wav(path)
    wide = track_pitch(x)
    loud = wide.level_dbfs > np.percentile(wide.level_dbfs, 95) - 20
    f0 = wide.f0
    # A read sentence is largely voiced where it is loud, and an adult voice sits in 80-300 Hz.
    assert np.mean(~np.isnan(f0[loud])) > 0.4
    assert 80.0 < np.nanmedian(f0) < 300.0
    # Through a narrow-band mu-law line (fundamental filtered out) the same voice must keep its
    # pitch: the same median, frame by frame agreement, few octave jumps.
    phone = estimate_f0(_telephone(x))
    assert abs(np.nanmedian(phone) / np.nanmedian(f0) - 1) < 0.05
    both = ~np.isnan(f0) & ~np.isnan(phone)
    assert both.sum() > 0.6 * (~np.isnan(f0)).sum()
    ratio = np.log2(phone[both] / f0[both])
    assert np.median(np.abs(ratio)) < 0.03
    assert np.mean(np.abs(ratio) > 0.5) < max_octave_errors
