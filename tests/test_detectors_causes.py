"""Excuses and blame shift said in other words (issue 13 item 5, fifteenth round).

Sentences written from PRACTICES.md (理由少一点, 不推诿) and the labelling guideline
(bench/labels/README.md), after reading agent lines of the ``tune`` dialogues that the detectors
missed; none is copied from the evaluation data. A cause given for a refusal or a shortfall (由于…
无法, busy lines, a server upgrade, "since … we can't") is an excuse; sending the customer to deal
with the merchant alone is blame shift. Next to each, a look-alike that must not fire: a cause of
something that is no shortfall, an instruction to upgrade, a condition on the customer's side.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired
from tests.test_detectors_text import A, C, call, run

# --- excuse: a cause that defends a refusal or a shortfall --------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "由于系统正在调整，目前无法为这个号码办理过户"),
        ("zh", "由于目前业务繁忙，回复会慢一些，请您耐心等待"),
        ("zh", "商家电话一直未接通，小美暂时无法为您退款"),
        ("zh", "您好，这个是兼容性问题，和您装的应用有关系"),
        ("zh", "由于人手有限，论坛的帖子没办法一一回复"),
        ("en", "Since the server is being upgraded, we cannot check your order right now."),
        ("en", "As you did not provide the order number, we cannot verify it for you."),
        ("en", "The call success rate drops when the line is busy at the start of the month."),
    ],
)
def test_cause_given_for_a_refusal_or_a_shortfall_is_an_excuse(language: str, text: str) -> None:
    assert "excuse" in fired("no_excuses", language, text)


@pytest.mark.parametrize(
    "text",
    [
        # the cause first, the refusal or the consequence after it
        "系统里还有一笔正在办理的业务，故无法再申请其他业务",
        "由于受货源影响，发货时间可能会有所延迟",
        "新线路正在调试，信号优化还需要一定的时间",
        "可能是系统繁忙导致您无法登录，请稍后再试",
        "因为材料批次不同，颜色难免会有细微差别",
    ],
)
def test_cause_before_a_refusal_or_a_consequence_is_an_excuse(text: str) -> None:
    assert "excuse" in fired("no_excuses", "zh", text)


def test_purpose_of_a_service_is_no_excuse() -> None:
    """为避免… names what a service prevents, not a cause of the customer's shortfall."""
    text = "为避免因话务拥塞导致您漏接来电，我们为您提供来电提醒业务"
    assert "excuse" not in fired("no_excuses", "zh", text)


def test_a_line_that_cannot_be_reached_is_a_complaint_the_excuse_answers() -> None:
    """A customer saying the line could not be reached (无法接通) complains; a cause given in
    answer is an excuse, though the customer's angry words come only later."""
    report = call(
        "zh",
        (C, 0.0, 3.0, "我打了三次10010，人工服务一直无法接通"),
        (A, 3.5, 8.0, "月初话务繁忙时，接通率会有所降低，建议您换个时间再拨打"),
        (C, 8.5, 10.0, "这么点事还要我再跑一趟，太过分了"),
    )
    kinds = {f.kind for f in run("no_excuses", report).findings if f.turn_index == 1}
    assert "excuse" in kinds


@pytest.mark.parametrize(
    ("language", "text"),
    [
        # the cause of something that is no shortfall (the guideline's own example)
        ("zh", "由于您在3分钟内没有回应，系统已经结束了对话"),
        # an instruction to upgrade, not a cause
        ("zh", "建议您进入设置点击系统升级，再试一下"),
        ("zh", "请您确认一下是否存在兼容性问题"),
        # a condition on the customer's side, and the agent's step
        ("en", "If the app still cannot open, please reinstall it and try again."),
        ("en", "We will upgrade the server tonight to make the app faster."),
    ],
)
def test_cause_of_no_shortfall_or_an_instruction_is_no_excuse(language: str, text: str) -> None:
    assert "excuse" not in fired("no_excuses", language, text)


# --- blame shift: the customer sent to the merchant alone ---------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "退款的话我这边只能建议您与商家联系沟通",
        "我们只是您和商家之间的一个网络交易场所",
        "补偿的话我只能给到您商家电话，您亲自联系一下",
    ],
)
def test_sending_the_customer_to_the_merchant_alone_is_blame_shift(text: str) -> None:
    assert "blame_shift" in fired("no_blame_shift", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "小美这边马上帮您联系商家核实处理",
        "商家的问题小美会如实记录，反馈给监管部门处理",
    ],
)
def test_contacting_the_merchant_for_the_customer_is_no_blame_shift(text: str) -> None:
    assert "blame_shift" not in fired("no_blame_shift", "zh", text)
