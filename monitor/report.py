"""The one serialisation of a :class:`CallReport` (versioned JSON), and its exports.

The schema is documented in ``docs/report-schema.md``. ``report_to_dict`` / ``report_from_dict``
round-trip exactly, so a stored report can be read back (and re-scored) without audio or models.
Exports: RTTM (the diarization's speaker labels and speech segments, written by pyannote.core)
and WebVTT.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from calmline import __version__
from calmline.monitor.types import (
    FAULT_SEVERITIES,
    AudioInfo,
    CallMetrics,
    CallReport,
    Finding,
    ModelInfo,
    Overlap,
    PracticeScore,
    Redaction,
    ReviewReason,
    Role,
    RoleAssignment,
    RoleEvidence,
    Scorecard,
    Severity,
    Span,
    SpeakerCount,
    SpeakerMetrics,
    SpeechSegment,
    StressTrajectory,
    Turn,
    TurnMetrics,
    TurnStress,
    Word,
)

SCHEMA_VERSION = "1.5"
"""1.1 added ``scorecard``; 1.2 added ``redactions`` and ``incomplete``; 1.3 added the match
fields of a finding (``match_kind``, ``matched``, ``match_start``, ``match_end``,
``matched_form``); 1.4 added ``faults`` and ``credits`` to a practice score and lets a finding
about the whole call have ``start`` and ``end`` null; 1.5 added ``applicable`` and ``reason`` to
a practice score and ``needs_review`` and ``review_reasons`` to the scorecard. A 1.0 report
reads back with ``scorecard`` null, a 1.0 or 1.1 report with ``redactions`` empty and
``incomplete`` false, a report before 1.3 with the match fields empty, a report before 1.4 with
``faults`` and ``credits`` counted from its findings, a report before 1.5 with every practice
applicable (no reason) and ``needs_review`` false."""


class ReportFormatError(ValueError):
    """A stored report cannot be read (wrong schema version, missing fields)."""


def report_to_dict(report: CallReport) -> dict[str, Any]:
    data = dataclasses.asdict(report)
    data["roles"]["roles"] = {k: str(v) for k, v in report.roles.roles.items()}
    for turn in data["turns"]:
        turn["role"] = str(turn["role"])
    for speaker in data["metrics"]["speakers"]:
        speaker["role"] = str(speaker["role"])
    if data.get("scorecard"):
        for practice in data["scorecard"]["practices"]:
            for f in practice["findings"]:
                f["role"] = str(f["role"])
                f["severity"] = str(f["severity"])
    for r in data["redactions"]:
        r["role"] = str(r["role"])
    return {"schema_version": SCHEMA_VERSION, "calmline_version": __version__, **data}


def report_to_json(report: CallReport, indent: int | None = 2) -> str:
    return json.dumps(report_to_dict(report), ensure_ascii=False, indent=indent)


def write_report(report: CallReport, path: str | os.PathLike[str]) -> None:
    Path(path).write_text(report_to_json(report), encoding="utf-8")


def read_report(path: str | os.PathLike[str]) -> CallReport:
    return report_from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def report_from_dict(data: dict[str, Any]) -> CallReport:
    """Rebuild a report from its JSON form."""
    version = str(data.get("schema_version", ""))
    if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise ReportFormatError(
            f"report schema version {version or 'missing'} is not supported "
            f"(this Calmline reads {SCHEMA_VERSION})"
        )
    try:
        turns = tuple(_turn(t) for t in data["turns"])
        m = data["metrics"]
        metrics = CallMetrics(
            duration=m["duration"],
            talk_time=dict(m["talk_time"]),
            talk_ratio=m["talk_ratio"],
            overlap_time=m["overlap_time"],
            non_talk=tuple(Span(**s) for s in m["non_talk"]),
            non_talk_time=m["non_talk_time"],
            turn_count=m["turn_count"],
            speakers=tuple(SpeakerMetrics(**{**s, "role": Role(s["role"])}) for s in m["speakers"]),
        )
        r = data["roles"]
        roles = RoleAssignment(
            roles={k: Role(v) for k, v in r["roles"].items()},
            method=r["method"],
            evidence=tuple(RoleEvidence(**e) for e in r["evidence"]),
            confidence=r["confidence"],
        )
        return CallReport(
            call_id=data["call_id"],
            audio=AudioInfo(**data["audio"]),
            language=data["language"],
            language_probability=data["language_probability"],
            attribution=data["attribution"],
            roles=roles,
            segments=tuple(SpeechSegment(**s) for s in data["segments"]),
            turns=turns,
            overlaps=tuple(
                Overlap(o["start"], o["end"], tuple(o["speakers"])) for o in data["overlaps"]
            ),
            metrics=metrics,
            models=tuple(ModelInfo(**x) for x in data["models"]),
            timings=dict(data["timings"]),
            warnings=tuple(data.get("warnings", ())),
            scorecard=_scorecard(data["scorecard"]) if data.get("scorecard") else None,
            redactions=tuple(
                Redaction(**{**r, "role": Role(r["role"])}) for r in data.get("redactions", ())
            ),
            incomplete=bool(data.get("incomplete", False)),
            speaker_count=(
                SpeakerCount(**data["speaker_count"]) if data.get("speaker_count") else None
            ),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise ReportFormatError(f"malformed report: {e}") from e


def _finding(f: dict[str, Any]) -> Finding:
    return Finding(**{**f, "role": Role(f["role"]), "severity": Severity(f["severity"])})


def _practice(p: dict[str, Any]) -> PracticeScore:
    findings = tuple(_finding(f) for f in p["findings"])
    # Reports before 1.4 do not hold the counts: count them from the findings.
    counts = {
        "faults": sum(1 for f in findings if f.severity in FAULT_SEVERITIES),
        "credits": sum(1 for f in findings if f.severity is Severity.POSITIVE),
    }
    return PracticeScore(**{**counts, **p, "findings": findings})


def _scorecard(d: dict[str, Any]) -> Scorecard:
    st = d["stress"]
    stress = StressTrajectory(
        turns=tuple(
            TurnStress(**{**t, "anger_words": tuple(t["anger_words"])}) for t in st["turns"]
        ),
        start_level=st["start_level"],
        end_level=st["end_level"],
        change=st["change"],
        result=st["result"],
        evidence=st["evidence"],
    )
    practices = tuple(_practice(p) for p in d["practices"])
    return Scorecard(
        rubric=d["rubric"],
        rubric_version=d["rubric_version"],
        language=d["language"],
        overall=d["overall"],
        uncapped=d["uncapped"],
        capped_by=tuple(d["capped_by"]),
        practices=practices,
        stress=stress,
        # Reports before 1.5 hold neither: not reviewed.
        needs_review=bool(d.get("needs_review", False)),
        review_reasons=tuple(ReviewReason(**r) for r in d.get("review_reasons", ())),
    )


def _turn(t: dict[str, Any]) -> Turn:
    return Turn(
        index=t["index"],
        speaker=t["speaker"],
        role=Role(t["role"]),
        start=t["start"],
        end=t["end"],
        text=t["text"],
        words=tuple(Word(**w) for w in t["words"]),
        channel=t["channel"],
        metrics=TurnMetrics(**t["metrics"]) if t.get("metrics") else None,
    )


def to_annotation(report: CallReport):
    """Who spoke when, as a pyannote.core Annotation: the report's speech segments, each labelled
    with the diarization's speaker label (``channel_0`` / ``channel_1`` for a stereo call, the
    diarizer's labels for a mono one).

    This is what RTTM means in pyannote and the NIST tools: speaker labels and speech segments,
    so the export scores against a reference like any diarization output. Roles (agent,
    customer) are not speakers and stay in the JSON report, and turns (a speaker's segments
    joined across pauses, stretched to their words) are not written: they would count the
    pauses as speech. A report without segments yields an empty annotation.
    """
    from pyannote.core import Annotation, Segment

    annotation = Annotation(uri=_uri(report))
    for i, seg in enumerate(sorted(report.segments, key=lambda s: (s.start, s.end, s.speaker))):
        if seg.end > seg.start:
            annotation[Segment(seg.start, seg.end), f"s{i}"] = seg.speaker
    return annotation


def to_rttm(report: CallReport) -> str:
    """The report's who-spoke-when as RTTM text (see :func:`to_annotation`)."""
    import io

    buf = io.StringIO()
    to_annotation(report).write_rttm(buf)
    return buf.getvalue()


def write_rttm(report: CallReport, path: str | os.PathLike[str]) -> None:
    """Write :func:`to_rttm` to ``path``."""
    Path(path).write_text(to_rttm(report), encoding="utf-8")


def _uri(report: CallReport) -> str:
    # RTTM fields are space separated: the uri must not hold spaces
    return "".join(c if not c.isspace() else "_" for c in report.call_id) or "call"


def _vtt_time(t: float) -> str:
    ms = round(t * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def to_vtt(report: CallReport) -> str:
    """WebVTT captions, one cue per turn, the voice tag naming the role."""
    lines = ["WEBVTT", ""]
    for turn in report.turns:
        if not turn.text or turn.end <= turn.start:
            continue
        voice = turn.role.value if turn.role is not Role.UNKNOWN else turn.speaker
        text = turn.text.replace("-->", "->").replace("\n", " ")
        lines += [
            str(turn.index + 1),
            f"{_vtt_time(turn.start)} --> {_vtt_time(turn.end)}",
            f"<v {voice}>{text}",
            "",
        ]
    return "\n".join(lines)


def write_vtt(report: CallReport, path: str | os.PathLike[str]) -> None:
    Path(path).write_text(to_vtt(report), encoding="utf-8")
