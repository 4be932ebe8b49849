"""Calmline storage: calls, agents, jobs, reports, API keys, audit and webhook logs.

SQLAlchemy 2 with SQLite as the embedded default (one file under the data directory) and
PostgreSQL by URL. The schema is created and upgraded by Alembic (``Store.migrate``). Scores and
findings are stored as rows so they can be filtered; the full report is kept as its JSON too.
Call audio lives in a local folder, one per call (``audio_dir/<safe id>~<id hash>/``).

A job is written (state ``queued``) in the same transaction as its call, before any work starts,
so a crash loses nothing. A running job is held under a lease (owner, expiry, heartbeat): it is
taken over only once the lease has expired, so several servers share one PostgreSQL database
without running a job twice (:meth:`Store.claim_job`). A job's report, its end and its webhook
events are written in one transaction (:meth:`Store.finish_with_report`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    create_engine,
    delete,
    event,
    false,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
    update,
)
from sqlalchemy import column as sa_column
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from calmline.monitor.leases import owner_is_gone
from calmline.monitor.report import report_from_dict, report_to_dict
from calmline.monitor.types import CallReport

logger = logging.getLogger(__name__)

ROLES = ("admin", "qa_lead", "supervisor", "agent")
"""API key roles. ``agent`` keys are bound to one agent id."""
JOB_STATES = ("queued", "running", "done", "failed")
CALL_SOURCES = ("upload", "watch", "live")
DISPUTE_STATES = ("open", "upheld", "overturned")
DEFAULT_LEASE_S = 60.0
"""How long a claimed job is held without a heartbeat (``jobs.lease_s`` sets the server's)."""


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


class Base(DeclarativeBase):
    pass


class AgentRow(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    team: Mapped[str | None] = mapped_column(String(128), index=True)
    """The agent's team (trends per team); ``None`` until set (``PUT /api/v1/agents/{id}``)."""


class CallRow(Base):
    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), index=True)
    source: Mapped[str] = mapped_column(String(16), default="upload")
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    duration_s: Mapped[float | None] = mapped_column(Float)
    language: Mapped[str | None] = mapped_column(String(8), index=True)
    requested_language: Mapped[str | None] = mapped_column(String(8))
    overall: Mapped[float | None] = mapped_column(Float, index=True)
    uncapped: Mapped[float | None] = mapped_column(Float)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    incomplete: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_review: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), index=True
    )
    """The scorecard's ``needs_review``: roles or kind of call uncertain, no coaching."""
    rubric: Mapped[str | None] = mapped_column(String(128))
    rubric_version: Mapped[str | None] = mapped_column(String(32))
    stress_result: Mapped[str | None] = mapped_column(String(16))
    audio_path: Mapped[str | None] = mapped_column(Text)
    audio_name: Mapped[str | None] = mapped_column(String(512))
    audio_bytes: Mapped[int | None] = mapped_column(Integer)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class ReportRow(Base):
    __tablename__ = "reports"

    call_id: Mapped[str] = mapped_column(
        ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True
    )
    schema_version: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    job_id: Mapped[str | None] = mapped_column(String(64))
    """The job that wrote the report (``None``: written outside a job)."""


class PracticeScoreRow(Base):
    __tablename__ = "practice_scores"
    __table_args__ = (Index("ix_practice_scores_practice_score", "practice", "score"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    practice: Mapped[str] = mapped_column(String(64))
    score: Mapped[float | None] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    coaching: Mapped[str | None] = mapped_column(Text)


class FindingRow(Base):
    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    practice: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16), index=True)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    role: Mapped[str] = mapped_column(String(16))
    speaker: Mapped[str] = mapped_column(String(64))
    quote: Mapped[str] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(Text)


class JobRow(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="analyze")
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    step: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    worker: Mapped[str | None] = mapped_column(String(64))
    """The owner while running: ``<host>:<pid>:<token>/<thread>`` (``calmline.monitor.leases``)."""
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    """Until when the owner holds the running job; after it another worker may take it."""
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[str | None] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    key_id: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(512))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)


class EvaluationRow(Base):
    """One version of a QA evaluation of a call: the evaluator's verdicts on the machine's
    findings, the findings it missed and score overrides (``items``), beside the machine's
    scorecard. Versions are never changed once written, except for publishing and the agent's
    acknowledgement; a new save is a new version."""

    __tablename__ = "evaluations"
    __table_args__ = (UniqueConstraint("call_id", "version", name="uq_evaluations_call_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    evaluator_key_id: Mapped[str] = mapped_column(String(32))
    evaluator_role: Mapped[str] = mapped_column(String(16))
    evaluator_name: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(32))
    rubric: Mapped[str | None] = mapped_column(String(128))
    rubric_version: Mapped[str | None] = mapped_column(String(32))
    machine_overall: Mapped[float | None] = mapped_column(Float)
    human_overall: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    items: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """``{"findings": [...], "missed": [...], "scores": [...]}`` (``calmline.api.evaluations``)."""


class DisputeRow(Base):
    """An agent's dispute of one item of a published evaluation, and how it was resolved."""

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("evaluations.id", ondelete="CASCADE"), index=True
    )
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[str] = mapped_column(String(128), index=True)
    item: Mapped[str] = mapped_column(String(128))
    """The disputed item: a finding key (``<practice>#<n>``) or an added one (``missed#<n>``)."""
    comment: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(32))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    resolution_note: Mapped[str | None] = mapped_column(Text)


class CalibrationRow(Base):
    """A calibration session: several evaluators score one call independently; once it is
    closed their answers are shown side by side with their agreement (``calmline.api.calibration``).
    The machine's overall score and rubric are copied at the start, so the session still says
    what was calibrated after the call is re-scored."""

    __tablename__ = "calibrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    closed_by: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    rubric: Mapped[str | None] = mapped_column(String(128))
    rubric_version: Mapped[str | None] = mapped_column(String(32))
    machine_overall: Mapped[float | None] = mapped_column(Float)
    scorecard: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """The machine's scorecard at the start: what every answer is compared with."""


class CalibrationAnswerRow(Base):
    """One evaluator's answer in a calibration (same ``items`` shape as an evaluation's); a
    row per named evaluator from the start, empty and unsubmitted until they answer."""

    __tablename__ = "calibration_answers"
    __table_args__ = (
        UniqueConstraint("calibration_id", "key_id", name="uq_calibration_answers_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    calibration_id: Mapped[int] = mapped_column(
        ForeignKey("calibrations.id", ondelete="CASCADE"), index=True
    )
    key_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    items: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text)
    human_overall: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)


@dataclass(frozen=True, slots=True)
class Calibration:
    """A calibration session with its evaluators' answers (in the order they were named)."""

    row: CalibrationRow
    answers: tuple[CalibrationAnswerRow, ...]

    @property
    def closed(self) -> bool:
        return self.row.closed_at is not None

    def answer_of(self, key_id: str) -> CalibrationAnswerRow | None:
        return next((a for a in self.answers if a.key_id == key_id), None)


class AlertRow(Base):
    """A supervisor alert raised on a live call (``calmline.api.alerts``), kept for
    ``alerts.keep_hours``, acknowledged by a supervisor."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(128), index=True)
    """No foreign key: the call row is written when the live call ends."""
    agent_id: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    t: Mapped[float] = mapped_column(Float)
    """Call time of the alert (s)."""
    seq: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    quiet: Mapped[str | None] = mapped_column(String(32))
    """Why the alert was silenced after it was raised (``hold``: the agent had announced a
    hold); quiet alerts are listed only on request."""
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(32))
    ack_note: Mapped[str | None] = mapped_column(Text)


class WebhookDeliveryRow(Base):
    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(String(64), index=True)
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    duration_ms: Mapped[float | None] = mapped_column(Float)


class WebhookOutboxRow(Base):
    """A webhook event still to deliver (or delivered, or given up on): the durable queue of
    ``calmline.pipelines.webhooks``. Taken by one sender at a time under a lease."""

    __tablename__ = "webhook_outbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_webhook_outbox_dedupe_key"),
        Index("ix_webhook_outbox_state_due", "state", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """The delivery id (``X-Calmline-Delivery``)."""
    dedupe_key: Mapped[str] = mapped_column(String(160))
    """One event, one row: ``<job id>:<n>`` for the events of a job's report."""
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(32))
    call_id: Mapped[str | None] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)
    """The exact JSON sent (and signed) on every try."""
    state: Mapped[str] = mapped_column(String(16), default="pending")
    """``pending``, ``delivered`` or ``failed``."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


@dataclass(frozen=True, slots=True)
class CallFilter:
    """Filters of :meth:`Store.list_calls`; every field is optional."""

    agent_id: str | None = None
    agent_ids: tuple[str, ...] | None = None
    """Restrict to these agents (used for role scoping)."""
    since: datetime | None = None
    until: datetime | None = None
    language: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    practice: str | None = None
    below: float | None = None
    """With ``practice``: that practice scored below this value."""
    critical: bool | None = None
    needs_review: bool | None = None
    """Roles or kind of call uncertain (scored for QA, not coached)."""
    source: str | None = None
    status: str | None = None
    finding_kind: str | None = None
    """Has a machine finding of this kind."""
    evaluated: bool | None = None
    """Has (or has not) a saved QA evaluation."""
    disputed: bool | None = None
    """Has (or has not) an agent's dispute, open or resolved."""
    q: str | None = None
    """Words that are all in the call's transcript (:meth:`Store.search_method`)."""


