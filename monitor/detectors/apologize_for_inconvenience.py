"""Apologise for the inconvenience (为顾客的不便而道歉): regret, not an admission of guilt.

Credit for an apology phrase said by the agent (给您带来不便, 非常抱歉, "sorry for the
inconvenience", "I apologize"); a call where the customer complained and the agent never
apologised scores ``missing_score``. "Sorry." said as a sentence of its own before the answer
(``apology_sentence``, English) counts too. A call without a complaint and without an apology is not
judged.
"""

from __future__ import annotations

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.frames import apology_sentence_hits
from calmline.monitor.detectors.phrases import presence_outcome
from calmline.monitor.rubric import PracticeRubric


@register("apologize_for_inconvenience")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    return presence_outcome(
        ctx,
        practice_id,
        practice,
        kind="apology",
        missing_kind="no_apology",
        what="apology",
        more=lambda c, turns: apology_sentence_hits(c, turns, practice),
    )
