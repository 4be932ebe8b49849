"""Phrase detectors on practice said in ordinary words (issue 13, item 5).

Each case is one agent line after a customer complaint, scored with the packaged default
rubrics: commitments and next steps said as 帮您/为您 + verb or "I will … for you", a closing
thanks that is really the end of a request, a confirming question versus a request to repeat,
blame pushed to a third party, arguing by a rhetorical question. Every credit case has
negative cases that must not fire: a negated phrase, the customer's words, a look-alike.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_text import A, C, call, run

COMPLAINT = {"zh": "我要投诉，你们送的东西有问题", "en": "I want to complain, my card is broken"}


def fired(practice_id: str, language: str, agent: str, customer: str | None = None) -> set:
    """Finding kinds of ``practice_id`` that point at the agent's line."""
    report = call(
        language,
        (C, 0.0, 3.0, customer or COMPLAINT[language]),
        (A, 3.5, 9.0, agent),
    )
    return {f.kind for f in run(practice_id, report).findings if f.turn_index == 1}


# --- solve_problem: commitments and next steps in ordinary words --------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "您先别着急，我帮您登记一下"),
        ("zh", "小美这边为您联系商家核实"),
        ("zh", "我这边给您做个升级处理"),
        ("zh", "已经为您反馈给相关部门了"),
        ("zh", "这边现在为您办理退货"),
        ("zh", "我这边帮您咨询一下相关部门"),
        ("zh", "小美这边帮您再次致电骑手"),
        ("zh", "我们会为您发起理赔的"),
        ("en", "I will check it for you."),
        ("en", "I have scheduled your appointment for Monday."),
        ("en", "I ordered you a replacement card."),
        ("en", "We've notified the billing team about the double charge."),
        ("en", "We have received your problem and will report the problem to the card team."),
        ("en", "We will have a checkup as soon as possible."),
        ("en", "We have repaired the problem. You have to upgrade it to 4.7."),
        ("en", "We will communicate with you later via private message."),
        ("en", "We will make an appointment of installation with you within one day."),
        ("en", "Hello, Little Wo has received your private message and replied to you."),
        ("en", "Dear, we have asked the staff to deal with it."),
        ("en", "We have found this problem and are dealing with it. I will press them in time."),
        # handed on in the passive: the company's own step, as 已转交相关部门 is
        ("en", "Your complaint has been submitted to the fraud department."),
    ],
)
def test_agent_undertaking_is_commitment_and_next_step(language: str, text: str) -> None:
    kinds = fired("solve_problem", language, text)
    assert {"commitment", "next_step"} <= kinds


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "24小时内会有专员主动联系您，请保持电话畅通"),
        ("zh", "建议您先关闭呼叫转移，重新设置试一下"),
        ("zh", "后续会在后台给您协商赔付的金额"),  # who negotiates is not said
        ("en", "Please try to restart the phone."),
        ("en", "A new checkbook has been sent to your home address."),
        ("en", "Our specialist will call you once the review is done."),
        ("en", "The specialist will verify the issue and reply to you soon."),
        # a request's stated purpose: the step waits on the customer's message
        ("en", "Please provide your name via private message so we can submit and verify it."),
        ("en", "Please send your number to us, so that we can forward your issue to our staff."),
    ],
)
def test_step_by_others_is_next_step_not_commitment(language: str, text: str) -> None:
    kinds = fired("solve_problem", language, text)
    assert "next_step" in kinds
    assert "commitment" not in kinds


@pytest.mark.parametrize(
    "text",
    [
        "您的意见已经提交相关部门，会尽快给您答复",
        "这个问题我们会反映到相关部门",
        "好的，马上转接",
        "结果出来了会第一时间联系您",
        "平台这边给您充值五元的红包",
        "4小时内专员会和您联系",
        "专员会在明天中午一点之前给您取得联系",
        # a chat bot handing the customer to a human agent
        "小美这就为您召唤人类小伙伴协助处理",
    ],
)
def test_next_step_in_everyday_words(text: str) -> None:
    assert "next_step" in fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "您之前反馈的问题，相关部门没有回复您吗？",  # the customer's feedback, asked about
        "我们没有办法给您充值",
        "转接的话我这边也不清楚",
        "这个我们没有办法帮您咨询",
        "专员不会再和您联系了",
        "小美已听到您的召唤，很高兴为您服务",  # the customer's summons: a greeting
        "Has our staff contacted you since then?",
        "We will not call you about this again.",
        "Please send us your number so that we can provide help.",
    ],
)
def test_everyday_words_that_are_no_next_step(text: str) -> None:
    language = "en" if text.isascii() else "zh"
    assert "next_step" not in fired("solve_problem", language, text)


