"""Solve the customer's real problem (为客户解决实际问题).

Four parts, each worth its ``*_points`` (they add up to 100 in the default rubrics):

* ``empathy``: 我非常理解您的心情 / "I completely understand how you feel";
* ``commitment``: 我一定竭尽所能替您解决这个问题, 我马上帮您处理 / "I will make sure this gets
  fixed", "I'll take care of this";
* ``action``: a concrete step offered (帮您退款, 给您补发 / "I'll refund", "send you a
  replacement");
* ``time_frame``: when it will happen (今天, 三个工作日内 / "within 24 hours", "by tomorrow"),
  counted only in a turn that also holds an action or a commitment, so that a stray 今天 or
  "today" is not taken for a promise of time.

Missing parts are findings of their own kind (``no_commitment``, ``no_next_step``, and
``no_time_frame`` for a next step without a time), each with its own coaching, so the coaching
never suggests a step the agent already offered. Not judged without agent or customer speech.
"""

from __future__ import annotations

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.phrases import (
    NOT_JUDGED,
    agent_turns,
    complaint_turns,
    customer_turns,
    find_hits,
    hit_finding,
    outcome,
    reply_to,
    said,
    turn_finding,
)
from calmline.monitor.rubric import PracticeRubric
from calmline.monitor.types import Finding, Severity

PARTS = (
    ("empathy", "empathy_phrase", "empathy", 20.0),
    ("commitment", "commitment", "commitment", 30.0),
    ("action", "next_step", "concrete action", 30.0),
    ("time_frame", "time_frame", "time frame", 20.0),
)


@register("solve_problem")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    agents = agent_turns(ctx)
    customers = customer_turns(ctx)
    if not agents or not customers:
        return NOT_JUDGED
    negations = practice.phrase_list("negation")
    hits = {
        lexicon: find_hits(ctx, agents, practice.phrase_list(lexicon), negations=negations)
        for lexicon, *_ in PARTS
    }
    step_turns = {h.turn.index for h in hits["action"] + hits["commitment"]}
    hits["time_frame"] = [h for h in hits["time_frame"] if h.turn.index in step_turns]

    findings: list[Finding] = []
    score = 0.0
    for lexicon, kind, label, default_points in PARTS:
        points = practice.threshold(f"{lexicon}_points", default_points)
        if hits[lexicon]:
            score += points
        for h in hits[lexicon]:
            findings.append(
                hit_finding(
                    ctx,
                    practice_id,
                    kind,
                    h,
                    Severity.POSITIVE,
                    f"agent offered {label}: {said(h)}; +{points:g} points for the call",
                )
            )
    complaints = complaint_turns(ctx)
    anchor = (reply_to(ctx, complaints[0]) if complaints else None) or agents[-1]
    if not hits["commitment"]:
        findings.append(
            turn_finding(
                ctx,
                practice_id,
                "no_commitment",
                anchor,
                Severity.MINOR,
                "agent never committed to solving the problem (no commitment phrase)",
            )
        )
    if not hits["action"]:
        findings.append(
            turn_finding(
                ctx,
                practice_id,
                "no_next_step",
                anchor,
                Severity.MINOR,
                "agent offered no concrete next step (no action phrase)",
            )
        )
    elif not hits["time_frame"]:
        findings.append(
            turn_finding(
                ctx,
                practice_id,
                "no_time_frame",
                hits["action"][0].turn,
                Severity.MINOR,
                "agent offered a next step without a time frame",
            )
        )
    return outcome(score, findings)
