"""A live call keeps the other party's leak out of each track's speech, as the batch pipeline does.

A real Harper Valley bank call excerpt, each side on its own track at 8 kHz G.711 mu-law with
the other side's real speech leaked into it (``bench/pbx.py``: -49 to -57 dBFS, a few ms late),
streamed in 20 ms chunks through a live session: the live utterances find the talker's own
speech and not the leak, to the same bounds as the batch test (``test_telephone_vad``). With the
crosstalk rule off the same stream turns the leak into utterances (the premise).
"""

from __future__ import annotations

import pytest

from calmline.pipelines.live import CallMeta, StreamingOptions, StreamingPipeline
from tests.conftest import load_bench, shared_data
from tests.live_client import CHUNK_S

CALL, START, END = "3a20358e1bfc4a17", 0.0, 20.0
TRACKS = {"agent": "agent", "customer": "customer"}


@pytest.fixture(scope="module")
def pbx_call():
    data = shared_data("calls", "harper_valley")
    pbx = load_bench("pbx")
    call = pbx.excerpt(pbx.add_crosstalk(pbx.load_call(data.parents[1], CALL)), START, END)
    return pbx, call, pbx.encode_call(call, "mulaw")


def _live_spans(settings, pipeline, audio, call_id):
    """Per channel, the (start, end) of the utterances of the call streamed in 20 ms chunks; no
    transcription (the session runs as one beyond the recogniser's capacity)."""
    sp = StreamingPipeline(settings, batch=pipeline, options=StreamingOptions())
    try:
        session = sp.open_session(CallMeta(call_id, "a1", TRACKS, 16000, "float32", "en"))
        session.degraded = True  # spans only: nothing queued for the recogniser
        x = audio.samples
        step = round(CHUNK_S * 16000)
        for i in range(0, x.shape[1], step):
            for c, name in enumerate(TRACKS):
                session.accept(name, x[c, i : i + step])
        session.close()
        return {c: [(u.start, u.end) for u in session.utterances if u.channel == c] for c in (0, 1)}
    finally:
        sp.close()


def test_live_tracks_keep_the_leak_out_and_find_soft_speech(pbx_call, settings, pipeline):
    pbx, call, audio = pbx_call
    spans = _live_spans(settings, pipeline, audio, "xt-on")
    for c in (0, 1):
        own, other = call.reference[c], call.reference[1 - c]
        refined = pbx.refine_reference(call.samples[c], own)
        found = pbx.intersect_seconds(pbx.merge(spans[c]), refined)
        assert found >= 0.95 * pbx.speech_seconds(refined), (c, spans[c], refined)
        leaked = pbx.crosstalk_seconds(spans[c], own, other)
        assert leaked <= 0.01 * pbx.speech_seconds(own), (c, leaked, spans[c])


def test_without_the_rule_the_leak_becomes_live_speech(pbx_call, settings, pipeline):
    pbx, call, audio = pbx_call
    off = settings.model_copy(
        update={"crosstalk": settings.crosstalk.model_copy(update={"enabled": False})}
    )
    spans = _live_spans(off, pipeline, audio, "xt-off")
    leaked = sum(
        pbx.crosstalk_seconds(spans[c], call.reference[c], call.reference[1 - c]) for c in (0, 1)
    )
    assert leaked >= 1.0, spans
