"""Turn-taking detectors: let_finish, clear_speech and gentle_control on hand-built calls."""

from __future__ import annotations

import pytest

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, detector_for
from calmline.monitor.rubric import PracticeRubric, Rubric
from calmline.monitor.stress import trajectory
from calmline.monitor.textmatch import PhraseMatcher
from calmline.monitor.types import CallReport, Finding, Role, Severity, TurnStress
from tests.test_stress import A, C, call, make_rubric, stress_of

CALM, AGITATED = 0.1, 0.8


def run(
    practice: str,
    report: CallReport,
    rubric: Rubric | None = None,
    agitation: float | dict[int, float] | None = None,
) -> PracticeOutcome:
    """Run one detector. ``agitation``: a level for every customer turn (or per turn index);
    ``None`` estimates it from the call."""
    rubric = rubric or make_rubric(report.language)
    matcher = PhraseMatcher(rubric.matching, report.language)
    if agitation is None:
        stress = stress_of(report, rubric)
    else:
        levels = agitation if isinstance(agitation, dict) else {}
        turns = [
            TurnStress(
                t.index,
                t.start,
                t.end,
                levels.get(t.index, agitation if isinstance(agitation, float) else 0.0),
                None,
                None,
                None,
                (),
            )
            for t in report.turns
            if t.role is Role.CUSTOMER
        ]
        stress = trajectory(turns, report.metrics.duration, rubric.stress.change_threshold)
    ctx = DetectorContext(report=report, rubric=rubric, matcher=matcher, stress=stress)
    detector = detector_for(practice)
    assert detector is not None
    outcome = detector(ctx, practice, rubric.practices[practice])
    _check_invariants(outcome, report, practice)
    return outcome


def _check_invariants(outcome: PracticeOutcome, report: CallReport, practice: str) -> None:
    if outcome.score is not None:
        assert 0.0 <= outcome.score <= 100.0
    for f in outcome.findings:
        assert f.practice == practice
        if f.start is None:  # a finding about the whole call has no moment
            assert f.end is None and f.quote == ""
        else:
            assert 0.0 <= f.start <= f.end <= report.metrics.duration
        assert f.detail and f.weight >= 1.0


def kinds(outcome: PracticeOutcome, kind: str) -> list[Finding]:
    return [f for f in outcome.findings if f.kind == kind]


# --- let_finish ---------------------------------------------------------------------------------

LONG_CUSTOMER_ZH = "我上个星期买的东西到现在都没有到你们到底怎么回事我已经打了好几次电话了"
LONG_CUSTOMER_EN = (
    "I ordered this two weeks ago and it still has not arrived and nobody calls me back"
)


def test_agent_talking_over_the_customer_is_an_interruption_with_its_overlap():
    report = call(
        [
            C(0.0, 10.0, LONG_CUSTOMER_ZH),
            A(4.0, 6.0, "您先别急我帮您查"),
            A(10.5, 14.0, "我帮您查一下订单"),
        ],
        duration=15.0,
    )
    out = run("let_finish", report, agitation=CALM)
    (f,) = kinds(out, "interruption")
    assert (f.start, f.end, f.value, f.threshold) == (4.0, 6.0, 2.0, 0.5)
    assert f.severity is Severity.MAJOR and f.role is Role.AGENT and f.weight == 1.0
    assert f.quote == "您先别急我帮您查" and f.turn_index == 1
    assert out.score == 80.0
    (summary,) = kinds(out, "interruption_summary")
    assert summary.value == 2.0
    assert "1 interruption(s)" in summary.detail and "2.00 s of overlap" in summary.detail


def test_overlap_ends_when_the_customer_stops():
    report = call([C(0.0, 5.0, LONG_CUSTOMER_ZH), A(4.0, 8.0, "您先别急我帮您查一下订单")])
    (f,) = kinds(run("let_finish", report, agitation=CALM), "interruption")
    assert (f.start, f.end, f.value) == (4.0, 5.0, 1.0)


@pytest.mark.parametrize(
    ("language", "customer", "backchannel"),
    [
        ("zh", LONG_CUSTOMER_ZH, "嗯"),
        ("zh", LONG_CUSTOMER_ZH, "嗯，对对"),
        ("en", LONG_CUSTOMER_EN, "mm-hmm"),
        ("en", LONG_CUSTOMER_EN, "yeah, right"),
    ],
)
def test_backchannel_while_the_customer_keeps_talking_is_not_an_interruption(
    language, customer, backchannel
):
    report = call([C(0.0, 10.0, customer), A(4.0, 4.5, backchannel)], language=language)
    out = run("let_finish", report, agitation=CALM)
    assert kinds(out, "interruption") == []
    assert out.score == 100.0


