"""Troubleshooting steps, work under way and advice that is no step, in Mandarin (issue 13 item
5, eighteenth round).

The labelling guideline (bench/labels/README.md) counts a concrete step the agent tells the
customer to take as a next step (重启一下手机, 卸载后重新安装, 您可拨打…报修), and a step the
agent or the company is taking now (我们正在与酒店沟通) as a next step and a commitment. Advice to
wait or to keep watching (建议您耐心等待, 建议亲留意后续使用) is no concrete step, and a bare
我看一下 is no step either. Sentences written from the guideline after reading lines of the
``tune`` dialogues; none is copied from the evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired


@pytest.mark.parametrize(
    "text",
    [
        "您好，您先重启一下路由器看看能否恢复",
        "麻烦您把软件卸载后重新下载安装最新版本试下",
        "建议将手机带到附近的售后网点检测一下",
        "建议亲有时间回归属地营业厅办理",
        "您可拨打10000进行报修",
        "您可登录网上营业厅查询本月的流量详单",
        "请您清空浏览器缓存后重新登录试一试",
        "请尝试把SIM卡取出后重新插入",
        "您需要将手机寄回售后中心检测",
        "请私信提供业务号码和联系电话，以便核查",
        "已催促工作人员尽快处理，请您耐心等待",
    ],
)
def test_troubleshooting_step_told_to_the_customer_is_a_step(text: str) -> None:
    assert "next_step" in fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text",
    ["我们正在与酒店沟通您的房间", "小美正在联系商家，请您稍等", "我司正在紧急修复中"],
)
def test_work_under_way_is_a_commitment(text: str) -> None:
    assert "commitment" in fired("solve_problem", "zh", text)


def test_work_under_way_with_a_concrete_verb_is_also_a_step() -> None:
    kinds = fired("solve_problem", "zh", "我们正在与酒店沟通您的房间")
    assert "next_step" in kinds


@pytest.mark.parametrize(
    "text",
    [
        "建议您耐心等待",
        "建议亲后续留意一下使用情况",
        "建议您能及时反馈问题的呢",
        "您稍等，我看一下",
        "小编看一下",
        "麻烦您提供一下订单号，以便小美更好地为您解决",
        "如果没有其他问题，您可以点击结束服务",
    ],
)
def test_advice_to_wait_or_watch_and_a_bare_look_are_no_step(text: str) -> None:
    assert "next_step" not in fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "您长按电源键二十秒，尝试强制重启看看",
        "请您重启路由器",
        "您可通过手机营业厅查询本月账单",
        "已反馈哦",
        "现已安排电梯公司进行排查",
        "工作人员核实后将与您电话联系",
    ],
)
def test_more_steps_in_other_words(text: str) -> None:
    assert "next_step" in fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "千万别重启手机哦",
        "如您已反馈，建议您留意处理情况",
        "建议您今后发送短信时不要大量群发",
        "建议您提供详细截图，以便更好地为您解答",
    ],
)
def test_a_warning_a_condition_or_a_request_for_details_is_no_step(text: str) -> None:
    assert "next_step" not in fired("solve_problem", "zh", text)


def test_someone_elses_promise_is_no_commitment_of_the_agent() -> None:
    kinds = fired("solve_problem", "zh", "请您把问题私信给我们，会有工作人员为您查证反馈")
    assert "next_step" in kinds
    assert "commitment" not in kinds


def test_a_wait_across_clauses_is_no_time_frame() -> None:
    """稍等一会儿 and a later 半小时 in another clause are not one wait of half an hour."""
    text = "请您连接wifi后稍等一会儿，图标需要加载，如果等了半小时还没有，请您试一下换一个网络"
    assert "time_frame" not in fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("这个问题我们会在1.3系统版本完善", "commitment"),
        ("明天13.00之内我们的专员会联系到您", "time_frame"),
    ],
)
def test_a_point_inside_a_number_does_not_end_the_clause(text: str, kind: str) -> None:
    """A version number or a time (1.3, 13.00) is one number, not a clause break between its
    digits that cuts the subject off its verb or the time off its step."""
    assert kind in fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "好的，客服这边会记录并反馈这个情况",
        "我们将尽快为您查实",
        "请您重新下载，会记录此状况并提交测试部门",
    ],
)
def test_the_agents_own_undertaking_in_other_words_is_a_commitment(text: str) -> None:
    assert "commitment" in fired("solve_problem", "zh", text)


def test_staff_contacting_the_customer_later_is_no_commitment_of_the_agent() -> None:
    """The guideline reads a promise of the staff after a subjectless 会 as their step, not the
    agent's own commitment."""
    text = "工作人员正在核查中，有结果后会尽快与您联系"
    assert "commitment" not in fired("solve_problem", "zh", text)
