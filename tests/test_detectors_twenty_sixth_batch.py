"""Forty-first round (issue 13 item 5), from the twenty-sixth batch of dev labels (commitments,
steps, times, a uniform part): the help an invitation promises (后续如果不满意，可以再次进线，
小美会为您解决问题) waits on a later contact and is no commitment, while a request for details put
in an invitation's words (您可以随时私信小沃提供您的手机号码，小沃会…尽快与您联系) keeps its
promise; a wait said after a chat's offer that took two lines (the step, 您看可以吗, the
customer's yes, 您稍等1-3分钟) is the step's time; "is actively following up" and "we are
hurrying up to solve" undertake the customer's matter.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_eleventh_batch import _kinds_at
from tests.test_detectors_recall import fired
from tests.test_detectors_text import A, C, call


@pytest.mark.parametrize(
    ("text", "commits"),
    [
        # the help an invitation promises: no commitment on this matter
        ("如果您对理赔结果不满意，可以再次进线咨询，小美会为您解决问题", False),
        ("若之后遇到什么问题，请随时联系我们，我们会帮您处理", False),
        ("If you have any other problems, contact us any time and we will handle it.", False),
        # a request for details in an invitation's words, and the promise after it: a commitment
        ("如方便，您可以随时私信小沃提供您的手机号码，小沃会在收到后尽快与您联系处理", True),
        # no invitation before it: a commitment
        ("您放心，小美会为您解决问题的", True),
    ],
)
def test_the_help_an_invitation_promises_is_no_commitment(text: str, commits: bool) -> None:
    language = "en" if text.isascii() else "zh"
    assert ("commitment" in fired("solve_problem", language, text)) is commits


@pytest.mark.parametrize(
    ("reply", "timed"),
    [
        ("可以", True),
        # the customer objects: the wait is no time for that step
        ("不行，我要全额退款", False),
    ],
)
def test_a_wait_after_an_offer_in_two_chat_lines_is_the_steps_time(reply: str, timed: bool) -> None:
    report = call(
        "zh",
        (C, 0.0, 3.0, "饭里有头发"),
        (A, 3.5, 5.0, "小美给您联系商家协商部分退款"),
        (A, 5.5, 6.5, "亲亲您看可以吗"),
        (C, 7.0, 7.5, reply),
        (A, 8.0, 9.0, "亲亲您稍等1-3分钟"),
    )
    assert (4 in _kinds_at(report, "solve_problem").get("time_frame", set())) is timed


@pytest.mark.parametrize(
    "text",
    [
        "Our company @Unicom Service is now actively following up your problem. Thank you!",
        "We are so sorry. We are hurrying up to solve the network problems.",
    ],
)
def test_work_under_way_on_the_customers_matter_commits(text: str) -> None:
    assert "commitment" in fired("solve_problem", "en", text)
