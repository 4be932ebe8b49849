"""Twenty-second round (issue 13 item 5), from the sixth batch of dev labels: a chat agent's
burst of opening messages after a long welcome text; a wait asked of the customer followed by
the agent's own step and its time where the text has no comma (您稍等一下我马上为您处理); "Sorry."
as a sentence of its own and asking forgiveness for the trouble; undertakings with a search, a
test or an intervention; steps the customer can take in written replies (您也可登陆…,
您可以参考…); a cause that makes the shortfall look normal ("due to its high power. This is
perfectly normal", 这样的设计).

Sentences written from the guideline after reading the batch's lines; none is copied from the
evaluation data.
"""

from __future__ import annotations

import pytest

from tests.test_detectors_recall import fired
from tests.test_detectors_text import A, C, call, run


def test_a_greeting_in_the_burst_after_a_long_welcome_text_still_opens() -> None:
    """A chat agent sends its banner with its name, a long welcome text, then 您好亲亲请问有什么
    可以帮您: the third message is part of the opening however long the second one took; after
    the customer has told the matter, it opens nothing."""
    welcome = "您好，很高兴为您服务，天气多变，记得要照顾好自己~~请您放心。" * 4
    report = call(
        "zh",
        (A, 0.0, 3.0, "Hi~请问您是遇到以下问题吗？"),
        (A, 3.3, 6.0, "您好，欢迎您进入人工客服，请输入您的问题"),
        (C, 6.5, 7.0, "投诉"),
        (A, 7.5, 12.0, "您好，我是本次为您服务的客服小美_1023，很高兴为您服务～"),
        (A, 12.5, 48.0, welcome),
        (A, 48.5, 51.0, "您好亲亲请问有什么可以帮您"),
        (C, 51.5, 58.0, "我点的外卖送错了，里面的菜都不对，我要退款"),
        (A, 58.5, 61.0, "您好亲亲请问有什么可以帮您"),
    )
    findings = run("greeting", report).findings
    greeted = {f.turn_index for f in findings if f.kind in ("greeting_hello", "greeting_offer")}
    assert {3, 5} <= greeted and 7 not in greeted


def test_a_burst_message_long_after_the_last_one_opens_nothing() -> None:
    """The burst ends when the agent falls silent for longer than the opening's span."""
    report = call(
        "zh",
        (A, 0.0, 3.0, "Hi~请问您是遇到以下问题吗？"),
        (A, 3.3, 6.0, "您好，欢迎您进入人工客服，请输入您的问题"),
        (C, 6.5, 7.0, "投诉"),
        (A, 7.5, 12.0, "您好，我是本次为您服务的客服小美_1023，很高兴为您服务～"),
        (A, 12.5, 15.0, "请您稍等"),
        (A, 80.0, 82.0, "您好亲亲请问有什么可以帮您"),
    )
    findings = run("greeting", report).findings
    assert 3 in {f.turn_index for f in findings if f.kind == "greeting_offer"}
    assert 5 not in {f.turn_index for f in findings if f.kind == "greeting_offer"}


@pytest.mark.parametrize(
    "text",
    [
        "然后这边的话您稍等一下我马上为您处理好吧",
        "嗯好的辛苦您稍等啊我马上去致电商家",
        "亲，您稍等小美这边马上帮您外呼联系商家核实一下",
    ],
)
def test_the_agents_own_time_after_a_wait_asked_without_a_comma(text: str) -> None:
    assert "time_frame" in fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "您稍等，请您稍后留意短信，我们会处理",
        "请您稍后再拨打一次，我们这边会跟进",
    ],
)
def test_a_time_for_the_customer_to_act_is_still_no_time_frame(text: str) -> None:
    """No agent's subject stands between the request and the time: the time is the customer's."""
    assert "time_frame" not in fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "Sorry. We will fix the display problem in the next system update.",
        "Sorry! Some of the content must be changed first, and we will inform you.",
        "Hi, please forgive us for your inconvenience! We have recorded the problem.",
    ],
)
def test_sorry_as_a_sentence_or_asking_forgiveness_is_an_apology(text: str) -> None:
    assert "apology" in fired("apologize_for_inconvenience", "en", text)


