"""Offer several solutions for the customer to choose (建议不同的解决方法).

Credit for an options phrase said by the agent (您看…还是…, 有两个方案, "you can either … or …");
after a complaint, none scores ``missing_score``; no complaint and none: not judged.
"""

from __future__ import annotations

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.phrases import presence_outcome
from calmline.monitor.rubric import PracticeRubric


@register("options")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    return presence_outcome(
        ctx, practice_id, practice, kind="options", missing_kind="no_options", what="options"
    )
