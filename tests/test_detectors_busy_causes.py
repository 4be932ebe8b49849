"""Busy lines, many users and a product's nature given as the cause of a shortfall, and the
responsibility put on the merchant in English (issue 13 item 5, twentieth round).

The labelling guideline (bench/labels/README.md, ``excuse``) counts a cause that makes a
shortfall look normal: traffic or busy lines, the product's nature, a third party's fault.
Sentences written from the guideline after reading agent lines of the ``tune`` dialogues that the
detector missed; none is copied from the evaluation data. Next to them, look-alikes that must
not fire: a diagnosis that may be the cause, a menu path, a question.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "可能是月初客服热线比较繁忙，您可以换个时间再拨打"),
        ("zh", "由于目前咨询用户较多，回复会慢一些，请您不要着急"),
        ("zh", "月初出账期话务量骤增，热线会出现较难接入的情况"),
        ("zh", "最近快递量激增，对包裹转运影响较大"),
        ("zh", "这个现象是由于触摸屏容易受到充电电流干扰所致"),
        ("en", "This problem is caused by poor storage during shipping."),
        ("en", "There may be many users choosing the same number at the same time."),
        ("en", "The cards are limited every day and are sold out within a short period."),
        ("en", "A lot of memory is occupied after startup, which is a normal phenomenon."),
    ],
)
def test_busy_lines_many_users_or_the_products_nature_is_an_excuse(
    language: str, text: str
) -> None:
    assert "excuse" in fired("no_excuses", language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "请您打开91助手，点击系统维护，重装守护程序"),
        ("zh", "请问您的手机是什么时候开始出现这个问题的呢"),
        ("en", "Restarting may be caused by deleting a system file by mistake; please restore it."),
        ("en", "Which card number did you use to recharge?"),
    ],
)
def test_a_diagnosis_a_menu_path_or_a_question_is_no_excuse(language: str, text: str) -> None:
    assert "excuse" not in fired("no_excuses", language, text)


@pytest.mark.parametrize(
    "text",
    [
        "That's the merchant's responsibility, you need to contact them.",
        "The delay is the courier's fault.",
        "You need to contact the seller about the refund.",
    ],
)
def test_responsibility_put_on_the_merchant_or_the_courier_shifts_the_blame(text: str) -> None:
    assert "blame_shift" in fired("no_blame_shift", "en", text)


def test_responsibility_denied_to_the_merchant_shifts_nothing() -> None:
    text = "It is not the merchant's responsibility, it's ours, and we will refund you."
    assert "blame_shift" not in fired("no_blame_shift", "en", text)
