"""Phrase-driven detectors on hand-built calls, Mandarin and English.

Each call is a few turns with word timings; the detectors run against the packaged default
rubrics. Every practice gets a case that earns credit and a case that must not: the customer
saying the phrase, a negated phrase, a near miss.
"""

from __future__ import annotations

import re

import pytest

from calmline.monitor.detectors import DetectorContext, detector_for
from calmline.monitor.rubric import default_rubric
from calmline.monitor.textmatch import PhraseMatcher
from calmline.monitor.types import (
    AudioInfo,
    CallMetrics,
    CallReport,
    Role,
    RoleAssignment,
    Severity,
    StressTrajectory,
    Turn,
    TurnStress,
    Word,
)

A, C = Role.AGENT, Role.CUSTOMER
SPEAKER = {A: "channel_0", C: "channel_1"}
RUBRICS = {lang: default_rubric(lang) for lang in ("zh", "en")}


def _words(text: str, start: float, end: float, language: str) -> tuple[Word, ...]:
    """Evenly timed words: characters (with trailing punctuation) for zh, tokens for en."""
    tokens = re.findall(r"[^\W_]\W*|\W+", text) if language == "zh" else text.split()
    step = (end - start) / max(len(tokens), 1)
    return tuple(
        Word(round(start + i * step, 3), round(start + (i + 1) * step, 3), tok, 0.9)
        for i, tok in enumerate(tokens)
    )


def call(language: str, *turns: tuple[Role, float, float, str]) -> CallReport:
    """A minimal report: turns ``(role, start, end, text)``; metrics from the turn spans."""
    joiner = "" if language == "zh" else " "
    built = []
    for i, (role, start, end, text) in enumerate(turns):
        words = _words(text, start, end, language)
        built.append(
            Turn(
                index=i,
                speaker=SPEAKER[role],
                role=role,
                start=start,
                end=end,
                text=joiner.join(w.text for w in words),
                words=words,
                channel=0 if role is A else 1,
            )
        )
    duration = max((t[2] for t in turns), default=0.0) + 1.0
    talk = {r.value: sum(t.end - t.start for t in built if t.role is r) for r in (A, C)}
    metrics = CallMetrics(
        duration=duration,
        talk_time=talk,
        talk_ratio=talk["agent"] / (talk["agent"] + talk["customer"])
        if any(talk.values())
        else None,
        overlap_time=0.0,
        non_talk=(),
        non_talk_time=0.0,
        turn_count=len(built),
        speakers=(),
    )
    return CallReport(
        call_id="test",
        audio=AudioInfo("test.wav", "wav", "pcm_s16le", 16000, 2, duration, 0),
        language=language,
        language_probability=None,
        attribution="channels",
        roles=RoleAssignment(roles={v: k for k, v in SPEAKER.items()}, method="channels"),
        segments=(),
        turns=tuple(built),
        overlaps=(),
        metrics=metrics,
        models=(),
        timings={},
    )


CALM = StressTrajectory((), None, None, None, "insufficient", "")


def run(practice_id: str, report: CallReport, stress: StressTrajectory = CALM):
    rubric = RUBRICS[report.language]
    ctx = DetectorContext(
        report=report,
        rubric=rubric,
        matcher=PhraseMatcher(rubric.matching, rubric.language),
        stress=stress,
    )
    outcome = detector_for(practice_id)(ctx, practice_id, rubric.practices[practice_id])
    _check_evidence(report, practice_id, outcome)
    return outcome


def _check_evidence(report: CallReport, practice_id: str, outcome) -> None:
    """Invariants of every outcome: score in range, findings carry evidence inside the call."""
    assert outcome.score is None or 0 <= outcome.score <= 100
    for f in outcome.findings:
        assert f.practice == practice_id
        if f.start is None:  # a finding about the whole call has no moment
            assert f.end is None
        else:
            assert 0 <= f.start <= f.end <= report.metrics.duration
        assert f.speaker in SPEAKER.values() and f.detail
        if f.severity not in (Severity.POSITIVE, Severity.INFO):
            assert f.kind in FAULT_KINDS[practice_id]  # so it has a coaching sentence
        if f.phrase is not None:  # a phrase finding quotes the agent's words at that moment
            turn = report.turns[f.turn_index]
            assert turn.role is A and f.role is A
            assert turn.start <= f.start <= f.end <= turn.end
            assert f.quote and f.quote.strip("…") in turn.text