def test_backchannel_words_with_content_are_an_interruption():
    report = call([C(0.0, 10.0, LONG_CUSTOMER_EN), A(4.0, 5.2, "okay but listen")], language="en")
    assert len(kinds(run("let_finish", report, agitation=CALM), "interruption")) == 1


def test_backchannel_as_the_customer_stops_is_not_an_interruption():
    # "嗯" starting 0.6 s before the customer's end, the customer not talking past it: a
    # response token, not a bid for the floor (docs/interruptions.md).
    report = call([C(0.0, 5.0, LONG_CUSTOMER_ZH), A(4.4, 5.6, "嗯")])
    assert kinds(run("let_finish", report, agitation=CALM), "interruption") == []


def test_starting_within_the_tolerance_before_the_customer_ends_is_not_an_interruption():
    report = call([C(0.0, 10.0, LONG_CUSTOMER_ZH), A(9.8, 13.0, "好的我马上帮您查一下订单")])
    out = run("let_finish", report, agitation=CALM)
    assert kinds(out, "interruption") == []
    assert out.score == 100.0


def test_customer_interrupting_the_agent_is_info_and_not_scored():
    report = call(
        [
            A(0.0, 8.0, "您好这里是客服中心请问有什么可以帮您的吗我们今天"),
            C(3.0, 9.0, LONG_CUSTOMER_ZH),
        ]
    )
    out = run("let_finish", report, agitation=AGITATED)
    (f,) = kinds(out, "customer_interruption")
    assert f.severity is Severity.INFO and f.role is Role.CUSTOMER
    assert (f.start, f.end, f.value) == (3.0, 8.0, 5.0)
    assert kinds(out, "interruption") == []
    assert out.score == 100.0


def test_interruption_of_an_agitated_customer_weighs_more():
    spec = [C(0.0, 10.0, LONG_CUSTOMER_ZH), A(4.0, 6.0, "您先别急我帮您查")]
    calm = run("let_finish", call(spec), agitation=CALM)
    angry = run("let_finish", call(spec), agitation=AGITATED)
    assert kinds(calm, "interruption")[0].weight == 1.0
    (f,) = kinds(angry, "interruption")
    assert f.weight == 1.5 and "agitated" in f.detail and "0.80" in f.detail
    assert angry.score == 70.0 < calm.score == 80.0


def test_interruption_weight_follows_the_estimated_stress():
    # The interrupted turn is loud, high, fast and angry against the customer's calmer turns.
    spec = [
        C(0.0, 6.0, "我想问一下我的订单", loud_rel=-1.0, f0_rel=-1.0, rate=4.0),
        A(6.5, 9.0, "好的请您稍等", rate=4.0),
        C(10.0, 20.0, "气死我了你们太过分了", loud_rel=6.0, f0_rel=4.0, rate=5.5),
        A(14.0, 16.0, "您先别急我帮您查", rate=4.0),
        C(21.0, 25.0, "那你快点查吧", loud_rel=0.0, f0_rel=0.0, rate=4.2),
    ]
    report = call(spec, duration=30.0)
    out = run("let_finish", report)
    (f,) = kinds(out, "interruption")
    assert f.weight == 1.5 and out.score == 70.0


def test_agent_louder_or_faster_while_the_customer_is_agitated():
    spec = [
        C(0.0, 10.0, LONG_CUSTOMER_ZH),
        A(10.5, 14.0, "您好我帮您查一下订单", rate=4.0),
        C(15.0, 20.0, "你们就是在拖时间"),
        A(20.5, 24.0, "我不是在拖时间我在查", loud_rel=5.0, rate=4.0),
        C(25.0, 30.0, "那你快点"),
        A(30.5, 33.0, "查到了明天上午给您送到", rate=5.5),
        A(34.0, 36.0, "还有其他问题吗我帮您看", rate=4.0),
    ]
    calm = run("let_finish", call(spec), agitation=CALM)
    assert kinds(calm, "louder") == [] and kinds(calm, "faster") == []
    assert calm.score == 100.0

    angry = run("let_finish", call(spec), agitation=AGITATED)
    (loud,) = kinds(angry, "louder")
    assert (loud.value, loud.threshold, loud.turn_index) == (5.0, 4.0, 3)
    assert loud.severity is Severity.MINOR and loud.weight == 1.5
    (fast,) = kinds(angry, "faster")
    # 5.5 chars/s against the agent's median 4.0.
    assert fast.value == pytest.approx(1.375) and fast.threshold == 1.25
    assert fast.turn_index == 5
    assert angry.score == pytest.approx(100.0 - 2 * 5.0 * 1.5)


