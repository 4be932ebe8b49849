"""Forty-third round (issue 13 item 5), from the twenty-eighth batch of dev labels (English
thanks and thread endings, Mandarin restatements and commitments, English steps, the last lines
of Mandarin calls, a uniform part): a verb the agent asks the customer to do (我只能建议您与商家联
系) is no undertaking of the agent's; a plea to bear with it (给您带来的不便，请见谅。谢谢！) asks
no favour, and the thanks after it still close the reply. From a QA read: a chat's nudge to end
the session (如果您没有其他问题可以优先结束会话了) is no new content after the thanks, as a call's
请您先挂机 is not; 稍后催促下 and 后续会反馈商家 are the agent's own steps without a 帮您.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_eleventh_batch import _closing, _kinds_at
from tests.test_detectors_recall import fired
from tests.test_detectors_text import A, C, call


@pytest.mark.parametrize(
    ("text", "commits"),
    [
        ("关于退款的问题，我这边只能是建议您与商家联系进行沟通", False),
        ("我这边请您重新下单，商家会优先出餐", False),
        # the agent's own step, with the customer as its object: still a commitment
        ("我这边帮您联系一下商家，您稍等", True),
    ],
)
def test_what_the_agent_asks_the_customer_to_do_is_not_its_undertaking(
    text: str, commits: bool
) -> None:
    assert ("commitment" in fired("solve_problem", "zh", text)) is commits


@pytest.mark.parametrize(
    ("text", "closes"),
    [
        ("您好，货源紧张，我们会尽快发货，给您带来的不便，请见谅。谢谢！", True),
        ("您好，请您别心急，我们正在加紧处理。谢谢！", True),
        # a favour asked: the thanks are for it
        ("您好，请您私信提供一下手机号码。谢谢！", False),
    ],
)
def test_thanks_after_a_plea_to_bear_with_it_close(text: str, closes: bool) -> None:
    assert (1 in _closing("zh", text).get("closing_thanks", set())) is closes


# --- a QA read of scored threads and chats (seeds 417 to 419) -----------------------------


def test_a_nudge_to_end_the_chat_is_no_new_content_after_the_thanks() -> None:
    """还有其他问题吗 - the rating request with 感谢您进线反馈 - 没了 - 祝您生活愉快 - 如果您没
    有其他问题可以优先结束会话了: the nudge, like a call's 请您先挂机, says nothing new, and the
    thanks, the invitation and the goodbye before it make the closing."""
    report = call(
        "zh",
        (C, 0.0, 2.0, "行吧就这样吧"),
        (A, 2.5, 5.0, "亲亲还有其他问题需要小美这边处理的吗"),
        (A, 5.5, 12.0, "亲稍后系统会发出一条评价短信辛苦对本次服务做出评价感谢您进线反馈"),
        (C, 12.5, 13.0, "没了"),
        (A, 13.5, 16.0, "小美这边祝您生活愉快天天开心哈"),
        (C, 16.5, 17.0, "嗯"),
        (A, 17.5, 20.0, "[鲜花]如果您没有其他问题可以优先结束会话了，亲亲"),
    )
    kinds = _kinds_at(report, "closing")
    assert 2 in kinds.get("closing_thanks", set())
    assert "closing_incomplete" not in kinds


@pytest.mark.parametrize(
    "text",
    [
        "久等了亲，查看商品目前在配送途中，稍后催促下，请注意接听电话",
        "给您带来不便很抱歉，后续会反馈商家加以改进",
    ],
)
def test_urging_and_feedback_said_as_the_agents_own_commit(text: str) -> None:
    assert {"commitment", "next_step"} <= fired("solve_problem", "zh", text)
