"""Twenty-sixth round (issue 13 item 5), from the tenth batch of English dev labels (the agent's
first and last replies in Weibo threads): regret said as "sorry for your inconvenience" or
"sorry for your unpleasant experience" is an apology; "This is Xiao Bian" ("the editor", 小编)
names no one; "or subscribe" offers a second way.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired


@pytest.mark.parametrize(
    "text",
    [
        "Hello! Sorry for your inconvenience. We will look into it.",
        "We deeply apologize for your inconvenience.",
        "We are deeply sorry for your unpleasant experience with the app.",
    ],
)
def test_regret_for_the_customers_trouble_is_an_apology(text: str) -> None:
    assert "apology" in fired("apologize_for_inconvenience", "en", text)


def test_no_need_to_be_sorry_is_no_apology() -> None:
    text = "There is no need to be sorry for your trouble, madam."
    assert "apology" not in fired("apologize_for_inconvenience", "en", text)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Hello! This is Xiao Bian with the customer service team.", False),
        ("Hello! I am Xiaobian of the customer service.", False),
        ("Hello! This is David with the customer service team.", True),
    ],
)
def test_the_editor_is_no_name(text: str, named: bool) -> None:
    assert ("greeting_name" in fired("greeting", "en", text)) is named


def test_subscribing_is_a_second_way() -> None:
    text = "Please watch our official website for the news or subscribe to our messages."
    assert "options" in fired("options", "en", text)