def test_helping_to_solve_is_a_commitment() -> None:
    assert "commitment" in fired("solve_problem", "zh", "您放心，这个肯定要帮您解决的")
    assert "commitment" not in fired("solve_problem", "zh", "这个我们没办法帮您解决")


def test_time_frame_with_a_step_by_a_specialist() -> None:
    assert "time_frame" in fired("solve_problem", "zh", "专员会在24小时内联系您")


@pytest.mark.parametrize(
    "text",
    [
        "I have recorded your request, and our staff will call you later.",
        "We will communicate with you later via private message.",
        "The payment will be refunded automatically within 2 - 3 hours.",
        "We will help you handle the issue within 12 hours.",
    ],
)
def test_en_time_frame_later_or_a_stated_length(text: str) -> None:
    assert "time_frame" in fired("solve_problem", "en", text)


@pytest.mark.parametrize(
    "text",
    [
        "If it is because of the software, we will optimize the later versions.",
        "The stable version is not launched. I suggest you pay attention to it next week.",
    ],
)
def test_en_no_time_frame_in_a_later_version_or_the_customers_time(text: str) -> None:
    assert "time_frame" not in fired("solve_problem", "en", text)


@pytest.mark.parametrize(
    "text",
    [
        # 请 inside 申请 or 请问 asks nothing of the customer: the time is the agent's
        "我这边去帮您咨询申请，最晚不会超过一小时回电到您的手机",
        "请问您贵姓，我需要稍后给您回电话的",
    ],
)
def test_zh_time_frame_beside_a_word_holding_qing(text: str) -> None:
    assert "time_frame" in fired("solve_problem", "zh", text)


def test_zh_time_frame_of_the_outcome_written_without_ge() -> None:
    text = "客服帮您申请10元通用红包发放到您的下单账户中，到账时间为1-3工作日"
    assert "time_frame" in fired("solve_problem", "zh", text)


def test_zh_time_of_a_request_to_the_customer_is_still_no_time_frame() -> None:
    assert "time_frame" not in fired("solve_problem", "zh", "我帮您申请退款，请您稍后查看")


@pytest.mark.parametrize(
    "text",
    ["小美5分钟后再次致电", "我马上去致电商家", "我这边再给他回个电", "我这边呢就跟这个商家打电话"],
)
def test_zh_the_agent_calling_someone_is_commitment_and_next_step(text: str) -> None:
    assert {"commitment", "next_step"} <= fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "此问题我们会向相关部门反映",
        "我们会尽快修复该bug",
        "您稍等我先受理一下",
        "我们会尽快主动回访",
        # 不超过 bounds the time; it denies nothing
        "我会不超过两个小时给您回电",
    ],
)
def test_zh_undertakings_with_more_verbs(text: str) -> None:
    assert {"commitment", "next_step"} <= fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text", ["我司会对您反映的问题进行认真研究", "我们会将您所反馈的情况认真研究"]
)
def test_zh_the_customers_report_inside_the_agents_clause_is_no_step(text: str) -> None:
    assert "next_step" not in fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "这个我没办法帮您登记"),
        ("zh", "我们不能为您联系商家"),
        ("en", "I can't check it for you."),
        ("en", "I haven't ordered a replacement card."),
    ],
)
def test_negated_undertaking_does_not_fire(language: str, text: str) -> None:
    kinds = fired("solve_problem", language, text)
    assert not {"commitment", "next_step"} & kinds


@pytest.mark.parametrize(
    ("language", "customer"),
    [
        ("zh", "你们帮我登记一下，再帮我联系商家"),
        ("en", "Will you check it for me? I ordered a card."),
    ],
)
def test_customer_words_are_not_credited(language: str, customer: str) -> None:
    report = call(
        language, (C, 0.0, 3.0, customer), (A, 3.5, 6.0, "好的" if language == "zh" else "okay")
    )
    found = run("solve_problem", report).findings
    assert not [f for f in found if f.kind in ("commitment", "next_step")]