@pytest.mark.parametrize(
    "text",
    [
        "Sorry? Could you say the number again?",
        "sorry.",
        "Sorry, what was the name of the store?",
    ],
)
def test_sorry_asking_to_repeat_or_alone_is_no_apology(text: str) -> None:
    assert "apology" not in fired("apologize_for_inconvenience", "en", text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Could you tell me your city? We'll search for the service centers near you."),
        ("en", "If you do not want to update, send me the order number. I will feed it back."),
        ("en", "We are sorry. Our company will cover this area as soon as possible."),
        ("zh", "主题名称叫什么？我们这边测试看看是不是主题本身的问题"),
        ("zh", "好的了解了那我这边的话客服会介入了解这个情况"),
    ],
)
def test_an_undertaking_to_search_test_or_step_in_is_a_commitment(language: str, text: str) -> None:
    assert "commitment" in fired("solve_problem", language, text)


@pytest.mark.parametrize(
    "text",
    [
        "您好,小沃这边测试过可以正常登陆,建议您测试一下换个浏览器",
        "如果您在北京还需要麻烦您帮我们测试一下",
    ],
)
def test_a_test_already_done_or_asked_of_the_customer_is_no_commitment(text: str) -> None:
    assert "commitment" not in fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "如您对流量有疑问,您也可登陆网上营业厅查询使用情况",
        "如果需要退款,您可以参考网页上的退换货流程说明",
        "入口在订单完成页点击申请售后就可以看到",
        "游游这里处理不了哦,专员会尽快核实回复您的,请您耐心等待",
    ],
)
def test_a_step_in_a_written_reply_is_a_next_step(text: str) -> None:
    assert "next_step" in fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "The charger may make noises due to its high power. This is perfectly normal."),
        ("en", "Bugs of this kind usually happen during the storage of the goods."),
        ("en", "You need to close it in the business hall because it relates to settlements."),
        ("zh", "您好,目前确实是这样的设计,感谢您的反馈"),
        ("zh", "为了美观,秒针是这样设计的,您可以理解为装饰"),
    ],
)
def test_a_cause_that_makes_the_shortfall_look_normal_is_an_excuse(
    language: str, text: str
) -> None:
    assert "excuse" in fired("no_excuses", language, text)


def test_an_action_reported_done_after_its_object_is_a_step_not_a_commitment() -> None:
    kinds = fired("solve_problem", "zh", "嗯嗯我联系这个商家了商家这边暂时没有接电话")
    assert "next_step" in kinds and "commitment" not in kinds


def test_understanding_after_the_object_is_no_report_of_a_done_action() -> None:
    """了解 is a verb of its own: the agent still undertakes to call the merchant."""
    assert "commitment" in fired("solve_problem", "zh", "我联系商家了解一下情况")


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("请您放心，小美一定积极协助您处理", {"commitment"}),
        ("为保障您的权益，小美可以协助您提交退款申请", {"commitment", "next_step"}),
        ("我这边马上为您就是办理一下", {"commitment", "next_step", "time_frame"}),
        ("50元余额预计1-3个工作日内可以到达您的美团账号", {"next_step", "time_frame"}),
    ],
)
def test_assisting_handling_and_an_arrival_with_its_time(text: str, kinds: set) -> None:
    assert kinds <= fired("solve_problem", "zh", text)


def test_the_agents_offer_after_a_question_about_the_customers_details() -> None:
    """The question (是否可以告知…可以吗) ends where the agent names itself as the doer again."""
    text = "先生您是否可以告知一下您美团绑定的号码提供一下可以吗我给您查一下咱们订单"
    assert {"commitment", "next_step"} <= fired("solve_problem", "zh", text)


def test_a_question_about_the_step_right_before_it_is_still_a_question() -> None:
    assert not {"commitment", "next_step"} & fired("solve_problem", "zh", "请问是否我给您查一下")


