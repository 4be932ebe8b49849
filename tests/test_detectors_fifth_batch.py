"""Twenty-first round (issue 13 item 5), from the fifth batch of dev labels: instructions given
in the imperative ("1. Turn off the modem.", "Log out and log in again"), steps the customer is
told to take with a device verb ("you may charge the phone", "please log out"); a promise to
call back at once without a subject (有结果的话第一时间回电到您); a matter passed on in the
passive (您的问题已经反馈相关部门); a step said to come 等一下; the while given as the answer to
the customer's own deadline (半个小时之内 -> 四个小时之内); causes that defend a shortfall: staff
off work, the network environment, the warranty, the weather, the design.

The labelling guideline (bench/labels/README.md) counts a concrete step the agent tells the
customer to take as a next step, and an instruction is that step however it is phrased; a
question ("Log in Daofeng?") or a noun opening a sentence ("Download is free") tells no
step. Sentences written from the guideline after reading the batch's lines; none is copied
from the evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired
from tests.test_detectors_text import A, C, call, run


@pytest.mark.parametrize(
    "text",
    [
        "The modem shows an error. 1. Turn off the power of the modem. 2. Wait a minute.",
        "Restart the phone and see whether the signal comes back.",
        "Hi, please log out of the account and log on again.",
        "You may charge the phone for an hour first.",
        "If it still fails, you can wipe the caches of the app.",
        "If this is urgent, you may call the hotline for help.",
        "You shall cancel the account if you no longer use it.",
    ],
)
def test_an_instruction_to_the_customer_is_a_next_step(text: str) -> None:
    assert "next_step" in fired("solve_problem", "en", text)


@pytest.mark.parametrize(
    "text",
    [
        "Log in to the website? Which one?",
        "Download is free for members, and the app updates itself.",
        "I restart it every morning myself.",
    ],
)
def test_a_question_a_noun_or_a_report_tells_no_step(text: str) -> None:
    assert "next_step" not in fired("solve_problem", "en", text)


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("有结果的话第一时间回电到您这个号码", {"commitment", "next_step"}),
        ("您好,您的问题已经反馈相关部门进行核实处理,敬请等待", {"commitment", "next_step"}),
        ("我等一下会给您发送一个短信链接您上传一下凭证", {"commitment", "next_step", "time_frame"}),
    ],
)
def test_mandarin_promises_without_a_subject(text: str, kinds: set) -> None:
    assert kinds <= fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "您好,目前您可以经常双击Home键清理一下后台应用",
        "这种情况您可检查一下路由器的相关设置",
        "您可以从商城我的订单中报修",
        "如您流量不够用,您可以办理其他的流量补充包",
        "您看愿意通过放心吃给咱们申请个理赔吗",
    ],
)
def test_a_step_the_customer_can_take_in_mandarin_is_a_next_step(text: str) -> None:
    assert "next_step" in fired("solve_problem", "zh", text)


def test_a_while_answering_the_customers_own_deadline_is_the_steps_time() -> None:
    """The same while said after a customer turn that neither asks nor sets a time is none."""
    report = call(
        "zh",
        (C, 0.0, 3.0, "我的饭里吃出了虫子"),
        (A, 3.5, 7.0, "这边帮您升级处理，专员会给您回电"),
        (C, 7.5, 9.0, "半个小时之内"),
        (A, 9.5, 12.0, "呃四个小时之内先生"),
        (C, 12.5, 14.0, "太慢了"),
        (A, 14.5, 17.0, "呃四个小时之内先生"),
    )
    findings = run("solve_problem", report).findings
    times = {f.turn_index for f in findings if f.kind == "time_frame"}
    assert 3 in times and 5 not in times


@pytest.mark.parametrize(
    "text",
    [
        "Hello. The staff responsible for the refunds has been off work. Please leave your number.",
        "It may have some relation with network environment. Please keep an eye on it.",
        "Hi, the handset is not under warranty, so it cannot be replaced for free.",
        "We are very sorry for the delay caused by heavy fog yesterday.",
        "For the sake of beauty, we designed the second hand like this.",
    ],
)
def test_a_cause_that_defends_the_shortfall_is_an_excuse(text: str) -> None:
    assert "excuse" in fired("no_excuses", "en", text)


@pytest.mark.parametrize(
    "text",
    [
        "亲亲 小美这边权利有限 为您申请20元红包补偿给您 您看可以吗",
        "由于网络优化中涉及的因素较多,所需一些时间,请您后续关注",
        "哎是这样因为他这个餐品还没收到的话是退不了",
    ],
)
def test_a_limit_or_a_cause_behind_a_refusal_is_an_excuse_in_mandarin(text: str) -> None:
    assert "excuse" in fired("no_excuses", "zh", text)


def test_declining_because_it_is_another_department_shifts_the_blame() -> None:
    assert "blame_shift" in fired(
        "no_blame_shift", "zh", "具体怎么处理，因为不是同一个部门，小美确实不太了解的"
    )


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("您好，我是本次为您服务的客服小美_1023，很高兴为您服务～", True),
        ("您好，我是您的贴心小美，很高兴为您服务~", True),
        ("感谢您的进线，我是本次为您服务的客服，很高兴为您服务~~", False),
    ],
)
def test_the_name_after_the_service_phrase_or_a_modifier_counts(text: str, named: bool) -> None:
    """本次 and 您的贴心 are no name; the name may follow 为您服务的客服."""
    kinds = fired("greeting", "zh", text)
    assert ("greeting_name" in kinds) is named
    assert "greeting_hello" in kinds


def _reply_before_the_complaint(language: str, first: str, reply: str, complaint: str) -> set:
    report = call(
        language,
        (C, 0.0, 3.0, first),
        (A, 3.5, 7.0, reply),
        (C, 7.5, 10.0, complaint),
        (A, 10.5, 12.0, "I am sorry." if language == "en" else "非常抱歉"),
    )
    return {f.kind for f in run("no_excuses", report).findings if f.turn_index == 1}


@pytest.mark.parametrize(
    ("language", "first", "reply", "complaint"),
    [
        (
            "en",
            "There is no network in my office building, but outside it works.",
            "Hello, the problem was caused by the base station fault of this place.",
            "This is ridiculous, I am so angry, it is still broken!",
        ),
        (
            "zh",
            "打了好几次10010都没人接",
            "您好，10010遇到话务繁忙时，接通率有所降低",
            "太气人了，你们这是什么服务，我要投诉",
        ),
    ],
)
def test_a_named_cause_in_the_reply_to_the_first_post_is_an_excuse(
    language: str, first: str, reply: str, complaint: str
) -> None:
    """The written post states the shortfall without a complaint word; the cause that answers it
    defends it all the same."""
    assert "excuse" in _reply_before_the_complaint(language, first, reply, complaint)


def test_a_bare_connective_before_any_complaint_is_no_excuse() -> None:
    """是因为 explains as often as it defends: before the complaint it counts for nothing."""
    kinds = _reply_before_the_complaint(
        "zh",
        "喂你好我想问一下订单的事",
        "您稍等我看到之前客服这边是因为后台看到咱们这个订单有食品安全保险",
        "太气人了，你们这是什么服务，我要投诉",
    )
    assert "excuse" not in kinds


@pytest.mark.parametrize(
    "text",
    [
        "我这边去联系商家协商一下退款，您先不要挂机，一到三分钟的时间您看可以吗",
        "我来帮您核实一下可能需要三到五分钟您先不要挂机",
        "这个会在最晚会在次日的上午十点前给您回复您看可以吗",
        "您的订单我们已经帮您做升级处理了，24小时会有同事回电给您",
    ],
)
def test_a_while_or_an_hour_for_the_step_is_its_time(text: str) -> None:
    assert "time_frame" in fired("solve_problem", "zh", text)


def test_a_service_point_is_no_hour() -> None:
    """网点前往 holds 点前 but names no time."""
    text = "建议您查看离您最近的服务网点前往检测处理，后续会有工作人员为您处理"
    assert "time_frame" not in fired("solve_problem", "zh", text)
