"""Interruption alerts by sound (``StreamingOptions.acoustic_alerts``, on by default).

The rule by sound runs on the thread that accepts a call's audio, so its Python time is taken
from the reading of every call's socket (the interpreter's lock). Run every 0.1 s of call time
while the agent talked, it made a five-call flood's server read its audio up to 1.7 times slower
(measured: a ping sent behind a whole call's audio came back after 32-41 s instead of 19-23 s),
past the clients' keep-alive (a ping at 20 s answered within 20 s), so most calls were closed
(1011) and stored incomplete. It now runs only while it can hold: the agent's stretch is long
enough, the customer spoke during it, and it was not told yet.

On the rule call of ``tests/test_live_isolation.py`` (real speech; the agent cuts in at 16.5 s
and talks over the customer for 2.5 s), paced chunk by chunk, the alert is told by sound about
a second after the onset, while the agent still talks, once; the words then keep it (one
interruption alert, none withdrawn), and the stored report holds the same interruption.
"""

from __future__ import annotations

import pytest

import calmline.pipelines.live.floor as floor
from calmline.pipelines.live import StreamingOptions, StreamingPipeline
from tests.test_live_isolation import _rule_call
from tests.test_streaming import _stream

TRACKS = {"agent": "agent", "customer": "customer"}


@pytest.fixture(scope="module")
def streaming(settings, pipeline):
    live = settings.live.model_copy(update={"max_asr_lag_s": 0.0})
    sp = StreamingPipeline(settings.model_copy(update={"live": live}), batch=pipeline)
    yield sp
    sp.close()


def test_acoustic_alerts_are_on_by_default(settings):
    assert StreamingOptions().acoustic_alerts
    assert settings.live.acoustic_alerts


def test_rule_by_sound_runs_only_where_it_can_hold(streaming, monkeypatch):
    runs = []
    real = floor.find_interruptions

    def counted(*args, **kwargs):
        runs.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(floor, "find_interruptions", counted)  # the rule itself, counted
    x, onsets = _rule_call()
    report, events, session = _stream(streaming, "acoustic-runs", x, 16000, "float32", TRACKS)
    agent_talk = sum(u.end - u.start for u in session.utterances if u.role == "agent")
    # every 0.1 s of the agent's ~14 s of talk before: ~140 runs; now only over the customer's
    # speech with a stretch past backchannel_max_s (about 2 s of the call) until it is told
    assert len(runs) <= 0.25 * agent_talk / floor.ACOUSTIC_EVERY_S, (len(runs), agent_talk)

    told = [e for e in events if e.type == "interruption"]
    assert len(told) == 1, [e.data for e in told]
    alert = told[0].data
    assert alert["basis"] == "sound"
    assert alert["agent_start"] == pytest.approx(onsets["interruption"], abs=0.5)
    # told by sound ~1 s after the onset (backchannel_max_s), while the agent still talks
    assert alert["utterance_end"] <= alert["agent_start"] + 1.2
    assert not [e for e in events if e.type == "alert_withdrawn"]
    found = [
        f.start for p in report.scorecard.practices for f in p.findings if f.kind == "interruption"
    ]
    assert found == pytest.approx([alert["agent_start"]], abs=0.05)
