"""Pydantic models at the API edge (request and response bodies, with OpenAPI examples)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

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
