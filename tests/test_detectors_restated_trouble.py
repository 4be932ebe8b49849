"""The customer's trouble restated in the agent's own words, in Mandarin (issue 13 item 5,
nineteenth round).

The labelling guideline (bench/labels/README.md) counts a paraphrase when the agent restates what
the customer said to check it was understood, in any words: 食用后身体不适对吗 after the customer
said they got diarrhoea from the meal. A confirming question that names the trouble
(``problem_words``) and closes on a tag counts once the customer has said something; an agent
who opens the call by reading back the ticket restates nothing the customer said. Sentences
written from the guideline after reading lines of the ``tune`` dialogues; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired
from tests.test_detectors_text import A, C, call, run


@pytest.mark.parametrize(
    ("customer", "agent"),
    [
        ("我吃了你们的外卖一直拉肚子", "食用后身体不适对吗"),
        ("那个老板天天发短信来骂我", "商家对您进行辱骂是吗女士"),
        ("这个鸡肉吃起来一股怪味", "餐品有异味是吧"),
        ("你们给的解决办法我不接受", "您这边是不认可这个方案对吗"),
    ],
)
def test_the_trouble_restated_in_other_words_is_a_paraphrase(customer: str, agent: str) -> None:
    assert "paraphrase" in fired("paraphrase", "zh", agent, customer=customer)


def _opening(agent: str) -> set:
    report = call("zh", (A, 0.0, 3.0, agent), (C, 3.5, 6.0, "对"), (A, 6.5, 9.0, "好的"))
    return {f.kind for f in run("paraphrase", report).findings if f.turn_index == 0}


def test_reading_back_the_ticket_before_the_customer_speaks_is_no_paraphrase() -> None:
    assert "paraphrase" not in _opening("您好美团客服，看到您反馈餐品里面有异物是吗")


@pytest.mark.parametrize(
    "agent",
    [
        # the tag does not close the clause: it asks whether, then goes on
        "有异物是吗您拍照了没有",
        # a confirming question that names no trouble
        "您是昨天晚上下的单是吗",
    ],
)
def test_an_open_tag_or_no_trouble_named_is_no_paraphrase(agent: str) -> None:
    assert "paraphrase" not in fired("paraphrase", "zh", agent, customer="我昨晚点的外卖有问题")
