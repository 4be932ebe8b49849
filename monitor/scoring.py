"""Score a call report against a rubric: findings, practice scores, coaching, overall score.

Scoring needs only the report (no audio, no models), so a stored report can be re-scored with
another rubric at any time. Order: customer stress first (it is context for the detectors), then
each enabled practice's detector where the practice applies to the call
(:mod:`calmline.monitor.applicability`), then the weighted overall score over the practices that
apply, capped by critical findings. A call whose roles are uncertain is marked as needing review
and its coaching is withheld.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial

from calmline.monitor.applicability import not_applicable, nothing_to_judge, review_reasons
from calmline.monitor.detectors import DetectorContext, PracticeOutcome, detector_for
from calmline.monitor.detectors.phrases import agent_said
from calmline.monitor.rubric import PracticeRubric, Rubric
from calmline.monitor.stress import estimate_stress
from calmline.monitor.textmatch import PhraseMatcher
from calmline.monitor.types import (
    FAULT_SEVERITIES,
    CallReport,
    Finding,
    PracticeScore,
    Scorecard,
    Severity,
)

_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.MAJOR: 3,
    Severity.MINOR: 2,
    Severity.INFO: 1,
    Severity.POSITIVE: 0,
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class ScoringError(ValueError):
    """The rubric cannot score this report (e.g. a practice without a detector)."""


def score_report(report: CallReport, rubric: Rubric) -> CallReport:
    """A copy of ``report`` with its :class:`Scorecard` for ``rubric``."""
    matcher = PhraseMatcher(rubric.matching, rubric.language)
    stress = estimate_stress(report, rubric, matcher)
    ctx = DetectorContext(report=report, rubric=rubric, matcher=matcher, stress=stress)
    practices: list[PracticeScore] = []
    for practice_id, practice in rubric.practices.items():
        if not practice.enabled:
            continue
        detector = detector_for(practice_id)
        if detector is None:
            raise ScoringError(
                f"rubric {rubric.rubric} names practice {practice_id!r}, which has no detector"
            )
        reason = not_applicable(ctx, practice_id, practice)
        if reason is not None:
            practices.append(_not_applicable(practice_id, practice, reason))
            continue
        outcome = detector(ctx, practice_id, practice)
        scored = _practice_score(practice_id, practice, outcome, rubric, ctx)
        if scored.score is None:
            scored = replace(scored, applicable=False, reason=nothing_to_judge(outcome))
        practices.append(scored)

    reasons = review_reasons(ctx)
    if reasons:
        # Scored for the QA lead; nothing coached to an agent who may not be the agent.
        practices = [replace(p, coaching=None) for p in practices]

    # Practices that do not apply (score None) carry no weight: the mean is over the others.
    judged = [p for p in practices if p.score is not None and p.weight > 0]
    total_weight = sum(p.weight for p in judged)
    uncapped = sum(p.weight * p.score for p in judged) / total_weight if total_weight else 100.0
    capped_by = tuple(p.practice for p in practices if p.critical)
    overall = min(uncapped, rubric.critical_cap) if capped_by else uncapped
    scorecard = Scorecard(
        rubric=rubric.rubric,
        rubric_version=rubric.version,
        language=rubric.language,
        overall=round(overall, 1),
        uncapped=round(uncapped, 1),
        capped_by=capped_by,
        practices=tuple(practices),
        stress=stress,
        needs_review=bool(reasons),
        review_reasons=reasons,
    )
    return replace(report, scorecard=scorecard)


def _not_applicable(practice_id: str, practice: PracticeRubric, reason: str) -> PracticeScore:
    return PracticeScore(
        practice=practice_id,
        name=practice.name,
        score=None,
        weight=practice.weight,
        findings=(),
        coaching=None,
        applicable=False,
        reason=reason,
    )


def _practice_score(
    practice_id: str,
    practice: PracticeRubric,
    outcome: PracticeOutcome,
    rubric: Rubric,
    ctx: DetectorContext | None = None,
) -> PracticeScore:
    score = outcome.score
    if score is not None:
        score = round(min(100.0, max(0.0, score)), 1)
    critical = practice.critical and any(f.severity is Severity.CRITICAL for f in outcome.findings)
    coaching = None
    if score is not None and (score < rubric.coaching_below or critical):
        said = None if ctx is None else partial(agent_said, ctx)
        coaching = coaching_sentence(practice, outcome.findings, outcome.coaching_values, said)
    findings = tuple(sorted(outcome.findings, key=finding_order))
    faults, credits = count_findings(findings)
    return PracticeScore(
        practice=practice_id,
        name=practice.name,
        score=score,
        weight=practice.weight,
        findings=findings,
        coaching=coaching,
        critical=critical,
        faults=faults,
        credits=credits,
    )


def finding_order(f: Finding) -> tuple[bool, float, float]:
    """Sort key of findings: those about the whole call (no time) first, then by time."""
    return (f.start is not None, f.start or 0.0, f.end or 0.0)


def count_findings(findings: tuple[Finding, ...]) -> tuple[int, int]:
    """``(faults, credits)``: findings that cost points (minor and worse) and findings that
    earned credit (positive). ``info`` findings are neither."""
    faults = sum(1 for f in findings if f.severity in FAULT_SEVERITIES)
    credits = sum(1 for f in findings if f.severity is Severity.POSITIVE)
    return faults, credits


def worst_finding(findings: tuple[Finding, ...]) -> Finding | None:
    """The most serious fault (severity, then context weight, then earliest), if any."""
    faults = [f for f in findings if _SEVERITY_RANK[f.severity] >= _SEVERITY_RANK[Severity.MINOR]]
    if not faults:
        return None
    # A finding about the whole call (no time) ranks as the earliest.
    return max(
        faults,
        key=lambda f: (_SEVERITY_RANK[f.severity], f.weight, 1.0 if f.start is None else -f.start),
    )


def coaching_sentence(
    practice: PracticeRubric,
    findings: tuple[Finding, ...],
    extra: Mapping[str, str] | None = None,
    said: Callable[[str], bool] | None = None,
) -> str | None:
    """Fill the practice's coaching template from the moment that matters most.

    The template for the worst finding's kind is used when the rubric has one, else ``default``;
    a practice scored low for something missing (no fault to quote) uses ``absent`` when given.
    ``extra`` fills ``{missing}`` and ``{say}``. Otherwise ``{say}`` is the first of the
    rubric's ``say_<kind>`` (else ``say``) alternatives, separated by ``|``, that the agent did
    not say anywhere in the call (``said``), so the coaching never asks for words that were
    said. A template that suggests words while there are none left to suggest gives way to the
    ``<kind>_no_example`` template, else the practice's ``no_example`` one.
    """
    finding = worst_finding(findings)
    kind = None if finding is None else finding.kind
    if finding is None:
        template = practice.coaching.get("absent") or practice.coaching.get("default")
    else:
        template = practice.coaching.get(finding.kind) or practice.coaching.get("default")
    extra = dict(extra or {})
    if template and "{say}" in template and not extra.get("say"):
        options = practice.coaching.get(f"say_{kind}") or practice.coaching.get("say") or ""
        fresh = [o.strip() for o in options.split("|") if o.strip()]
        fresh = [o for o in fresh if said is None or not said(o)]
        if fresh:
            extra["say"] = fresh[0]
        else:
            template = (
                practice.coaching.get(f"{kind}_no_example")
                or practice.coaching.get("no_example")
                or template
            )
    if not template:
        return None
    values = {"time": "", "quote": "", "value": "", "threshold": "", "missing": "", "say": ""}
    if finding is not None:
        values.update(
            {
                "time": "" if finding.start is None else format_time(finding.start),
                "quote": _short(finding.quote),
                "value": _number(finding.value),
                "threshold": _number(finding.threshold),
            }
        )
    values.update({k: v for k, v in extra.items() if k in ("missing", "say")})
    template = _without_empty(template, values)
    text = _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:1].upper() + text[1:]


_AT_TIME = re.compile(r"(?i)\bat\s*\{time\}\s*,?\s*|\{time\}\s*[,，]?\s*")
_QUOTED = re.compile(r"\s*(?:\"\{quote\}\"|“\{quote\}”|「\{quote\}」|\{quote\})")


def _without_empty(template: str, values: Mapping[str, str]) -> str:
    """``template`` without the places of a time or quote it has no value for (a finding about
    the whole call has neither): no "At  you …" or empty quotation marks."""
    if not values.get("time"):
        template = _AT_TIME.sub("", template)
    if not values.get("quote"):
        template = _QUOTED.sub("", template)
    return template


def format_time(t: float) -> str:
    m, s = divmod(round(t), 60)
    return f"{m:02d}:{s:02d}"


def _short(text: str, limit: int = 40) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.0f}" if abs(value) >= 10 else f"{value:.2g}"