def kinds(outcome) -> list[str]:
    return [f.kind for f in outcome.findings]


def opening_kinds(language: str, agent: str, customer: str) -> set[str]:
    """The greeting's finding kinds on the agent's opening line ``agent`` (0-4 s), answered by
    the customer's ``customer``."""
    report = call(language, (A, 0.0, 4.0, agent), (C, 4.5, 8.0, customer))
    return {f.kind for f in run("greeting", report).findings if f.turn_index == 0}


def faults(outcome) -> list:
    return [f for f in outcome.findings if f.severity not in (Severity.POSITIVE, Severity.INFO)]


def agitated(*turn_indexes: int) -> StressTrajectory:
    turns = tuple(TurnStress(i, 0.0, 1.0, 0.9, None, None, None, ()) for i in turn_indexes)
    return StressTrajectory(turns, None, None, None, "insufficient", "")


# --- acknowledge ----------------------------------------------------------------------------


def test_acknowledge_zh_credits_phrase_after_long_customer_turn():
    report = call(
        "zh",
        (C, 0.0, 12.0, "我的外卖等了两个小时还没到，打电话给骑手也不接，你们到底管不管"),
        (A, 12.5, 16.0, "我理解您的心情，我马上帮您联系骑手"),
    )
    out = run("acknowledge", report)
    ack = [f for f in out.findings if f.kind == "ack_phrase"]
    assert len(ack) == 1 and ack[0].severity is Severity.POSITIVE
    # 我理解 and 理解您的心情 overlap: one acknowledgement, the longer match names it.
    assert ack[0].phrase == "理解您" and "我理解您的心情" in ack[0].quote
    assert 12.5 <= ack[0].start < ack[0].end <= 14.5  # the first characters of the turn
    rate = next(f for f in out.findings if f.kind == "ack_rate")
    calibrated = RUBRICS["zh"].practices["acknowledge"].threshold("min_rate_per_min", None)
    assert rate.value == pytest.approx(5.0) and rate.threshold == calibrated
    assert out.score == 100.0


def test_acknowledge_zh_penalises_repeated_hao_with_its_time():
    report = call(
        "zh",
        (C, 0.0, 12.0, "你们这个服务太差了，我等了两个小时，饭都凉了，到底怎么回事"),
        (A, 12.5, 15.0, "好，好，好，您别着急"),
    )
    out = run("acknowledge", report)
    rep = [f for f in out.findings if f.kind == "repeated_ack"]
    assert len(rep) == 1
    assert rep[0].severity is Severity.MAJOR and rep[0].value == 3 and rep[0].threshold == 3
    assert "好，好，好" in rep[0].quote
    assert 12.5 <= rep[0].start < rep[0].end < 14.0
    assert "long_turn_unacknowledged" in kinds(out)
    assert out.score == 0.0  # no acknowledgement at all and a repetition


LONG_COMPLAINT_ZH = "我上个星期买的东西到现在都没有到你们到底怎么回事我已经打了好几次电话了"


def test_acknowledgement_of_a_long_turn_is_judged_on_the_answer_after_a_backchannel():
    # 嗯 in the customer's pause, then the customer goes on: the agent's answer is the turn
    # after the customer's next one, and it is that turn the finding quotes.
    def story(answer: str):
        return call(
            "zh",
            (C, 0.0, 12.0, LONG_COMPLAINT_ZH),
            (A, 12.2, 12.5, "嗯"),
            (C, 12.9, 16.0, "然后商家也不接电话"),
            (A, 16.5, 19.0, answer),
        )

    heard = run("acknowledge", story("我明白您的意思，我帮您联系商家"))
    assert "long_turn_unacknowledged" not in kinds(heard)
    out = run("acknowledge", story("那我帮您联系商家"))
    (f,) = [f for f in out.findings if f.kind == "long_turn_unacknowledged"]
    assert f.turn_index == 3 and f.quote.startswith("那我帮您联系商家")


