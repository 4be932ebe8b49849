"""Twenty-fifth round (issue 13 item 5), from the ninth batch of Mandarin dev labels (the
agent's first and last lines): a company and a role run on into the next sentence name no one
(我是美团客服有看到…, 我是美团客服我看到…); 立马 says when as 马上 does; 可以再次进线 invites the
customer back, 不需要再次进线 does not; a chat's opening menu (您是想咨询以下问题么) offers help.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired


@pytest.mark.parametrize(
    "text",
    [
        "您好很高兴为您服务我是美团客服有看到您的订单",
        "您好我是美团客服我看到您之前反馈过",
        "你好我是客服请问您是哪里不满意",
    ],
)
def test_company_and_role_run_on_name_no_one(text: str) -> None:
    assert "greeting_name" not in fired("greeting", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "您好我是客服小李有什么可以帮您",
        "您好我是美团客服小美请问有什么可以帮您",
        "你好我是小王现在帮您查一下",
    ],
)
def test_names_before_the_next_sentence_still_count(text: str) -> None:
    assert "greeting_name" in fired("greeting", "zh", text)


def test_li_ma_says_when_as_ma_shang_does() -> None:
    assert "time_frame" in fired("solve_problem", "zh", "我立马给您催一下商家")


@pytest.mark.parametrize(
    ("text", "invites"),
    [
        ("如果您对理赔结果不满意可以再次进线咨询", True),
        ("您在页面上留言就行，不需要再次进线了", False),
    ],
)
def test_calling_in_again(text: str, invites: bool) -> None:
    assert ("closing_invite" in fired("closing", "zh", text)) is invites


def test_the_opening_menu_offers_help() -> None:
    assert "greeting_offer" in fired("greeting", "zh", "您是想咨询以下问题么~")
