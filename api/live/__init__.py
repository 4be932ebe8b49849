"""Live calls: WebSocket ingest (raw PCM / mu-law, and Twilio Media Streams) and the live feed.

Ingest (roles ``admin`` and ``supervisor``):

- ``WS /api/v1/live/ingest``: a JSON ``start`` message (call and agent ids, sample rate,
  ``pcm16`` or ``mulaw``, channel map), then binary frames of interleaved samples (or JSON
  ``media`` messages with a track, a timestamp and base64 samples), then ``stop``.
- ``WS /api/v1/live/twilio``: the Twilio Media Streams protocol (``connected``, ``start`` with
  ``tracks`` and ``customParameters``, ``media`` with base64 8 kHz mu-law and timestamps,
  ``stop``), so a ``<Stream>`` can point at Calmline as it is. Twilio cannot add headers to
  the stream URL, so the key may also come as the custom parameter ``key`` (inside the
  ``start`` message, not the URL); a socket that has sent no key within
  ``live.key_timeout_s`` is closed.

Keys come in headers (or the pages' session cookie), never in the URL. Every open ingest socket
and feed checks its key again every ``server.auth_recheck_s`` seconds and closes once the key
is revoked (an ingest call is then stored as incomplete, like a vanished client).

Malformed messages get an ``{"type": "error", "detail", "error_id"}`` frame and the stream goes
on; a stream that ends without ``stop`` (the client vanished) still yields a report of what was
received, marked incomplete. Every ended call is stored like an uploaded one (source ``live``):
a WAV of the received audio and its report.

Feed (every role; an agent key sees only its own calls): ``GET /api/v1/live/events`` (Server-Sent
Events) and ``WS /api/v1/live/feed``, for all live calls or one (``call_id``), optionally only
some event ``types``; ``GET /api/v1/live/calls`` lists the calls in progress and
``GET /api/v1/live/calls/{call_id}`` gives one with its transcript so far. Event types and
payloads: ``docs/live.md``.

Modules: ``base`` (router, limits, the call and subscriber records), ``hub`` (the live calls
and the fan-out of their events), ``stream`` (one ingest socket's receive loop), ``ingest``
(the raw and Twilio protocols), ``feed`` (the calls in progress, SSE and WebSocket feeds).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI

from calmline.api.live.base import (
    FEED_ROLES,
    HEARTBEAT,
    ID_RE,
    INGEST_ROLES,
    KEEPALIVE_S,
    MAX_ERRORS,
    SUBSCRIBER_QUEUE,
    LiveCall,
    Subscriber,
    router,
)
from calmline.api.live.feed import live_call, live_calls, live_events, live_feed
from calmline.api.live.hub import LiveHub
from calmline.api.live.ingest import RawStart, ingest, twilio

__all__ = [
    "FEED_ROLES",
    "HEARTBEAT",
    "ID_RE",
    "INGEST_ROLES",
    "KEEPALIVE_S",
    "MAX_ERRORS",
    "SUBSCRIBER_QUEUE",
    "LiveCall",
    "LiveHub",
    "RawStart",
    "Subscriber",
    "ingest",
    "live_call",
    "live_calls",
    "live_events",
    "live_feed",
    "mount",
    "router",
    "twilio",
]


def mount(app: FastAPI) -> None:
    """Called by ``create_app``: the hub lives inside the app's lifespan (it needs the store
    and the models, and must end open calls before the store closes)."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[Any]:
        async with inner(a) as state:
            hub = LiveHub(a, asyncio.get_running_loop())
            await to_thread.run_sync(hub.bus.start, hub.receive)
            beat = asyncio.create_task(hub.beat())
            a.state.live = hub
            if getattr(a.state, "metrics", None) is not None:
                a.state.metrics.watch_live(hub.pipeline.stats)
            if a.state.settings.server.load_models:
                await to_thread.run_sync(hub.pipeline.warm_up)
            try:
                yield state
            finally:
                await hub.shutdown()  # the calls' ends go out on the bus before it closes
                beat.cancel()
                await to_thread.run_sync(hub.bus.close)

    app.router.lifespan_context = lifespan
