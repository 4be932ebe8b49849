"""Forty-ninth round (issue 13 item 5), from the thirty-fourth batch of dev labels (Mandarin
reasons, endings, commitments and times; English reasons, next steps, endings and
acknowledgements; a uniform part): a thanks followed only by a turn that takes leave (…祝您生活
愉快请您先挂机再见) still closes the call, and 感谢理解 is such a thanks; "the specialist's handling
also takes time" defends a wait; 现在为您 + a step states when; describing the matter to a
department is a step; a settings menu path the customer is sent to is the customer's step.
English: "our staff will follow up and handle the problem" commits; a poor signal made normal by
the changing network excuses it; "Sorry, <a statement>" apologises, while "sorry, what was
that" and "sorry, I mean …" do not. From this round's QA reads: a customer who found a cockroach
or a steel wire in the food, or whose merchant never answered, raised a problem.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data (the docstrings quote the lines that showed a fault).
"""

from __future__ import annotations

import pytest

from calmline.monitor.rubric import default_rubric
from calmline.monitor.scoring import score_report
from calmline.monitor.types import Role
from tests.test_applicability import practice, scored
from tests.test_detectors_eleventh_batch import _kinds_at
from tests.test_detectors_recall import fired
from tests.test_detectors_text import call as text_call
from tests.test_stress import A, C, call


def _closing_kinds(language: str, *agent_lines: str) -> dict[str, set[int]]:
    """Closing finding kinds and the agent turns they point at, after a customer line that ends
    the matter."""
    customer = "问题解决了，谢谢" if language == "zh" else "That solves it, thanks."
    turns = [(Role.CUSTOMER, 0.0, 3.0, customer)]
    start = 3.5
    for text in agent_lines:
        turns.append((Role.AGENT, start, start + 4.0, text))
        start += 4.5
    return _kinds_at(text_call(language, *turns), "closing")


@pytest.mark.parametrize(
    ("language", "thanks", "last", "closes"),
    [
        (
            "zh",
            "好的不客气，非常感谢您的来电，稍后请您对本次服务进行评价",
            "先生那这边就不打扰您了祝您生活愉快请您先挂机再见",
            True,
        ),
        (
            "en",
            "You're welcome. Thank you for calling our bank today.",
            "Okay Mr. Smith, have a nice day. Bye.",
            True,
        ),
        # the last turn brings a new detail: the thanks before it was said mid-conversation
        (
            "zh",
            "好的不客气，非常感谢您的来电",
            "另外您的退款会在三个工作日内原路退回，祝您生活愉快再见",
            False,
        ),
        (
            "en",
            "Thank you for calling our bank today.",
            "Also, your new card will arrive within five business days. Bye.",
            False,
        ),
    ],
)
def test_thanks_before_a_turn_that_only_takes_leave_closes(
    language: str, thanks: str, last: str, closes: bool
) -> None:
    found = _closing_kinds(language, thanks, last)
    assert (1 in found.get("closing_thanks", set())) is closes
    assert 2 in found.get("closing_farewell", set())


def test_ganxie_lijie_thanks_at_the_end() -> None:
    found = _closing_kinds("zh", "不客气应该的感谢理解那我就不打扰您了再见")
    assert 1 in found.get("closing_thanks", set()) & found.get("closing_farewell", set())


@pytest.mark.parametrize(
    ("text", "excuses"),
    [
        ("专员那边处理也是需要时间的亲", True),
        ("先生，专员处理确实需要一个时间的", True),
        # a time stated for the step, no defence of the wait
        ("专员会在4小时内联系您", False),
    ],
)
def test_the_handling_takes_time_defends_the_wait(text: str, excuses: bool) -> None:
    assert ("excuse" in fired("no_excuses", "zh", text)) is excuses


@pytest.mark.parametrize(
    ("text", "timed"),
    [
        ("小美现在为您办理退款可以吗", True),
        ("好的亲，现在给您转接到专员", True),
        # 现在 about the phone number, no step's time
        ("您现在的来电号码不是绑定的手机号", False),
    ],
)
def test_now_for_you_states_when(text: str, timed: bool) -> None:
    assert ("time_frame" in fired("solve_problem", "zh", text)) is timed


def test_describing_the_matter_to_a_department_is_a_step() -> None:
    found = fired("solve_problem", "zh", "抱歉，我这边把您的问题描述给技术部门")
    assert {"next_step", "commitment"} <= found


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        ("请您点击“设置 > 声音 > 音量”，向右调节铃声音量", True),
        ("您看下手机设置——通用里是否打开了这个开关", True),
        # information asked for, no step
        ("请问您的手机是什么型号呢", False),
    ],
)
def test_a_settings_path_is_the_customers_step(text: str, steps: bool) -> None:
    customer = "闹钟到点不响，怎么回事"
    assert ("next_step" in fired("solve_problem", "zh", text, customer)) is steps


@pytest.mark.parametrize(
    ("text", "commits"),
    [
        ("Our staff will follow up and handle your case.", True),
        # a question about what the customer did
        ("Have you contacted our staff and asked them to fix the problem for you?", False),
        # the staff's concrete step: a next step only
        ("Our staff will contact you later.", False),
    ],
)
def test_staff_who_will_handle_the_matter_commit(text: str, commits: bool) -> None:
    assert ("commitment" in fired("solve_problem", "en", text)) is commits