def test_retort_is_a_major_finding():
    spec = [C(0.0, 5.0, LONG_CUSTOMER_EN), A(6.0, 9.0, "listen to me, I already told you")]
    out = run("let_finish", call(spec, language="en"), agitation=CALM)
    (f,) = kinds(out, "retort")
    assert f.severity is Severity.MAJOR and f.phrase == "listen to me"
    assert f.quote == "listen to me" and 6.0 <= f.start < f.end < 9.0
    assert out.score == 90.0

    zh = run("let_finish", call([C(0.0, 5.0, LONG_CUSTOMER_ZH), A(6.0, 9.0, "你听我说好吗")]))
    assert [f.phrase for f in kinds(zh, "retort")] == ["你听我说"]


def test_no_agent_or_no_customer_turn_is_not_judged():
    assert run("let_finish", call([C(0.0, 5.0, LONG_CUSTOMER_ZH)])).score is None
    assert run("let_finish", call([A(0.0, 5.0, "您好")])).score is None


@pytest.mark.parametrize(
    ("customer_text", "attribution", "expected"),
    [
        ("我的订单一直没有到，", "pyannote", 1),  # mid-sentence, mono: possible interruption
        ("我的订单一直没有到。", "pyannote", 0),  # the customer finished the sentence
        ("我的订单一直没有到，", "channels", 0),  # stereo measures overlaps instead
    ],
)
def test_possible_interruption_on_mono_recordings(customer_text, attribution, expected):
    spec = [
        A(0.0, 3.0, "您好请问有什么可以帮您。"),
        C(3.5, 8.0, customer_text),
        A(8.05, 11.0, "您先提供一下订单号。"),
    ]
    out = run("let_finish", call(spec, attribution=attribution), agitation=CALM)
    found = kinds(out, "possible_interruption")
    assert len(found) == expected
    assert kinds(out, "interruption") == []
    if expected:
        (f,) = found
        assert f.severity is Severity.MINOR and f.value == pytest.approx(0.05)
        assert out.score == 95.0
    else:
        assert out.score == 100.0


def test_mono_backchannel_before_the_customer_goes_on_is_not_a_possible_interruption():
    spec = [
        C(0.0, 4.0, "我的订单一直没有到，"),
        A(4.05, 4.4, "嗯。"),
        C(4.5, 9.0, "而且客服电话也打不通。"),
    ]
    out = run("let_finish", call(spec, attribution="pyannote"), agitation=CALM)
    assert kinds(out, "possible_interruption") == []


# --- clear_speech -------------------------------------------------------------------------------

GOOD_ZH = "您好请问有什么可以帮您"  # 10 characters
GOOD_EN = "thank you for calling how can I help you today"  # 9 words


def test_clear_agent_speech_scores_full():
    zh = run("clear_speech", call([A(0.0, 2.5, GOOD_ZH, rate=4.4)]), agitation=CALM)
    assert zh.score == 100.0 and zh.findings == ()
    en = run("clear_speech", call([A(0.0, 3.6, GOOD_EN, rate=150.0)], "en"), agitation=CALM)
    assert en.score == 100.0 and en.findings == ()


@pytest.mark.parametrize(
    ("kw", "kind", "value", "threshold"),
    [
        ({"prob": 0.55, "low_share": 0.1}, "low_confidence", 0.55, 0.6),
        ({"prob": 0.7, "low_share": 0.4}, "low_conf_words", 0.4, 0.25),
        ({"rate": 6.5}, "too_fast", 6.5, 5.5),
        ({"rate": 2.5}, "too_slow", 2.5, 3.0),
        ({"dbfs": -40.0}, "too_quiet", -40.0, -35.0),
        ({"loud_rel": -8.0}, "mumbling", -8.0, -6.0),
    ],
)
def test_each_clear_speech_fault_zh(kw, kind, value, threshold):
    spec = [A(0.0, 2.5, GOOD_ZH, **({"rate": 4.4} | kw)), A(3.0, 5.5, GOOD_ZH, rate=4.4)]
    out = run("clear_speech", call(spec), agitation=CALM)
    (f,) = out.findings
    assert (f.kind, f.value, f.threshold) == (kind, value, threshold)
    assert f.severity is Severity.MINOR and f.turn_index == 0 and f.quote == GOOD_ZH
    # Half the judged time faulty, minus the per-fault penalty.
    assert out.score == 49.0


