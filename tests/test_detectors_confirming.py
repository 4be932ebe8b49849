"""Confirming what the customer meant, in the words written replies use (issue 13 item 5).

The guideline (bench/labels/README.md, ``paraphrase``) credits a confirming question that
restates the problem (您是说…对吗, "do you mean it stops?"). Written replies ask it as 是指…吗
(亲是指手机没有信号吗) or "did you refer to …", and put the tag after a comma (…手机信号不好，
对吗？), where the clause before the comma is what is being confirmed. Asking what the customer
means (您是指什么套餐呢) restates nothing, and 是不是 opening a clause asks whether. Sentences
written for these tests after reading the STC-3 replies whose Chinese and English versions
disagreed on the paraphrase.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired


@pytest.mark.parametrize(
    ("language", "customer", "agent"),
    [
        (
            "zh",
            "信号问题反映了一个季度了，回老家信号还是很差",
            "请问您是反映老家那边手机信号不好，对吗？",
        ),
        ("zh", "手机怎么又上不了网了，气死了", "您好，请问您现在手机不能正常上网使用，是吗？"),
        ("zh", "手机一点都不能用了", "真的十分抱歉，亲是指手机没有信号吗？"),
        ("zh", "字体突然变得好大", "您说的字体变大是指QQ的字体变大吗？其他软件有没有变化呢"),
        (
            "en",
            "Why is my bill so high this month?",
            "Hello! Did you refer to the detailed call list?",
        ),
    ],
)
def test_a_confirming_question_restating_the_problem_is_a_paraphrase(
    language: str, customer: str, agent: str
) -> None:
    assert "paraphrase" in fired("paraphrase", language, agent, customer=customer)


@pytest.mark.parametrize(
    ("language", "customer", "agent"),
    [
        ("zh", "你们的套餐太坑了", "您好，请问您是指什么套餐呢？"),
        (
            "zh",
            "我在系统语言设置里按ctrl+句号就乱了",
            "您看看您的系统语言设置里，是不是设置了这个快捷键？",
        ),
    ],
)
def test_asking_what_is_meant_or_whether_is_no_paraphrase(
    language: str, customer: str, agent: str
) -> None:
    assert "paraphrase" not in fired("paraphrase", language, agent, customer=customer)


@pytest.mark.parametrize(
    ("customer", "agent"),
    [
        # restating what the customer said earlier in the call, in the agent's words
        ("我就是怕吃坏肚子", "您刚才也表示担心这个餐品变质对吧"),
        ("后台监管那个食品卫生可以投诉吗", "就是您说的意思是您在这家店吃到了不太好的东西对吗"),
    ],
)
def test_what_the_customer_said_restated_by_the_agent_is_a_paraphrase(
    customer: str, agent: str
) -> None:
    assert "paraphrase" in fired("paraphrase", "zh", agent, customer=customer)
