"""Twenty-fourth round (issue 13 item 5), from the eighth batch of English dev labels: a choice
of solutions said as two steps joined by "or" in one sentence (both languages), and a delivery
time given as a part of the month.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import COMPLAINT, fired
from tests.test_detectors_text import A, C, call, run


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Please submit a repair request on our website or bring the phone to a shop."),
        ("en", "We suggest you reinstall the app or switch to another browser."),
        ("en", "You can go back to your home city to handle it or change to a local card."),
        ("en", "We recommend a report page for such calls or you can report them to the police."),
        ("en", "You can check the bill at www.example.com or log in the mobile app to check it."),
        ("zh", "建议您使用自助服务或稍后再来咨询人工客服"),
        ("zh", "请您把手机带到维修门店检测，或在官网提交售后申请"),
        ("zh", "建议您登录官网（www.example.com 或 t.tt）提交申请，或前往附近的网点检测"),
    ],
)
def test_two_steps_joined_by_or_are_options(language: str, text: str) -> None:
    assert "options" in fired("options", language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        # a negation before "or": a warning, not a choice
        ("en", "Please do not charge it for long or use it while charging."),
        # "or" before a noun asks for details
        ("en", "Please tell us your account number or order number via private message."),
        # a closing that invites future contact
        ("en", "For any problem in the future, please send us a message or call our hotline."),
        # a question
        ("en", "Could you please describe the problem or call us?"),
        # two verbs of one action
        ("en", "You can open the store to update or install the module."),
        ("zh", "您可以点击链接上传照片或者视频"),
        ("zh", "后续有任何问题都可以私信联系我们或者拨打客服热线"),
        ("zh", "请勿自行剪卡或使用非标准的卡"),
    ],
)
def test_no_options_without_two_steps_offered(language: str, text: str) -> None:
    assert "options" not in fired("options", language, text)


def test_options_finding_quotes_the_whole_choice() -> None:
    text = "Sorry about that. Please log in our website to apply for repair or bring it to a shop."
    report = call("en", (C, 0.0, 3.0, COMPLAINT["en"]), (A, 3.5, 9.0, text))
    (finding,) = [f for f in run("options", report).findings if f.kind == "options"]
    assert finding.quote == text and finding.match_kind == "pattern"
    said = finding.quote[finding.match_start : finding.match_end]
    assert said == finding.matched
    assert said.startswith("Please") and said.endswith("bring")


def test_delivery_in_the_middle_of_the_month_is_a_time_frame() -> None:
    text = "Your order will be delivered in the middle of the month, we have arranged it."
    assert "time_frame" in fired("solve_problem", "en", text)


def test_a_four_letter_word_is_no_slip_of_another() -> None:
    """A four-letter word one letter from another ("calm" and "call", "hope" and "help") is
    another word, not a recognition slip, so "please calm down" is no step."""
    assert "next_step" not in fired("solve_problem", "en", "Please calm down, madam.")
    assert "next_step" in fired("solve_problem", "en", "Please call the hotline for a refund.")
