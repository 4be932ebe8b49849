"""Interruptions as docs/interruptions.md defines them, and overlap from speech segments.

The rule reads speech segments, not turns; the cases are built from segments and words by hand
(the turns' spans stand where a case has no segments of its own).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from calmline.monitor.audio import audio_from_array
from calmline.monitor.floor import InterruptionRule, find_interruptions, stretches
from calmline.monitor.measure import measure, overlaps
from calmline.monitor.rubric import default_rubric
from calmline.monitor.types import CallReport, SpeechSegment
from tests.test_detectors_turns import CALM, kinds, run
from tests.test_stress import A, C, call

CUSTOMER_ZH = "我上个星期买的东西到现在都没有到你们到底怎么回事"
CUSTOMER_EN = "I ordered this two weeks ago and it still has not arrived at my house"


def with_segments(report: CallReport, spans: list[tuple[float, float, str]]) -> CallReport:
    """The report with its speech segments (speaker ``A`` = agent, ``C`` = customer)."""
    channel = {"A": 0, "C": 1} if report.attribution == "channels" else {"A": None, "C": None}
    segments = tuple(SpeechSegment(a, b, s, channel[s]) for a, b, s in sorted(spans))
    return replace(report, segments=segments)


def cut_ins(report: CallReport) -> tuple[list, list]:
    out = run("let_finish", report, agitation=CALM)
    return kinds(out, "interruption"), kinds(out, "customer_interruption")


# --- the rule on the detector ------------------------------------------------------------------


def test_interruption_seconds_come_from_segments_not_turns():
    # The customer's turn spans a pause (5-6 s); the agent cuts in at 4 s and goes on to 5.5 s:
    # both speak at once for 1 s (4-5), not the 1.5 s the two turns share.
    report = with_segments(
        call([C(0.0, 10.0, CUSTOMER_ZH), A(4.0, 5.5, "您先别急我帮您查一下")]),
        [(0.0, 5.0, "C"), (6.0, 10.0, "C"), (4.0, 5.5, "A")],
    )
    (f,), by_customer = cut_ins(report)
    assert (f.start, f.end, f.value) == (4.0, 5.0, 1.0)
    assert f.threshold == 0.5 and f.turn_index == 1
    assert by_customer == []


@pytest.mark.parametrize(
    ("language", "customer", "said", "length"),
    [
        ("en", CUSTOMER_EN, "mm-hmm", 0.6),  # a backchannel by words and duration
        ("zh", CUSTOMER_ZH, "嗯", 0.6),
        ("en", CUSTOMER_EN, "mm-hmm yeah", 1.4),  # long enough, but backchannel words only
        ("zh", CUSTOMER_ZH, "嗯，对对", 1.4),
        ("en", CUSTOMER_EN, "menu.", 0.7),  # not a backchannel word, but too short to cut in
    ],
)
def test_backchannels_by_words_or_duration_are_not_interruptions(language, customer, said, length):
    report = call([C(0.0, 10.0, customer), A(4.0, 4.0 + length, said)], language=language)
    assert cut_ins(report) == ([], [])


def test_the_same_words_held_long_enough_with_content_are_an_interruption():
    report = call([C(0.0, 10.0, CUSTOMER_EN), A(4.0, 5.2, "okay but listen")], language="en")
    (f,), _ = cut_ins(report)
    assert f.start == 4.0 and f.value == pytest.approx(1.2)


def test_resuming_after_a_pause_of_ones_own_is_not_an_interruption():
    # The customer pauses 0.6 s (5.0-5.6); the agent starts in the pause and the customer goes
    # on over the agent. The customer resumes their own turn: not a cut-in on the agent (turns
    # would have said so: the customer's second turn starts inside the agent's). The agent
    # started in a silence: no cut-in either.
    spec = [
        C(0.0, 5.0, CUSTOMER_ZH),
        A(5.2, 8.0, "我想先确认一下您的订单号码"),
        C(5.6, 10.0, "而且电话也打不通"),
    ]
    report = with_segments(call(spec), [(0.0, 5.0, "C"), (5.2, 8.0, "A"), (5.6, 10.0, "C")])
    assert cut_ins(report) == ([], [])
    # After a longer pause of their own (1.5 s) the customer no longer holds the floor: going
    # on over the agent is cutting in.
    spec = [
        C(0.0, 5.0, CUSTOMER_ZH),
        A(5.2, 8.0, "我想先确认一下您的订单号码"),
        C(6.5, 10.0, "而且电话也打不通"),
    ]
    report = with_segments(call(spec), [(0.0, 5.0, "C"), (5.2, 8.0, "A"), (6.5, 10.0, "C")])
    interruptions, (f,) = cut_ins(report)
    assert interruptions == [] and (f.start, f.value) == (6.5, 1.5)


def test_the_customer_cutting_in_is_judged_by_the_same_rule():
    spec = [
        A(0.0, 10.0, "您好我这边帮您查询一下订单的物流信息请您稍等一下"),
        C(4.0, 7.0, CUSTOMER_ZH),
    ]
    report = with_segments(call(spec), [(0.0, 10.0, "A"), (4.0, 7.0, "C")])
    out = run("let_finish", report, agitation=CALM)
    assert kinds(out, "interruption") == []
    (f,) = kinds(out, "customer_interruption")
    assert (f.start, f.end, f.value) == (4.0, 7.0, 3.0)
    assert out.score == 100.0  # recorded, not scored against the agent
    # and backchannels of the customer are left out the same way
    spec = [A(0.0, 10.0, "您好我这边帮您查询一下订单的物流信息请您稍等一下"), C(4.0, 4.5, "嗯")]
    assert cut_ins(call(spec)) == ([], [])


@pytest.mark.parametrize(
    "agent",
    [
        A(0.1, 4.0, "您好请问有什么可以帮您的吗"),  # starting with the customer: simultaneous
        A(9.7, 13.0, "好的我马上帮您查一下订单"),  # 0.3 s of terminal overlap
    ],
)
def test_simultaneous_starts_and_terminal_overlaps_are_not_interruptions(agent):
    assert cut_ins(call([C(0.0, 10.0, CUSTOMER_ZH), agent])) == ([], [])


# --- the rule on references (no words) ---------------------------------------------------------


def test_the_rule_runs_on_reference_segments_without_words():
    rule = InterruptionRule()
    segments = [
        SpeechSegment(0.0, 5.0, "x"),
        SpeechSegment(5.6, 10.0, "x"),  # x resumes after a pause of their own
        SpeechSegment(5.2, 8.0, "y"),  # y started in that pause
        SpeechSegment(12.0, 20.0, "y"),
        SpeechSegment(15.0, 15.8, "x"),  # short: not an interruption by its duration
        SpeechSegment(17.0, 19.0, "x"),  # cuts in on y
        SpeechSegment(19.5, 21.0, "x"),  # x again, y still talking: a second cut-in
    ]
    speech = stretches(segments, None, rule.join_gap_s)
    events = [
        (e.speaker, e.interrupted, e.start, e.overlap) for e in find_interruptions(speech, rule)
    ]
    assert events == [("x", "y", 17.0, 2.0), ("x", "y", 19.5, 0.5)]


# --- overlap from segments ---------------------------------------------------------------------


def test_mono_call_shows_no_overlap_where_the_segments_never_overlap():
    # Diarization gives one speaker per instant; the turns overlap only because their word
    # timestamps run past the diarization boundary (3.0 s).
    spec = [
        A(0.0, 3.6, "how can I help you today please"),
        C(3.0, 8.0, "I have been waiting for my card for two weeks now"),
    ]
    report = with_segments(
        call(spec, language="en", attribution="pyannote"), [(0.0, 3.0, "A"), (3.0, 8.0, "C")]
    )
    audio = audio_from_array(np.zeros(9 * 16000, dtype=np.float32), name="mono")
    turns, metrics = measure(audio, report.turns, "en", segments=report.segments)
    assert metrics.overlap_time == 0.0
    assert [t.metrics.overlap for t in turns] == [0.0, 0.0]
    assert overlaps(report.segments) == ()
    assert overlaps(report.turns)  # what the turns would have claimed
    assert cut_ins(report) == ([], [])


def test_overlap_of_a_turn_counts_only_where_its_own_speech_meets_the_others():
    # The customer's turn spans a pause (2-3 s) that the agent's speech fills: no overlap there.
    spec = [C(0.0, 6.0, CUSTOMER_EN), A(1.5, 3.5, "sorry to hear that")]
    report = with_segments(
        call(spec, language="en"), [(0.0, 2.0, "C"), (3.0, 6.0, "C"), (1.5, 3.5, "A")]
    )
    audio = audio_from_array(np.zeros((2, 7 * 16000), dtype=np.float32), name="stereo")
    turns, metrics = measure(audio, report.turns, "en", segments=report.segments)
    assert metrics.overlap_time == pytest.approx(1.0)  # 1.5-2.0 and 3.0-3.5
    assert [t.metrics.overlap for t in turns] == [pytest.approx(1.0), pytest.approx(1.0)]
    assert [(o.start, o.end, o.speakers) for o in overlaps(report.segments)] == [
        (1.5, 2.0, ("C", "A")),
        (3.0, 3.5, ("A", "C")),
    ]


def test_gentle_control_calls_a_take_over_over_the_customer_only_when_it_is_an_interruption():
    # The agent takes the floor 0.4 s before the end of a long customer turn: a terminal
    # overlap, not a cut-in (0.5 s of overlap at least), so it is latched, not over the customer.
    spec = [C(0.0, 10.0, CUSTOMER_ZH), A(9.6, 13.0, "好的我马上帮您查一下订单")]
    out = run("gentle_control", call(spec), agitation=CALM)
    assert [f.kind for f in out.findings] == ["took_floor_latched"]
    # 2 s before the end it is one, charged under let_finish (info here)
    spec = [C(0.0, 10.0, CUSTOMER_ZH), A(8.0, 13.0, "好的我马上帮您查一下订单")]
    (took,) = run("gentle_control", call(spec), agitation=CALM).findings
    assert took.kind == "took_floor_over_customer" and took.value == 2.0
    assert "Counted under let_finish as interruption" in took.detail


def test_mono_call_shows_overlap_where_the_diarization_overlaps():
    # A diarizer that marks overlapped speech (pyannote) gives two speakers at once: the rule
    # applies as on a stereo call.
    spec = [C(0.0, 8.0, CUSTOMER_EN), A(4.0, 6.0, "let me stop you there sir")]
    report = with_segments(
        call(spec, language="en", attribution="pyannote"), [(0.0, 8.0, "C"), (4.0, 6.0, "A")]
    )
    assert [(o.start, o.end) for o in overlaps(report.segments)] == [(4.0, 6.0)]
    (f,), _ = cut_ins(report)
    assert (f.start, f.value) == (4.0, 2.0)


# --- closing overlaps (docs/interruptions.md, "Closing overlaps") ------------------------------
# The closing words are the shipped rubric's (closing: thanks, farewell).

FAREWELL_EN = "thank you for calling have a great day"


def closing_cut_ins(spec: list, language: str) -> tuple[list, list]:
    """Interruptions either way under the shipped rubric of ``language``."""
    report = call(spec, language=language)
    out = run("let_finish", report, rubric=default_rubric(language), agitation=CALM)
    return kinds(out, "interruption"), kinds(out, "customer_interruption")


@pytest.mark.parametrize(
    ("language", "spec"),
    [
        # the customer adds a thank-you while the agent says goodbye (Jefferson's terminal
        # overlap: what the agent talks over is the customer's courtesy)
        ("en", [C(0.0, 2.4, "no that'll be all thank you very much"), A(1.2, 3.0, FAREWELL_EN)]),
        # the customer finishes "that was going to be it" under the agent's goodbye, then
        # answers it: the terminal exchange of a closing
        (
            "en",
            [
                C(0.0, 2.1, "no that was going to be it"),
                A(1.2, 3.0, "okay thank you and have a good day"),
                C(4.0, 4.6, "you too bye"),
            ],
        ),
        ("zh", [C(0.0, 3.0, "没有了就这些谢谢你啊"), A(2.0, 4.0, "感谢您的来电祝您生活愉快再见")]),
        # the agent comes in at "that'll be all", as the customer starts "thank you": the
        # word under way at the onset started with it (a real Harper Valley call, whose
        # agent's goodbye Whisper heard as "and give a call and have a great day")
        (
            "en",
            [
                C(0.0, 2.4, "no that'll be all thank you very much"),
                A(1.45, 3.5, "and give a call and have a great day"),
            ],
        ),
    ],
)
def test_a_goodbye_overlapping_the_customers_last_words_is_not_an_interruption(language, spec):
    assert closing_cut_ins(spec, language) == ([], [])
    # without the closing lexicon the same timing is an interruption
    interruptions, _ = cut_ins(call(spec, language=language))
    assert len(interruptions) == 1


def test_the_customers_goodbye_over_the_agents_closing_is_judged_the_same_way():
    spec = [
        A(0.0, 3.0, "is there anything else I can help you with today"),
        C(2.0, 3.6, "no thanks that's all have a nice day"),
    ]
    assert closing_cut_ins(spec, "en") == ([], [])
    # the same onset with a new request is a cut-in on the agent
    spec[1] = C(2.0, 3.6, "yes my card was charged twice last month")
    _, by_customer = closing_cut_ins(spec, "en")
    assert [f.start for f in by_customer] == [2.0]


@pytest.mark.parametrize(
    ("language", "spec"),
    [
        # a goodbye said over a customer who goes on raising something
        (
            "en",
            [
                C(0.0, 4.0, "no wait I also wanted to ask about the late fee on my statement"),
                A(1.5, 3.0, FAREWELL_EN),
            ],
        ),
        # a goodbye that silences the customer, who comes back with more to say
        (
            "en",
            [
                C(0.0, 2.1, "no that was going to be it"),
                A(1.5, 3.0, FAREWELL_EN),
                C(4.0, 7.0, "wait I still have a question about the late fee"),
            ],
        ),
        # content near the end of the call, over the customer's last words
        (
            "en",
            [
                C(0.0, 3.0, "no wait I also need to ask about the fee"),
                A(1.5, 3.5, "okay so your new card will arrive next week"),
            ],
        ),
        (
            "zh",
            [C(0.0, 4.0, "等一下我还有一个问题就是那个手续费"), A(1.5, 3.0, "感谢您的来电再见")],
        ),
    ],
)
def test_a_real_cut_in_near_the_end_is_still_an_interruption(language, spec):
    interruptions, _ = closing_cut_ins(spec, language)
    assert [f.start for f in interruptions] == [1.5]


def test_closing_overlaps_need_words():
    # a reference timing without words: nothing shows a closing, nothing is excused
    rule = InterruptionRule()
    segments = [SpeechSegment(0.0, 2.1, "c"), SpeechSegment(1.2, 3.0, "a")]
    speech = stretches(segments, None, rule.join_gap_s)
    assert [e.speaker for e in find_interruptions(speech, rule, None, lambda w: True)] == ["a"]


# --- real overlapping talk ---------------------------------------------------------------------


def test_a_real_cut_in_is_found_from_the_channel_segments(models, settings):
    """The pyannote sample as a two-channel mix (``bench/accuracy.py``): speaker90 cuts in on
    speaker91 at 27.85 s and they overlap for 0.65 s. Silero's onset on speaker90's channel
    came 0.57 s late (after digital silence), which left 0.12 s of overlap and no
    interruption; the segments now start where the channel's level rose."""
    from tests.conftest import SHARED_DATA, load_bench, shared_data

    shared_data("diarization", "pyannote_sample", "sample.wav")
    accuracy = load_bench("accuracy")
    mix = accuracy.stereo_mix(accuracy.recordings(SHARED_DATA)[0])
    from calmline.pipelines.batch import channel_speech

    spans = channel_speech(mix.samples, models.vad(), settings)
    segments = [SpeechSegment(a, b, mix.speakers[c], c) for c in (0, 1) for a, b in spans[c]]
    rule = InterruptionRule()
    events = find_interruptions(stretches(segments, None, rule.join_gap_s), rule)
    near = [e for e in events if abs(e.start - 27.85) <= 0.3]
    assert [(e.speaker, e.interrupted) for e in near] == [("speaker90", "speaker91")], events
    assert near[0].overlap >= rule.min_overlap_s


