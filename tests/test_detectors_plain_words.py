"""Commitments, steps, times, thanks and excuses in ordinary words (issue 13, fifth round).

Sentences written from PRACTICES.md and the labelling guideline (bench/labels/README.md), not
taken from any evaluation data: a chat persona speaking of itself as the doer, a general pledge
to improve (a commitment, no step), a step only someone else was heard to promise, a step that is
the purpose of a request, a bounded wait (不超过五分钟), a thank-you after a suggestion, a
conditional cause. Each case keeps the meaning: no rule adds or drops a negation, changes the
person, or turns what another party said into the agent's words.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_frames import _closing
from tests.test_detectors_recall import fired

# --- the doer: the agent, a persona speaking of itself, or someone heard of --------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Xiao Li has recorded your issue and fed it back to the repair team."),
        ("en", "Little Bo will transfer your case to the billing team."),
        ("en", "Our company is checking the charges on your line."),
        ("en", "OK, I will help you feed back the problem."),
        ("zh", "小沃已经把您的情况反馈到维修部门了"),
        ("zh", "我们已经派工作人员去现场调查了"),
    ],
)
def test_persona_or_company_undertaking_is_commitment_and_step(language: str, text: str) -> None:
    assert {"commitment", "next_step"} <= fired("solve_problem", language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "We will spare no effort to optimize the network in your area."),
        ("en", "We will try our best to improve the service."),
        ("zh", "我们会持续改进配送服务"),
        ("zh", "我们会不断优化退款流程"),
    ],
)
def test_pledge_to_improve_is_commitment_without_step(language: str, text: str) -> None:
    kinds = fired("solve_problem", language, text)
    assert "commitment" in kinds and "next_step" not in kinds


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Xiao Li will not transfer this case."),  # negated
        ("en", "Little by little the signal came back."),  # no undertaking
        ("en", "Xiao Li is very concerned about the issue you raised."),  # "issue" is no verb here
        ("zh", "小沃这边没能联系上维修部门"),  # negated
        ("zh", "这边没能帮您联系上商家"),
    ],
)
def test_persona_frame_keeps_the_negation(language: str, text: str) -> None:
    kinds = fired("solve_problem", language, text)
    assert "commitment" not in kinds and "next_step" not in kinds


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "商家说会给您补发一份"),
        ("zh", "客服说是半小时之内商家给您联系"),
        ("en", "The shop said they would refund the order."),
    ],
)
def test_what_someone_else_was_heard_to_promise_is_no_step(language: str, text: str) -> None:
    kinds = fired("solve_problem", language, text)
    assert not kinds & {"commitment", "next_step", "time_frame"}


@pytest.mark.parametrize(
    ("language", "text"),
    [("zh", "我帮您联系商家补发一份"), ("en", "I will contact the shop about the refund.")],
)
def test_the_agents_own_step_is_still_credited(language: str, text: str) -> None:
    assert {"commitment", "next_step"} <= fired("solve_problem", language, text)


def test_step_as_the_purpose_of_a_request_is_no_commitment() -> None:
    kinds = fired("solve_problem", "en", "Please send me your number so I can check it for you.")
    assert "next_step" in kinds and "commitment" not in kinds


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Please reboot the phone and try again."),
        ("en", "Please enter Settings and clear the cache."),
        ("zh", "您可以打开设置，关闭自动更新"),
        ("zh", "请您登录网上营业厅，下载并安装新版本"),
    ],
)
def test_instruction_to_the_customer_is_a_step(language: str, text: str) -> None:
    assert "next_step" in fired("solve_problem", language, text)


# --- time bound to the step ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "我这边去核实一下，不会超过五分钟"),
        ("zh", "我给您升级处理，专员会在24h之内给您回电"),
    ],
)
def test_bounded_time_of_the_step_is_a_time_frame(language: str, text: str) -> None:
    assert "time_frame" in fired("solve_problem", language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "请您稍等两三分钟"),  # the customer's wait, no step
        ("en", "Please try again later."),  # the customer's action
    ],
)
def test_customer_wait_is_no_time_frame(language: str, text: str) -> None:
    assert "time_frame" not in fired("solve_problem", language, text)


# --- closing thanks after a suggestion ---------------------------------------------------------


def test_bare_thanks_ending_a_suggestion_is_no_closing() -> None:
    kinds = {k for k, _ in _closing("en", "You are suggested to restart the router. Thank you!")}
    assert "closing_thanks" not in kinds


# --- excuses -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Owing to the heavy rain, the delivery is late."),
        ("en", "It takes time to build new towers in your area."),
        ("zh", "网络建设受到很多因素影响，信号暂时不好"),
    ],
)
def test_cause_given_for_the_failure_is_an_excuse(language: str, text: str) -> None:
    assert "excuse" in fired("no_excuses", language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "If it's because of the update, we will fix it in the next version."),
        ("zh", "如果是因为系统原因，我们会尽快修复"),
    ],
)
def test_conditional_cause_is_no_excuse(language: str, text: str) -> None:
    assert "excuse" not in fired("no_excuses", language, text)


# --- acknowledgement and paraphrase --------------------------------------------------------------


def test_persona_taking_notice_is_an_acknowledgement() -> None:
    assert "ack_phrase" in fired("acknowledge", "en", "Hello! Xiao Li has taken notice of it.")


def test_question_about_what_the_customer_meant_is_no_paraphrase() -> None:
    assert "paraphrase" not in fired("paraphrase", "zh", "请问您说的是什么型号的手机呢？")


def test_reported_problem_read_back_is_a_paraphrase() -> None:
    kinds = fired(
        "paraphrase",
        "en",
        "You reported that the signal at your home is weak. Is that true?",
        customer="The signal at my home is weak",
    )
    assert "paraphrase" in kinds
