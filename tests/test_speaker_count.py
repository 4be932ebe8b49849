"""How many voices a mono recording holds: one voice is one speaker, a phone call is two, and the
report says how sure the count is. Real recordings from ../shared/data (skipped without it)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

from calmline.monitor.report import report_from_dict, report_to_dict
from calmline.monitor.settings import Settings
from calmline.monitor.types import SAMPLE_RATE, SpeakerCount
from tests.conftest import load_bench, shared_data

pytest.importorskip("resemblyzer", reason="needs the mono extra: pip install 'calmline[mono]'")

from calmline.models.diarization_embedded import EmbeddedDiarizer

pbx = load_bench("pbx")
articulation = load_bench("articulation")

HV_CALL = "3a20358e1bfc4a17"
"""A Harper Valley call whose agent and caller are both men (F0 111 and 112 Hz): no pitch cue."""


@pytest.fixture(scope="module")
def diarizer() -> EmbeddedDiarizer:
    return EmbeddedDiarizer()


@pytest.fixture(scope="module")
def hv_call():
    data = shared_data("calls", "harper_valley").parents[1]
    return pbx.load_call(data, HV_CALL)


def _upsample(x: np.ndarray) -> np.ndarray:
    return resample_poly(x, 2, 1).astype(np.float32)


def _estimate(diarizer: EmbeddedDiarizer, x: np.ndarray):
    s = Settings().diarization
    return diarizer.diarize_counted(
        x, num_speakers=s.num_speakers, min_speakers=s.min_speakers, max_speakers=s.max_speakers
    )


def test_mono_calls_estimate_one_or_two_voices_by_default():
    s = Settings().diarization
    assert s.num_speakers is None
    assert (s.min_speakers, s.max_speakers) == (1, 2)


@pytest.mark.shared_data
@pytest.mark.parametrize("side", [0, 1], ids=["agent", "caller"])
def test_one_real_telephone_voice_is_one_speaker(diarizer, hv_call, side):
    """Each side of a real 8 kHz call alone: one person, spontaneous speech, short replies."""
    result = _estimate(diarizer, _upsample(hv_call.samples[side]))
    assert {s.speaker for s in result.segments} == {"SPEAKER_00"}
    count = result.speaker_count
    assert (count.count, count.estimated, count.method) == (1, True, "cohesion")
    assert count.cohesion >= count.threshold
    assert 0.5 < count.confidence <= 1.0


@pytest.mark.shared_data
def test_one_reader_over_several_utterances_is_one_speaker(diarizer):
    """Five read sentences of one MagicData speaker, joined by pauses, also as 8 kHz mu-law."""
    folder = shared_data("asr", "zh", "magicdata_customer_service_read")
    waves = sorted(folder.rglob("*.wav"))[5:10]
    x = articulation._join([articulation._mono(w) for w in waves], 0.5)
    for signal in (x, articulation.telephone(x)):
        result = _estimate(diarizer, signal)
        assert result.speaker_count.count == 1
        assert len({s.speaker for s in result.segments}) == 1


@pytest.mark.shared_data
def test_two_voices_on_one_phone_line_are_two_speakers(diarizer, hv_call):
    mix = articulation.telephone(_upsample(np.clip(hv_call.samples.sum(axis=0), -1, 1)))
    result = _estimate(diarizer, mix)
    count = result.speaker_count
    assert (count.count, count.method) == (2, "cohesion")
    assert count.cohesion < count.threshold
    assert {s.speaker for s in result.segments} == {"SPEAKER_00", "SPEAKER_01"}
    # each voice is mostly found on its own side of the call
    agent = pbx.merge(hv_call.reference[0])
    talk = {
        name: sum(
            pbx.intersect_seconds([(s.start, s.end)], agent)
            for s in result.segments
            if s.speaker == name
        )
        / sum(s.end - s.start for s in result.segments if s.speaker == name)
        for name in ("SPEAKER_00", "SPEAKER_01")
    }
    assert max(talk.values()) > 0.8 and min(talk.values()) < 0.2


@pytest.mark.shared_data
def test_a_fixed_count_is_kept_and_reported_as_fixed(diarizer, hv_call):
    one_voice = _upsample(hv_call.samples[0])
    result = diarizer.diarize_counted(one_voice, num_speakers=2)
    count = result.speaker_count
    assert (count.estimated, count.method, count.confidence) == (False, "fixed", None)
    # the cohesion is still measured: it says the recording looks like one voice
    assert count.cohesion >= count.threshold


def test_too_little_speech_is_one_speaker_without_a_confidence(diarizer):
    t = np.arange(round(1.0 * SAMPLE_RATE)) / SAMPLE_RATE
    x = np.zeros(3 * SAMPLE_RATE, dtype=np.float32)
    x[SAMPLE_RATE : 2 * SAMPLE_RATE] = 0.1 * np.sin(2 * np.pi * 150 * t)
    count = diarizer.diarize_counted(x, num_speakers=None).speaker_count
    assert count.count <= 1
    assert count.method in ("too_little_speech", "no_speech")
    assert count.confidence is None
    silent = diarizer.diarize_counted(np.zeros(SAMPLE_RATE, np.float32), num_speakers=None)
    assert (silent.segments, silent.speaker_count.count) == ([], 0)


def test_cohesion_is_the_mean_similarity_of_distinct_full_windows(diarizer):
    from calmline.models.diarization_embedded import _Window

    rng = np.random.default_rng(0)
    e = rng.normal(size=(9, 16)).astype(np.float32)
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    # six windows wholly inside speech, three reaching past a short span into silence
    windows = [_Window(0, 100, 0, 100)] * 6 + [_Window(0, 100, 40, 60)] * 3
    sims = e[:6] @ e[:6].T
    expected = (sims.sum() - np.trace(sims)) / (6 * 5)
    assert diarizer._cohesion(e, windows) == pytest.approx(expected, abs=1e-6)


@pytest.mark.shared_data
def test_mono_report_carries_the_speaker_count(pipeline, hv_call, tmp_path):
    """The full pipeline on one real voice as a mono file: one speaker, and the report says so
    and how sure it is, through its JSON form too."""
    import soundfile as sf

    path = tmp_path / "one_voice.wav"
    sf.write(path, hv_call.samples[1], pbx.RATE, subtype="PCM_16")
    report = pipeline.analyze(path)
    assert report.attribution == "embedded"
    assert len({s.speaker for s in report.segments}) == 1
    assert isinstance(report.speaker_count, SpeakerCount)
    assert report.speaker_count.count == 1 and report.speaker_count.confidence > 0.5
    again = report_from_dict(report_to_dict(report))
    assert again.speaker_count == report.speaker_count


@pytest.mark.shared_data
def test_a_caller_who_says_little_is_still_a_second_voice(diarizer):
    """A real call with the caller silenced after their first 6 s of speech (of 26 s in full):
    the agent holds most of the line, and the count is still two."""
    data = shared_data("calls", "harper_valley").parents[1]
    call_id = "02e41649e7c441fd"
    refs = articulation.reference_segments(data, call_id)
    mix = articulation.one_side_short(pbx.load_call(data, call_id), refs, 1, 6.0)
    assert mix is not None and sum(r.phonation for r in refs if r.role == "customer") > 18.0
    count = _estimate(diarizer, mix).speaker_count
    assert (count.count, count.method) == (2, "cohesion")
    assert count.cohesion < count.threshold
