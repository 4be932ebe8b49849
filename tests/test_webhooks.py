"""Webhooks: signed JSON events to a real HTTP receiver on 127.0.0.1 that fails on purpose;
retries, permanent failures, the delivery log, shutdown, and the events a report raises."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from calmline.monitor.redact import redact_report
from calmline.monitor.rubric import default_rubric
from calmline.monitor.scoring import score_report
from calmline.monitor.settings import WebhookSettings
from calmline.monitor.types import Role
from calmline.pipelines.webhook_events import events_for_report
from calmline.pipelines.webhooks import (
    DeliveryLog,
    WebhookAttempt,
    WebhookSender,
    sign,
    verify_signature,
)
from tests.test_redact import call

SECRET = "s3cret-for-tests"


class MemoryLog:
    """A DeliveryLog kept in memory (the Store implements the same Protocol)."""

    def __init__(self) -> None:
        self.attempts: list[WebhookAttempt] = []
        self._lock = threading.Lock()

    def record_webhook_attempt(self, delivery: WebhookAttempt) -> None:
        with self._lock:
            self.attempts.append(delivery)


class Receiver:
    """An HTTP server answering POSTs with the scripted status codes, then 200."""

    def __init__(self, script: list[int], repeat_last: bool = False, port: int = 0) -> None:
        self.script = list(script)
        self.repeat_last = repeat_last
        self.requests: list[tuple[dict[str, str], bytes, float]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((dict(self.headers), body, time.monotonic()))
                if receiver.script:
                    status = receiver.script[0]
                    if len(receiver.script) > 1 or not receiver.repeat_last:
                        receiver.script.pop(0)
                else:
                    status = 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/calmline"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory():
    made: list[Receiver] = []

    def make(script: list[int], repeat_last: bool = False) -> Receiver:
        made.append(Receiver(script, repeat_last))
        return made[-1]

    yield make
    for r in made:
        r.close()


def settings(url: str | None, **kw) -> WebhookSettings:
    base = {
        "url": url,
        "secret": SECRET,
        "max_attempts": 4,
        "timeout_s": 2.0,
        "backoff_s": 0.02,
        "allow_hosts": ["127.0.0.1"],  # the receivers listen on loopback, refused by default
    }
    return WebhookSettings(**{**base, **kw})


def wait_for(predicate, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out waiting")
        time.sleep(0.01)


def test_memory_log_is_a_delivery_log():
    log: DeliveryLog = MemoryLog()
    assert callable(log.record_webhook_attempt)


def test_retries_until_delivered_and_signs_every_try(receiver_factory):
    rx = receiver_factory([500, 429, 200])
    log = MemoryLog()
    with WebhookSender(settings(rx.url), log) as sender:
        delivery = sender.send("call.scored", {"call_id": "c1", "overall": 72.5})
        wait_for(lambda: any(a.delivered for a in log.attempts))
    assert delivery and delivery.startswith("dlv_")
    assert len(rx.requests) == 3
    bodies = {body for _, body, _ in rx.requests}
    assert len(bodies) == 1, "every retry sends the same event"
    event = json.loads(bodies.pop())
    assert set(event) == {"id", "type", "created_at", "data"}
    assert event["type"] == "call.scored" and event["data"] == {"call_id": "c1", "overall": 72.5}
    for headers, body, _ in rx.requests:
        assert headers["X-Calmline-Event"] == "call.scored"
        assert headers["X-Calmline-Delivery"] == delivery
        assert verify_signature(
            SECRET, headers["X-Calmline-Timestamp"], body, headers["X-Calmline-Signature"]
        )
    # exponential backoff: 0.02 s, then 0.04 s
    times = [t for _, _, t in rx.requests]
    assert times[1] - times[0] >= 0.02 and times[2] - times[1] >= 0.04
    assert [(a.attempt, a.status_code, a.delivered, a.error) for a in log.attempts] == [
        (1, 500, False, "HTTP 500"),
        (2, 429, False, "HTTP 429"),
        (3, 200, True, None),
    ]
    assert {(a.delivery_id, a.event_id, a.event_type, a.url) for a in log.attempts} == {
        (delivery, event["id"], "call.scored", rx.url)
    }
    assert all(a.duration_ms >= 0 and a.at.tzinfo is not None for a in log.attempts)


@pytest.mark.parametrize("status", [400, 401, 404, 410])
def test_a_client_error_is_a_permanent_failure(receiver_factory, status):
    rx = receiver_factory([status])
    log = MemoryLog()
    with WebhookSender(settings(rx.url), log) as sender:
        sender.send("finding.critical", {"call_id": "c2"})
        wait_for(lambda: log.attempts)
        time.sleep(0.1)  # longer than the backoff: no retry may come
    assert len(rx.requests) == 1
    ((attempt, code, delivered),) = [(a.attempt, a.status_code, a.delivered) for a in log.attempts]
    assert (attempt, code, delivered) == (1, status, False)


def test_server_errors_stop_at_max_attempts(receiver_factory):
    rx = receiver_factory([503], repeat_last=True)
    log = MemoryLog()
    with WebhookSender(settings(rx.url, max_attempts=3), log) as sender:
        sender.send("call.scored", {"call_id": "c3"})
        wait_for(lambda: len(log.attempts) == 3)
        time.sleep(0.2)
    assert len(rx.requests) == 3
    assert [a.attempt for a in log.attempts] == [1, 2, 3]
    assert not any(a.delivered for a in log.attempts)


def test_connection_errors_are_retried():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = MemoryLog()
    with WebhookSender(settings(f"http://127.0.0.1:{port}/", max_attempts=2), log) as sender:
        sender.send("call.scored", {"call_id": "c4"})
        wait_for(lambda: len(log.attempts) == 2)
    assert [(a.attempt, a.status_code) for a in log.attempts] == [(1, None), (2, None)]
    assert all(a.error and "Connect" in a.error for a in log.attempts)


def test_close_gives_up_on_a_retry_it_cannot_wait_for(receiver_factory):
    rx = receiver_factory([500], repeat_last=True)
    log = MemoryLog()
    sender = WebhookSender(settings(rx.url, backoff_s=30.0), log)
    sender.start()
    sender.send("call.scored", {"call_id": "c5"})
    wait_for(lambda: log.attempts)
    t0 = time.monotonic()
    assert sender.close(timeout=0.2) is False
    assert time.monotonic() - t0 < 2.0
    assert len(rx.requests) == 1
    last = log.attempts[-1]
    assert (last.attempt, last.delivered) == (2, False)
    assert last.error.startswith("abandoned")
    assert sender.send("call.scored", {"call_id": "late"}) is None  # closed: dropped


def test_close_flushes_what_is_queued(receiver_factory):
    rx = receiver_factory([])
    log = MemoryLog()
    sender = WebhookSender(settings(rx.url), log)
    sender.start()
    ids = [sender.send("call.scored", {"call_id": f"c{i}"}) for i in range(5)]
    assert sender.close(timeout=5.0) is True
    assert sorted(a.delivery_id for a in log.attempts if a.delivered) == sorted(ids)
    assert sorted(json.loads(b)["data"]["call_id"] for _, b, _ in rx.requests) == [
        f"c{i}" for i in range(5)
    ]


def test_off_unconfigured_and_filtered_events(receiver_factory):
    assert WebhookSender(settings(None)).send("call.scored", {}) is None
    rx = receiver_factory([])
    only = settings(rx.url, events=["call.scored"], secret=None)
    with WebhookSender(only) as sender:
        assert sender.send("finding.critical", {}) is None
        assert sender.send("call.scored", {"n": 1})
        with pytest.raises(ValueError, match=r"call\.finished"):
            sender.send("call.finished", {})
        wait_for(lambda: rx.requests)
    (headers, _, _), *_ = rx.requests
    assert "X-Calmline-Signature" not in headers  # no secret set: unsigned


def test_verify_signature():
    body = b'{"id":"evt_1","type":"call.scored"}'
    now = 1_700_000_000
    header = sign(SECRET, str(now), body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify_signature(SECRET, str(now), body, header, now=now + 10)
    assert verify_signature(SECRET, str(now), body.decode(), header, now=now)
    assert not verify_signature(SECRET, str(now), body + b" ", header, now=now)
    assert not verify_signature("other", str(now), body, header, now=now)
    assert not verify_signature(SECRET, str(now + 1), body, header, now=now)
    assert not verify_signature(SECRET, str(now), body, header, now=now + 3600)  # a replay
    assert not verify_signature(SECRET, "yesterday", body, header, now=now)


def test_events_of_a_report_carry_redacted_evidence(receiver_factory):
    A, C = Role.AGENT, Role.CUSTOMER
    report = call(
        "en",
        (A, 0.5, 4.0, "Thank you for calling, my name is David, how can I help you today?"),
        (C, 4.5, 9.0, "You people are useless, call me back on 415 555 0132!"),
        (A, 9.5, 14.0, "Call 415 555 0132 if you like, you need to apologize to me first."),
        (C, 14.5, 16.0, "Fine."),
    )
    scored = redact_report(score_report(report, default_rubric("en")))
    events = events_for_report("call-7", "agent-3", scored)
    types = [t for t, _ in events]
    assert types[0] == "call.scored" and types.count("call.scored") == 1
    scored_event = events[0][1]
    assert scored_event["call_id"] == "call-7" and scored_event["agent_id"] == "agent-3"
    assert scored_event["overall"] == scored.scorecard.overall
    assert scored_event["critical"] is True and "no_apology_demand" in scored_event["capped_by"]
    assert scored_event["practices"] == {p.practice: p.score for p in scored.scorecard.practices}
    assert scored_event["language"] == "en" and scored_event["redactions"] == 2
    critical = [d for t, d in events if t == "finding.critical"]
    assert critical and all(d["practice"] == "no_apology_demand" for d in critical)
    demand = critical[0]
    assert "apologize" in demand["evidence"] and "[PHONE]" in demand["evidence"]
    assert "0132" not in json.dumps(events)
    assert events_for_report("x", None, report) == []  # not scored: no event
    # and they go out as events, one request each
    rx = receiver_factory([])
    with WebhookSender(settings(rx.url)) as sender:
        for event_type, payload in events:
            sender.send(event_type, payload)
        wait_for(lambda: len(rx.requests) == len(events))
    sent = sorted(h["X-Calmline-Event"] for h, _, _ in rx.requests)
    assert sent == sorted(types)