# --- acknowledge ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "了解了先生，我看一下您的订单"),
        ("zh", "您反映的问题我们已经了解，已详细记录"),
        ("en", "We have received your feedback."),
        ("zh", "嗯嗯能理解，我这边马上帮您催促一下"),
        ("zh", "哦行这边知道了，那您在线稍等两到三分钟"),
        ("zh", "您的意见我们已经收到，我们会进行反馈"),
        ("zh", "我已经帮您如实记录了，我这边帮您反馈一下"),
        ("zh", "我们已经把问题记录并提交给相关人员了"),
        ("zh", "好的先生我这边也了解咱们的诉求了，我帮您看一下"),
        ("zh", "嗯这边了解到这个情况了先生"),
        ("zh", "是的呢 亲 小美了解"),
        ("zh", "您的私信我们已经收到，请您提供业务号码"),
        ("en", "Duly noted. Thanks for your support."),
        ("en", "It's really annoying. Little U understands your concerns very much."),
    ],
)
def test_ordinary_acknowledgement(language: str, text: str) -> None:
    assert "ack_phrase" in fired("acknowledge", language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "这个情况我不了解"),
        ("en", "okay okay"),
        # asking the customer to understand, and a promise to write it down later
        ("zh", "这个情况希望您能理解"),
        ("zh", "若收到其他代码的信息，也可以随时记录下来反映给我们"),
        ("zh", "建议收到货后再确认收货"),
    ],
)
def test_no_acknowledgement(language: str, text: str) -> None:
    assert "ack_phrase" not in fired("acknowledge", language, text)


# --- paraphrase ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "就是说您这边已经申请理赔成功了是吧"),
        ("zh", "您需要商家道歉是吗"),
        ("en", "Do you mean the phone stops while playing music?"),
        ("en", "So you want to move 135 dollars, right?"),
    ],
)
def test_confirming_question_is_paraphrase(language: str, text: str) -> None:
    assert "paraphrase" in fired("paraphrase", language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "您刚才说的什么我没有听清楚"),
        ("zh", "我明白您的意思呃是这样的"),
        ("zh", "您是昨天下的单吗"),
        ("en", "Sorry, what do you mean? Could you repeat that?"),
    ],
)
def test_request_to_repeat_or_new_question_is_no_paraphrase(language: str, text: str) -> None:
    assert "paraphrase" not in fired("paraphrase", language, text)


def confirmed_later(
    agent: str, problem: str = "我点的炒面里面吃出来半个苍蝇，商家还不给退款"
) -> bool:
    """Whether the agent's confirming question, asked once the customer's problem is turns
    back (the order was looked up in between), is credited as a paraphrase."""
    report = call(
        "zh",
        (C, 0.0, 4.0, problem),
        (A, 4.5, 7.0, "好的，麻烦您提供一下下单手机号"),
        (C, 7.5, 9.0, "幺三八零零零零"),
        (A, 9.5, 14.0, agent),
    )
    return any(
        f.kind == "paraphrase" and f.turn_index == 3 for f in run("paraphrase", report).findings
    )


@pytest.mark.parametrize(
    "text",
    [
        "查到了，就是在炒面里面吃出了半个苍蝇对吗",
        "嗯您稍等，商家不给退款是吗女士",
    ],
)
def test_confirming_the_problem_told_turns_before_is_paraphrase(text: str) -> None:
    assert confirmed_later(text)


@pytest.mark.parametrize(
    "text",
    [
        # only 这个 / 那个 / 一个 and the masked shop name in common with the customer's words
        "请问您是在这个****这个商家下的单是吗",
        # 是不是 asks whether; 对吧 runs on into a time
        "我给您发了短信您查看一下是不是",
        "商家给您退款您可以认可吧对吧明天下午一点之前",
        # a new detail of the agent's own, sharing one word with the problem
        "然后刚刚联系了商家他是开始给您做一个部分退款那个炒面是吧",
    ],
)
def test_echoing_only_common_words_or_an_open_tag_is_no_paraphrase(text: str) -> None:
    assert not confirmed_later(text, problem="这个这个我点的那个炒面这个有问题，商家那个一个都不回")


# --- faults: blame shift, arguing, over-promise ------------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "我们只是第三方平台，责任方是商家"),
        ("zh", "这是商家的问题，您自己去找商家"),
        ("en", "It's the merchant's fault, not ours."),
    ],
)
def test_blame_on_third_party(language: str, text: str) -> None:
    assert "blame_shift" in fired("no_blame_shift", language, text)


