"""Thirty-sixth round (issue 13 item 5), from the twenty-first batch of dev labels (restatements,
choices and times, and a uniform part in both languages): a hotline to dial is no staff number,
the 稍后 of a notice (the rating message, the app's progress page) is no time for a step,
了解到您的问题 acknowledges, 请问是有什么疑问 offers help, and (from a QA read of a scored call)
还有其他…帮到您 invites; in English "please stay calm" answers back, a "(Commissioner …)"
signature names the agent, "thank you for supporting …" thanks, and a choice of two steps may
join them with a gerund ("or going to the business hall") or across a semicolon ("…; or you can
log on our website"). An arguing phrase the agent
says back from the customer's last turn (那不可能 after the customer's 不可能就警告) is shown to
the QA lead, not charged; a stance on the company's own conduct (绝对不会姑息纵容) is no
over-promise; and a turn that says one fault in several listed phrases is charged once.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from calmline.monitor.types import Severity
from tests.test_detectors_eleventh_batch import _closing
from tests.test_detectors_recall import fired
from tests.test_detectors_text import RUBRICS, A, C, call, opening_kinds, run
from tests.test_detectors_twelfth_batch import _retorts


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("您好，如果还有疑问，您可以拨打当地10000号客服咨询", False),
        ("您好，欢迎致电，有问题请致电10010号客服", False),
        ("您好，1023号客服为您服务", True),
        ("您好不好意思打扰您了1023号客服为您服务", True),
        ("您好，我是工号2046的客服，很高兴为您服务", True),
    ],
)
def test_a_number_to_dial_before_hao_kefu_is_no_staff_number(text: str, named: bool) -> None:
    assert ("greeting_name" in opening_kinds("zh", text, "我想问一下话费")) is named


@pytest.mark.parametrize(
    ("text", "timed"),
    [
        ("小美一定积极协助您处理，稍后您会收到美团发送的评价短信链接，请您做个评价", False),
        ("小美已经帮您提交了退款，稍后您会收到一条短信评价，辛苦您评价一下", False),
        ("小美已经帮您联系商家了，稍后给您回电", True),
        ("小美一定积极协助您处理~APP上线了服务进度功能，稍后通过短信给您发送查询路径", False),
        (
            "这边帮您升级到专员处理，稍后通过短信给您发送查询路径。小美为您备注下。"
            "24小时之内给您回电。您看可以吗？",
            True,
        ),
    ],
)
def test_the_time_of_a_notice_is_no_time_for_the_step(text: str, timed: bool) -> None:
    assert ("time_frame" in fired("solve_problem", "zh", text)) is timed


def test_understanding_the_customers_problem_acknowledges() -> None:
    assert "ack_phrase" in fired("acknowledge", "zh", "您好，了解到您这边的一个问题，我帮您看一下")
    assert "ack_phrase" not in fired("acknowledge", "zh", "您好，我帮您看一下这个问题")


def test_asking_what_the_question_is_offers_help() -> None:
    assert "greeting_offer" in opening_kinds("zh", "您好，请问是有什么疑问呢？", "流量不对")
    assert "greeting_offer" not in opening_kinds("zh", "您好，请问您是哪天办理的？", "上个月")


@pytest.mark.parametrize(
    ("agent", "retorts"),
    [
        ("We have no reports from other users. Please stay calm.", ["calm down"]),
        ("We will stay in touch while the engineers check it.", []),
    ],
)
def test_please_stay_calm_answers_back(agent: str, retorts: list[str]) -> None:
    assert _retorts(agent) == retorts


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Hello! You can restart the app to update it. (Commissioner Lina)", True),
        ("Hello! You can ask our commissioner about it.", False),
    ],
)
def test_a_commissioner_signature_names_the_agent(text: str, named: bool) -> None:
    assert ("greeting_name" in opening_kinds("en", text, "It crashes.")) is named


@pytest.mark.parametrize(
    "last",
    [
        "好的好的先生那这边还有其他能帮您的吗",
        "亲亲，请问小美还有其他为您服务的吗？",
        "那您看这边还有什么其他可以帮助到您的吗",
    ],
)
def test_asking_whether_there_is_anything_else_to_help_with_invites(last: str) -> None:
    assert 1 in _closing("zh", last).get("closing_invite", set())


def test_thanks_for_supporting_the_company_close_the_last_reply() -> None:
    last = (
        "Please send us your order number via private message so that we can check it. "
        "Thank you for supporting our store!"
    )
    assert 1 in _closing("en", last).get("closing_thanks", set())


@pytest.mark.parametrize(
    ("customer", "charged"),
    [
        ("检查了也不就那不可能就只给个警告", False),
        ("你们为什么到现在都不给我退款", True),
    ],
)
def test_an_arguing_phrase_said_back_from_the_customer_is_shown_not_charged(
    customer: str, charged: bool
) -> None:
    outcome = run("no_arguing", call("zh", (C, 0.0, 3.0, customer), (A, 3.5, 5.0, "那不可能")))
    (finding,) = outcome.findings
    assert finding.kind == "arguing"
    assert (finding.severity is Severity.MAJOR) is charged
    assert (outcome.score < 100.0) is charged
    assert ("repeats the customer's words" in finding.detail) is not charged


@pytest.mark.parametrize(
    ("text", "offered"),
    [
        ("I suggest you calling the hotline or going to the business hall to change it.", True),
        (
            "We suggest you call the store before going there; or you can log on our website "
            "and file the request.",
            True,
        ),
        ("We suggest you call the store before going there; we will check the stock too.", False),
    ],
)
def test_a_second_step_after_a_gerund_or_a_semicolon_offers_a_choice(
    text: str, offered: bool
) -> None:
    assert ("options" in fired("options", "en", text)) is offered


@pytest.mark.parametrize(
    ("text", "promised"),
    [
        ("商家问题是我们的底线，是绝对不会姑息纵容的", False),
        ("小美会反馈到相关部门处罚，绝对不会偏袒任何一个商家", False),
        ("您放心女士这笔钱绝对不会跑的", True),
        ("您放心，以后绝对不会再出现这种问题了", True),
    ],
)
def test_a_stance_on_the_companys_conduct_is_no_over_promise(text: str, promised: bool) -> None:
    assert ("overpromise" in fired("no_overpromise", "zh", text)) is promised


def test_one_turn_that_shifts_blame_in_three_phrases_is_charged_once() -> None:
    agent = "我们只是您和商家的一个网络交易场所，商家才是实际的销售者和责任方，建议您与商家联系沟通"
    report = call("zh", (C, 0.0, 3.0, "饭里有虫子，你们平台怎么管的"), (A, 3.5, 9.0, agent))
    outcome = run("no_blame_shift", report)
    (finding,) = [f for f in outcome.findings if f.severity is Severity.MAJOR]
    assert finding.detail.count("also '") >= 1
    penalty = RUBRICS["zh"].practices["no_blame_shift"].threshold("per_finding_penalty", 30.0)
    assert outcome.score == pytest.approx(100.0 - penalty * finding.weight)
