"""Steps the agent tells the customer to take, said in a frame (issue 13 item 5, eighteenth
round).

The labelling guideline (bench/labels/README.md) counts a concrete step the agent tells the
customer to take as a next step ("you can reset it on the website"). English agents say these
in open words: a request or a suggestion ("please remove the SIM card", "we advise you to visit
the business hall") before any step verb, or a modal addressed to the customer ("you can
uninstall the app") before a verb of a service or a device. In chat "you" is anyone, so a modal
with an everyday verb ("you can use chicken") is no step. Busy lines and the billing period
given as the cause of a shortfall are excuses (no_excuses). Sentences written from the guideline
after reading lines of the ``tune`` dialogues; none is copied from the evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired


@pytest.mark.parametrize(
    "text",
    [
        "Please remove the SIM card and put it back in.",
        "We advise you to visit the business hall with your ID card.",
        "It is suggested to uninstall the app and install it again.",
        "You can turn off mobile data in the settings.",
        "You may restart the router and see if the light turns green.",
        "You can apply for a refund in the app.",
        "Please charge the phone for half an hour first.",
    ],
)
def test_a_step_told_to_the_customer_in_open_words_is_a_step(text: str) -> None:
    kinds = fired("solve_problem", "en", text)
    assert "next_step" in kinds
    assert "commitment" not in kinds


@pytest.mark.parametrize(
    "text",
    [
        "You can use chicken or turkey in that recipe.",
        "You have to go to Houston for that.",
        "Please don't uninstall the app yet.",
        "You can't restart it from the menu.",
        "Please contact us any time if you have questions.",
        "Please consult us if there is any problem.",
        "What service do you need to inquire about?",
    ],
)
def test_chat_a_negation_an_invitation_or_a_question_is_no_step(text: str) -> None:
    assert "next_step" not in fired("solve_problem", "en", text)


def test_mandarin_keeps_its_listed_steps() -> None:
    """The frame is English only; Mandarin steps are phrases in its rubric."""
    assert "next_step" in fired("solve_problem", "zh", "建议您卸载后重新安装")


@pytest.mark.parametrize(
    "text",
    [
        "The line was busy because too many people were consulting at that time.",
        "The first three days of the month is the billing period, so the fees shown may be wrong.",
    ],
)
def test_busy_lines_and_the_billing_period_given_as_the_cause_are_an_excuse(text: str) -> None:
    kinds = fired("no_excuses", "en", text, customer="Why can't I get through? This is awful.")
    assert "excuse" in kinds
