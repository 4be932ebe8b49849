"""Forty-fourth round (issue 13 item 5), from the twenty-ninth batch of dev labels (English times
and reasons, blame shifted to others in both languages, Mandarin arguing and restatements, a
uniform part): sending the customer to deal with the merchant alone (我只能是建议您跟商家联系进行
沟通) is a blame shift and no step offered; a step under way said without a subject (正在联系商家)
and a matter handed on in the passive ("your case has been transferred to …") are the agent's own
undertakings; "If you have any question, please …" invites. From QA reads: a text command to the
carrier's number is a step; a second way may open a sentence of its own ("… Or you can …"); the
closing of a chat the customer left (离开人工会话) is not judged; words said with the plain 你 are
never asked for again and its thanks close; a 为什么 that asks to confirm (…是不是) is no complaint.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from calmline.monitor.detectors import DetectorContext
from calmline.monitor.detectors.phrases import agent_said, complaint_words
from calmline.monitor.rubric import default_rubric
from calmline.monitor.scoring import score_report
from calmline.monitor.textmatch import PhraseMatcher
from tests.test_detectors_eleventh_batch import _closing
from tests.test_detectors_recall import fired
from tests.test_detectors_text import CALM
from tests.test_detectors_text import A as A_ROLE
from tests.test_detectors_text import C as C_ROLE
from tests.test_detectors_text import call as text_call
from tests.test_stress import A, C, call


@pytest.mark.parametrize(
    "text",
    [
        "关于补偿的问题，我们这边确实无法直接帮您申请，只能是建议您跟商家联系进行沟通",
        "退款的话我这边只能建议您与商家联系沟通一下",
        "这边还是建议您自行跟商家联系一下",
    ],
)
def test_sending_the_customer_to_the_merchant_alone_is_no_step(text: str) -> None:
    kinds = fired("solve_problem", "zh", text)
    assert "next_step" not in kinds and "commitment" not in kinds
    assert "blame_shift" in fired("no_blame_shift", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        # the agent's own call to the merchant, and a step in the customer's app
        "我这边帮您联系一下商家，您稍等",
        "您可以在APP的订单页面申请退款",
    ],
)
def test_a_step_that_does_not_send_the_customer_away_still_counts(text: str) -> None:
    assert "next_step" in fired("solve_problem", "zh", text)
    assert "blame_shift" not in fired("no_blame_shift", "zh", text)


@pytest.mark.parametrize("text", ["正在联系商家，请您稍等", "亲亲，这边正在联系骑手呢"])
def test_a_step_under_way_without_a_subject_is_the_agents_own(text: str) -> None:
    assert {"commitment", "next_step"} <= fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    ("text", "commits"),
    [
        ("Your complaint has been forwarded to the billing department for review.", True),
        ("Hello, your problem has been transferred to the relevant department. Thank you!", True),
        ("We are still working on your request. Please be patient.", True),
        # another party at work on it: their step, not the agent's undertaking
        ("Our technicians are working on the problem now.", False),
    ],
)
def test_a_matter_handed_on_or_worked_on(text: str, commits: bool) -> None:
    kinds = fired("solve_problem", "en", text)
    assert "next_step" in kinds
    assert ("commitment" in kinds) is commits


@pytest.mark.parametrize(
    ("text", "invites"),
    [
        ("If you have any question, please call our hotline 400-123-4567. Thank you!", True),
        ("If you have any problems, you can send us a private message.", True),
        # a question about something in particular, answered with a request
        ("If you have any questions about your bill, please provide your number.", False),
    ],
)
def test_if_you_have_any_question_please_invites(text: str, invites: bool) -> None:
    assert (1 in _closing("en", text).get("closing_invite", set())) is invites


@pytest.mark.parametrize(
    ("language", "text", "offers"),
    [
        (
            "en",
            "You can move the apps to the phone memory in Settings. Or you can use the PC "
            "assistant to move them.",
            True,
        ),
        (
            "en",
            "Please back up your data first. You can also log in our website to submit a repair "
            "request.",
            True,
        ),
        ("zh", "建议您前往营业厅办理。或者您也可以拨打客服热线办理。", True),
        # nothing suggested before: one step
        ("en", "The setting is fine. You can also click Advanced Settings to keep it open.", False),
        # an invitation for later, not a second way
        (
            "en",
            "Please restart your phone. You can also contact us for any problem in the future.",
            False,
        ),
    ],
)
def test_a_second_step_may_open_a_sentence_of_its_own(
    language: str, text: str, offers: bool
) -> None:
    assert ("options" in fired("options", language, text)) is offers


# --- a QA read of scored threads (seed 424) ------------------------------------------------


def test_a_message_sent_and_an_invitation_without_any() -> None:
    """The reply "We've messaged the locations of our business halls. Contact us if you have
    problems." was coached as lacking an invitation and credited no step: the message sent is
    the agent's step, and "contact us if you have problems" invites as "… if you have any
    problem" does."""
    text = (
        "We've messaged you the addresses of our service centres. Contact us if you have problems."
    )
    assert "next_step" in fired("solve_problem", "en", text)
    assert 1 in _closing("en", text).get("closing_invite", set())