def test_acknowledge_zh_customer_repeats_and_negated_phrases_do_not_count():
    report = call(
        "zh",
        (C, 0.0, 3.0, "好好好，你们就会说好，我理解个屁"),
        (A, 3.5, 6.0, "不好意思，我不明白您的意思"),
        (A, 6.5, 8.0, "您好好休息"),
    )
    out = run("acknowledge", report)
    assert "repeated_ack" not in kinds(out)
    assert "ack_phrase" not in kinds(out)
    assert out.score == 0.0  # 3 s of customer speech and no acknowledgement


@pytest.mark.parametrize(
    ("text", "credited"),
    [
        ("不好意思我理解您", True),  # 不 of 不好意思 is three characters away: no negation
        ("我不太理解您", False),
        ("嗯嗯理解您的一个情况呢", True),  # MUSIED-style transcript without punctuation
    ],
)
def test_acknowledge_zh_negation_window(text, credited):
    report = call("zh", (C, 0.0, 5.0, "我的订单怎么还没到啊"), (A, 5.5, 8.0, text))
    assert ("ack_phrase" in kinds(run("acknowledge", report))) is credited


def test_acknowledge_en_credit_repeats_and_boundaries():
    good = call(
        "en",
        (C, 0.0, 11.0, "I have been waiting for a refund for three weeks and nobody calls me back"),
        (A, 11.2, 14.0, "I understand, and I see what you mean about the calls"),
    )
    out = run("acknowledge", good)
    assert [f.phrase for f in out.findings if f.kind == "ack_phrase"] == [
        "I understand",
        "I see what you mean",
    ]
    assert out.score == 100.0

    bad = call(
        "en",
        (C, 0.0, 11.0, "I have been waiting for a refund for three weeks and nobody calls me back"),
        (A, 11.2, 14.0, "Okay, okay, okay. I seem to have your file here"),
    )
    out = run("acknowledge", bad)
    rep = [f for f in out.findings if f.kind == "repeated_ack"]
    assert [(f.phrase, f.value) for f in rep] == [("okay", 3.0)]
    assert rep[0].quote.startswith("Okay, okay, okay")
    assert "ack_phrase" not in kinds(out)  # "I seem" is not "I see"
    negated = call(
        "en", (C, 0.0, 3.0, "you charged me twice"), (A, 3.5, 5.0, "That doesn't make sense")
    )
    assert "ack_phrase" not in kinds(run("acknowledge", negated))
    assert out.score == 0.0


def test_acknowledge_repetition_costs_more_while_customer_is_agitated():
    report = call(
        "en",
        (C, 0.0, 4.0, "This is ridiculous, I want my money back"),
        (A, 4.2, 6.0, "yeah yeah yeah I understand"),
    )
    calm = run("acknowledge", report)
    upset = run("acknowledge", report, agitated(0))
    assert next(f for f in upset.findings if f.kind == "repeated_ack").weight == 1.5
    assert upset.score < calm.score


def test_acknowledge_two_yeahs_are_fine_and_no_agent_means_not_judged():
    report = call(
        "en",
        (C, 0.0, 4.0, "my card was charged twice"),
        (A, 4.2, 6.0, "yeah yeah, I understand, let me check"),
    )
    assert "repeated_ack" not in kinds(run("acknowledge", report))
    only_customer = call("en", (C, 0.0, 4.0, "hello? anybody there?"))
    assert run("acknowledge", only_customer).score is None


# --- no_apology_demand ----------------------------------------------------------------------


def test_apology_demand_zh_is_critical_with_evidence():
    report = call(
        "zh",
        (C, 0.0, 3.0, "你们的人就是一群骗子"),
        (A, 3.5, 7.0, "您这样说话不对，你先给我道歉"),
    )
    out = run("no_apology_demand", report)
    assert out.score == 0.0
    (f,) = out.findings
    assert f.severity is Severity.CRITICAL and f.kind == "apology_demand"
    assert f.phrase == "你先给我道歉" and f.value == 100.0
    assert f.speaker == "channel_0" and f.turn_index == 1
    assert 5.0 <= f.start < f.end <= 7.0  # the last six characters of the turn


