"""Forty-fifth round (issue 13 item 5), from the thirtieth batch of dev labels (reasons in both
languages, the last lines of Mandarin chats and threads, Mandarin undertakings, English times and
acknowledgements, the last lines of English threads, a uniform part): a pledge to keep improving
commits; a plea for continued support asks no favour, so the thanks after it close; a later doubt
or a problem during use, and the way to reach the company, invite; the environment named as the
cause excuses. The customer's protest found in this round's QA read (你听我说完) is tested in
``tests/test_let_finish_protest.py``.

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
        ("We will keep trying our best to improve the signal in your area.", True),
        ("Our company will constantly optimize the network coverage.", True),
        ("Hello! We will keep improving our service. Thank you!", True),
        # the customer's doing, not the company's pledge
        ("You can keep trying to reconnect every few minutes.", False),
        # thanks for praise with a pledge to serve: no problem to commit to (as the labels read)
        (
            "Your satisfaction is our engine and we will keep trying to provide better service.",
            False,
        ),
    ],
)
def test_a_pledge_to_keep_improving_commits(text: str, commits: bool) -> None:
    assert ("commitment" in fired("solve_problem", "en", text)) is commits


@pytest.mark.parametrize(
    ("text", "closes"),
    [
        ("We are glad you like it. Hope you can continue supporting us. Thank you!", True),
        ("Please continue to support us. Thank you!", True),
        # the thanks end a request
        ("Please send us your phone number via private message. Thank you!", False),
    ],
)
def test_thanks_after_a_plea_for_continued_support_close(text: str, closes: bool) -> None:
    assert (1 in _closing("en", text).get("closing_thanks", set())) is closes


@pytest.mark.parametrize(
    "text",
    [
        "If you are in doubt about the bill, please contact us or call 10000.",
        "For any problems during the subsequent use, you can consult us at the hotline.",
    ],
)
def test_a_later_doubt_or_a_problem_during_use_invites(text: str) -> None:
    assert 1 in _closing("en", text).get("closing_invite", set())


def test_the_environment_named_as_the_cause_excuses() -> None:
    text = "The signal will be affected by the environment and other factors, we are sorry."
    assert "excuse" in fired("no_excuses", "en", text)


def test_handling_said_with_the_plain_you_commits() -> None:
    assert "commitment" in fired("solve_problem", "zh", "小零尽快安排客服为你处理")


@pytest.mark.parametrize("text", ["亲亲 小美明白呢", "小沃明白您的意思，这就帮您查询"])
def test_the_chat_persona_saying_it_understands_acknowledges(text: str) -> None:
    """A QA read of a MUSIED chat (seed 438): the agent's 亲亲 小美明白呢 to a customer demanding
    a refund was counted as no acknowledgement, and the chat coached to say 我明白您的意思. The
    persona speaking of itself understands as 我 does (小美了解 already counted)."""
    assert "ack_phrase" in fired("acknowledge", "zh", text)
