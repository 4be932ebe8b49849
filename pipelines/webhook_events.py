"""The webhook events a stored report raises (:mod:`calmline.pipelines.webhooks` sends them):
``call.scored`` for every scored call, ``finding.critical`` for each critical finding."""

from __future__ import annotations

from typing import Any

from calmline.monitor.scoring import format_time
from calmline.monitor.types import CallReport, Severity


def events_for_report(
    call_id: str, agent_id: str | None, report: CallReport
) -> list[tuple[str, dict[str, Any]]]:
    """The events a scored report raises: one ``call.scored`` and one ``finding.critical`` per
    critical finding. An unscored report raises none.

    Quotes and evidence come from the report as it is: redacted when ``privacy.redact`` is on
    (the pipeline redacts before anything is stored or sent).
    """
    card = report.scorecard
    if card is None:
        return []
    critical = [f for p in card.practices for f in p.findings if f.severity is Severity.CRITICAL]
    events: list[tuple[str, dict[str, Any]]] = [
        (
            "call.scored",
            {
                "call_id": call_id,
                "agent_id": agent_id,
                "language": report.language,
                "duration_s": report.metrics.duration,
                "overall": card.overall,
                "uncapped": card.uncapped,
                "critical": bool(card.capped_by or critical),
                "capped_by": list(card.capped_by),
                "practices": {p.practice: p.score for p in card.practices},
                "rubric": card.rubric,
                "rubric_version": card.rubric_version,
                "redactions": len(report.redactions),
            },
        )
    ]
    for f in sorted(critical, key=lambda f: (f.start, f.end)):
        events.append(
            (
                "finding.critical",
                {
                    "call_id": call_id,
                    "agent_id": agent_id,
                    "language": report.language,
                    "practice": f.practice,
                    "kind": f.kind,
                    "start": f.start,
                    "end": f.end,
                    "time": format_time(f.start),
                    "speaker": f.speaker,
                    "role": f.role.value,
                    "evidence": f.quote or f.detail,
                    "quote": f.quote,
                    "detail": f.detail,
                },
            )
        )
    return events
