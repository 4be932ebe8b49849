"""A closing in other words: 疑问 for 问题 in the invitation, good wishes and thanks without 您,
good night (issue 13 item 5, twentieth round).

The labelling guideline (bench/labels/README.md) counts an invitation to ask more or come back
(还有其他问题吗, 有问题随时联系我们, "if you have any other questions …") and a goodbye or good
wish (再见, 祝您生活愉快, "good night") in the agent's last lines. Sentences written from the
guideline after reading the agents' last lines of the ``tune`` dialogues; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired
from tests.test_detectors_text import A, C, call, run


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "好的，请问您还有其他疑问吗？"),
        ("zh", "那这边请问您还有什么其他需要咨询的吗"),
        ("zh", "这个按键是切换输入法的，您如果还有疑问可以添加我们的技术支持"),
        ("zh", "后续如果您还有疑问可以再私信小美"),
        (
            "en",
            "It switches keyboards. If you still have questions, please add our support.",
        ),
        (
            "en",
            "You can set it in the network settings. If you have questions, feel free to reach us.",
        ),
    ],
)
def test_an_invitation_to_ask_more_in_other_words_closes(language: str, text: str) -> None:
    customer = "好的，谢谢" if language == "zh" else "okay, thanks"
    assert "closing_invite" in fired("closing", language, text, customer=customer)


@pytest.mark.parametrize(
    "text",
    [
        "感谢您的理解与支持！祝生活愉快！",
        "您的房间明天给您确认，晚安",
        "可以在会员服务里查询最近的网点哦，祝您开心每天！",
        "稍后您会收到评价短信，祝您万事顺意~",
    ],
)
def test_a_good_wish_without_you_or_a_good_night_is_a_farewell(text: str) -> None:
    assert "closing_farewell" in fired("closing", "zh", text, customer="好的，谢谢")


@pytest.mark.parametrize("text", ["祝贺亲呢，您的中奖名单已经公布", "很抱歉给您带来不愉快的体验"])
def test_congratulations_or_an_unpleasant_experience_is_no_farewell(text: str) -> None:
    assert "closing_farewell" not in fired("closing", "zh", text, customer="好的，谢谢")


def test_the_invitation_before_a_long_goodbye_stays_in_the_closing() -> None:
    goodbye = (
        "嗯好那行那女士那我这边就不打扰您了，稍后会给您发送一个服务评价短信，"
        "辛苦您对本次服务进行下评价呢，那这边祝您生活愉快，请您先挂机"
    )
    report = call(
        "zh",
        (C, 0.0, 3.0, "我的退款还没有到账"),
        (A, 3.5, 9.0, "这边已经帮您催促了，请问您还有什么其他需要咨询的吗"),
        (C, 9.5, 10.5, "没有了"),
        (A, 11.0, 30.0, goodbye),
    )
    kinds = {f.kind for f in run("closing", report).findings}
    assert {"closing_invite", "closing_farewell"} <= kinds


@pytest.mark.parametrize(
    "text", ["感谢对我们店铺的支持哦~", "价格核实过了没有问题，感谢亲对我们的关注"]
)
def test_thanks_for_the_support_without_you_closes(text: str) -> None:
    assert "closing_thanks" in fired("closing", "zh", text, customer="好的，知道了")
