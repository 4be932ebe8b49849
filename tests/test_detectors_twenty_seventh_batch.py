"""Forty-second round (issue 13 item 5), from the twenty-seventh batch of dev labels (reasons for
a shortfall, the agent's last lines, English times, a uniform part): a promise joined after a
request's purpose or another party's part ("so that we can pass it to our staff and we will
reply with the result") is the agent's own; an online transfer and talking to the merchant for
the customer are undertakings; saying one would feel the same in the customer's place, with
the filler 一个 in 理解您的一个心情, is empathy; 记下来了 acknowledges; work being sped up and an
adjustment promised commit; "see if it turns normal" ends a step told to the customer; "if you
need any more help" invites. From a QA read of scored threads: a numbered instruction
(1、打开…, 2.检查…) and a place to report a harassing number (向110举报) are steps told to the
customer; 没有谢谢 after 还有其他问题吗 declines the invitation that opened the closing.

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
        (
            "Please send us your account number, so that we can pass your case to our team and "
            "we will reply to you with the result.",
            True,
        ),
        ("The shop told us they would send a new one and we will check it for you.", True),
        # the purpose alone: a step stated, waiting on the customer's details
        ("Please send us your account number, so that we can pass your case to our team.", False),
    ],
)
def test_a_promise_joined_after_a_purpose_is_the_agents_own(text: str, commits: bool) -> None:
    assert ("commitment" in fired("solve_problem", "en", text)) is commits


@pytest.mark.parametrize(
    "text",
    [
        "好的，这边帮您在线转接专门的客服，您看可以吗",
        "您别着急，这边需要去帮您和商家沟通一下",
        "我们的配送速度正在加快，请您耐心等待",
        "我们会考虑您的建议，适时进行相关调整",
    ],
)
def test_transfers_talks_and_work_sped_up_commit(text: str) -> None:
    assert "commitment" in fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    ("text", "felt"),
    [
        ("真的非常理解您的一个心情，这边马上帮您处理", True),
        ("如果说我是您的话，我也是一样的感受，这边先帮您登记", True),
        # the agent in the customer's place without a feeling: none
        ("如果我是您的话，我会先查一下订单", False),
    ],
)
def test_the_customers_place_and_a_filled_feeling_are_empathy(text: str, felt: bool) -> None:
    assert ("empathy" in fired("empathy", "zh", text, customer="等了两个小时还没送到")) is felt


def test_written_down_acknowledges() -> None:
    assert "ack_phrase" in fired("acknowledge", "zh", "您好，您说的情况我记下来了，会反馈给产品")


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("Please turn the screen lock off and on, and see if it turns normal.", True),
        ("We hope everything turns normal soon.", False),
    ],
)
def test_see_if_it_turns_normal_ends_a_step(text: str, step: bool) -> None:
    assert ("next_step" in fired("solve_problem", "en", text)) is step


def test_more_help_when_needed_invites() -> None:
    text = "We have passed it on. If you need any more help, you can send us a private message."
    assert 1 in _closing("en", text).get("closing_invite", set())


# --- a QA read of scored threads ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("1、关闭路由器电源，等待两分钟 2、打开电源，看指示灯是否常亮", True),
        ("2.检查网络设置，在桌面上找到宽带连接，双击打开", True),
        ("如果您再接到这类电话，我们向您推荐一个网站举报，或向110举报", True),
        # a figure's digits, not a step's number; a report that opens with a verb
        ("您好，系统升级到2.5版本后，检查发现问题已经解决", False),
    ],
)
def test_numbered_instructions_and_where_to_report_are_steps(text: str, step: bool) -> None:
    assert ("next_step" in fired("solve_problem", "zh", text)) is step


def test_no_with_thanks_declines_the_invitation_that_opened_the_closing() -> None:
    """还有其他问题吗 - 没有谢谢你的帮助: the closing began at the invitation, though the rating
    request and the goodbye pushed it out of the last turns."""
    report = call(
        "zh",
        (C, 0.0, 3.0, "好的谢谢"),
        (A, 3.5, 6.0, "嗯不客气那这边的话您还有其他问题吗先生"),
        (C, 6.5, 8.0, "没有谢谢你的帮助很感谢"),
        (A, 8.5, 14.0, "嗯嗯没事稍后您会收到一个平台的邀评短信方便的话可以对我的服务进行一个评价"),
        (C, 14.5, 15.0, "好"),
        (A, 15.5, 19.0, "嗯好的非常感谢那这边就不打扰您了祝您生活愉快请您先挂断电话"),
        (A, 19.5, 20.0, "嗯再见"),
    )
    assert 1 in _kinds_at(report, "closing").get("closing_invite", set())
