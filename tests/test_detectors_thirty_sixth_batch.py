"""Fifty-first round (issue 13 items 3 and 5), from the thirty-sixth batch of dev labels
(Mandarin reasons, endings, restatements and commitments; English reasons and
acknowledgements; a uniform part): a piece of a number the customer just gave
(七五), repeated back with 是吧, restates it; a 谢谢 after a plea for understanding
(希望您可以谅解) closes the thread; "we will make great efforts to promote …" pledges; a step
offered on a condition in its clause (如需沃妹为您反映问题，可私信…) commits to nothing. From this
round's QA reads: the agent apologising for the trouble the customer met (给您带来不便, "sorry for
the inconvenience") shows there was a problem where the customer's words escaped the complaint
words (敢不敢给我一点2g稳定信号), while "sorry for the wait" does not; a customer who cannot find a
payment in the invoices (查询不着), who will angrily pull the SIM card (怒拔联通卡), or whose
headset is incompatible with the phone raised a problem; logging in again to see whether it
persists is the customer's step; MUSIED's timed-out message cut short (小美等的好辛苦…) is the
chat system's, not the agent's closing.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data (the docstrings quote the lines that showed a fault).
"""

from __future__ import annotations

import pytest

from calmline.monitor.types import Role
from tests.test_applicability import practice, scored
from tests.test_detectors_recall import fired
from tests.test_detectors_text import call as text_call
from tests.test_detectors_text import run
from tests.test_detectors_thirty_fourth_batch import _closing_kinds, solve_problem_judged
from tests.test_stress import A, C, call


def _paraphrase_turns(language: str, *lines: tuple[str, str]) -> set[int]:
    """Agent turns the paraphrase detector credits in a dialogue of ``(who, text)`` lines."""
    turns, start = [], 0.0
    for who, text in lines:
        role = Role.AGENT if who == "A" else Role.CUSTOMER
        turns.append((role, start, start + 2.5, text))
        start += 3.0
    report = text_call(language, *turns)
    found = run("paraphrase", report).findings
    return {f.turn_index for f in found if f.kind == "paraphrase"}


def test_a_piece_of_a_number_repeated_back_restates_it() -> None:
    """MUSIED: the customer reads the order number in pieces (六九零六, 七五) and the agent
    confirms each (七五是吧); a two-digit piece was taken for a backchannel such as 好的."""
    credited = _paraphrase_turns(
        "zh",
        ("C", "外卖里吃出了头发，我要退款"),
        ("A", "麻烦您报一下手机尾号"),
        ("C", "三八"),
        ("A", "三八是吧"),
    )
    assert 3 in credited


def test_a_backchannel_repeated_back_restates_nothing() -> None:
    credited = _paraphrase_turns(
        "zh",
        ("C", "外卖里吃出了头发，我要退款"),
        ("A", "麻烦您再确认一下是这个订单"),
        ("C", "对的"),
        ("A", "对的是吧"),
    )
    assert 3 not in credited


@pytest.mark.parametrize(
    ("last", "closes"),
    [
        # a plea for understanding asks no favour: the thanks ends the thread
        ("小沃真的非常抱歉，希望您可以谅解，谢谢！", True),
        ("给您带来不便非常抱歉，希望得到您的理解，谢谢！", True),
        # a request: the thanks is for the favour asked
        ("请您私信提供号码，谢谢！", False),
    ],
)
def test_thanks_after_a_plea_for_understanding_closes(last: str, closes: bool) -> None:
    found = _closing_kinds("zh", last)
    assert (1 in found.get("closing_thanks", set())) is closes


@pytest.mark.parametrize(
    ("text", "commits"),
    [
        ("We will make great efforts to promote the construction of base stations there.", True),
        ("We will promote network construction in your area.", True),
        # the customer's efforts, not the company's
        ("You have made great efforts to set it up, please restart the router now.", False),
    ],
)
def test_a_pledge_of_great_efforts_commits(text: str, commits: bool) -> None:
    customer = "The signal in my flat has been terrible for months."
    assert ("commitment" in fired("solve_problem", "en", text, customer)) is commits


def _judged(language: str, customer: str, reply: str, pid: str = "solve_problem") -> bool:
    report = call([C(0.0, 6.0, customer), A(6.5, 14.0, reply)], language=language)
    return practice(scored(report), pid).applicable


@pytest.mark.parametrize(
    ("language", "customer", "reply", "problem"),
    [
        (
            "zh",
            "联通能不能给我一个继续用下去的理由，敢不敢给我一格稳定的信号",
            "您好，很抱歉给您的使用带来不便，请您私信提供号码，我们为您核查。",
            True,
        ),
        (
            "en",
            "Can you give me one reason to keep my number with you?",
            "Hello! We are sorry for the inconvenience. Please send us your number via private "
            "message so that we can check it.",
            True,
        ),
        # routine courtesy: a wait apologised for is no sign of a problem
        (
            "en",
            "Could you tell me the balance on my savings account?",
            "Sorry for the wait, the balance is eighty-nine dollars.",
            False,
        ),
        ("zh", "请问这个套餐每个月多少钱", "不好意思让您久等了，这个套餐每月三十元。", False),
    ],
)
def test_an_apology_for_the_trouble_met_shows_a_problem(
    language: str, customer: str, reply: str, problem: bool
) -> None:
    """STC-3: 联通3g能给我一个再爱你的理由吗,敢不敢给我一点2g稳定信号 and its translation, "Can you
    provide stable 2G network?", use no complaint word; the agent's 抱歉给您的使用带来了不便 shows
    the problem, and solve_problem, acknowledge and the apology were not judged."""
    for pid in ("solve_problem", "acknowledge", "apologize_for_inconvenience"):
        assert _judged(language, customer, reply, pid) is problem, pid


