"""Articulation rate as phonetics measures it: syllables (English) or characters (Mandarin) per
second of the speaker's own speech on the signal, pauses left out, over stretches long enough to
mean something; checked against the human timing of real 8 kHz calls (../shared/data)."""

from __future__ import annotations

import numpy as np
import pytest

from calmline.monitor.measure import (
    MeasureOptions,
    count_syllables,
    count_units,
    measure,
    phonation_time,
    rate_unit,
)
from calmline.monitor.types import Audio, AudioInfo, Role, Turn, Word
from tests.conftest import load_bench, shared_data

SR = 16_000


@pytest.mark.parametrize(
    ("word", "syllables"),
    [
        ("Hello,", 2),
        ("which", 1),
        ("alright", 2),
        ("replace?", 2),
        ("national", 3),
        ("Patricia", 3),
        ("people", 2),
        ("quality", 3),
        ("actually", 4),
        ("radio", 3),
        ("financial", 3),
        ("information", 4),
        ("called", 1),
        ("wanted", 2),
        ("makes", 1),
        ("places", 2),
        ("table", 2),
        ("you're", 1),
        ("didn't", 2),
        ("can't", 1),
        ("ATM", 3),
        ("Mr.", 2),
        ("$89", 5),  # eigh-ty nine dol-lars
        ("1,500", 6),  # one thou-sand five hun-dred
        ("12345", 5),  # an account number, digit by digit
        ("1990s", 4),  # nine-teen nine-ties
        ("5th", 1),
        ("...", 0),
    ],
)
def test_english_syllables(word, syllables):
    assert count_syllables(word) == syllables


def test_units_are_syllables_for_english_and_characters_for_mandarin():
    def words(*texts: str) -> tuple[Word, ...]:
        return tuple(Word(i, i + 1, t, 1.0) for i, t in enumerate(texts))

    # "Alright, which one would you like to take?" - 8 words, 9 syllables
    en = words("Alright,", "which", "one", "would", "you", "like", "to", "take?")
    assert count_units(en, "en") == 9
    assert rate_unit("en") == "syllables_per_s"
    # Chinese characters and each digit (said as one syllable each); punctuation none
    assert count_units(words("您好，", "尾号", "1234。"), "zh") == 2 + 2 + 4
    assert rate_unit("zh-CN") == "chars_per_s"


def _tone(seconds: float, dbfs: float = -26.0) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    x = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 10))
    return (x * 10 ** (dbfs / 20) / np.sqrt(np.mean(x**2))).astype(np.float32)


def _audio(x: np.ndarray) -> Audio:
    noise = np.random.default_rng(0).normal(0, 1e-4, x.shape).astype(np.float32)
    info = AudioInfo("synthetic.wav", "wav", "pcm_f32le", SR, 1, x.size / SR, 0)
    return Audio(samples=(x + noise)[None, :], info=info)


def test_phonation_comes_from_the_signal_not_the_word_timestamps():
    """Speech sounds 1.0-2.5 s and 3.0-4.5 s (a 0.5 s pause); the recogniser's word timestamps
    cover only 2 s of it, as Whisper's do on short turns. The rate follows the signal: 3 s."""
    x = np.zeros(round(6.0 * SR), dtype=np.float32)
    x[round(1.0 * SR) : round(2.5 * SR)] = _tone(1.5)
    x[round(3.0 * SR) : round(4.5 * SR)] = _tone(1.5)
    text = ["thank", "you", "for", "calling", "have", "a", "great", "day"]
    # eight words back to back over 1.5-3.5 s: 2 s of speech by the timestamps
    ws = tuple(Word(1.5 + 0.25 * i, 1.75 + 0.25 * i, t, 0.9) for i, t in enumerate(text))
    units = count_units(ws, "en")
    assert units == 9  # thank you for cal-ling have a great day
    assert phonation_time(ws) == pytest.approx(2.0)  # what the word timestamps say
    turn = Turn(0, "A", Role.AGENT, 1.0, 4.5, " ".join(text), ws)
    (measured,), _ = measure(_audio(x), [turn], "en")
    assert measured.metrics.articulation_rate == pytest.approx(units / 3.0, rel=0.02)
    # a 0.2 s gap (a stop closure, a word boundary) is speech, not a pause
    x[round(2.0 * SR) : round(2.2 * SR)] = 0.0
    (measured,), _ = measure(_audio(x), [turn], "en")
    assert measured.metrics.articulation_rate == pytest.approx(units / 3.0, rel=0.02)


