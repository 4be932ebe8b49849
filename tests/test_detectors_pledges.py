"""General pledges, the agent's own efforts, and times said in other words (issue 13 item 5,
seventeenth round).

The labelling guideline (bench/labels/README.md) counts a general improvement pledge (我们会加强
培训, "we will improve our service") as a commitment only, not a next step; "try to" is a step the
customer is told to take only when it is addressed to them ("please … try to restart"), not the
agent's "we will try to improve". Sentences written from the guideline after reading lines of the
``tune`` dialogues; none is copied from the evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired


@pytest.mark.parametrize(
    "text",
    [
        "We will improve the quality control of our products.",
        "We will try to improve our network quality in your area.",
        "We will study your advice and try to improve our service.",
    ],
)
def test_general_improvement_pledge_is_a_commitment_not_a_step(text: str) -> None:
    kinds = fired("solve_problem", "en", text)
    assert "commitment" in kinds
    assert "next_step" not in kinds


@pytest.mark.parametrize(
    "text",
    [
        "Please hold the power key for 30 seconds and try to force a restart.",
        "Try to type the word again.",
        "Charge it for an hour and then try to restart the phone.",
    ],
)
def test_try_to_addressed_to_the_customer_is_a_step(text: str) -> None:
    assert "next_step" in fired("solve_problem", "en", text)


def test_we_are_communicating_with_a_party_is_a_step() -> None:
    kinds = fired("solve_problem", "en", "We are communicating with the hotel about your room.")
    assert {"commitment", "next_step"} <= kinds


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "我们会在1天时间内和您预约上门安装的时间"),
        ("zh", "我们将在近日内处理并联系您"),
        ("zh", "退款会在2-3小时之内自动退回"),
        ("en", "We will arrange a technician to contact you within a work day."),
    ],
)
def test_time_of_a_step_in_other_words_is_a_time_frame(language: str, text: str) -> None:
    assert "time_frame" in fired("solve_problem", language, text)


@pytest.mark.parametrize(
    "text",
    [
        "Please send us your account number by private message so that we can arrange staff"
        " to follow up.",
        "Could you send us your number so we can report the fault and verify it?",
    ],
)
def test_request_that_states_the_step_it_serves_is_a_step(text: str) -> None:
    """The guideline's Weibo template: asking for details "so that we can arrange staff" states
    the step, waiting on the customer; it is not yet the agent's commitment."""
    kinds = fired("solve_problem", "en", text)
    assert "next_step" in kinds
    assert "commitment" not in kinds
