"""Recognise the customer's feeling (认同顾客的感觉).

Credit for an empathy phrase said by the agent (我能理解, 换作是我也会, "I can see why you're
upset"); after a complaint, none scores ``missing_score``; no complaint and none: not judged.
"""

from __future__ import annotations

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.phrases import presence_outcome
from calmline.monitor.rubric import PracticeRubric


@register("empathy")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    return presence_outcome(
        ctx, practice_id, practice, kind="empathy", missing_kind="no_empathy", what="empathy"
    )
