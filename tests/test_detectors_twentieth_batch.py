"""Thirty-fifth round (issue 13 item 5), from the twentieth batch of dev labels (reasons, times
and thanks in both languages): a cause that sends the customer to ask elsewhere by themselves
(由于…建议您…咨询, 由于…请您以当地政策为准) is an excuse, and so are a rush of buyers given for a
failed purchase ("as there are a lot of people …") and the time a process needs ("… need a
certain time"). A cause of a hand-off the agent makes, a supposed cause followed by its fix and
a condition stay no excuse.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "由于优惠活动的种类比较多，建议您直接致电当地营业厅咨询"),
        ("zh", "由于各地的资费不一样，具体请您以当地的政策为准"),
        ("en", "As there are a lot of customers applying today, please try again tonight."),
        ("en", "As there are many kinds of plans, we suggest you ask the local store."),
        ("en", "The launch of the new offer needs a certain time, please keep an eye on our news."),
    ],
)
def test_a_cause_that_sends_the_customer_away_or_asks_them_to_wait_is_an_excuse(
    language: str, text: str
) -> None:
    assert "excuse" in fired("no_excuses", language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "由于小美这边权限有限，为了更好的解决您的问题帮您升级专员处理"),
        ("zh", "建议您致电客服热线咨询，我们会有专人为您解答"),
        ("en", "If there are many people in the queue, I will call you back within an hour."),
        ("en", "I will check your bill now and call you back in ten minutes."),
    ],
)
def test_a_hand_off_a_plain_suggestion_or_a_condition_is_no_excuse(
    language: str, text: str
) -> None:
    assert "excuse" not in fired("no_excuses", language, text)
