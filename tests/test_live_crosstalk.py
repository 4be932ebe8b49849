"""A live call keeps the other party's leak out of each track's speech, as the batch pipeline does.

A real Harper Valley bank call excerpt, each side on its own track at 8 kHz G.711 mu-law with
the other side's real speech leaked into it (``bench/pbx.py``: -49 to -57 dBFS, a few ms late),
streamed in 20 ms chunks through a live session: the live utterances find the talker's own
speech and not the leak, to the same bounds as the batch test (``test_telephone_vad``). With the
crosstalk rule off the same stream turns the leak into utterances (the premise).
"""

from __future__ import annotations

from calmline.pipelines.live import StreamingOptions, StreamingPipeline
from tests.live_client import spans_session
from tests.test_telephone_vad import assert_own_speech_without_leak, pbx_call  # noqa: F401


def _live_spans(settings, pipeline, audio, call_id):
    """Per channel, the (start, end) of the utterances of the call streamed live."""
    sp = StreamingPipeline(settings, batch=pipeline, options=StreamingOptions())
    try:
        session = spans_session(sp, call_id, audio.samples)
    finally:
        sp.close()
    return {c: [(u.start, u.end) for u in session.utterances if u.channel == c] for c in (0, 1)}


def test_live_tracks_keep_the_leak_out_and_find_soft_speech(pbx_call, settings, pipeline):  # noqa: F811
    pbx, call, audio = pbx_call
    assert_own_speech_without_leak(pbx, call, _live_spans(settings, pipeline, audio, "xt-on"))


def test_without_the_rule_the_leak_becomes_live_speech(pbx_call, settings, pipeline):  # noqa: F811
    pbx, call, audio = pbx_call
    off = settings.model_copy(
        update={"crosstalk": settings.crosstalk.model_copy(update={"enabled": False})}
    )
    spans = _live_spans(off, pipeline, audio, "xt-off")
    leaked = sum(
        pbx.crosstalk_seconds(spans[c], call.reference[c], call.reference[1 - c]) for c in (0, 1)
    )
    assert leaked >= 1.0, spans


def test_a_track_that_sends_nothing_does_not_hold_the_other_back(pbx_call, settings, pipeline):  # noqa: F811
    """The customer's track stays silent (its client sends nothing): nothing judges the agent's
    frames, which reach the span rules unjudged 1.5 s late, and its utterances close while the
    call goes on, not only at hang-up."""
    from calmline.models.vad_spans import FRAME_S
    from calmline.pipelines.live import CallMeta
    from calmline.pipelines.live.crosstalk import MAX_WAIT_FRAMES

    _, _, audio = pbx_call
    sp = StreamingPipeline(settings, batch=pipeline, options=StreamingOptions())
    try:
        tracks = {"agent": "agent", "customer": "customer"}
        session = sp.open_session(CallMeta("xt-one", "a1", tracks, 16000, "float32", "en"))
        session.degraded = True
        x = audio.samples[0]
        for i in range(0, x.shape[0], 320):
            session.accept("agent", x[i : i + 320])
        during = [(u.start, u.end) for u in session.utterances]
        assert session._gate.unjudged[0] > 0
        assert during, "utterances close while the call goes on"
        assert max(b for _, b in during) >= x.shape[0] / 16000 - 5.0
        assert all(b <= x.shape[0] / 16000 - MAX_WAIT_FRAMES * FRAME_S + 0.5 for _, b in during)
        session.close()
    finally:
        sp.close()