def test_starting_in_the_other_talkers_own_pause_is_not_a_cut_in(models, settings):
    """The same mix at 18.08 s: speaker91 pauses for 0.23 s (17.92-18.15 s), speaker90 starts
    in that pause and speaker91 adds 0.44 s over him. The VAD bridges silences under 0.3 s, so
    speaker91's span ran on through the pause and speaker90's onset was counted as a cut-in;
    the segments are now cut at the talker's own pause (``calmline.monitor.pauses``): speaker90
    started in a silence, speaker91 resumed after a pause of their own, neither interrupted."""
    from tests.conftest import SHARED_DATA, load_bench, shared_data

    shared_data("diarization", "pyannote_sample", "sample.wav")
    accuracy = load_bench("accuracy")
    mix = accuracy.stereo_mix(accuracy.recordings(SHARED_DATA)[0])
    from calmline.pipelines.batch import channel_speech

    spans = channel_speech(mix.samples, models.vad(), settings)
    before = max(b for a, b in spans[0] if a < 17.9)
    after = min(a for a, b in spans[0] if a > 17.9)
    assert 17.75 <= before <= 17.95 and 18.1 <= after <= 18.2, spans[0]  # the pause, both ends
    segments = [SpeechSegment(a, b, mix.speakers[c], c) for c in (0, 1) for a, b in spans[c]]
    rule = InterruptionRule()
    events = find_interruptions(stretches(segments, None, rule.join_gap_s), rule)
    assert not [e for e in events if abs(e.start - 18.08) <= 1.0], events


