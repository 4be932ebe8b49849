"""The live layer's shared pieces: its router, limits and roles, the protocol error, and the
records of a live call and of a feed subscriber."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import APIRouter

from calmline.api.auth import Principal
from calmline.pipelines.live import StreamingSession

logger = logging.getLogger("calmline.api.live")

router = APIRouter(prefix="/api/v1/live", tags=["live"])

INGEST_ROLES = ("admin", "supervisor")
"""Roles that may stream calls in."""
FEED_ROLES = ("admin", "qa_lead", "supervisor", "agent")
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")
MAX_ERRORS = 50
"""Malformed messages tolerated on one stream before it is closed (policy violation)."""
SUBSCRIBER_QUEUE = 2000
"""Events held for a slow subscriber; beyond it the oldest are dropped (it is told how many)."""
KEEPALIVE_S = 15.0
HEARTBEAT = "replica"
"""Type of a replica's heartbeat on the bus (the calls it holds); never sent to subscribers."""


class ProtocolError(Exception):
    """A malformed message: told to the client, the stream goes on unless ``fatal``."""

    def __init__(self, detail: str, fatal: bool = False, code: int = 1008) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fatal = fatal
        self.code = code  # the close code when fatal


@dataclass(eq=False)
class Subscriber:
    principal: Principal
    call_id: str | None
    types: frozenset[str] | None
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(SUBSCRIBER_QUEUE))
    dropped: int = 0

    def wants(self, event: dict[str, Any]) -> bool:
        if self.call_id is not None and event.get("call_id") != self.call_id:
            return False
        if self.types is not None and event.get("type") not in self.types:
            return False
        return self.principal.can_see_agent(event.get("agent_id"))

    _getter: asyncio.Task | None = None

    def put(self, event: dict[str, Any]) -> None:
        if self.queue.full():  # a slow reader loses its oldest events, never stalls the rest
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)

    def pending(self) -> asyncio.Task:
        """The task that takes the next event. It outlives a wait that timed out (and any await
        after it), so an event it has taken is handed over by :meth:`take`, never lost."""
        if self._getter is None:
            self._getter = asyncio.ensure_future(self.queue.get())
        return self._getter

    def take(self) -> dict[str, Any] | None:
        """The event the pending task has taken, or None while it has none yet."""
        if self._getter is None or not self._getter.done():
            return None
        getter, self._getter = self._getter, None
        return getter.result()

    async def next(self, timeout: float) -> dict[str, Any] | None:
        """The next event, or None when none came within ``timeout`` seconds."""
        await asyncio.wait({self.pending()}, timeout=timeout)
        return self.take()

    def close(self) -> None:
        if self._getter is not None:
            self._getter.cancel()
            self._getter = None


@dataclass(eq=False)
class LiveCall:
    session: StreamingSession
    source: str
    """``raw`` or ``twilio``."""
    key_id: str
    started_at: datetime
    metadata: dict[str, Any]
    finishing: bool = False
    finished: asyncio.Event = field(default_factory=asyncio.Event)
