"""The live events' bus between API replicas.

A live call stays on the replica that holds its ingest socket; its events must reach the feeds
and dashboards of every replica. Each replica fans its own events out to its own subscribers at
once (no round trip: local latency is what it was on one server) and hands them to the bus,
which delivers them to every *other* replica, in the order they were published.

- :class:`LocalBus` (one server, SQLite): nothing to deliver.
- :class:`PostgresBus`: ``NOTIFY calmline_live`` through the store's PostgreSQL, received with
  ``LISTEN`` on a dedicated connection in a background thread. A NOTIFY payload is text under
  8000 bytes, and a transcript event with its word timings can be larger, so an event goes out
  as ASCII JSON, or zlib-compressed and base64-encoded when it would not fit one payload, cut into
  numbered chunks sent in one transaction. PostgreSQL delivers a transaction's notifications
  together and transactions in commit order, and one thread commits a replica's events one batch
  after another, so a listener sees each replica's events whole and in order. Nothing is stored:
  no table, no migration. A replica that is not listening at that moment (starting, or its
  connection lost) misses what was sent meanwhile; the hub's heartbeats (``calmline.api.live``)
  bring its list of calls back.

Every payload starts with a header ``v1|<replica>|<message no>|<chunk>|<chunks>|<encoding>|``;
a listener skips its own replica's messages without decoding them.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import queue
import socket
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from typing import Any, Protocol

logger = logging.getLogger("calmline.api.livebus")

CHANNEL = "calmline_live"
PAYLOAD_MAX = 7900
"""Bytes of one NOTIFY payload (PostgreSQL refuses 8000 and more)."""
BATCH_MAX = 200
"""Events sent in one transaction at most (a backlog goes out in few commits)."""
PARTIAL_TTL_S = 60.0
"""A message whose chunks have not all come within this long is dropped (cannot happen while
PostgreSQL delivers a transaction whole; a guard against unbounded memory)."""
RECONNECT_S = (0.2, 0.5, 1.0, 2.0, 5.0)
"""Waits before reconnecting after a lost connection (the last repeats)."""

Deliver = Callable[[dict[str, Any], str], None]
"""``deliver(event, replica_id)``: called from the bus's thread for every other replica's event."""


def new_replica_id() -> str:
    """This process's id on the bus: host, pid and a random part (a restarted process with the
    same pid is another replica)."""
    host = socket.gethostname().replace("|", "-")[:40]
    return f"{host}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class LiveBus(Protocol):
    """Delivers a replica's live events to every other replica."""

    replica_id: str
    remote: bool
    """Whether there can be other replicas (the hub then sends heartbeats)."""

    def start(self, deliver: Deliver) -> None:
        """Begin delivering other replicas' events to ``deliver``; returns once listening."""

    def publish(self, event: dict[str, Any]) -> None:
        """Thread-safe, never blocks on the network, never raises."""

    def close(self) -> None:
        """Send what is queued, stop listening."""


class LocalBus:
    """One server: its hub has every call already."""

    remote = False

    def __init__(self) -> None:
        self.replica_id = new_replica_id()

    def start(self, deliver: Deliver) -> None:
        pass

    def publish(self, event: dict[str, Any]) -> None:
        pass

    def close(self) -> None:
        pass


# --- wire format -----------------------------------------------------------------------------


def encode(event: dict[str, Any], replica_id: str, number: int) -> list[str]:
    """The NOTIFY payloads of one event (ASCII only, each under :data:`PAYLOAD_MAX` bytes)."""
    body = json.dumps(event, ensure_ascii=True, separators=(",", ":"))
    header_room = len(f"v1|{replica_id}|{number}|") + 2 * 12 + 8
    room = PAYLOAD_MAX - header_room
    if room < 1000:
        raise ValueError(f"replica id {replica_id!r} is too long for a NOTIFY payload")
    kind = "j"
    if len(body) > room:  # serialising is the cost (floats); level 1 compresses nearly as well
        body = base64.b64encode(zlib.compress(body.encode("ascii"), 1)).decode("ascii")
        kind = "z"
    parts = [body[i : i + room] for i in range(0, len(body), room)] or [""]
    n = len(parts)
    return [f"v1|{replica_id}|{number}|{i}|{n}|{kind}|{p}" for i, p in enumerate(parts)]


def decode(kind: str, body: str) -> dict[str, Any]:
    if kind == "z":
        body = zlib.decompress(base64.b64decode(body)).decode("ascii")
    elif kind != "j":
        raise ValueError(f"unknown payload encoding {kind!r}")
    event = json.loads(body)
    if not isinstance(event, dict):
        raise ValueError("a live event is a JSON object")
    return event


class Reassembler:
    """Puts chunked messages back together; drops this replica's own."""

    def __init__(self, own_id: str) -> None:
        self.own_id = own_id
        self._partial: dict[tuple[str, str], tuple[float, list[str | None]]] = {}

    def feed(self, payload: str) -> tuple[dict[str, Any], str] | None:
        """The event and its replica once ``payload`` completes one, else ``None``."""
        fields = payload.split("|", 6)
        if len(fields) != 7 or fields[0] != "v1":
            logger.warning("live bus: a payload of an unknown format was ignored")
            return None
        _, replica, number, index, count, kind, body = fields
        if replica == self.own_id:
            return None
        i, n = int(index), int(count)
        if n == 1:
            return decode(kind, body), replica
        now = time.monotonic()
        key = (replica, number)
        _, parts = self._partial.setdefault(key, (now, [None] * n))
        parts[i] = body
        if any(p is None for p in parts):
            self._expire(now)
            return None
        del self._partial[key]
        return decode(kind, "".join(parts)), replica  # type: ignore[arg-type]

    def _expire(self, now: float) -> None:
        for key, (since, _) in list(self._partial.items()):
            if now - since > PARTIAL_TTL_S:
                del self._partial[key]
                logger.warning("live bus: message %s of %s dropped (chunks missing)", *key[::-1])


