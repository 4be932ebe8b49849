"""Few excuses (理由少一点; 找证明或借口).

After the customer's first complaint (or, without one, their first turn), every agent turn that
justifies (因为…所以…, 这是规定, "that's because", "it's company policy") is counted once. Up to
``max_justifications`` are informational; each one beyond costs ``per_excess_penalty`` points
as a minor finding.
"""

from __future__ import annotations

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.phrases import (
    NOT_JUDGED,
    agent_turns,
    complaint_turns,
    customer_turns,
    hit_finding,
    lexicon_hits,
    outcome,
)
from calmline.monitor.rubric import PracticeRubric
from calmline.monitor.types import Severity


@register("no_excuses")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    agents = agent_turns(ctx)
    if not agents:
        return NOT_JUDGED
    complaints = complaint_turns(ctx) or customer_turns(ctx)
    since = complaints[0].start if complaints else agents[0].start
    hits = lexicon_hits(ctx, [t for t in agents if t.start >= since], practice, "excuse")
    allowed = int(practice.threshold("max_justifications", 2))
    penalty = practice.threshold("per_excess_penalty", 20.0)
    findings = []
    turns_seen: set[int] = set()
    for h in hits:
        if h.turn.index in turns_seen:
            continue
        turns_seen.add(h.turn.index)
        n = len(turns_seen)
        over = n > allowed
        findings.append(
            hit_finding(
                ctx,
                practice_id,
                "excuse",
                h,
                Severity.MINOR if over else Severity.INFO,
                f"justification #{n} after the complaint ('{h.match.phrase}'); "
                f"{allowed} allowed" + (f", -{penalty:.0f} points" if over else ""),
                value=float(n),
                threshold=float(allowed),
            )
        )
    excess = max(0, len(turns_seen) - allowed)
    return outcome(100.0 - penalty * excess, findings)
