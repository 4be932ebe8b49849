"""Do not argue with the customer (不要同顾客争论).

Each arguing phrase the agent says (你错了, 这不是我们的问题, "you're wrong", "that's not our
problem") is a major finding costing ``per_finding_penalty`` points; negated ones ("I'm not
saying you're wrong") do not count.

A phrase the agent only says back from the customer's turn just before it is not charged: after
检查了也不就那不可能就警告处 (the customer: "it can't be just a warning"), the agent's 那不可能 says
the customer's words back, agreeing or taking them in. The words alone cannot tell that from
throwing the customer's words back at them ("That's not true." after the customer's "that's not
true"), so such a phrase is shown to the QA lead as an info finding, with why it was not
charged. Over the Mandarin tune dialogues the one arguing phrase an agent said was such an echo.
"""

from __future__ import annotations

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.phrases import Hit, customer_turns, fault_outcome
from calmline.monitor.rubric import PracticeRubric
from calmline.monitor.types import Severity

ECHO_NOTE = (
    "repeats the customer's words just before it: not charged; listen to whether it agrees or "
    "disputes"
)
"""Why an arguing phrase that says the customer's last words back is not charged."""


def echo(ctx: DetectorContext, hit: Hit) -> str | None:
    """:data:`ECHO_NOTE` where the customer's last turn before the agent's holds the words the
    arguing phrase matched (the agent says them back); ``None`` otherwise."""
    before = [t for t in customer_turns(ctx) if t.start < hit.turn.start]
    if not before:
        return None
    norm = ctx.matcher.normalize
    return ECHO_NOTE if norm(hit.match.matched) in norm(before[-1].text) else None


@register("no_arguing")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    return fault_outcome(
        ctx,
        practice_id,
        practice,
        kind="arguing",
        severity=Severity.MAJOR,
        what="arguing phrase",
        aside=echo,
    )
