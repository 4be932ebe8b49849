"""Planted PII never reaches storage, exports or webhooks; webhooks are signed and logged.

A real server analyses the two planted-PII sample calls (a phone and a card number spoken in
English; a mobile and a resident ID number spoken in Mandarin) with redaction on (the default),
audio redaction on, and a webhook receiver on 127.0.0.1.
"""

from __future__ import annotations

import io
import json
import re
import sqlite3
import threading
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from calmline.pipelines.webhooks import verify_signature
from tests.conftest import SAMPLES
from tests.pii import (
    leaked,
    long_runs,
    planted,
    said_in_database,
    said_pieces,
    transcript_strings,
    vtt_text_lines,
)
from tests.server import CalmlineServer

SECRET = "test-webhook-secret"
PII_SAMPLES = ("en_pii", "zh_pii")


class Receiver:
    """A webhook receiver on 127.0.0.1 that fails the first delivery (to exercise retries)."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.lock = threading.Lock()
        self.calls = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.lock:
                    outer.calls += 1
                    first = outer.calls == 1
                    if not first:
                        outer.events.append({"headers": dict(self.headers), "body": body})
                self.send_response(503 if first else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, cache_dir, receiver):
    env = {
        "CALMLINE_WEBHOOKS__URL": receiver.url,
        "CALMLINE_WEBHOOKS__ALLOW_HOSTS": '["127.0.0.1"]',
        "CALMLINE_WEBHOOKS__SECRET": SECRET,
        "CALMLINE_WEBHOOKS__BACKOFF_S": "0.2",
        "CALMLINE_PRIVACY__REDACT_AUDIO": "true",
    }
    with CalmlineServer(tmp_path_factory.mktemp("privacy") / "data", cache_dir, env=env) as srv:
        yield srv


@pytest.fixture(scope="module")
def admin(server):
    return server.key("admin")


@pytest.fixture(scope="module")
def calls(server, admin):
    jobs = {}
    for name in PII_SAMPLES:
        r = server.upload(admin, SAMPLES / f"{name}.wav", "a1", call_id=f"call-{name}")
        assert r.status_code == 202, r.text
        jobs[name] = r.json()["job_id"]
    for job in jobs.values():
        assert server.wait_job(admin, job)["state"] == "done"
    return {name: f"call-{name}" for name in PII_SAMPLES}


def test_planted_numbers_are_marked_in_the_report(server, admin, calls):
    """Invariants that hold whatever Whisper hears on this CPU (never the exact kind: the
    words that name a number may be misheard): each planted number is redacted where it was
    said, marked in the text, and no digit run of six or more is left in any transcript text."""
    with server.client(admin) as c:
        for name, call_id in calls.items():
            report = c.get(f"/api/v1/calls/{call_id}/report").json()
            for p in planted(name):
                # a redaction covers the utterance that said it
                redactions = report["redactions"]
                hits = [r for r in redactions if r["start"] < p["end"] and r["end"] > p["start"]]
                assert hits, (name, p, report["redactions"])
                assert {r["kind"] for r in hits} <= {"phone", "cn_id", "bank_card", "number"}
            for s in transcript_strings(report):
                assert not long_runs(s), (name, s)
            text = " ".join(t["text"] for t in report["turns"])
            assert re.search(r"\[(PHONE|CN_ID|BANK_CARD|NUMBER)\]", text), text


def test_planted_numbers_never_reach_storage_exports_or_webhooks(server, admin, calls, receiver):
    """What could carry speech, read piece by piece (a string, a caption, a cell): a whole
    document's digits joined into one stream would match seven digits of a planted number by
    chance, from times and scores alone."""
    pieces: dict[str, list[str]] = {}
    texts: dict[str, str] = {}
    with server.client(admin) as c:
        for call_id in calls.values():
            for fmt in ("json", "rttm", "vtt"):
                texts[f"{call_id}.{fmt}"] = c.get(f"/api/v1/calls/{call_id}/export/{fmt}").text
                pieces[f"{call_id}.{fmt}"] = said_pieces(fmt, texts[f"{call_id}.{fmt}"])
            report = c.get(f"/api/v1/calls/{call_id}/report").text
            pieces[f"{call_id} report"] = said_pieces("json", report)
            pieces[f"{call_id} summary"] = said_pieces(
                "json", c.get(f"/api/v1/calls/{call_id}").text
            )
        pieces["scores.csv"] = said_pieces("csv", c.get("/api/v1/export/scores.csv").text)
    db = sqlite3.connect(server.data_dir / "calmline.db")
    pieces["database"] = said_in_database(db)
    db.close()
    for event in receiver.events:
        where = f"webhook {event['headers'].get('X-Calmline-Delivery')}"
        pieces[where] = said_pieces("json", event["body"].decode())
    for where, said in pieces.items():
        assert said, f"nothing to read in {where}"  # the readers found the text
    for name in PII_SAMPLES:
        for p in planted(name):
            for where, said in pieces.items():
                for piece in said:
                    assert not leaked(piece, p["value"]), (
                        f"{p['kind']} {p['value']} leaked in {where}: {piece[:200]}"
                    )
    for call_id in calls.values():
        for line in vtt_text_lines(texts[f"{call_id}.vtt"]):
            assert not long_runs(line), f"a long digit run in {call_id}.vtt: {line}"


def test_exported_audio_is_silent_over_redacted_words(server, admin, calls):
    with server.client(admin) as c:
        report = c.get(f"/api/v1/calls/{calls['en_pii']}/report").json()
        audio = c.get(f"/api/v1/calls/{calls['en_pii']}/audio")
    assert audio.status_code == 200
    with wave.open(io.BytesIO(audio.content)) as w:
        rate, channels = w.getframerate(), w.getnchannels()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, channels)
    customer = pcm[:, 1].astype(np.float64)
    for r in report["redactions"]:
        inner = customer[int((r["start"] + 0.05) * rate) : int((r["end"] - 0.05) * rate)]
        if inner.size:
            assert np.abs(inner).max() == 0, r
    assert report["redactions"]
    greeting = pcm[int(1.0 * rate) : int(4.9 * rate), 0]
    assert np.abs(greeting).max() > 1000  # the rest of the call is still there


def test_webhooks_are_signed_retried_and_logged(server, admin, calls, receiver):
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        scored = [
            e for e in receiver.events if e["headers"].get("X-Calmline-Event") == "call.scored"
        ]
        if len(scored) >= len(PII_SAMPLES):
            break
        time.sleep(0.2)
    bodies = [json.loads(e["body"]) for e in scored]
    assert sorted(b["data"]["call_id"] for b in bodies) == sorted(calls.values())
    for e in scored:
        h = e["headers"]
        assert verify_signature(
            SECRET, h["X-Calmline-Timestamp"], e["body"], h["X-Calmline-Signature"]
        )
        assert not verify_signature(
            "wrong", h["X-Calmline-Timestamp"], e["body"], h["X-Calmline-Signature"]
        )
    with server.client(admin) as c:
        summary = {cid: c.get(f"/api/v1/calls/{cid}").json() for cid in calls.values()}
        log = c.get("/api/v1/webhooks/deliveries").json()
    for b in bodies:
        assert b["data"]["overall"] == summary[b["data"]["call_id"]]["overall"]
    assert any(entry["status_code"] == 503 and not entry["delivered"] for entry in log)
    delivered = [entry for entry in log if entry["delivered"]]
    assert len(delivered) == len(receiver.events)
    assert all(entry["url"] == receiver.url for entry in log)
