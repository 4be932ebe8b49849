"""Compensation offered or obtained, a specialist's follow-up, a matter accepted, and a stated
while between the agent and their promise, in Mandarin (issue 13 item 5, nineteenth round).

The labelling guideline (bench/labels/README.md) counts a concrete step for the customer's
matter as a next step: compensation the agent offers or has obtained (赔付您一张十元红包, 帮您申
请到了一个补偿), a specialist who will call back or is already handling it (专员会回访您, 已经有专
员在处理), a complaint the agent says is accepted (已经受理). Someone else's step is no
commitment of the agent. A time said between the agent and the promise (我们在24小时内会联系您)
belongs to the promise. Sentences written from the guideline after reading lines of the ``tune``
dialogues; none is copied from the evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired


@pytest.mark.parametrize(
    "text",
    [
        "这边赔付您一张十元的红包，您看可以吗",
        "这边申请到了一个五元的补偿红包",
        "跟主管沟通后争取到了一张二十元的代金券",
        "商家同意退一赔一，您看可以吗",
        "您的投诉这边已经受理了，请耐心等待结果",
    ],
)
def test_compensation_offered_or_obtained_and_a_matter_accepted_are_steps(text: str) -> None:
    assert "next_step" in fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text", ["稍后专员会电话回访您", "您这个订单已经有专员在处理了", "专员正在跟进您的问题"]
)
def test_a_specialists_follow_up_is_a_step_not_the_agents_commitment(text: str) -> None:
    kinds = fired("solve_problem", "zh", text)
    assert "next_step" in kinds
    assert "commitment" not in kinds


def test_the_compensation_paid_in_a_stated_time_is_a_time_frame() -> None:
    kinds = fired("solve_problem", "zh", "赔付您的红包三个工作日内赔付到钱包里")
    assert {"next_step", "time_frame"} <= kinds


@pytest.mark.parametrize(
    "text",
    [
        "我们在24小时内会联系您",
        "小美1-3个工作日内将回复您处理结果",
        "我半小时之内给您回电",
        "我会在最晚不超过两个小时内以010开头的座机给您回电",
    ],
)
def test_a_stated_while_between_the_agent_and_the_promise_keeps_the_promise(text: str) -> None:
    assert {"commitment", "next_step", "time_frame"} <= fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "商家不同意，这边没能帮您申请到补偿",
        "我们在24小时内不会再联系您",
        "最高可以赔付三千元",
    ],
)
def test_a_refusal_or_a_rule_about_compensation_is_no_step(text: str) -> None:
    kinds = fired("solve_problem", "zh", text)
    assert "next_step" not in kinds
    assert "commitment" not in kinds


def test_the_platform_speaking_of_itself_is_the_agents_side() -> None:
    assert "commitment" in fired("solve_problem", "zh", "咱们平台会来帮您协调处理这个问题")


@pytest.mark.parametrize("text", ["咱们这边是已经申请过理赔了是吗", "咱们反馈的是这个订单对吧"])
def test_the_customer_spoken_of_as_we_is_no_agent(text: str) -> None:
    """咱们 often means the customer (咱们反馈的订单): only 咱们平台 speaks for the agent's side."""
    assert "commitment" not in fired("solve_problem", "zh", text)


def test_a_bound_on_the_time_is_no_negation() -> None:
    """不会超过 bounds the wait (最晚不会超过两小时): the call back is still promised."""
    assert {"next_step", "time_frame"} <= fired("solve_problem", "zh", "最晚不会超过两小时给您回电")
    assert "next_step" not in fired("solve_problem", "zh", "这边不会给您回电")


@pytest.mark.parametrize(
    "text", ["我司会针对服务的不足之处进行改善", "我们会就给您带来的不便进行补偿"]
)
def test_a_shortfall_named_in_the_promise_is_no_negation(text: str) -> None:
    """不足之处 / 不便 name the shortfall the agent will act on; they deny nothing."""
    assert "commitment" in fired("solve_problem", "zh", text)


def test_a_real_negation_in_the_promise_still_denies_it() -> None:
    assert "commitment" not in fired("solve_problem", "zh", "我司不会针对这个问题进行改善")


def test_taking_the_matter_as_ones_own_is_a_commitment() -> None:
    text = "请您放心，我们一定站在您的立场上把这件事当成自己的事情来办"
    assert "commitment" in fired("solve_problem", "zh", text)


@pytest.mark.parametrize("text", ["已私信回复您，请您查收", "您的建议我们已经收录"])
def test_a_reply_sent_or_a_suggestion_recorded_is_a_step_taken(text: str) -> None:
    assert "next_step" in fired("solve_problem", "zh", text)


def test_asking_for_details_by_private_message_is_no_step_taken() -> None:
    """以私信的方式 (by private message) sounds like 已私信 (sent one) and asks, it did nothing."""
    text = "请您将姓名和联系方式以私信的方式提供给我们"
    assert "next_step" not in fired("solve_problem", "zh", text)


def test_a_subjectless_promise_to_handle_it_properly_is_a_commitment() -> None:
    assert "commitment" in fired("solve_problem", "zh", "您的心情我们理解，会为您妥善处理的")
