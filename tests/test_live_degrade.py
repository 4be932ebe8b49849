"""Honest degrade: a call that starts while live transcription is behind gets its alerts by
sound live and its words after hang-up, and says so; the server reports its own lag."""

from __future__ import annotations

import threading

import pytest

from calmline.pipelines.streaming import CallMeta, StreamingOptions, StreamingPipeline
from tests.live_client import CHUNK_S
from tests.test_live_isolation import _rule_call

TRACKS = {"agent": "agent", "customer": "customer"}


def _feed(session, x, until_s=None):
    step = round(CHUNK_S * 16000)
    end = x.shape[1] if until_s is None else round(until_s * 16000)
    for i in range(0, end, step):
        for c, name in enumerate(TRACKS):
            session.accept(name, x[c, i : min(i + step, end)])


@pytest.fixture(scope="module")
def behind(settings, pipeline):
    """A pipeline whose lag bound any real decode passes, words after the call made at once."""
    live = settings.live.model_copy(update={"max_asr_lag_s": 0.001, "post_call_batch": False})
    sp = StreamingPipeline(
        settings.model_copy(update={"live": live}),
        batch=pipeline,
        options=StreamingOptions(acoustic_alerts=True),
    )
    yield sp
    sp.close()


def test_a_call_beyond_capacity_gets_alerts_by_sound_and_words_after_the_call(behind):
    x, onsets = _rule_call()
    first = behind.open_session(CallMeta("lag-1", "a1", TRACKS, 16000, "float32", "en"))
    assert not first.degraded, "nothing was behind when the first call started"
    _feed(first, x)  # 40 s of speech at once: a backlog the recogniser works through
    assert behind.stats()["asr_lag_s"] > 0.001, "the server says it is behind"

    events, lock = [], threading.Lock()

    def on_event(e):
        with lock:
            events.append(e)

    second = behind.open_session(
        CallMeta("lag-2", "a1", TRACKS, 16000, "float32", "en"), on_event=on_event
    )
    assert second.degraded
    assert behind.stats()["degraded"] == 1
    started = next(e for e in events if e.type == "call_started")
    assert started.data["transcript"] == "after_call"
    _feed(second, x)
    assert second.metrics()["transcript"] == "after_call"
    assert not [e for e in events if e.type == "transcript"], "no live words"
    interruptions = [e for e in events if e.type == "interruption"]
    assert len(interruptions) == 1, "the interruption is told by sound, once"
    assert interruptions[0].data["agent_start"] == pytest.approx(onsets["interruption"], abs=0.5)
    assert interruptions[0].data["basis"] == "sound"
    report = second.close()
    # no worker to wait for here: the batch pipeline transcribed the recording at hang-up
    assert second.batch_report and report.turns and any(t.words for t in report.turns)
    assert [
        f.start for p in report.scorecard.practices for f in p.findings if f.kind == "interruption"
    ] == pytest.approx([e.data["agent_start"] for e in interruptions], abs=0.1)
    first.close()
    assert first.asr_lag_s is not None and first.asr_lag_s > 0, "each call measures its lag"
