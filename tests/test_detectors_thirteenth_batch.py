"""Twenty-ninth round (issue 13 item 5), from the thirteenth batch of dev labels (the agent's last
lines, Mandarin times and commitments, English reasons): a chat system's own end-of-session
message is not the agent's last words, so the thanks just before it close; "if there is no other
question, you may leave the chat" invites nothing; thanks for coming in (感谢您进线) name what
they thank for; a result promised 第一时间告知您 commits; 为了表达歉意 regrets; "grateful for
your supervision" closes and "if our help is needed, please send us a private message" invites;
pressing a key or searching by hand on the device is a step, while being told to watch for an
announcement is not.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_eleventh_batch import _closing, _kinds_at
from tests.test_detectors_recall import fired
from tests.test_detectors_text import A, C, call

SYSTEM_END = (
    "亲亲，由于您在3分钟内没有任何回应，系统已经自动结束对话了。如仍需帮助可再次发起会话，"
    "麻烦对小丽的服务进行评价哦，谢谢您~"
)


@pytest.mark.parametrize(
    ("after", "closes"),
    [
        (SYSTEM_END, True),
        # the agent's own words after the thanks: the thanks were said mid-conversation
        ("亲亲，您的红包已经到账了，您可以在我的钱包里查看一下使用规则哦", False),
    ],
)
def test_thanks_before_the_chat_systems_end_message_close(after: str, closes: bool) -> None:
    report = call(
        "zh",
        (C, 0.0, 3.0, "知道了"),
        (A, 3.5, 7.0, "感谢您的理解呢，给您带来的麻烦再次向您致歉"),
        (A, 190.0, 196.0, after),
    )
    assert (1 in _kinds_at(report, "closing").get("closing_thanks", set())) is closes


@pytest.mark.parametrize(
    ("last", "invites"),
    [
        ("如果您没有其他问题，可以优先结束会话哦", False),
        ("您看还有没有其他问题需要帮您处理的", True),
    ],
)
def test_no_other_question_as_a_condition_invites_nothing(last: str, invites: bool) -> None:
    assert (1 in _closing("zh", last).get("closing_invite", set())) is invites


def test_thanks_for_coming_in_close_after_the_rating_request() -> None:
    last = "稍后系统会发出一条评价短信，辛苦您对本次服务做出评价，感谢您进线反馈，祝您生活愉快"
    assert 1 in _closing("zh", last).get("closing_thanks", set())


def test_telling_the_result_first_thing_commits() -> None:
    kinds = fired("solve_problem", "zh", "我已经发邮件问了，有结果小丽会第一时间告知您")
    assert {"commitment", "next_step"} <= kinds


def test_a_token_to_express_regret_is_an_apology() -> None:
    text = "为了表达歉意，小丽帮您申请了10元红包，1-3个工作日到账"
    assert "apology" in fired("apologize_for_inconvenience", "zh", text)


@pytest.mark.parametrize(
    ("last", "kind"),
    [
        (
            "We are sorry again for the inconvenience and sincerely grateful for your supervision.",
            "closing_thanks",
        ),
        (
            "We will keep improving the coverage. If our help is needed, please send private "
            "messages to us.",
            "closing_invite",
        ),
    ],
)
def test_grateful_thanks_close_and_help_if_needed_invites(last: str, kind: str) -> None:
    assert 1 in _closing("en", last).get(kind, set())


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("You can long press the Space key to use the voice input.", True),
        ("You can manually search and choose the operator network.", True),
        ("You are suggested to pay attention to the announcement of our new plans.", False),
        ("You are suggested to upgrade the system to the latest version.", True),
    ],
)
def test_a_key_pressed_is_a_step_but_watching_for_news_is_not(text: str, step: bool) -> None:
    assert ("next_step" in fired("solve_problem", "en", text)) is step
