"""Steps, times and excuses in ordinary words, sixth round (issue 13 item 5).

Sentences written from PRACTICES.md and the labelling guideline (bench/labels/README.md), not
taken from any evaluation data: the agent's own offer after a report in one unpunctuated clause,
a step and its time across an empty sentence, the company's staff as the doer (a step, not the
agent's commitment), the purpose of a private-message request, a look-up's result, a busy line
given as the cause. Each case keeps the meaning: a report stays a report, a negation stays.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired

# --- a report, then the agent's own offer in the same unpunctuated clause -----------------------


@pytest.mark.parametrize(
    "text",
    [
        "商家那边他说食材都是新鲜的没有问题那这样的话我帮您做一个升级处理",
        "商家表示会主动联系您这边您保持手机畅通这边小美到时也会给您回电跟进",
    ],
)
def test_agents_own_offer_after_a_report_is_commitment_and_step(text: str) -> None:
    assert {"commitment", "next_step"} <= fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "商家说我们会给您退款",  # the report quotes the merchant's "we"
        "商家是说会给您退款",
        "他说会帮您处理的",
    ],
)
def test_report_right_before_the_offer_stays_a_report(text: str) -> None:
    assert "commitment" not in fired("solve_problem", "zh", text)


def test_negated_offer_after_a_report_is_still_none() -> None:
    text = "商家那边他说食材都是新鲜的没有问题那这样的话我没法帮您做升级处理"
    assert "commitment" not in fired("solve_problem", "zh", text)


# --- time across an empty sentence; the staff's callback ---------------------------------------


def test_time_of_the_step_across_an_empty_sentence() -> None:
    kinds = fired("solve_problem", "zh", "亲亲; ;这边帮您升级处理下; ;专员会在24小时内回电给您; ;")
    assert {"commitment", "next_step", "time_frame"} <= kinds


@pytest.mark.parametrize(
    "text",
    ["工作人员他会在二十四小时联系到您这边", "请您私信提供手机号码,相关人员会尽快回复您"],
)
def test_staff_callback_is_a_step_not_the_agents_commitment(text: str) -> None:
    kinds = fired("solve_problem", "zh", text)
    assert "next_step" in kinds and "commitment" not in kinds


def test_staff_callback_with_its_hours_is_a_time_frame() -> None:
    kinds = fired("solve_problem", "zh", "工作人员他会在二十四小时联系到您")
    assert "time_frame" in kinds


def test_customer_wait_in_hours_is_no_time_frame() -> None:
    assert "time_frame" not in fired("solve_problem", "zh", "您在这等了几个小时是吗")


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "小U会留意查询您的私信"),
        ("zh", "您私信一下手机号码,小编帮您看看"),
        ("en", "Please message us your number and the contact number for further checkup."),
        ("en", "It is checked that the base station in your area will be expanded."),
        ("en", "Please call us when you get home and I will test your signal first."),
    ],
)
def test_plain_steps_are_next_steps(language: str, text: str) -> None:
    assert "next_step" in fired("solve_problem", language, text)


def test_private_message_request_for_a_checkup_is_no_commitment() -> None:
    text = "Please message us your number and the contact number for further checkup."
    assert "commitment" not in fired("solve_problem", "en", text)


@pytest.mark.parametrize(
    "text",
    ["We will strive to speed up the network construction.", "Our company is making improvements."],
)
def test_pledge_in_plain_words_is_a_commitment(text: str) -> None:
    assert "commitment" in fired("solve_problem", "en", text)


# --- a busy line given as the cause ------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "月初话务繁忙,接通率有所降低,给您带来不便非常抱歉"),
        ("en", "When the lines are busy, the access rate will be reduced."),
    ],
)
def test_busy_line_given_as_the_cause_is_an_excuse(language: str, text: str) -> None:
    assert "excuse" in fired("no_excuses", language, text)
