"""The six courtesies (沟通六道: 你好, 好的, 好吗, 请, 谢谢, 对不起).

Share of the agent's substantive turns (``min_turn_units`` characters or words or more) holding
a ``polite`` phrase, against ``min_turn_share`` (a share; the ``courtesy_share`` finding
reports both as percentages); each ``rude`` phrase is a major finding costing
``rude_penalty`` points. A few polite moments are kept as credit findings for the reviewer; the
share is reported as one ``courtesy_share`` finding.
"""

from __future__ import annotations

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.phrases import (
    NOT_JUDGED,
    agent_turns,
    agitation_weight,
    find_hits,
    heard_apart,
    hit_finding,
    outcome,
    said,
    turn_finding,
    units,
    unsure_findings,
)
from calmline.monitor.rubric import PracticeRubric
from calmline.monitor.types import Finding, Severity

EXAMPLES = 3
"""Polite moments kept as findings: the share says the rest."""


@register("courtesy")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    agents = agent_turns(ctx)
    min_units = practice.threshold("min_turn_units", 5)
    substantive = [t for t in agents if units(t.text, ctx.language) >= min_units]
    if not substantive:
        return NOT_JUDGED
    findings: list[Finding] = []
    polite = find_hits(ctx, substantive, practice.phrase_list("polite"))
    polite_turns = {h.turn.index for h in polite}
    first_per_turn = list({h.turn.index: h for h in reversed(polite)}.values())[::-1]
    for h in first_per_turn[:EXAMPLES]:
        findings.append(
            hit_finding(
                ctx,
                practice_id,
                "courtesy_phrase",
                h,
                Severity.POSITIVE,
                f"agent used {said(h)}",
            )
        )
    min_share = practice.threshold("min_turn_share", 0.3)
    share = len(polite_turns) / len(substantive)
    findings.append(
        turn_finding(
            ctx,
            practice_id,
            "courtesy_share",
            substantive[0],
            Severity.POSITIVE if share >= min_share else Severity.MINOR,
            f"{len(polite_turns)} of {len(substantive)} substantive agent turns hold a courtesy "
            f"phrase = {100 * share:.0f}% (threshold {100 * min_share:.0f}%)",
            value=round(100 * share, 1),
            threshold=round(100 * min_share, 1),
            whole_call=True,
        )
    )
    score = 100.0 * min(1.0, share / min_share) if min_share > 0 else 100.0
    penalty = practice.threshold("rude_penalty", 25.0)
    rude, unsure = heard_apart(
        ctx,
        find_hits(
            ctx, agents, practice.phrase_list("rude"), negations=practice.phrase_list("negation")
        ),
    )
    findings += unsure_findings(ctx, practice_id, "rude", unsure, "agent said rude phrase")
    for h in rude:
        weight = agitation_weight(ctx, practice, h.start)
        score -= penalty * weight
        findings.append(
            hit_finding(
                ctx,
                practice_id,
                "rude",
                h,
                Severity.MAJOR,
                f"agent said rude phrase {said(h)}; -{penalty * weight:.0f} points",
                weight=weight,
            )
        )
    return outcome(score, findings)
