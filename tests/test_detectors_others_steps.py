"""Another party's step, a second predicate of the agent, and days and short whiles as time
frames, in English (issue 13 item 5, nineteenth round).

The labelling guideline (bench/labels/README.md) counts a step someone else takes for the
customer's matter as a next step, not the agent's commitment ("the director has recorded your
order number"), and a step on a condition as none yet. A time frame is a time tied to the
agent's step or to the outcome the customer will see: a named day ("on Monday"), a part of today
("this afternoon"), a short while ("in a minute"). Sentences written from the guideline; none is
copied from the evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired


@pytest.mark.parametrize(
    "text",
    [
        "Hi, the supervisor has recorded your account number and passed it to the courier.",
        "Our engineers are checking the line in your area now.",
        "The specialist will verify the charge and reply to you by email.",
    ],
)
def test_another_partys_step_is_a_step_not_the_agents_commitment(text: str) -> None:
    kinds = fired("solve_problem", "en", text)
    assert "next_step" in kinds
    assert "commitment" not in kinds


@pytest.mark.parametrize(
    "text",
    [
        "If your building supports fibre, our staff will inform you.",
        "The staff is very friendly there.",
        "The engineer has not checked it yet.",
    ],
)
def test_a_condition_a_description_or_a_negation_is_no_step(text: str) -> None:
    assert "next_step" not in fired("solve_problem", "en", text)


def test_a_second_predicate_of_the_agent_is_an_undertaking() -> None:
    kinds = fired("solve_problem", "en", "We have noted your issue and will send you the result.")
    assert {"commitment", "next_step"} <= kinds


@pytest.mark.parametrize(
    "text",
    [
        "I will call you back in a minute.",
        "We will send the technician on Thursday.",
        "I have booked your appointment for Friday morning.",
        "We will contact you this afternoon.",
        "I will email you the form by tonight.",
        "The refund will be processed within two weeks.",
        "You will receive the new card in about a week.",
    ],
)
def test_a_day_or_a_short_while_for_the_step_is_a_time_frame(text: str) -> None:
    assert "time_frame" in fired("solve_problem", "en", text)


@pytest.mark.parametrize(
    "text",
    [
        "On Monday we went to the lake with the kids.",
        "Please call us back this afternoon.",
    ],
)
def test_a_day_with_no_step_of_the_agent_is_no_time_frame(text: str) -> None:
    assert "time_frame" not in fired("solve_problem", "en", text)


@pytest.mark.parametrize(
    "text",
    ["Our staff is currently handling your case.", "Our team is actively following up on it."],
)
def test_another_party_at_work_on_the_matter_is_a_step(text: str) -> None:
    kinds = fired("solve_problem", "en", text)
    assert "next_step" in kinds
    assert "commitment" not in kinds


def test_the_place_to_handle_it_told_to_the_customer_is_a_step() -> None:
    assert "next_step" in fired("solve_problem", "en", "You can handle it at any branch.")
