"""Thirty-second round (issue 13 item 5), from the sixteenth batch of dev labels (blame put on
another party, arguing): telling the customer to settle it with the merchant by themselves, or to
take the question to the maker or to another operator, shifts the blame; a merchant manager
(商家负责人) who handles the complaint is not the merchant made responsible; 那不可能 contradicts;
a line busy with too many people, goods still on the way, pests from storage are causes given;
道个歉 apologises; asking which thing the customer meant is no paraphrase.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired


@pytest.mark.parametrize(
    "text",
    [
        "实在联系不上商家，还是建议您自行到店里跟商家沟通一下退款",
        "退款的事您可以跟商家联系沟通一下",
        "这个参数需要以厂家公布的为准哦",
        "建议您咨询苹果售后核实一下",
    ],
)
def test_sending_the_customer_to_another_party_shifts_the_blame_zh(text: str) -> None:
    assert "blame_shift" in fired("no_blame_shift", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "您反映的商家问题已记录，由商家负责人对商家进行考核处理",
        "我这边帮您联系商家沟通退款，您稍等",
        "小美已经跟商家协商好了，商家会联系您",
    ],
)
def test_the_agent_dealing_with_the_merchant_shifts_nothing_zh(text: str) -> None:
    assert "blame_shift" not in fired("no_blame_shift", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "Your roaming network there belongs to a local carrier; you can consult the local "
        "operator about it.",
        "The screen specifications are subject to the manufacturer.",
    ],
)
def test_sending_the_customer_to_another_company_shifts_the_blame_en(text: str) -> None:
    assert "blame_shift" in fired("no_blame_shift", "en", text)


def test_the_agent_asking_the_maker_shifts_nothing_en() -> None:
    text = "I will contact the manufacturer about your screen and call you back tomorrow."
    assert "blame_shift" not in fired("no_blame_shift", "en", text)


def test_a_flat_contradiction_is_arguing() -> None:
    assert "arguing" in fired("no_arguing", "zh", "那不可能，我们系统显示是正常的")


@pytest.mark.parametrize(
    "text",
    [
        "非常抱歉，现在排队人数过多，您可以稍后再来咨询",
        "因为餐品现在还在配送过程中，这边暂时没法给您处理退款",
        "这种情况是发生在运输过程中的，包装无法完全避免",
        "可能是由于系统升级，页面暂时打不开",
    ],
)
def test_causes_given_for_a_shortfall_are_excuses(text: str) -> None:
    assert "excuse" in fired("no_excuses", "zh", text)


def test_our_department_lacking_the_data_is_an_excuse_en() -> None:
    text = (
        "As our department does not have the coverage data, you are suggested to call the "
        "hotline to report it."
    )
    assert "excuse" in fired("no_excuses", "en", text)


def test_an_apology_with_a_measure_word_is_an_apology() -> None:
    assert "apology" in fired("apologize_for_inconvenience", "zh", "这件事我先给您道个歉")


def test_asking_which_thing_was_meant_is_no_paraphrase() -> None:
    kinds = fired("paraphrase", "en", "We have two plans with that name. Which plan did you mean?")
    assert "paraphrase" not in kinds