SORT_KEYS = (
    "call_id",
    "agent_id",
    "started_at",
    "created_at",
    "duration_s",
    "language",
    "source",
    "status",
    "overall",
    "critical",
    "needs_review",
    "customer",
    "weakest",
)
"""Columns :meth:`Store.list_calls` sorts by (``-`` before one: descending). ``started_at`` is
the call's start, or when it was received; ``customer`` the customer's trend; ``weakest`` the
call's lowest practice score."""
TRIGRAM_MIN_CHARS = 3
"""A search word shorter than this cannot use a trigram index: it is found by scanning the
transcripts (``LIKE``/``ILIKE``); slower, same result."""
SEARCH_TABLE = table("call_search", sa_column("call_id", String), sa_column("body", Text))
"""One row per call with a report: its transcript's text (SQLite: an FTS5 ``trigram`` table;
PostgreSQL: a table with a ``pg_trgm`` GIN index when the extension is available)."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    role: str
    agent_id: str | None
    name: str | None
    created_at: datetime
    revoked: bool


@dataclass(slots=True)
class CreatedKey:
    """A new API key; ``key`` is shown once and only its hash is stored."""

    key: str
    info: ApiKey
    extra: dict[str, Any] = field(default_factory=dict)


def hash_key(key: str) -> str:
    """Keys are 32 random bytes, so one SHA-256 is enough (no dictionary to guard against)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """A webhook event to queue durably (:meth:`Store.enqueue_webhooks`,
    :meth:`Store.finish_with_report`)."""

    delivery_id: str
    dedupe_key: str
    event_id: str
    event_type: str
    call_id: str | None
    body: str
    """The exact JSON to send."""


