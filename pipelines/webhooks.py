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
log (the server), events are queued durably in its ``webhook_outbox`` table: a delivery survives
a restart of the server and is sent by whichever replica takes it first (under a lease, so one
at a time); an event is queued once per dedupe key, and the events of a job's report are queued
in the transaction that stores the report, so a retried job never sends them twice. Without a
store (tests, scripts) the queue is in memory. A 2xx answer delivers;
a connection error, a timeout, 429 or 5xx is retried after ``backoff_s × 2^(attempt − 1)``
seconds (or the server's ``Retry-After`` when it asks for longer, up to 5 minutes) until
``max_attempts``; any other answer (3xx and 4xx) is a permanent failure. Every attempt is
written to the :class:`DeliveryLog`. Redirects are not followed: a signed event goes only to
the configured URL.

Where events may go: only ``http`` and ``https`` URLs, and only to public addresses. A host
that is, or resolves to, a loopback, private, link-local (169.254.0.0/16, fe80::/10), shared,
unspecified, multicast or reserved address is refused unless ``webhooks.allow_hosts`` names it.
The host name is resolved again before every attempt, every address it gives is checked, and
the request goes to the address that was checked (a name that changes its answer between the
check and the connection, DNS rebinding, gets nowhere). A refused attempt is a permanent
failure in the delivery log.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import ipaddress
import itertools
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

import httpx

from calmline import __version__
from calmline.monitor.leases import owner_id
from calmline.monitor.scoring import format_time
from calmline.monitor.settings import WebhookSettings
from calmline.monitor.store import OutboxEvent
from calmline.monitor.types import CallReport, Severity

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


@runtime_checkable
class WebhookOutbox(Protocol):
    """A durable queue of deliveries shared by every replica (the Store implements it)."""

    def enqueue_webhooks(self, events: Sequence[OutboxEvent]) -> list[str]: ...

    def claim_webhook(self, owner: str, lease_s: float) -> Any: ...

    def settle_webhook(
        self,
        delivery_id: str,
        owner: str,
        *,
        delivered: bool,
        error: str | None = None,
        retry_in_s: float | None = None,
    ) -> bool: ...

    def webhook_wait_s(self) -> float | None: ...

    def count_webhooks(self) -> dict[str, int]: ...


class WebhookRefused(ValueError):
    """A webhook URL that may not be used (scheme, or an internal address not allowed)."""


def _address_problem(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address is refused as a webhook target, or ``None`` for a public one."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for name, flag in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return name
    return None if ip.is_global else "not public"


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """Where an attempt connects: the URL with the checked address in place of the host name,
    the ``Host`` header and TLS server name of the original host."""

    url: str
    host_header: str
    server_name: str
    pinned: bool


def webhook_target(
    url: str, allow_hosts: list[str] | tuple[str, ...] = (), resolve=socket.getaddrinfo
) -> WebhookTarget:
    """Check ``url`` and resolve its host; the target to connect to.

    Raises:
        WebhookRefused: not http(s), or the host is (or resolves to) an internal address that
            ``allow_hosts`` does not name.
        OSError: the host name does not resolve (a transient failure: retried).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused(f"{url!r} is not an http(s) URL with a host")
    host = parts.hostname.lower().rstrip(".")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    netloc_host = parts.netloc.rsplit("@", 1)[-1]
    allowed = {h.lower().strip("[]").rstrip(".") for h in allow_hosts}
    if host in allowed:
        return WebhookTarget(url, netloc_host, host, pinned=False)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        if not addresses:
            raise OSError(f"{host} has no address")
    for ip in addresses:
        problem = _address_problem(ip)
        if problem is not None:
            via = "" if literal is not None else f" (resolved from {host})"
            raise WebhookRefused(
                f"{ip} is a {problem} address{via}; webhooks go to public addresses only, "
                f"unless webhooks.allow_hosts names {host!r}"
            )
    ip = addresses[0]
    ip_host = f"[{ip}]" if ip.version == 6 else str(ip)
    pinned = urlunsplit((parts.scheme, f"{ip_host}:{port}", parts.path or "/", parts.query, ""))
    return WebhookTarget(pinned, netloc_host, host, pinned=True)


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


@dataclass(slots=True, order=True)
class _Delivery:
    due: float
    seq: int
    delivery_id: str = field(compare=False)
    event_id: str = field(compare=False)
    event_type: str = field(compare=False)
    body: bytes = field(compare=False)
    attempt: int = field(default=0, compare=False)
    """Tries made so far."""


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
        self.outbox = outbox if outbox is not None else (
            log if isinstance(log, WebhookOutbox) else None
        )  # fmt: skip
        self.poll_s = poll_s
        self.owner = owner_id(f"webhooks-{uuid.uuid4().hex[:4]}")
        self.lease_s = max(30.0, 3 * settings.timeout_s)
        """How long one attempt holds a durable delivery (longer than any attempt takes)."""
        self._transport = transport
        self._heap: list[_Delivery] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._closing = False
        self._deadline: float | None = None
        self._inflight = 0
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.settings.url)

    @property
    def durable(self) -> bool:
        """Whether deliveries are queued in the store (survive a restart)."""
        return self.outbox is not None

    def __enter__(self) -> WebhookSender:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the delivery thread (once; later calls do nothing)."""
        with self._cond:
            if self._thread is not None or not self.enabled:
                return
            if self._closing:
                raise RuntimeError("webhook sender is closed")
            target = self._run_durable if self.durable else self._run
            self._thread = threading.Thread(target=target, name="calmline-webhooks", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Look for due deliveries now (events were queued in the store)."""
        with self._cond:
            self._cond.notify_all()

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
        event = self._event(event_type, payload, key)
        if self.outbox is not None:
            (delivery_id,) = self.outbox.enqueue_webhooks([event])
            self.wake()
            return delivery_id
        with self._cond:
            if self._closing:
                logger.warning(
                    "webhooks: sender closed, %s event %s dropped", event_type, event.event_id
                )
                return None
            heapq.heappush(
                self._heap,
                _Delivery(time.monotonic(), next(self._seq), event.delivery_id, event.event_id,
                          event_type, event.body.encode("utf-8")),
            )  # fmt: skip
            self._cond.notify_all()
        return event.delivery_id

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
        if self.outbox is not None:
            return self.outbox.count_webhooks()["pending"]
        with self._cond:
            return len(self._heap) + self._inflight

    def close(self, timeout: float = 10.0) -> bool:
        """Stop taking events, deliver what is due within ``timeout`` seconds, give up on the
        rest (each abandoned delivery gets a last log entry; a durable queue keeps it for the
        next start or another replica). Returns True when nothing was left undelivered."""
        with self._cond:
            self._closing = True
            self._deadline = time.monotonic() + max(0.0, timeout)
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(max(0.0, timeout) + self.settings.timeout_s + 1.0)
        if self.outbox is not None:
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
        with self._cond:
            left = list(self._heap)
            self._heap.clear()
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
            while True:
                with self._cond:
                    delivery = self._next_due()
                    if delivery is None:
                        return
                    self._inflight += 1
                retry_at = None
                try:
                    _, delay = self._attempt(client, delivery)
                    if delay is not None:
                        retry_at = time.monotonic() + delay
                finally:
                    with self._cond:
                        self._inflight -= 1
                        if retry_at is not None:
                            delivery.due = retry_at
                            heapq.heappush(self._heap, delivery)
                        self._cond.notify_all()

    def _run_durable(self) -> None:
        """Claim due deliveries from the store, one at a time, until closed (then until none
        is due or the deadline passes)."""
        with self._client() as client:
            while True:
                with self._cond:
                    if self._closing and (
                        self._deadline is None or time.monotonic() >= self._deadline
                    ):
                        return
                try:
                    row = self.outbox.claim_webhook(self.owner, self.lease_s)
                    wait = None if row is not None else self.outbox.webhook_wait_s()
                except Exception:  # the database is out of reach: try again later
                    logger.exception("webhooks: could not read the outbox")
                    row, wait = None, self.poll_s
                if row is None:
                    with self._cond:
                        if self._closing:
                            return  # nothing due now: the rest stays queued
                        self._cond.wait(self.poll_s if wait is None else min(wait, self.poll_s))
                    continue
                d = _Delivery(
                    0.0, 0, row.id, row.event_id, row.event_type, row.body.encode("utf-8"),
                    attempt=row.attempts - 1,
                )  # fmt: skip
                error, delay = self._attempt(client, d)
                try:
                    kept = self.outbox.settle_webhook(
                        row.id, self.owner, delivered=error is None, error=error, retry_in_s=delay
                    )
                except Exception:  # its lease runs out; another try comes then
                    logger.exception("webhooks: could not record delivery %s", row.id)
                    continue
                if not kept:
                    logger.warning("webhooks: delivery %s was taken over meanwhile", row.id)

    def _next_due(self) -> _Delivery | None:
        """Wait (holding the condition) for the next due delivery; None = stop."""
        while True:
            now = time.monotonic()
            if self._closing:
                if not self._heap or self._deadline is None or now >= self._deadline:
                    return None
                if self._heap[0].due > self._deadline:
                    return None  # the next retry comes after the deadline: give up on it
            if self._heap and self._heap[0].due <= now:
                return heapq.heappop(self._heap)
            wait = self._heap[0].due - now if self._heap else None
            if self._closing and self._deadline is not None:
                wait = min(wait if wait is not None else 1e9, self._deadline - now)
            self._cond.wait(wait)

    def _attempt(self, client: httpx.Client, d: _Delivery) -> tuple[str | None, float | None]:
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
        self, d: _Delivery, attempt: int, status: int | None, error: str | None, ms: float
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


# --------------------------------------------------------------------------------------------
# Events of a report
# --------------------------------------------------------------------------------------------


def events_for_report(
    call_id: str, agent_id: str | None, report: CallReport
) -> list[tuple[str, dict[str, Any]]]:
    """The events a scored report raises: one ``call.scored`` and one ``finding.critical`` per
    critical finding. An unscored report raises none.

    Quotes and evidence come from the report as it is: redacted when ``privacy.redact`` is on
    (the pipeline redacts before anything is stored or sent).
    """
    card = report.scorecard
    if card is None:
        return []
    critical = [f for p in card.practices for f in p.findings if f.severity is Severity.CRITICAL]
    events: list[tuple[str, dict[str, Any]]] = [
        (
            "call.scored",
            {
                "call_id": call_id,
                "agent_id": agent_id,
                "language": report.language,
                "duration_s": report.metrics.duration,
                "overall": card.overall,
                "uncapped": card.uncapped,
                "critical": bool(card.capped_by or critical),
                "capped_by": list(card.capped_by),
                "practices": {p.practice: p.score for p in card.practices},
                "rubric": card.rubric,
                "rubric_version": card.rubric_version,
                "redactions": len(report.redactions),
            },
        )
    ]
    for f in sorted(critical, key=lambda f: (f.start, f.end)):
        events.append(
            (
                "finding.critical",
                {
                    "call_id": call_id,
                    "agent_id": agent_id,
                    "language": report.language,
                    "practice": f.practice,
                    "kind": f.kind,
                    "start": f.start,
                    "end": f.end,
                    "time": format_time(f.start),
                    "speaker": f.speaker,
                    "role": f.role.value,
                    "evidence": f.quote or f.detail,
                    "quote": f.quote,
                    "detail": f.detail,
                },
            )
        )
    return events
