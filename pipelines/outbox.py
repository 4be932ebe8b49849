"""The queues a :class:`~calmline.pipelines.webhooks.WebhookSender` delivers from.

:class:`StoreQueue` is the durable outbox of the server: deliveries are rows of the store's
``webhook_outbox`` table (:class:`WebhookOutbox`, implemented by the Store). An event is queued
once per dedupe key (the events of a job's report are keyed by the job and queued in the
transaction that stores the report, so a retried job never queues them twice); a delivery is
taken by one sender at a time under a lease (owner and expiry; a sender that dies mid-attempt
loses it when the lease runs out, and another replica tries again), and each attempt's outcome
is settled in the store by the lease's owner only. Deliveries survive a restart of the server
and are sent by whichever replica takes them first.

:class:`MemoryQueue` keeps deliveries in this process's memory, in order of due time (tests and
scripts without a store); what is left at shutdown is abandoned.

Both run one delivery loop on the sender's thread (:meth:`run`), handing each due delivery to
the sender's ``attempt`` function, which returns the error (``None``: delivered) and the delay
before the next try (``None``: no other try).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import httpx

from calmline.monitor.store import OutboxEvent

logger = logging.getLogger(__name__)


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


@dataclass(slots=True, order=True)
class Delivery:
    """One event on its way, as the delivery loop hands it to an attempt."""

    due: float
    seq: int
    delivery_id: str = field(compare=False)
    event_id: str = field(compare=False)
    event_type: str = field(compare=False)
    body: bytes = field(compare=False)
    attempt: int = field(default=0, compare=False)
    """Tries made so far."""


Attempt = Callable[[httpx.Client, Delivery], tuple[str | None, float | None]]
"""One try at a delivery: its error (``None``: delivered) and the delay before the next try
(``None``: no other try)."""


class _Queue:
    """What both queues share: the closing state and the condition the loop waits on."""

    durable = False

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._closing = False
        self._deadline: float | None = None

    @property
    def closing(self) -> bool:
        return self._closing

    def wake(self) -> None:
        """Look for due deliveries now."""
        with self._cond:
            self._cond.notify_all()

    def close(self, timeout: float) -> None:
        """Take no more events; the loop sends what is due within ``timeout`` seconds."""
        with self._cond:
            self._closing = True
            self._deadline = time.monotonic() + max(0.0, timeout)
            self._cond.notify_all()

    def _past_deadline(self) -> bool:
        return self._closing and (self._deadline is None or time.monotonic() >= self._deadline)


class MemoryQueue(_Queue):
    """Deliveries in memory, in order of due time; lost with the process."""

    def __init__(self) -> None:
        super().__init__()
        self._heap: list[Delivery] = []
        self._seq = itertools.count()
        self._inflight = 0

    def put(self, event: OutboxEvent) -> str | None:
        """Queue ``event`` now; ``None`` (dropped with a warning) once closing."""
        with self._cond:
            if self._closing:
                logger.warning(
                    "webhooks: sender closed, %s event %s dropped",
                    event.event_type,
                    event.event_id,
                )
                return None
            heapq.heappush(
                self._heap,
                Delivery(time.monotonic(), next(self._seq), event.delivery_id, event.event_id,
                         event.event_type, event.body.encode("utf-8")),
            )  # fmt: skip
            self._cond.notify_all()
        return event.delivery_id

    def pending(self) -> int:
        with self._cond:
            return len(self._heap) + self._inflight

    def abandon(self) -> list[Delivery]:
        """What is left once the loop has stopped (removed from the queue)."""
        with self._cond:
            left, self._heap = list(self._heap), []
        return left

    def run(self, client: httpx.Client, attempt: Attempt) -> None:
        while True:
            with self._cond:
                delivery = self._next_due()
                if delivery is None:
                    return
                self._inflight += 1
            retry_at = None
            try:
                _, delay = attempt(client, delivery)
                if delay is not None:
                    retry_at = time.monotonic() + delay
            finally:
                with self._cond:
                    self._inflight -= 1
                    if retry_at is not None:
                        delivery.due = retry_at
                        heapq.heappush(self._heap, delivery)
                    self._cond.notify_all()

    def _next_due(self) -> Delivery | None:
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


class StoreQueue(_Queue):
    """The durable outbox: deliveries in the store, claimed under a lease by ``owner``.

    Args:
        outbox: the store's ``webhook_outbox`` (the Store).
        owner: this sender's name in the leases it holds.
        lease_s: how long one attempt holds a delivery (longer than any attempt takes).
        poll_s: how often the loop looks for deliveries queued by another replica.
    """

    durable = True

    def __init__(self, outbox: WebhookOutbox, owner: str, lease_s: float, poll_s: float) -> None:
        super().__init__()
        self.outbox = outbox
        self.owner = owner
        self.lease_s = lease_s
        self.poll_s = poll_s

    def put(self, event: OutboxEvent) -> str:
        """Queue ``event`` (kept after closing: the next server sends it); a second event with
        the same dedupe key is not queued and the first one's delivery id is returned."""
        (delivery_id,) = self.outbox.enqueue_webhooks([event])
        self.wake()
        return delivery_id

    def pending(self) -> int:
        """Deliveries queued or being sent, by any replica."""
        return self.outbox.count_webhooks()["pending"]

    def abandon(self) -> list[Delivery]:
        return []  # what is left stays queued in the store

    def run(self, client: httpx.Client, attempt: Attempt) -> None:
        """Claim due deliveries from the store, one at a time, until closed (then until none
        is due or the deadline passes)."""
        while True:
            with self._cond:
                if self._past_deadline():
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
            d = Delivery(
                0.0, 0, row.id, row.event_id, row.event_type, row.body.encode("utf-8"),
                attempt=row.attempts - 1,
            )  # fmt: skip
            error, delay = attempt(client, d)
            try:
                kept = self.outbox.settle_webhook(
                    row.id, self.owner, delivered=error is None, error=error, retry_in_s=delay
                )
            except Exception:  # its lease runs out; another try comes then
                logger.exception("webhooks: could not record delivery %s", row.id)
                continue
            if not kept:
                logger.warning("webhooks: delivery %s was taken over meanwhile", row.id)