@pytest.mark.parametrize(
    "turns",
    [
        [(C, 0.0, 3.0, "你们要道歉，给我赔礼道歉"), (A, 3.5, 6.0, "非常抱歉给您带来不便")],
        [(C, 0.0, 3.0, "太过分了"), (A, 3.5, 6.0, "我们向您道歉，给您赔礼道歉")],
        [(C, 0.0, 3.0, "太过分了"), (A, 3.5, 6.0, "我不是说你要道歉，我们一起解决")],
        [(C, 0.0, 3.0, "太過分了"), (A, 3.5, 6.0, "我們向您道歉")],
        [(C, 0.0, 3.0, "是我的错吗"), (A, 3.5, 6.0, "您不需要向我道歉，也不用承认是你的错")],
        [(C, 0.0, 3.0, "商家道歉了吗"), (A, 3.5, 6.0, "商家已经给我道歉了")],
    ],
    ids=["customer-demands", "agent-apologises", "negated", "traditional", "no-need", "narrative"],
)
def test_apology_demand_zh_not_a_demand(turns):
    out = run("no_apology_demand", call("zh", *turns))
    assert out.score == 100.0 and out.findings == ()


def test_apology_demand_en_critical_and_near_misses():
    demand = call(
        "en",
        (C, 0.0, 3.0, "you people are useless"),
        (A, 3.5, 7.0, "Sir, you need to apologize to me before we go on"),
    )
    out = run("no_apology_demand", demand)
    assert out.score == 0.0
    assert [f.severity for f in out.findings] == [Severity.CRITICAL]
    assert "you need to apologize" in out.findings[0].quote

    admit = call("en", (C, 0.0, 2.0, "no"), (A, 2.5, 5.0, "Just admit it was your fault"))
    assert run("no_apology_demand", admit).score == 0.0

    for text in (
        "I'm not saying you need to apologize, let's fix this",
        "I apologize for the delay",
        "I need to apologize for the mix-up",
        "we apologize, you shouldn't have to deal with this",
        "the courier apologized to me as well",
    ):
        fine = call("en", (C, 0.0, 3.0, "you need to apologize"), (A, 3.5, 7.0, text))
        out = run("no_apology_demand", fine)
        assert out.score == 100.0 and out.findings == (), text


def test_apology_demand_en_fuzzy_slip_reports_score_and_threshold():
    report = call("en", (C, 0.0, 2.0, "whatever"), (A, 2.5, 5.0, "you need to apologized"))
    (f,) = run("no_apology_demand", report).findings
    assert 92 <= f.value < 100 and f.threshold == 92


# --- solve_problem --------------------------------------------------------------------------


def test_solve_problem_zh_full_credit():
    report = call(
        "zh",
        (C, 0.0, 4.0, "我点的菜少了一份"),
        (
            A,
            4.5,
            14.0,
            "我非常理解您的心情，我一定竭尽所能替您解决这个问题。我马上帮您申请退款，三个工作日内原路返回",
        ),
    )
    out = run("solve_problem", report)
    assert out.score == 100.0
    assert {"empathy_phrase", "commitment", "next_step", "time_frame"} <= set(kinds(out))
    assert faults(out) == []


def test_solve_problem_zh_stray_time_word_is_no_next_step():
    report = call(
        "zh",
        (C, 0.0, 4.0, "我点的菜少了一份"),
        (A, 4.5, 8.0, "今天天气不错，您再等等吧"),
    )
    out = run("solve_problem", report)
    assert out.score == 0.0
    assert sorted(f.kind for f in faults(out)) == ["no_commitment", "no_empathy", "no_next_step"]


def test_solve_problem_en_partial_and_full():
    partial = call(
        "en",
        (C, 0.0, 4.0, "my order never arrived"),
        (A, 4.5, 8.0, "I'll take care of this for you"),
    )
    out = run("solve_problem", partial)
    assert out.score == 30.0 and "no_next_step" in kinds(out)
    full = call(
        "en",
        (C, 0.0, 4.0, "my order never arrived"),
        (
            A,
            4.5,
            12.0,
            "I completely understand how you feel. I'll take care of this: "
            "I'll send you a replacement within 24 hours",
        ),
    )
    assert run("solve_problem", full).score == 100.0


