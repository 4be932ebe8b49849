"""Thirty-third round (issue 13 item 5), from the seventeenth batch of dev labels (reasons given
in both languages, a uniform English part): a release still under review, a contract period, a
merchant's consent as the reason for a refusal; different rules for different packages and a
cause only supposed ("may be related to the network") without a fix are excuses, with the fix a
diagnosis; "Do you meet any problem?" and "if you need our help, please describe it" offer help.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired
from tests.test_detectors_text import opening_kinds


@pytest.mark.parametrize(
    "text",
    [
        "新版本还在审核中，所以安卓会先上线哦",
        "您的号码还在合约期内，是不能办理销户的",
        "退款需要商家同意，商家不同意我们这边也办理不了",
    ],
)
def test_reasons_for_a_delay_or_a_refusal_are_excuses_zh(text: str) -> None:
    assert "excuse" in fired("no_excuses", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "Different rules apply to different plans, so the fee stays as billed.",
        "The rules for processing different services are different, so some take longer.",
        "The slow download may be related to the network in your area.",
    ],
)
def test_reasons_given_for_a_shortfall_are_excuses_en(text: str) -> None:
    assert "excuse" in fired("no_excuses", "en", text)


def test_a_supposed_network_cause_with_its_fix_is_a_diagnosis() -> None:
    text = "The slow download may be related to the network. Please switch to Wi-Fi and try again."
    assert "excuse" not in fired("no_excuses", "en", text)


@pytest.mark.parametrize(
    "agent",
    ["Hello! Do you meet any problem?", "Hello! If you need our help, please describe it."],
)
def test_asking_for_the_problem_at_the_opening_offers_help(agent: str) -> None:
    kinds = opening_kinds("en", agent, "My phone keeps losing signal.")
    assert {"greeting_hello", "greeting_offer"} <= kinds