@pytest.mark.parametrize(
    "text",
    [
        "您好，2G用户可以本机发送TS到10011开通提速服务",
        "您发送“CXLL”至10010查询一下套餐余量",
    ],
)
def test_a_text_command_to_the_carriers_number_is_a_step(text: str) -> None:
    """2G用户可以本机发送TS到10011开通512K提速服务 was coached as "no next step": a text
    command sent to the carrier's short number is a step the customer is told to take."""
    assert "next_step" in fired("solve_problem", "zh", text)


# --- a QA read of scored chats (seed 428) ---------------------------------------------------

_LEFT_CHAT = [
    C(0.0, 2.0, "外卖里有异物"),
    A(2.5, 6.0, "亲亲，非常抱歉给您带来了不好的就餐体验，麻烦您提供一下餐品的图片"),
    C(6.5, 8.0, "不认可，我都扔了"),
    A(8.5, 14.0, "好的，您反馈的情况已经帮您提交，专员在核实好后会主动联系您"),
]


@pytest.mark.parametrize(("last", "applies"), [("离开人工会话", False), ("好的", True)])
def test_a_chat_the_customer_left_is_not_judged_on_its_closing(last: str, applies: bool) -> None:
    """A MUSIED chat that ends on the customer's 离开人工会话 right after the agent's answer was
    coached for the thanks, the invitation and the goodbye the agent had no turn to say: the
    closing does not apply, with its reason, and moves nothing; a customer who answers keeps it."""
    report = score_report(call([*_LEFT_CHAT, C(14.5, 15.0, last)]), default_rubric("zh"))
    (closing,) = [p for p in report.scorecard.practices if p.practice == "closing"]
    assert closing.applicable is applies
    if applies:
        assert closing.score is not None
    else:
        assert closing.score is None and closing.coaching is None
        assert "left the chat" in closing.reason


def test_thanks_said_with_the_plain_you_close_and_are_not_suggested_again() -> None:
    """感谢你的耐心等待 in the last answer of a chat was coached as a missing thank-you and the
    coaching asked for 感谢您的耐心: the plain 你 closes as 您 does, and the coaching never asks
    for words the agent said with it."""
    report = score_report(
        call(
            [
                C(0.0, 2.0, "食材变质了"),
                A(2.5, 6.0, "非常抱歉，小美现在为您联系商家"),
                C(6.5, 8.0, "好"),
                A(8.5, 14.0, "感谢你的耐心等待，商家同意给您退款"),
            ]
        ),
        default_rubric("zh"),
    )
    (closing,) = [p for p in report.scorecard.practices if p.practice == "closing"]
    assert any(f.kind == "closing_thanks" for f in closing.findings)
    assert closing.coaching is not None and "感谢您的耐心" not in closing.coaching


@pytest.mark.parametrize(
    ("said", "words", "found"),
    [
        ("祝你生活愉快，再见", "祝您生活愉快", True),
        ("感谢你您的耐心等待", "感谢您的耐心", True),
        # another person is no politeness variant
        ("祝他生活愉快", "祝您生活愉快", False),
    ],
)
def test_words_said_with_the_plain_you_count_as_said(said: str, words: str, found: bool) -> None:
    report = text_call("zh", (C_ROLE, 0.0, 2.0, "好的"), (A_ROLE, 2.5, 5.0, said))
    rubric = default_rubric("zh")
    ctx = DetectorContext(
        report=report,
        rubric=rubric,
        matcher=PhraseMatcher(rubric.matching, "zh"),
        stress=CALM,
    )
    assert agent_said(ctx, words) is found


# --- a QA read of scored calls (seed 430) ---------------------------------------------------


@pytest.mark.parametrize(
    ("said", "complains"),
    [
        ("那我原来办的套餐，为什么在省内的时候都是先走省内流量，是不是", False),
        ("为什么我这个月先走的是国内流量啊，对吧", False),
        ("为什么没有给我返呢", True),
        # a complaint word of its own still complains, tail or not
        ("为什么扣了两次，是不是", True),
    ],
)
def test_a_why_question_that_asks_to_confirm_is_no_complaint(said: str, complains: bool) -> None:
    """A MobileCS caller asking how a data package works (为什么都是先走的那个…先走省内流量，是不
    是) was taken for a complaint, and a calm inquiry was coached for an apology, empathy and a
    paraphrase: 为什么 in a turn that ends by asking to confirm asks, it does not complain."""
    rubric = default_rubric("zh")
    matcher = PhraseMatcher(rubric.matching, "zh")
    assert bool(complaint_words(said, matcher, rubric.stress)) is complains


@pytest.mark.parametrize("text", ["亲亲商家这边表示帮您退款您看可以吗", "商家那边说会给您重新配送"])
def test_what_the_merchant_said_through_the_agent_is_neither_step_nor_commitment(text: str) -> None:
    """商家这边表示 reports the merchant as 商家表示 does: the agent relays another party's word,
    no step of its own and no commitment."""
    kinds = fired("solve_problem", "zh", text)
    assert "next_step" not in kinds and "commitment" not in kinds
