"""Fortieth round (issue 13 item 5), from the twenty-fifth batch of dev labels (openings,
endings, restatements and acknowledgements, a uniform part): a call's 请您先挂机 asks no favour,
so the 感谢您 after the goodbye closes; 关注到您反映的问题 is what the customer reported, not the
agent's step; an undertaking said with 这里 or 如实 before the verb (我这里如实登记) and a hand-over
to the company's staff with no subject said again (并交到我司工作人员核查跟进) are the agent's
steps; 确实挺闹心 names the customer's feeling; the closing coaching quotes the goodbye, not a
trailing 那女士. In English a suggestion made to the product team is
the agent's step, a private message "any time" is an invitation and no step, and rules that differ
between cities are the reason given for a refusal.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_eleventh_batch import _closing
from tests.test_detectors_recall import fired
from tests.test_detectors_text import A, C, call, faults, run


@pytest.mark.parametrize(
    ("last", "thanked"),
    [
        # asking the customer to hang up asks no favour: the thanks after the goodbye close
        ("好的请您先挂机再见，保持手机畅通，感谢您", True),
        # a real request before a bare thanks: the thanks are for the favour
        ("好的请您提供一下订单号，谢谢", False),
    ],
)
def test_thanks_after_asking_to_hang_up_close(last: str, thanked: bool) -> None:
    assert (1 in _closing("zh", last).get("closing_thanks", set())) is thanked


@pytest.mark.parametrize(
    ("text", "undertakes"),
    [
        # noticing what the customer reported: no step of the agent's
        ("您好，我们已关注到您反映的问题，请您详细说明一下情况好吗？", False),
        ("您好，小编已关注到您反馈的问题，请问是哪一天的订单？", False),
        # the agent's own steps
        ("嗯我这里如实登记记录，您放心", True),
        ("您反映的问题小沃已知悉，并交到我司工作人员核查跟进", True),
        ("我们会尽快回电到您预留的号码", True),
    ],
)
def test_what_the_customer_reported_and_the_agents_own_steps(text: str, undertakes: bool) -> None:
    assert ("commitment" in fired("solve_problem", "zh", text)) is undertakes


def test_saying_it_is_really_upsetting_is_empathy() -> None:
    text = "这个东西肯定是没法吃了，确实是挺闹心的，我这边帮您投诉商家"
    assert "empathy" in fired("empathy", "zh", text, customer="饭里有虫子，恶心死了")


@pytest.mark.parametrize(
    ("text", "undertakes"),
    [
        ("We have made a suggestion to the product manager. They will consider it.", True),
        # a suggestion to the customer is no step of the agent's
        ("Sorry, we have no such function. Please look forward to new versions.", False),
    ],
)
def test_a_suggestion_made_to_the_product_team_is_a_step(text: str, undertakes: bool) -> None:
    assert ("commitment" in fired("solve_problem", "en", text)) is undertakes


def test_a_private_message_any_time_is_an_invitation_not_a_step() -> None:
    text = (
        "We are sorry for your unpleasant experience. You can send private messages to us any "
        "time in case of any other problems."
    )
    assert "next_step" not in fired("solve_problem", "en", text)
    assert 1 in _closing("en", text).get("closing_invite", set())


@pytest.mark.parametrize(
    ("text", "excused"),
    [
        (
            "We are very sorry. As the number resources of different cities are not the same, "
            "the registration shall be transacted in the local business hall.",
            True,
        ),
        ("The policies in different cities are not the same. Please consult the local hall.", True),
        ("We will send you the new card tomorrow.", False),
    ],
)
def test_rules_that_differ_between_cities_are_a_reason(text: str, excused: bool) -> None:
    assert ("excuse" in fired("no_excuses", "en", text)) is excused


def test_the_closing_coaching_quotes_the_goodbye_not_a_trailing_address() -> None:
    report = call(
        "zh",
        (C, 0.0, 2.0, "没有了"),
        (A, 2.5, 8.0, "嗯那打扰您了女士这边您优先挂机就可以了那祝您生活愉快女士"),
        (A, 8.5, 9.0, "那女士"),
        (C, 9.5, 10.0, "好"),
    )
    (f,) = faults(run("closing", report))
    assert f.kind == "closing_incomplete"
    assert f.turn_index == 1 and "祝您生活愉快" in f.quote
