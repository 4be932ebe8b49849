"""Thirtieth round (issue 13 item 5), from the fourteenth batch of dev labels (lines with a reason
word in both languages): a department off duty given for a refusal, a cause that "may be"
behind a fault, a delayed message, a long approval, an offer valid on one day only and "since
there is no" campaign defend a shortfall, while a supposed cause with its fix after it is a
diagnosis; trouble caused (给您造成…不便) is regretted; "our company" (我公司) is the agent's own
side when it commits.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired


def test_a_department_off_duty_given_for_a_refusal_is_an_excuse() -> None:
    text = "非常抱歉，售后部门已经下班了，小丽这边暂时无法帮您转过去"
    assert "excuse" in fired("no_excuses", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "The restart may be caused by apps you installed from unknown sources.",
        "Text messages might be delayed at busy times.",
        "Building a base station needs approval, so it may take a longer period.",
        "The gift was valid only during the holiday campaign, sorry.",
        "Since there is no exchange campaign at present, we cannot swap the phone.",
    ],
)
def test_a_cause_said_in_other_words_is_an_excuse(text: str) -> None:
    assert "excuse" in fired("no_excuses", "en", text)


def test_a_supposed_cause_with_its_fix_is_a_diagnosis() -> None:
    text = "The fast drain may be caused by background apps; we suggest you close them first."
    assert "excuse" not in fired("no_excuses", "en", text)


@pytest.mark.parametrize(
    "text",
    [
        "给您造成了一些不便，也请您谅解",
        "服务器升级给您造成的不便，敬请谅解",
    ],
)
def test_trouble_caused_is_regretted(text: str) -> None:
    assert "apology" in fired("apologize_for_inconvenience", "zh", text)


def test_our_company_committing_to_improve_is_a_commitment() -> None:
    # 我公司 is the subject as a whole: the bare 我 before 公司对于人员 is too far from its 会
    text = "很抱歉给您带来了困扰，我公司对于人员会不断加强服务培训"
    assert "commitment" in fired("solve_problem", "zh", text)
