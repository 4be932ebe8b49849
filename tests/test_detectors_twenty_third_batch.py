"""Thirty-eighth round (issue 13 item 5), from the twenty-third batch of dev labels (Mandarin
phone calls, English lines with a step word): a cause phrase followed by a question word asks
the customer's reason and gives none (您是因为什么原因需要退款呢, 原因是什么呢), and a thank-you
after "Little Wo suggests you …" thanks for a suggestion, not for the contact, as after "we
suggest you …".

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_eleventh_batch import _closing
from tests.test_detectors_recall import fired


@pytest.mark.parametrize(
    ("text", "excused"),
    [
        ("好的查看到您的订单了，您是因为什么原因需要退款呢先生", False),
        ("请问工作人员告诉您要回归属地办理的原因是什么呢？", False),
        ("这是因为系统升级，暂时无法为您办理", True),
        ("原因是商家那边还没有出餐，所以没办法给您取消", True),
    ],
)
def test_asking_the_customers_reason_is_no_excuse(text: str, excused: bool) -> None:
    assert ("excuse" in fired("no_excuses", "zh", text)) is excused


@pytest.mark.parametrize(
    ("last", "thanked"),
    [
        (
            "Little Wo suggests you log in to the business hall online to set it. Thank you!",
            False,
        ),
        ("Hello, you can set it up in the online business hall. Thank you for your support!", True),
    ],
)
def test_thanks_after_a_suggestion_by_name_do_not_close(last: str, thanked: bool) -> None:
    assert (1 in _closing("en", last).get("closing_thanks", set())) is thanked


@pytest.mark.parametrize(
    ("text", "excused"),
    [
        # a refusal with no reason: no excuse (the guideline; labels zh1222, zh1415)
        ("先生这个确实是没有办法的先生", False),
        ("哦这边我也没有办法加您微信的女士", False),
        ("目前没有办法帮您退了，这边帮您做个升级处理可以吗", False),
        # the same words with the reason in the sentence: an excuse
        ("您这边没有保留证据的话确实没办法先生", True),
        ("商家联系不上，我这边也是没有办法帮您退款的", True),
    ],
)
def test_a_refusal_counts_as_an_excuse_only_with_its_reason(text: str, excused: bool) -> None:
    assert ("excuse" in fired("no_excuses", "zh", text)) is excused