def test_a_one_second_phrase_has_no_articulation_rate():
    """ "Can you repeat that please?" in 1.2 s: its rate is the length of five short words."""
    x = np.zeros(round(4.0 * SR), dtype=np.float32)
    x[SR : round(2.2 * SR)] = _tone(1.2)
    ws = tuple(
        Word(1.0 + 0.24 * i, 1.2 + 0.24 * i, t, 0.9)
        for i, t in enumerate(["Can", "you", "repeat", "that", "please?"])
    )
    turn = Turn(0, "A", Role.AGENT, 1.0, 2.2, "Can you repeat that please?", ws)
    (measured,), call = measure(_audio(x), [turn], "en")
    assert measured.metrics.articulation_rate is None
    assert measured.metrics.speech_rate == pytest.approx(6 / 1.2, rel=0.01)
    # with a shorter minimum stretch it is measured, from the signal's 1.2 s
    (short,), _ = measure(_audio(x), [turn], "en", MeasureOptions(min_rate_phonation_s=1.0))
    assert short.metrics.articulation_rate == pytest.approx(6 / 1.2, rel=0.02)
    assert call.speakers[0].articulation_rate is None  # the speaker's speech is 1.2 s too


@pytest.fixture(scope="module")
def harper_call(pipeline):
    """One real 8 kHz mu-law bank call through the full pipeline, with its human timing."""
    data = shared_data("calls", "harper_valley").parents[1]
    pbx, articulation = load_bench("pbx"), load_bench("articulation")
    call_id = "02e41649e7c441fd"  # the longest of the six, 10 rated turns
    from calmline.pipelines.batch import AnalyzeRequest

    audio = pbx.encode_call(pbx.load_call(data, call_id), "mulaw")
    report = pipeline.analyze_audio(audio, AnalyzeRequest(call_id=call_id, language="en"))
    return report, articulation.reference_segments(data, call_id), articulation


@pytest.mark.shared_data
def test_rate_of_a_real_call_is_within_15_percent_of_human_timing(harper_call):
    report, refs, articulation = harper_call
    errors, word_errors = [], []
    for turn in report.turns:
        mine = articulation.matched(turn, refs)
        rate = turn.metrics.articulation_rate
        if not mine or rate is None:
            continue
        assert sum(s.end - s.start for s in mine) >= 1.5  # only long stretches are rated
        ref = sum(r.syllables for r in mine) / sum(r.phonation for r in mine)
        errors.append(rate / ref - 1)
        word_phon = phonation_time(turn.words)
        word_errors.append(count_units(turn.words, "en") / word_phon / ref - 1)
    assert len(errors) >= 5
    assert abs(np.median(errors)) <= 0.15
    assert np.median(np.abs(errors)) <= 0.15
    # the recogniser's word timestamps shorten speech: their rate runs faster than the signal's
    assert np.median(word_errors) > np.median(errors)


@pytest.mark.shared_data
def test_no_rate_or_level_finding_on_an_ordinary_real_call(harper_call):
    report, _, _ = harper_call
    practice = next(p for p in report.scorecard.practices if p.practice == "clear_speech")
    kinds = {f.kind for f in practice.findings}
    assert not kinds & {"too_fast", "too_slow", "too_quiet", "mumbling"}, practice.findings


@pytest.mark.shared_data
def test_levels_and_pitch_relative_to_the_speaker_follow_the_human_segments(harper_call):
    """A turn's loudness against the speaker's median and its F0 against the speaker's baseline
    are the same whether the turn is cut by the pipeline or by the human transcript."""
    report, refs, _ = harper_call
    from calmline.pipelines.batch import AnalyzeRequest  # noqa: F401  (pipeline imported above)

    pbx = load_bench("pbx")
    data = shared_data("calls", "harper_valley").parents[1]
    audio = pbx.encode_call(pbx.load_call(data, report.call_id), "mulaw")
    ref_turns = [
        Turn(i, r.role, Role(r.role), r.start, r.end, r.text, (), channel=int(r.role != "agent"))
        for i, r in enumerate(refs)
    ]
    ref_measured, _ = measure(audio, ref_turns, "en")
    loud, pitch = [], []
    for turn in report.turns:
        best = max(ref_measured, key=lambda r: min(r.end, turn.end) - max(r.start, turn.start))
        if best.role != turn.role or min(best.end, turn.end) <= max(best.start, turn.start):
            continue
        m, rm = turn.metrics, best.metrics
        if m.loudness_rel_db is not None and rm.loudness_rel_db is not None:
            loud.append(abs(m.loudness_rel_db - rm.loudness_rel_db))
        if m.f0_rel_semitones is not None and rm.f0_rel_semitones is not None:
            pitch.append(abs(m.f0_rel_semitones - rm.f0_rel_semitones))
    assert len(loud) >= 10 and len(pitch) >= 10
    assert np.median(loud) <= 1.5  # dB
    assert np.median(pitch) <= 1.0  # semitones