# --- greeting and closing -------------------------------------------------------------------


def test_greeting_zh_and_en():
    zh = call("zh", (A, 0.0, 4.0, "您好，我是客服小王，很高兴为您服务"), (C, 4.5, 6.0, "你好"))
    out = run("greeting", zh)
    assert out.score == 100.0
    assert set(kinds(out)) == {"greeting_hello", "greeting_name", "greeting_offer"}
    en = call("en", (A, 0.0, 1.0, "Hello."), (C, 1.5, 3.0, "hi"))
    out = run("greeting", en)
    assert out.score == pytest.approx(33.3)
    (f,) = faults(out)
    assert f.kind == "greeting_incomplete" and (f.value, f.threshold) == (1.0, 3.0)
    assert run("greeting", call("en", (C, 0.0, 1.0, "hello?"))).score is None


def test_greeting_only_counts_the_opening():
    late = call(
        "en",
        (A, 0.0, 1.0, "Yes?"),
        (C, 1.5, 3.0, "hi"),
        (A, 3.5, 4.0, "Go on"),
        (C, 4.5, 6.0, "my order"),
        (A, 6.5, 9.0, "Hello, my name is Anna, how can I help"),
    )
    assert run("greeting", late).score == 0.0


def test_closing_zh_and_en():
    zh = call(
        "zh",
        (C, 0.0, 2.0, "好的谢谢"),
        (A, 2.5, 8.0, "感谢您的耐心，如果还有什么问题随时联系我们，祝您生活愉快"),
    )
    assert run("closing", zh).score == 100.0
    en = call(
        "en",
        (C, 0.0, 2.0, "thank you"),
        (A, 2.5, 4.0, "Thanks for your patience, is there anything else I can help you with?"),
        (C, 4.5, 5.0, "no"),
        (A, 5.5, 6.0, "okay"),
    )
    out = run("closing", en)
    assert out.score == pytest.approx(66.7)
    # pointed at the agent's last words that say something, not at the trailing "okay"
    (f,) = faults(out)
    assert (f.kind, f.turn_index, f.start) == ("closing_incomplete", 1, 2.5)
    assert f.quote.startswith("Thanks for your patience")
    assert (f.value, f.threshold) == (2.0, 3.0)
    abrupt = call("zh", (C, 0.0, 2.0, "那就这样吧"), (A, 2.5, 3.0, "好的"))
    assert run("closing", abrupt).score == 0.0
    # only backchannels in the closing: the last of them is quoted
    (f,) = faults(run("closing", abrupt))
    assert (f.turn_index, f.quote) == (1, "好的")


# --- courtesy -------------------------------------------------------------------------------


def test_courtesy_zh_share_and_rude():
    polite = call(
        "zh",
        (C, 0.0, 2.0, "我的订单有问题"),
        (A, 2.5, 5.0, "请您提供一下订单号，谢谢"),
        (A, 5.5, 8.0, "您的订单已经帮您查到了"),
    )
    out = run("courtesy", polite)
    assert out.score == 100.0
    share = next(f for f in out.findings if f.kind == "courtesy_share")
    assert share.value == 100.0 and share.threshold == 30.0  # percent
    rude = call(
        "zh",
        (C, 0.0, 2.0, "你们怎么回事"),
        (A, 2.5, 5.0, "你把订单号报一下啊"),
        (A, 5.5, 8.0, "闭嘴，我在查你的订单呢"),
    )
    out = run("courtesy", rude)
    assert out.score == 0.0
    assert [f.kind for f in faults(out)] == ["courtesy_share", "rude"]


def test_courtesy_en_short_turns_not_judged():
    assert run("courtesy", call("en", (C, 0.0, 1.0, "hi"), (A, 1.5, 2.0, "yes"))).score is None
    out = run(
        "courtesy",
        call("en", (C, 0.0, 1.0, "hi"), (A, 1.5, 4.0, "Could you please read me the order number")),
    )
    assert out.score == 100.0


# --- presence practices: apology, paraphrase, empathy, options -------------------------------

