"""When a step will happen, in the words written replies use (issue 13 item 5).

The guideline (bench/labels/README.md, ``solve_problem:time_frame``) credits a time tied to the
agent's step or to the outcome the customer will see: 明日给您确认, 电视明天可以送到, "in a few
days", "before the end of the month", "within one day". It does not credit the time of something
the customer is asked to do (建议您先试一下充电半小时后再重启), nor a stretch in the past ("in the
last two or three weeks"). Sentences written for these tests after reading the STC-3 replies
whose Chinese and English versions disagreed on the time frame.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "您好，我们会按照约定时间明日给您确认酒店房间，给您带来不便非常抱歉"),
        ("zh", "您好，您的电视明天可以送到，请留意手机电话"),
        ("en", "If you told us already, we will deal with it in a few days and contact you."),
        ("en", "We will send him a message before the end of the month."),
        ("en", "We will make an appointment of installation with you within one day."),
        ("en", "We will make the claim judgment within a week after the flight lands."),
        ("en", "The system will send you a message within 7 days after the flight takes off."),
    ],
)
def test_time_of_a_step_or_an_outcome_is_a_time_frame(language: str, text: str) -> None:
    assert "time_frame" in fired("solve_problem", language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "抱歉之前的回复有误，我确认好之后回复您"),
        ("zh", "请提供一下订单号，小编再确认一下最晚出票时间哦"),
        ("en", "The system will send you a short message once the claim is approved."),
    ],
)
def test_confirming_for_the_customer_and_the_system_s_message_are_steps(
    language: str, text: str
) -> None:
    assert "next_step" in fired("solve_problem", language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        # the customer's action and its duration
        ("zh", "您好，建议您先试一下充电半小时后再同时按住电源键和home键15秒重启"),
        ("zh", "您可以尝试充电30分钟后再开机看看"),
        # a stretch in the past, not a time a step will take
        ("en", "We have moved the account three times in the last two or three weeks."),
    ],
)
def test_the_customer_s_own_time_or_a_past_stretch_is_no_time_frame(
    language: str, text: str
) -> None:
    assert "time_frame" not in fired("solve_problem", language, text)