# --- PostgreSQL --------------------------------------------------------------------------------


def conninfo(database_url: str) -> str:
    """A libpq connection string from the store's SQLAlchemy URL (``postgresql+psycopg://…``)."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError(
            f"live.bus = postgres needs a PostgreSQL storage.database_url, not {url.drivername}"
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresBus:
    """``NOTIFY``/``LISTEN`` on the store's PostgreSQL: one thread sends (in publish order),
    one thread listens on its own connection."""

    remote = True

    def __init__(self, database_url: str, replica_id: str | None = None) -> None:
        self.conninfo = conninfo(database_url)
        self.replica_id = replica_id or new_replica_id()
        self._queue: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._number = 0
        self._stopping = threading.Event()
        self._listening = threading.Event()
        self._deliver: Deliver | None = None
        self._threads: list[threading.Thread] = []
        self.sent = 0
        self.received = 0
        self.lost = 0
        """Events that could not be sent (PostgreSQL unreachable twice in a row)."""

    def start(self, deliver: Deliver, timeout: float = 10.0) -> None:
        self._deliver = deliver
        for name, target in (("listen", self._listen), ("notify", self._send_loop)):
            t = threading.Thread(target=target, name=f"calmline-livebus-{name}", daemon=True)
            t.start()
            self._threads.append(t)
        if not self._listening.wait(timeout):
            logger.warning("live bus: not listening after %.0f s; it keeps trying", timeout)
        else:
            logger.info("live bus: replica %s on PostgreSQL channel %s", self.replica_id, CHANNEL)

    def publish(self, event: dict[str, Any]) -> None:
        if not self._stopping.is_set():
            self._queue.put(event)

    def close(self, timeout: float = 5.0) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._queue.put(None)  # the sender sends what is before it, then stops
        for t in self._threads:
            t.join(timeout)

    # sending

    def _send_loop(self) -> None:
        conn = None
        while True:
            item = self._queue.get()
            batch = [] if item is None else [item]
            done = item is None
            while not done and len(batch) < BATCH_MAX:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    done = True
                else:
                    batch.append(more)
            if batch:
                conn = self._send(conn, batch)
            if done:
                break
        if conn is not None:
            conn.close()

    def _send(self, conn, batch: list[dict[str, Any]]):
        import psycopg

        payloads: list[tuple[str, str]] = []
        for event in batch:
            self._number += 1
            try:
                payloads += [(CHANNEL, p) for p in encode(event, self.replica_id, self._number)]
            except (TypeError, ValueError):
                logger.exception("live bus: event %s could not be encoded", event.get("type"))
        for attempt in range(2):
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.conninfo, autocommit=True)
                with conn.transaction(), conn.cursor() as cur:
                    cur.executemany("SELECT pg_notify(%s, %s)", payloads)
                self.sent += len(batch)
                return conn
            except psycopg.Error as e:
                if conn is not None:
                    conn.close()
                conn = None
                if attempt == 1:
                    self.lost += len(batch)
                    logger.warning(
                        "live bus: %d event(s) not sent to other replicas: %s", len(batch), e
                    )
                    time.sleep(RECONNECT_S[1])
        return conn

    # listening

    def _listen(self) -> None:
        import psycopg

        failures = 0
        while not self._stopping.is_set():
            reassembler = Reassembler(self.replica_id)
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    if failures:
                        logger.warning("live bus: listening again after a lost connection")
                    failures = 0
                    self._listening.set()
                    while not self._stopping.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._received(reassembler, note.payload)
            except psycopg.Error as e:
                self._listening.clear()
                wait = RECONNECT_S[min(failures, len(RECONNECT_S) - 1)]
                failures += 1
                logger.warning("live bus: listening failed (%s); again in %.1f s", e, wait)
                self._stopping.wait(wait)

    def _received(self, reassembler: Reassembler, payload: str) -> None:
        try:
            got = reassembler.feed(payload)
        except (ValueError, zlib.error, UnicodeDecodeError):
            logger.warning("live bus: an undecodable payload was ignored", exc_info=True)
            return
        if got is None or self._deliver is None:
            return
        self.received += 1
        try:
            self._deliver(*got)
        except Exception:
            logger.exception("live bus: delivering an event failed")


BUSES = ("local", "postgres")


def open_bus(kind: str, database_url: str) -> LiveBus:
    """The bus of setting ``live.bus``: ``auto`` is PostgreSQL when the store is."""
    from sqlalchemy.engine import make_url

    if kind == "auto":
        kind = "postgres" if make_url(database_url).get_backend_name() == "postgresql" else "local"
    if kind == "local":
        return LocalBus()
    if kind == "postgres":
        return PostgresBus(database_url)
    raise ValueError(f"live.bus must be auto, {' or '.join(BUSES)}; not {kind!r}")
