"""Fiftieth round (issue 13 item 5), from the thirty-fifth batch of dev labels (Mandarin
restatements, times, choices and endings; English times, choices, endings and offers of help; a
uniform part): 这边为您协调处理 undertakes the matter, while 以便…为您协调处理 only names the step
a private message leads to; the chat's 一定竭尽全力为您服务 pledges; asking whether the customer
is the one with the problem (您是在国外无法正常使用吗) restates it; 二十四小时跟进 states when;
sending a roaming customer to the other carrier (建议您咨询相对应的运营商) shifts the matter; a
cause said with 是由于 defends the shortfall. English: the company's own people who will handle
the matter ("the director will verify and address your problem") commit for it, and so does "we
are now analyzing and solving it", while "our staff is currently handling your problem" reports
a step under way; staff arranged to handle the matter are a step; a question about the staff's
work ("is our staff still handling the issue?") commits to nothing; "Xiao Wo has known your
issue" acknowledges; "… or you can ask for a repair on our website" offers a second way. From
this round's QA reads: a customer who says the carrier treats old users worst and will leave, or
asks where the money went, raised a problem.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired
from tests.test_detectors_thirty_fourth_batch import solve_problem_judged


@pytest.mark.parametrize(
    ("text", "expected", "absent"),
    [
        ("请您私信告诉我们号码和联系人，这边为您协调处理", {"commitment", "next_step"}, set()),
        # the purpose of the private message names the step, the agent undertakes nothing yet
        ("请您私信提供号码，以便小编为您协调处理", {"next_step"}, {"commitment"}),
    ],
)
def test_coordinating_the_matter_for_the_customer(
    text: str, expected: set[str], absent: set[str]
) -> None:
    found = fired("solve_problem", "zh", text, "宽带断了三天，一直没人管")
    assert expected <= found
    assert not (absent & found)


@pytest.mark.parametrize(
    ("text", "restates"),
    [
        ("您好，请问您是出国以后手机无法正常使用吗？", True),
        ("请问您是指在家里信号不好吗？", True),
        # information asked for, and a proposal that names the problem's evidence
        ("请问您是本机号码吗？", False),
        ("您这边是否还留有异物的照片呢，我给您发个链接上传一下好吗", False),
    ],
)
def test_asking_whether_the_customer_has_the_problem_restates_it(text: str, restates: bool) -> None:
    customer = "我的卡到了国外就没信号，短信也收不到"
    assert ("paraphrase" in fired("paraphrase", "zh", text, customer)) is restates


@pytest.mark.parametrize(
    ("text", "commits"),
    [
        ("您好，小美来啦，一定竭尽全力为您服务", True),
        # glad to serve is the greeting's offer, no pledge
        ("您好，很高兴为您服务", False),
    ],
)
def test_the_chat_pledge_to_do_everything_commits(text: str, commits: bool) -> None:
    assert ("commitment" in fired("solve_problem", "zh", text)) is commits


@pytest.mark.parametrize(
    ("text", "timed"),
    [
        ("我这边二十四小时跟进您这个订单的处理进度", True),
        ("我这边会一直跟进您这个订单的处理进度", False),
    ],
)
def test_following_up_within_a_day_states_when(text: str, timed: bool) -> None:
    assert ("time_frame" in fired("solve_problem", "zh", text)) is timed


@pytest.mark.parametrize(
    ("text", "shifts"),
    [
        ("您在国外用的是当地的网络，具体的信号问题建议您咨询一下当地运营商", True),
        # the agent checks with the carrier itself
        ("我这边帮您联系运营商核实一下信号问题", False),
    ],
)
def test_sending_the_customer_to_another_carrier_shifts_the_matter(text: str, shifts: bool) -> None:
    customer = "出国以后手机一直没有信号"
    assert ("blame_shift" in fired("no_blame_shift", "zh", text, customer)) is shifts


@pytest.mark.parametrize(
    ("text", "commits"),
    [
        ("Sorry for the wait. The director will verify and address your problem by message.", True),
        ("We are now analyzing and solving the fault.", True),
        # work reported under way: a step, no promise
        ("Our engineers are currently handling your problem.", False),
        # a question about the staff's work, and another party's promise
        ("Is our staff still handling the case for you?", False),
        ("The merchant will verify and address your problem.", False),
    ],
)
def test_the_company_at_work_on_the_matter_commits(text: str, commits: bool) -> None:
    assert ("commitment" in fired("solve_problem", "en", text)) is commits


def test_staff_arranged_to_handle_the_matter_is_a_step() -> None:
    text = "The store has arranged the working staff to look into your return."
    assert "next_step" in fired("solve_problem", "en", text, "My refund never arrived.")


def test_a_question_about_the_staffs_work_takes_no_step() -> None:
    found = fired("solve_problem", "en", "Is our staff still handling the case for you?")
    assert not ({"next_step", "commitment"} & found)


@pytest.mark.parametrize(
    ("text", "acknowledges"),
    [
        ("Little Wo has known your issue. Which city are you in?", True),
        ("Which city are you in?", False),
    ],
)
def test_having_known_the_issue_acknowledges(text: str, acknowledges: bool) -> None:
    assert ("ack_phrase" in fired("acknowledge", "en", text)) is acknowledges


@pytest.mark.parametrize(
    ("customer", "problem"),
    [
        ("你们对老用户最不友好，等我换了新号就和你们拜拜", True),
        ("上个月交的一百块，这钱到底去哪儿了", True),
        ("办了你们这个套餐又被坑了一次", True),
        # a question about a plan
        ("请问这个套餐老用户可以办理吗", False),
    ],
)
def test_a_customer_who_means_to_leave_or_asks_where_the_money_went_has_a_problem(
    customer: str, problem: bool
) -> None:
    """Weibo posts such as 联通是对老用户最不友好的…就和你们拜拜 and 所以这钱到底去哪儿了 were read
    as "no customer problem heard": solve_problem and the apology were not judged."""
    assert solve_problem_judged("您好，请问有什么可以帮您", customer) is problem


@pytest.mark.parametrize(
    ("text", "offers"),
    [
        ("Please bring the phone to a store, or you can ask for a repair on our website.", True),
        ("We suggest you try it after the tenth, or you can tell us the fault in a message.", True),
        # details asked for, two ways of giving them
        ("Please tell us your phone model or provide a screenshot.", False),
    ],
)
def test_a_second_way_after_you_can_is_a_choice(text: str, offers: bool) -> None:
    assert ("options" in fired("options", "en", text, "My phone cannot charge at all.")) is offers


@pytest.mark.parametrize(
    ("text", "excuses"),
    [
        ("很抱歉，这种情况是由于您家离基站比较远，属于弱信号区域", True),
        # the reason for a hand-off already made, with the step that follows
        ("也是由于您的订单已经做了升级处理，我们稍后给您催一下", False),
    ],
)
def test_a_cause_said_with_shi_youyu_defends_the_shortfall(text: str, excuses: bool) -> None:
    customer = "家里手机一点信号都没有，你们怎么搞的"
    assert ("excuse" in fired("no_excuses", "zh", text, customer)) is excuses
