"""Never ask the customer to apologise or admit fault (不要提出让客户道歉或认错).

Any agent utterance demanding an apology or an admission of fault (你先给我道歉, 你要承认是你的
错, "you need to apologize", "admit it was your fault") is a critical finding and the practice
scores 0; a call without one scores 100.

What is not a demand:

* the customer demanding one (only agent turns are searched);
* a negated phrase (我不是说你要道歉, "I'm not saying you need to apologize");
* the agent apologising (我们向您道歉, "I need to apologize"): a demand match that overlaps a
  ``not_demand`` phrase is dropped. This matters for fuzzy matches above all ("I need to
  apologize" is two edits from "you need to apologize"), which is also why this practice has its
  own, stricter ``fuzzy_threshold``. English demands match without lemmas: the verb's form
  decides ("he kept apologizing to me" is no "apologize to me").
"""

from __future__ import annotations

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.phrases import (
    NOT_JUDGED,
    agent_turns,
    find_hits,
    heard_apart,
    hit_finding,
    lexicon_hits,
    outcome,
    said,
    unsure_findings,
)
from calmline.monitor.rubric import PracticeRubric
from calmline.monitor.types import Severity


@register("no_apology_demand")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    agents = agent_turns(ctx)
    if not agents:
        return NOT_JUDGED
    fuzzy = practice.thresholds.get("fuzzy_threshold")
    # Imperatives: "apologizing to me" is no "apologize to me", so no English lemmas.
    demands = lexicon_hits(ctx, agents, practice, "demand", fuzzy_threshold=fuzzy, lemmas=False)
    apologies = find_hits(ctx, agents, practice.phrase_list("not_demand"), fuzzy_threshold=100)
    # the agent apologising ("I need to apologize") is no demand, heard clearly or not
    demands = [
        h
        for h in demands
        if not any(
            a.turn.index == h.turn.index
            and a.match.start_char < h.match.end_char
            and a.match.end_char > h.match.start_char
            for a in apologies
        )
    ]
    demands, unsure = heard_apart(ctx, demands)
    findings = unsure_findings(
        ctx,
        practice_id,
        "apology_demand",
        unsure,
        "agent demanded an apology or admission of fault:",
    )
    for h in demands:
        findings.append(
            hit_finding(
                ctx,
                practice_id,
                "apology_demand",
                h,
                Severity.CRITICAL,
                f"agent demanded an apology or admission of fault: {said(h)}",
                threshold=fuzzy if h.match.kind == "fuzzy" else None,
            )
        )
    charged = any(f.severity is Severity.CRITICAL for f in findings)
    return outcome(0.0 if charged else 100.0, findings)
