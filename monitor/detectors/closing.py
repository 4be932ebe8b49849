"""Close on an upswing (感谢顾客; 若还有什么问题,别客气,请再告诉我们; 以上扬的态势结束服务).

The closing is the agent's last ``closing_turns`` turns that end within ``closing_s`` seconds of
the agent's last word. It should thank the customer (``thanks``), invite further contact
(``invite``) and say a warm goodbye (``farewell``); the score is the share of the three found.
"""

from __future__ import annotations

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.phrases import Component, agent_turns, components_outcome
from calmline.monitor.rubric import PracticeRubric
from calmline.monitor.types import Turn

COMPONENTS = (
    Component("thanks", "closing_thanks", "a thank-you"),
    Component("invite", "closing_invite", "an invitation to get back in touch"),
    Component("farewell", "closing_farewell", "a warm goodbye"),
)


@register("closing")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    agents = agent_turns(ctx)
    n = max(1, int(practice.threshold("closing_turns", 2)))
    closing: tuple[Turn, ...] = ()
    if agents:
        since = agents[-1].end - practice.threshold("closing_s", 30.0)
        closing = tuple(t for t in agents[-n:] if t.end >= since)
    return components_outcome(
        ctx,
        practice_id,
        practice,
        closing,
        COMPONENTS,
        incomplete_kind="closing_incomplete",
        where="closing",
    )
