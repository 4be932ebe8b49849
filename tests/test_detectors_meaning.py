"""Phrase detectors reading what a phrase does in its clause and its place in the contact.

A step asked about is no step; a step that waits on the customer's request is a step, not the
agent's commitment; handling "in general" is a commitment without a step; the customer's own
past action repeated back is no step; a look-up's result is a step whose time is no promise. A
greeting heading a reply to the customer's matter opens nothing, a hand-off opens again; the
closing comes after the customer's last matter; a confirming question may echo a detail the
customer gave in pieces.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired
from tests.test_detectors_text import A, C, call, run


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "请问工作人员是否说明什么时候给您处理呢？"),
        ("en", "Did anyone tell you whether they will check it for you?"),
    ],
)
def test_a_step_asked_about_is_neither_step_nor_commitment(language: str, text: str) -> None:
    assert not {"commitment", "next_step"} & fired("solve_problem", language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "请您私信提供联系方式，以便小编为您反馈。"),
        ("en", "Please send us your order number so that we can handle the issue for you."),
    ],
)
def test_a_step_waiting_on_a_request_is_no_commitment(language: str, text: str) -> None:
    kinds = fired("solve_problem", language, text)
    assert "next_step" in kinds
    assert "commitment" not in kinds


@pytest.mark.parametrize(
    ("language", "text"),
    [("zh", "您别着急，小美来帮您处理"), ("en", "We will handle it for you.")],
)
def test_handling_in_general_is_a_commitment_without_a_step(language: str, text: str) -> None:
    kinds = fired("solve_problem", language, text)
    assert "commitment" in kinds
    assert "next_step" not in kinds


def test_the_customers_own_past_action_is_no_step() -> None:
    kinds = fired("solve_problem", "zh", "就是说您这边已经申请理赔成功了是吧")
    assert "next_step" not in kinds
    # the same words offered to the customer are a step
    assert "next_step" in fired("solve_problem", "zh", "您可以先申请理赔，我们会跟进")


def test_advice_for_the_future_is_no_step() -> None:
    assert "next_step" not in fired("solve_problem", "zh", "建议您以后注意不要在关机时按这两个键")


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "经核实，您今天一共有三笔缴费记录"),
        ("en", "Okay, your checking account balance is eighty nine dollars."),
    ],
)
def test_a_look_ups_result_is_a_step_and_its_time_no_promise(language: str, text: str) -> None:
    kinds = fired("solve_problem", language, text)
    assert "next_step" in kinds
    assert "time_frame" not in kinds


def test_an_outcome_with_its_time_is_a_step() -> None:
    kinds = fired("solve_problem", "zh", "理赔会在1-3个工作日到您的余额里")
    assert {"next_step", "time_frame"} <= kinds


# --- greeting -------------------------------------------------------------------------------


def _greeting_turns(report) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for f in run("greeting", report).findings:
        out.setdefault(f.kind, set()).add(f.turn_index)
    return out


def test_a_hello_heading_the_reply_to_a_posted_complaint_opens_nothing() -> None:
    report = call(
        "en",
        (C, 0.0, 8.0, "My photos were deleted on the phone and the cloud did not keep them."),
        (A, 8.5, 11.0, "Hello! Did you upload them to the cloud before?"),
        (C, 11.5, 13.0, "Yes I did."),
        (A, 13.5, 16.0, "Hello! Please open the album and restore them there."),
    )
    assert _greeting_turns(report)["greeting_hello"] == {1}


def test_every_opening_turn_shows_what_it_holds() -> None:
    report = call(
        "en",
        (A, 0.0, 3.0, "Hello, this is Anna, how can I help you?"),
        (C, 3.5, 6.0, "hi I need a new checkbook"),
        (A, 6.5, 9.0, "Sure, I'd be happy to help you with that."),
    )
    assert _greeting_turns(report)["greeting_offer"] == {0, 2}


def test_a_hand_off_to_a_human_agent_opens_again() -> None:
    report = call(
        "zh",
        (A, 0.0, 3.0, "Hi~请问您是遇到以下问题吗？"),
        (C, 3.5, 5.0, "菜品质量问题"),
        (A, 5.5, 8.0, "很抱歉给您带来不好的体验，正在为您转接人工客服"),
        (C, 8.5, 9.0, "好"),
        (A, 9.5, 13.0, "您好，我是本次为您服务的客服小李，很高兴为您服务"),
    )
    turns = _greeting_turns(report)
    assert 4 in turns["greeting_name"]
    assert 4 in turns["greeting_offer"]
    # an agent who never greeted gets no credit for a late introduction
    late = call(
        "zh",
        (A, 0.0, 1.0, "嗯"),
        (C, 1.5, 2.0, "喂"),
        (A, 2.5, 3.0, "说"),
        (C, 3.5, 4.0, "订单"),
        (A, 4.5, 8.0, "您好，我是客服小李，很高兴为您服务"),
    )
    assert run("greeting", late).score == 0.0


# --- closing and paraphrase -----------------------------------------------------------------


def test_an_invitation_the_customer_answered_with_a_new_matter_is_no_closing() -> None:
    report = call(
        "zh",
        (C, 0.0, 3.0, "你们的服务太差了"),
        (A, 3.5, 8.0, "很抱歉，我们会改进服务，今后若有问题，欢迎您随时联系我们"),
        (C, 8.5, 14.0, "怎么个改进法？把那些乱七八糟的加盟店都撤了才是第一步吧"),
        (A, 14.5, 18.0, "您的建议我们已经记录并反馈给相关部门，感谢您的支持"),
    )
    kinds = {(f.kind, f.turn_index) for f in run("closing", report).findings}
    assert ("closing_invite", 1) not in kinds
    assert ("closing_thanks", 3) in kinds


def test_a_confirming_question_echoes_a_detail_given_in_pieces() -> None:
    report = call(
        "zh",
        (A, 0.0, 2.0, "请问您的宽带账号是多少"),
        (C, 2.5, 4.0, "呃，YD幺五幺"),
        (A, 4.5, 5.0, "嗯"),
        (C, 5.5, 7.0, "四六六二零五"),
        (A, 7.5, 10.0, "YD151466205对吗"),
    )
    kinds = {(f.kind, f.turn_index) for f in run("paraphrase", report).findings}
    assert ("paraphrase", 4) in kinds


def _handed_off(*after: tuple) -> dict[str, set[int]]:
    """Greeting elements per turn of a chat handed from the bot to a human agent at turn 4."""
    return _greeting_turns(
        call(
            "zh",
            (A, 0.0, 3.0, "Hi~请问您是遇到以下问题吗？"),
            (C, 3.5, 5.0, "菜品质量问题"),
            (A, 5.5, 8.0, "很抱歉给您带来不好的体验，正在为您转接人工客服"),
            (C, 8.5, 9.0, "好"),
            (A, 9.5, 11.0, "您好，我是本次为您服务的客服小李_1502"),
            (A, 11.5, 12.5, "请您稍等，我查看一下您之前反馈的信息"),
            *after,
        )
    )


def test_a_chat_agents_greeting_burst_opens_while_the_customer_only_calls() -> None:
    turns = _handed_off(
        (C, 13.0, 13.5, "在吗"),
        (A, 14.0, 16.0, "您好亲亲，请问有什么可以帮您的吗？"),
    )
    assert 7 in turns.get("greeting_hello", set()) & turns.get("greeting_offer", set())


def test_a_greeting_after_the_customer_told_the_matter_opens_nothing() -> None:
    turns = _handed_off(
        (C, 13.0, 15.0, "我点的外卖里面有头发，我要退款"),
        (A, 15.5, 17.0, "您好亲亲，请问有什么可以帮您的吗？"),
    )
    assert 7 not in turns.get("greeting_hello", set()) | turns.get("greeting_offer", set())
