"""Written service replies: receipt, hand-off and invitation in their own words (issue 13 item 5).

The guideline (bench/labels/README.md, ``ack_phrase``) credits saying the customer's matter was
received or recorded (我们已经了解/已记录您的问题, "we have received your feedback"). Written
replies say it with the agent's name or 帮您 / 为您 in the middle (小沃已帮您详细记录, 您的私信已
收到), or in the passive ("the problem has been recorded"); a promise to record later and the
customer's own receipt are not acknowledgements. The same replies pass the matter on without a
subject (已转相关工作人员处理: a commitment and a next step) and invite the customer back in plainer
words (有什么问题您尽管联系我们, 欢迎有问题随时咨询). Sentences written for these tests after
reading the STC-3 replies whose Chinese and English versions disagreed.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "您好，您反映的情况小沃已帮您详细记录，请留意工作人员的回复"),
        ("zh", "关于您反馈的问题，我们已经为您详细记录，请耐心等待"),
        ("zh", "您的私信已收到，我们会尽快处理"),
        ("zh", "您好，我们已将您的建议详细记录，感谢您的支持"),
        ("zh", "关于您说的情况小美已知悉，马上帮您核实"),
        ("en", "The problem has been recorded and passed to our testing team."),
        ("en", "I have noticed the issue you reported. Is the signal weak everywhere?"),
    ],
)
def test_matter_said_received_or_recorded_is_an_acknowledgement(language: str, text: str) -> None:
    assert "ack_phrase" in fired("acknowledge", language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        # the customer's receipt, not the agent's
        ("zh", "感谢您的反馈，稍后您会收到一条评价短信"),
        ("zh", "请问您是否已收到退款"),
        # a promise to record it later, or a registration done, is a step
        ("zh", "该号码已帮您登记屏蔽了，请您关注"),
        ("zh", "我帮您记录一下，稍后反馈给专员"),
        ("en", "Has the refund been received on your side?"),
    ],
)
def test_customer_receipt_or_a_promise_to_record_is_no_acknowledgement(
    language: str, text: str
) -> None:
    assert "ack_phrase" not in fired("acknowledge", language, text)


@pytest.mark.parametrize(
    "text",
    [
        "您好，您反映的问题已转相关工作人员核实处理，请耐心等待",
        "您好，已转派相关部门核查处理，请您留意",
        "已通知技术部门屏蔽这条信息，感谢您的反馈",
        "您好，团长私信联系您",
    ],
)
def test_matter_passed_on_without_a_subject_is_commitment_and_next_step(text: str) -> None:
    kinds = fired("solve_problem", "zh", text)
    assert {"commitment", "next_step"} <= kinds


@pytest.mark.parametrize(
    "text",
    [
        "不用客气，有什么问题您尽管联系我们",
        "好的，您先用一段时间，有问题再私信联系小编",
        "不客气，欢迎有问题随时咨询",
        "如有其它疑问，欢迎致电客服热线",
    ],
)
def test_invitation_to_come_back_in_other_words_closes_the_contact(text: str) -> None:
    assert "closing_invite" in fired("closing", "zh", text, customer="好的，谢谢你们")
