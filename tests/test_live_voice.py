"""Raised voice by sound (``pipelines/live/voice.py``): an agent who answers an agitated
customer louder is told as soon as the VAD closes the turn, before its words, and only where
the words cannot make the customer calm; the stored report holds the same finding.

The calls are real speech (``../shared/data/asr/en``: a LibriSpeech sentence for the customer,
JFK's line for the agent); the customer's angry turn is the same speech raised in level and
pitch, the agent's loud turn the same line said louder.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from calmline.monitor.audio import resample
from calmline.monitor.rubric import default_rubric
from calmline.monitor.stress import estimate_stress
from calmline.monitor.textmatch import PhraseMatcher
from calmline.monitor.types import Role
from calmline.pipelines.live import StreamingOptions, StreamingPipeline
from tests.conftest import shared_data
from tests.test_live_isolation import _place, _speech, cut

TRACKS = {"agent": "agent", "customer": "customer"}
SHOUT_DB = 12.0
"""The customer's angry turn and the agent's loud turn, above their other turns (dB): past
``stress.loudness_db_full`` (6) and ``let_finish``'s ``louder_db`` (4) on any machine."""
SHOUT_ST = 7.0
"""The customer's angry turn, above their other turns (semitones): past ``pitch_st_full`` (4)."""


def _raised(x: np.ndarray, semitones: float, db: float) -> np.ndarray:
    """``x`` higher by ``semitones`` (played faster, as a resampled recording) and louder."""
    factor = 2 ** (semitones / 12)
    y = resample(x, round(16000 * factor), 16000)
    return (y * 10 ** (db / 20)).astype(np.float32)


def voice_call() -> tuple[np.ndarray, dict[str, float]]:
    """A two-channel 16 kHz call: three calm exchanges, then the customer's angry turn and the
    agent's answer 12 dB louder than their other turns. Returns the samples and the starts
    of the angry turn and of the loud answer."""
    customer_speech, agent_speech = _speech("libri"), _speech("jfk")
    customer = np.zeros(38 * 16000, np.float32)
    agent = np.zeros_like(customer)
    _place(customer, cut(customer_speech, 0, 4), 0.5)
    _place(agent, cut(agent_speech, 0, 2.5), 5.0)
    _place(customer, cut(customer_speech, 4, 8.7), 8.5)
    _place(agent, cut(agent_speech, 3.0, 6.0), 14.0)
    _place(customer, cut(customer_speech, 0, 4), 18.0)
    _place(agent, cut(agent_speech, 6.0, 11.0), 23.0)
    angry = _raised(cut(customer_speech, 4, 8.7), SHOUT_ST, SHOUT_DB)
    starts = {"angry": 29.0, "loud": 29.0 + angry.shape[0] / 16000 + 0.8}
    _place(customer, angry, starts["angry"])
    _place(agent, cut(agent_speech, 0, 2.5), starts["loud"], gain=10 ** (SHOUT_DB / 20))
    return np.clip(np.stack([agent, customer]), -1, 1), starts


def grown_call() -> tuple[np.ndarray, dict[str, float]]:
    """As :func:`voice_call`, but the agent's answer opens 8 dB louder for 2.5 s and goes on
    at their usual level for about 19 s more, one turn (pauses under 1.5 s), before the
    customer speaks again: louder by sound when its first utterance closes, not as a whole."""
    x, starts = voice_call()
    agent_speech, customer_speech = _speech("jfk"), _speech("libri")
    agent = np.zeros(70 * 16000, np.float32)
    customer = np.zeros_like(agent)
    n = round(starts["loud"] * 16000)
    agent[:n], customer[:n] = x[0, :n], x[1, :n]
    _place(agent, cut(agent_speech, 0, 2.5), starts["loud"], gain=10 ** (8 / 20))
    rest = np.concatenate([cut(agent_speech, 3.0, 11.0), cut(agent_speech, 0.3, 11.0)])
    _place(agent, rest, starts["loud"] + 3.1)
    starts["customer_again"] = starts["loud"] + 3.1 + rest.shape[0] / 16000 + 1.0
    _place(customer, cut(customer_speech, 0, 4), starts["customer_again"])
    return np.clip(np.stack([agent, customer]), -1, 1), starts


@pytest.fixture(scope="module")
def streaming(settings, pipeline):
    sp = StreamingPipeline(settings, batch=pipeline, options=StreamingOptions(acoustic_alerts=True))
    yield sp
    sp.close()


