"""Honest degrade: a call that starts while live transcription is behind gets its alerts by
sound live and its words after hang-up, and says so; the server reports its own lag."""

from __future__ import annotations

import threading
import time

import pytest

from calmline.pipelines.live import CallMeta, StreamingOptions, StreamingPipeline
from tests.live_client import CHUNK_S
from tests.test_live_isolation import _rule_call

TRACKS = {"agent": "agent", "customer": "customer"}


def _feed(session, x, until_s=None):
    step = round(CHUNK_S * 16000)
    end = x.shape[1] if until_s is None else round(until_s * 16000)
    for i in range(0, end, step):
        for c, name in enumerate(TRACKS):
            session.accept(name, x[c, i : min(i + step, end)])


def _recorder():
    """A list the session's events go to, its lock, and the ``on_event`` that fills it."""
    events, lock = [], threading.Lock()

    def on_event(e):
        with lock:
            events.append(e)

    return events, lock, on_event


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
    assert not behind.needs_cores(), "nothing waits yet: analyses need not make way"
    _feed(first, x)  # 40 s of speech at once: a backlog the recogniser works through
    assert behind.stats()["asr_lag_s"] > 0.001, "the server says it is behind"
    assert behind.needs_cores(), "utterances wait: the server's analyses make way"

    events, _, on_event = _recorder()

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


def test_a_call_in_progress_is_shed_when_transcription_falls_behind(behind):
    """Two calls followed live; once the recogniser is behind the bound, the newer call leaves
    the line (its waiting utterances dropped, alerts by sound go on), the older one keeps its
    live words, and the shed call's report says from when its words are the batch's."""
    x, onsets = _rule_call()
    events, lock, on_event = _recorder()

    older = behind.open_session(CallMeta("shed-1", "a1", TRACKS, 16000, "float32", "en"))
    newer = behind.open_session(
        CallMeta("shed-2", "a2", TRACKS, 16000, "float32", "en"), on_event=on_event
    )
    assert not older.degraded and not newer.degraded, "nothing was behind when they started"
    _feed(older, x)
    _feed(newer, x)  # both backlogs wait: the worker is behind at once
    deadline = time.monotonic() + 120
    while not newer.degraded and time.monotonic() < deadline:
        time.sleep(0.05)
    assert newer.degraded and not older.degraded, "the newer call is shed, the older followed"
    assert behind.stats()["shed_calls"] >= 1
    with lock:
        shed = [e for e in events if e.type == "metrics" and e.data["transcript"] == "after_call"]
    assert shed, "the feed says the call's words now come after the call"
    assert newer.metrics()["transcript"] == "after_call"
    assert newer.shed_at is not None and 0 < newer.shed_at <= x.shape[1] / 16000 + 1e-6

    report = newer.close()
    assert any("live transcription stopped" in w for w in report.warnings)
    assert newer.batch_report and any(t.words for t in report.turns), "words from the recording"
    assert [
        f.start for p in report.scorecard.practices for f in p.findings if f.kind == "interruption"
    ] == pytest.approx([onsets["interruption"]], abs=0.5)
    older_report = older.close()
    assert not older.batch_report and any(t.words for t in older_report.turns), "live words kept"
    assert not any("live transcription stopped" in w for w in older_report.warnings)


def test_a_call_beyond_capacity_gets_raised_voice_and_agitation_by_sound(behind):
    """A degraded call has no live words, yet an agent answering an agitated customer louder is
    told (``basis: sound``, its words after the call), and so is the customer's agitation; the
    stored report, made by the batch pipeline with the words, holds the same louder turn."""
    from tests.test_live_voice import voice_call

    x, starts = voice_call()
    first = behind.open_session(CallMeta("voice-1", "a1", TRACKS, 16000, "float32", "en"))
    _feed(first, x)  # a backlog: the next call starts degraded
    events, lock, on_event = _recorder()

    second = behind.open_session(
        CallMeta("voice-2", "a1", TRACKS, 16000, "float32", "en"), on_event=on_event
    )
    assert second.degraded
    _feed(second, x)
    with lock:
        seen = list(events)
    assert not [e for e in seen if e.type == "transcript"], "no live words"
    (louder,) = [e for e in seen if e.type == "agent_louder"]
    assert louder.data["basis"] == "sound" and louder.data["words"] == "after_call"
    assert louder.data["start"] == pytest.approx(starts["loud"], abs=0.5)
    (rising,) = [e for e in seen if e.type == "agitation_rising"]
    assert rising.data["basis"] == "sound"
    assert rising.data["start"] == pytest.approx(starts["angry"], abs=0.5)
    assert second.metrics()["customer_agitation"] >= rising.data["threshold"] - 1e-9
    report = second.close()
    assert second.batch_report
    assert [
        f.start for p in report.scorecard.practices for f in p.findings if f.kind == "louder"
    ] == pytest.approx([louder.data["start"]], abs=0.3)
    first.close()


def test_live_decodes_greedily_on_the_batch_pipelines_model(behind, pipeline):
    """live.beam_size (1) and live.window_s (the encoder window) for the live worker,
    asr.beam_size (5) and Whisper's 30 s windows for the stored report, one loaded model for
    both."""
    live = behind._asr().transcriber
    batch = pipeline.models.transcriber()
    assert live.options.beam_size == behind.settings.live.beam_size == 1
    assert batch.options.beam_size == behind.settings.asr.beam_size == 5
    assert live.options.window_s == behind.settings.live.window_s
    assert batch.options.window_s == 30.0
    assert live.model is batch.model
