"""Sentence frames and bindings of the phrase detectors (issue 13, item 5).

Sentences written from PRACTICES.md (solve_problem: a concrete next step with a time frame; the
closing's thanks), not taken from any evaluation data: the agent undertaking an action in plain
words (subject + undertaking marker + action verb), a time bound to the agent's step rather than
to the customer's action or a question, and a bare thank-you that ends a request.
"""

from __future__ import annotations

import pytest

from calmline.monitor.textmatch import KINDS
from tests.test_detectors_recall import COMPLAINT, fired
from tests.test_detectors_text import A, C, call, run

# --- commitments and next steps as a frame -------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "我会在两个小时之内给您回电"),
        ("zh", "我们会尽快核查这个问题"),
        ("zh", "我这边给您发送一条短信"),
        ("zh", "我们已经把这个情况上报了"),
        ("en", "We will arrange the repair."),
        ("en", "I've booked a technician visit for you."),
        ("en", "We'll try our best to refund the fee."),
        ("en", "I just mailed the new statement."),
    ],
)
def test_agent_frame_is_commitment_and_next_step(language: str, text: str) -> None:
    assert {"commitment", "next_step"} <= fired("solve_problem", language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "我这边也联系不到商家"),  # negation after the verb
        ("zh", "我们没有办法给您退款"),
        ("zh", "您可以先联系商家"),  # the customer is the doer
        ("zh", "商家会给您回电"),  # another party
        ("zh", "我知道您很着急"),  # no action verb
        ("en", "We will not refund this fee."),
        ("en", "I can't send a new card."),
        ("en", "The merchant will contact you."),
        ("en", "We have to ask you for your account number."),
    ],
)
def test_frame_needs_the_agent_undertaking_an_action(language: str, text: str) -> None:
    assert "commitment" not in fired("solve_problem", language, text)


def test_frame_finding_is_honest_about_how_it_matched() -> None:
    report = call("zh", (C, 0.0, 3.0, COMPLAINT["zh"]), (A, 3.5, 9.0, "好的，我们会尽快核查"))
    found = [f for f in run("solve_problem", report).findings if f.kind == "commitment"]
    assert found, "the frame was not credited"
    f = found[0]
    assert f.match_kind == "pattern" and f.match_kind in KINDS
    assert f.matched == "我们会尽快核查"
    assert f.quote[f.match_start : f.match_end] == f.matched
    assert "pattern match" in f.detail and "exact match" not in f.detail


# --- time frames bound to the agent's step ------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "我马上帮您申请退款，三个工作日内原路返回"),
        ("zh", "退款会在三个工作日内到账"),  # the outcome the customer will see
        ("en", "I will send a new card. It should arrive within two business days."),
        # a question asking only the customer's consent is no question about the time
        ("zh", "我帮您转接到专员，请您稍等两三分钟，您看可以吗？"),
        ("zh", "我明天上午给您来电好吗？"),
        ("en", "I'll call you back tomorrow morning, okay?"),
        # outcomes and steps in everyday words
        ("zh", "退款金额会在三个工作日内返回您的银行卡"),
        ("en", "The late fee will be refunded within 24 hours."),
    ],
)
def test_time_bound_to_step_or_outcome(language: str, text: str) -> None:
    assert "time_frame" in fired("solve_problem", language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "我帮您查询一下，请您稍后留意短信"),  # the customer's action
        ("zh", "我帮您核实一下，您是今天下的单吗？"),  # a question
        ("zh", "我帮您核实一下，您明天在家吗？"),  # a question ending in 吗, not a tag
        ("en", "I will check the order. Did it arrive today, or not?"),
        ("en", "I will check the order. Did they answer you today on facebook?"),
        ("en", "I will check the order. Did it arrive today?"),
        ("en", "I have reported it. Please call back tomorrow if it is still broken."),
    ],
)
def test_time_of_customer_action_or_question_is_no_time_frame(language: str, text: str) -> None:
    kinds = fired("solve_problem", language, text)
    assert "next_step" in kinds and "time_frame" not in kinds


# --- closing thanks -----------------------------------------------------------------------


def _closing(language: str, *agent: str) -> set:
    turns = [(C, 0.0, 3.0, COMPLAINT[language])]
    t = 3.5
    for text in agent:
        turns.append((A, t, t + 4.0, text))
        turns.append((C, t + 4.5, t + 5.0, "好" if language == "zh" else "okay"))
        t += 6.0
    out = run("closing", call(language, *turns[:-1]))
    return {(f.kind, f.turn_index) for f in out.findings}


@pytest.mark.parametrize(
    ("language", "last"),
    [
        ("zh", "麻烦您私信提供一下手机号码，我们会尽快处理，谢谢"),
        ("en", "Please send us your account number in a message. We will look into it. Thank you!"),
    ],
)
def test_bare_thanks_ending_a_request_is_no_closing(language: str, last: str) -> None:
    kinds = {k for k, _ in _closing(language, last)}
    assert "closing_thanks" not in kinds


@pytest.mark.parametrize(
    ("language", "last"),
    [
        ("zh", "麻烦您再观察一下，有问题随时联系我们，谢谢"),
        ("en", "Please restart it tonight, and feel free to contact us again. Thank you!"),
        ("en", "Thanks for your patience, the card is on its way."),
    ],
)
def test_thanks_with_invitation_or_for_the_customer_closes(language: str, last: str) -> None:
    kinds = {k for k, _ in _closing(language, last)}
    assert "closing_thanks" in kinds


def test_thanks_before_the_last_content_turn_is_not_the_closing() -> None:
    found = _closing(
        "en",
        "I have reported the fault. Thank you for your feedback.",
        "The engineer will visit on Monday between nine and twelve.",
    )
    assert not [i for k, i in found if k == "closing_thanks"]


# --- acknowledgement opening the reply --------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "嗯嗯，了解，那我这边看一下订单"),
        ("zh", "好的明白，女士您别着急"),
        ("en", "Okay, got it. Let me look at the account."),
        ("en", "I see. So the card was declined twice."),
    ],
)
def test_bare_acknowledgement_opening_the_reply(language: str, text: str) -> None:
    assert "ack_phrase" in fired("acknowledge", language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "了解一下您的订单情况"),  # asks to find out
        ("zh", "请您理解，这个需要时间"),  # asks the customer to understand
        ("zh", "这个问题我们也在了解"),  # not the reply's first words
        ("en", "I see about twenty charges here."),
    ],
)
def test_acknowledgement_word_as_content_is_not_credited(language: str, text: str) -> None:
    assert "ack_phrase" not in fired("acknowledge", language, text)


# --- excuses and blame on a third party -----------------------------------------------------


def test_rule_of_a_third_party_as_justification_is_an_excuse() -> None:
    assert "excuse" in fired("no_excuses", "zh", "这个手续费是航空公司根据舱位规定的")


@pytest.mark.parametrize("text", ["商家才是这笔订单的责任方", "这个问题由商家负责"])
def test_responsibility_put_on_a_third_party_is_blame(text: str) -> None:
    assert "blame_shift" in fired("no_blame_shift", "zh", text)


@pytest.mark.parametrize("text", ["我来负责跟进这个问题", "我们已经联系商家，商家会尽快处理"])
def test_taking_responsibility_is_no_blame(text: str) -> None:
    assert "blame_shift" not in fired("no_blame_shift", "zh", text)
