"""Acknowledgements, excuses, blame and closing thanks, seventh round (issue 13 item 5).

Sentences written from PRACTICES.md and the labelling guideline (bench/labels/README.md) after
the dev errors of the fourth batch, not copied from any evaluation data: saying the customer's
matter was received in ordinary words (object first: 您反映的问题我们已经收到), a refusal given
with its reason or condition (an excuse even before any complaint word), the reason for a
hand-off made at once (no excuse), a rule the agent will apply (no excuse), causes that make a
shortfall look normal, another party named as at fault, and a thank-you that ends a request.
Each case keeps the meaning: a negation stays, the customer's words stay the customer's.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired

# --- acknowledgement: the matter was received, in ordinary words ---------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "您好,您所反映的问题我们已经收到,会尽快处理"),
        ("zh", "您好,小沃已关注到您所反映的问题,请您私信提供号码"),
        ("zh", "好的女士这边是看到您反馈的这个问题了"),
        ("zh", "您的心情我们能理解,感谢您的反馈"),
        ("en", "We've noticed your problem. Please send us your number."),
        ("en", "We have paid attention to the issue you fed back."),
        ("en", "We have received the problem you reported and will check it."),
        ("en", "Hello, Xiao Wo understands how you feel."),
    ],
)
def test_matter_received_is_an_acknowledgement(language: str, text: str) -> None:
    assert "ack_phrase" in fired("acknowledge", language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "您的心情我们不能理解"),  # the negation stays
        ("zh", "我们没有看到您反馈的问题"),
        ("zh", "您反馈的问题还没有收到"),
        ("en", "We have not received the message you sent."),
        ("en", "Have you noticed your problem again?"),  # a question to the customer
    ],
)
def test_negated_or_asked_receipt_is_no_acknowledgement(language: str, text: str) -> None:
    assert "ack_phrase" not in fired("acknowledge", language, text)


def test_customers_receipt_words_are_not_the_agents() -> None:
    """The customer saying it was received is not the agent acknowledging."""
    assert "ack_phrase" not in fired(
        "acknowledge", "zh", "好的请稍等", customer="您反映的问题我们已经收到"
    )


# --- excuse: a refusal with its reason or condition --------------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "因为我们客服这边确实无法直接帮您操作退款"),
        ("zh", "抱歉，如商家没有同意退款，小美这边无法为您退款的"),
        ("zh", "如果您没有保留凭证我们也没有办法证明"),
        ("zh", "因门店的卡已经用完了,暂时没有补货,所以只能给您剪卡"),
        ("zh", "由于每月月初是系统出账期,显示的费用可能不准确"),
        ("en", "Services are still being processed in the system so you cannot apply for others."),
        ("en", "It's hard to avoid small differences between batches of materials."),
        ("en", "The refund is kept as balance, which can't be returned when you cancel."),
    ],
)
def test_reason_that_defends_a_shortfall_is_an_excuse(language: str, text: str) -> None:
    assert "excuse" in fired("no_excuses", language, text)


@pytest.mark.parametrize(
    "customer",
    ["您好，我想问一下能不能退款", "请问可以直接给我退款吗"],  # a plain request, no complaint word
)
def test_refusal_with_its_reason_needs_no_complaint_first(customer: str) -> None:
    text = "因为商家还没有回复，小美这边暂时无法为您退款"
    assert "excuse" in fired("no_excuses", "zh", text, customer=customer)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        # the reason for a hand-off made at once leads to the solution
        ("zh", "非常抱歉，因小美这边权限有限，为了更好的解决您的问题帮您升级到专员处理"),
        # the rule the agent will apply is the agent's step, not a justification
        ("zh", "小美会把问题反馈给相关部门审查，之后会按照规定进行处理"),
        # a condition on the agent's own action
        ("zh", "如果联系不上商家，小美会为您申请退款"),
        # a procedure asked about, no refusal, no reason
        ("zh", "因为您不是用下单的号码来电，需要您提供一笔订单信息"),
        ("en", "If you cannot take out the card, please send the phone to us."),
    ],
)
def test_reason_for_a_handoff_a_rule_applied_or_a_condition_is_no_excuse(
    language: str, text: str
) -> None:
    assert "excuse" not in fired("no_excuses", language, text)


def test_refusal_kept_when_a_handoff_follows() -> None:
    """没有办法给您退款 still refuses, even with the escalation after it."""
    text = "小美这边权限有限，没有办法给您操作退款，这边给您升级专员处理"
    assert "excuse" in fired("no_excuses", "zh", text)


def test_cause_of_a_delay_said_as_the_agents_own_words_stays_an_excuse() -> None:
    assert "excuse" in fired("no_excuses", "zh", "我们会因为天气原因晚一点送到")


# --- blame shift: another party named as at fault ----------------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "退改签是航空公司根据舱位具体规定的"),
        ("en", "It should be the problem of the app store, not ours."),
    ],
)
def test_another_party_named_as_at_fault_is_blame_shift(language: str, text: str) -> None:
    assert "blame_shift" in fired("no_blame_shift", language, text)


def test_contacting_the_party_for_the_customer_is_no_blame_shift() -> None:
    assert "blame_shift" not in fired("no_blame_shift", "zh", "小美这边帮您联系航空公司核实")


# --- closing thanks: a thank-you that ends a request -------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "You may have to take the trouble to test the card again. Thank you!",
        "You can send the details via private message and we will check it. Thank you!",
    ],
)
def test_thanks_after_a_request_is_no_closing(text: str) -> None:
    assert "closing_thanks" not in fired("closing", "en", text)


@pytest.mark.parametrize(
    "text",
    [
        "We have recorded your issue and will improve our service. Thank you!",
        "Please send us a private message. Thank you for your support!",
    ],
)
def test_thanks_closing_an_answer_or_naming_the_support_still_closes(text: str) -> None:
    assert "closing_thanks" in fired("closing", "en", text)
