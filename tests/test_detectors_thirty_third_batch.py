"""Forty-eighth round (issue 13 item 5), from the thirty-third batch of dev labels (Mandarin
restatements, reasons and times, English times, reasons, options and acknowledgements, the last
lines of calls and threads, a uniform part): a confirming question that names the problem the
customer filed (餐品里面有异物的情况是吗) restates it, while one about the order, about whether it
was reported, or relaying a denial does not; two channels joined by 或者登陆 offer a choice;
已收悉 says the matter was received; a cause followed by 因此…推迟 defends a delay. English:
correcting the company's shortcomings is a commitment; "checked and found" gives a look-up's
result; "will … guarantee your schedule" promises an outcome; a tariff "subject to the local
business halls" and "… Therefore, it takes some time" defend a shortfall. From this round's QA
reads: a chat that the system closed because the customer stopped answering, while the agent was
still on the matter, is not judged on its closing; a time frame is owed only for the company's
steps, not for the customer's own or a look-up's result.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data except the words by which the chat system's timeout message is known
(系统已经自动结束对话).
"""

from __future__ import annotations

import pytest

from calmline.monitor.rubric import default_rubric
from calmline.monitor.scoring import score_report
from tests.test_detectors_recall import fired
from tests.test_detectors_thirty_first_batch import _CUT
from tests.test_stress import A, C, call

_HELLO = "你好"
"""A customer line that shares no words with the agent's: no echo to restate."""


@pytest.mark.parametrize(
    ("text", "restates"),
    [
        ("餐品里面吃出头发的情况是吗", True),
        ("是外包装破损的一个问题对吧", True),
        ("咱们这个米饭是有点馊了的这种情况是吧女士", True),
        # the order confirmed, not the problem
        ("是您昨天下的这笔订单的问题对吗", False),
        # whether it was reported before
        ("您之前是有反映过这个问题对吧", False),
        # the shop's denial relayed
        ("商家那边表示汤没有问题是吧", False),
        # a question, not a confirmation
        ("是哪一单出现了问题对吗", False),
        # nothing named
        ("亲亲，是这个问题是吗", False),
    ],
)
def test_a_confirming_question_that_names_the_filed_problem(text: str, restates: bool) -> None:
    assert ("paraphrase" in fired("paraphrase", "zh", text, _HELLO)) is restates


@pytest.mark.parametrize(
    ("text", "offers"),
    [
        ("建议您可登陆网上营业厅查询，或者登陆手机营业厅查询", True),
        ("您可以登陆官网提交申请，或登陆我们的APP提交", True),
        # one way only
        ("建议您登陆网上营业厅查询使用情况", False),
    ],
)
def test_two_channels_to_log_into_offer_a_choice(text: str, offers: bool) -> None:
    assert ("options" in fired("options", "zh", text)) is offers


def test_yishouxi_says_the_matter_was_received() -> None:
    assert "ack_phrase" in fired("acknowledge", "zh", "您好，您反映的情况已收悉")


@pytest.mark.parametrize(
    ("text", "excuses"),
    [
        ("目前我们正在进行系统升级，因此部分地区的活动时间略有推迟", True),
        ("由于线路调整，所以开通时间会有延迟", True),
        # a delay reported with no cause before it
        ("开通时间略有推迟，给您带来不便非常抱歉", False),
    ],
)
def test_a_cause_then_a_delay_defends_it(text: str, excuses: bool) -> None:
    found = fired("no_excuses", "zh", text, "说好的今天开通，怎么又不能办了")
    assert ("excuse" in found) is excuses


def test_correcting_the_companys_shortcomings_commits() -> None:
    text = "Our company will try our best to correct our shortcomings in the service."
    assert "commitment" in fired("solve_problem", "en", text)


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        ("I checked and found that the refund was issued yesterday.", True),
        ("We reviewed and found that the card was activated on Monday.", True),
        # the customer's own finding, asked about
        ("Have you found the card since then?", False),
    ],
)
def test_checked_and_found_gives_a_look_ups_result(text: str, steps: bool) -> None:
    assert ("next_step" in fired("solve_problem", "en", text)) is steps