PRESENCE = [
    ("apologize_for_inconvenience", "zh", "非常抱歉给您带来不便，我马上查一下", "apology"),
    ("apologize_for_inconvenience", "zh", "我們向您道歉", "apology"),
    (
        "apologize_for_inconvenience",
        "en",
        "I'm sorry for the inconvenience, let me check",
        "apology",
    ),
    ("paraphrase", "zh", "您的意思是订单还没有送到，对吗", "paraphrase"),
    ("paraphrase", "en", "So what you're saying is the package never arrived", "paraphrase"),
    ("empathy", "zh", "换作是我也会着急的", "empathy"),
    ("empathy", "en", "I can see why you're upset about this", "empathy"),
    ("options", "zh", "您看是给您退款，还是重新给您补发一份", "options"),
    ("options", "en", "You can either get a refund or a replacement", "options"),
]


@pytest.mark.parametrize(("practice", "language", "text", "kind"), PRESENCE)
def test_presence_practice_credits_agent_phrase(practice, language, text, kind):
    complaint = "我的订单一直没送到" if language == "zh" else "my package never arrived"
    out = run(practice, call(language, (C, 0.0, 3.0, complaint), (A, 3.5, 8.0, text)))
    assert out.score == 100.0
    assert kinds(out) and set(kinds(out)) == {kind}


MISSING = {
    "apologize_for_inconvenience": ("no_apology", 40.0),
    "paraphrase": ("no_paraphrase", 50.0),
    "empathy": ("no_empathy", 50.0),
    "options": ("no_options", 60.0),
}


@pytest.mark.parametrize("practice", sorted(MISSING))
@pytest.mark.parametrize("language", ["zh", "en"])
def test_presence_practice_missing_after_complaint(practice, language):
    complaint = "我的订单一直没送到" if language == "zh" else "my package never arrived"
    reply = "请稍等" if language == "zh" else "hold on"
    report = call(language, (C, 0.0, 3.0, complaint), (A, 3.5, 5.0, reply))
    out = run(practice, report)
    kind, score = MISSING[practice]
    assert out.score == score
    (f,) = out.findings
    assert f.kind == kind and f.severity is Severity.MINOR and f.turn_index == 1


@pytest.mark.parametrize("practice", sorted(MISSING))
def test_presence_practice_not_judged_without_complaint(practice):
    report = call("en", (C, 0.0, 3.0, "what time do you open"), (A, 3.5, 5.0, "at nine"))
    assert run(practice, report).score is None


def test_presence_practice_missing_when_customer_agitated_without_words():
    report = call("en", (C, 0.0, 3.0, "what time do you open"), (A, 3.5, 5.0, "at nine"))
    assert run("empathy", report, agitated(0)).score == 50.0


def test_customer_phrases_do_not_earn_agent_credit():
    report = call(
        "en",
        (C, 0.0, 3.0, "I'm sorry for the inconvenience but my package never arrived"),
        (A, 3.5, 5.0, "hold on"),
    )
    assert run("apologize_for_inconvenience", report).score == 40.0


# --- fault practices: arguing, blame shift, over-promise, excuses ---------------------------

FAULTS = [
    ("no_arguing", "zh", "你错了，订单是你自己取消的", "arguing", Severity.MAJOR, 65.0),
    (
        "no_arguing",
        "en",
        "You're wrong, you cancelled it yourself",
        "arguing",
        Severity.MAJOR,
        65.0,
    ),
    ("no_blame_shift", "zh", "那是别的部门的事，我也不知道", "blame_shift", Severity.MAJOR, 65.0),
    (
        "no_blame_shift",
        "en",
        "That's not my department, sorry",
        "blame_shift",
        Severity.MAJOR,
        65.0,
    ),
    ("no_overpromise", "zh", "我保证明天一定送到", "overpromise", Severity.MINOR, 75.0),
    (
        "no_overpromise",
        "en",
        "I guarantee it arrives tomorrow",
        "overpromise",
        Severity.MINOR,
        75.0,
    ),
]


