"""The live hub: the server's live calls (opened, listed, finished and stored) and the fan-out
of their events to feed subscribers and, through the bus, to the other replicas."""

from __future__ import annotations

import asyncio
import threading
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from anyio import to_thread
from fastapi import FastAPI, HTTPException

from calmline.api.alerts import AlertKeeper
from calmline.api.auth import Principal
from calmline.api.live.base import HEARTBEAT, LiveCall, ProtocolError, Subscriber, logger
from calmline.api.livebus import open_bus
from calmline.api.livereplicas import RemoteCalls
from calmline.monitor.store import Store
from calmline.pipelines.jobs import analyze_params
from calmline.pipelines.live import CallMeta, LiveEvent, StreamingOptions, StreamingPipeline


class LiveHub:
    """The server's live calls and feed subscribers.

    Sessions emit events from their own threads; the hub hands them to the event loop, which
    fans them out to subscriber queues, and to the bus (``calmline.api.livebus``), which takes
    them to the other replicas. Their events come back from the bus into the same fan-out, and
    the hub keeps those calls' state from them (``calmline.api.livereplicas``), so every
    replica lists and shows every call; a call's audio and session stay on the replica that
    holds its socket.
    """

    def __init__(self, app: FastAPI, loop: asyncio.AbstractEventLoop) -> None:
        self.app = app
        self.loop = loop
        self.store: Store = app.state.store
        live = app.state.settings.live
        self.max_calls = live.max_calls
        self.pipeline = StreamingPipeline(
            app.state.settings,
            batch=app.state.pipeline,
            options=StreamingOptions(
                reorder_window_s=live.reorder_window_s,
                max_utterance_s=live.max_utterance_s,
                acoustic_alerts=live.acoustic_alerts,
            ),
        )
        self.calls: dict[str, LiveCall] = {}
        self.subscribers: set[Subscriber] = set()
        self._lock = asyncio.Lock()
        self.alerts = AlertKeeper(self.store, app.state.settings.alerts)
        self.bus = open_bus(live.bus, app.state.settings.storage.resolved_database_url())
        self.remote = RemoteCalls(live.replica_timeout_s)
        """Calls live on other replicas."""
        self._publishing = threading.Lock()
        self.heartbeat_s = live.heartbeat_s

    # events

    def publish(self, event: LiveEvent, source: str | None = None) -> None:
        """Thread-safe: called by sessions from any thread. Alerts are stored (and marked with
        their ``alert_id``) before any subscriber sees them (``calmline.api.alerts``); the
        replica that holds the call stores them, the others get them marked.
        ``call_started`` gains the call's ``source`` (what other replicas list)."""
        data = event.to_dict()
        if data["type"] == "call_started" and source is not None:
            data["data"] = {**data["data"], "source": source}
        data = self.alerts.handle(data)
        with self._publishing:  # this replica's feeds and the others' get one order
            with suppress(RuntimeError):  # a closed loop: the server is going down
                self.loop.call_soon_threadsafe(self._fan_out, data)
            self.bus.publish(data)

    def receive(self, event: dict[str, Any], replica: str) -> None:
        """Thread-safe: called by the bus with another replica's event."""
        with suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self._remote_event, event, replica)

    def _remote_event(self, event: dict[str, Any], replica: str) -> None:
        if event.get("type") == HEARTBEAT:
            self.remote.heartbeat(replica, event.get("calls"), self.calls)
            return
        if event.get("call_id") not in self.calls:
            self.remote.event(event, replica)
        self._fan_out(event)

    async def beat(self) -> None:
        """Every ``live.heartbeat_s``: tell the other replicas which calls this one holds (a
        replica that started late learns them so), and drop their calls gone quiet."""
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                if self.bus.remote:
                    calls = list(self.calls.values())
                    summaries = await to_thread.run_sync(
                        lambda calls=calls: [self.call_summary(c) for c in calls]
                    )
                    self.bus.publish({"type": HEARTBEAT, "calls": summaries})
                for lost in self.remote.expire():
                    self._fan_out(lost)
            except Exception:
                logger.exception("live heartbeat failed")

    def _fan_out(self, data: dict[str, Any]) -> None:
        for sub in list(self.subscribers):
            if sub.wants(data):
                sub.put(data)

    def subscribe(
        self, principal: Principal, call_id: str | None, types: frozenset[str] | None
    ) -> Subscriber:
        sub = Subscriber(principal, call_id, types)
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)
        sub.close()

    def snapshot(self, principal: Principal, call_id: str | None) -> dict[str, Any]:
        if call_id is not None:
            agent_id = self.agent_of(call_id)
            visible = agent_id is not None and principal.can_see_agent(agent_id)
            return {
                "type": "snapshot",
                "call_id": call_id,
                "call": self.detail(call_id) if visible else None,
            }
        return {"type": "snapshot", "calls": self.list_calls(principal)}

    def list_calls(self, principal: Principal) -> list[dict[str, Any]]:
        """Every replica's calls that ``principal`` may see."""
        local = [
            self.call_summary(c)
            for c in list(self.calls.values())
            if principal.can_see_agent(c.session.agent_id)
        ]
        remote = [
            dict(rc.summary)
            for rc in self.remote.calls()
            if rc.agent_id is not None and principal.can_see_agent(rc.agent_id)
        ]
        return local + remote

    def agent_of(self, call_id: str) -> str | None:
        """The agent of a call live on any replica, ``None`` when it is not live."""
        call = self.calls.get(call_id)
        return call.session.agent_id if call is not None else self.remote.agent_of(call_id)

    def detail(self, call_id: str) -> dict[str, Any] | None:
        """A call live on any replica with its transcript so far, ``None`` when it is not."""
        call = self.calls.get(call_id)
        return self.call_detail(call) if call is not None else self.remote.detail(call_id)

    def call_summary(self, call: LiveCall) -> dict[str, Any]:
        s = call.session
        metrics = s.metrics()
        return {
            "call_id": s.call_id,
            "agent_id": s.agent_id,
            "source": call.source,
            "started_at": call.started_at.isoformat(),
            "duration_s": metrics["duration"],
            "language": s.language,
            "tracks": dict(s.meta.tracks),
            "metrics": metrics,
            "alerts": metrics["alerts"],
            "ending": call.finishing,
            "replica": self.bus.replica_id,
        }

    def call_detail(self, call: LiveCall) -> dict[str, Any]:
        return {**self.call_summary(call), "transcript": call.session.snapshot()["transcript"]}

    # calls

    async def open(
        self, meta: CallMeta, source: str, principal: Principal, started_at: datetime | None
    ) -> LiveCall:
        async with self._lock:
            live_here_or_there = meta.call_id in self.calls or meta.call_id in self.remote
            if live_here_or_there or await to_thread.run_sync(self.store.call_exists, meta.call_id):
                raise ProtocolError(f"call {meta.call_id!r} exists already; send another call_id")
            if self.max_calls and len(self.calls) >= self.max_calls:
                logger.warning(
                    "live call %s refused: %d calls in progress", meta.call_id, self.max_calls
                )
                raise ProtocolError(
                    f"{len(self.calls)} live calls are in progress, the most this server follows "
                    "(live.max_calls); try again later",
                    fatal=True,
                    code=1013,
                )
            session = await to_thread.run_sync(
                lambda: self.pipeline.open_session(
                    meta, on_event=partial(self.publish, source=source)
                )
            )
            call = LiveCall(
                session=session,
                source=source,
                key_id=principal.key_id,
                started_at=started_at or datetime.now(UTC),
                metadata=dict(meta.metadata),
            )
            self.calls[meta.call_id] = call
        logger.info("live call %s started (%s, agent %s)", meta.call_id, source, meta.agent_id)
        return call

    async def finish(
        self, call: LiveCall, incomplete: bool, reason: str | None = None
    ) -> dict[str, Any] | None:
        """Close the session, store its audio and report, announce the end. Never raises."""
        if call.finishing:
            await call.finished.wait()
            return None
        call.finishing = True
        call_id = call.session.call_id
        try:
            result = await to_thread.run_sync(self._finish_sync, call, incomplete, reason)
        except Exception as e:
            logger.exception("live call %s could not be finished", call_id)
            result = {"call_id": call_id, "stored": False, "detail": str(e)}
        finally:
            self.calls.pop(call_id, None)
            call.finished.set()
        return result

    def _finish_sync(self, call: LiveCall, incomplete: bool, reason: str | None) -> dict[str, Any]:
        session = call.session
        call_id = session.call_id
        report = session.close(incomplete=incomplete, reason=reason, announce=False)
        audio = session.audio()
        # through the audio store, as an upload: a worker on another machine reads it there
        audio_store = self.app.state.audio_store
        uri = audio_store.put_wav(
            call_id,
            "live.wav",
            audio.samples,
            audio.sample_rate,
            spool_dir=self.store.audio_dir / ".incoming",
        )
        report = replace(report, audio=replace(report.audio, path=uri))
        metadata = {
            **call.metadata,
            "live": {
                "source": call.source,
                "tracks": dict(session.meta.tracks),
                "sample_rate": session.meta.sample_rate,
                "encoding": session.meta.encoding,
                "key_id": call.key_id,
            },
        }
        language = session.meta.language
        try:
            self.store.create_call(
                call_id,
                session.agent_id,
                "live",
                started_at=call.started_at,
                metadata=metadata,
                audio_path=uri,
                audio_name="live.wav",
                language=language if language not in (None, "auto") else None,
                status="running",
            )
        except Exception:
            audio_store.delete(uri)  # no call row took it
            raise
        self.store.save_report(call_id, report, incomplete=report.incomplete)
        jobs = getattr(self.app.state, "jobs", None)
        post_call = self.app.state.settings.live.post_call_batch and jobs is not None
        request = session.post_call_request() if post_call and jobs.workers else None
        post_job = None
        if request is not None:
            # the whole recording through the batch pipeline; its report replaces this one
            post_job = self.store.add_job(call_id, "analyze", analyze_params(request))
            jobs.notify()
        elif jobs is not None:
            # metrics, webhooks: as for an upload
            jobs.announce(call_id, session.agent_id, report, key=f"live:{call_id}")
        report_url = f"/api/v1/calls/{call_id}/report"
        session.announce_end({"report_url": report_url, "post_call_job": post_job})
        sc = report.scorecard
        logger.info(
            "live call %s ended after %.1f s%s",
            call_id,
            audio.duration,
            " (incomplete)" if incomplete else "",
        )
        return {
            "call_id": call_id,
            "stored": True,
            "report_url": report_url,
            "post_call_job": post_job,
            "duration": report.metrics.duration,
            "incomplete": report.incomplete,
            "overall": sc.overall if sc else None,
        }

    async def shutdown(self) -> None:
        """Server stopping: every open call is ended as incomplete and stored."""
        for call in list(self.calls.values()):
            await self.finish(call, incomplete=True, reason="the server shut down")
        await to_thread.run_sync(self.pipeline.close)


def hub_of(app: Any) -> LiveHub:
    hub = getattr(app.state, "live", None)
    if hub is None:
        raise HTTPException(503, "live calls are not available (server starting or stopping)")
    return hub
