"""Twentieth round of steps and times (issue 13 item 5): the time a step takes, said as the answer
to the customer's "how long?"; a specialist's call back said as 与您来电; a chat persona speaking
of itself in English ("Youyou will feed back your issue"); a team leader's or the service
staff's step; a promise followed by a clause that says no more is needed (无需再次进线); a call,
a question or a complaint made on the customer's behalf (帮您拨打, 帮您问一下, 帮您做个投诉);
analysing or testing the fault ("we will help you analyze it").

The labelling guideline (bench/labels/README.md, ``solve_problem:time_frame``) counts "when a
step or an answer will happen". On a call the customer often asks 多长时间 / "how long will it
take?" and the agent answers with the while alone (四个小时内的先生); that while is the step's
time. A time that repeats the customer's to check it (一天是吧), or names no while (当天), is
none. Sentences written from the guideline after reading lines of the ``tune`` dialogues; none is
copied from the evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired
from tests.test_detectors_text import A, C, call, run


def _answer(language: str, question: str, answer: str) -> set:
    report = call(
        language,
        (C, 0.0, 3.0, "我的理赔申请一直没有结果" if language == "zh" else "my refund never came"),
        (A, 3.5, 7.0, "这边帮您催促一下" if language == "zh" else "I will chase it for you."),
        (C, 7.5, 9.0, question),
        (A, 9.5, 12.0, answer),
    )
    return {f.kind for f in run("solve_problem", report).findings if f.turn_index == 3}


@pytest.mark.parametrize(
    ("language", "question", "answer"),
    [
        ("zh", "需要多长时间", "四个小时内的先生"),
        ("zh", "还要等多久", "1-3个工作日，亲亲"),
        ("zh", "什么时候能有结果", "一般是四十八小时之内先生"),
        ("en", "How long will it take?", "It takes about five business days."),
    ],
)
def test_a_while_answering_how_long_is_a_time_frame(
    language: str, question: str, answer: str
) -> None:
    assert "time_frame" in _answer(language, question, answer)


@pytest.mark.parametrize(
    ("language", "question", "answer"),
    [
        ("zh", "你们什么时候联系过我", "记录显示从当天晚上就联系过您"),
        ("zh", "要多久", "四个小时是吗"),
        ("zh", "我的订单呢", "四个小时内的先生"),
        ("en", "When did you call me?", "We called you yesterday."),
    ],
)
def test_a_time_without_a_while_a_question_or_no_when_asked_is_none(
    language: str, question: str, answer: str
) -> None:
    assert "time_frame" not in _answer(language, question, answer)


@pytest.mark.parametrize("text", ["专员会在24小时内与您来电", "我等理赔结束给您回个电话"])
def test_a_call_back_said_as_lai_dian_is_a_step(text: str) -> None:
    assert "next_step" in fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "Youyou will feed back your issue to the ticket team.",
        "Jingnier will help you submit this problem.",
        "Xiaomei has recorded your order number.",
    ],
)
def test_a_chat_persona_speaking_of_itself_is_the_agent(text: str) -> None:
    assert {"commitment", "next_step"} <= fired("solve_problem", "en", text)


@pytest.mark.parametrize(
    "text",
    [
        "The team leader will communicate with you through private messages.",
        "We checked, and our customer service staff has recorded your return request.",
    ],
)
def test_a_team_leader_or_the_service_staff_taking_a_step_is_no_agent_commitment(text: str) -> None:
    kinds = fired("solve_problem", "en", text)
    assert "next_step" in kinds
    assert "commitment" not in kinds


def test_looking_it_up_for_the_customer_is_a_step() -> None:
    assert "next_step" in fired("solve_problem", "en", "Xiaomei will help you inquire about it.")


@pytest.mark.parametrize(
    "text",
    [
        # the clause after the promise (无需再次进线) denies nothing of it
        "您保持一下电话畅通，我们会尽快主动回访，无需再次进线",
        "这个情况我会帮您进行投诉，后期会有工作人员核对",
        "请您私信提供一下以上信息，我们会为您分析判断",
    ],
)
def test_a_promise_followed_by_a_no_need_or_said_as_filing_or_analysing(text: str) -> None:
    assert "commitment" in fired("solve_problem", "zh", text)


def test_a_negation_in_the_promises_own_clause_still_denies_it() -> None:
    assert "commitment" not in fired("solve_problem", "zh", "我们会尽快回访不了，请您谅解")


@pytest.mark.parametrize(
    "text",
    [
        "您稍等，我再去帮您拨打一下商家电话",
        "您在线稍等，我帮您问一下商家老板",
        "针对这个店铺我去帮您做个投诉好吧",
    ],
)
def test_calling_asking_or_complaining_on_the_customers_behalf_is_a_step(text: str) -> None:
    assert "next_step" in fired("solve_problem", "zh", text)


def test_a_pledge_to_answer_questions_later_is_no_step() -> None:
    text = "如果您以后遇到问题，欢迎您随时私信小沃，小沃将竭诚为您解答的"
    assert "next_step" not in fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text",
    ["Please send us the screenshot and we will help you analyze it.", "We will detect the fault."],
)
def test_analysing_or_testing_the_fault_is_a_step(text: str) -> None:
    assert "next_step" in fired("solve_problem", "en", text)
