"""Durable webhook deliveries, on SQLite and a real PostgreSQL: queued in the store with the
report that raised them, sent by any replica, kept across a restart of the sender and a
receiver that is down, and each delivered once."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import text

from calmline.monitor.store import Store
from calmline.pipelines.jobs import JobRunner
from calmline.pipelines.webhook_events import events_for_report
from calmline.pipelines.webhooks import WebhookSender
from tests.lease_worker import StubPipeline, scored_report
from tests.test_webhooks import Receiver, settings, wait_for


def down_receiver() -> tuple[int, str]:
    """A port where a receiver listened and no longer does (it comes back on it later)."""
    rx = Receiver([])
    port, url = rx.server.server_address[1], rx.url
    rx.close()
    return port, url


def events_of(rx: Receiver) -> list[dict]:
    return [json.loads(body) for _, body, _ in rx.requests]


def test_receiver_killed_and_restarted_gets_every_event_of_every_job_once(store, tmp_path):
    port, url = down_receiver()
    conf = settings(url, max_attempts=30, backoff_s=0.05)
    other = Store(store.url, tmp_path / "audio-b")  # a second replica, sending too
    senders = [WebhookSender(conf, s, poll_s=0.05) for s in (store, other)]
    assert all(s.durable for s in senders)
    audio = tmp_path / "in.wav"
    audio.write_bytes(b"RIFF")
    calls = [f"c{i}" for i in range(5)]
    for c in calls:
        store.create_call(c, "a1", "upload", audio_path=audio, job_params={})
    runners = [
        JobRunner(s, StubPipeline(0.0), poll_s=0.05, webhooks=w)
        for s, w in zip((store, other), senders, strict=True)
    ]
    per_call = len(events_for_report("x", "a1", scored_report("x")))
    assert per_call >= 2  # call.scored and a critical finding
    rx = None
    try:
        for w in senders:
            w.start()
        for r in runners:
            r.start()
        wait_for(lambda: store.count_jobs()["done"] == 5, timeout=30)
        wait_for(lambda: len(store.webhook_deliveries(500)) >= 5 * per_call, timeout=30)
        assert store.count_webhooks()["delivered"] == 0  # the receiver is down
        rx = Receiver([], port=port)  # back, on the same address
        wait_for(lambda: store.count_webhooks()["delivered"] == 5 * per_call, timeout=60)
        time.sleep(0.3)  # no late duplicate may follow
    finally:
        for r in runners:
            r.stop()
        for w in senders:
            w.close(timeout=1.0)
        other.close()
        if rx is not None:
            rx.close()
    events = events_of(rx)
    assert len(events) == 5 * per_call
    assert len({e["id"] for e in events}) == len(events), "an event arrived twice"
    assert Counter(e["data"]["call_id"] for e in events) == {c: per_call for c in calls}
    deliveries = [h["X-Calmline-Delivery"] for h, _, _ in rx.requests]
    assert len(set(deliveries)) == len(deliveries)
    log = store.webhook_deliveries(1000)
    assert any(a.error and "Connect" in a.error for a in log)  # tried while it was down
    assert sum(a.delivered for a in log) == len(events)
    assert store.count_webhooks() == {"pending": 0, "delivered": 5 * per_call, "failed": 0}


def test_pending_deliveries_survive_a_restart_and_a_key_queues_once(store, tmp_path):
    port, url = down_receiver()
    conf = settings(url, max_attempts=30, backoff_s=0.05)
    first = WebhookSender(conf, store, poll_s=0.05)
    first.start()
    ids = [first.send("call.scored", {"call_id": f"c{i}"}, key=f"job_{i}:0") for i in range(3)]
    assert first.send("call.scored", {"call_id": "c0"}, key="job_0:0") == ids[0]  # a repeat
    wait_for(lambda: len(store.webhook_deliveries(100)) >= 3)
    assert first.close(timeout=0.2) is False  # the server stops: they stay queued
    assert store.count_webhooks()["pending"] == 3
    assert not any((a.error or "").startswith("abandoned") for a in store.webhook_deliveries())

    rx = Receiver([], port=port)
    restarted = Store(store.url, Path(tmp_path / "audio-2"))  # the next server process
    try:
        with WebhookSender(conf, restarted, poll_s=0.05) as second:
            wait_for(lambda: store.count_webhooks()["delivered"] == 3, timeout=30)
            assert second.pending() == 0
    finally:
        restarted.close()
        rx.close()
    assert sorted(h["X-Calmline-Delivery"] for h, _, _ in rx.requests) == sorted(ids)
    assert sorted(e["data"]["call_id"] for e in events_of(rx)) == ["c0", "c1", "c2"]
    with store.session() as s:
        assert s.execute(text("select count(*) from webhook_outbox")).scalar() == 3


def test_a_lost_job_queues_no_event(store, tmp_path):
    """The events of a report go with it: an owner that lost the job queues none."""
    audio = tmp_path / "in.wav"
    audio.write_bytes(b"RIFF")
    job_id = store.create_call("c1", "a1", "upload", audio_path=audio, job_params={})
    sender = WebhookSender(settings("http://127.0.0.1:9/"), store)  # not started
    report = scored_report("c1")
    events = sender.outbox_events("c1", "a1", report, key=job_id)
    assert events and {e.dedupe_key for e in events} == {
        f"{job_id}:{i}:{t}" for i, (t, _) in enumerate(events_for_report("c1", "a1", report))
    }
    store.claim_job("host:1:aaaaaa/w", lease_s=30)
    assert not store.finish_with_report(job_id, "host:2:bbbbbb/w", report, events=events)
    assert store.count_webhooks()["pending"] == 0
    assert store.finish_with_report(job_id, "host:1:aaaaaa/w", report, events=events)
    assert store.count_webhooks()["pending"] == len(events)
    again = sender.outbox_events("c1", "a1", report, key=job_id)  # a retry of the same job
    store.enqueue_webhooks(again)
    assert store.count_webhooks()["pending"] == len(events)
