"""Pydantic models at the API edge (request and response bodies, with OpenAPI examples)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from calmline.monitor.store import CallRow, JobRow


class ErrorBody(BaseModel):
    detail: str = Field(examples=["calls/abc: no such call"])
    error_id: str = Field(
        description="Quote it when reporting a problem; it is in the server log.",
        examples=["err_3f2a9c1b7d4e"],
    )


class UploadAccepted(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "call_id": "c-20261123-0001",
                "job_id": "job_4538a3da4d6549a0",
                "status_url": "/api/v1/jobs/job_4538a3da4d6549a0",
                "report_url": "/api/v1/calls/c-20261123-0001/report",
            }
        }
    )
    call_id: str
    job_id: str
    status_url: str
    report_url: str


class JobStatus(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "job_id": "job_4538a3da4d6549a0",
                "call_id": "c-20261123-0001",
                "kind": "analyze",
                "state": "running",
                "progress": 0.43,
                "step": "transcribe",
                "error": None,
                "attempts": 1,
                "created_at": "2026-11-23T09:15:02",
                "updated_at": "2026-11-23T09:15:09",
            }
        }
    )
    job_id: str
    call_id: str
    kind: Literal["analyze", "rescore"]
    state: Literal["queued", "running", "done", "failed"]
    progress: float = Field(ge=0, le=1)
    step: str | None
    error: str | None
    attempts: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, job: JobRow) -> JobStatus:
        return cls(
            job_id=job.id,
            call_id=job.call_id,
            kind=job.kind,
            state=job.state,
            progress=job.progress,
            step=job.step,
            error=job.error,
            attempts=job.attempts,
            created_at=job.created_at,
            updated_at=job.updated_at,
        )


class CallSummary(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "call_id": "c-20261123-0001",
                "agent_id": "agent-007",
                "source": "upload",
                "status": "done",
                "started_at": "2026-11-23T09:10:00",
                "created_at": "2026-11-23T09:15:02",
                "duration_s": 80.8,
                "language": "en",
                "overall": 83.0,
                "critical": False,
                "incomplete": False,
                "needs_review": False,
                "rubric": "calmline-default",
                "rubric_version": "1.1.0",
                "customer_trend": "de-escalated",
                "practices": {"let_finish": 70.0, "acknowledge": 78.0},
                "metadata": {"queue": "billing"},
                "error": None,
            }
        }
    )
    call_id: str
    agent_id: str
    source: str
    status: str
    started_at: datetime | None
    created_at: datetime
    duration_s: float | None
    language: str | None
    overall: float | None
    critical: bool
    incomplete: bool
    needs_review: bool = Field(
        description="Roles or kind of call uncertain (low role confidence, one voice, very "
        "short, not a service call): scored for QA, no coaching for the agent; the reasons are "
        "in the report's scorecard.review_reasons."
    )
    rubric: str | None
    rubric_version: str | None
    customer_trend: str | None
    practices: dict[str, float | None]
    metadata: dict[str, Any]
    error: str | None

    @classmethod
    def of(cls, row: CallRow, practices: dict[str, float | None]) -> CallSummary:
        return cls(
            call_id=row.id,
            agent_id=row.agent_id,
            source=row.source,
            status=row.status,
            started_at=row.started_at,
            created_at=row.created_at,
            duration_s=row.duration_s,
            language=row.language,
            overall=row.overall,
            critical=row.critical,
            incomplete=row.incomplete,
            needs_review=bool(row.needs_review),
            rubric=row.rubric,
            rubric_version=row.rubric_version,
            customer_trend=row.stress_result,
            practices=practices,
            metadata=row.meta or {},
            error=row.error,
        )


class CallList(BaseModel):
    items: list[CallSummary]
    total: int = Field(description="Calls matching the filters, over all pages.")
    limit: int
    offset: int


class AgentBucket(BaseModel):
    bucket: str = Field(examples=["2026-W47"])
    calls: int
    critical_calls: int
    mean_overall: float | None
    practices: dict[str, float | None]


class AgentSummary(BaseModel):
    agent_id: str
    bucket: Literal["day", "week"]
    calls: int
    mean_overall: float | None
    critical_calls: int
    series: list[AgentBucket]


class RescoreRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "rubric_yaml": "id: site-rubric\nversion: 1.1.0\nlanguage: en\n...",
                "call_ids": ["c-20261123-0001"],
            }
        }
    )
    rubric_yaml: str = Field(
        min_length=1, max_length=1_000_000, description="The rubric to score with (YAML text)."
    )
    call_ids: list[str] | None = Field(
        None, max_length=10_000, description="Calls to re-score; omitted: every scored call."
    )
    agent_id: str | None = Field(None, description="Only this agent's calls.")
    language: Literal["zh", "en"] | None = Field(
        None, description="Only calls in this language (default: the rubric's language)."
    )


class RescoreAccepted(BaseModel):
    rubric: str
    rubric_version: str
    jobs: list[JobStatus]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    database: str
    models_loaded: bool
    workers: int
    jobs: dict[str, int]


class SessionRequest(BaseModel):
    """``POST /api/v1/session``: the key a page signs in with (JSON body, never the URL)."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=512, description="An API key.")


class SessionInfo(BaseModel):
    """Whose session the cookie now carries, and until when."""

    key_id: str
    role: str
    agent_id: str | None
    expires_at: datetime


# --- QA evaluations and disputes (calmline.api.evaluations) ------------------------------------

