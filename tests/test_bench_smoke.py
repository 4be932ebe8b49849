"""The benchmarks' own building blocks: long calls made from samples, stereo mixes made from
per-speaker material, reference interruptions, and ``calmline batch --workers`` throughput."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import load_bench

REPO = Path(__file__).resolve().parents[1]

speed = load_bench("speed")
accuracy = load_bench("accuracy")


def test_long_call_repeats_the_sample_in_its_own_format(tmp_path):
    source = sf.info(str(REPO / "samples" / "en_stereo_mulaw.wav"))
    path = speed.make_call("en_stereo_mulaw", 2, tmp_path)
    made = sf.info(str(path))
    assert (made.channels, made.samplerate, made.subtype) == (2, 8000, source.subtype)
    assert made.frames == 2 * 60 * 8000  # cut at exactly two minutes
    x, _ = sf.read(str(path), always_2d=True)
    n, gap = source.frames, round(speed.GAP_S * 8000)
    # the second copy starts after the first and its 0.5 s of silence, sample for sample
    second = x[n + gap :]  # as much of the second copy as fits before the cut
    np.testing.assert_allclose(second, x[: len(second)])
    assert not x[n : n + gap].any()
    assert speed.make_call("en_stereo_mulaw", 2, tmp_path) == path  # cached


def _recording():
    from pyannote.core import Annotation, Segment, Timeline

    ref = Annotation(uri="r")
    ref[Segment(0.0, 4.0), 0] = "A"
    ref[Segment(3.0, 6.0), 1] = "B"  # B starts 3 s into A's turn: an interruption
    ref[Segment(6.5, 7.0), 2] = "C"  # a third, quieter voice
    ref[Segment(7.5, 9.5), 3] = "A"
    ref[Segment(8.0, 8.6), 4] = "B"  # a short one inside A's turn: maybe a backchannel
    samples = np.full(10 * accuracy.SR, 0.5, dtype=np.float32)
    uem = Timeline([Segment(0.0, 10.0)], uri="r")
    return accuracy.Recording("r", samples, ref, uem)


def test_stereo_mix_gives_each_speaker_a_channel_and_drops_the_third():
    mix = accuracy.stereo_mix(_recording())
    sr = accuracy.SR
    assert mix.speakers == ("A", "B") and mix.samples.shape == (2, 10 * sr)
    a, b = mix.samples
    assert a[int(1.0 * sr)] == pytest.approx(0.5) and b[int(1.0 * sr)] == 0.0
    assert a[int(3.5 * sr)] == pytest.approx(0.5) == b[int(3.5 * sr)]  # both talk: both carry it
    assert not a[int(6.6 * sr) : int(6.9 * sr)].any() and not b[int(6.6 * sr) : int(6.9 * sr)].any()
    assert mix.uem.duration() == pytest.approx(9.5)  # C's half second is not scored
    assert set(mix.reference.labels()) == {"A", "B"}


def test_reference_interruptions_follow_the_detector_rule():
    from calmline.monitor.floor import InterruptionRule
    from calmline.monitor.types import SpeechSegment

    mix = accuracy.stereo_mix(_recording())
    segments = [
        SpeechSegment(seg.start, seg.end, label)
        for seg, _, label in mix.reference.itertracks(yield_label=True)
    ]
    case = accuracy.InterruptionCase("r", "ami-16k", None, mix.speakers, segments, None)
    # B at 3.0 s inside A's 0-4 s speech, 1 s of overlap; B's 0.6 s at 8.0 s is too short
    events = accuracy.reference_interruptions(case, InterruptionRule(), None)
    assert [(e["channel"], e["start"], e["overlap"]) for e in events] == [(1, 3.0, 1.0)]
    assert [(e["channel"], e["start"]) for e in accuracy.truth_interruptions(case)] == [(1, 3.0)]


def test_detections_match_one_to_one_by_interrupter_within_a_second():
    reference = [{"channel": 1, "start": 3.0}]
    detected = [
        {"channel": 1, "start": 3.5},
        {"channel": 0, "start": 3.0},
        {"channel": 1, "start": 3.2},
    ]
    assert accuracy.match_events(detected, reference) == (1, 2, 0)
    assert accuracy.match_events([{"channel": 1, "start": 4.1}], reference) == (0, 1, 1)


def test_batch_with_two_workers_analyses_every_call(tmp_path):
    calls = [speed.make_call(s, 0.1, tmp_path) for s in ("en_stereo_mulaw", "en_mono")]
    result = speed.run_batch(calls, workers=2, model="bundled:tiny.en")
    assert result["calls"] == 2 and result["audio_s"] == pytest.approx(12.0, abs=0.1)
    assert result["wall_s"] > 0 and result["peak_rss_mb"] > 100
