"""Signed webhook events: a configured URL hears when a call is scored and when a critical
finding appears.

Each event is POSTed as JSON ``{"id", "type", "created_at", "data"}`` with these headers:

``X-Calmline-Event``
    the event type, ``call.scored`` or ``finding.critical``;
``X-Calmline-Delivery``
    the delivery's id, the same on every retry of it;
``X-Calmline-Timestamp``
    Unix time (integer seconds) of this attempt;
``X-Calmline-Signature``
    ``sha256=<hex>``: HMAC-SHA256 with the configured secret over ``f"{timestamp}.{body}"``,
    the timestamp header and the raw request body joined by a dot (omitted when no secret is
    set).

A receiver verifies by recomputing the HMAC over the timestamp header, ``"."`` and the raw body
bytes (before any JSON parsing), comparing in constant time, and refusing timestamps more than
a few minutes old (replays). :func:`verify_signature` does exactly that::

    ok = verify_signature(secret, request.headers["X-Calmline-Timestamp"], raw_body,
                          request.headers["X-Calmline-Signature"])

The body's ``id`` identifies the event: a receiver that answered too slowly may see the same
event again and should ignore repeats.

Delivery: a background thread sends queued events in order of due time. With the store as the
log (the server), events are queued durably in its ``webhook_outbox`` table
(:mod:`calmline.pipelines.outbox`: leases, dedupe keys, the delivery loop over the store): a
delivery survives a restart of the server and is sent by whichever replica takes it first;
the events of a job's report are queued in the transaction that stores the report, so a
retried job never sends them twice. Without a store (tests, scripts) the queue is in memory.
A 2xx answer delivers; a connection error, a timeout, 429 or 5xx is retried after
``backoff_s × 2^(attempt − 1)`` seconds (or the server's ``Retry-After`` when it asks for
longer, up to 5 minutes) until ``max_attempts``; any other answer (3xx and 4xx) is a permanent
failure. Every attempt is written to the :class:`DeliveryLog`. Redirects are not followed: a
signed event goes only to the configured URL.

Where events may go: only ``http`` and ``https`` URLs to public addresses, checked before
every attempt (:mod:`calmline.pipelines.webhook_targets`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Protocol

import httpx

from calmline import __version__
from calmline.monitor.leases import owner_id
from calmline.monitor.settings import WebhookSettings
from calmline.monitor.store import OutboxEvent
from calmline.monitor.types import CallReport
from calmline.pipelines.outbox import Delivery, MemoryQueue, StoreQueue, WebhookOutbox
from calmline.pipelines.webhook_events import events_for_report
from calmline.pipelines.webhook_targets import WebhookRefused, webhook_target

logger = logging.getLogger(__name__)

EVENT_TYPES = ("call.scored", "finding.critical")
SIGNATURE_TOLERANCE_S = 300
"""A receiver should refuse a timestamp older (or newer) than this (s)."""
MAX_RETRY_DELAY_S = 300.0
"""Longest wait before a retry, whatever the backoff or ``Retry-After`` says (s)."""


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    """One try at delivering one event (a row of the delivery log)."""

    delivery_id: str
    event_id: str
    event_type: str
    url: str
    attempt: int
    """1 for the first try."""
    status_code: int | None
    """The receiver's HTTP status; ``None`` when no answer came (connection error, timeout)."""
    error: str | None
    """Why the try failed (``HTTP 503``, ``ConnectError: …``), ``None`` when delivered."""
    delivered: bool
    at: datetime
    """When the try started (UTC)."""
    duration_ms: float


