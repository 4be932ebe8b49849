"""No promises that cannot be kept (不做过度承诺).

Each over-promise the agent makes (我保证, 百分之百, "I guarantee", "100%") is a minor finding
costing ``per_finding_penalty`` points. Negation matters here above all: 我不能保证 and "I can't
guarantee" are honest, not promises.

Nor is a stance on the company's own conduct a promise of an outcome: 服务问题是我们公司的底线，
是绝对不会姑息纵容的 and 绝对不会偏袒任何一个商家 say what the company will never tolerate or favour
(a policy statement, as the labelling guideline has it), where 您放心绝对不会跑的 promises the
customer's money back. A ``bad`` phrase followed at once (``conduct_window`` characters) by a
word of such conduct (``conduct``: 姑息, 纵容, 偏袒, 辜负 …) is no over-promise. Over the Mandarin
tune dialogues that was 5 of the 6 over-promises charged; two dev lines of the 姑息纵容 message
are labelled without one.
"""

from __future__ import annotations

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.phrases import Hit, fault_outcome
from calmline.monitor.rubric import PracticeRubric
from calmline.monitor.types import Severity


def promises_an_outcome(ctx: DetectorContext, hit: Hit, practice: PracticeRubric) -> bool:
    """Whether the over-promise phrase is not followed at once by a word of the company's own
    conduct (``conduct``: 绝对不会姑息, 绝对不会偏袒)."""
    conduct = practice.phrase_list("conduct")
    if not conduct:
        return True
    window = int(practice.threshold("conduct_window", 2))
    after = hit.turn.text[hit.match.end_char : hit.match.end_char + window + 4]
    return not any(m.start_char <= window for m in ctx.matcher.find(after, conduct))


@register("no_overpromise")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    return fault_outcome(
        ctx,
        practice_id,
        practice,
        kind="overpromise",
        severity=Severity.MINOR,
        what="over-promise",
        keep=lambda c, h: promises_an_outcome(c, h, practice),
    )
