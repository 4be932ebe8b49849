"""Thirty-first round (issue 13 item 5), from the fifteenth batch of dev labels (a second uniform
draw in both languages): a chat agent's 亲亲好 greets, 您可以先描述问题 asks for the matter,
请您见谅 regrets; "we will keep you posted" is a step as well as a commitment. A Weibo reply
asking the customer to describe the problem in detail is information gathering, not an offer (as
the labels of zh0087 and zh0748 have it).

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

from tests.test_detectors_recall import fired
from tests.test_detectors_text import opening_kinds


def _opening(agent: str) -> set[str]:
    return opening_kinds("zh", agent, "我的外卖洒了")


def test_a_chat_agents_greeting_and_invitation_to_describe_open_the_chat() -> None:
    kinds = _opening("亲亲好，小丽是人工客服，回复会慢一点请您见谅~您可以先描述问题哦")
    assert {"greeting_hello", "greeting_offer"} <= kinds


def test_asking_for_details_is_no_offer() -> None:
    kinds = _opening("您好,请您详细描述一下您的问题以及具体操作步骤.")
    assert "greeting_hello" in kinds and "greeting_offer" not in kinds


def test_asking_forgiveness_for_bad_news_is_an_apology() -> None:
    text = "目前流量包暂时是不能转到下个月的，还请您见谅"
    assert "apology" in fired("apologize_for_inconvenience", "zh", text)


def test_keeping_the_customer_posted_is_a_step() -> None:
    kinds = fired(
        "solve_problem", "en", "Please message us your phone number. We will keep you posted."
    )
    assert {"commitment", "next_step"} <= kinds