@pytest.mark.parametrize(
    ("rate", "kind"), [(200.0, "too_fast"), (100.0, "too_slow"), (150.0, None), (125.0, None)]
)
def test_articulation_band_en_words_per_minute(rate, kind):
    out = run("clear_speech", call([A(0.0, 3.6, GOOD_EN, rate=rate)], "en"), agitation=CALM)
    assert [f.kind for f in out.findings] == ([kind] if kind else [])
    if kind:
        assert out.findings[0].threshold == (180.0 if kind == "too_fast" else 120.0)


def test_rate_of_a_short_turn_is_not_judged():
    out = run("clear_speech", call([A(0.0, 0.3, "好的", rate=9.0)]), agitation=CALM)
    assert out.findings == () and out.score == 100.0


def test_english_rubric_on_a_mandarin_call_uses_the_characters_band():
    report = call([A(0.0, 2.5, GOOD_ZH, rate=4.4)], language="zh")
    out = run("clear_speech", report, rubric=make_rubric("en"), agitation=CALM)
    assert out.findings == ()


def test_clear_speech_faults_weigh_more_while_the_customer_is_agitated():
    spec = [
        C(0.0, 5.0, LONG_CUSTOMER_ZH),
        A(5.5, 8.0, GOOD_ZH, rate=4.4, prob=0.4),
        A(8.5, 11.0, GOOD_ZH, rate=4.4),
        A(11.5, 14.0, GOOD_ZH, rate=4.4),
    ]
    calm = run("clear_speech", call(spec), agitation=CALM)
    angry = run("clear_speech", call(spec), agitation=AGITATED)
    assert {f.weight for f in calm.findings} == {1.0}
    assert {f.weight for f in angry.findings} == {1.5}
    assert angry.score < calm.score


def test_clear_speech_without_agent_words_is_not_judged():
    report = call([C(0.0, 5.0, LONG_CUSTOMER_ZH), A(6.0, 7.0, "")])
    assert run("clear_speech", report, agitation=CALM).score is None


# --- gentle_control -----------------------------------------------------------------------------

LET_FINISH_OFF = PracticeRubric(name="let_finish", enabled=False)


def test_taking_the_floor_in_a_pause_after_a_long_turn():
    report = call([C(0.0, 10.0, LONG_CUSTOMER_ZH), A(10.5, 13.0, "我明白了我帮您查一下")])
    out = run("gentle_control", report, agitation=CALM)
    (f,) = out.findings
    assert f.kind == "took_floor_in_pause" and f.severity is Severity.POSITIVE
    assert (f.value, f.threshold) == (0.5, 0.3)
    assert out.score == 100.0


def test_taking_the_floor_over_the_customer():
    report = call([C(0.0, 10.0, LONG_CUSTOMER_ZH), A(6.0, 12.0, "您先听我解释一下这个情况")])
    # Without let_finish in the rubric the fault is gentle_control's own.
    rubric = make_rubric("zh", let_finish=LET_FINISH_OFF)
    out = run("gentle_control", report, rubric=rubric, agitation=AGITATED)
    (f,) = out.findings
    assert f.kind == "took_floor_over_customer" and f.severity is Severity.MAJOR
    assert f.value == 4.0 and f.weight == 1.5
    assert out.score == 0.0


def test_latched_take_over_is_half_credit():
    report = call([C(0.0, 10.0, LONG_CUSTOMER_ZH), A(10.1, 13.0, "我帮您查一下")])
    out = run("gentle_control", report, agitation=CALM)
    (f,) = out.findings
    assert f.kind == "took_floor_latched" and f.severity is Severity.MINOR
    assert out.score == 50.0


def test_a_pause_the_detail_shows_as_long_enough_is_a_pause():
    # 10.7 - 10.4 is 0.2999… in floating point: shown as 0.30 s, it is the pause asked for
    report = call([C(0.0, 10.4, LONG_CUSTOMER_ZH), A(10.7, 13.0, "我明白了我帮您查一下")])
    (f,) = run("gentle_control", report, agitation=CALM).findings
    assert f.kind == "took_floor_in_pause" and "0.30 s" in f.detail