@pytest.mark.parametrize(
    ("text", "promises"),
    [
        ("The airline will rebook the flight and guarantee your arrival tonight.", True),
        # a negated guarantee is honest
        ("We cannot guarantee your seat on that flight.", False),
    ],
)
def test_a_company_guaranteeing_the_outcome_overpromises(text: str, promises: bool) -> None:
    assert ("overpromise" in fired("no_overpromise", "en", text)) is promises


@pytest.mark.parametrize(
    "text",
    [
        "The installation fee is subject to the local business hall.",
        "Each new tower needs approval from several departments. Therefore, it takes some time.",
    ],
)
def test_a_rule_set_elsewhere_or_a_wait_defended_by_its_cause(text: str) -> None:
    found = fired("no_excuses", "en", text, "Why is the broadband so expensive and so slow?")
    assert "excuse" in found


_TIMEOUT = (
    "亲亲，由于您在3分钟内没有任何回应，系统已经自动结束对话了。如仍需帮助可再次发起会话，"
    "麻烦对小美的服务进行评价哦，谢谢您~"
)
"""A chat system's end-of-session message for the customer's silence (written for the test)."""


@pytest.mark.parametrize(
    ("agent_after", "applies"),
    [
        # the agent was still on the matter when the customer went silent
        (("小美这边去联系商家核实协商一下哦", "亲亲，请问还在线吗"), False),
        (("在线转接哦，亲亲，您看可以吗",), False),
        # the agent had begun to close before the timeout
        (("亲亲还有其他问题需要帮助的吗？",), True),
        (("感谢您的理解，祝您生活愉快",), True),
    ],
)
def test_a_chat_the_customer_left_by_going_silent(agent_after: tuple, applies: bool) -> None:
    """119 of MUSIED's 365 tune dialogues end on the system's timeout message; 104 were coached
    for a thanks and a goodbye on lines such as 小美联系商家沟通处理呢."""
    turns = list(_CUT)
    start = 26.5
    for text in (*agent_after, _TIMEOUT):
        turns.append(A(start, start + 2.0, text))
        start += 30.0
    report = score_report(call(turns), default_rubric("zh"))
    (closing,) = [p for p in report.scorecard.practices if p.practice == "closing"]
    assert closing.applicable is applies
    if not applies:
        assert "stopped answering" in closing.reason
        assert closing.coaching is None


@pytest.mark.parametrize(
    ("language", "text", "owed"),
    [
        # the customer's own steps: nothing to wait for
        ("en", "You can check whether the shortcut key is set in the language settings.", False),
        ("en", "Please try to restart the phone and see if it returns to normal.", False),
        ("zh", "建议您重启一下手机试试", False),
        # a look-up's result given at once
        ("en", "I checked and found that your balance is 89 dollars.", False),
        # the company's steps: the customer waits for them
        ("zh", "我帮您申请退款", True),
        ("zh", "会有专员联系您处理", True),
        ("en", "Please send us your number via private message so that we can verify it.", True),
        ("en", "The engineer has recorded your address.", True),
    ],
)
def test_a_time_is_owed_only_for_the_companys_steps(language: str, text: str, owed: bool) -> None:
    """ "You can check whether the shortcut key is set in the System Language Setting" was
    coached "also tell the customer when it will happen, for example within three business
    days"."""
    found = fired("solve_problem", language, text)
    assert "next_step" in found
    assert ("no_time_frame" in found) is owed


def test_a_score_without_the_time_part_is_made_by_the_other_parts() -> None:
    report = call(
        [
            A(0.0, 3.0, "您好，很高兴为您服务"),
            C(3.5, 10.0, "你们这个APP一直打不开，点了就闪退"),
            A(10.5, 15.0, "建议您重新下载一下APP试试"),
        ]
    )
    scored = score_report(report, default_rubric("zh"))
    (solve,) = [p for p in scored.scorecard.practices if p.practice == "solve_problem"]
    kinds = {f.kind for f in solve.findings}
    assert "next_step" in kinds and "no_time_frame" not in kinds
    # the next step's 30 points of the 80 that empathy, commitment and the step make
    parts = {"empathy_phrase": 20, "commitment": 30, "next_step": 30}
    earned = sum(points for kind, points in parts.items() if kind in kinds)
    assert solve.score == pytest.approx(100 * earned / 80, abs=0.1)
