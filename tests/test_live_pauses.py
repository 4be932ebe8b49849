"""A live call's segments are cut at the talker's own pauses as the batch pipeline's are.

The real pyannote sample as a two-channel mix (``bench/accuracy.py``), streamed in 20 ms chunks
through a live session: at 18.08 s speaker91 pauses for 0.23 s and speaker90 starts in that
pause; the VAD bridges the pause, so the live utterance runs through it. Cut there (the talker
resumed after a pause of their own), no one interrupted; the real cut-in at 27.85 s stays one.
The live segments are the batch pipeline's segments of the same audio.
"""

from __future__ import annotations

import pytest

from calmline.monitor.floor import InterruptionRule, find_interruptions, stretches
from calmline.pipelines.live import StreamingOptions, StreamingPipeline
from tests.conftest import SHARED_DATA, load_bench, shared_data
from tests.live_client import spans_session


@pytest.fixture(scope="module")
def mix():
    shared_data("diarization", "pyannote_sample", "sample.wav")
    accuracy = load_bench("accuracy")
    return accuracy.stereo_mix(accuracy.recordings(SHARED_DATA)[0])


def _streamed(settings, pipeline, x, call_id):
    sp = StreamingPipeline(settings, batch=pipeline, options=StreamingOptions())
    try:
        return spans_session(sp, call_id, x)
    finally:
        sp.close()


def _events(segments, speakers):
    rule = InterruptionRule()
    named = [s.__class__(s.start, s.end, speakers[s.channel], s.channel) for s in segments]
    return find_interruptions(stretches(named, None, rule.join_gap_s), rule)


def test_live_segments_are_cut_at_the_talkers_own_pause(mix, settings, pipeline, models):
    from calmline.pipelines.batch import channel_speech

    session = _streamed(settings, pipeline, mix.samples, "pause-cut")
    segments = session._closed_segments(session.utterances)
    utterances = [u for u in session.utterances if u.channel == 0]
    assert any(u.start < 17.9 < 18.15 < u.end for u in utterances), "the VAD bridged the pause"
    ch0 = sorted((s.start, s.end) for s in segments if s.channel == 0)
    before = max(b for a, b in ch0 if a < 17.9)
    after = min(a for a, b in ch0 if a > 17.9)
    assert 17.75 <= before <= 17.95 and 18.1 <= after <= 18.2, ch0

    events = _events(segments, mix.speakers)
    assert not [e for e in events if abs(e.start - 18.08) <= 1.0], events
    near = [e for e in events if abs(e.start - 27.85) <= 0.3]
    assert [(e.speaker, e.interrupted) for e in near] == [("speaker90", "speaker91")], events

    # the live segments are the batch pipeline's: within 0.1 s on the cut channel; on the other
    # every batch segment starts where a live one does, and the speech differs by under 10 %
    # (its crosstalk is judged against the noise floor of the call so far, not the whole call's)
    batch = channel_speech(mix.samples, models.vad(), settings)
    assert [t for span in ch0 for t in span] == pytest.approx(
        [t for span in sorted(batch[0]) for t in span], abs=0.1
    )
    ch1 = sorted((s.start, s.end) for s in segments if s.channel == 1)
    for a, _ in batch[1]:
        assert min(abs(a - b) for b, _ in ch1) <= 0.04, (a, ch1)
    speech = [sum(b - a for a, b in spans) for spans in (ch1, batch[1])]
    assert speech[0] == pytest.approx(speech[1], rel=0.1)


def test_without_the_cut_the_pause_reads_as_a_cut_in(mix, settings, pipeline):
    """The premise: the utterances as the VAD closed them make an interruption at 18.08 s."""
    session = _streamed(settings, pipeline, mix.samples, "no-cut")
    session._pauses = None
    events = _events(session._closed_segments(session.utterances), mix.speakers)
    assert [e for e in events if abs(e.start - 18.08) <= 1.0], events
