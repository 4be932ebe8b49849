"""Twenty-third round (issue 13 item 5), from the seventh batch of Mandarin dev labels:
compensation offered as 补偿您, a negotiation the agent takes on (帮您进行协商), and a check the
customer can make themselves (您也可以查看). Each is a next step; a negated one is none.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired


@pytest.mark.parametrize(
    "text",
    [
        "这边补偿您一张五元券可以吗",
        "那我来为您进行协商可以吗",
        "您也可以查看一下短信收件箱里有没有",
    ],
)
def test_steps_in_the_seventh_batchs_words(text: str) -> None:
    assert "next_step" in fired("solve_problem", "zh", text)


def test_compensation_refused_is_no_step() -> None:
    assert "next_step" not in fired("solve_problem", "zh", "我们没办法补偿您")