REJECT_REASONS = ("asr_error", "wrong_speaker", "not_applicable", "wrong_rule", "other")
"""Why an evaluator rejects a machine finding: the words were misheard, said by the other side,
the practice does not apply to this moment, the rule itself is wrong, or something else (then
the note says what)."""
FINDING_KEY = r"^[a-z_]{1,64}#\d{1,4}$"
PRACTICE_ID = r"^[a-z_]{1,64}$"


class FindingVerdict(BaseModel):
    """The evaluator's verdict on one machine finding (``<practice>#<n>``: the n-th finding of
    that practice in the report's scorecard, from 0)."""

    model_config = ConfigDict(extra="forbid")
    finding: str = Field(pattern=FINDING_KEY, examples=["acknowledge#0"])
    verdict: Literal["confirm", "reject"]
    reason: Literal[REJECT_REASONS] | None = Field(  # type: ignore[valid-type]
        None, description="Required with reject: " + ", ".join(REJECT_REASONS) + "."
    )
    note: str | None = Field(None, max_length=2000, description="Free text (required for other).")


class MissedFinding(BaseModel):
    """A finding the machine missed, added by the evaluator at a moment of the call."""

    model_config = ConfigDict(extra="forbid")
    practice: str = Field(pattern=PRACTICE_ID, examples=["acknowledge"])
    kind: str = Field(pattern=r"^[a-z_]{1,64}$", examples=["ack_phrase"])
    start: float = Field(ge=0, description="When it happened (s from the call's start).")
    end: float | None = Field(None, ge=0)
    quote: str = Field("", max_length=2000, description="The words at that moment.")
    note: str | None = Field(None, max_length=2000)


class ScoreOverride(BaseModel):
    """The evaluator's score of one practice in place of the machine's, with the reason."""

    model_config = ConfigDict(extra="forbid")
    practice: str = Field(pattern=PRACTICE_ID)
    score: float = Field(ge=0, le=100)
    reason: str = Field(min_length=1, max_length=2000)


class EvaluationRequest(BaseModel):
    """``POST /api/v1/calls/{id}/evaluation``: a new version of the call's evaluation."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "findings": [
                    {"finding": "acknowledge#0", "verdict": "confirm"},
                    {"finding": "let_finish#1", "verdict": "reject", "reason": "asr_error"},
                ],
                "missed": [
                    {
                        "practice": "empathy",
                        "kind": "empathy",
                        "start": 42.5,
                        "quote": "I know how annoying that is",
                    }
                ],
                "scores": [{"practice": "closing", "score": 80, "reason": "closed politely"}],
                "note": "good recovery after the hold",
                "publish": False,
            }
        },
    )
    findings: list[FindingVerdict] = Field(default_factory=list, max_length=2000)
    missed: list[MissedFinding] = Field(default_factory=list, max_length=500)
    scores: list[ScoreOverride] = Field(default_factory=list, max_length=100)
    note: str | None = Field(None, max_length=4000)
    publish: bool = Field(False, description="Publish this version to the agent at once.")


class DisputeRequest(BaseModel):
    """An agent disputes one item of the published evaluation of their call."""

    model_config = ConfigDict(extra="forbid")
    item: str = Field(
        pattern=r"^([a-z_]{1,64}|missed)#\d{1,4}$",
        description="A finding key (``<practice>#<n>``) or an added finding (``missed#<n>``).",
    )
    comment: str = Field(min_length=1, max_length=4000)


class DisputeResolution(BaseModel):
    """A QA lead's decision on a dispute: ``upheld`` (the item stands) or ``overturned`` (a
    disputed machine finding is rejected, a disputed added one removed, in a new published
    version of the evaluation)."""

    model_config = ConfigDict(extra="forbid")
    outcome: Literal["upheld", "overturned"]
    note: str = Field(min_length=1, max_length=4000)


# --- calibration sessions and trends (calmline.api.calibration, calmline.api.trends) -----------

KEY_ID = r"^[A-Za-z0-9_-]{1,32}$"


class CalibrationRequest(BaseModel):
    """``POST /api/v1/calls/{id}/calibrations``: start a calibration of the call with these
    evaluators (key ids of QA-lead or admin keys, two at least)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"evaluators": ["3f2a9c1b7d0e", "8c1d2e3f4a5b"]}},
    )
    evaluators: list[Annotated[str, Field(pattern=KEY_ID)]] = Field(min_length=2, max_length=20)
    note: str | None = Field(None, max_length=4000)


class CalibrationAnswer(BaseModel):
    """``PUT /api/v1/calibrations/{id}/answer``: one evaluator's answer, the shapes of an
    evaluation (verdicts per finding, findings the machine missed, score overrides). A practice
    not overridden keeps the machine's score and a finding not judged stands (counts as
    confirmed). ``submit`` locks the answer."""

    model_config = ConfigDict(extra="forbid")
    findings: list[FindingVerdict] = Field(default_factory=list, max_length=2000)
    missed: list[MissedFinding] = Field(default_factory=list, max_length=500)
    scores: list[ScoreOverride] = Field(default_factory=list, max_length=100)
    note: str | None = Field(None, max_length=4000)
    submit: bool = Field(False, description="Submit: the answer can no longer change.")


class AgentTeam(BaseModel):
    """``PUT /api/v1/agents/{id}/team``: the agent's team (``null``: none)."""

    model_config = ConfigDict(extra="forbid")
    team: str | None = Field(None, pattern=r"^[^\x00-\x1f]{1,128}$")
