"""Forty-sixth round (issue 13 item 5), from the thirty-first batch of dev labels (Mandarin times
and restatements, English offers and times, the last lines of chats and threads, a uniform part):
致歉 apologises in every form (给您致歉了, 真诚致歉); 不断 (constantly) inside a cause phrase
negates nothing, so 网络环境也在不断变化 names the changing environment as the cause; "you can
contact us … if in need" invites and is no step; a deadline for the customer's own application
("should be applied for within 7 days") is no time for the agent's step. From this round's QA
read: a call that ends on the customer's words, the agent humming after them, is not judged on
its closing.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from calmline.monitor.rubric import default_rubric
from calmline.monitor.scoring import score_report
from tests.test_detectors_eleventh_batch import _closing
from tests.test_detectors_recall import fired
from tests.test_stress import A, C, call


@pytest.mark.parametrize(
    ("text", "apologises"),
    [
        ("这个体验确实不好，先生给您致歉了", True),
        ("为给您带来的不愉快，我们真诚致歉", True),
        ("小美代表商家给您致歉呢亲", True),
        # the customer turned the apology down: no apology said
        ("好的，那就不用致歉了是吧", False),
    ],
)
def test_zhiqian_apologises(text: str, apologises: bool) -> None:
    assert ("apology" in fired("apologize_for_inconvenience", "zh", text)) is apologises


@pytest.mark.parametrize(
    ("text", "excuses"),
    [
        ("随着城市的发展，网络环境也在不断变化，部分位置信号可能稍弱", True),
        ("网络环境不停变化，个别地方信号会弱一些", True),
        # a negation inside the gap still denies the cause
        ("网络环境没有变化，我们马上派人排查信号问题", False),
    ],
)
def test_constantly_negates_nothing_inside_a_cause(text: str, excuses: bool) -> None:
    assert ("excuse" in fired("no_excuses", "zh", text, "信号太差了，打电话总掉线")) is excuses


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        ("You can contact us through private messages if in need.", False),
        ("You can contact us by private message if you need further help.", False),
        # a step on the matter, not an invitation
        ("You can contact the after-sales site to have the phone checked.", True),
    ],
)
def test_contact_us_if_in_need_invites_and_is_no_step(text: str, steps: bool) -> None:
    assert ("next_step" in fired("solve_problem", "en", text)) is steps
    if not steps:
        assert 1 in _closing("en", text).get("closing_invite", set())


@pytest.mark.parametrize(
    ("text", "timed"),
    [
        (
            "You can apply for a return in the shop. A return should be applied for within "
            "7 days after receiving the goods.",
            False,
        ),
        ("I have applied for the return for you. The refund will arrive within 7 days.", True),
    ],
)
def test_the_customers_own_deadline_is_no_time_frame(text: str, timed: bool) -> None:
    assert ("time_frame" in fired("solve_problem", "en", text)) is timed


# --- a QA read of scored calls (seed 442) ----------------------------------------------------

_CUT = [
    A(0.0, 3.0, "您好，很高兴为您服务"),
    C(3.5, 12.0, "我点的螺蛳粉里吃出来一个特别硬的东西，跟商家说了他说他也不知道是什么"),
    A(12.5, 16.0, "非常抱歉，我这边给您发送一条短信，您上传一下照片"),
    C(16.5, 26.0, "我也不要求退款，我就想让商家给我解释一下这是什么东西，说一声抱歉也行"),
]


@pytest.mark.parametrize(
    ("tail", "applies"),
    [
        # the agent only hums while the customer talks; the recording stops there
        ([A(26.5, 27.0, "嗯"), A(27.5, 28.0, "嗯")], False),
        ([], False),
        # the customer takes leave: the agent had its turn to close
        ([A(26.5, 27.0, "嗯"), C(27.5, 28.5, "好再见")], True),
        ([A(26.5, 27.0, "嗯"), C(27.5, 28.5, "没了")], True),
        # the agent answers: its answer is the ending
        ([A(26.5, 32.0, "好的，我马上帮您联系商家核实处理")], True),
    ],
)
def test_a_call_that_ends_on_the_customers_words_is_not_judged_on_its_closing(
    tail: list, applies: bool
) -> None:
    """A call cut while the customer told the matter, the agent saying 嗯 after it, was coached
    for the thanks, the invitation and the goodbye of its closing "嗯": the agent had no turn
    to close. The closing does not apply, with its reason; a customer who takes leave, or an
    agent who answers, keeps it."""
    report = score_report(call([*_CUT, *tail]), default_rubric("zh"))
    (closing,) = [p for p in report.scorecard.practices if p.practice == "closing"]
    assert closing.applicable is applies
    if not applies:
        assert closing.score is None and closing.coaching is None
        assert "ends on the customer's words" in closing.reason


def test_an_english_call_cut_mid_matter_is_not_judged_on_its_closing() -> None:
    report = score_report(
        call(
            [
                A(0.0, 3.0, "Thank you for calling, how can I help you?"),
                C(3.5, 10.0, "My card was charged twice for the same order last week"),
                A(10.5, 14.0, "I'm sorry about that, let me check the account for you"),
                C(14.5, 22.0, "And the second charge is still pending on my statement today"),
                A(22.5, 23.0, "uh-huh"),
            ]
        ),
        default_rubric("en"),
    )
    (closing,) = [p for p in report.scorecard.practices if p.practice == "closing"]
    assert closing.applicable is False and closing.coaching is None


@pytest.mark.parametrize(
    ("text", "acknowledges"),
    [
        ("我这边给您发送短信了，您收到了吗", False),
        ("短信您收到没", False),
        ("好的，收到了，我这边马上帮您处理", True),
    ],
)
def test_asking_whether_the_customer_received_is_no_acknowledgement(
    text: str, acknowledges: bool
) -> None:
    """您收到了吗 asks about the customer's text message; it was credited as the agent's 收到了."""
    assert ("ack_phrase" in fired("acknowledge", "zh", text)) is acknowledges


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        ("就是跟商家沟通的话这边不太好这个情况对吗", False),
        ("那全额退款的话这个确实不太可能", False),
        # a 的话 that ends the turn is a filler: the step stands
        ("这边我也会帮您联系商家的话", True),
        ("我马上帮您联系商家", True),
    ],
)
def test_a_step_named_as_a_topic_is_no_step(text: str, steps: bool) -> None:
    """跟商家沟通的话…对吗 asks about the customer's talk with the merchant; it was credited as
    the agent's step of talking to the merchant."""
    assert ("next_step" in fired("solve_problem", "zh", text)) is steps


