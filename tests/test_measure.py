"""Measurements: a hand-built two-speaker call with known levels, pitches, words and timing."""

from __future__ import annotations

import math
import random
import wave
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from calmline.monitor.errors import ChannelMapError
from calmline.monitor.measure import (
    MeasureOptions,
    count_units,
    measure,
    overlaps,
    phonation_time,
    rate_unit,
)
from calmline.monitor.types import Audio, AudioInfo, Role, Span, Turn, Word

SR = 16_000
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def voice(f0_hz: float | np.ndarray, seconds: float, dbfs: float) -> np.ndarray:
    """A harmonic signal (1/k harmonics to 3.4 kHz) at an RMS level of ``dbfs``, float32 (n,).

    ``f0_hz`` is a constant or float (n,) per sample.
    """
    n = round(seconds * SR)
    f = np.broadcast_to(np.asarray(f0_hz, dtype=np.float64), (n,))
    phase = 2 * np.pi * np.cumsum(f) / SR
    x = sum((k * f <= 3400) * np.sin(k * phase) / k for k in range(1, int(3400 // f.min()) + 1))
    return (x * 10 ** (dbfs / 20) / np.sqrt(np.mean(x**2))).astype(np.float32)


def audio_of(samples: np.ndarray) -> Audio:
    channels, n = samples.shape
    info = AudioInfo("synthetic.wav", "wav", "pcm_f32le", SR, channels, n / SR, 0)
    return Audio(samples=samples.astype(np.float32), info=info)


def words(*items: tuple[str, float, float, float]) -> tuple[Word, ...]:
    return tuple(Word(start=s, end=e, text=t, prob=p) for t, s, e, p in items)


# The call: agent "A" on channel 0 (120 Hz voice), customer "C" on channel 1 (180 Hz).
#   turn  who  span        signal                           words
#   0     A    1.0-3.0     120 Hz, -26 dBFS                 5 en words, one 0.4 s pause
#   1     C    2.5-5.0     180 Hz, -26 dBFS                 starts 0.5 s inside turn 0
#   2     A    5.5-7.5     120 Hz, -20 dBFS (6 dB louder)
#   3     C    8.0-10.0    360 Hz (an octave up)
#   4     A    14.0-16.0   glide 100 -> 200 Hz              after 4 s of silence
#   5     C    15.5-18.0   180 Hz                           starts 0.5 s inside turn 4
# 22 s long, so 18-22 s is silence too.
DURATION = 22.0
LEVEL = -26.0

EN_WORDS = {
    0: words(
        ("Hello,", 1.0, 1.3, 0.9),
        ("thanks", 1.35, 1.7, 0.8),
        ("for", 1.75, 1.9, 0.3),
        ("calling", 1.95, 2.3, 0.95),
        ("today.", 2.7, 3.0, 0.4),
    ),
    1: words(("I", 2.6, 2.7, 0.9), ("have", 2.75, 3.0, 0.9), ("a", 3.05, 3.1, 0.9)),
    2: words(("Sure", 5.6, 6.0, 0.9), ("thing", 6.05, 6.5, 0.9)),
    3: words(("No!", 8.1, 8.6, 0.2)),
    4: words(("Okay", 14.1, 14.6, 0.7)),
    5: words(("Right", 15.6, 16.0, 0.6), ("—", 16.0, 16.0, 0.1)),
}
ZH_WORDS = {
    # 2 + 2 + 0 + 3 + 4 = 11 characters; "OK" and "？" are not characters.
    0: words(
        ("您好", 1.0, 1.4, 0.9),
        ("请问", 1.5, 1.9, 0.9),
        ("OK", 1.9, 2.0, 0.9),
        ("有什么", 2.0, 2.5, 0.9),
        ("可以帮您？", 2.8, 3.0, 0.9),
    ),
}


def two_speaker_call(language: str = "en") -> tuple[Audio, list[Turn]]:
    x = np.zeros((2, round(DURATION * SR)), dtype=np.float32)
    glide = 100.0 * 2.0 ** (np.arange(2 * SR) / (2 * SR))  # one octave over 2 s
    plan = [
        ("A", Role.AGENT, 0, 1.0, 3.0, voice(120.0, 2.0, LEVEL)),
        ("C", Role.CUSTOMER, 1, 2.5, 5.0, voice(180.0, 2.5, LEVEL)),
        ("A", Role.AGENT, 0, 5.5, 7.5, voice(120.0, 2.0, LEVEL + 6.0)),
        ("C", Role.CUSTOMER, 1, 8.0, 10.0, voice(360.0, 2.0, LEVEL)),
        ("A", Role.AGENT, 0, 14.0, 16.0, voice(glide, 2.0, LEVEL)),
        ("C", Role.CUSTOMER, 1, 15.5, 18.0, voice(180.0, 2.5, LEVEL)),
    ]
    table = ZH_WORDS if language == "zh" else EN_WORDS
    turns = []
    for i, (who, role, ch, start, end, sig) in enumerate(plan):
        a = round(start * SR)
        x[ch, a : a + sig.size] = sig
        ws = table.get(i, ())
        text = " ".join(w.text for w in ws)
        turns.append(Turn(i, who, role, start, end, text, ws, channel=ch))
    # A line noise floor at -80 dBFS, as on a real recording.
    x += np.random.default_rng(0).normal(0.0, 1e-4, x.shape).astype(np.float32)
    return audio_of(x), turns


@pytest.fixture(scope="module")
def en_call():
    audio, turns = two_speaker_call("en")
    measured, call = measure(audio, turns, "en")
    return turns, measured, call


def test_turns_come_back_in_order_with_metrics(en_call):
    turns, measured, _ = en_call
    assert [t.index for t in measured] == [t.index for t in turns]
    assert all(t.metrics is not None for t in measured)
    assert all(t.metrics is None for t in turns)  # new objects, the input is untouched
    assert [replace(t, metrics=None) for t in measured] == turns


def test_english_rates_in_syllables_per_second(en_call):
    _, measured, _ = en_call
    m = measured[0].metrics
    assert m.rate_unit == rate_unit("en") == "syllables_per_s"
    assert m.duration == 2.0
    # Hel-lo thanks for cal-ling to-day: 8 syllables over 2 s
    assert m.speech_rate == pytest.approx(8 / 2.0)
    # Phonation is measured on the signal, which sounds through the whole turn (the words'
    # 0.4 s gap is not a pause in the audio): 2.0 s.
    assert m.articulation_rate == pytest.approx(8 / 2.0)
    # A punctuation-only token has no syllable: turn 5 has one.
    assert measured[5].metrics.speech_rate == pytest.approx(1 / 2.5)


def test_mandarin_rates_in_characters_per_second():
    audio, turns = two_speaker_call("zh")
    measured, call = measure(audio, turns, "zh-CN")
    m = measured[0].metrics
    assert m.rate_unit == "chars_per_s"
    assert m.speech_rate == pytest.approx(11 / 2.0)
    assert m.articulation_rate == pytest.approx(11 / 2.0)  # the signal has no pause
    assert measured[1].metrics.speech_rate is None  # no words, no rate
    assert measured[1].metrics.mean_word_prob is None
    agent = call.speakers[0]
    # Over the agent's turns with words only: turns 2 and 4 have none.
    assert agent.speech_rate == pytest.approx(5.5)


def test_gaps_before_each_turn(en_call):
    _, measured, _ = en_call
    gaps = [t.metrics.gap_before for t in measured]
    assert gaps == [None, -0.5, 0.5, 0.5, 4.0, -0.5]


def test_overlaps(en_call):
    turns, measured, call = en_call
    assert [t.metrics.overlap for t in measured] == [0.5, 0.5, 0.0, 0.0, 0.5, 0.5]
    spans = overlaps(turns)
    assert [(o.start, o.end, o.speakers) for o in spans] == [
        (2.5, 3.0, ("A", "C")),
        (15.5, 16.0, ("A", "C")),
    ]
    assert call.overlap_time == 1.0


def test_talk_time_ratio_and_non_talk(en_call):
    _, _, call = en_call
    assert call.duration == DURATION
    assert call.turn_count == 6
    assert call.talk_time == {"agent": 6.0, "customer": 7.0}
    assert call.talk_ratio == pytest.approx(6.0 / 13.0, abs=1e-3)
    # 0-1 s is silence too, but shorter than 3 s.
    assert call.non_talk == (Span(10.0, 14.0), Span(18.0, 22.0))
    assert call.non_talk_time == 8.0


def test_loudness_absolute_and_relative_to_the_speaker(en_call):
    _, measured, call = en_call
    m = [t.metrics for t in measured]
    assert m[0].loudness_dbfs == pytest.approx(LEVEL, abs=0.3)
    assert m[2].loudness_dbfs == pytest.approx(LEVEL + 6.0, abs=0.3)
    # The agent's median turn is at -26 dBFS, so the louder turn is +6 dB and the others 0.
    assert m[2].loudness_rel_db == pytest.approx(6.0, abs=0.2)
    assert m[0].loudness_rel_db == pytest.approx(0.0, abs=0.2)
    assert m[4].loudness_rel_db == pytest.approx(0.0, abs=0.2)
    assert call.speakers[0].loudness_median_dbfs == pytest.approx(LEVEL, abs=0.3)


def test_pitch_absolute_relative_and_range(en_call):
    _, measured, call = en_call
    m = [t.metrics for t in measured]
    assert m[0].f0_median_hz == pytest.approx(120.0, rel=0.02)
    assert m[1].f0_median_hz == pytest.approx(180.0, rel=0.02)
    # The customer's octave-up turn against their baseline (the median of all their frames).
    assert m[3].f0_rel_semitones == pytest.approx(12.0, abs=0.3)
    assert m[1].f0_rel_semitones == pytest.approx(0.0, abs=0.3)
    # A steady voice has no range; the glide spans 10-90 % of an octave = 9.6 semitones, and
    # its median is 100 * 2**0.5 Hz, 2.84 semitones above the agent's 120 Hz baseline.
    assert m[0].f0_range_semitones == pytest.approx(0.0, abs=0.3)
    assert m[4].f0_range_semitones == pytest.approx(9.6, abs=0.5)
    assert m[4].f0_median_hz == pytest.approx(100 * 2**0.5, rel=0.02)
    assert m[4].f0_rel_semitones == pytest.approx(12 * math.log2(100 * 2**0.5 / 120), abs=0.3)
    agent, customer = call.speakers
    assert agent.f0_median_hz == pytest.approx(120.0, rel=0.02)
    assert customer.f0_median_hz == pytest.approx(180.0, rel=0.02)
    # The customer spends a third of their frames an octave up: their 10-90 % range is 12 st.
    assert customer.f0_range_semitones == pytest.approx(12.0, abs=0.3)


def test_word_confidence(en_call):
    _, measured, call = en_call
    m = measured[0].metrics
    assert m.mean_word_prob == pytest.approx((0.9 + 0.8 + 0.3 + 0.95 + 0.4) / 5, abs=1e-3)
    assert m.low_conf_share == pytest.approx(2 / 5)  # 0.3 and 0.4 are below 0.5
    strict, _ = measure(*two_speaker_call("en"), "en", MeasureOptions(low_conf_threshold=0.85))
    assert strict[0].metrics.low_conf_share == pytest.approx(3 / 5)
    agent = call.speakers[0]
    assert agent.low_conf_share == pytest.approx(2 / 8)  # 8 agent words, 2 below 0.5


def test_speaker_metrics(en_call):
    _, _, call = en_call
    agent, customer = call.speakers
    assert (agent.speaker, agent.role, agent.turn_count, agent.talk_time) == (
        "A",
        Role.AGENT,
        3,
        6.0,
    )
    assert (customer.speaker, customer.role, customer.turn_count, customer.talk_time) == (
        "C",
        Role.CUSTOMER,
        3,
        7.0,
    )
    # 12 agent syllables over 6 s of turns, all of which have words.
    assert agent.speech_rate == pytest.approx(12 / 6.0)
    assert agent.rate_unit == "syllables_per_s"


def test_turn_order_does_not_change_the_measurements(en_call):
    turns, measured, call = en_call
    audio, _ = two_speaker_call("en")
    shuffled = turns[:]
    random.Random(3).shuffle(shuffled)
    again, call_again = measure(audio, shuffled, "en")
    assert [t.index for t in again] == [t.index for t in shuffled]
    by_index = {t.index: t.metrics for t in measured}
    assert all(t.metrics == by_index[t.index] for t in again)
    assert call_again == call


def test_a_mono_call_is_measured_on_its_only_channel():
    audio, turns = two_speaker_call("en")
    mono = audio_of(audio.samples.sum(axis=0, keepdims=True))
    measured, _ = measure(mono, [replace(t, channel=None) for t in turns], "en")
    # Turns 2 and 3 do not overlap anyone, so the mix holds just their voice.
    assert measured[2].metrics.f0_median_hz == pytest.approx(120.0, rel=0.02)
    assert measured[3].metrics.f0_median_hz == pytest.approx(360.0, rel=0.02)
    assert measured[2].metrics.loudness_dbfs == pytest.approx(LEVEL + 6.0, abs=0.3)


def test_a_turn_on_a_missing_channel_is_an_error():
    audio, turns = two_speaker_call("en")
    with pytest.raises(ChannelMapError):
        measure(audio, [replace(turns[0], channel=2)], "en")


def test_loudness_of_a_sine_ignores_the_pauses():
    # Three 0.4 s bursts of a sine with 0.3 s pauses holding -60 dBFS line noise. The sine's RMS
    # is 0.1 (-20 dBFS); counting the pauses would read about -21.8 dBFS.
    t = np.arange(round(0.4 * SR)) / SR
    burst = (0.1 * math.sqrt(2) * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    x = np.random.default_rng(1).normal(0.0, 1e-3, round(3.0 * SR)).astype(np.float32)
    for start in (0.5, 1.2, 1.9):
        a = round(start * SR)
        x[a : a + burst.size] = burst
    turn = Turn(0, "A", Role.AGENT, 0.5, 2.3, "", ())
    measured, _ = measure(audio_of(x[None, :]), [turn], "en")
    assert measured[0].metrics.loudness_dbfs == pytest.approx(-20.0, abs=0.5)
    # With the gate opened wide the pauses count and the level drops.
    wide, _ = measure(audio_of(x[None, :]), [turn], "en", MeasureOptions(loudness_gate_db=80.0))
    assert wide[0].metrics.loudness_dbfs < -21.0


def test_silence_and_noise_have_no_pitch():
    x = np.zeros((1, 3 * SR), dtype=np.float32)
    x[0, SR:] = np.random.default_rng(2).normal(0.0, 0.05, 2 * SR)
    turns = [
        Turn(0, "A", Role.AGENT, 0.0, 1.0, "", ()),
        Turn(1, "C", Role.CUSTOMER, 1.0, 3.0, "", ()),
    ]
    measured, call = measure(audio_of(x), turns, "en")
    silent, noisy = (t.metrics for t in measured)
    assert silent.loudness_dbfs is None and silent.f0_median_hz is None
    assert noisy.f0_median_hz is None and noisy.f0_rel_semitones is None
    assert noisy.loudness_dbfs == pytest.approx(20 * math.log10(0.05), abs=0.5)
    assert call.speakers[0].f0_median_hz is None


def test_roles_without_agent_or_customer():
    x = np.zeros((1, 10 * SR), dtype=np.float32)
    turns = [
        Turn(0, "S1", Role.UNKNOWN, 1.0, 2.0, "", ()),
        Turn(1, "S2", Role.UNKNOWN, 1.5, 2.5, "", ()),
    ]
    _, call = measure(audio_of(x), turns, "en")
    assert call.talk_time == {"agent": 0.0, "customer": 0.0, "unknown": 1.5}
    assert call.talk_ratio is None
    assert call.overlap_time == 0.5
    assert call.non_talk == (Span(2.5, 10.0),)
    _, empty = measure(audio_of(x), [], "en")
    assert "unknown" not in empty.talk_time
    assert empty.non_talk == (Span(0.0, 10.0),) and empty.turn_count == 0


def test_overlaps_merge_and_name_who_was_talking_first():
    def turn(i, who, start, end):
        return Turn(i, who, Role.UNKNOWN, start, end, "", ())

    turns = [
        turn(0, "A", 0.0, 5.0),
        turn(1, "A", 4.0, 6.0),  # the same speaker overlapping themself is no overlap
        turn(2, "B", 2.0, 3.0),
        turn(3, "C", 2.5, 3.5),  # three speakers at 2.5-3.0, one span 2.0-3.5
        turn(4, "B", 5.5, 7.0),
    ]
    spans = overlaps(turns)
    assert [(o.start, o.end, o.speakers) for o in spans] == [
        (2.0, 3.5, ("A", "B", "C")),
        (5.5, 6.0, ("A", "B")),
    ]
    assert overlaps(turns[:2]) == ()


def test_units_and_phonation():
    # syllables: hel-lo, it's; punctuation has none
    assert count_units(words(("Hello,", 0, 1, 1), ("...", 1, 1, 1), ("it's", 1, 2, 1)), "en") == 3
    assert count_units(words(("您好，", 0, 1, 1), ("OK", 1, 2, 1), ("𠮷", 2, 3, 1)), "zh") == 3
    assert count_units(words(("您好", 0, 1, 1)), "cmn") == 2
    assert count_units(words(("您好", 0, 1, 1)), "en") == 1
    # Overlapping words (aligner jitter) never make a negative pause.
    ws = words(("a", 0.0, 1.0, 1), ("b", 0.9, 1.5, 1), ("c", 2.0, 2.2, 1), ("d", 2.3, 2.5, 1))
    assert phonation_time(ws) == pytest.approx(2.5 - 0.5)  # 0.5 s pause, 0.1 s gap kept
    assert phonation_time(ws, pause_min_s=0.05) == pytest.approx(2.5 - 0.5 - 0.1)
    assert phonation_time(()) == 0.0


def _read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        if w.getframerate() != SR or w.getsampwidth() != 2 or w.getnchannels() != 1:
            pytest.skip(f"{path.name}: expected 16 kHz 16-bit mono")
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return (pcm / 32768.0).astype(np.float32)


@pytest.mark.shared_data
def test_real_speech_gain_moves_loudness_not_pitch():
    path = SHARED_DATA / "asr" / "en" / "librispeech-1995-1837-0001.wav"
    if not path.exists():
        pytest.skip(f"evaluation data not present: {path}")
    speech = _read_wav(path)
    seconds = speech.size / SR
    # The same sentence three times on one channel, the last at twice the amplitude (+6.02 dB).
    x = np.concatenate([speech, speech, 2.0 * speech])[None, :]
    turns = [
        Turn(i, "A", Role.AGENT, i * seconds, (i + 1) * seconds, "", (), channel=0)
        for i in range(3)
    ]
    measured, call = measure(audio_of(x), turns, "en")
    m = [t.metrics for t in measured]
    assert m[2].loudness_rel_db == pytest.approx(20 * math.log10(2.0), abs=0.05)
    assert m[0].loudness_rel_db == pytest.approx(0.0, abs=0.05)
    assert -35.0 < m[0].loudness_dbfs < -10.0
    assert all(abs(t.f0_rel_semitones) < 0.1 for t in m)
    assert 120.0 < call.speakers[0].f0_median_hz < 260.0
    # A read sentence moves its pitch by several semitones, not by an octave or more.
    assert 2.0 < m[0].f0_range_semitones < 12.0


@pytest.mark.shared_data
def test_real_conversation_against_pyannote_core():
    # A real two-speaker conversation with reference turns: the interval arithmetic must agree
    # with pyannote.core's, and each real voice must get a level and a plausible pitch.
    from pyannote.core import Annotation, Segment

    folder = SHARED_DATA / "diarization" / "pyannote_sample"
    if not folder.exists():
        pytest.skip(f"evaluation data not present: {folder}")
    x = _read_wav(folder / "sample.wav")
    reference = Annotation()
    turns = []
    for line in (folder / "sample.rttm").read_text().splitlines():
        fields = line.split()
        start, dur, who = float(fields[3]), float(fields[4]), fields[7]
        reference[Segment(start, start + dur)] = who
        turns.append((start, start + dur, who))
    turns.sort()
    roles = {turns[0][2]: Role.AGENT}
    call_turns = [
        Turn(i, who, roles.get(who, Role.CUSTOMER), s, e, "", ())
        for i, (s, e, who) in enumerate(turns)
    ]
    audio = audio_of(x[None, :])
    measured, call = measure(audio, call_turns, "en")

    agent = turns[0][2]
    (customer,) = set(reference.labels()) - {agent}
    assert call.talk_time["agent"] == pytest.approx(
        reference.label_timeline(agent).support().duration(), abs=2e-3
    )
    assert call.talk_time["customer"] == pytest.approx(
        reference.label_timeline(customer).support().duration(), abs=2e-3
    )
    assert call.overlap_time == pytest.approx(reference.get_overlap().duration(), abs=2e-3)
    expected_overlaps = list(reference.get_overlap().support())
    assert [(o.start, o.end) for o in overlaps(call_turns)] == [
        pytest.approx((seg.start, seg.end), abs=1e-3) for seg in expected_overlaps
    ]
    silences = reference.get_timeline().support().gaps(support=Segment(0, audio.duration))
    assert [(s.start, s.end) for s in call.non_talk] == [
        pytest.approx((g.start, g.end), abs=1e-3) for g in silences if g.duration > 3.0
    ]

    for speaker in call.speakers:
        assert -45.0 < speaker.loudness_median_dbfs < -5.0
        assert 70.0 < speaker.f0_median_hz < 350.0
        assert 1.0 < speaker.f0_range_semitones < 15.0
    long_turns = [t.metrics for t in measured if t.end - t.start > 1.0]
    assert sum(m.f0_median_hz is not None for m in long_turns) >= 0.8 * len(long_turns)
    # Relative loudness and pitch are small on most turns of a calm conversation.
    rel = np.array([m.loudness_rel_db for m in long_turns if m.loudness_rel_db is not None])
    assert np.median(np.abs(rel)) < 4.0
