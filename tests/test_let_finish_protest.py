"""``let_finish``'s ``customer_protest`` (round 45, from a QA read of scored MUSIED calls, seed
436): the customer's own words asking to be let finish (你听我说完, 你先听我说, "let me finish")
are the evidence of an agent who answered before the customer had finished, where no overlap
shows (a transcript, a mono call); charged once, against the agent turn they answer.

Sentences written for the rule; none is copied from the evaluation data.
"""

from __future__ import annotations

import pytest

from calmline.monitor.rubric import default_rubric
from calmline.monitor.scoring import score_report
from calmline.monitor.types import Finding, Role, Severity
from tests.test_stress import A, C, call

_STORY = "我点的面里面有苍蝇，我给商家打电话，商家态度特别恶劣，还挂我电话"
_PROCEDURE = "非常抱歉，我现在给您发一条短信，您点开链接上传一下图片，我马上帮您核实处理好吗"


def _let_finish(spec: list, language: str = "zh"):
    report = score_report(call(spec, language=language), default_rubric(language))
    (practice,) = [p for p in report.scorecard.practices if p.practice == "let_finish"]
    return report, practice


def _protests(practice) -> list[Finding]:
    return [f for f in practice.findings if f.kind == "customer_protest"]


def test_the_customer_asking_to_finish_is_evidence_against_the_agents_turn() -> None:
    """A MUSIED caller told the agent 你听我说完 after the agent went on with the procedure in
    the middle of her story: no overlap shows in a transcript, but her words do. The finding
    sits on her words, names the agent turn she answers, and costs what a cue costs."""
    report, let_finish = _let_finish(
        [
            C(0.0, 6.0, _STORY),
            A(6.5, 12.0, _PROCEDURE),
            C(12.5, 14.0, "你听我说完，我还没说完呢"),
            A(14.5, 15.5, "好的您说"),
            C(16.0, 20.0, "我后来自己申请退款，退款也只退了十块钱"),
        ]
    )
    (f,) = _protests(let_finish)
    assert f.severity is Severity.MINOR and f.role is Role.CUSTOMER and f.turn_index == 2
    assert f.quote[f.match_start : f.match_end] == f.matched == "你听我说完"
    assert f.match_kind == "exact" and "after agent turn 1" in f.detail
    assert 12.5 <= f.start <= f.end <= 14.0
    assert let_finish.score == 90.0
    # one fault, one penalty: the turn is not charged again by gentle_control
    (gentle,) = [p for p in report.scorecard.practices if p.practice == "gentle_control"]
    assert all(g.severity in (Severity.INFO, Severity.POSITIVE) for g in gentle.findings)


@pytest.mark.parametrize(
    "said",
    [
        # a caller opening a story, not protesting
        "你听我说，是这么个情况，我昨天点的外卖到现在还没到",
        "好的，你说吧",
    ],
)
def test_words_that_do_not_ask_to_finish_are_no_protest(said: str) -> None:
    _, let_finish = _let_finish(
        [C(0.0, 6.0, _STORY), A(6.5, 12.0, _PROCEDURE), C(12.5, 16.0, said)]
    )
    assert not _protests(let_finish)
    assert let_finish.score == 100.0


def test_a_protest_after_nothing_but_backchannels_answers_no_agent_turn() -> None:
    _, let_finish = _let_finish(
        [C(0.0, 6.0, _STORY), A(6.2, 6.6, "嗯"), C(7.0, 9.0, "你先听我说，商家还骂人")]
    )
    assert not _protests(let_finish)


def test_a_protest_after_a_measured_interruption_confirms_it_without_a_second_penalty() -> None:
    spec = [
        C(0.0, 6.0, _STORY),
        A(4.0, 9.0, _PROCEDURE),  # starts 4 s into the customer's turn: 2 s of overlap
        C(9.5, 11.0, "你听我说完"),
    ]
    _, let_finish = _let_finish(spec)
    (f,) = _protests(let_finish)
    assert (
        f.severity is Severity.INFO and f.weight == 0.0 and "confirms the interruption" in f.detail
    )
    assert [g.kind for g in let_finish.findings if g.severity is Severity.MAJOR] == ["interruption"]
    _, without = _let_finish([*spec[:2], C(9.5, 11.0, "好的")])
    assert let_finish.score == without.score == 80.0


def test_let_me_finish_is_the_customers_protest_and_the_agents_retort() -> None:
    story = "I was charged twice for the same order and nobody answered my emails"
    _, customer_says = _let_finish(
        [
            C(0.0, 5.0, story),
            A(5.5, 9.0, "I can transfer you to the billing team right now"),
            C(9.5, 12.0, "Wait, let me finish. The second charge came a week later"),
        ],
        language="en",
    )
    (f,) = _protests(customer_says)
    assert f.matched.lower() == "let me finish" and f.role is Role.CUSTOMER
    _, agent_says = _let_finish(
        [C(0.0, 5.0, story), A(5.5, 9.0, "Let me finish, sir, the charge is correct")],
        language="en",
    )
    assert not _protests(agent_says)
    assert any(g.kind == "retort" for g in agent_says.findings)
