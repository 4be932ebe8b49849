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
from tests.test_detectors_text import A, C, call, faults, run


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


# --- a QA read of scored Mandarin phone calls after the round ------------------------------


def test_putting_oneself_in_the_customers_place_with_de_hua_is_empathy() -> None:
    text = "这个呃如果是我的话我肯定也会很崩溃的女士，都吃完了才看见"
    assert "empathy" in fired("empathy", "zh", text, customer="已经很崩溃了你懂吗")


def test_no_longer_disturbing_the_customer_takes_leave() -> None:
    last = "嗯好的非常感谢您的理解那我这边就不再打扰您了"
    assert 1 in _closing("zh", last).get("closing_farewell", set())


def test_the_closing_coaching_quotes_the_goodbye_not_a_trailing_hum() -> None:
    report = call(
        "zh",
        (C, 0.0, 2.0, "嗯好的"),
        (A, 2.5, 6.0, "行好的先不打扰您了祝您生活愉快请您先挂机再见"),
        (C, 6.5, 7.0, "嗯对"),
        (A, 7.5, 8.0, "嗯"),
    )
    (f,) = faults(run("closing", report))
    assert f.kind == "closing_incomplete"
    assert f.turn_index == 1 and "祝您生活愉快" in f.quote


def test_the_closing_coaching_never_quotes_the_chat_systems_end_message() -> None:
    report = call(
        "zh",
        (C, 0.0, 2.0, "那一份白菜，因为只有那个有石头"),
        (A, 2.5, 5.0, "好的，小美这边去联系商家核实协商一下哦"),
        (
            A,
            185.0,
            190.0,
            "亲亲，由于您在3分钟内没有任何回应，系统已经自动结束对话了。如仍需帮助可再次发起会话，"
            "麻烦对小美的服务进行评价哦，谢谢您~",
        ),
    )
    (f,) = faults(run("closing", report))
    assert f.kind == "closing_incomplete"
    assert f.turn_index == 1 and "系统" not in f.quote


@pytest.mark.parametrize(
    ("text", "excused"),
    [
        # a rule named as the reason the customer's request fails
        ("We are sorry for your inconvenience. Every campaign has its rules.", True),
        ("Hi, there were order rules when you placed the order. Please have a look.", True),
        # no rule named: no reason given
        ("We will send you the new card tomorrow.", False),
    ],
)
def test_a_rule_of_the_campaign_is_a_reason(text: str, excused: bool) -> None:
    assert ("excuse" in fired("no_excuses", "en", text)) is excused


def test_trying_hard_on_the_customers_matter_is_a_commitment() -> None:
    text = "Dear, please forgive us. We are trying hard~"
    assert "commitment" in fired("solve_problem", "en", text)


@pytest.mark.parametrize(
    "text",
    [
        "您好！遇到骚扰电话确实挺令人烦恼，您的担忧小U非常理解。",
        "您好！遇到垃圾短信确实挺令人烦恼，建议您向网站举报。",
    ],
)
def test_naming_the_customers_worry_or_annoyance_is_empathy(text: str) -> None:
    assert "empathy" in fired("empathy", "zh", text, customer="天天有骚扰电话，烦死了")