@pytest.mark.parametrize(
    ("language", "text"), [("zh", "我帮您联系商家处理"), ("zh", "商家会联系您")]
)
def test_naming_a_third_party_is_no_blame(language: str, text: str) -> None:
    assert "blame_shift" not in fired("no_blame_shift", language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "你为什么当时不反馈呢"),
        ("zh", "那您为什么要点呢"),
        ("en", "Why didn't you report it then?"),
    ],
)
def test_rhetorical_question_is_arguing(language: str, text: str) -> None:
    assert "arguing" in fired("no_arguing", language, text)


@pytest.mark.parametrize(
    ("language", "text"), [("zh", "您是什么时候下的单"), ("en", "When did you place the order?")]
)
def test_genuine_question_is_no_arguing(language: str, text: str) -> None:
    assert "arguing" not in fired("no_arguing", language, text)


@pytest.mark.parametrize("text", ["平台一定会严惩商家的", "违规商家会被处罚", "我不能保证"])
def test_policy_statement_is_no_overpromise(text: str) -> None:
    assert "overpromise" not in fired("no_overpromise", "zh", text)


# --- closing thanks -----------------------------------------------------------------------


def closing_kinds(language: str, last: str) -> set:
    report = call(
        language,
        (C, 0.0, 3.0, COMPLAINT[language]),
        (A, 3.5, 8.0, "好的，已经帮您处理好了" if language == "zh" else "Okay, that is done now."),
        (C, 8.5, 9.5, "好" if language == "zh" else "okay"),
        (A, 10.0, 16.0, last),
    )
    return {f.kind for f in run("closing", report).findings if f.turn_index == 3}


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "麻烦您对小美的服务进行评价，谢谢您"),
        ("zh", "如仍需帮助可再次发起会话，如没有其他问题，麻烦对小美的服务进行评价哦，谢谢您~"),
        ("zh", "请问您是哪里的用户？谢谢！"),
        ("zh", "请您私信提供您的号码，以便我们核实，谢谢"),
        ("en", "Please provide your phone number via private message. Thank you!"),
        ("en", "Did you report the broadband issue? Thanks!"),
        # thanks for cooperating with the request is thanks for the favour
        ("zh", "请您私信提供弹出广告截图,感谢您的配合！"),
        ("en", "Please send the screen shots via private message. Thanks for your cooperation!"),
    ],
)
def test_thanks_ending_a_request_is_no_closing(language: str, text: str) -> None:
    assert "closing_thanks" not in closing_kinds(language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "还有其他问题吗？感谢您的来电，再见"),
        ("zh", "好的，谢谢您，祝您生活愉快"),
        ("en", "Is there anything else? Thank you for calling, have a great day."),
        ("en", "We will record the case. Thanks very much for your reminder."),
        ("zh", "好的，已经为您处理好了，感谢您的配合"),
        ("en", "Your card has been replaced. Thank you for your cooperation!"),
        # a request word inside the invitation itself (私信) asks no favour
        ("zh", "建议您月初过后再查，如有问题您可以随时私信我们，谢谢！"),
        ("zh", "以后有任何疑问都可以随时私信我们，我们很乐意为您服务，谢谢！"),
        # the agent's own doing (会留意, 已私信) asks nothing of the customer
        ("zh", "小美会留意您的私信的，谢谢！"),
    ],
)
def test_closing_thanks_still_found(language: str, text: str) -> None:
    assert "closing_thanks" in closing_kinds(language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "If you meet any problem during the use, please contact us any time."),
        ("en", "OK. You are welcome to consult us at any time if you have any problem."),
        (
            "en",
            "Dear, thank you for your support. If you have any problem in the future, please @ me "
            "at any time.",
        ),
        (
            "en",
            "Please pay attention to the usage afterwards. Please contact us in case of anything "
            "unusual.",
        ),
        ("en", "If you have any problem, you can contact the editor via private message."),
        ("en", "You can contact us again if there is still the problem in the future."),
        ("en", "If you have other questions, you are welcome to call 0871-65100000."),
        ("en", "If you need help, please contact Little Wo at any time."),
        ("en", "For any problems, please contact us. We will help you."),
        ("en", "You can send private messages to us in case of any other problems."),
        ("en", "If you have any questions later, please feel free to send private messages to us."),
        ("en", "You can contact us through private messages if in need."),
        ("zh", "好的.感谢您的谅解,后续有问题请及时与我们联系."),
        ("zh", "如果之后再出现这个情况的话,您可以再联系我们,谢谢您的反馈."),
        ("zh", "恩恩,感谢亲的支持,如后续使用中遇到问题都可以私信联系小沃的哈"),
        ("zh", "亲,非常感谢您的支持,后续有任何问题可以随时@我哟,祝您生活愉快！"),
    ],
)
def test_invitation_to_come_back_in_everyday_words(language: str, text: str) -> None:
    assert "closing_invite" in closing_kinds(language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Please contact us via private message. Thank you!"),
        ("en", "Please send the specific situation to us via private message and contact us."),
        ("en", "If you have any doubt on the data, please log in the online business hall."),
        ("zh", "您好,请您将具体情况以私信的方式和我们联系,谢谢！"),
        ("zh", "如有问题请私信提供您的号码和联系方式"),
    ],
)
def test_a_request_to_get_in_touch_is_no_invitation(language: str, text: str) -> None:
    assert "closing_invite" not in closing_kinds(language, text)


