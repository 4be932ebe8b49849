"""No promises that cannot be kept (不做过度承诺).

Each over-promise the agent makes (我保证, 百分之百, "I guarantee", "100%") is a minor finding
costing ``per_finding_penalty`` points. Negation matters here above all: 我不能保证 and "I can't
guarantee" are honest, not promises.
"""

from __future__ import annotations

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.phrases import fault_outcome
from calmline.monitor.rubric import PracticeRubric
from calmline.monitor.types import Severity


@register("no_overpromise")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    return fault_outcome(
        ctx,
        practice_id,
        practice,
        kind="overpromise",
        severity=Severity.MINOR,
        what="over-promise",
    )
