"""Calmline storage: calls, agents, jobs, reports, API keys, audit and webhook logs.

SQLAlchemy 2 with SQLite as the embedded default (one file under the data directory) and
PostgreSQL by URL. The schema is created and upgraded by Alembic (``Store.migrate``). Scores and
findings are stored as rows so they can be filtered; the full report is kept as its JSON too.
Call audio lives in a local folder, one per call (``audio_dir/<safe id>~<id hash>/``).

A job is written (state ``queued``) in the same transaction as its call, before any work starts,
so a crash loses nothing: :meth:`Store.requeue_running` puts jobs left ``running`` back in the
queue at start-up.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
    create_engine,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from calmline.monitor.report import report_from_dict, report_to_dict
from calmline.monitor.types import CallReport

logger = logging.getLogger(__name__)

ROLES = ("admin", "qa_lead", "supervisor", "agent")
"""API key roles. ``agent`` keys are bound to one agent id."""
JOB_STATES = ("queued", "running", "done", "failed")
CALL_SOURCES = ("upload", "watch", "live")


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
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


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
    source: str | None = None
    status: str | None = None


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


class Store:
    """All database and audio-folder access of Calmline; thread-safe (one session per call)."""

    def __init__(self, url: str, audio_dir: str | Path) -> None:
        self.url = url
        self.audio_dir = Path(audio_dir)
        self.audio_dir.mkdir(parents=True, exist_ok=True)
        self.engine = _make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

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
        through :meth:`new_audio_path`; readers use the call's stored ``audio_path``.
        """
        return self.audio_dir / call_folder_name(call_id)

    def new_audio_path(self, call_id: str, stem: str, suffix: str) -> Path:
        """A fresh file name in the call's folder (created), unique to this writer, so two
        writers of one call id never write the same file (the loser of a race for the id
        removes only its own file, see :meth:`discard_audio`)."""
        folder = self.call_audio_dir(call_id)
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{stem}-{secrets.token_hex(4)}{suffix}"

    def discard_audio(self, path: str | Path) -> None:
        """Remove one stored audio file that no call row took (and its folder when empty)."""
        path = Path(path)
        path.unlink(missing_ok=True)
        if self._inside_audio_dir(path.parent):
            with suppress(OSError):
                path.parent.rmdir()  # only when empty: other files are another writer's

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
            size = Path(audio_path).stat().st_size if audio_path else None
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
        any earlier ones, in one transaction, so a re-run never duplicates rows)."""
        body = report_to_dict(report)
        with self.session() as s:
            call = s.get(CallRow, call_id)
            if call is None:
                raise KeyError(call_id)
            s.execute(delete(PracticeScoreRow).where(PracticeScoreRow.call_id == call_id))
            s.execute(delete(FindingRow).where(FindingRow.call_id == call_id))
            row = s.get(ReportRow, call_id)
            text = json.dumps(body, ensure_ascii=False)
            if row is None:
                s.add(ReportRow(call_id=call_id, schema_version=body["schema_version"], body=text))
            else:
                row.schema_version = body["schema_version"]
                row.body = text
                row.created_at = utcnow()
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
        self, filters: CallFilter | None = None, *, limit: int = 50, offset: int = 0
    ) -> tuple[list[CallRow], int]:
        """Calls matching ``filters``, newest first, and how many match in all."""
        f = filters or CallFilter()
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
        if f.source is not None:
            q = q.where(CallRow.source == f.source)
        if f.status is not None:
            q = q.where(CallRow.status == f.status)
        if f.practice is not None:
            sub = select(PracticeScoreRow.call_id).where(PracticeScoreRow.practice == f.practice)
            if f.below is not None:
                sub = sub.where(PracticeScoreRow.score < f.below)
            q = q.where(CallRow.id.in_(sub))
        with self.session() as s:
            total = s.execute(select(func.count()).select_from(q.subquery())).scalar_one()
            rows = s.execute(
                q.order_by(when.desc(), CallRow.id.desc()).limit(limit).offset(offset)
            ).scalars()
            return list(rows), int(total)

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

    def claim_job(self, worker: str) -> JobRow | None:
        """Take the oldest queued job for ``worker``; safe against other workers and processes
        (the state change is a compare-and-set on ``state = 'queued'``)."""
        for _ in range(5):
            with self.session() as s:
                job = s.execute(
                    select(JobRow)
                    .where(JobRow.state == "queued")
                    .order_by(JobRow.created_at, JobRow.id)
                    .limit(1)
                ).scalar_one_or_none()
                if job is None:
                    return None
                now = utcnow()
                res = s.execute(
                    update(JobRow)
                    .where(JobRow.id == job.id, JobRow.state == "queued")
                    .values(
                        state="running",
                        worker=worker,
                        attempts=JobRow.attempts + 1,
                        started_at=now,
                        updated_at=now,
                        progress=0.0,
                        error=None,
                    )
                )
                if res.rowcount == 1:
                    if job.kind == "analyze":
                        s.execute(
                            update(CallRow)
                            .where(CallRow.id == job.call_id)
                            .values(status="running")
                        )
                    s.flush()
                    s.expire(job)
                    return s.get(JobRow, job.id)
        return None

    def update_job(self, job_id: str, **values: Any) -> None:
        values.setdefault("updated_at", utcnow())
        with self.session() as s:
            s.execute(update(JobRow).where(JobRow.id == job_id).values(**values))

    def finish_job(self, job_id: str, error: str | None = None, *, requeue: bool = False) -> None:
        """Mark a job done, failed (with the error) or, with ``requeue``, queued again."""
        now = utcnow()
        with self.session() as s:
            job = s.get(JobRow, job_id)
            if job is None:
                raise KeyError(job_id)
            if error is None:
                job.state, job.progress, job.error = "done", 1.0, None
            elif requeue:
                job.state, job.error = "queued", error
            else:
                job.state, job.error = "failed", error
            job.finished_at = now if job.state != "queued" else None
            job.updated_at = now
            if job.kind == "analyze" and job.state == "failed":
                s.execute(
                    update(CallRow)
                    .where(CallRow.id == job.call_id)
                    .values(status="failed", error=error)
                )

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
            job.updated_at = utcnow()
            if job.kind == "analyze":
                s.execute(
                    update(CallRow)
                    .where(CallRow.id == job.call_id)
                    .values(status="queued", error=None)
                )
            return job

    def requeue_running(self) -> list[str]:
        """At start-up: jobs left ``running`` by a crash go back to the queue. Returns their ids."""
        with self.session() as s:
            ids = list(s.execute(select(JobRow.id).where(JobRow.state == "running")).scalars())
            if ids:
                s.execute(
                    update(JobRow)
                    .where(JobRow.id.in_(ids))
                    .values(state="queued", worker=None, updated_at=utcnow())
                )
                calls = select(JobRow.call_id).where(JobRow.id.in_(ids), JobRow.kind == "analyze")
                s.execute(update(CallRow).where(CallRow.id.in_(calls)).values(status="queued"))
        if ids:
            logger.warning("resuming %d job(s) left running: %s", len(ids), ", ".join(ids))
        return ids

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


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
