"""Never blame colleagues, other departments or the company (推诿).

Each blame-shifting phrase the agent says (那是别的部门的事, 不归我管, "that's not my
department") is a major finding costing ``per_finding_penalty`` points.
"""

from __future__ import annotations

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.phrases import fault_outcome
from calmline.monitor.rubric import PracticeRubric
from calmline.monitor.types import Severity


@register("no_blame_shift")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    return fault_outcome(
        ctx,
        practice_id,
        practice,
        kind="blame_shift",
        severity=Severity.MAJOR,
        what="blame-shifting phrase",
    )
