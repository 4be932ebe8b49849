"""Thirty-seventh round (issue 13 item 5), from the twenty-second batch of dev labels (closing
and acknowledging words in both languages): an invitation the customer declines (还有其他可以帮您
的吗 - 嗯没有了; "anything else?" - "no, that's all") opened the closing even when a last detail,
the rating request and the goodbye push it out of the closing window, and a Weibo reply's 可私信
与我们 invites; 新年好 says hello; 已收录 and 已关注您所反映的问题 acknowledge (as 已记录 and
已关注到…问题 do); in English a request "so that we can follow up" states the step, and "please
cool yourself down" answers back as "calm down" does. From a QA read of scored calls: a stated
wait said right after the agent's step (the step, the customer's yes, 那您耐心等待两到三分钟) is
that step's time, an answer split over two agent turns (嗯 - 嗯嗯理解理解先生) acknowledges the
customer's long turn, a long last turn no agent turn answers is no unacknowledged turn, and an
opening hum (嗯 as the line connects) does not close the opening before the agent's first words.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_eleventh_batch import _closing, _kinds_at
from tests.test_detectors_recall import fired
from tests.test_detectors_text import A, C, call, opening_kinds
from tests.test_detectors_twelfth_batch import _retorts

WRAP_ZH = (
    (C, 0.0, 4.0, "那多久能到账呢"),
    (A, 4.5, 9.0, "退款一般是二十四小时之内原路退回到您的账户"),
    (C, 9.5, 10.5, "行可以"),
)
WRAP_EN = (
    (C, 0.0, 4.0, "And how long does the transfer take?"),
    (A, 4.5, 9.0, "It usually arrives in your account within one business day."),
    (C, 9.5, 10.5, "Okay, great."),
)


def _invited(language: str, answer: str, tail: tuple) -> set[int]:
    invite = (
        "好的好的那这边还有其他可以帮您的吗"
        if language == "zh"
        else "Alright, is there anything else I can help you with today?"
    )
    wrap = WRAP_ZH if language == "zh" else WRAP_EN
    report = call(language, *wrap, (A, 11.0, 14.0, invite), (C, 14.5, 16.0, answer), *tail)
    return _kinds_at(report, "closing").get("closing_invite", set())


TAIL_ZH = (
    (A, 16.5, 21.0, "好的那稍后理赔结果出来以后您这边不认可的话可以直接跟我们说"),
    (C, 21.5, 22.0, "好的"),
    (A, 22.5, 26.0, "稍后可能会收到本次服务的评价短信也辛苦您评价一下谢谢您了"),
    (C, 26.5, 27.0, "嗯嗯好的"),
    (A, 27.5, 30.0, "那不打扰您了祝您生活愉快请您先挂机"),
)
TAIL_EN = (
    (A, 16.5, 21.0, "Okay, and the new card should reach your mailing address by next Friday."),
    (C, 21.5, 22.0, "Great."),
    (A, 22.5, 26.0, "You will also get a short survey about this call by text message."),
    (C, 26.5, 27.0, "Sure."),
    (A, 27.5, 30.0, "Thank you for calling and have a great day."),
)


@pytest.mark.parametrize(
    ("language", "answer", "tail"),
    [
        ("zh", "嗯没有了", TAIL_ZH),
        ("zh", "没有其他的了谢谢", TAIL_ZH),
        ("en", "No, that's all, thanks.", TAIL_EN),
        ("en", "Um no, I think that's it.", TAIL_EN),
    ],
)
def test_an_invitation_the_customer_declines_opens_the_closing(
    language: str, answer: str, tail: tuple
) -> None:
    assert _invited(language, answer, tail) == {3}


@pytest.mark.parametrize(
    ("language", "answer", "tail"),
    [
        # the customer takes up the invitation with a new matter: the closing comes after it
        ("zh", "有的，我上个月的话费也不对，多扣了二十块钱", TAIL_ZH),
        ("en", "Yes, actually my last statement shows a fee I don't recognize.", TAIL_EN),
        # a "no" that is not the first words of the answer declines nothing
        ("zh", "我还想问一下那个发票现在是没有了吗", TAIL_ZH),
        ("en", "Well, I was told last week that there is no fee for this.", TAIL_EN),
    ],
)
def test_an_invitation_not_declined_stays_outside_the_closing(
    language: str, answer: str, tail: tuple
) -> None:
    assert _invited(language, answer, tail) == set()


def test_an_invitation_long_before_the_end_is_no_closing() -> None:
    more = (
        (C, 30.5, 31.0, "好的"),
        (A, 31.5, 34.0, "另外您的积分这个月底之前可以兑换话费"),
        (C, 34.5, 35.0, "好的"),
        (A, 35.5, 38.0, "积分兑换可以在营业厅的应用里面操作"),
    )
    assert _invited("zh", "嗯没有了", TAIL_ZH + more) == set()


@pytest.mark.parametrize(
    "last",
    [
        "若有需要的话，可私信与我们，再次感谢您的关注与支持，谢谢！",
        "如问题仍未解决可直接私信与我们联系",
    ],
)
def test_a_weibo_reply_that_asks_for_a_private_message_if_needed_invites(last: str) -> None:
    assert 1 in _closing("zh", last).get("closing_invite", set())


def test_a_new_year_greeting_says_hello() -> None:
    assert "greeting_hello" in opening_kinds(
        "zh", "新年好！我是客服小林，已关注到您反馈的问题", "好的"
    )


@pytest.mark.parametrize(
    ("text", "acknowledged"),
    [
        ("感谢您的建议！我已经收录。", True),
        ("您好，此问题已收录，后续会通过更新来修复", True),
        ("您好，现已关注您所反映的问题，给您带来不便十分抱歉", True),
        ("您好，这个功能目前还没有收录到新版本里", False),
    ],
)
def test_saying_the_matter_was_taken_in_acknowledges(text: str, acknowledged: bool) -> None:
    assert ("ack_phrase" in fired("acknowledge", "zh", text)) is acknowledged


@pytest.mark.parametrize(
    ("text", "step"),
    [
        (
            "Hello! You can provide your broadband account number and contact number via private "
            "message, so that we can follow up the issue for you. Thanks!",
            True,
        ),
        ("Hello! Please provide your number via private message so that we can help you.", False),
    ],
)
def test_a_request_whose_purpose_is_to_follow_up_states_the_step(text: str, step: bool) -> None:
    assert ("next_step" in fired("solve_problem", "en", text)) is step


def test_please_cool_yourself_down_answers_back() -> None:
    agent = "We are very sorry for the inconvenience. Please cool yourself down."
    assert _retorts(agent) == ["calm down"]


STEP_ZH = "啊然后咱这边的话我去帮您联系一下商家帮您协商一下这个退款您看可以吗"
WAIT_ZH = "嗯好的那您耐心等待两到三分钟听到音乐后请不要挂机可以吗"


@pytest.mark.parametrize(
    ("agent", "reply", "timed"),
    [
        # the step, the customer's yes, the wait: the time the step takes
        (STEP_ZH, "可以", True),
        # the customer objects: the wait is for whatever comes next, not that step's time
        (STEP_ZH, "不行我要你们平台直接给我退款", False),
        # no step before the wait: a hold, no time for a step
        ("嗯女士您还在吗我看一下您的订单", "在的", False),
    ],
)
def test_a_wait_said_right_after_a_step_is_its_time(agent: str, reply: str, timed: bool) -> None:
    report = call(
        "zh",
        (C, 0.0, 3.0, "商家拒绝退款了"),
        (A, 3.5, 8.0, agent),
        (C, 8.5, 9.5, reply),
        (A, 10.0, 13.0, WAIT_ZH),
    )
    assert (3 in _kinds_at(report, "solve_problem").get("time_frame", set())) is timed


LONG_TURN_ZH = "我昨天点的酸菜鱼里面吃出来一个黑乎乎的东西，吃完以后上吐下泻，昨晚还去医院挂了水"


@pytest.mark.parametrize(
    ("after", "acknowledged"),
    [
        # 嗯, then the rest of the answer in the agent's next turn: one answer in two turns
        (
            (
                (A, 17.5, 20.0, "嗯嗯理解理解先生非常抱歉给您添麻烦了"),
                (C, 20.5, 21.0, "你说怎么办吧"),
            ),
            True,
        ),
        # the answer asks for the order; the acknowledgement comes after the customer spoke again
        (
            (
                (A, 17.5, 20.0, "请问您的订单是哪一个呢"),
                (C, 20.5, 21.0, "就是昨天那个"),
                (A, 21.5, 23.0, "好的我理解了"),
            ),
            False,
        ),
    ],
)
def test_the_answer_to_a_long_turn_runs_until_the_customer_speaks_again(
    after: tuple, acknowledged: bool
) -> None:
    report = call(
        "zh",
        (A, 0.0, 3.0, "您好美团客服请问有什么可以帮您"),
        (C, 3.5, 16.0, LONG_TURN_ZH),
        (A, 16.5, 17.0, "嗯"),
        *after,
    )
    assert ("long_turn_unacknowledged" not in _kinds_at(report, "acknowledge")) is acknowledged


def test_a_long_last_turn_no_agent_turn_answers_is_not_unacknowledged() -> None:
    report = call(
        "en",
        (
            C,
            0.0,
            12.0,
            "My phone takes a full minute to open two apps and clearing the data did not help.",
        ),
        (A, 12.5, 15.0, "I understand. Where did you download the two applications from?"),
        (
            C,
            15.5,
            30.0,
            "From two app stores, and the start screen also freezes on the second page",
        ),
    )
    assert "long_turn_unacknowledged" not in _kinds_at(report, "acknowledge")


def test_a_first_turn_that_only_hums_opens_nothing() -> None:
    report = call(
        "zh",
        (A, 0.0, 0.5, "嗯"),
        (
            C,
            0.8,
            11.0,
            "您好同事这边有位女士进线，她表示接受之前的赔偿方案，您看看有没有相关记录呢",
        ),
        (A, 11.3, 13.0, "嗯您好女士，我是客服小周"),
        (C, 13.5, 14.0, "喂"),
    )
    kinds = _kinds_at(report, "greeting")
    assert 2 in kinds.get("greeting_hello", set())
    assert 2 in kinds.get("greeting_name", set())