@pytest.mark.parametrize(
    ("text", "excuses"),
    [
        (
            "The network environments are changing as the city grows, so signals may not be "
            "very good in a few spots.",
            True,
        ),
        # a fix asked for, no cause given
        ("Please restart the phone and check whether the signal returns.", False),
    ],
)
def test_a_poor_signal_made_normal_excuses_it(text: str, excuses: bool) -> None:
    assert ("excuse" in fired("no_excuses", "en", text)) is excuses


@pytest.mark.parametrize(
    ("text", "apologises"),
    [
        ("Sorry, the software builds up caches as the phone gets older. Please clear them.", True),
        ("Sorry, what was that?", False),
        ("Sorry, I mean the card ending in four.", False),
        ("Sorry, could you give me the number again", False),
    ],
)
def test_sorry_with_a_comma_before_a_statement(text: str, apologises: bool) -> None:
    found = fired("apologize_for_inconvenience", "en", text)
    assert ("apology" in found) is apologises


@pytest.mark.parametrize(
    ("customer", "problem"),
    [
        ("我在饭里吃出了一只蟑螂，商家电话也没有回应", True),
        ("外卖的炒饭里有一根钢丝", True),
        ("商家一直不理我，消息也不回", True),
        # a routine request
        ("我想问一下怎么修改收货地址", False),
    ],
)
def test_food_found_in_the_meal_or_a_merchant_who_never_answers_is_a_problem(
    customer: str, problem: bool
) -> None:
    """A MUSIED call whose customer said 菜里面吃出了蟑螂跟商家打电话没有回应 was read as "no
    customer problem heard": solve_problem, apology and acknowledgement were not judged."""
    assert solve_problem_judged("您好，美团客服，很高兴为您服务", customer) is problem


def solve_problem_judged(opening: str, customer: str) -> bool:
    """Whether solve_problem is judged on a Mandarin call of the agent's ``opening``, the
    customer's one line and the agent's plain answer."""
    report = call(
        [
            A(0.0, 3.0, opening),
            C(3.5, 9.0, customer),
            A(9.5, 14.0, "好的，我这边看一下"),
        ]
    )
    return practice(scored(report), "solve_problem").applicable


@pytest.mark.parametrize(
    ("language", "customer", "last", "judged"),
    [
        (
            "zh",
            "宽带一直断线，你们管不管",
            "您好，请您以私信的方式提供宽带账号和联系电话，以便我们为您核实处理，谢谢！",
            False,
        ),
        (
            "en",
            "My broadband keeps dropping and nobody fixes it.",
            "Hello, please provide your broadband account and contact number via private "
            "message so that we can verify it. Thank you!",
            False,
        ),
        # the reply invites later contact as well: the agent closed the thread
        (
            "zh",
            "宽带一直断线，你们管不管",
            "您好，已为您登记处理，如有疑问可随时私信我们，祝您生活愉快！",
            True,
        ),
        # no private message: the reply is the whole contact
        (
            "en",
            "My broadband keeps dropping and nobody fixes it.",
            "Hello, we have reported the fault and the engineer will visit today.",
            True,
        ),
    ],
)
def test_a_thread_moved_to_private_messages_is_not_judged_on_its_closing(
    language: str, customer: str, last: str, judged: bool
) -> None:
    """201 Mandarin and 118 English tune threads end on a reply asking for the customer's
    details by private message; 107 of them were coached for a thanks and a goodbye."""
    report = call([C(0.0, 6.0, customer), A(6.5, 14.0, last)], language=language)
    scored = score_report(report, default_rubric(language))
    (closing,) = [p for p in scored.scorecard.practices if p.practice == "closing"]
    assert closing.applicable is judged
    if not judged:
        assert "private messages" in closing.reason
        assert closing.coaching is None


@pytest.mark.parametrize(
    "customer",
    ["你给我解释解释，一天怎么用掉了三个G流量", "手机放着不用也在偷流量"],
)
def test_asking_for_an_explanation_of_the_data_used_is_a_problem(customer: str) -> None:
    report = call([C(0.0, 6.0, customer), A(6.5, 12.0, "您好，我这边帮您查询一下")])
    scored = score_report(report, default_rubric("zh"))
    (solve,) = [p for p in scored.scorecard.practices if p.practice == "solve_problem"]
    assert solve.applicable


@pytest.mark.parametrize(
    ("last", "invites"),
    [
        # the condition of a request for the customer's details
        (
            "I am sorry for the trouble. If you need any help, could you please provide your "
            "card number by private message?",
            False,
        ),
        ("If you need any help, please send us your user name via private message.", False),
        # an invitation that stays one
        ("I have reported it. If you need any help, feel free to contact us again.", True),
    ],
)
def test_an_invitation_that_leads_into_a_request_for_details_asks(last: str, invites: bool) -> None:
    found = _closing_kinds("en", last)
    assert (1 in found.get("closing_invite", set())) is invites
