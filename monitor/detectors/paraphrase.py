"""Paraphrase the complaint (重复或简述令顾客不满的原因).

Credit for a paraphrase phrase said by the agent (您的意思是, 我确认一下, "so what you're saying
is"); after a complaint, none scores ``missing_score``; no complaint and none: not judged.
"""

from __future__ import annotations

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.phrases import presence_outcome
from calmline.monitor.rubric import PracticeRubric


@register("paraphrase")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    return presence_outcome(
        ctx,
        practice_id,
        practice,
        kind="paraphrase",
        missing_kind="no_paraphrase",
        what="paraphrase",
    )