@pytest.mark.parametrize(
    ("customer", "problem"),
    [
        ("我昨天交的两笔话费在电子发票上查询不着", True),
        ("信号三个月了还是这样，下午就去怒拔联通卡", True),
        # a question about where to find something
        ("请问电子发票在哪里打印", False),
    ],
)
def test_a_payment_not_found_or_a_card_pulled_out_is_a_problem(
    customer: str, problem: bool
) -> None:
    assert solve_problem_judged("您好，请问有什么可以帮您", customer) is problem


def test_a_headset_incompatible_with_the_phone_is_a_problem() -> None:
    """STC-3: "the drive-by-wire volume button is not only incompatible with Smartisan cellphone,
    but also incompatible with iPhone" was read as no problem."""
    customer = "The volume button of your headset is incompatible with my phone."
    assert _judged("en", customer, "Hi, which phone model do you use?")
    assert not _judged("en", "Which headsets work with my phone?", "Hi, the S200 works.")


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("重新登录一下您的云账户，看看还会不会这样？", True),
        ("您退出后重新登录试试，看是否恢复正常", True),
        # a question about what the customer did
        ("您之前有没有登录过云账户呢？", False),
    ],
)
def test_logging_in_again_is_the_customers_step(text: str, step: bool) -> None:
    customer = "云服务一直显示尚未同步，重启也没用，到底怎么回事"
    assert ("next_step" in fired("solve_problem", "zh", text, customer)) is step


def test_a_timed_out_message_cut_short_is_not_the_agents_closing() -> None:
    """MUSIED: a chat's last line is the system's timed-out message cut short
    (亲亲，小美等的好辛苦[可怜]，由于您在3分), and the closing coaching quoted it as the agent's
    ending that lacked thanks, an invitation and a goodbye."""
    report = call(
        [
            C(0.0, 3.0, "外卖里有铁丝，我要投诉"),
            A(3.5, 8.0, "非常抱歉，小美马上为您反馈专员跟进处理"),
            C(8.5, 10.0, "好"),
            A(70.0, 74.0, "如果您没有其他问题可以优先结束会话了亲亲"),
            A(250.0, 253.0, "亲亲，小美等的好辛苦[可怜]，由于您在3分"),
        ]
    )
    closing = practice(scored(report), "closing")
    assert "小美等的好辛苦" not in (closing.coaching or "")
    assert all("小美等的好辛苦" not in f.quote for f in closing.findings)


@pytest.mark.parametrize(
    ("text", "commits"),
    [
        # the help waits on the customer's asking for it
        ("给您带来不便请谅解，如需小沃为您反映问题，可私信您的号码和联系方式", False),
        # the condition closed by 的话, or by a comma, before the offer: the offer stands
        ("如果您需要的话我们可以帮您补发一个，运费到付即可", True),
        ("如需协助，请私信提供宽带账号，小沃帮您反馈核实", True),
    ],
)
def test_a_step_offered_on_a_condition_commits_to_nothing(text: str, commits: bool) -> None:
    """STC-3: 如需沃妹为您反映问题,可私信您的问题以及联系方式 was credited a commitment (the same
    thread's English reply, dev label en1615, reads none)."""
    found = fired("solve_problem", "zh", text, "宽带断了三天，营业厅也说不清楚")
    assert ("commitment" in found) is commits


@pytest.mark.parametrize(
    ("text", "shifts"),
    [
        ("这个您可以把有问题的商品拿给商家好吧", True),
        # the agent takes the matter to the merchant itself
        ("我这边把您的图片拿给商家核实一下", False),
    ],
)
def test_sending_the_customer_to_take_the_goods_to_the_merchant_shifts_the_matter(
    text: str, shifts: bool
) -> None:
    customer = "我不要补偿，我就要退款，这东西根本没法吃"
    assert ("blame_shift" in fired("no_blame_shift", "zh", text, customer)) is shifts


@pytest.mark.parametrize(
    ("text", "excuses"),
    [
        ("This problem occurs if the network signal is unstable.", True),
        ("The clock may be influenced by other antivirus applications.", True),
        # the supposed cause with the fix after it: a diagnosis
        ("This problem occurs if the network signal is unstable. Please restart the phone.", False),
    ],
)
def test_a_fault_said_to_come_with_a_condition_defends_it(text: str, excuses: bool) -> None:
    customer = "My phone keeps dropping calls, this is terrible."
    assert ("excuse" in fired("no_excuses", "en", text, customer)) is excuses
