"""Refusals that give their cause, and causes outside the company's control (issue 13 item 5,
seventeenth round).

Sentences written from PRACTICES.md (理由少一点) and the labelling guideline (bench/labels/
README.md: a refusal that depends on a third party's consent, a limitation of permissions, a
merchant who could not be reached, the network's many factors), after reading agent lines of the
``tune`` dialogues that the detectors missed; none is copied from the evaluation data. Next to
them, look-alikes that must not fire: a hand-off made at once, a condition, "that's why you" in
casual talk.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired
from tests.test_detectors_text import A, C, call, run


@pytest.mark.parametrize(
    ("language", "text"),
    [
        # a refusal that rests on the merchant's consent or on the agent's permissions
        ("zh", "商家那边不同意退款，很抱歉小美无法为您操作"),
        ("zh", "我们这边客服的权限都是一样的，确实无法帮您申请"),
        ("zh", "这边一直没有联系到商家，暂时无法给您办理退款"),
        # the network's many factors, things nobody controls
        ("zh", "信号覆盖会受地形、建筑等多方面因素的影响，部分区域信号会弱一些"),
        ("zh", "基站建设涉及不少不可控因素，有的地方信号确实不太稳定"),
        # a cause in English: the reason for the refusal, supply, local policy
        ("en", "You used the account on another phone. That's the reason you could not get it."),
        ("en", "The new color sold out at once because the quantity is limited."),
        ("en", "The fee for your line is subject to the local policy, so it differs by city."),
    ],
)
def test_cause_of_a_refusal_or_a_shortfall_is_an_excuse(language: str, text: str) -> None:
    assert "excuse" in fired("no_excuses", language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        # the reason for a hand-off the agent makes at once
        ("zh", "小美这边权限有限，为了更好的解决您的问题帮您升级专员处理"),
        # a condition on what the agent would do
        ("zh", "如果商家不同意的话，我这边再帮您申请平台介入"),
        # "that's why you" explains a habit, not a refusal
        ("en", "That's why you check the books out from the library."),
    ],
)
def test_handoff_condition_or_habit_is_no_excuse(language: str, text: str) -> None:
    assert "excuse" not in fired("no_excuses", language, text)


def test_a_refusal_the_system_does_not_support_counts_before_the_complaint() -> None:
    """由于系统不支持… refuses with its reason: like 无法, it counts from the customer's first
    turn, even when the customer only complains later (a bare cause waits for the complaint)."""
    report = call(
        "zh",
        (C, 0.0, 3.0, "我想同时开通三方通话和国际漫游"),
        (A, 3.5, 9.0, "由于系统不支持三方通话与国际漫游同时开通，需要先取消国际业务才可以办理"),
        (C, 9.5, 12.0, "这也太不合理了，我要投诉"),
        (A, 12.5, 15.0, "给您带来不便，请您谅解"),
    )
    found = [f for f in run("no_excuses", report).findings if f.kind == "excuse"]
    assert [f.turn_index for f in found] == [1]
