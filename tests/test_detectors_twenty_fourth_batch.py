"""Thirty-ninth round (issue 13 item 5), from the twenty-fourth batch of dev labels (times,
reasons given, a uniform part): in English a frame verb that is the customer's ("the problem you
reported") or a noun after a determiner ("the issue you fed back": *issue* is no action) is no
undertaking of the agent's; "take care of this business" is no goodbye; a thank-you after a plea
for understanding ("Hope you can understand. Thank you!", 希望您理解，谢谢) closes the reply; a
phone call's 请您先挂机 is no new content after the closing thanks. In Mandarin, sending a
parcel (寄出) and topping up an account (充值) are the agent's steps, the in-app claim path
(放心吃理赔申请) is the customer's step, and the merchant's refusal given as the reason why the
agent cannot refund is an excuse.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_eleventh_batch import _closing, _kinds_at
from tests.test_detectors_recall import fired
from tests.test_detectors_text import A, C, call


@pytest.mark.parametrize(
    ("text", "undertakes"),
    [
        # the customer's doing, or a noun after a determiner: no undertaking
        ("Hello! Xiao Ming has taken notice of the issue you fed back. Is it yours?", False),
        ("We have received the problem you reported. Which model is it?", False),
        # the agent's own doing: an undertaking
        ("We will send you a new card tomorrow.", True),
        ("We have checked the line you asked about and reset it.", True),
    ],
)
def test_the_customers_verb_or_a_noun_is_no_undertaking(text: str, undertakes: bool) -> None:
    assert ("commitment" in fired("solve_problem", "en", text)) is undertakes


@pytest.mark.parametrize(
    ("last", "goodbye"),
    [
        ("We are sorry. We suggest you take care of this business some other day.", False),
        ("You're welcome. Take care!", True),
    ],
)
def test_take_care_of_is_no_goodbye(last: str, goodbye: bool) -> None:
    assert (1 in _closing("en", last).get("closing_farewell", set())) is goodbye


@pytest.mark.parametrize(
    ("language", "last", "thanked"),
    [
        # a plea for understanding asks for nothing: the thanks close the reply
        ("en", "This package is valid for half a year. Hope you can understand. Thank you!", True),
        ("zh", "您好，小沃已经为您催促了，希望您理解，谢谢。", True),
        # a request before the thanks: the thanks are for the favour
        ("en", "Please send us your number by private message. Thank you!", False),
        ("zh", "您好，请您私信提供一下手机号码，谢谢。", False),
    ],
)
def test_thanks_after_a_plea_for_understanding_close(
    language: str, last: str, thanked: bool
) -> None:
    assert (1 in _closing(language, last).get("closing_thanks", set())) is thanked


def test_asking_the_customer_to_hang_up_is_no_new_content() -> None:
    report = call(
        "zh",
        (C, 0.0, 2.0, "嗯可以"),
        (A, 2.5, 8.0, "嗯好的非常感谢您，我稍后会在一小时内给您回电的女士"),
        (C, 8.5, 9.5, "嗯好谢谢啊"),
        (A, 10.0, 14.0, "嗯好的那祝您生活愉快请您先挂机再见"),
    )
    assert 1 in _kinds_at(report, "closing").get("closing_thanks", set())


@pytest.mark.parametrize(
    "text",
    [
        "您好，您的发票已经开具，我们会尽快为您寄出",
        "好的那我稍后直接给您充值到您的卡包里，您注意查收",
    ],
)
def test_sending_and_topping_up_are_the_agents_steps(text: str) -> None:
    kinds = fired("solve_problem", "zh", text)
    assert {"commitment", "next_step"} <= kinds


def test_the_claim_path_is_the_customers_step() -> None:
    text = "放心吃申请路径：点击【我的】-【我的订单】-【放心吃理赔申请】"
    assert "next_step" in fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    ("text", "excused"),
    [
        ("这边商家拒绝退款，小美是无法操作退款的", True),
        ("商家拒绝退款的话这边也是没有办法的", True),
        # the merchant's refusal told as a fact, with the agent's own step: no excuse
        ("商家拒绝了退款申请，小美这边帮您升级专员处理", False),
    ],
)
def test_the_merchants_refusal_as_the_reason_is_an_excuse(text: str, excused: bool) -> None:
    assert ("excuse" in fired("no_excuses", "zh", text)) is excused