@pytest.mark.parametrize(
    "text",
    [
        "以后如有任何问题都可以私信小美哦~",
        "如需协助,欢迎联系小U,谢谢！",
        "不客气，请问还有什么其他能够帮到您",
        "今后您有相关的问题,可以随时咨询我们客服",
        "如对费用有疑问,可随时私信沃妹",
        "如有需要可随时与我们沟通.",
        "您反馈的问题已经处理完毕,期待您再次体验我们的服务,谢谢.",
        "你再试一下,如果有问题可以直接联系我们",
    ],
)
def test_zh_invitation_said_as_a_condition(text: str) -> None:
    assert "closing_invite" in closing_kinds("zh", text)


@pytest.mark.parametrize(
    "text",
    [
        # asking for details over a direct message is a request, not an invitation
        "如需帮助请私信提供宽带账号,以便为您核实情况.",
        "如需协助,您可私信小沃提供您的手机号码及联系电话.",
        "请将您遇到的问题私信给小美,以便处理~",
        "请您随时关注使用情况,谢谢.",
    ],
)
def test_zh_request_for_details_by_message_is_no_invitation(text: str) -> None:
    assert "closing_invite" not in closing_kinds("zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "Please contact us if you have any problem in the future.",
        "You are welcome. Please communicate with us any time if you need our help.",
        "You can reach the team via private message for any issues in the future.",
        "For any question, you can send us a private message.",
        "For any problem later, please report it to us at any time.",
        "The issue is solved. Look forward to you experiencing our service again.",
        "For any help in the future, you are welcome to send private messages to us.",
    ],
)
def test_en_invitation_with_the_condition_last(text: str) -> None:
    assert "closing_invite" in closing_kinds("en", text)


@pytest.mark.parametrize(
    "text",
    ["Please pay attention to us at any time.", "Please keep following our news at any time."],
)
def test_en_asking_to_follow_us_is_no_invitation(text: str) -> None:
    assert "closing_invite" not in closing_kinds("en", text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "We will speed up the network construction."),
        ("en", "For the unsuccessful connections, we will increase manpower to solve it."),
        ("en", "Thanks for reporting the issue. We will pay more attention to the maintenance."),
        ("en", "We will study your advice thoroughly and try our best to improve our service."),
        ("zh", "给您在使用上带来不便我们深表歉意,我们也会加快网络建设"),
        ("zh", "请将您的平板型号发给我吧.我们尽快适配一下."),
        ("zh", "对于您的意见,我们也会进行收集"),
    ],
)
def test_dealing_with_the_matter_in_general_is_a_commitment_not_a_step(
    language: str, text: str
) -> None:
    kinds = fired("solve_problem", language, text)
    assert "commitment" in kinds
    assert "next_step" not in kinds


@pytest.mark.parametrize(
    "text",
    [
        # thanks for praise answered with the house's pledge: no problem is being solved
        "Thank you for your recognition. We will make efforts to provide better service.",
        "We will not consider a refund for this order.",
        "We have the obligations and duties to help the users to solve problems.",
    ],
)
def test_no_commitment_in_a_pledge_to_praise_or_a_refusal(text: str) -> None:
    assert "commitment" not in fired("solve_problem", "en", text)