def _acknowledge(turns: list) -> list:
    report = score_report(call(turns), default_rubric("zh"))
    (ack,) = [p for p in report.scorecard.practices if p.practice == "acknowledge"]
    return [f for f in ack.findings if f.kind == "long_turn_unacknowledged"]


def test_a_restatement_answers_a_long_turn() -> None:
    """After a 12-second complaint the agent restated it (对商家反馈他也不知道是什么是吗) and was
    told its answer held no acknowledgement: repeating the matter back shows it was heard."""
    long_turn = C(
        3.5, 16.0, "太气人了，我在螺蛳粉里吃出来一个特别硬的东西，跟商家说了，他说他也不知道是什么"
    )
    restated = A(16.5, 19.0, "对商家反馈他也不知道是什么是吗")
    plain = A(16.5, 19.0, "请您提供一下下单的手机号码")
    tail = [C(19.5, 20.5, "对"), A(21.0, 25.0, "好的，我马上帮您联系商家处理")]
    opening = A(0.0, 3.0, "您好，很高兴为您服务")
    assert _acknowledge([opening, long_turn, restated, *tail]) == []
    assert len(_acknowledge([opening, long_turn, plain, *tail])) == 1


def test_a_long_turn_the_call_ends_on_is_not_counted() -> None:
    """The customer's last long turn, after which the agent only hums 嗯 and the recording
    stops, was coached as unacknowledged: the agent had no turn to answer it."""
    turns = [
        A(0.0, 3.0, "您好，很高兴为您服务"),
        C(3.5, 6.0, "我的外卖里有异物"),
        A(6.5, 9.0, "非常抱歉，我理解您的心情，我马上帮您处理"),
        C(
            9.5,
            22.0,
            "我也不要求退款，我就想让商家给我解释一下这是什么东西，说一声抱歉也行，他就说不知道",
        ),
        A(22.5, 23.0, "嗯"),
    ]
    assert _acknowledge(turns) == []
    answered = [*turns[:-1], A(22.5, 26.0, "好的，我这边帮您联系商家")]
    assert len(_acknowledge(answered)) == 1


