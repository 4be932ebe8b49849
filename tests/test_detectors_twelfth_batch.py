"""Twenty-eighth round (issue 13 item 5), from the twelfth batch of dev labels (Mandarin lines
that restate or confirm, English lines with a time word): an invitation said as 如需…与我们联系;
the customer's feelings in other words (您现在的心情…理解, 遇到…也会很生气); thinking it through
together commits; consulting a superior is a step; busy lines, a billing period, a new system's
launch and "others have such problem" are excuses; a request's purpose "so that we can
inquire"; "you can connect / click" names a step, while a link to rate the service does not;
"please keep calm" answers back; "thank you again for your support" closes.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from calmline.monitor.detectors import DetectorContext, detector_for
from calmline.monitor.textmatch import PhraseMatcher
from tests.test_detectors_eleventh_batch import _closing
from tests.test_detectors_recall import fired
from tests.test_detectors_text import CALM, RUBRICS, A, C, call


def test_an_invitation_with_yu_women_lianxi_invites_and_its_thanks_close() -> None:
    last = "小U建议您登录网上营业厅查询详单，届时如需帮助，欢迎您再与我们联系！谢谢！"
    kinds = _closing("zh", last)
    assert 1 in kinds.get("closing_invite", set()) and 1 in kinds.get("closing_thanks", set())


@pytest.mark.parametrize(
    "text",
    [
        "您现在的心情我们也能理解的",
        "如果是我遇到了类似的情况，我也会很生气的",
    ],
)
def test_the_customers_feeling_in_other_words_is_empathy(text: str) -> None:
    assert "empathy" in fired("empathy", "zh", text)


def test_thinking_it_through_together_commits() -> None:
    text = "您别着急，让小丽帮您一起想办法，看看怎么解决这个问题好吗"
    assert "commitment" in fired("solve_problem", "zh", text)


def test_consulting_a_superior_is_a_step() -> None:
    kinds = fired("solve_problem", "zh", "这个赔付我先跟主管申请一下，您稍等两分钟")
    assert {"next_step", "commitment", "time_frame"} <= kinds


@pytest.mark.parametrize(
    "text",
    [
        "There are a lot of users calling the hotline at the end of the month.",
        "Hello. It's billing period now, so the password cannot be changed.",
        "Hi, the new system was online this morning, sorry.",
        "Other apps also have such problem with this phone.",
    ],
)
def test_busy_lines_a_billing_period_or_a_new_system_is_an_excuse(text: str) -> None:
    assert "excuse" in fired("no_excuses", "en", text)


def test_inquiring_is_a_requests_purpose() -> None:
    text = "We still need your order number, so that we can inquire and handle the issue."
    kinds = fired("solve_problem", "en", text)
    assert "next_step" in kinds and "commitment" not in kinds


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("You can connect the phone to your computer and click Repair.", True),
        ("Please click the link below to evaluate our service. Thank you!", False),
    ],
)
def test_connecting_or_clicking_is_a_step_but_rating_is_not(text: str, step: bool) -> None:
    assert ("next_step" in fired("solve_problem", "en", text)) is step


def _retorts(agent: str) -> list[str]:
    """The retort phrases the shipped English rubric finds in the agent's line."""
    report = call(
        "en", (C, 0.0, 5.0, "Why did you cut my card off? I need it today."), (A, 6.0, 9.0, agent)
    )
    rubric = RUBRICS["en"]
    ctx = DetectorContext(
        report=report, rubric=rubric, matcher=PhraseMatcher(rubric.matching, "en"), stress=CALM
    )
    outcome = detector_for("let_finish")(ctx, "let_finish", rubric.practices["let_finish"])
    return [f.phrase for f in outcome.findings if f.kind == "retort"]


@pytest.mark.parametrize(
    ("agent", "retorts"),
    [
        ("Please keep calm, sir. We are checking it.", ["calm down"]),
        ("We keep your card safe while we check it.", []),
    ],
)
def test_please_keep_calm_answers_back(agent: str, retorts: list[str]) -> None:
    assert _retorts(agent) == retorts


def test_thank_you_again_for_your_support_closes_after_a_request() -> None:
    last = (
        "Please send us your number via private message so that we can check the signal. "
        "Thank you again for your understanding and support!"
    )
    assert 1 in _closing("en", last).get("closing_thanks", set())