def test_zh_complaint_against_the_merchant_is_a_step_but_taking_a_complaint_is_not() -> None:
    assert {"commitment", "next_step"} <= fired(
        "solve_problem", "zh", "商家的话我这边也会对他们采取投诉的好吗"
    )
    assert "next_step" not in fired("solve_problem", "zh", "我们会认真对待您的投诉")


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "您反馈的问题我们已经收到,我们会马上处理并尽快回复您.谢谢."),
        ("en", "Thank you for your private message. We will handle it and reply to you soon."),
        ("en", "We'll handle it immediately and reply you as soon as possible."),
    ],
)
def test_a_step_joined_to_a_general_undertaking_is_a_step(language: str, text: str) -> None:
    assert {"commitment", "next_step"} <= fired("solve_problem", language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        # a concrete verb inside the general verb's object names no step
        ("zh", "感谢您对乐视的支持,我们后续会继续优化升级并改善"),
        ("en", "We will keep optimizing our service process in the business hall."),
    ],
)
def test_a_verb_inside_a_general_undertaking_is_no_step(language: str, text: str) -> None:
    kinds = fired("solve_problem", language, text)
    assert "commitment" in kinds
    assert "next_step" not in kinds


@pytest.mark.parametrize(
    "text",
    [
        "亲亲稍等小美联系商家协商处理",
        "这边呢我联系咱们商家看就是能不能帮您协商退款问题可以吗先生",
        "稍等我看一下我先核实一下稍等",
        "亲亲; 您稍等; 小美查询一下",
        "还真是有您说的这个情况,我反馈一下.",
    ],
)
def test_zh_plain_undertaking_without_a_marker(text: str) -> None:
    assert {"commitment", "next_step"} <= fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "如有疑问欢迎您随时与我们联系",  # the customer contacts us
        "先生您这边可以帮我查询一下吗",  # the customer is asked
        "亲亲，小美这边申请不了",  # a refusal
        "我们查询的结果是已经签收了",  # a noun's qualifier
        "您说我们派了一个人在现场",  # one character alone
    ],
)
def test_zh_no_plain_undertaking(text: str) -> None:
    kinds = fired("solve_problem", "zh", text)
    assert "commitment" not in kinds
    assert "next_step" not in kinds


def test_zh_plain_action_reported_done_or_asked_for_is_a_step_only() -> None:
    for text in ("亲亲小美查询到这个订单已经超出售后期", "请您私信提供您的联通号码,以便小编核查"):
        kinds = fired("solve_problem", "zh", text)
        assert "next_step" in kinds, text
        assert "commitment" not in kinds, text


@pytest.mark.parametrize(
    "text",
    [
        "这边小美到时也会一小时给您回电跟进您的订单问题的",
        "我需要五分钟之后重新联系一下商家",
        "提交之后是会在1-2工作日为您审核的呢",
    ],
)
def test_zh_time_frame_said_as_a_bare_duration(text: str) -> None:
    assert "time_frame" in fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text", ["女士帮您帮您尽量争取到一个退款", "嗯这个您放心后续的话都会帮您调录音"]
)
def test_zh_seeking_a_refund_or_pulling_the_recording_is_a_step(text: str) -> None:
    assert {"commitment", "next_step"} <= fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "You can provide your specific issue via private message and we will reexamine it.",
        "We apologize for our mistakes and we will make it up as soon as possible.",
    ],
)
def test_en_reexamining_or_making_it_up_is_a_step(text: str) -> None:
    assert "next_step" in fired("solve_problem", "en", text)


# --- empathy and goodbyes in the words real agents use ---------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "嗯理解您这个心情，我这边马上帮您看一下"),
        ("zh", "我们非常能理解您现在的心情"),
        ("en", "Hello, the editor understands how you feel. Please provide your order number."),
        ("en", "Xiao WO quite understand your mood and we are sorry for the inconvenience."),
    ],
)
def test_empathy_in_the_words_real_agents_use(language: str, text: str) -> None:
    assert "empathy" in fired("empathy", language, text)


