"""Paraphrase, times and hand-offs to staff, eighth round (issue 13).

Sentences written from PRACTICES.md and the labelling guideline (bench/labels/README.md) after
the dev errors of the eighth round, not copied from any evaluation data: a restatement in the
second person written 你 as well as 您, a restatement without a question tag that repeats the
customer's words at length, a wait with its length stated (您稍等3-5分钟) and a step due after a
stated while (5分钟后再联系), advice to try again later (the customer's time), the agent handing the
matter to staff (小沃会…交由…). Each case keeps the meaning: a negation stays, the customer's
words stay the customer's.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired

# --- paraphrase: restating the customer's problem -----------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "你的意思是快递到现在还没有送到",
        "你是说已经扣了两次钱",
        "也就是说你昨天就已经申请过了",
        "您所反映的是宽带晚上经常断线的问题",
    ],
)
def test_second_person_restatement_is_a_paraphrase(text: str) -> None:
    assert "paraphrase" in fired("paraphrase", "zh", text, customer="我这快递一直没有送到")


def test_restatement_echoing_the_customer_without_a_tag_is_a_paraphrase() -> None:
    kinds = fired(
        "paraphrase",
        "zh",
        "就是您中午点的那份米线汤已经洒了一半",
        customer="我中午点的米线送到的时候汤已经洒了一半",
    )
    assert "paraphrase" in kinds


@pytest.mark.parametrize(
    ("text", "customer"),
    [
        # the cue goes on to explain the agent's own matter: little of the customer's words
        ("就是您这边需要先在订单页面提交申请", "我中午点的米线送到的时候汤已经洒了一半"),
        # a request to repeat stays none
        ("你是说什么我没有听清", "我中午点的米线送到的时候汤已经洒了一半"),
    ],
)
def test_cue_without_the_customers_words_or_a_repeat_request_is_no_paraphrase(
    text: str, customer: str
) -> None:
    assert "paraphrase" not in fired("paraphrase", "zh", text, customer=customer)


# --- time frame: a stated wait or delay for the agent's step ----------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "小美这边联系商家协商处理 您稍等3-5分钟",
        "商家暂时没有接听，小美10分钟后再次联系商家",
        "我们会在一周内给您回电",
    ],
)
def test_stated_wait_or_delay_for_the_agents_step_is_a_time_frame(text: str) -> None:
    assert "time_frame" in fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "目前排队的人比较多，建议您稍后再拨打热线",  # the customer's own retry, no time stated
        "我帮您联系商家，请您稍等一下",  # a wait with no length
        "您可以登录网厅查询六个月内的详单",  # a range of records, not when a step happens
    ],
)
def test_customers_retry_or_unstated_wait_is_no_time_frame(text: str) -> None:
    assert "time_frame" not in fired("solve_problem", "zh", text)


# --- commitment: the agent hands the matter to staff ----------------------------------------------


def test_agent_handing_the_matter_to_staff_is_a_commitment() -> None:
    kinds = fired("solve_problem", "zh", "请您私信提供号码,小沃会在收到后尽快交由相关工作人员")
    assert {"commitment", "next_step"} <= kinds


def test_handing_over_negated_is_no_commitment() -> None:
    assert "commitment" not in fired("solve_problem", "zh", "小沃不会交由工作人员核查")
