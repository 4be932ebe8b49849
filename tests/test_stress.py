"""Customer stress: per-turn agitation from acoustics and anger words, and its trajectory.

Calls are built by hand (turns with known metrics) so every number in the estimate is known. The
builder here is shared with the turn-taking detector tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from calmline.monitor.measure import count_units, rate_unit
from calmline.monitor.rubric import PracticeRubric, Rubric, StressRubric
from calmline.monitor.stress import MIN_RATE_UNITS, ONE_ANGER_WORD, estimate_stress, trajectory
from calmline.monitor.textmatch import PhraseMatcher
from calmline.monitor.types import (
    AudioInfo,
    CallMetrics,
    CallReport,
    Role,
    RoleAssignment,
    Turn,
    TurnMetrics,
    TurnStress,
    Word,
)

# --- builder ------------------------------------------------------------------------------------

_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class T:
    """A turn to build: who, when, what, and the metrics that matter (the rest are neutral)."""

    role: Role
    start: float
    end: float
    text: str
    loud_rel: float | None = 0.0
    f0_rel: float | None = 0.0
    rate: float | str | None = "auto"
    """Articulation rate; ``"auto"`` = units over duration, ``None`` = not measured."""
    dbfs: float | None = -20.0
    prob: float = 0.9
    low_share: float | None = None
    """``None`` = 0 when ``prob`` >= 0.5 else 1."""


def A(start: float, end: float, text: str, **kw) -> T:
    return T(Role.AGENT, start, end, text, **kw)


def C(start: float, end: float, text: str, **kw) -> T:
    return T(Role.CUSTOMER, start, end, text, **kw)


def _words(text: str, start: float, end: float, prob: float, language: str) -> tuple[Word, ...]:
    if language == "zh":
        # One token per character, punctuation attached to the character before it.
        tokens: list[str] = []
        for ch in text:
            if _CJK.match(ch) or not tokens:
                tokens.append(ch)
            else:
                tokens[-1] += ch
    else:
        tokens = text.split()
    if not tokens:
        return ()
    step = (end - start) / len(tokens)
    return tuple(
        Word(
            start=round(start + i * step, 3),
            end=round(start + (i + 1) * step, 3),
            text=w,
            prob=prob,
        )
        for i, w in enumerate(tokens)
    )


def call(
    spec: list[T],
    language: str = "zh",
    duration: float | None = None,
    attribution: str = "channels",
) -> CallReport:
    """A measured call from turn specs: indices in time order, gaps and overlaps computed."""
    spec = sorted(spec, key=lambda s: (s.start, s.end))
    duration = duration if duration is not None else max(s.end for s in spec) + 1.0
    unit = rate_unit(language)
    turns = []
    for i, s in enumerate(spec):
        words = _words(s.text, s.start, s.end, s.prob, language)
        units = count_units(words, language)
        length = s.end - s.start
        scale = 1.0 if language == "zh" else 60.0
        rate = s.rate if s.rate != "auto" else (scale * units / length if units else None)
        earlier = [p.end for p in spec[:i]]
        others = [p for p in spec if p.role is not s.role]
        overlap = sum(max(0.0, min(s.end, o.end) - max(s.start, o.start)) for o in others)
        metrics = TurnMetrics(
            duration=round(length, 3),
            speech_rate=rate,
            articulation_rate=rate,
            rate_unit=unit,
            loudness_dbfs=s.dbfs,
            loudness_rel_db=s.loud_rel,
            f0_median_hz=200.0 if s.f0_rel is not None else None,
            f0_rel_semitones=s.f0_rel,
            f0_range_semitones=3.0,
            mean_word_prob=s.prob if words else None,
            low_conf_share=(
                (s.low_share if s.low_share is not None else float(s.prob < 0.5)) if words else None
            ),
            gap_before=round(s.start - max(earlier), 3) if earlier else None,
            overlap=round(overlap, 3),
        )
        speaker = "A" if s.role is Role.AGENT else "C"
        turns.append(
            Turn(
                index=i,
                speaker=speaker,
                role=s.role,
                start=s.start,
                end=s.end,
                text=s.text,
                words=words,
                channel=(0 if s.role is Role.AGENT else 1) if attribution == "channels" else None,
                metrics=metrics,
            )
        )
    talk = {
        r.value: sum(t.end - t.start for t in turns if t.role is r)
        for r in (Role.AGENT, Role.CUSTOMER)
    }
    both = talk["agent"] + talk["customer"]
    metrics = CallMetrics(
        duration=duration,
        talk_time=talk,
        talk_ratio=talk["agent"] / both if both else None,
        overlap_time=0.0,
        non_talk=(),
        non_talk_time=0.0,
        turn_count=len(turns),
        speakers=(),
    )
    return CallReport(
        call_id="hand-built",
        audio=AudioInfo("hand-built.wav", "wav", "pcm_s16le", 8000, 2, duration, 0),
        language=language,
        language_probability=1.0,
        attribution=attribution,
        roles=RoleAssignment(roles={"A": Role.AGENT, "C": Role.CUSTOMER}, method="channels"),
        segments=(),
        turns=tuple(turns),
        overlaps=(),
        metrics=metrics,
        models=(),
        timings={},
    )


ANGER = ("气死我了", "太过分了", "投诉", "ridiculous", "unacceptable", "furious")


def make_rubric(language: str = "zh", **practices: PracticeRubric) -> Rubric:
    """A rubric with the turn-taking practices' thresholds and lexicons, both languages' words."""
    zh = language == "zh"
    base = {
        "let_finish": PracticeRubric(
            name="let_finish",
            thresholds={
                "turn_transition_tolerance_s": 0.3,
                "backchannel_max_s": 1.0,
                "backchannel_max_words": 3,
                "agitated_weight": 1.5,
                "per_interruption_penalty": 20,
                "louder_db": 4.0,
                "faster_ratio": 1.25,
            },
            phrases={
                "backchannel": (
                    ("嗯", "对", "好", "是的", "明白")
                    if zh
                    else ("mm-hmm", "uh-huh", "yeah", "right", "okay", "I see")
                ),
                "retort": ("你听我说", "你有完没完") if zh else ("listen to me", "calm down"),
            },
        ),
        "clear_speech": PracticeRubric(
            name="clear_speech",
            thresholds={
                "min_mean_word_prob": 0.6,
                "max_low_conf_share": 0.25,
                "articulation_min": 3.0 if zh else 120.0,
                "articulation_max": 5.5 if zh else 180.0,
                "min_loudness_dbfs": -35.0,
                "quiet_rel_db": -6.0,
            },
        ),
        "gentle_control": PracticeRubric(
            name="gentle_control",
            thresholds={"long_turn_s": 8.0, "pause_min_s": 0.3},
            phrases={
                "redirect": (
                    ("您的时间一定很宝贵", "您对我们公司这么关注")
                    if zh
                    else ("I value your time", "thank you for caring so much")
                )
            },
        ),
    }
    base.update(practices)
    return Rubric(
        rubric="test",
        version="1",
        language=language,
        stress=StressRubric(anger_words=ANGER),
        practices=base,
    )


def stress_of(report: CallReport, rubric: Rubric | None = None):
    rubric = rubric or make_rubric(report.language)
    return estimate_stress(report, rubric, PhraseMatcher(rubric.matching, report.language))


# --- stress -------------------------------------------------------------------------------------

ANGRY = {"loud_rel": 6.0, "f0_rel": 4.0, "rate": 6.5}
CALM = {"loud_rel": -3.0, "f0_rel": -2.0, "rate": 4.0}


def _angry_then_calm() -> list[T]:
    return [
        C(0.0, 8.0, "你们这个服务太过分了气死我了", **ANGRY),
        A(8.5, 12.0, "非常抱歉给您带来不便"),
        C(12.5, 20.0, "我要投诉你们三天都没有人管", **ANGRY),
        A(20.5, 35.0, "我非常理解您的心情我马上帮您查一下"),
        C(36.0, 44.0, "那好吧你帮我看一下订单", loud_rel=0.0, f0_rel=0.0, rate=5.0),
        A(44.5, 62.0, "查到了包裹明天上午会送到"),
        C(63.0, 70.0, "好的谢谢你这么快帮我处理", **CALM),
        A(70.5, 80.0, "不客气还有其他问题吗"),
        C(81.0, 88.0, "没有了谢谢再见您辛苦了", **CALM),
    ]


def test_loud_high_fast_angry_start_then_calm_is_de_escalated():
    report = call(_angry_then_calm(), duration=90.0)
    s = stress_of(report)

    assert [t.turn_index for t in s.turns] == [0, 2, 4, 6, 8]
    first, last = s.turns[0], s.turns[-1]
    # Against the calm quarter (level -3 dB, pitch -2 st, rate 4.0): +9 dB, +6 st, 6.5 / 4.0,
    # all beyond full scale, and two anger words.
    assert first.agitation == pytest.approx(1.0)
    assert set(first.anger_words) == {"太过分了", "气死我了"}
    assert (first.loudness_rel_db, first.f0_rel_semitones) == (9.0, 6.0)
    assert first.rate_rel == pytest.approx(1.625)
    assert last.agitation == 0.0  # below baseline everywhere: nothing counts, nothing negative
    assert s.result == "de-escalated"
    assert s.start_level is not None and s.end_level is not None
    assert s.start_level > 0.5 > s.end_level
    assert s.change == pytest.approx(s.end_level - s.start_level, abs=1e-3)
    assert "turn 0 at 0.0 s" in s.evidence and "turn 8 at 81.0 s" in s.evidence
    assert "de-escalated" in s.evidence
    for t in s.turns:
        assert 0.0 <= t.agitation <= 1.0


def test_reverse_order_is_escalated():
    spec = _angry_then_calm()
    # Swap the customer's metrics and words end for start: calm first, angry last.
    cust = [t for t in spec if t.role is Role.CUSTOMER]
    swapped = [
        C(a.start, a.end, b.text, loud_rel=b.loud_rel, f0_rel=b.f0_rel, rate=b.rate)
        for a, b in zip(cust, reversed(cust), strict=True)
    ]
    report = call([t for t in spec if t.role is Role.AGENT] + swapped, duration=90.0)
    s = stress_of(report)
    assert s.result == "escalated"
    assert s.change is not None and s.change > 0.5


def test_flat_customer_is_steady():
    spec = [
        C(0.0, 6.0, "我想查一下我的订单", rate=4.5),
        A(6.5, 10.0, "好的请提供订单号"),
        C(30.0, 36.0, "订单号是一二三四五", rate=4.4),
        A(36.5, 50.0, "查到了明天送到"),
        C(70.0, 76.0, "好的我知道了谢谢", rate=4.6),
    ]
    s = stress_of(call(spec, duration=80.0))
    assert s.result == "steady"
    assert s.change is not None and abs(s.change) < 0.1
    assert "steady" in s.evidence


def test_one_customer_turn_is_insufficient():
    spec = [A(0.0, 4.0, "您好请问有什么可以帮您"), C(5.0, 9.0, "气死我了", **ANGRY)]
    s = stress_of(call(spec, duration=30.0))
    assert s.result == "insufficient"
    assert s.change is None
    assert s.end_level is None and s.start_level is not None
    assert "last" in s.evidence
    assert len(s.turns) == 1


def test_no_customer_turn_is_insufficient():
    s = stress_of(call([A(0.0, 4.0, "您好")], duration=10.0))
    assert s.result == "insufficient"
    assert s.turns == ()


@pytest.mark.parametrize(
    ("language", "one", "two"),
    [
        ("zh", "这也太过分了吧", "你们太过分了我要投诉"),
        ("en", "this is ridiculous honestly", "this is ridiculous and unacceptable"),
    ],
)
def test_anger_words_in_both_languages(language, one, two):
    neutral = {"loud_rel": 0.0, "f0_rel": 0.0, "rate": None}
    spec = [
        C(0.0, 5.0, one, **neutral),
        C(10.0, 15.0, two, **neutral),
        C(20.0, 25.0, "ok" if language == "en" else "好的", **neutral),
    ]
    s = stress_of(call(spec, language=language, duration=30.0))
    weights = make_rubric(language).stress.weights
    # Acoustics at baseline, rate not measured: only the words component is non-zero, and it
    # counts over the weights of loudness, pitch and words.
    judged = weights["loudness"] + weights["pitch"] + weights["words"]
    assert len(s.turns[0].anger_words) == 1
    assert len(s.turns[1].anger_words) == 2
    assert s.turns[2].anger_words == ()
    assert s.turns[0].agitation == pytest.approx(
        weights["words"] * ONE_ANGER_WORD / judged, abs=1e-3
    )
    assert s.turns[1].agitation == pytest.approx(weights["words"] / judged, abs=1e-3)
    assert s.turns[2].agitation == 0.0


def test_missing_components_drop_out_and_weights_renormalise():
    # No level, no pitch, no rate: only the words were measured, so they decide alone.
    spec = [
        C(0.0, 3.0, "气死我了", loud_rel=None, f0_rel=None, rate=None),
        C(10.0, 13.0, "好", loud_rel=None, f0_rel=None, rate=None),
    ]
    s = stress_of(call(spec, duration=20.0))
    assert s.turns[0].agitation == pytest.approx(ONE_ANGER_WORD)
    assert s.turns[1].agitation == 0.0


def test_rate_of_a_short_turn_is_not_judged():
    spec = [
        C(0.0, 5.0, "我想问一下订单的事情", rate=4.0),
        C(10.0, 10.5, "什么", rate=9.0),  # two characters: a pause length, not a pace
        C(20.0, 25.0, "我想问一下发票的事情", rate=4.0),
    ]
    s = stress_of(call(spec, duration=30.0))
    assert count_units(call(spec).turns[1].words, "zh") < MIN_RATE_UNITS
    assert s.turns[1].rate_rel is None
    assert s.turns[0].rate_rel == pytest.approx(1.0)


def test_customer_upset_most_of_the_call_reads_agitated_against_their_calm_turns():
    # Four upset turns and two calm ones: the median turn is an upset one, so relative to it
    # the upset turns would read calm. Against the calm quarter they are clearly agitated.
    upset = {"loud_rel": 1.0, "f0_rel": 1.0, "rate": 5.5}
    calm = {"loud_rel": -6.0, "f0_rel": -4.0, "rate": 4.0}
    spec = [
        C(0.0, 6.0, "我的手机屏幕是碎的", **upset),
        C(10.0, 16.0, "我已经打了三次电话了", **upset),
        C(20.0, 26.0, "每次都说有人联系我", **upset),
        C(30.0, 36.0, "结果一个人都没有来", **upset),
        C(60.0, 64.0, "那就换一台新的吧", **calm),
        C(80.0, 84.0, "没有了谢谢你再见", **calm),
    ]
    s = stress_of(call(spec, duration=90.0))
    rubric = make_rubric()
    assert all(t.agitation >= rubric.stress.agitated_level for t in s.turns[:4])
    # The calm reference is the 25th percentile of [-6, -6, 1, 1, 1, 1] = -4.25 dB.
    assert s.turns[0].loudness_rel_db == pytest.approx(5.25)
    assert [t.agitation for t in s.turns[4:]] == [0.0, 0.0]
    assert s.result == "de-escalated"


def test_trajectory_thirds_use_turn_midpoints():
    def ts(i, start, end, level):
        return TurnStress(i, start, end, level, None, None, None, ())

    # Midpoints 9.5 (first third of 30 s) and 20.5 (last third) ; 10.5 midpoint is the middle.
    turns = [ts(0, 9.0, 10.0, 0.9), ts(1, 10.0, 11.0, 0.0), ts(2, 20.0, 21.0, 0.2)]
    s = trajectory(turns, 30.0, 0.1)
    assert (s.start_level, s.end_level, s.result) == (0.9, 0.2, "de-escalated")
    assert s.change == pytest.approx(-0.7)