class Store:
    """All database and audio-folder access of Calmline; thread-safe (one session per call)."""

    def __init__(self, url: str, audio_dir: str | Path) -> None:
        self.url = url
        self.audio_dir = Path(audio_dir)
        self.audio_dir.mkdir(parents=True, exist_ok=True)
        self.engine = _make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._trgm: bool | None = None

    @classmethod
    def from_settings(cls, settings) -> Store:
        Path(settings.storage.data_dir).mkdir(parents=True, exist_ok=True)
        return cls(settings.storage.resolved_database_url(), settings.storage.resolved_audio_dir())

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest Alembic revision."""
        from calmline.monitor.migrations import upgrade

        upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as s, s.begin():
            yield s

    def ping(self) -> bool:
        with self.session() as s:
            return s.execute(select(1)).scalar() == 1

    # ------------------------------------------------------------------ agents and calls

    def ensure_agent(self, s: Session, agent_id: str, name: str | None = None) -> None:
        if s.get(AgentRow, agent_id) is None:
            s.add(AgentRow(id=agent_id, name=name))
            s.flush()

    def call_audio_dir(self, call_id: str) -> Path:
        """The folder of one call's audio: ``<readable prefix>~<hash of the exact id>``.

        The prefix (the id's file-name-safe characters) is for people browsing the folder; the
        hash makes the folder the call's own whatever its id (``col:1`` and ``col_1`` get two
        folders). ``~`` is in no call id and in no folder of the earlier ``<safe name>`` layout,
        so a new folder never meets one made for another call. Every writer of call audio goes
        through the audio store (:class:`calmline.monitor.audiostore.AudioStore`, a fresh name
        per write in this folder); readers use the call's stored ``audio_path``.
        """
        return self.audio_dir / call_folder_name(call_id)

    def create_call(
        self,
        call_id: str,
        agent_id: str,
        source: str,
        *,
        started_at: datetime | None = None,
        metadata: dict[str, Any] | None = None,
        audio_path: str | Path | None = None,
        audio_name: str | None = None,
        language: str | None = None,
        job_params: dict[str, Any] | None = None,
        status: str = "queued",
        audio_bytes: int | None = None,
    ) -> str | None:
        """Insert a call; with ``job_params`` also its analysis job (same transaction).

        Returns the job id, or ``None`` when no job was asked for. Raises ``ValueError`` when
        the call id exists already.
        """
        if source not in CALL_SOURCES:
            raise ValueError(f"unknown call source {source!r}")
        with self.session() as s:
            if s.get(CallRow, call_id) is not None:
                raise ValueError(f"call {call_id!r} exists already")
            self.ensure_agent(s, agent_id)
            size = audio_bytes
            if size is None and audio_path and "://" not in str(audio_path):
                size = Path(audio_path).stat().st_size  # a local file; a URI's size is given
            s.add(
                CallRow(
                    id=call_id,
                    agent_id=agent_id,
                    source=source,
                    status=status,
                    started_at=_naive_utc(started_at),
                    requested_language=language,
                    audio_path=str(audio_path) if audio_path else None,
                    audio_name=audio_name,
                    audio_bytes=size,
                    meta=metadata or {},
                )
            )
            s.flush()
            if job_params is None:
                return None
            job_id = new_id("job")
            s.add(JobRow(id=job_id, call_id=call_id, kind="analyze", params=job_params))
            return job_id

    def get_call(self, call_id: str) -> CallRow | None:
        with self.session() as s:
            return s.get(CallRow, call_id)

    def call_exists(self, call_id: str) -> bool:
        return self.get_call(call_id) is not None

    def save_report(self, call_id: str, report: CallReport, *, incomplete: bool = False) -> None:
        """Store a call's report: JSON body plus queryable score and finding rows (replacing
        any earlier ones, in one transaction, so a re-run never duplicates rows). A job's
        report goes through :meth:`finish_with_report` instead (owner checked)."""
        with self.session() as s:
            self._write_report(s, call_id, report, incomplete=incomplete)

    def _write_report(
        self,
        s: Session,
        call_id: str,
        report: CallReport,
        *,
        incomplete: bool = False,
        job_id: str | None = None,
    ) -> None:
        body = report_to_dict(report)
        call = s.get(CallRow, call_id)
        if call is None:
            raise KeyError(call_id)
        s.execute(delete(PracticeScoreRow).where(PracticeScoreRow.call_id == call_id))
        s.execute(delete(FindingRow).where(FindingRow.call_id == call_id))
        row = s.get(ReportRow, call_id)
        text = json.dumps(body, ensure_ascii=False)
        if row is None:
            s.add(
                ReportRow(
                    call_id=call_id,
                    schema_version=body["schema_version"],
                    body=text,
                    job_id=job_id,
                )
            )
        else:
            row.schema_version = body["schema_version"]
            row.body = text
            row.created_at = utcnow()
            row.job_id = job_id
        self._index_transcript(s, call_id, body)
        call.status = "done"
        call.error = None
        call.duration_s = report.audio.duration
        call.language = report.language
        call.incomplete = incomplete or bool(getattr(report, "incomplete", False))
        card = report.scorecard
        if card is not None:
            call.overall = card.overall
            call.uncapped = card.uncapped
            call.critical = any(p.critical for p in card.practices)
            call.needs_review = card.needs_review
            call.rubric = card.rubric
            call.rubric_version = card.rubric_version
            call.stress_result = card.stress.result
            for p in card.practices:
                s.add(
                    PracticeScoreRow(
                        call_id=call_id,
                        practice=p.practice,
                        score=p.score,
                        weight=p.weight,
                        critical=p.critical,
                        coaching=p.coaching,
                    )
                )
                for f in p.findings:
                    s.add(
                        FindingRow(
                            call_id=call_id,
                            practice=f.practice,
                            kind=f.kind,
                            severity=str(f.severity),
                            # A finding about the whole call (no time in the
                            # report) spans the whole call in this index table.
                            start=0.0 if f.start is None else f.start,
                            end=report.metrics.duration if f.end is None else f.end,
                            role=str(f.role),
                            speaker=f.speaker,
                            quote=f.quote,
                            value=f.value,
                            threshold=f.threshold,
                            detail=f.detail,
                        )
                    )
        else:
            call.overall = call.uncapped = None
            call.critical = False
            call.needs_review = False

    def get_report(self, call_id: str) -> CallReport | None:
        body = self.get_report_dict(call_id)
        return report_from_dict(body) if body is not None else None

    def get_report_dict(self, call_id: str) -> dict[str, Any] | None:
        with self.session() as s:
            row = s.get(ReportRow, call_id)
            return json.loads(row.body) if row is not None else None

    def set_call_status(self, call_id: str, status: str, error: str | None = None) -> None:
        with self.session() as s:
            s.execute(
                update(CallRow).where(CallRow.id == call_id).values(status=status, error=error)
            )

    def practice_scores(self, call_ids: Sequence[str]) -> dict[str, dict[str, float | None]]:
        """``{call_id: {practice: score}}`` for the given calls."""
        out: dict[str, dict[str, float | None]] = {c: {} for c in call_ids}
        if not call_ids:
            return out
        with self.session() as s:
            rows = s.execute(
                select(PracticeScoreRow.call_id, PracticeScoreRow.practice, PracticeScoreRow.score)
                .where(PracticeScoreRow.call_id.in_(list(call_ids)))
                .order_by(PracticeScoreRow.id)
            )
            for call_id, practice, score in rows:
                out[call_id][practice] = score
        return out

    def list_calls(
        self,
        filters: CallFilter | None = None,
        *,
        limit: int = 50,
        offset: int = 0,
        sort: str = "-started_at",
    ) -> tuple[list[CallRow], int]:
        """Calls matching ``filters`` in ``sort`` order (one of :data:`SORT_KEYS`, ``-`` for
        descending; empty values last either way; default newest first), and how many match
        in all. ``ValueError`` for an unknown sort key."""
        f = filters or CallFilter()
        order = self._sort_order(sort)
        when = func.coalesce(CallRow.started_at, CallRow.created_at)
        q = select(CallRow)
        if f.agent_id is not None:
            q = q.where(CallRow.agent_id == f.agent_id)
        if f.agent_ids is not None:
            q = q.where(CallRow.agent_id.in_(list(f.agent_ids)))
        if f.since is not None:
            q = q.where(when >= _naive_utc(f.since))
        if f.until is not None:
            q = q.where(when < _naive_utc(f.until))
        if f.language is not None:
            q = q.where(CallRow.language == f.language)
        if f.min_score is not None:
            q = q.where(CallRow.overall >= f.min_score)
        if f.max_score is not None:
            q = q.where(CallRow.overall <= f.max_score)
        if f.critical is not None:
            q = q.where(CallRow.critical.is_(f.critical))
        if f.needs_review is not None:
            q = q.where(CallRow.needs_review.is_(f.needs_review))
        if f.source is not None:
            q = q.where(CallRow.source == f.source)
        if f.status is not None:
            q = q.where(CallRow.status == f.status)
        if f.practice is not None:
            sub = select(PracticeScoreRow.call_id).where(PracticeScoreRow.practice == f.practice)
            if f.below is not None:
                sub = sub.where(PracticeScoreRow.score < f.below)
            q = q.where(CallRow.id.in_(sub))
        q = self._review_filters(q, f)
        with self.session() as s:
            total = s.execute(select(func.count()).select_from(q.subquery())).scalar_one()
            rows = s.execute(q.order_by(*order).limit(limit).offset(offset)).scalars()
            return list(rows), int(total)

    @staticmethod
    def _sort_order(sort: str) -> list[Any]:
        """ORDER BY of :meth:`list_calls`: the column, empty values last, then the call id."""
        descending = sort.startswith("-")
        key = sort.lstrip("-+")
        columns = {
            "call_id": CallRow.id,
            "agent_id": CallRow.agent_id,
            "started_at": func.coalesce(CallRow.started_at, CallRow.created_at),
            "created_at": CallRow.created_at,
            "duration_s": CallRow.duration_s,
            "language": CallRow.language,
            "source": CallRow.source,
            "status": CallRow.status,
            "overall": CallRow.overall,
            "critical": CallRow.critical,
            "needs_review": CallRow.needs_review,
            "customer": CallRow.stress_result,
            "weakest": select(func.min(PracticeScoreRow.score))
            .where(PracticeScoreRow.call_id == CallRow.id)
            .correlate(CallRow)
            .scalar_subquery(),
        }
        if key not in columns:
            raise ValueError(f"unknown sort key {sort!r}; one of {', '.join(SORT_KEYS)}")
        col = columns[key]
        if descending:
            return [col.desc().nulls_last(), CallRow.id.desc()]
        return [col.asc().nulls_last(), CallRow.id.asc()]

    def _review_filters(self, q: Any, f: CallFilter) -> Any:
        """The review list's filters: finding kind, evaluated, disputed, transcript search."""
        if f.finding_kind is not None:
            q = q.where(
                CallRow.id.in_(select(FindingRow.call_id).where(FindingRow.kind == f.finding_kind))
            )
        for flag, model in ((f.evaluated, EvaluationRow), (f.disputed, DisputeRow)):
            if flag is not None:
                has = CallRow.id.in_(select(model.call_id))
                q = q.where(has if flag else ~has)
        for sub in self._search_subqueries(f.q or ""):
            q = q.where(CallRow.id.in_(sub))
        return q

    def finding_kinds(self) -> list[str]:
        """Every finding kind the stored calls have (the review list's filter choices)."""
        with self.session() as s:
            kinds = select(FindingRow.kind).distinct().order_by(FindingRow.kind)
            return list(s.execute(kinds).scalars())

    # ------------------------------------------------------------------ transcript search

    def search_method(self, query: str) -> str:
        """How ``query`` is searched here: ``fts5-trigram`` (SQLite FTS5, words of 3+
        characters), ``pg_trgm`` (PostgreSQL, trigram GIN index), ``scan`` (a word of 1-2
        characters, e.g. 银行 or 卡, or PostgreSQL without ``pg_trgm``: ``LIKE``/``ILIKE`` over
        every transcript), or ``""`` for an empty query."""
        words = query.split()
        if not words:
            return ""
        if any(len(w) < TRIGRAM_MIN_CHARS for w in words):
            return "scan"
        if self.dialect == "sqlite":
            return "fts5-trigram"
        return "pg_trgm" if self._pg_trgm() else "scan"

    def _pg_trgm(self) -> bool:
        """Whether PostgreSQL has the ``pg_trgm`` extension (migration 0005 creates it)."""
        if self._trgm is None:
            with self.session() as s:
                found = s.execute(
                    text("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")
                ).scalar_one()
            self._trgm = bool(found)
        return self._trgm

    def _search_subqueries(self, query: str) -> list[Any]:
        """One ``call_id`` subquery per condition: every word of ``query`` is in the transcript
        (case-insensitive for Latin letters). SQLite: words of 3+ characters through the FTS5
        trigram index (a phrase query each), shorter ones by ``LIKE ... ESCAPE`` over the
        table (the trigram index finds nothing for them; without ``ESCAPE`` SQLite 3.40 even
        answers a two-character Chinese ``LIKE`` with no rows). PostgreSQL: ``ILIKE``, which the
        ``pg_trgm`` GIN index serves for words of 3+ characters."""
        words = query.split()
        if not words:
            return []
        t = SEARCH_TABLE
        if self.dialect == "sqlite":
            long = [w for w in words if len(w) >= TRIGRAM_MIN_CHARS]
            subs = [
                select(t.c.call_id).where(t.c.body.like(f"%{_like_escape(w)}%", escape="\\"))
                for w in words
                if len(w) < TRIGRAM_MIN_CHARS
            ]
            if long:
                match = " AND ".join('"' + w.replace('"', '""') + '"' for w in long)
                subs.insert(
                    0, select(t.c.call_id).where(literal_column("call_search").op("MATCH")(match))
                )
            return subs
        return [
            select(t.c.call_id).where(t.c.body.ilike(f"%{_like_escape(w)}%", escape="\\"))
            for w in words
        ]

    @staticmethod
    def _index_transcript(s: Session, call_id: str, body: dict[str, Any]) -> None:
        """Put the report's transcript in the search table (replacing the call's old text)."""
        s.execute(SEARCH_TABLE.delete().where(SEARCH_TABLE.c.call_id == call_id))
        s.execute(SEARCH_TABLE.insert().values(call_id=call_id, body=transcript_text(body)))

    def agent_summary(
        self,
        agent_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        bucket: str = "week",
    ) -> dict[str, Any]:
        """Scores of one agent's scored calls over time, in day or ISO-week buckets."""
        rows, _ = self.list_calls(
            CallFilter(agent_id=agent_id, since=since, until=until, status="done"),
            limit=100_000,
        )
        scores = self.practice_scores([r.id for r in rows])
        buckets: dict[str, dict[str, Any]] = {}
        for r in sorted(rows, key=lambda r: r.started_at or r.created_at):
            when = r.started_at or r.created_at
            if bucket == "day":
                key = when.date().isoformat()
            else:
                year, week, _ = when.isocalendar()
                key = f"{year}-W{week:02d}"
            b = buckets.setdefault(key, {"calls": 0, "_overall": [], "critical": 0, "_p": {}})
            b["calls"] += 1
            b["critical"] += int(r.critical)
            if r.overall is not None:
                b["_overall"].append(r.overall)
            for practice, score in scores[r.id].items():
                if score is not None:
                    b["_p"].setdefault(practice, []).append(score)
        out = []
        for key, b in buckets.items():
            out.append(
                {
                    "bucket": key,
                    "calls": b["calls"],
                    "critical_calls": b["critical"],
                    "mean_overall": _mean(b["_overall"]),
                    "practices": {p: _mean(v) for p, v in sorted(b["_p"].items())},
                }
            )
        all_overall = [r.overall for r in rows if r.overall is not None]
        return {
            "agent_id": agent_id,
            "bucket": bucket,
            "calls": len(rows),
            "mean_overall": _mean(all_overall),
            "critical_calls": sum(int(r.critical) for r in rows),
            "series": out,
        }

    def delete_call(self, call_id: str) -> None:
        """Delete a call's rows and its own audio files, never another call's."""
        with self.session() as s:
            row = s.get(CallRow, call_id)
            stored = row.audio_path if row is not None else None
            s.execute(delete(DisputeRow).where(DisputeRow.call_id == call_id))
            s.execute(delete(EvaluationRow).where(EvaluationRow.call_id == call_id))
            s.execute(SEARCH_TABLE.delete().where(SEARCH_TABLE.c.call_id == call_id))
            sessions = select(CalibrationRow.id).where(CalibrationRow.call_id == call_id)
            s.execute(
                delete(CalibrationAnswerRow).where(
                    CalibrationAnswerRow.calibration_id.in_(sessions)
                )
            )
            s.execute(delete(CalibrationRow).where(CalibrationRow.call_id == call_id))
            for model in (FindingRow, PracticeScoreRow, JobRow, ReportRow):
                s.execute(delete(model).where(model.call_id == call_id))
            s.execute(delete(CallRow).where(CallRow.id == call_id))
        shutil.rmtree(self.call_audio_dir(call_id), ignore_errors=True)
        if stored:
            self._delete_legacy_audio(call_id, Path(stored))

    def _delete_legacy_audio(self, call_id: str, path: Path) -> None:
        """A call stored before folders were unique keeps its file in ``audio/<safe name>/``,
        which another call's id may map to as well: remove this call's file, and the folder
        only when no other call's audio is in it."""
        folder = path.parent
        if (
            folder == self.call_audio_dir(call_id)
            or "~" in folder.name
            or not self._inside_audio_dir(folder)
        ):
            return
        path.unlink(missing_ok=True)
        with self.session() as s:
            shared = s.execute(
                select(func.count())
                .select_from(CallRow)
                .where(CallRow.audio_path.like(f"{_like_escape(str(folder))}/%", escape="\\"))
            ).scalar_one()
        if not shared:
            shutil.rmtree(folder, ignore_errors=True)

    def _inside_audio_dir(self, folder: Path) -> bool:
        """``folder`` is a call folder: a direct child of the audio folder."""
        try:
            return folder.resolve().parent == self.audio_dir.resolve()
        except OSError:
            return False

    # ------------------------------------------------------------------ jobs

    def add_job(self, call_id: str, kind: str, params: dict[str, Any]) -> str:
        with self.session() as s:
            if s.get(CallRow, call_id) is None:
                raise KeyError(call_id)
            job_id = new_id("job")
            s.add(JobRow(id=job_id, call_id=call_id, kind=kind, params=params))
            return job_id

    def get_job(self, job_id: str) -> JobRow | None:
        with self.session() as s:
            return s.get(JobRow, job_id)

    def latest_job(self, call_id: str) -> JobRow | None:
        with self.session() as s:
            return s.execute(
                select(JobRow)
                .where(JobRow.call_id == call_id)
                .order_by(JobRow.created_at.desc(), JobRow.id.desc())
                .limit(1)
            ).scalar_one_or_none()

    def claim_job(self, worker: str, lease_s: float = DEFAULT_LEASE_S) -> JobRow | None:
        """Take the oldest job that is queued, or running under an expired lease, for the
        owner ``worker`` (a :func:`calmline.monitor.leases.owner_id`) for ``lease_s`` seconds.

        PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` and the update in one transaction, so
        replicas never wait on one another nor take the same job. SQLite: one
        ``UPDATE … WHERE id = (SELECT …) RETURNING`` under the database's write lock. Either
        way the claim never gives up while a job waits. A job running under a lease that has
        not expired is never taken: its owner may be alive on another machine.
        """
        with self.session() as s:
            now = self._db_now(s)
            takeable = or_(
                JobRow.state == "queued",
                and_(
                    JobRow.state == "running",
                    or_(JobRow.lease_expires_at.is_(None), JobRow.lease_expires_at < now),
                ),
            )
            oldest = select(JobRow).where(takeable).order_by(JobRow.created_at, JobRow.id).limit(1)
            values = {
                "state": "running",
                "worker": worker,
                "attempts": JobRow.attempts + 1,
                "started_at": now,
                "updated_at": now,
                "heartbeat_at": now,
                "lease_expires_at": now + timedelta(seconds=lease_s),
                "progress": 0.0,
                "step": None,
                "error": None,
                "finished_at": None,
            }
            if self.dialect == "postgresql":
                job = s.execute(oldest.with_for_update(skip_locked=True)).scalar_one_or_none()
                if job is None:
                    return None
                if job.state == "running":
                    logger.warning(
                        "job %s: the lease of %s expired at %s; taken over by %s",
                        job.id, job.worker, job.lease_expires_at, worker,
                    )  # fmt: skip
                s.execute(
                    update(JobRow)
                    .where(JobRow.id == job.id)
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
            else:
                first = oldest.with_only_columns(JobRow.id).scalar_subquery()
                claimed = s.execute(
                    update(JobRow)
                    .where(JobRow.id == first)
                    .values(**values)
                    .returning(JobRow.id)
                    .execution_options(synchronize_session=False)
                ).scalar_one_or_none()
                if claimed is None:
                    return None
                job = s.get(JobRow, claimed)
            s.flush()
            s.refresh(job)
            if job.kind == "analyze":
                s.execute(update(CallRow).where(CallRow.id == job.call_id).values(status="running"))
            return job

    def heartbeat_job(self, job_id: str, worker: str, lease_s: float = DEFAULT_LEASE_S) -> bool:
        """Extend the lease of a running job by ``lease_s`` from now, only while ``worker``
        still owns it. False: the job was taken over (or finished by someone else); the caller
        has lost it and must not write its result."""
        with self.session() as s:
            now = self._db_now(s)
            res = s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.worker == worker, JobRow.state == "running")
                .values(heartbeat_at=now, lease_expires_at=now + timedelta(seconds=lease_s))
            )
            return res.rowcount == 1

    def update_job(self, job_id: str, *, owner: str | None = None, **values: Any) -> bool:
        """Set fields of a job; with ``owner``, only while that owner holds it (running).
        Returns whether a row was changed."""
        values.setdefault("updated_at", utcnow())
        where = [JobRow.id == job_id]
        if owner is not None:
            where += [JobRow.worker == owner, JobRow.state == "running"]
        with self.session() as s:
            return s.execute(update(JobRow).where(*where).values(**values)).rowcount == 1

    def finish_job(
        self,
        job_id: str,
        error: str | None = None,
        *,
        requeue: bool = False,
        owner: str | None = None,
    ) -> bool:
        """Mark a job done, failed (with the error) or, with ``requeue``, queued again.

        With ``owner`` (what workers pass) only the job's current owner may: False, and
        nothing written, when the job is no longer running under ``owner`` (its lease expired
        and another worker took it). Without it (an operator's action) the job is finished
        whoever holds it.
        """
        with self.session() as s:
            now = self._db_now(s)
            if error is None:
                values: dict[str, Any] = {"state": "done", "progress": 1.0, "error": None}
            elif requeue:
                values = {"state": "queued", "error": error, "worker": None}
            else:
                values = {"state": "failed", "error": error}
            values["finished_at"] = None if values["state"] == "queued" else now
            values.update(updated_at=now, lease_expires_at=None)
            where = [JobRow.id == job_id]
            if owner is not None:
                where += [JobRow.worker == owner, JobRow.state == "running"]
            # the write comes first: it takes SQLite's write lock (a read first could meet a
            # writer in between) and PostgreSQL's row lock
            res = s.execute(
                update(JobRow)
                .where(*where)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if res.rowcount != 1:
                job = s.get(JobRow, job_id)
                if job is None:
                    raise KeyError(job_id)
                logger.warning(
                    "job %s: %s lost it (now %s, %s); its outcome is not written",
                    job_id, owner, job.state, job.worker,
                )  # fmt: skip
                return False
            kind, call_id = s.execute(
                select(JobRow.kind, JobRow.call_id).where(JobRow.id == job_id)
            ).one()
            if kind == "analyze" and values["state"] in ("failed", "queued"):
                call_values = {"status": values["state"]}
                if values["state"] == "failed":
                    call_values["error"] = error
                s.execute(update(CallRow).where(CallRow.id == call_id).values(**call_values))
            return True

    def finish_with_report(
        self,
        job_id: str,
        owner: str,
        report: CallReport,
        *,
        events: Sequence[OutboxEvent] = (),
        incomplete: bool = False,
    ) -> bool:
        """The end of a job that made a report, in one transaction: the job marked done (only
        while ``owner`` holds it), the report, its scores and findings written (replacing any
        earlier ones) and its webhook ``events`` queued (once per dedupe key).

        False, and nothing written, when ``owner`` lost the job. Once this has committed the
        job is done, so no retry of it can write a second report or queue its events again.
        """
        with self.session() as s:
            now = self._db_now(s)
            res = s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.worker == owner, JobRow.state == "running")
                .values(
                    state="done",
                    progress=1.0,
                    error=None,
                    finished_at=now,
                    updated_at=now,
                    lease_expires_at=None,
                )
            )
            if res.rowcount != 1:
                logger.warning("job %s: %s lost it; its report is not written", job_id, owner)
                return False
            call_id = s.execute(select(JobRow.call_id).where(JobRow.id == job_id)).scalar_one()
            self._write_report(s, call_id, report, incomplete=incomplete, job_id=job_id)
            self._add_outbox(s, events, now)
            return True

    def retry_job(self, job_id: str) -> JobRow:
        """Put a failed job back in the queue (its attempts start again)."""
        with self.session() as s:
            job = s.get(JobRow, job_id)
            if job is None:
                raise KeyError(job_id)
            if job.state != "failed":
                raise ValueError(f"job {job_id} is {job.state}; only failed jobs can be retried")
            job.state, job.attempts, job.error, job.progress = "queued", 0, None, 0.0
            job.finished_at = None
            job.worker = job.lease_expires_at = None
            job.updated_at = utcnow()
            if job.kind == "analyze":
                s.execute(
                    update(CallRow)
                    .where(CallRow.id == job.call_id)
                    .values(status="queued", error=None)
                )
            return job

    def requeue_abandoned(self, gone: Callable[[str | None], bool] = owner_is_gone) -> list[str]:
        """At start-up: put back in the queue the running jobs whose lease expired, and those
        of an earlier process of this host that is ``gone`` (a restart after a crash resumes
        at once). Another live replica's jobs are left alone. Returns the ids requeued."""
        with self.session() as s:
            now = self._db_now(s)
            rows = s.execute(
                select(JobRow.id, JobRow.worker, JobRow.lease_expires_at).where(
                    JobRow.state == "running"
                )
            ).all()
        ids = []
        for job_id, worker, expires in rows:
            if not (expires is None or expires < now or gone(worker)):
                continue
            with self.session() as s:
                res = s.execute(
                    update(JobRow)
                    .where(
                        JobRow.id == job_id,
                        JobRow.state == "running",
                        JobRow.worker.is_(None) if worker is None else JobRow.worker == worker,
                    )
                    .values(state="queued", worker=None, lease_expires_at=None, updated_at=now)
                )
                if res.rowcount != 1:
                    continue  # taken meanwhile
                calls = select(JobRow.call_id).where(JobRow.id == job_id, JobRow.kind == "analyze")
                s.execute(update(CallRow).where(CallRow.id.in_(calls)).values(status="queued"))
                ids.append(job_id)
        if ids:
            logger.warning("resuming %d job(s) left running: %s", len(ids), ", ".join(ids))
        return ids

    def _db_now(self, s: Session) -> datetime:
        """The time leases are measured in: the database server's clock on PostgreSQL (one
        clock for every replica), this machine's on SQLite (one machine). Naive UTC."""
        if self.dialect == "postgresql":
            return s.execute(text("SELECT timezone('UTC', clock_timestamp())")).scalar_one()
        return utcnow()

    def count_jobs(self) -> dict[str, int]:
        with self.session() as s:
            rows = s.execute(select(JobRow.state, func.count()).group_by(JobRow.state))
            counts = {state: 0 for state in JOB_STATES}
            counts.update({state: int(n) for state, n in rows})
            return counts

    # ------------------------------------------------------------------ API keys and audit

    def create_api_key(
        self, role: str, agent_id: str | None = None, name: str | None = None
    ) -> CreatedKey:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        if role == "agent" and not agent_id:
            raise ValueError("an agent key needs an agent id (--agent)")
        if role != "agent" and agent_id:
            raise ValueError(f"only agent keys are bound to an agent id, not {role} keys")
        key_id = secrets.token_hex(6)
        key = f"cl_{key_id}_{secrets.token_urlsafe(32)}"
        with self.session() as s:
            if agent_id:
                self.ensure_agent(s, agent_id)
            row = ApiKeyRow(
                id=key_id, key_hash=hash_key(key), role=role, agent_id=agent_id, name=name
            )
            s.add(row)
            s.flush()
            return CreatedKey(key=key, info=_key_info(row))

    def lookup_api_key(self, key: str) -> ApiKey | None:
        """The key's record when it exists and is not revoked; also stamps ``last_used_at``."""
        digest = hash_key(key)
        with self.session() as s:
            row = s.execute(
                select(ApiKeyRow).where(ApiKeyRow.key_hash == digest)
            ).scalar_one_or_none()
            if row is None or row.revoked_at is not None:
                return None
            row.last_used_at = utcnow()
            return _key_info(row)

    def get_api_key(self, key_id: str) -> ApiKey | None:
        """The record of key ``key_id`` (revoked or not), ``None`` when there is none."""
        with self.session() as s:
            row = s.get(ApiKeyRow, key_id)
            return None if row is None else _key_info(row)

    def list_api_keys(self) -> list[ApiKey]:
        with self.session() as s:
            rows = s.execute(select(ApiKeyRow).order_by(ApiKeyRow.created_at)).scalars()
            return [_key_info(r) for r in rows]

    def revoke_api_key(self, key_id: str) -> None:
        with self.session() as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None:
                raise KeyError(key_id)
            row.revoked_at = utcnow()

    def audit(
        self,
        action: str,
        outcome: str,
        *,
        key_id: str | None = None,
        role: str | None = None,
        target: str | None = None,
        detail: str | None = None,
    ) -> None:
        with self.session() as s:
            s.add(
                AuditRow(
                    key_id=key_id,
                    role=role,
                    action=action,
                    target=target,
                    outcome=outcome,
                    detail=detail,
                )
            )

    def audit_log(self, limit: int = 100) -> list[AuditRow]:
        with self.session() as s:
            rows = s.execute(select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)).scalars()
            return list(rows)

    # ------------------------------------------------------------------ webhooks

    def record_webhook_attempt(self, delivery: Any) -> None:
        """Implements ``calmline.pipelines.webhooks.DeliveryLog``."""
        with self.session() as s:
            s.add(
                WebhookDeliveryRow(
                    delivery_id=delivery.delivery_id,
                    event_id=delivery.event_id,
                    event_type=delivery.event_type,
                    url=delivery.url,
                    attempt=delivery.attempt,
                    status_code=delivery.status_code,
                    error=delivery.error,
                    delivered=delivery.delivered,
                    at=_naive_utc(delivery.at) or utcnow(),
                    duration_ms=delivery.duration_ms,
                )
            )

    def webhook_deliveries(self, limit: int = 100) -> list[WebhookDeliveryRow]:
        with self.session() as s:
            rows = s.execute(
                select(WebhookDeliveryRow).order_by(WebhookDeliveryRow.id.desc()).limit(limit)
            ).scalars()
            return list(rows)

    def enqueue_webhooks(self, events: Sequence[OutboxEvent]) -> list[str]:
        """Queue webhook events durably; an event whose dedupe key is queued already is not
        queued again. Returns the delivery id of each event (the earlier one for a repeat)."""
        with self.session() as s:
            self._add_outbox(s, events, self._db_now(s))
            if not events:
                return []
            keys = [e.dedupe_key for e in events]
            found = dict(
                s.execute(
                    select(WebhookOutboxRow.dedupe_key, WebhookOutboxRow.id).where(
                        WebhookOutboxRow.dedupe_key.in_(keys)
                    )
                ).all()
            )
            return [found[k] for k in keys]

    def _add_outbox(self, s: Session, events: Sequence[OutboxEvent], now: datetime) -> None:
        if not events:
            return
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        rows = [
            {
                "id": e.delivery_id,
                "dedupe_key": e.dedupe_key,
                "event_id": e.event_id,
                "event_type": e.event_type,
                "call_id": e.call_id,
                "body": e.body,
                "state": "pending",
                "attempts": 0,
                "due_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for e in events
        ]
        stmt = dialect_insert(WebhookOutboxRow).on_conflict_do_nothing(
            index_elements=["dedupe_key"]
        )
        s.execute(stmt, rows)

    def claim_webhook(self, owner: str, lease_s: float) -> WebhookOutboxRow | None:
        """Take the webhook delivery that is due first (pending, not held under a live lease)
        for ``lease_s`` seconds; counts the attempt. Same locking as :meth:`claim_job`."""
        with self.session() as s:
            now = self._db_now(s)
            due = (
                select(WebhookOutboxRow)
                .where(
                    WebhookOutboxRow.state == "pending",
                    WebhookOutboxRow.due_at <= now,
                    or_(
                        WebhookOutboxRow.lease_expires_at.is_(None),
                        WebhookOutboxRow.lease_expires_at < now,
                    ),
                )
                .order_by(WebhookOutboxRow.due_at, WebhookOutboxRow.created_at)
                .limit(1)
            )
            values = {
                "owner": owner,
                "lease_expires_at": now + timedelta(seconds=lease_s),
                "attempts": WebhookOutboxRow.attempts + 1,
                "updated_at": now,
            }
            if self.dialect == "postgresql":
                row = s.execute(due.with_for_update(skip_locked=True)).scalar_one_or_none()
                if row is None:
                    return None
                delivery_id = row.id
            else:
                first = due.with_only_columns(WebhookOutboxRow.id).scalar_subquery()
                delivery_id = s.execute(
                    update(WebhookOutboxRow)
                    .where(WebhookOutboxRow.id == first)
                    .values(**values)
                    .returning(WebhookOutboxRow.id)
                    .execution_options(synchronize_session=False)
                ).scalar_one_or_none()
                if delivery_id is None:
                    return None
                values = {}
            if values:
                s.execute(
                    update(WebhookOutboxRow)
                    .where(WebhookOutboxRow.id == delivery_id)
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
            row = s.get(WebhookOutboxRow, delivery_id)
            s.refresh(row)
            return row

    def settle_webhook(
        self,
        delivery_id: str,
        owner: str,
        *,
        delivered: bool,
        error: str | None = None,
        retry_in_s: float | None = None,
    ) -> bool:
        """Record the outcome of an attempt by the delivery's owner: delivered, due again in
        ``retry_in_s`` seconds, or (neither) failed for good. False when ``owner`` no longer
        holds the delivery (its lease expired and another sender took it)."""
        with self.session() as s:
            now = self._db_now(s)
            if delivered:
                state, due = "delivered", None
            elif retry_in_s is not None:
                state, due = "pending", now + timedelta(seconds=retry_in_s)
            else:
                state, due = "failed", None
            values: dict[str, Any] = {
                "state": state,
                "owner": None,
                "lease_expires_at": None,
                "last_error": error,
                "updated_at": now,
            }
            if due is not None:
                values["due_at"] = due
            res = s.execute(
                update(WebhookOutboxRow)
                .where(
                    WebhookOutboxRow.id == delivery_id,
                    WebhookOutboxRow.owner == owner,
                    WebhookOutboxRow.state == "pending",
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            return res.rowcount == 1

    def webhook_wait_s(self) -> float | None:
        """Seconds until the next pending delivery is due (0 when one is due now, ``None``
        when none is pending)."""
        with self.session() as s:
            now = self._db_now(s)
            due = s.execute(
                select(func.min(WebhookOutboxRow.due_at)).where(WebhookOutboxRow.state == "pending")
            ).scalar()
        return None if due is None else max(0.0, (due - now).total_seconds())

    def count_webhooks(self) -> dict[str, int]:
        """Outbox rows per state (``pending``, ``delivered``, ``failed``)."""
        with self.session() as s:
            rows = s.execute(
                select(WebhookOutboxRow.state, func.count()).group_by(WebhookOutboxRow.state)
            )
            counts = {"pending": 0, "delivered": 0, "failed": 0}
            counts.update({state: int(n) for state, n in rows})
            return counts

    # ------------------------------------------------------------------ supervisor alerts

    def add_alert(
        self,
        *,
        call_id: str,
        agent_id: str,
        kind: str,
        severity: str,
        t: float,
        at: datetime,
        data: dict[str, Any],
        seq: int | None = None,
    ) -> AlertRow:
        """Store one alert raised on a live call."""
        with self.session() as s:
            row = AlertRow(
                call_id=call_id,
                agent_id=agent_id,
                kind=kind,
                severity=severity,
                t=t,
                seq=seq,
                at=_naive_utc(at),
                data=data,
            )
            s.add(row)
            s.flush()
            return row

    def alerts(
        self,
        *,
        since: datetime | None = None,
        agent_id: str | None = None,
        call_id: str | None = None,
        acknowledged: bool | None = None,
        include_quiet: bool = False,
        limit: int = 500,
    ) -> list[AlertRow]:
        """Alerts raised at or after ``since``, newest first."""
        q = select(AlertRow)
        if since is not None:
            q = q.where(AlertRow.at >= _naive_utc(since))
        if agent_id is not None:
            q = q.where(AlertRow.agent_id == agent_id)
        if call_id is not None:
            q = q.where(AlertRow.call_id == call_id)
        if acknowledged is not None:
            done = AlertRow.acknowledged_at.is_not(None)
            q = q.where(done if acknowledged else ~done)
        if not include_quiet:
            q = q.where(AlertRow.quiet.is_(None))
        with self.session() as s:
            rows = s.execute(q.order_by(AlertRow.at.desc(), AlertRow.id.desc()).limit(limit))
            return list(rows.scalars())

    def get_alert(self, alert_id: int) -> AlertRow | None:
        with self.session() as s:
            return s.get(AlertRow, alert_id)

    def acknowledge_alert(self, alert_id: int, key_id: str, note: str | None = None) -> AlertRow:
        """A supervisor has seen to the alert. ``KeyError`` when there is none, ``ValueError``
        when it was acknowledged already."""
        with self.session() as s:
            row = s.get(AlertRow, alert_id)
            if row is None:
                raise KeyError(alert_id)
            if row.acknowledged_at is not None:
                when = row.acknowledged_at.isoformat(timespec="seconds")
                raise ValueError(
                    f"alert {alert_id} was acknowledged already ({when} by {row.acknowledged_by})"
                )
            row.acknowledged_at, row.acknowledged_by, row.ack_note = utcnow(), key_id, note
            return row

    def quiet_alerts(
        self, call_id: str, kinds: Sequence[str], start: float, end: float, reason: str
    ) -> list[int]:
        """Silence the call's unacknowledged alerts of ``kinds`` raised at call times
        ``start``..``end`` (an announced hold heard after them). Returns their ids."""
        if not kinds:
            return []
        with self.session() as s:
            ids = list(
                s.execute(
                    select(AlertRow.id).where(
                        AlertRow.call_id == call_id,
                        AlertRow.kind.in_(list(kinds)),
                        AlertRow.t >= start,
                        AlertRow.t <= end,
                        AlertRow.quiet.is_(None),
                        AlertRow.acknowledged_at.is_(None),
                    )
                ).scalars()
            )
            if ids:
                s.execute(update(AlertRow).where(AlertRow.id.in_(ids)).values(quiet=reason))
            return ids

    def withdraw_alerts(
        self, call_id: str, kind: str, t: float, withdrawal: dict[str, Any]
    ) -> list[int]:
        """Mark the call's alerts of ``kind`` raised at call time ``t`` (to the millisecond) as
        withdrawn by the live pipeline (``alert_withdrawn``: an alert told by sound that the
        rule with its words does not hold): ``withdrawal`` (reason, quote, when) goes into the
        alert's ``data`` under ``withdrawn``. Alerts withdrawn already are left alone. Returns
        the ids."""
        with self.session() as s:
            rows = s.execute(
                select(AlertRow).where(
                    AlertRow.call_id == call_id,
                    AlertRow.kind == kind,
                    AlertRow.t >= t - 0.0015,
                    AlertRow.t <= t + 0.0015,
                )
            ).scalars()
            ids = []
            for row in rows:
                if "withdrawn" in (row.data or {}):
                    continue
                row.data = {**(row.data or {}), "withdrawn": withdrawal}  # a new dict: JSON column
                ids.append(row.id)
            return ids

    def prune_alerts(self, before: datetime) -> int:
        """Delete alerts raised before ``before``; returns how many."""
        with self.session() as s:
            res = s.execute(delete(AlertRow).where(AlertRow.at < _naive_utc(before)))
            return int(res.rowcount or 0)

    # ------------------------------------------------------------------ evaluations and disputes

    def add_evaluation(
        self,
        call_id: str,
        *,
        evaluator_key_id: str,
        evaluator_role: str,
        items: dict[str, Any],
        evaluator_name: str | None = None,
        note: str | None = None,
        rubric: str | None = None,
        rubric_version: str | None = None,
        machine_overall: float | None = None,
        human_overall: float | None = None,
    ) -> EvaluationRow:
        """Write the next version of the call's evaluation (a draft). Raises ``KeyError`` when
        there is no such call."""
        for attempt in range(3):
            try:
                with self.session() as s:
                    if s.get(CallRow, call_id) is None:
                        raise KeyError(call_id)
                    last = s.execute(
                        select(func.max(EvaluationRow.version)).where(
                            EvaluationRow.call_id == call_id
                        )
                    ).scalar_one()
                    row = EvaluationRow(
                        call_id=call_id,
                        version=(last or 0) + 1,
                        evaluator_key_id=evaluator_key_id,
                        evaluator_role=evaluator_role,
                        evaluator_name=evaluator_name,
                        note=note,
                        rubric=rubric,
                        rubric_version=rubric_version,
                        machine_overall=machine_overall,
                        human_overall=human_overall,
                        items=items,
                    )
                    s.add(row)
                    s.flush()
                    return row
            except IntegrityError:  # two evaluators saved the same version at once: next one
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def evaluations(self, call_id: str) -> list[EvaluationRow]:
        """Every version of the call's evaluation, oldest first."""
        with self.session() as s:
            rows = s.execute(
                select(EvaluationRow)
                .where(EvaluationRow.call_id == call_id)
                .order_by(EvaluationRow.version)
            ).scalars()
            return list(rows)

    def get_evaluation(self, evaluation_id: int) -> EvaluationRow | None:
        with self.session() as s:
            return s.get(EvaluationRow, evaluation_id)

    def latest_evaluations(
        self, call_ids: Sequence[str] | None = None, *, published_only: bool = False
    ) -> dict[str, EvaluationRow]:
        """``{call_id: newest version}`` (the newest published one with ``published_only``) of
        the given calls, or of every evaluated call when ``call_ids`` is ``None``."""
        newest = select(
            EvaluationRow.call_id.label("call_id"),
            func.max(EvaluationRow.version).label("version"),
        )
        if published_only:
            newest = newest.where(EvaluationRow.published_at.is_not(None))
        if call_ids is not None:
            if not call_ids:
                return {}
            newest = newest.where(EvaluationRow.call_id.in_(list(call_ids)))
        sub = newest.group_by(EvaluationRow.call_id).subquery()
        q = select(EvaluationRow).join(
            sub,
            (EvaluationRow.call_id == sub.c.call_id) & (EvaluationRow.version == sub.c.version),
        )
        with self.session() as s:
            return {r.call_id: r for r in s.execute(q.order_by(EvaluationRow.call_id)).scalars()}

    def latest_evaluation(self, call_id: str, *, published_only: bool = False):
        """The call's newest evaluation version (newest published one), or ``None``."""
        return self.latest_evaluations([call_id], published_only=published_only).get(call_id)

    def publish_evaluation(self, call_id: str) -> EvaluationRow:
        """Publish the newest version of the call's evaluation (the agent sees it from now on).
        ``KeyError`` when the call has none, ``ValueError`` when it is published already."""
        with self.session() as s:
            row = s.execute(
                select(EvaluationRow)
                .where(EvaluationRow.call_id == call_id)
                .order_by(EvaluationRow.version.desc())
                .limit(1)
            ).scalar_one_or_none()
            if row is None:
                raise KeyError(call_id)
            if row.published_at is not None:
                raise ValueError(f"version {row.version} of {call_id!r} is published already")
            row.published_at = utcnow()
            return row

    def acknowledge_evaluation(self, evaluation_id: int, key_id: str) -> EvaluationRow:
        """The agent has read a published version. ``ValueError`` when it is not published or
        was acknowledged already."""
        with self.session() as s:
            row = s.get(EvaluationRow, evaluation_id)
            if row is None:
                raise KeyError(evaluation_id)
            if row.published_at is None:
                raise ValueError(f"version {row.version} is not published")
            if row.acknowledged_at is not None:
                raise ValueError(f"version {row.version} was acknowledged already")
            row.acknowledged_at, row.acknowledged_by = utcnow(), key_id
            return row

    def add_dispute(
        self,
        evaluation: EvaluationRow,
        agent_id: str,
        item: str,
        comment: str,
        key_id: str,
    ) -> DisputeRow:
        """Open a dispute of ``item`` of a published version. ``ValueError`` when that item of
        the call is disputed and not resolved yet."""
        with self.session() as s:
            open_one = s.execute(
                select(DisputeRow.id).where(
                    DisputeRow.call_id == evaluation.call_id,
                    DisputeRow.item == item,
                    DisputeRow.status == "open",
                )
            ).first()
            if open_one is not None:
                raise ValueError(f"{item} is disputed already (dispute {open_one[0]} is open)")
            row = DisputeRow(
                evaluation_id=evaluation.id,
                call_id=evaluation.call_id,
                agent_id=agent_id,
                item=item,
                comment=comment,
                created_by=key_id,
            )
            s.add(row)
            s.flush()
            return row

    def get_dispute(self, dispute_id: int) -> DisputeRow | None:
        with self.session() as s:
            return s.get(DisputeRow, dispute_id)

    def disputes(
        self,
        *,
        status: str | None = None,
        call_id: str | None = None,
        agent_id: str | None = None,
        limit: int = 500,
    ) -> list[DisputeRow]:
        """Disputes, oldest first, filtered."""
        q = select(DisputeRow)
        if status is not None:
            q = q.where(DisputeRow.status == status)
        if call_id is not None:
            q = q.where(DisputeRow.call_id == call_id)
        if agent_id is not None:
            q = q.where(DisputeRow.agent_id == agent_id)
        with self.session() as s:
            return list(s.execute(q.order_by(DisputeRow.id).limit(limit)).scalars())

    def resolve_dispute(self, dispute_id: int, outcome: str, note: str, key_id: str) -> DisputeRow:
        """Close an open dispute as ``upheld`` (the item stands) or ``overturned``."""
        if outcome not in DISPUTE_STATES[1:]:
            raise ValueError(f"unknown outcome {outcome!r}; one of upheld, overturned")
        with self.session() as s:
            row = s.get(DisputeRow, dispute_id)
            if row is None:
                raise KeyError(dispute_id)
            if row.status != "open":
                raise ValueError(f"dispute {dispute_id} is {row.status} already")
            row.status, row.resolution_note = outcome, note
            row.resolved_at, row.resolved_by = utcnow(), key_id
            return row

    def field_labels(self, verdicts: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """The judged findings of the newest published evaluation of every call as labelled
        examples (``GET /api/v1/evaluations/labels.jsonl``, ``calmline labels export``): one
        dict per confirmed or rejected machine finding and per added (missed) one, oldest call
        first. ``verdicts``: only these of ``confirmed``, ``rejected``, ``missed``."""
        wanted = set(verdicts or FIELD_VERDICTS)
        unknown = wanted - set(FIELD_VERDICTS)
        if unknown:
            raise ValueError(f"unknown verdicts {sorted(unknown)}; one of {FIELD_VERDICTS}")
        rows = self.latest_evaluations(published_only=True)
        with self.session() as s:
            calls = {
                c.id: c
                for c in s.execute(select(CallRow).where(CallRow.id.in_(list(rows)))).scalars()
            }
        out = []
        for call_id in sorted(rows, key=lambda c: (calls[c].created_at, c)):
            row, call = rows[call_id], calls[call_id]
            for item, verdict in _judged_items(row.items or {}):
                if verdict in wanted:
                    out.append(_field_label(row, call, item, verdict))
        return out

    # ------------------------------------------------------------------ calibration sessions

    def create_calibration(
        self,
        call_id: str,
        *,
        created_by: str,
        evaluators: Sequence[tuple[str, str | None, str]],
        note: str | None = None,
        rubric: str | None = None,
        rubric_version: str | None = None,
        machine_overall: float | None = None,
        scorecard: dict[str, Any] | None = None,
    ) -> Calibration:
        """Start a calibration of a call with ``evaluators`` (``(key id, name, role)``, two at
        least, each once). ``KeyError`` when there is no such call, ``ValueError`` for fewer than
        two evaluators or one named twice."""
        ids = [e[0] for e in evaluators]
        if len(set(ids)) != len(ids):
            raise ValueError("an evaluator is named twice")
        if len(ids) < 2:
            raise ValueError("a calibration needs two evaluators at least")
        with self.session() as s:
            if s.get(CallRow, call_id) is None:
                raise KeyError(call_id)
            row = CalibrationRow(
                call_id=call_id,
                created_by=created_by,
                note=note,
                rubric=rubric,
                rubric_version=rubric_version,
                machine_overall=machine_overall,
                scorecard=scorecard or {},
            )
            s.add(row)
            s.flush()
            answers = [
                CalibrationAnswerRow(
                    calibration_id=row.id, key_id=key_id, name=name, role=role, items={}
                )
                for key_id, name, role in evaluators
            ]
            s.add_all(answers)
            s.flush()
            return Calibration(row, tuple(answers))

    def _calibrations(self, s: Session, rows: Sequence[CalibrationRow]) -> list[Calibration]:
        if not rows:
            return []
        answers: dict[int, list[CalibrationAnswerRow]] = {r.id: [] for r in rows}
        q = (
            select(CalibrationAnswerRow)
            .where(CalibrationAnswerRow.calibration_id.in_(list(answers)))
            .order_by(CalibrationAnswerRow.id)
        )
        for a in s.execute(q).scalars():
            answers[a.calibration_id].append(a)
        return [Calibration(r, tuple(answers[r.id])) for r in rows]

    def get_calibration(self, calibration_id: int) -> Calibration | None:
        with self.session() as s:
            row = s.get(CalibrationRow, calibration_id)
            return None if row is None else self._calibrations(s, [row])[0]

    def calibrations(
        self,
        *,
        call_id: str | None = None,
        closed: bool | None = None,
        key_id: str | None = None,
        limit: int = 500,
    ) -> list[Calibration]:
        """Calibrations, newest first: of one call, open or closed, with ``key_id`` among the
        evaluators."""
        q = select(CalibrationRow)
        if call_id is not None:
            q = q.where(CalibrationRow.call_id == call_id)
        if closed is not None:
            when = CalibrationRow.closed_at
            q = q.where(when.is_not(None) if closed else when.is_(None))
        if key_id is not None:
            mine = select(CalibrationAnswerRow.calibration_id).where(
                CalibrationAnswerRow.key_id == key_id
            )
            q = q.where(CalibrationRow.id.in_(mine))
        with self.session() as s:
            rows = list(s.execute(q.order_by(CalibrationRow.id.desc()).limit(limit)).scalars())
            return self._calibrations(s, rows)

    def save_calibration_answer(
        self,
        calibration_id: int,
        key_id: str,
        *,
        items: dict[str, Any],
        note: str | None = None,
        human_overall: float | None = None,
        submit: bool = False,
    ) -> Calibration:
        """Save (with ``submit``: and lock) one evaluator's answer. ``KeyError`` when there is no
        such calibration, ``PermissionError`` when ``key_id`` is not one of its evaluators,
        ``ValueError`` when it is closed or the answer was submitted already."""
        with self.session() as s:
            row = s.get(CalibrationRow, calibration_id)
            if row is None:
                raise KeyError(calibration_id)
            answer = s.execute(
                select(CalibrationAnswerRow).where(
                    CalibrationAnswerRow.calibration_id == calibration_id,
                    CalibrationAnswerRow.key_id == key_id,
                )
            ).scalar_one_or_none()
            if answer is None:
                raise PermissionError(f"key {key_id} is not an evaluator of {calibration_id}")
            if row.closed_at is not None:
                raise ValueError(f"calibration {calibration_id} is closed")
            if answer.submitted_at is not None:
                raise ValueError(f"the answer to calibration {calibration_id} is submitted")
            answer.items, answer.note, answer.human_overall = items, note, human_overall
            answer.updated_at = utcnow()
            if submit:
                answer.submitted_at = answer.updated_at
            s.flush()
            return self._calibrations(s, [row])[0]

    def close_calibration(self, calibration_id: int, key_id: str) -> Calibration:
        """Close a calibration: no more answers; everyone sees all of them from now on.
        ``KeyError`` when there is none, ``ValueError`` when it is closed already."""
        with self.session() as s:
            row = s.get(CalibrationRow, calibration_id)
            if row is None:
                raise KeyError(calibration_id)
            if row.closed_at is not None:
                raise ValueError(f"calibration {calibration_id} is closed already")
            row.closed_at, row.closed_by = utcnow(), key_id
            s.flush()
            return self._calibrations(s, [row])[0]

    # ------------------------------------------------------------------ agents, teams and trends

    def set_agent_team(self, agent_id: str, team: str | None) -> AgentRow:
        """Put an agent in a team (``None``: in none); the agent is created when new."""
        with self.session() as s:
            self.ensure_agent(s, agent_id)
            row = s.get(AgentRow, agent_id)
            row.team = team
            return row

    def agents(self, team: str | None = None) -> list[AgentRow]:
        """Agents by id, or only those of ``team``."""
        q = select(AgentRow)
        if team is not None:
            q = q.where(AgentRow.team == team)
        with self.session() as s:
            return list(s.execute(q.order_by(AgentRow.id)).scalars())

    def trends(
        self,
        agent_ids: Sequence[str] | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        top: int = 10,
    ) -> dict[str, Any]:
        """Scored calls of ``agent_ids`` (``None``: every agent) by ISO week of when they
        started: calls, mean overall and per-practice scores, the customers' trajectories and
        de-escalation rate (:func:`deescalation_rate`); and the recurring faults (findings of
        severity minor, major or critical) by practice and kind, most calls first."""
        if agent_ids is not None and not agent_ids:
            return weekly_trend([], {}, {}, top)
        rows, _ = self.list_calls(
            CallFilter(
                agent_ids=None if agent_ids is None else tuple(agent_ids),
                since=since,
                until=until,
                status="done",
            ),
            limit=1_000_000,
        )
        rows = [r for r in rows if r.overall is not None or r.stress_result]
        ids = [r.id for r in rows]
        faults: dict[str, list[tuple[str, str]]] = {c: [] for c in ids}
        with self.session() as s:
            for chunk in range(0, len(ids), 900):  # SQLite's bound-parameter limit
                q = select(FindingRow.call_id, FindingRow.practice, FindingRow.kind).where(
                    FindingRow.call_id.in_(ids[chunk : chunk + 900]),
                    FindingRow.severity.in_(("minor", "major", "critical")),
                )
                for call_id, practice, kind in s.execute(q):
                    faults[call_id].append((practice, kind))
        scores: dict[str, dict[str, float | None]] = {}
        for chunk in range(0, len(ids), 900):
            scores.update(self.practice_scores(ids[chunk : chunk + 900]))
        return weekly_trend(rows, scores, faults, top)


FIELD_VERDICTS = ("confirmed", "rejected", "missed")
"""Verdicts of field labels: the machine's finding was right, wrong, or missing."""


def _judged_items(items: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    for v in items.get("findings", []):
        yield v, "confirmed" if v.get("verdict") == "confirm" else "rejected"
    for m in items.get("missed", []):
        yield m, "missed"


def _field_label(
    row: EvaluationRow, call: CallRow, item: dict[str, Any], verdict: str
) -> dict[str, Any]:
    """One labelled example: where it is, what was said, the rule and the human verdict."""
    return {
        "id": f"{call.id}/v{row.version}/{item['key']}",
        "call_id": call.id,
        "agent_id": call.agent_id,
        "language": call.language or call.requested_language,
        "practice": item.get("practice"),
        "kind": item.get("kind"),
        "verdict": verdict,
        "reason": item.get("reason"),
        "note": item.get("note"),
        "quote": item.get("quote") or "",
        "context": item.get("context") or "",
        "start": item.get("start"),
        "end": item.get("end"),
        "role": item.get("role"),
        "turn_index": item.get("turn_index"),
        "severity": item.get("severity"),
        "detail": item.get("detail"),
        "rule": {
            "rubric": row.rubric,
            "rubric_version": row.rubric_version,
            "phrase": item.get("phrase"),
            "matched_form": item.get("matched_form"),
            "match_kind": item.get("match_kind"),
            "value": item.get("value"),
            "threshold": item.get("threshold"),
        },
        "evaluation_version": row.version,
        "evaluator": row.evaluator_name or row.evaluator_key_id,
        "evaluated_at": (row.published_at or row.created_at).isoformat(),
    }


CUSTOMER_TRAJECTORIES = ("de-escalated", "steady", "escalated", "insufficient")
"""A call's ``stress_result``: how the customer's agitation moved (``calmline.monitor.stress``)."""


def deescalation_rate(counts: dict[str, int]) -> float | None:
    """Share of calls whose customer ended calmer than they began, among calls whose customer
    trajectory could be measured (``insufficient`` ones, with too few customer turns, are left
    out); ``None`` when there is none."""
    measured = sum(counts.get(k, 0) for k in CUSTOMER_TRAJECTORIES[:3])
    return round(counts.get("de-escalated", 0) / measured, 3) if measured else None


def iso_week(when: datetime) -> str:
    """``2026-W47``: the ISO week of a time (weeks start on Monday)."""
    year, week, _ = when.isocalendar()
    return f"{year}-W{week:02d}"


def week_monday(week: str) -> datetime:
    year, number = week.split("-W")
    return datetime.fromisocalendar(int(year), int(number), 1)


def weekly_trend(
    rows: Sequence[CallRow],
    scores: dict[str, dict[str, float | None]],
    faults: dict[str, list[tuple[str, str]]],
    top: int = 10,
) -> dict[str, Any]:
    """Calls aggregated by ISO week (weeks without calls between the first and the last are
    listed with no calls, so a chart's x axis is time): see :meth:`Store.trends`."""

    def empty() -> dict[str, Any]:
        customer = dict.fromkeys(CUSTOMER_TRAJECTORIES, 0)
        return {"calls": 0, "_overall": [], "_p": {}, "customer": customer}

    weeks: dict[str, dict[str, Any]] = {}
    total = empty()
    recurring: dict[tuple[str, str], list[int]] = {}
    for r in rows:
        when = r.started_at or r.created_at
        for b in (weeks.setdefault(iso_week(when), empty()), total):
            b["calls"] += 1
            if r.overall is not None:
                b["_overall"].append(r.overall)
            for practice, score in scores.get(r.id, {}).items():
                if score is not None:
                    b["_p"].setdefault(practice, []).append(score)
            if r.stress_result in b["customer"]:
                b["customer"][r.stress_result] += 1
        kinds = faults.get(r.id, [])
        for pk in set(kinds):
            counts = recurring.setdefault(pk, [0, 0])
            counts[0] += kinds.count(pk)
            counts[1] += 1

    def done(b: dict[str, Any]) -> dict[str, Any]:
        return {
            "calls": b["calls"],
            "mean_overall": _mean(b["_overall"]),
            "practices": {p: _mean(v) for p, v in sorted(b["_p"].items())},
            "customer": b["customer"],
            "deescalation_rate": deescalation_rate(b["customer"]),
        }

    series = []
    if weeks:
        monday, last = week_monday(min(weeks)), week_monday(max(weeks))
        while monday <= last:
            key = iso_week(monday)
            b = done(weeks.get(key) or empty())
            series.append({"week": key, "start": monday.date().isoformat(), **b})
            monday = monday.fromordinal(monday.toordinal() + 7)
    n = total["calls"]
    findings = [
        {
            "practice": practice,
            "kind": kind,
            "findings": count,
            "calls": calls,
            "share_of_calls": round(calls / n, 3) if n else None,
        }
        for (practice, kind), (count, calls) in recurring.items()
    ]
    findings.sort(key=lambda f: (-f["calls"], -f["findings"], f["practice"], f["kind"]))
    return {**done(total), "weeks": series, "recurring_findings": findings[:top]}


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn, _record) -> None:  # pragma: no cover - trivial
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def _naive_utc(t: datetime | None) -> datetime | None:
    if t is None or t.tzinfo is None:
        return t
    return t.astimezone(UTC).replace(tzinfo=None)


def _key_info(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id=row.id,
        role=row.role,
        agent_id=row.agent_id,
        name=row.name,
        created_at=row.created_at,
        revoked=row.revoked_at is not None,
    )


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def call_folder_name(call_id: str) -> str:
    """``<safe prefix>~<16 hex digits of SHA-256 of the exact id>``: one folder per call id."""
    digest = hashlib.sha256(call_id.encode("utf-8")).hexdigest()[:16]
    return f"{_safe_name(call_id)[:48]}~{digest}"


def _safe_name(name: str) -> str:
    keep = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in name)
    return keep.strip(".") or "call"


def transcript_text(body: dict[str, Any]) -> str:
    """The words of a stored report's transcript, one turn a line (what search looks in)."""
    return "\n".join(str(t.get("text") or "") for t in body.get("turns") or ())


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
