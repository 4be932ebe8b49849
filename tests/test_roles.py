"""Agent identification from cues (mono) and from the channel map (stereo)."""

from __future__ import annotations

from calmline.monitor.roles import RoleOptions, roles_from_channels, roles_from_cues
from calmline.monitor.types import Role, SpeechSegment, Word


def words_for(segment, text, lang="en"):
    tokens = list(text) if lang == "zh" else text.split()
    step = (segment.end - segment.start) / len(tokens)
    return [
        Word(segment.start + i * step, segment.start + (i + 1) * step, t, 0.9)
        for i, t in enumerate(tokens)
    ]


def test_english_greeting_wins_even_when_the_customer_speaks_first():
    segs = [
        SpeechSegment(0.0, 2.0, "SPEAKER_00"),
        SpeechSegment(2.5, 6.0, "SPEAKER_01"),
        SpeechSegment(6.5, 9.0, "SPEAKER_00"),
    ]
    words = (
        words_for(segs[0], "hello? hello?")
        + words_for(segs[1], "Thank you for calling Acme, my name is Dana, how can I help?")
        + words_for(segs[2], "my internet is down again")
    )
    result = roles_from_cues(segs, words, "en")
    assert result.roles == {"SPEAKER_00": Role.CUSTOMER, "SPEAKER_01": Role.AGENT}
    cues = {e.detail for e in result.evidence if e.speaker == "SPEAKER_01"}
    assert "said 'thank you for calling'" in cues and "said 'my name is'" in cues
    assert result.method == "cues" and result.confidence > 0.5


def test_mandarin_self_introduction():
    segs = [SpeechSegment(0.0, 3.0, "SPEAKER_00"), SpeechSegment(3.5, 6.0, "SPEAKER_01")]
    words = words_for(segs[0], "您好我是客服小李很高兴为您服务", "zh") + words_for(
        segs[1], "我的快递三天了还没到", "zh"
    )
    result = roles_from_cues(segs, words, "zh")
    assert result.roles["SPEAKER_00"] is Role.AGENT
    assert result.roles["SPEAKER_01"] is Role.CUSTOMER


def test_no_cues_falls_back_to_first_speaker_with_low_confidence():
    segs = [SpeechSegment(0.0, 1.0, "SPEAKER_00"), SpeechSegment(1.5, 3.0, "SPEAKER_01")]
    words = words_for(segs[0], "yes") + words_for(segs[1], "no")
    result = roles_from_cues(segs, words, "en")
    assert result.roles["SPEAKER_00"] is Role.AGENT
    assert result.confidence == 0.25  # speaking first alone is a weak cue
    assert [e.cue for e in result.evidence] == ["first_speaker"]


def test_word_boundaries_in_english_cues():
    segs = [SpeechSegment(0.0, 2.0, "SPEAKER_00"), SpeechSegment(2.5, 5.0, "SPEAKER_01")]
    # "thistle" must not count as "this is"; "speakingly" not as "speaking"
    words = words_for(segs[0], "thistle is speakingly odd") + words_for(
        segs[1], "hi this is Sam from support"
    )
    result = roles_from_cues(segs, words, "en")
    assert result.roles["SPEAKER_01"] is Role.AGENT
    assert not [e for e in result.evidence if e.speaker == "SPEAKER_00" and e.cue == "lexicon"]


def test_override_wins():
    segs = [SpeechSegment(0.0, 1.0, "SPEAKER_00"), SpeechSegment(1.5, 3.0, "SPEAKER_01")]
    words = words_for(segs[0], "thank you for calling")
    result = roles_from_cues(segs, words, "en", RoleOptions(agent_speaker="SPEAKER_01"))
    assert result.roles == {"SPEAKER_00": Role.CUSTOMER, "SPEAKER_01": Role.AGENT}
    assert result.method == "override"


def test_channel_map():
    result = roles_from_channels({0: "channel_0", 1: "channel_1"}, agent_channel=1)
    assert result.roles == {"channel_0": Role.CUSTOMER, "channel_1": Role.AGENT}
    assert result.method == "channels" and result.confidence == 1.0