def test_redirect_phrase_when_taking_the_floor():
    report = call(
        [C(0.0, 10.0, LONG_CUSTOMER_ZH), A(10.6, 15.0, "您的时间一定很宝贵，我先帮您处理退款")]
    )
    out = run("gentle_control", report, agitation=CALM)
    (r,) = kinds(out, "redirect")
    assert r.severity is Severity.POSITIVE and r.phrase == "您的时间一定很宝贵"
    assert out.score == 100.0  # 100 for the pause, the bonus capped

    latched = call([C(0.0, 10.0, LONG_CUSTOMER_EN), A(10.1, 14.0, "I value your time, so")], "en")
    out = run("gentle_control", latched, agitation=CALM)
    assert len(kinds(out, "redirect")) == 1
    assert out.score == 60.0  # half credit + the redirect bonus


def test_backchannel_inside_the_long_turn_is_not_taking_the_floor():
    report = call(
        [
            C(0.0, 10.0, LONG_CUSTOMER_ZH),
            A(4.0, 4.4, "嗯"),
            A(10.5, 13.0, "我明白了我帮您查一下"),
        ]
    )
    out = run("gentle_control", report, agitation=CALM)
    assert [f.kind for f in out.findings] == ["took_floor_in_pause"]
    assert out.findings[0].turn_index == 2


def test_backchannel_in_a_pause_before_the_customer_goes_on_is_not_taking_the_floor():
    # 嗯 in the customer's pause, then the customer goes on: the agent listened; the floor is
    # taken by the answer after the customer's next turn, which is judged if it is long.
    report = call(
        [
            C(0.0, 10.0, LONG_CUSTOMER_ZH),
            A(10.1, 10.4, "嗯"),
            C(10.8, 20.8, LONG_CUSTOMER_ZH),
            A(21.3, 24.0, "我明白了我帮您查一下"),
        ]
    )
    out = run("gentle_control", report, agitation=CALM)
    assert [(f.kind, f.turn_index) for f in out.findings] == [("took_floor_in_pause", 3)]
    assert out.score == 100.0


def test_backchannel_the_agent_goes_on_from_takes_the_floor():
    # 好的 and then the agent's own words: the agent took the floor with it (latched).
    report = call(
        [C(0.0, 10.0, LONG_CUSTOMER_ZH), A(10.1, 10.4, "好的"), A(10.6, 13.0, "我帮您查一下")]
    )
    out = run("gentle_control", report, agitation=CALM)
    assert [(f.kind, f.turn_index) for f in out.findings] == [("took_floor_latched", 1)]


def test_weighted_share_over_several_long_turns():
    spec = [
        C(0.0, 10.0, LONG_CUSTOMER_ZH),
        A(10.5, 13.0, "我明白了"),
        C(14.0, 24.0, LONG_CUSTOMER_ZH),
        A(18.0, 26.0, "您先听我说一下"),
    ]
    # First long turn calm (credit 1, weight 1), second agitated (credit 0, weight 1.5).
    # let_finish off: else the second is let_finish's fault, not judged here.
    rubric = make_rubric("zh", let_finish=LET_FINISH_OFF)
    out = run("gentle_control", call(spec), rubric=rubric, agitation={0: CALM, 2: AGITATED})
    assert out.score == pytest.approx(100.0 * 1.0 / 2.5)


def test_no_long_customer_turn_is_not_judged():
    report = call([C(0.0, 5.0, "我想问一下订单"), A(5.5, 8.0, "好的")])
    out = run("gentle_control", report, agitation=CALM)
    assert out.score is None and out.findings == ()


def test_long_turn_the_agent_never_answers_is_not_judged():
    report = call([A(0.0, 2.0, "您好"), C(3.0, 12.0, LONG_CUSTOMER_ZH)])
    assert run("gentle_control", report, agitation=CALM).score is None


def test_detectors_registered():
    for practice in ("let_finish", "clear_speech", "gentle_control"):
        assert detector_for(practice) is not None


def test_gentle_control_reads_turn_taking_rules_from_let_finish():
    # gentle_control has no backchannel lexicon of its own: let_finish's is used.
    rubric = make_rubric("zh", gentle_control=PracticeRubric(name="gc"))
    report = call(
        [C(0.0, 10.0, LONG_CUSTOMER_ZH), A(4.0, 4.4, "嗯"), A(10.5, 13.0, "我明白了我帮您查一下")]
    )
    out = run("gentle_control", report, rubric=rubric, agitation=CALM)
    assert [f.kind for f in out.findings] == ["took_floor_in_pause"]