@pytest.mark.parametrize(
    "text",
    [
        "了解了解那我同事会给您重新审核一下这个商家的",
        "呃对的您耐心等待我们专员会给您尽快回电处理的您放心",
        "嗯对的我们这个专员会给您回电的女士",
    ],
)
def test_a_colleague_named_after_the_agents_subject_takes_the_step(text: str) -> None:
    """我同事会… / 我们专员会…: another's promise, a next step and not the agent's commitment
    (the labelling convention of every batch)."""
    kinds = fired("solve_problem", "zh", text)
    assert "next_step" in kinds and "commitment" not in kinds


def test_we_will_have_someone_follow_up_is_the_agents_own_undertaking() -> None:
    kinds = fired("solve_problem", "zh", "如仍无法解决可添加微信公众号，我们将有专人为您跟进处理")
    assert "commitment" in kinds


def test_a_time_that_leads_into_the_agents_step_after_a_wait_is_the_steps_time() -> None:
    """稍等 asks the customer to wait; 马上为您转接 is the agent's step and its time."""
    assert "time_frame" in fired("solve_problem", "zh", "稍等马上为您转接")


@pytest.mark.parametrize(
    "text",
    [
        "We are sorry for the trouble. We will boost the signal coverage in your area.",
        "We will enhance the training of our staff and improve the service.",
        "Please message us your number and contact person. We will keep you posted.",
    ],
)
def test_an_english_pledge_on_the_customers_problem_is_a_commitment(text: str) -> None:
    assert "commitment" in fired("solve_problem", "en", text)


def test_collecting_opinions_is_a_commitment_but_no_step() -> None:
    kinds = fired("solve_problem", "en", "We will collect your opinions and the suggestions.")
    assert "commitment" in kinds and "next_step" not in kinds


def test_a_cause_that_says_the_trouble_may_happen_is_an_excuse_in_mandarin() -> None:
    text = "很抱歉,由于目前这个业务刚推出,可能会有很多不完善的地方"
    assert "excuse" in fired("no_excuses", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "您好,请您长按电源键 30s 以上,查看是否可以正常重启.",
        "您好,根据截图判断,剩余的是省内流量,您可核查一下超出的是否为国内流量.",
        "好的，请您点击下方“联系客服”召唤我的人类小伙伴",
        "您好,是由于此地基站故障导致,我部工作人员正在处理中,请您稍后留意.",
    ],
)
def test_troubleshooting_a_hand_off_and_work_under_way_are_next_steps(text: str) -> None:
    assert "next_step" in fired("solve_problem", "zh", text)


@pytest.mark.parametrize(
    "text",
    [
        "Hello! Your issue is being handled. Please pay attention to the calls from our staff.",
        "You need to bring the ID card of the owner to the business hall to change the plan.",
    ],
)
def test_work_under_way_and_what_to_bring_are_next_steps(text: str) -> None:
    assert "next_step" in fired("solve_problem", "en", text)


def test_the_agents_own_undertaking_after_a_colleagues_promise_is_a_commitment() -> None:
    """As after a report, the agent speaks for itself again where its own subject follows well
    after the colleague named (no comma in a call transcript)."""
    text = "专员会给您回复的然后呢我这边帮您备注催促一下"
    assert "commitment" in fired("solve_problem", "zh", text)
    assert "commitment" not in fired("solve_problem", "zh", "专员会给您回复的请您耐心等待")


@pytest.mark.parametrize(
    "text",
    [
        "Since the data information is dynamic, the data you inquired may differ over time.",
        "Because it is an all-in-one device, the price of the screen will be relatively high.",
        "Based on the surroundings, the signal is not able to cover 100% of all places.",
        "If you did not back up your data before unloading it, I can't recover it for you either.",
    ],
)
def test_a_cause_that_defends_a_price_a_limit_or_a_loss_is_an_excuse(text: str) -> None:
    assert "excuse" in fired("no_excuses", "en", text)


def test_the_agents_own_promise_after_the_staffs_work_is_a_commitment() -> None:
    text = "Hello! Our staff is actively handling your issue and we will contact with you soon."
    assert "commitment" in fired("solve_problem", "en", text)
