"""Do not argue with the customer (不要同顾客争论).

Each arguing phrase the agent says (你错了, 这不是我们的问题, "you're wrong", "that's not our
problem") is a major finding costing ``per_finding_penalty`` points; negated ones ("I'm not
saying you're wrong") do not count.
"""

from __future__ import annotations

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.phrases import fault_outcome
from calmline.monitor.rubric import PracticeRubric
from calmline.monitor.types import Severity


@register("no_arguing")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    return fault_outcome(
        ctx, practice_id, practice, kind="arguing", severity=Severity.MAJOR, what="arguing phrase"
    )
