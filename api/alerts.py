"""Supervisor alerts: the live events that alert, kept server-side and acknowledged.

The live hub (``calmline.api.live``) hands every event it publishes to :class:`AlertKeeper`
before its subscribers get it. An alert event (``calmline.monitor.settings.ALERT_KINDS``) that
passes the rules (settings ``alerts.*``: which kinds, a lowest severity, minimums of payload
numbers, quiet during an announced hold) is stored and goes out with ``alert_id``; one the rules
hold back goes out with ``alert_quiet`` (the reason) and is not stored. Stored alerts are kept
``alerts.keep_hours`` (a day by default), so a supervisor's dashboard lists the day's alerts
after a reload or on another screen.

Holds: an agent transcript (or, on a mixed track, any transcript) holding one of
``alerts.hold_phrases`` ("one moment", "please hold", 稍等 …) starts a hold, which lasts until the
agent speaks again, at most ``alerts.hold_max_s``. Alerts of ``alerts.hold_kinds`` (silence, by
default) at call times inside it are quiet. Speech is transcribed after it ends, so a silence
alert can go out before the words that announced the hold are known: such an alert is made
quiet in the store when they are (a dashboard open at that moment shows it until its next
refresh of ``GET /api/v1/alerts``).

Routes: ``GET /api/v1/alerts`` (every role; an agent key sees only its own calls' alerts) and
``POST /api/v1/alerts/{id}/ack`` (admin, supervisor, QA lead; recorded with who and when, and in
the audit log).

Withdrawals: an interruption told by sound (``live.acoustic_alerts``) that its words then show to
be none is taken back by the live pipeline (``alert_withdrawn``); the stored alert keeps its place
and is listed with ``withdrawn`` (reason, quote, when), and the event goes out with the ids it
withdrew (``alert_ids``).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from calmline.api.auth import Principal, authenticate, refuse, require_roles
from calmline.monitor.settings import ALERT_KINDS, AlertSettings
from calmline.monitor.store import AlertRow, Store

logger = logging.getLogger("calmline.api.alerts")

router = APIRouter(tags=["alerts"])

ACK_ROLES = ("admin", "supervisor", "qa_lead")
"""Roles that acknowledge alerts."""
SEVERITIES = ("info", "minor", "major", "critical")
DEFAULT_SEVERITY = {
    "interruption": "major",
    "apology_demand": "critical",
    "repeated_ack": "major",
    "agent_louder": "minor",
    "agent_faster": "minor",
    "agitation_rising": "major",
    "non_talk": "minor",
}
"""Severity of an alert whose payload names none (the dashboard's colours)."""
PRUNE_EVERY_S = 600.0
"""How often expired alerts are deleted while alerts come in (s)."""
RESUMED_AFTER_S = 0.5
"""Agent speech starting this long after a hold's announcement ends it (the announcement's own
trailing words, transcribed as a second utterance, do not)."""


@dataclass
class _Hold:
    start: float
    announced_end: float
    end: float
    """Call time the hold ends: the agent's next speech, else ``announced_end + hold_max_s``."""
    open: bool = True


def _phrase_patterns(settings: AlertSettings) -> list[re.Pattern[str]]:
    """English phrases as whole words (case-insensitive), Chinese ones as substrings."""
    out = []
    for language, phrases in settings.hold_phrases.items():
        for phrase in phrases:
            if not phrase.strip():
                continue
            body = r"\s+".join(re.escape(w) for w in phrase.split())
            out.append(re.compile(rf"\b{body}\b" if language == "en" else body, re.IGNORECASE))
    return out


class AlertKeeper:
    """Judges, stores and silences alerts of the live calls. Thread-safe: sessions publish from
    their own threads."""

    def __init__(self, store: Store, settings: AlertSettings) -> None:
        self.store = store
        self.settings = settings
        self._patterns = _phrase_patterns(settings)
        self._holds: dict[str, list[_Hold]] = {}
        self._lock = threading.Lock()
        self._pruned_at = 0.0
        self._prune()

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        """The event as subscribers get it: an alert stored gets ``alert_id``, one held back
        ``alert_quiet``. Never raises (a failing store must not stop a live call)."""
        try:
            kind = event.get("type")
            if kind == "transcript":
                self._heard(event)
            elif kind == "call_ended":
                with self._lock:
                    self._holds.pop(str(event.get("call_id")), None)
            elif kind in ALERT_KINDS:
                return self._alert(event)
            elif kind == "alert_withdrawn":
                return self._withdrawn(event)
        except Exception:
            logger.exception("alert handling failed for %s", event.get("type"))
        return event

    # rules

    def refusal(self, event: dict[str, Any]) -> str | None:
        """Why the rules hold this alert back, or ``None`` when it alerts."""
        kind, data = event["type"], event.get("data") or {}
        s = self.settings
        if kind not in s.kinds:
            return "kind off (alerts.kinds)"
        if SEVERITIES.index(self.severity(event)) < SEVERITIES.index(s.min_severity):
            return f"below {s.min_severity} (alerts.min_severity)"
        for key, minimum in s.thresholds.items():
            want, _, name = key.partition(".")
            value = data.get(name)
            if want == kind and isinstance(value, int | float) and value < minimum:
                return f"{name} {value} below {minimum:g} (alerts.thresholds)"
        if kind in s.hold_kinds and self._in_hold(str(event.get("call_id")), event.get("t")):
            return "hold"
        return None

    @staticmethod
    def severity(event: dict[str, Any]) -> str:
        said = (event.get("data") or {}).get("severity")
        return said if said in SEVERITIES else DEFAULT_SEVERITY.get(event["type"], "minor")

    def announces_hold(self, text: str) -> bool:
        return any(p.search(text) for p in self._patterns)

    # holds

    def _in_hold(self, call_id: str, t: Any) -> bool:
        if not isinstance(t, int | float):
            return False
        with self._lock:
            return any(h.start <= t <= h.end for h in self._holds.get(call_id, ()))

    def _heard(self, event: dict[str, Any]) -> None:
        data = event.get("data") or {}
        if data.get("role") == "customer" or self.settings.hold_max_s <= 0:
            return
        call_id = str(event.get("call_id"))
        start, end = float(data.get("start", 0.0)), float(data.get("end", 0.0))
        announced = self.announces_hold(str(data.get("text") or ""))
        with self._lock:
            holds = self._holds.setdefault(call_id, [])
            for h in holds:
                if h.open and start > h.announced_end + RESUMED_AFTER_S:
                    h.end, h.open = min(h.end, start), False
            if announced:
                hold = _Hold(start, end, end + self.settings.hold_max_s)
                holds.append(hold)
        if announced:
            quieted = self.store.quiet_alerts(
                call_id, self.settings.hold_kinds, hold.start, hold.end, "hold"
            )
            if quieted:
                logger.info(
                    "alerts %s of call %s are quiet: a hold was announced", quieted, call_id
                )

    # storing

    def _alert(self, event: dict[str, Any]) -> dict[str, Any]:
        reason = self.refusal(event)
        if reason is not None:
            return {**event, "alert_quiet": reason}
        emitted = event.get("emitted_at")
        at = datetime.fromtimestamp(emitted, UTC) if emitted else datetime.now(UTC)
        row = self.store.add_alert(
            call_id=str(event["call_id"]),
            agent_id=str(event.get("agent_id") or ""),
            kind=event["type"],
            severity=self.severity(event),
            t=float(event.get("t") or 0.0),
            at=at,
            data=event.get("data") or {},
            seq=event.get("seq"),
        )
        self._prune()
        return {**event, "alert_id": row.id}

    def _withdrawn(self, event: dict[str, Any]) -> dict[str, Any]:
        """An alert the live pipeline took back (told by sound, not held by the rule with its
        words: no interruption, or no louder turn): the stored alert is marked withdrawn with
        the reason; the event goes out with ``alert_ids``."""
        data = event.get("data") or {}
        t = data.get("agent_start", event.get("t"))
        if not isinstance(t, int | float):
            return {**event, "alert_ids": []}
        emitted = event.get("emitted_at")
        at = datetime.fromtimestamp(emitted, UTC) if emitted else datetime.now(UTC)
        withdrawal = {
            "reason": data.get("reason"),
            "quote": data.get("quote"),
            "agent_end": data.get("agent_end"),
            "at": at.isoformat(),
        }
        if data.get("reason_code"):  # a reason with figures, for pages in the reader's language
            withdrawal |= {"reason_code": data["reason_code"], "values": data.get("values") or {}}
        ids = self.store.withdraw_alerts(
            str(event.get("call_id")),
            str(data.get("alert") or "interruption"),
            float(t),
            withdrawal,
        )
        return {**event, "alert_ids": ids}

    def _prune(self) -> None:
        now = time.monotonic()
        if self._pruned_at and now - self._pruned_at < PRUNE_EVERY_S:
            return
        self._pruned_at = now
        before = datetime.now(UTC) - timedelta(hours=self.settings.keep_hours)
        gone = self.store.prune_alerts(before)
        if gone:
            logger.info(
                "deleted %d alerts older than %g h (alerts.keep_hours)",
                gone,
                self.settings.keep_hours,
            )


# --- routes --------------------------------------------------------------------------------------


def _store(request: Request) -> Store:
    return request.app.state.store


def _utc(t: datetime | None) -> str | None:
    return None if t is None else t.replace(tzinfo=UTC).isoformat()


def alert_dict(row: AlertRow, names: dict[str, str | None] | None = None) -> dict[str, Any]:
    """An alert as the API gives it (``type`` and ``data`` as in the live event)."""
    by = row.acknowledged_by
    data = dict(row.data or {})
    withdrawn = data.pop("withdrawn", None)
    return {
        "id": row.id,
        "call_id": row.call_id,
        "agent_id": row.agent_id,
        "type": row.kind,
        "severity": row.severity,
        "t": row.t,
        "seq": row.seq,
        "at": _utc(row.at),
        "data": data,
        "quiet": row.quiet,
        "withdrawn": withdrawn,
        "acknowledged_at": _utc(row.acknowledged_at),
        "acknowledged_by": by,
        "acknowledged_by_name": (names or {}).get(by) if by else None,
        "note": row.ack_note,
    }


def _names(store: Store, rows: list[AlertRow]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for key_id in {r.acknowledged_by for r in rows if r.acknowledged_by}:
        key = store.get_api_key(key_id)
        out[key_id] = key.name if key is not None else None
    return out


@router.get("/api/v1/alerts")
def list_alerts(
    request: Request,
    since: Annotated[
        datetime | None,
        Query(description="Alerts raised at or after (ISO 8601; default: alerts.keep_hours ago)."),
    ] = None,
    agent_id: Annotated[str | None, Query(max_length=128)] = None,
    call_id: Annotated[str | None, Query(max_length=128)] = None,
    acknowledged: Annotated[bool | None, Query()] = None,
    include_quiet: Annotated[
        bool, Query(description="Also alerts silenced after they were raised (a hold).")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=2000)] = 500,
    principal: Principal = Depends(authenticate),
) -> dict[str, Any]:
    """Stored alerts, newest first. Agent keys see only their own calls' alerts."""
    if principal.role == "agent":
        if agent_id is not None and agent_id != principal.agent_id:
            raise refuse(request, principal, "see another agent's alerts")
        agent_id = principal.agent_id
    settings = request.app.state.settings.alerts
    if since is None:
        since = datetime.now(UTC) - timedelta(hours=settings.keep_hours)
    store = _store(request)
    rows = store.alerts(
        since=since,
        agent_id=agent_id,
        call_id=call_id,
        acknowledged=acknowledged,
        include_quiet=include_quiet,
        limit=limit,
    )
    names = _names(store, rows)
    return {
        "items": [alert_dict(r, names) for r in rows],
        "total": len(rows),
        "since": since.isoformat(),
        "keep_hours": settings.keep_hours,
    }


class AckRequest(BaseModel):
    note: str | None = Field(None, max_length=500, description="What was done about it.")


@router.post("/api/v1/alerts/{alert_id}/ack", responses={404: {}, 409: {}})
def acknowledge_alert(
    request: Request,
    alert_id: Annotated[int, PathParam(ge=1)],
    body: Annotated[AckRequest | None, Body()] = None,
    principal: Principal = Depends(require_roles(*ACK_ROLES)),
) -> dict[str, Any]:
    """Acknowledge an alert: who and when are kept with it and in the audit log."""
    store = _store(request)
    note = body.note.strip() if body and body.note and body.note.strip() else None
    try:
        row = store.acknowledge_alert(alert_id, principal.key_id, note)
    except KeyError as e:
        raise HTTPException(404, f"no alert with id {alert_id}") from e
    except ValueError as e:
        raise HTTPException(409, str(e)) from e
    detail = f"{row.kind} at {row.t:.1f} s of call {row.call_id} (agent {row.agent_id})"
    store.audit(
        "alert.ack",
        "ok",
        key_id=principal.key_id,
        role=principal.role,
        target=f"alert:{row.id}",
        detail=detail + (f": {note}" if note else ""),
    )
    return alert_dict(row, _names(store, [row]))
