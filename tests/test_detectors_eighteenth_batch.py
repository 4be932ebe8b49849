"""Thirty-fourth round (issue 13 item 5), from the eighteenth batch of dev labels (Mandarin
restatements and undertakings): a gap phrase such as 就是说…吗 whose question is the agent's own
proposal (…您看这样可以吗, …我来帮您协商好吗) or a reminder of the customer's words (您不是说…吗)
restates nothing; a confirmation in the same words still does. Lines busy at peak times
(遇话务忙时，接通率有所降低) are a cause given.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired


@pytest.mark.parametrize(
    "text",
    [
        "就是说我这边先帮您申请一个红包，您看这样可以吗",
        "就是说您把订单号发给我，我来帮您跟商家协商好吗",
        "您这边不是说还在等医院的报告吗，那我先帮您登记",
    ],
)
def test_a_proposal_or_a_reminder_is_no_paraphrase(text: str) -> None:
    assert "paraphrase" not in fired("paraphrase", "zh", text)


@pytest.mark.parametrize("text", ["就是说您一直没有收到退款吗", "您是说骑手没有给您打电话吗"])
def test_a_confirming_question_is_still_a_paraphrase(text: str) -> None:
    assert "paraphrase" in fired("paraphrase", "zh", text)


def test_busy_lines_at_peak_times_are_an_excuse() -> None:
    text = "热线是统一的服务电话，遇话务忙时，接通率有所降低，请您见谅"
    assert "excuse" in fired("no_excuses", "zh", text)
