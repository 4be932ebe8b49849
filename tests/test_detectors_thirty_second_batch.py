"""Forty-seventh round (issue 13 item 5), from the thirty-second batch of dev labels (Mandarin
commitments and closings, English steps, reasons and times, the last lines of calls and threads,
a uniform part): an apology said with quite / terribly / truly / deeply / extremely is an
apology; "we will deal with your …" and 给您进行处理 commit to handling the matter; a pledge to keep
improving (会不断完善, 正在着力解决) is the general commitment the guideline counts, and striving to
deliver better services is that commitment and no step; "is being reviewed" reports the
company's step; steps the customer takes only to send the result back ("… and send the
screenshot to us") ask for information; "look forward to your experience of our service again"
invites. From this round's QA reads: 现在就是… is a filler, not 现在就 (a time); a colleague or
specialist already handling the matter (之前的同事在帮您处理, 专员正在为您处理) is a step reported,
not the agent's commitment; a customer who says 我挂了 or 再见 after a hold ended the call, and
its closing is judged.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from calmline.monitor.rubric import default_rubric
from calmline.monitor.scoring import score_report
from tests.test_detectors_eleventh_batch import _closing
from tests.test_detectors_recall import fired
from tests.test_detectors_thirty_first_batch import _CUT
from tests.test_stress import A, C, call


@pytest.mark.parametrize(
    "text",
    [
        "We cannot change the ticket here. I am quite sorry.",
        "We are terribly sorry for the late delivery.",
        "We are truly sorry about the repeated outages.",
        "I am deeply sorry that the card was blocked.",
    ],
)
def test_an_intensified_sorry_apologises(text: str) -> None:
    assert "apology" in fired("apologize_for_inconvenience", "en", text)


@pytest.mark.parametrize(
    ("language", "text", "commits"),
    [
        ("en", "We will deal with your complaint today.", True),
        ("en", "I will deal with it myself.", True),
        # the company's own staff who will handle it commit for it (labels en1493, en1561);
        # another party's handling, reported, is a step at most
        ("en", "Our staff will deal with the outage in your area.", True),
        ("en", "The merchant will deal with the refund of your order.", False),
        ("zh", "您先别着急，平台这边给您进行处理", True),
        ("zh", "这个问题我这边给您进行一个处理", True),
        ("zh", "给您带来不便非常抱歉，我们会不断完善服务流程", True),
        ("zh", "目前我司非常重视此问题，正在着力解决", True),
        # a colleague or a specialist already on it: the agent reports, it does not commit
        ("zh", "之前的同事在帮您处理这个事情了", False),
        ("zh", "专员正在为您处理，请您稍等", False),
    ],
)
def test_handling_in_ordinary_words_commits(language: str, text: str, commits: bool) -> None:
    assert ("commitment" in fired("solve_problem", language, text)) is commits


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        ("Your application is being reviewed. Thank you for your patience.", True),
        ("Your case is under review by the billing team.", True),
        # the steps only lead to a screenshot sent back: a request for information
        ("Please enter Settings, choose About Phone and send the screenshot to us.", False),
        ("Please open the app, tap Version and send it to me.", False),
        # a step that fixes the problem
        ("Please enter Settings and choose Reset Network to restore the connection.", True),
    ],
)
def test_a_step_reported_or_asked_back(text: str, steps: bool) -> None:
    assert ("next_step" in fired("solve_problem", "en", text)) is steps


def test_striving_to_serve_better_commits_and_takes_no_step() -> None:
    found = fired("solve_problem", "en", "We will strive to deliver more convenient services.")
    assert "commitment" in found and "next_step" not in found


def test_looking_forward_to_the_customers_next_experience_invites() -> None:
    last = "The problem has been solved. Look forward to your experience of our service again."
    assert 1 in _closing("en", last).get("closing_invite", set())


@pytest.mark.parametrize(
    ("text", "timed"),
    [
        # 就是 is a filler: nothing is timed
        ("我帮您升级上去了，那您现在就是等专员的电话就可以", False),
        ("您现在就是想退款对吧，我帮您登记一下", False),
        ("我现在就帮您联系商家", True),
        ("我这边现在就去给您加急处理", True),
    ],
)
def test_xianzai_jiushi_is_no_time(text: str, timed: bool) -> None:
    assert ("time_frame" in fired("solve_problem", "zh", text)) is timed


@pytest.mark.parametrize(
    ("after", "applies"),
    [
        # the customer says they are going: the call ended, and its closing is judged
        (("我就不用了", "我挂了"), True),
        (("那行吧", "再见"), True),
        # the customer agrees to wait: the recording stops in the hold
        (("好谢谢",), False),
        (("好",), False),
    ],
)
def test_a_customer_who_leaves_after_a_hold_ends_the_call(after: tuple, applies: bool) -> None:
    """A call whose agent asked the customer to wait (稍等我查一下) and whose customer then said
    我就不用了 - 我挂了 was reported as a recording that stops in a hold, its closing not judged."""
    turns = [*_CUT, A(26.5, 30.0, "已经退了那就没法申请了，稍等我查一下")]
    start = 30.5
    for text in after:
        turns.append(C(start, start + 1.0, text))
        start += 1.5
    closing = _closing_score(turns)
    assert closing.applicable is applies
    if applies:
        assert closing.coaching is not None


@pytest.mark.parametrize(
    ("agent_last", "applies"),
    [
        # the agent had closed; the customer's question after it does not undo the goodbye
        ("好的那这边就不打扰您了，祝您生活愉快，请您先挂机", True),
        # the agent had not closed: the call ends on the customer's words
        ("好的，这边给您申请一个赔付，您看可以吗", False),
    ],
)
def test_a_goodbye_before_the_customers_last_words_is_judged(
    agent_last: str, applies: bool
) -> None:
    """A call whose agent said 祝您生活愉快请您先挂断电话 before the customer asked 你们再联系我是吧
    was reported as ending before the agent could close."""
    turns = [
        *_CUT,
        A(26.5, 30.0, agent_last),
        C(30.5, 33.0, "哦就是你们再联系我是吧"),
        C(33.5, 34.0, "哦好的好的"),
    ]
    closing = _closing_score(turns)
    assert closing.applicable is applies
    if applies:
        assert any(f.kind == "closing_farewell" for f in closing.findings)
    else:
        assert "ends on the customer" in closing.reason


def _closing_score(turns: list):
    """The closing practice's score on the Mandarin call made of ``turns``."""
    report = score_report(call(turns), default_rubric("zh"))
    (closing,) = [p for p in report.scorecard.practices if p.practice == "closing"]
    return closing
