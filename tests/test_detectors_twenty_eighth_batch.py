"""Forty-third round (issue 13 item 5), from the twenty-eighth batch of dev labels (English
thanks and thread endings, Mandarin restatements and commitments, English steps, the last lines
of Mandarin calls, a uniform part): a verb the agent asks the customer to do (我只能建议您与商家联
系) is no undertaking of the agent's; a plea to bear with it (给您带来的不便，请见谅。谢谢！) asks
no favour, and the thanks after it still close the reply.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_eleventh_batch import _closing
from tests.test_detectors_recall import fired


@pytest.mark.parametrize(
    ("text", "commits"),
    [
        ("关于退款的问题，我这边只能是建议您与商家联系进行沟通", False),
        ("我这边请您重新下单，商家会优先出餐", False),
        # the agent's own step, with the customer as its object: still a commitment
        ("我这边帮您联系一下商家，您稍等", True),
    ],
)
def test_what_the_agent_asks_the_customer_to_do_is_not_its_undertaking(
    text: str, commits: bool
) -> None:
    assert ("commitment" in fired("solve_problem", "zh", text)) is commits


@pytest.mark.parametrize(
    ("text", "closes"),
    [
        ("您好，货源紧张，我们会尽快发货，给您带来的不便，请见谅。谢谢！", True),
        ("您好，请您别心急，我们正在加紧处理。谢谢！", True),
        # a favour asked: the thanks are for it
        ("您好，请您私信提供一下手机号码。谢谢！", False),
    ],
)
def test_thanks_after_a_plea_to_bear_with_it_close(text: str, closes: bool) -> None:
    assert (1 in _closing("zh", text).get("closing_thanks", set())) is closes