def _pause_frames(spec: list[tuple[float, float, float, float]], n: int = 200):
    """Per-frame probabilities and levels: (from_s, to_s, probability, level dBFS) runs over a
    floor of probability 0 at -70 dBFS."""
    from calmline.monitor.pauses import FRAME_S

    probs, level = np.zeros(n, dtype=np.float32), np.full(n, -70.0)
    for a, b, p, db in spec:
        probs[int(a / FRAME_S) : int(b / FRAME_S)] = p
        level[int(a / FRAME_S) : int(b / FRAME_S)] = db
    return probs, level


def test_own_pauses_need_silence_by_level_and_by_the_vad_and_last_long_enough():
    from calmline.monitor.pauses import split_at_pauses

    def cut(spec):
        probs, level = _pause_frames([(0.0, 3.2, 0.9, -30.0), *spec])
        return split_at_pauses([(0.0, 3.2)], probs, level, None, 0.3, 6.0)

    # a quarter-second pause: quiet and the VAD under its threshold
    (first, second) = cut([(1.0, 1.25, 0.1, -70.0)])
    assert first[1] == pytest.approx(1.0, abs=0.04) and second[0] == pytest.approx(1.25, abs=0.04)
    assert cut([(1.0, 1.12, 0.1, -70.0)]) == [(0.0, 3.2)]  # a stop closure, not a pause
    assert cut([(1.0, 1.4, 0.8, -70.0)]) == [(0.0, 3.2)]  # soft speech the VAD still hears
    assert cut([(1.0, 1.4, 0.1, -35.0)]) == [(0.0, 3.2)]  # the talker's level: still sounding
    assert cut([(0.0, 0.4, 0.1, -70.0)]) == [(0.0, 3.2)]  # only inside a span, never at its edge
    # the other talker's leak on the channel is no speech of this talker's
    probs, level = _pause_frames([(0.0, 3.2, 0.9, -30.0), (1.0, 1.4, 0.0, -50.0)])
    copy = np.zeros(level.size, dtype=bool)
    copy[int(1.0 / 0.032) : int(1.4 / 0.032)] = True
    assert len(split_at_pauses([(0.0, 3.2)], probs, level, copy, 0.3, 6.0)) == 2


def test_a_pause_is_cut_only_where_the_other_party_starts_in_it_or_with_the_resumption():
    from calmline.monitor.pauses import split_at_pauses

    probs, level = _pause_frames([(0.0, 3.2, 0.9, -30.0), (1.0, 1.25, 0.1, -70.0)])

    def pieces(onsets):
        return len(split_at_pauses([(0.0, 3.2)], probs, level, None, 0.3, 6.0, onsets=onsets))

    assert pieces([1.1]) == 2  # the other starts in the pause
    assert pieces([1.35]) == 2  # ... or together with the talker going on (within 0.2 s)
    assert pieces([0.5, 2.0]) == 1  # elsewhere the span stays as the VAD made it
    assert pieces([]) == 1