@pytest.mark.parametrize(("practice", "language", "text", "kind", "severity", "score"), FAULTS)
def test_fault_practice_agent_phrase(practice, language, text, kind, severity, score):
    complaint = "我的订单一直没送到" if language == "zh" else "my package never arrived"
    out = run(practice, call(language, (C, 0.0, 3.0, complaint), (A, 3.5, 8.0, text)))
    assert out.score == score
    (f,) = out.findings
    assert (f.kind, f.severity) == (kind, severity)


CLEAN = [
    ("no_arguing", "zh", "你错了", "我不是说你错了，我们一起看看"),
    ("no_arguing", "en", "you're wrong", "I'm not saying you're wrong, let's look at it"),
    ("no_blame_shift", "zh", "那是别的部门的事吧", "这个问题我来帮您跟进"),
    ("no_blame_shift", "en", "that's not my department", "let me take care of this"),
    ("no_overpromise", "zh", "你保证吗", "我不能保证明天送到，但我会尽力"),
    ("no_overpromise", "en", "can you guarantee it", "I can't guarantee it, but I'll try"),
]


@pytest.mark.parametrize(("practice", "language", "customer", "agent"), CLEAN)
def test_fault_practice_customer_and_negated_phrases_are_clean(practice, language, customer, agent):
    out = run(practice, call(language, (C, 0.0, 3.0, customer), (A, 3.5, 8.0, agent)))
    assert out.score == 100.0 and out.findings == ()


def test_fault_practice_not_judged_without_agent():
    assert run("no_arguing", call("zh", (C, 0.0, 3.0, "你错了"))).score is None


@pytest.mark.parametrize(
    ("language", "complaint", "excuse"),
    [
        ("zh", "怎么还没送到", "因为最近单量大，所以配送慢了"),
        ("en", "my package never arrived", "that's because the warehouse was closed"),
    ],
)
def test_no_excuses_counts_justifications_after_complaint(language, complaint, excuse):
    two = call(language, (C, 0.0, 3.0, complaint), (A, 3.5, 6.0, excuse), (A, 6.5, 9.0, excuse))
    out = run("no_excuses", two)
    assert out.score == 100.0
    assert [(f.severity, f.value) for f in out.findings] == [
        (Severity.INFO, 1.0),
        (Severity.INFO, 2.0),
    ]
    three = call(
        language,
        (C, 0.0, 3.0, complaint),
        (A, 3.5, 6.0, excuse),
        (A, 6.5, 9.0, excuse),
        (A, 9.5, 12.0, excuse),
    )
    out = run("no_excuses", three)
    assert out.score == 80.0
    assert out.findings[-1].severity is Severity.MINOR and out.findings[-1].threshold == 2.0


def test_no_excuses_ignores_justifications_before_the_complaint():
    report = call(
        "zh",
        (A, 0.0, 3.0, "因为系统升级，所以今天晚一点"),
        (A, 3.5, 6.0, "因为下雨，所以骑手慢一些"),
        (A, 6.5, 9.0, "因为高峰期，所以要排队"),
        (C, 9.5, 12.0, "怎么还没送到"),
        (A, 12.5, 15.0, "我马上帮您催一下"),
    )
    assert run("no_excuses", report).score == 100.0


# --- coaching templates for every fault kind -------------------------------------------------

FAULT_KINDS = {
    "acknowledge": ("repeated_ack", "ack_rate", "long_turn_unacknowledged"),
    "no_apology_demand": ("apology_demand",),
    "solve_problem": ("no_empathy", "no_commitment", "no_next_step", "no_time_frame"),
    "greeting": ("greeting_incomplete",),
    "courtesy": ("courtesy_share", "rude"),
    "apologize_for_inconvenience": ("no_apology",),
    "paraphrase": ("no_paraphrase",),
    "empathy": ("no_empathy",),
    "no_arguing": ("arguing",),
    "no_blame_shift": ("blame_shift",),
    "no_excuses": ("excuse",),
    "no_overpromise": ("overpromise",),
    "options": ("no_options",),
    "closing": ("closing_incomplete",),
}


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_fault_kind_has_its_coaching_sentence(language):
    rubric = RUBRICS[language]
    for practice_id, fault_kinds in FAULT_KINDS.items():
        for kind in fault_kinds:
            assert kind in rubric.practices[practice_id].coaching, (practice_id, kind)
