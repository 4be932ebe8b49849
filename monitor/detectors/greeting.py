"""Open warmly, give your name, offer help (介绍自己的名字,并表示乐意帮忙).

The opening is the agent's first ``opening_turns`` turns that start within ``opening_s`` seconds
of the agent's first word. It should hold a greeting (``hello``), the agent's name (``name``) and
an offer to help (``offer_help``); the score is the share of the three found.
"""

from __future__ import annotations

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.phrases import Component, agent_turns, components_outcome
from calmline.monitor.rubric import PracticeRubric
from calmline.monitor.types import Turn

COMPONENTS = (
    Component("hello", "greeting_hello", "a greeting"),
    Component("name", "greeting_name", "the agent's name"),
    Component("offer_help", "greeting_offer", "an offer to help"),
)


@register("greeting")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    agents = agent_turns(ctx)
    opening: tuple[Turn, ...] = ()
    if agents:
        n = max(1, int(practice.threshold("opening_turns", 2)))
        until = agents[0].start + practice.threshold("opening_s", 30.0)
        opening = tuple(t for t in agents[:n] if t.start <= until)
    return components_outcome(
        ctx,
        practice_id,
        practice,
        opening,
        COMPONENTS,
        incomplete_kind="greeting_incomplete",
        where="opening",
    )
