"""Words attributed to speakers and grouped into turns (hand-built segments and words)."""

from __future__ import annotations

from calmline.monitor.turns import TurnOptions, build_turns
from calmline.monitor.types import Role, SpeechSegment, Word

ROLES = {"channel_0": Role.AGENT, "channel_1": Role.CUSTOMER}


def w(start, end, text, prob=0.9):
    return Word(start, end, text, prob)


def test_stereo_interruption_keeps_customer_turn_whole_and_overlap_explicit():
    segments = [
        SpeechSegment(0.0, 2.0, "channel_0", 0),
        SpeechSegment(2.5, 8.0, "channel_1", 1),
        SpeechSegment(6.8, 9.0, "channel_0", 0),
    ]
    words = {
        0: [w(0.1, 0.5, "hello"), w(0.6, 1.0, "there"), w(6.9, 7.5, "okay"), w(7.6, 8.8, "so")],
        1: [w(2.6, 3.0, "my"), w(3.1, 4.0, "order"), w(6.0, 7.9, "never-came")],
    }
    turns = build_turns(segments, words, ROLES, "en", 10.0)
    assert [(t.role, t.text) for t in turns] == [
        (Role.AGENT, "hello there"),
        (Role.CUSTOMER, "my order never-came"),
        (Role.AGENT, "okay so"),
    ]
    customer, agent = turns[1], turns[2]
    assert agent.start < customer.end  # the overlap is kept, not cut away
    assert [t.index for t in turns] == [0, 1, 2]
    assert all(t.channel == (0 if t.role is Role.AGENT else 1) for t in turns)


def test_same_speaker_pauses_merge_unless_someone_else_spoke():
    segments = [
        SpeechSegment(0.0, 1.0, "A"),
        SpeechSegment(1.8, 3.0, "A"),  # 0.8 s pause, nobody else: same turn
        SpeechSegment(3.4, 4.0, "B"),
        SpeechSegment(4.3, 5.0, "A"),  # B spoke in between: new turn
        SpeechSegment(8.0, 9.0, "A"),  # 3 s pause: new turn
    ]
    words = {
        None: [
            w(0.1, 0.9, "a1"),
            w(1.9, 2.9, "a2"),
            w(3.5, 3.9, "b1"),
            w(4.4, 4.9, "a3"),
            w(8.1, 8.9, "a4"),
        ]
    }
    turns = build_turns(segments, words, {"A": Role.AGENT, "B": Role.CUSTOMER}, "en", 10.0)
    assert [t.text for t in turns] == ["a1 a2", "b1", "a3", "a4"]


def test_mono_words_go_to_the_segment_they_overlap_most():
    segments = [SpeechSegment(0.0, 2.0, "A"), SpeechSegment(2.0, 4.0, "B")]
    words = {None: [w(1.5, 2.3, "left"), w(1.8, 2.9, "right")]}
    turns = build_turns(segments, words, {}, "en", 4.0)
    assert [(t.speaker, t.text) for t in turns] == [("A", "left"), ("B", "right")]
    assert all(t.role is Role.UNKNOWN for t in turns)


def test_orphan_words_snap_or_open_their_own_turn():
    segments = [SpeechSegment(1.0, 2.0, "channel_0", 0)]
    words = {0: [w(2.3, 2.6, "near"), w(5.0, 5.5, "far")]}
    turns = build_turns(segments, words, ROLES, "en", 6.0, TurnOptions(max_pause_s=1.0))
    assert [t.text for t in turns] == ["near", "far"]
    assert turns[0].end >= 2.6 and turns[1].start == 5.0


def test_wordless_noise_is_dropped_but_long_unrecognised_speech_kept():
    segments = [SpeechSegment(0.0, 0.4, "A"), SpeechSegment(3.0, 5.0, "A")]
    turns = build_turns(segments, {None: []}, {"A": Role.AGENT}, "en", 6.0)
    assert [(t.start, t.end, t.text) for t in turns] == [(3.0, 5.0, "")]


def test_mandarin_text_joins_without_spaces_and_times_stay_inside_the_call():
    segments = [SpeechSegment(0.0, 3.2, "A")]
    words = {None: [w(0.1, 0.4, "您好"), w(0.4, 0.9, "我是"), w(2.9, 3.4, "小李")]}
    turns = build_turns(segments, words, {"A": Role.AGENT}, "zh", 3.0)
    assert turns[0].text == "您好我是小李"
    assert 0 <= turns[0].start <= turns[0].end <= 3.0