def test_least_agitation_by_sound_is_a_floor_the_words_only_raise():
    """On the six real Harper Valley calls (calm callers, human transcripts, levels and pitch
    measured on the real 8 kHz audio), every customer turn's agitation without its words
    (``least``) is at most its agitation with them, and none reads agitated."""
    import sys

    shared_data("calls", "harper_valley")
    data = shared_data()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from calibrate import harper_valley_call, harper_valley_ids, human_report

    ids = harper_valley_ids(Path(data))
    assert len(ids) >= 6
    turns_seen = 0
    for cid in ids:
        report = human_report(harper_valley_call(Path(data), cid))
        rubric = default_rubric(report.language)
        matcher = PhraseMatcher(rubric.matching, rubric.language)
        level = rubric.stress.agitated_level
        heard = estimate_stress(report, rubric, matcher)
        unheard = tuple(
            replace(t, text="", words=(), metrics=replace(t.metrics, articulation_rate=None))
            if t.role is Role.CUSTOMER and t.metrics is not None
            else t
            for t in report.turns
        )
        least = estimate_stress(replace(report, turns=unheard), rubric, matcher, least=True)
        dropped = estimate_stress(replace(report, turns=unheard), rubric, matcher)
        for w, s, d in zip(heard.turns, least.turns, dropped.turns, strict=True):
            assert s.agitation <= w.agitation + 1e-9, (cid, s, w)
            assert s.agitation <= d.agitation + 1e-9
            assert s.agitation < level, (cid, s)
            turns_seen += 1
    assert turns_seen >= 30


def test_louder_answer_to_an_agitated_customer_is_told_by_sound_before_its_words(streaming):
    from tests.test_streaming import _stream

    x, starts = voice_call()
    report, events, _ = _stream(streaming, "voice-live", x, 16000, "float32", TRACKS)
    alerts = [e for e in events if e.type == "agent_louder"]
    assert len(alerts) == 1, [e.data for e in alerts]
    (alert,) = alerts
    assert alert.data["basis"] == "sound" and alert.data["words"] == "pending"
    assert alert.data["start"] == pytest.approx(starts["loud"], abs=0.5)
    assert alert.data["loudness_rel_db"] >= alert.data["threshold_db"]
    assert (
        alert.data["customer_agitation"] >= streaming.batch.rubric_for("en").stress.agitated_level
    )
    # before any of the loud turn's words were out
    words = [
        e
        for e in events
        if e.type == "transcript"
        and e.data["role"] == "agent"
        and abs(e.data["start"] - starts["loud"]) < 0.5
    ]
    assert words and alert.seq < min(e.seq for e in words)
    # the words did not undo it, and the stored report holds the same finding
    assert not [e for e in events if e.type == "alert_withdrawn"]
    louder = [f for p in report.scorecard.practices for f in p.findings if f.kind == "louder"]
    assert [f.start for f in louder] == pytest.approx([alert.data["start"]], abs=0.3)
    # no calm exchange before it read as raised voice
    assert not [e for e in events if e.type == "agitation_rising" and e.t < starts["angry"]]


def test_louder_by_sound_that_the_whole_turn_does_not_hold_is_withdrawn(streaming):
    """The rule with words runs once the turn is over, on the whole turn as the stored report
    measures it: an opening said louder, then 19 s at the usual level, is no louder turn, and
    the alert by sound is taken back with that reason."""
    from tests.test_streaming import _stream

    x, starts = grown_call()
    report, events, _ = _stream(streaming, "voice-grown", x, 16000, "float32", TRACKS)
    (alert,) = [e for e in events if e.type == "agent_louder"]
    assert alert.data["basis"] == "sound"
    assert alert.data["start"] == pytest.approx(starts["loud"], abs=0.5)
    (withdrawn,) = [e for e in events if e.type == "alert_withdrawn"]
    assert withdrawn.data["alert"] == "agent_louder" and withdrawn.seq > alert.seq
    assert withdrawn.t == pytest.approx(alert.t, abs=0.01)
    assert "whole turn" in withdrawn.data["reason"], withdrawn.data
    assert withdrawn.data["reason_code"] == "not_louder"
    assert withdrawn.data["values"]["loudness_rel_db"] < withdrawn.data["values"]["limit_db"]
    assert withdrawn.data["agent_end"] > starts["loud"] + 15
    assert not [f for p in report.scorecard.practices for f in p.findings if f.kind == "louder"]