def test_not_understanding_the_mood_is_no_empathy() -> None:
    assert "empathy" not in fired("empathy", "en", "We do not understand your mood.")


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "好的，那这边就先不打扰您了"),
        ("zh", "感谢您的关心，也请您多注意身体，早点休息"),
        ("zh", "感谢您的支持，祝您新年快乐！"),
        ("en", "It's getting late. Good night!"),
    ],
)
def test_leave_taking_and_good_wishes_are_a_farewell(language: str, text: str) -> None:
    assert "closing_farewell" in closing_kinds(language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "我不理解您的心情"),
        ("zh", "这个我们没法体会"),
        ("en", "I can't imagine how that happened."),
    ],
)
def test_a_negated_feeling_is_no_empathy(language: str, text: str) -> None:
    assert "empathy" not in fired("empathy", language, text)


def test_a_negation_further_back_leaves_the_empathy() -> None:
    assert "empathy" in fired("empathy", "zh", "不好意思，理解您的心情")


@pytest.mark.parametrize(
    "text",
    [
        "由于目前业务繁忙，正在帮您努力查询中，辛苦您等待一下",
        "查询中，请稍等",
        "亲亲，这边转接过去对应部门人员会直接给您处理的",
        "赔偿的话，小美这边需要去与商家协商",
    ],
)
def test_zh_a_step_under_way_or_a_transfer_is_a_step(text: str) -> None:
    assert "next_step" in fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "Please provide us with your phone number for verification and handling.",
        "Could you please provide your number, so that we can reply to you after the verification.",
        "Please provide valid contact means via private message for our staff to follow up.",
        "We will collect and sort them out, report to relevant departments and push for a fix.",
        "Related engineers are fixing the problem. Please pay attention to the update.",
        "Your return has been received. We will handle the refund as soon as possible.",
    ],
)
def test_en_a_step_stated_in_a_request_or_taken_by_the_company(text: str) -> None:
    assert "next_step" in fired("solve_problem", "en", text)


def test_en_fixing_nothing_is_no_step() -> None:
    assert "next_step" not in fired("solve_problem", "en", "Our engineers are not fixing it.")


@pytest.mark.parametrize(
    "text",
    [
        "亲,小骆驼会尽快回复您的哦",
        "此次寄回,我们会尽快检测,为您解决问题.",
        "您反馈的问题我们已经收到,如收到会尽快回复您.",
        "很抱歉小美暂时未能联系上商家，5分钟后会尝试再次联系，还请您耐心等待一会",
        "您好,关于您的问题将安排相关工作人员核实跟进,请耐心等待回复,谢谢！",
    ],
)
def test_zh_undertaking_by_a_chat_persona_or_without_a_subject(text: str) -> None:
    assert {"commitment", "next_step"} <= fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        # someone else's promise, and the purpose of a request, are no commitment of the agent
        "请以私信方式提供您的姓名和联系电话,相关人员会尽快回复您",
        "烦请您提供您的业务号码,以便小沃详细记录交给工作人员核查,并尽快回复您处理结果.",
    ],
)
def test_zh_reply_promised_by_others_or_as_a_purpose_is_no_commitment(text: str) -> None:
    assert "commitment" not in fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "好的好的我这边了解那您先稍等一下我这边马上去联系商家",
        "对我这边理解那您看是这样的",
        "您好,已收到您的私信,稍后和您私信沟通,谢谢~",
        "了解到您反映的问题工作人员正在跟进处理,请您留意.",
    ],
)
def test_zh_acknowledgement_after_the_agents_self_reference(text: str) -> None:
    assert "ack_phrase" in fired("acknowledge", "zh", text)


def test_zh_what_the_agent_found_out_is_no_acknowledgement() -> None:
    text = "您好,小沃这边了解到如在缴费时选择了发票,在月结里面金额不足是打不出发票的"
    assert "ack_phrase" not in fired("acknowledge", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "Hello! We have received the signal issue you fed back. We will verify it.",
        "Your private message has been received. Please pay attention to the reply.",
        "OK, I have received it.",
        "I got it.",
        "We quite understand you feeling. Please tell us your order number.",
    ],
)
def test_en_acknowledgement_that_the_matter_was_taken_in(text: str) -> None:
    assert "ack_phrase" in fired("acknowledge", "en", text)


@pytest.mark.parametrize(
    "text", ["I know, I mean, it was a long time ago.", "Your return of goods has been received."]
)
def test_en_a_filler_or_a_parcel_received_is_no_acknowledgement(text: str) -> None:
    assert "ack_phrase" not in fired("acknowledge", "en", text)