class DeliveryLog(Protocol):
    """Where attempts are recorded (the Store implements it)."""

    def record_webhook_attempt(self, delivery: WebhookAttempt) -> None: ...


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Calmline-Signature`` value: ``sha256=`` + hex HMAC-SHA256 of
    ``timestamp + "." + body`` keyed with ``secret``."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes | str,
    header: str,
    *,
    tolerance_s: float = SIGNATURE_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """Whether ``header`` (``X-Calmline-Signature``) signs ``body`` at ``timestamp``.

    Args:
        secret: the shared webhook secret.
        timestamp: the ``X-Calmline-Timestamp`` header.
        body: the raw request body, exactly as received.
        header: the ``X-Calmline-Signature`` header.
        tolerance_s: refuse timestamps further than this from ``now`` (replay protection);
            0 or less turns the check off.
        now: Unix time to compare with (default: the clock).
    """
    if isinstance(body, str):
        body = body.encode("utf-8")
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if tolerance_s > 0 and abs((time.time() if now is None else now) - sent) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, str(sent), body), header or "")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class WebhookSender:
    """Sends signed events to the configured URL from a background thread.

    ``start()`` once (the server's lifespan), ``send()`` from any thread, ``close()`` at
    shutdown. Also a context manager. Without a URL the sender is off: ``send`` returns
    ``None`` and nothing runs.

    Args:
        settings: URL, secret, events to send, attempts, timeout, backoff.
        log: records every attempt; ``None`` logs them to the Python logger only. When it is
            also a :class:`WebhookOutbox` (the Store), it is the durable queue too.
        transport: an httpx transport (tests, proxies); default a plain HTTP client.
        outbox: the durable queue (default: ``log`` when it is one; else in memory).
        poll_s: how often a durable sender looks for deliveries queued by another replica.
    """

    def __init__(
        self,
        settings: WebhookSettings,
        log: DeliveryLog | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        outbox: WebhookOutbox | None = None,
        poll_s: float = 1.0,
    ) -> None:
        self.settings = settings
        self.log = log
        if outbox is None and isinstance(log, WebhookOutbox):
            outbox = log
        self.queue: MemoryQueue | StoreQueue = MemoryQueue()
        if outbox is not None:
            # an attempt holds its delivery for longer than any attempt takes
            self.queue = StoreQueue(
                outbox,
                owner=owner_id(f"webhooks-{uuid.uuid4().hex[:4]}"),
                lease_s=max(30.0, 3 * settings.timeout_s),
                poll_s=poll_s,
            )
        self._transport = transport
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.settings.url)

    @property
    def durable(self) -> bool:
        """Whether deliveries are queued in the store (survive a restart)."""
        return self.queue.durable

    def __enter__(self) -> WebhookSender:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the delivery thread (once; later calls do nothing)."""
        with self._lock:
            if self._thread is not None or not self.enabled:
                return
            if self.queue.closing:
                raise RuntimeError("webhook sender is closed")
            self._thread = threading.Thread(target=self._run, name="calmline-webhooks", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Look for due deliveries now (events were queued in the store)."""
        self.queue.wake()

    def send(
        self, event_type: str, payload: Mapping[str, Any], *, key: str | None = None
    ) -> str | None:
        """Queue an event; returns its delivery id, or ``None`` when the sender is off or
        ``event_type`` is not among the configured events.

        ``key`` (durable queue only) makes the event idempotent: a second event with the same
        key is not queued, and the first one's delivery id is returned. An event sent after
        :meth:`close` is kept in a durable queue (the next server sends it); in memory it is
        dropped with a warning (a job finishing while the server shuts down must not fail for
        it) and ``None`` is returned.

        Raises:
            ValueError: an unknown event type.
            TypeError: the payload is not JSON serialisable.
        """
        if event_type not in EVENT_TYPES:
            raise ValueError(
                f"unknown webhook event type {event_type!r}; known: {', '.join(EVENT_TYPES)}"
            )
        if not self.enabled or event_type not in self.settings.events:
            return None
        return self.queue.put(self._event(event_type, payload, key))

    def outbox_events(
        self, call_id: str, agent_id: str | None, report: CallReport, *, key: str
    ) -> list[OutboxEvent]:
        """The configured events of a stored report, ready for the outbox, keyed by ``key``
        (the job id): queued in the report's own transaction
        (:meth:`Store.finish_with_report`), so they are queued once whatever retries."""
        if not self.enabled:
            return []
        return [
            self._event(event_type, payload, f"{key}:{i}:{event_type}", call_id=call_id)
            for i, (event_type, payload) in enumerate(events_for_report(call_id, agent_id, report))
            if event_type in self.settings.events
        ]

    def send_report(self, call_id: str, agent_id: str | None, report: CallReport) -> None:
        """Send the configured events of a stored report (the in-memory queue's way)."""
        for event_type, payload in events_for_report(call_id, agent_id, report):
            self.send(event_type, payload)

    def _event(
        self,
        event_type: str,
        payload: Mapping[str, Any],
        key: str | None,
        *,
        call_id: str | None = None,
    ) -> OutboxEvent:
        event_id = f"evt_{uuid.uuid4().hex}"
        body = json.dumps(
            {
                "id": event_id,
                "type": event_type,
                "created_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "data": dict(payload),
            },
            ensure_ascii=False,
            separators=(",", ":"),
            default=_json_default,
        )
        if call_id is None:
            call_id = payload.get("call_id") if isinstance(payload.get("call_id"), str) else None
        return OutboxEvent(
            delivery_id=f"dlv_{uuid.uuid4().hex}",
            dedupe_key=key or event_id,
            event_id=event_id,
            event_type=event_type,
            call_id=call_id,
            body=body,
        )

    def pending(self) -> int:
        """Events queued or being sent (in a durable queue: by any replica)."""
        return self.queue.pending()

    def close(self, timeout: float = 10.0) -> bool:
        """Stop taking events, deliver what is due within ``timeout`` seconds, give up on the
        rest (each abandoned delivery gets a last log entry; a durable queue keeps it for the
        next start or another replica). Returns True when nothing was left undelivered."""
        with self._lock:
            self.queue.close(timeout)
            thread = self._thread
        if thread is not None:
            thread.join(max(0.0, timeout) + self.settings.timeout_s + 1.0)
        if self.durable:
            if not self.enabled:
                return True
            try:
                left = self.pending()
            except Exception:
                logger.exception("webhooks: could not count pending deliveries")
                return False
            if left:
                logger.info("webhooks: %d delivery(ies) stay queued in the store", left)
            return not left
        left = self.queue.abandon()
        for d in left:
            self._record(d, d.attempt + 1, None, "abandoned: sender closed before delivery", 0.0)
        if left:
            logger.warning("webhooks: %d undelivered event(s) abandoned at shutdown", len(left))
        return not left

    # -- the delivery thread -------------------------------------------------------------------

    def _client(self) -> httpx.Client:
        return httpx.Client(
            timeout=self.settings.timeout_s,
            follow_redirects=False,
            transport=self._transport,
            headers={"User-Agent": f"Calmline/{__version__}"},
        )

    def _run(self) -> None:
        with self._client() as client:
            self.queue.run(client, self._attempt)

    def _attempt(self, client: httpx.Client, d: Delivery) -> tuple[str | None, float | None]:
        """One try; returns its error (``None``: delivered) and the delay before the next try
        (``None``: no other try)."""
        d.attempt += 1
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Calmline-Event": d.event_type,
            "X-Calmline-Delivery": d.delivery_id,
            "X-Calmline-Timestamp": timestamp,
        }
        if self.settings.secret:
            headers["X-Calmline-Signature"] = sign(self.settings.secret, timestamp, d.body)
        started = time.perf_counter()
        status: int | None = None
        retry_after: float | None = None
        try:
            target = webhook_target(self.settings.url or "", self.settings.allow_hosts)
            if target.pinned:
                headers["Host"] = target.host_header
            response = client.post(
                target.url,
                content=d.body,
                headers=headers,
                extensions={"sni_hostname": target.server_name} if target.pinned else None,
            )
            status = response.status_code
            response.close()
        except WebhookRefused as e:
            error, retryable = f"refused: {e}", False
        except (httpx.TransportError, OSError) as e:
            error = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
            retryable = True
        else:
            if 200 <= status < 300:
                error, retryable = None, False
            else:
                error = f"HTTP {status}"
                retryable = status == 429 or status >= 500
                retry_after = _retry_after(response.headers.get("Retry-After"))
        duration_ms = (time.perf_counter() - started) * 1000
        self._record(d, d.attempt, status, error, duration_ms)
        if error is None:
            return None, None
        if not retryable or d.attempt >= self.settings.max_attempts:
            logger.warning(
                "webhook %s (%s) failed after %d attempt(s): %s",
                d.delivery_id,
                d.event_type,
                d.attempt,
                error,
            )
            return error, None
        delay = self.settings.backoff_s * 2 ** (d.attempt - 1)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return error, min(delay, MAX_RETRY_DELAY_S)

    def _record(
        self, d: Delivery, attempt: int, status: int | None, error: str | None, ms: float
    ) -> None:
        entry = WebhookAttempt(
            delivery_id=d.delivery_id,
            event_id=d.event_id,
            event_type=d.event_type,
            url=self.settings.url or "",
            attempt=attempt,
            status_code=status,
            error=error,
            delivered=error is None,
            at=datetime.now(UTC),
            duration_ms=round(ms, 1),
        )
        logger.debug("webhook attempt %s", entry)
        if self.log is None:
            return
        try:
            self.log.record_webhook_attempt(entry)
        except Exception:  # a broken log must not stop deliveries
            logger.exception("webhooks: could not record attempt %s", entry)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header given in seconds (HTTP dates are ignored)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
