"""Twenty-seventh round (issue 13 item 5), from the eleventh batch of dev labels (a uniform draw
in both languages, Mandarin lines with a step word, English lines with an acknowledging word):
a chat's human welcome names its persona and asks for the matter, and a name is shown with its
cue; the words of an invitation to get back in touch take no step, and a thank-you after an
invitation that goes on into its request closes; "why not" suggests a step; a refusal for a
lapsed after-sales period, a short supply or a named rule is an excuse; "your frame of mind" is
a feeling.

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired
from tests.test_detectors_text import A, C, call, run

WELCOME = "您好，欢迎进入人工客服，请输入您的问题，人工客服小丽会竭诚为您服务的~"


def _kinds_at(report, practice: str) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for f in run(practice, report).findings:
        out.setdefault(f.kind, set()).add(f.turn_index)
    return out


def test_a_chats_human_welcome_names_the_persona_and_asks_for_the_matter() -> None:
    kinds = fired("greeting", "zh", WELCOME)
    assert {"greeting_hello", "greeting_name", "greeting_offer"} <= kinds


def test_the_name_before_the_service_phrase_is_shown_with_it() -> None:
    report = call("zh", (A, 0.0, 3.0, WELCOME), (C, 3.5, 6.0, "我的外卖没到"))
    (name,) = [f for f in run("greeting", report).findings if f.kind == "greeting_name"]
    assert "小丽" in name.matched and name.matched.endswith("为您服务")
    assert name.match_kind == "pattern" and name.matched in name.quote


@pytest.mark.parametrize(
    ("language", "text", "shown", "kind"),
    [
        ("zh", "您好，我是客服小李，很高兴为您服务", "我是客服小李", "pattern"),
        ("zh", "您好，工号1023为您服务", "工号1023", "pattern"),
        ("zh", "您好，我姓王，请问有什么可以帮您", "我姓王", "pattern"),
        ("en", "Sunrise Telecom. This is David.", "This is David", "pattern"),
        # named after the service phrase: the cue alone, as matched
        ("zh", "您好，我是本次为您服务的客服小美1023", "我是", "exact"),
    ],
)
def test_a_name_is_shown_with_its_cue(language: str, text: str, shown: str, kind: str) -> None:
    customer = "我的外卖没到" if language == "zh" else "My card was stolen."
    report = call(language, (A, 0.0, 3.0, text), (C, 3.5, 6.0, customer))
    (name,) = [f for f in run("greeting", report).findings if f.kind == "greeting_name"]
    assert (name.matched, name.match_kind) == (shown, kind)
    assert name.matched in name.quote


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("您好，客服小李为您服务", True),
        ("您好，在线客服阿杰将竭诚为您服务", True),
        ("您好，美团客服为您服务", False),
        ("您好，客服这边很高兴为您服务", False),
        ("您好，我们客服会竭诚为您服务", False),
    ],
)
def test_a_name_before_the_service_phrase_follows_a_role_word(text: str, named: bool) -> None:
    assert ("greeting_name" in fired("greeting", "zh", text)) is named


def test_the_welcome_after_a_transfer_opens_again() -> None:
    report = call(
        "zh",
        (A, 0.0, 3.0, "您好，请问您是遇到以下问题吗？"),
        (C, 3.5, 5.0, "菜品质量问题"),
        (A, 5.5, 8.0, "非常抱歉，为了更好地解决您的问题，正在为您转接人工客服"),
        (C, 8.5, 9.0, "快点"),
        (A, 9.5, 13.0, WELCOME),
    )
    kinds = _kinds_at(report, "greeting")
    assert 4 in kinds["greeting_name"] and 4 in kinds["greeting_offer"]


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "All right. If you have any problem, you can contact the editor by message."),
        ("en", "For any question, you can send us a private message. Thank you!"),
        ("zh", "不客气，之后使用中如有疑问您可以随时与我们联系"),
    ],
)
def test_the_words_of_an_invitation_take_no_step(language: str, text: str) -> None:
    assert "next_step" not in fired("solve_problem", language, text)


def test_a_step_beside_an_invitation_is_still_a_step() -> None:
    text = "Hi, you can dial 96110 to request a repair. If you have any problem, contact us again."
    assert "next_step" in fired("solve_problem", "en", text)


def _closing(language: str, last: str) -> dict[str, set[int]]:
    report = call(
        language,
        (C, 0.0, 3.0, "It works now, thanks." if language == "en" else "好的，可以了"),
        (A, 3.5, 9.0, last),
    )
    return _kinds_at(report, "closing")


def test_thanks_after_an_invitation_that_goes_on_into_its_request_closes() -> None:
    last = (
        "You are welcome! For any question, you can send us a private message. "
        "We are glad to help. Thank you!"
    )
    assert 1 in _closing("en", last).get("closing_thanks", set())


@pytest.mark.parametrize(
    ("language", "last"),
    [
        # the invitation, then a new clause asking for the rating: the thanks are for the rating
        ("zh", "如仍需帮助可再次发起会话，如没有其他问题，麻烦对小丽的服务进行评价哦，谢谢您~"),
        ("en", "For any question, contact us again. Please rate our service. Thank you!"),
    ],
)
def test_thanks_for_a_request_after_the_invitation_do_not_close(language: str, last: str) -> None:
    assert 1 not in _closing(language, last).get("closing_thanks", set())


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("Why not turn off the alarm for the time being?", True),
        ("Why not restart the phone and try again?", True),
        ("Please do not restart the phone now.", False),
    ],
)
def test_why_not_suggests_a_step(text: str, step: bool) -> None:
    assert ("next_step" in fired("solve_problem", "en", text)) is step


def test_feeding_the_problem_back_is_the_requests_purpose() -> None:
    text = "Please send us your number by private message so that we can feed the problem back."
    kinds = fired("solve_problem", "en", text)
    assert "next_step" in kinds and "commitment" not in kinds


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "这边看到您的商品已经过售后了"),
        ("zh", "亲，这个订单已经超出售后期了，非常抱歉"),
        ("en", "This model is in short supply, so the delivery takes longer."),
        ("en", "According to the fair-use rules, your speed is reduced after 15GB."),
    ],
)
def test_a_lapsed_period_a_short_supply_or_a_named_rule_is_an_excuse(
    language: str, text: str
) -> None:
    assert "excuse" in fired("no_excuses", language, text)


def test_the_customers_frame_of_mind_is_a_feeling() -> None:
    assert "empathy" in fired("empathy", "en", "We understand your frame of mind, madam.")


def test_asking_for_the_matter_in_the_opening_offers_help() -> None:
    assert "greeting_offer" in fired("greeting", "en", "Hi, do you have any question?")


def test_doing_ones_utmost_for_the_customer_commits() -> None:
    text = "如果我遇到这样的事情也会着急，所以一定会帮您竭尽全力处理的"
    assert "commitment" in fired("solve_problem", "zh", text)