@pytest.mark.parametrize(
    ("language", "customer", "problem"),
    [
        (
            "en",
            "I booked a room at the hotel but it couldn't be canceled. You didn't provide any "
            "help to customers.",
            True,
        ),
        ("en", "I booked a room at the hotel for Friday. Could you tell me the address?", False),
        ("zh", "给我赔二十块钱余额，我不接受", True),
        ("zh", "太气人了，骑手把汤洒了一半", True),
        ("zh", "好的，那我等您消息", False),
    ],
)
def test_a_refused_cancellation_or_offer_is_a_problem(
    language: str, customer: str, problem: bool
) -> None:
    """A QA read found a hotel booking that "couldn't be canceled" and a chat whose customer
    answered the offered compensation with 我不接受 scored as "no customer problem heard": the
    practices that answer a problem did not apply."""
    agent = (
        "Hello, thank you for contacting us." if language == "en" else "您好，请问有什么可以帮您"
    )
    report = score_report(
        call([A(0.0, 2.0, agent), C(2.5, 8.0, customer), A(8.5, 10.0, agent)]),
        default_rubric(language),
    )
    (apology,) = [
        p for p in report.scorecard.practices if p.practice == "apologize_for_inconvenience"
    ]
    assert apology.applicable is problem


def test_an_angry_post_without_a_listed_complaint_is_judged_on_the_apology() -> None:
    """A Weibo post calling the carrier shameless (无耻) for services opened without notice (不
    通知客户擅自开通) held no listed complaint word: the agent's 您的心情我们是能理解 made the
    practices apply, and each then said "the call gives nothing to judge it on"."""
    report = score_report(
        call(
            [
                C(0.0, 6.0, "办卡时没要求开通增值业务，不通知客户擅自开通，无耻联通！"),
                A(6.5, 12.0, "您好！请您先别生气，您的心情我们是能理解的。请问开通了什么业务呢？"),
            ]
        ),
        default_rubric("zh"),
    )
    practices = {p.practice: p for p in report.scorecard.practices}
    apology = practices["apologize_for_inconvenience"]
    assert apology.applicable and apology.score is not None
    assert any(f.kind == "no_apology" for f in apology.findings)
    (ack,) = [f for f in practices["acknowledge"].findings if f.kind == "ack_phrase"]
    # the evidence names the entry it belongs to, not the "we noted your problem" one
    assert ack.phrase == "理解您" and "已关注到您反映的问题" not in ack.detail


@pytest.mark.parametrize(
    ("language", "text", "commits"),
    [
        ("zh", "在线转接哦，亲亲，您看可以吗", True),
        ("zh", "呃升级专员您看可以吗", True),
        ("zh", "这边先联系商家给您协商退款您看可以吗？", True),
        # the question asks the customer to act, or another doer takes the step
        ("zh", "专员会在两小时内给您回电，您注意接听好吗", False),
        ("zh", "会有相关的工作人员给您回电处理好吗", False),
        ("zh", "在线转接到食安客服", False),
        ("en", "I can transfer you to the card team, okay?", True),
        ("en", "Our staff will call you back tomorrow, okay?", False),
    ],
)
def test_a_step_offered_as_a_question_commits(language: str, text: str, commits: bool) -> None:
    """在线转接哦，亲亲，您看可以吗 was credited as a next step and not as a commitment: the
    guideline reads an offer put as a question as both."""
    found = fired("solve_problem", language, text)
    assert "next_step" in found
    assert ("commitment" in found) is commits


def test_a_request_for_a_name_is_no_name() -> None:
    """需要升级专员吗 in the agent's first turn was credited as the agent's name: the signature
    cue （专员 read without its bracket, with 吗 as the name."""
    assert "greeting_name" not in fired("greeting", "zh", "需要升级专员吗")
    assert "greeting_name" in fired("greeting", "zh", "您好，客服专员小李为您服务")


@pytest.mark.parametrize(
    ("last", "applies"),
    [
        ("好的那您稍等我再去帮您拨打一下", False),
        ("您听到音乐后不要挂机", False),
        # a wait for a call back, or a goodbye, is an ending
        ("您耐心稍等，专员会在两小时内给您回电", True),
        ("好的，感谢您的来电，再见", True),
    ],
)
def test_a_call_that_stops_in_a_hold_is_not_judged_on_its_closing(last: str, applies: bool) -> None:
    """A recording that stops while the customer is on hold (您稍等我再去帮您拨打一下 - 好) was
    coached for the closing's thanks and goodbye on the hold request."""
    turns = [*_CUT, A(26.5, 30.0, last), C(30.5, 31.0, "好")]
    report = score_report(call(turns), default_rubric("zh"))
    (closing,) = [p for p in report.scorecard.practices if p.practice == "closing"]
    assert closing.applicable is applies
    if not applies:
        assert closing.coaching is None and "on hold" in closing.reason
