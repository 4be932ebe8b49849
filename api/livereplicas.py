"""Live calls held by other API replicas, as their events and heartbeats tell them.

A live call stays on the replica that holds its socket; the others learn of it from the bus
(``calmline.api.livebus``): its events (``call_started``, ``transcript``, ``metrics``, the
alerts, ``call_ended``) and that replica's heartbeats, which carry the summary of every call it
holds (so a replica that starts late lists the calls in progress, and a call's duration stays
current between its utterances). The hub (``calmline.api.live``) lists and shows these calls
beside its own, under the same agent scoping.

A call that no event or heartbeat has mentioned for ``live.replica_timeout_s`` is dropped: its
replica stopped (a crash: no ``call_ended`` will come), or its ``call_ended`` was missed while
this replica's bus connection was down. Feeds then get a ``call_ended`` with ``lost: true``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger("calmline.api.live")

TRANSCRIPT_KEPT = 200
"""Utterances of another replica's call kept for a late subscriber's snapshot (as many as a
local call's snapshot gives)."""
NOT_ALERTS = ("call_started", "transcript", "metrics", "call_ended")


@dataclass(eq=False)
class RemoteCall:
    """A call live on another replica. Its dicts are replaced, never changed in place: the
    listing routes read them from worker threads while the loop updates them."""

    summary: dict[str, Any]
    """What ``LiveHub.call_summary`` gives for a local call."""
    replica: str
    transcript: list[dict[str, Any]] = field(default_factory=list)
    seen: float = field(default_factory=time.monotonic)
    """When an event or a heartbeat last mentioned it (monotonic s)."""

    @property
    def agent_id(self) -> str | None:
        return self.summary.get("agent_id")


class RemoteCalls:
    """Other replicas' calls by id. Used from the event loop only (reads from threads are safe:
    they copy a dict or a list, which the loop replaces whole)."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._calls: dict[str, RemoteCall] = {}
        self._ended: dict[str, float] = {}
        """Calls that ended lately (monotonic s): a heartbeat made while one was ending and
        received after its ``call_ended`` must not bring it back."""

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._calls

    def calls(self) -> list[RemoteCall]:
        return list(self._calls.values())

    def agent_of(self, call_id: str) -> str | None:
        rc = self._calls.get(call_id)
        return rc.agent_id if rc is not None else None

    def detail(self, call_id: str) -> dict[str, Any] | None:
        rc = self._calls.get(call_id)
        return None if rc is None else {**rc.summary, "transcript": list(rc.transcript)}

    def event(self, event: dict[str, Any], replica: str) -> None:
        """One event of a call on ``replica``."""
        call_id, kind = event.get("call_id"), event.get("type")
        if not isinstance(call_id, str):
            return
        if kind == "call_ended":
            self._calls.pop(call_id, None)
            self._ended[call_id] = time.monotonic()
            return
        if kind == "call_started":
            self._ended.pop(call_id, None)
        rc = self._calls.get(call_id)
        if rc is None:
            rc = self._calls[call_id] = RemoteCall(_blank(call_id, event), replica)
        rc.seen, rc.replica = time.monotonic(), replica
        data = event.get("data") or {}
        s = rc.summary
        if kind == "call_started":
            started = data.get("started_at")
            rc.summary = {
                **s,
                "source": data.get("source"),
                "started_at": (
                    datetime.fromtimestamp(started, UTC).isoformat()
                    if isinstance(started, int | float)
                    else s["started_at"]
                ),
                "language": data.get("language"),
                "tracks": dict(data.get("tracks") or {}),
            }
        elif kind == "metrics":
            metrics = {k: v for k, v in data.items() if k != "utterance_end"}
            rc.summary = {
                **s,
                "metrics": metrics,
                "duration_s": metrics.get("duration", s["duration_s"]),
                "alerts": dict(metrics.get("alerts") or {}),
                "language": metrics.get("language", s["language"]),
            }
        elif kind == "transcript":
            if data.get("text"):
                line = {k: v for k, v in data.items() if k != "utterance_end"}
                rc.transcript = [*rc.transcript[-(TRANSCRIPT_KEPT - 1) :], line]
        elif kind not in NOT_ALERTS:  # counted as the session counts them
            alerts = {**s["alerts"], kind: s["alerts"].get(kind, 0) + 1}
            rc.summary = {**s, "alerts": alerts, "metrics": {**s["metrics"], "alerts": alerts}}

    def heartbeat(self, replica: str, calls: Any, local: Container[str]) -> None:
        """``replica``'s heartbeat: the summaries of the calls it holds now."""
        now = time.monotonic()
        for summary in calls if isinstance(calls, list) else ():
            call_id = summary.get("call_id") if isinstance(summary, dict) else None
            if not isinstance(call_id, str) or call_id in local or call_id in self._ended:
                continue
            rc = self._calls.get(call_id)
            if rc is None:
                self._calls[call_id] = RemoteCall(dict(summary), replica, seen=now)
            else:
                rc.summary, rc.seen, rc.replica = {**rc.summary, **summary}, now, replica

    def expire(self) -> list[dict[str, Any]]:
        """Drop the calls nothing has mentioned for ``timeout_s``; the ``call_ended`` events
        (``lost: true``) that tell the feeds."""
        now = time.monotonic()
        for call_id, ended in list(self._ended.items()):
            if now - ended > 2 * self.timeout_s:
                del self._ended[call_id]
        out = []
        for call_id, rc in list(self._calls.items()):
            if now - rc.seen <= self.timeout_s:
                continue
            del self._calls[call_id]
            logger.warning(
                "live call %s of replica %s: nothing heard for %.0f s, dropped",
                call_id,
                rc.replica,
                now - rc.seen,
            )
            duration = rc.summary.get("duration_s") or 0.0
            out.append(
                {
                    "type": "call_ended",
                    "call_id": call_id,
                    "agent_id": rc.agent_id,
                    "t": duration,
                    "emitted_at": round(time.time(), 3),
                    "data": {
                        "duration": duration,
                        "incomplete": True,
                        "lost": True,
                        "detail": f"replica {rc.replica} stopped answering",
                        "alerts": dict(rc.summary.get("alerts") or {}),
                    },
                }
            )
        return out


def _blank(call_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """A call's summary before its start or a heartbeat has told more."""
    return {
        "call_id": call_id,
        "agent_id": event.get("agent_id"),
        "source": None,
        "started_at": None,
        "duration_s": 0.0,
        "language": None,
        "tracks": {},
        "metrics": {},
        "alerts": {},
        "ending": False,
    }
