"""Paraphrase the complaint (重复或简述令顾客不满的原因).

Credit for a paraphrase phrase said by the agent (您的意思是, 我确认一下, "so what you're saying
is", a confirming 您是说…对吗 / "do you mean …?"); a turn that asks the customer to repeat
(``repeat_request``: 我没有听清楚, "could you repeat that") earns none. After a complaint, none
scores ``missing_score``; no complaint and none: not judged. A phrase matched across a filler
the phrase does not hold is not credited: 我明白您的意思呃是这样的 is an acknowledgement and a
filler, not 您的意思是.
"""

from __future__ import annotations

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.phrases import Hit, presence_outcome
from calmline.monitor.rubric import PracticeRubric


def no_filler_inside(ctx: DetectorContext, hit: Hit) -> bool:
    """Whether the matched words hold no filler (呃, 嗯 …) that the phrase itself lacks."""
    fillers = ctx.rubric.matching.fillers
    form = hit.match.form or hit.match.phrase
    return not any(f in hit.match.matched and f not in form for f in fillers)


@register("paraphrase")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    return presence_outcome(
        ctx,
        practice_id,
        practice,
        kind="paraphrase",
        missing_kind="no_paraphrase",
        what="paraphrase",
        exclude="repeat_request",
        accept=no_filler_inside,
    )
