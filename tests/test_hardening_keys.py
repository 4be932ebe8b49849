"""Keys and secrets (issue 11, item 4), against a real ``calmline serve`` on 127.0.0.1.

Keys never travel in URLs and never reach the server log; pages sign in with an HttpOnly,
SameSite=Strict session cookie bound to the key; revoking a key ends open feeds and ingest
sockets within ``server.auth_recheck_s``; a Twilio socket without a key is closed after
``live.key_timeout_s``; reports served to clients hold no server path; webhooks go to public
http(s) addresses only; and the CLI's key commands take the same ``--data-dir`` as ``serve``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from calmline.monitor.settings import WebhookSettings
from calmline.monitor.types import Role
from calmline.pipelines.webhooks import (
    WebhookRefused,
    WebhookSender,
    events_for_report,
    webhook_target,
)
from tests.server import REPO, CalmlineServer, free_port
from tests.test_redact import call
from tests.test_webhooks import MemoryLog, Receiver, wait_for

SAMPLES = REPO / "samples"
RECHECK_S = 1.0
KEY_TIMEOUT_S = 1.5


@pytest.fixture(scope="module")
def server(tmp_path_factory, cache_dir):
    env = {
        "CALMLINE_SERVER__LOAD_MODELS": "false",
        "CALMLINE_SERVER__AUTH_RECHECK_S": str(RECHECK_S),
        "CALMLINE_LIVE__KEY_TIMEOUT_S": str(KEY_TIMEOUT_S),
    }
    data = tmp_path_factory.mktemp("keys") / "data"
    srv = CalmlineServer(data, cache_dir, workers=0, env=env, args=["--log-level", "info"])
    with srv:
        yield srv


def _ws(server: CalmlineServer, path: str) -> str:
    return server.base_url.replace("http://", "ws://") + path


@contextmanager
def _sign_in(server: CalmlineServer, key: str) -> Iterator[httpx.Client]:
    """A client holding the page session cookie (as a browser would after the sign-in page)."""
    with httpx.Client(base_url=server.base_url, timeout=30) as c:
        r = c.post("/api/v1/session", json={"key": key})
        assert r.status_code == 200, r.text
        yield c


# --- keys in URLs and the log ------------------------------------------------------------------


def test_keys_in_urls_are_refused_and_never_logged(server):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    admin = server.key("admin")
    for path in (
        "/api/v1/calls",
        "/api/v1/calls/any-call/audio",
        "/api/v1/live/calls",
        "/api/v1/live/events",
    ):
        for name in ("key", "token"):
            r = httpx.get(f"{server.base_url}{path}?{name}={admin}", timeout=10)
            assert r.status_code == 401, (path, r.status_code)
    assert "not accepted in URLs" in r.json()["detail"]
    for path in ("/api/v1/live/feed", "/api/v1/live/ingest"):
        url = f"{_ws(server, path)}?key={admin}"
        with pytest.raises(InvalidStatus) as refused, connect(url, open_timeout=10) as ws:
            ws.recv(timeout=5)
        assert refused.value.response.status_code == 403
    # the same key in a header works: the key is good, only the URL is refused
    with server.client(admin) as c:
        assert c.get("/api/v1/calls").status_code == 200
    time.sleep(0.5)  # the access log is written after the response
    log = server.log()
    assert "/api/v1/calls/any-call/audio" in log, "the access log is on"
    assert admin not in log
    assert admin.split("_", 2)[2] not in log  # not even the secret part
    assert "key=[redacted]" in log and "token=[redacted]" in log


# --- page sessions -----------------------------------------------------------------------------


def test_page_session_cookie_is_httponly_strict_and_bound_to_the_key(server):
    key = server.key("qa_lead")
    with httpx.Client(base_url=server.base_url, timeout=30) as c:
        r = c.post("/api/v1/session", json={"key": key})
        assert r.status_code == 200, r.text
        assert r.json()["role"] == "qa_lead"
        cookie = r.headers["set-cookie"]
        attrs = {a.strip().split("=")[0].lower() for a in cookie.split(";")}
        assert {"httponly", "path", "max-age"} <= attrs
        assert "samesite=strict" in cookie.lower() and "path=/api/" in cookie.lower()
        assert key not in cookie, "the cookie names the key, it does not hold it"
        assert c.get("/api/v1/me").json()["role"] == "qa_lead"
        assert c.get("/api/v1/calls").status_code == 200
        token = c.cookies.get("calmline_session")

        # a state-changing request with the cookie needs the page header (CSRF)
        r = c.post("/api/v1/jobs/job-none/retry")
        assert r.status_code == 403 and "X-Calmline-Request" in r.json()["detail"]
        r = c.post("/api/v1/jobs/job-none/retry", headers={"X-Calmline-Request": "1"})
        assert r.status_code == 404  # past authentication: the job does not exist

        # sign out: that token is refused from then on, even if it was copied
        r = c.delete("/api/v1/session", headers={"X-Calmline-Request": "1"})
        assert r.status_code == 204
    with httpx.Client(base_url=server.base_url, timeout=30) as other:
        other.cookies.set("calmline_session", token, path="/api/")
        r = other.get("/api/v1/me")
        assert r.status_code == 401 and "ended" in r.json()["detail"]

    # a forged or altered token is refused
    with _sign_in(server, key) as c:
        good = c.cookies.get("calmline_session")
        key_id, expires, nonce, sig = good.split(".")
        for forged in (
            f"{key_id}.{int(expires) + 3600}.{nonce}.{sig}",
            f"{server.key('admin').split('_')[1]}.{expires}.{nonce}.{sig}",
        ):
            c.cookies.set("calmline_session", forged, path="/api/")
            assert c.get("/api/v1/me").status_code == 401

    # the sign-in wants JSON (no form posts from other sites) and a known key
    r = httpx.post(f"{server.base_url}/api/v1/session", data={"key": key}, timeout=10)
    assert r.status_code in (415, 422)
    r = httpx.post(
        f"{server.base_url}/api/v1/session", content=json.dumps({"key": key}), timeout=10
    )
    assert r.status_code in (415, 422), "no Content-Type: refused"
    assert "set-cookie" not in r.headers
    r = httpx.post(f"{server.base_url}/api/v1/session", json={"key": "cl_nope_x"}, timeout=10)
    assert r.status_code == 401

    # revoking the key ends its sessions at the next request
    with _sign_in(server, key) as c:
        me = c.get("/api/v1/me").json()
        server.store.revoke_api_key(me["key_id"])
        assert c.get("/api/v1/me").status_code == 401


def test_session_cookie_opens_feeds_only_from_the_same_origin(server):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    with _sign_in(server, server.key("supervisor")) as c:
        cookie = f"calmline_session={c.cookies.get('calmline_session')}"
        with c.stream("GET", "/api/v1/live/events") as r:
            assert r.status_code == 200
            first = next(line for line in r.iter_lines() if line.startswith("data: "))
            assert json.loads(first[6:])["type"] == "snapshot"
    url = _ws(server, "/api/v1/live/feed")
    with connect(url, additional_headers={"Cookie": cookie}, open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "snapshot"
    same = {"Cookie": cookie, "Origin": server.base_url}
    with connect(url, additional_headers=same, open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "snapshot"
    foreign = {"Cookie": cookie, "Origin": "https://evil.example"}
    with (
        pytest.raises(InvalidStatus) as refused,
        connect(url, additional_headers=foreign, open_timeout=10) as ws,
    ):
        ws.recv(timeout=5)
    assert refused.value.response.status_code == 403


# --- revocation ends open feeds and sockets ------------------------------------------------------


def _sse_reader(server: CalmlineServer, headers: dict[str, str], out: dict[str, Any]) -> None:
    events = out.setdefault("events", [])
    try:
        with httpx.stream(
            "GET", f"{server.base_url}/api/v1/live/events", headers=headers, timeout=60
        ) as r:
            out["status"] = r.status_code
            for line in r.iter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
                    if events[-1]["type"] == "snapshot":
                        out["open_at"] = time.monotonic()
        out["ended_at"] = time.monotonic()
    except Exception as e:  # reported by the test
        out["error"] = e


def test_revoking_a_key_closes_its_open_feeds_and_ingest(server):
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    key = server.store.create_api_key("supervisor")
    headers = {"Authorization": f"Bearer {key.key}"}
    other = server.key("supervisor")  # another key: its feed stays open
    sse, sse_other, sse_cookie = {}, {}, {}
    with _sign_in(server, key.key) as page:
        cookie = {"Cookie": f"calmline_session={page.cookies.get('calmline_session')}"}
    readers = [
        threading.Thread(target=_sse_reader, args=(server, h, out), daemon=True)
        for h, out in (
            (headers, sse),
            ({"Authorization": f"Bearer {other}"}, sse_other),
            (cookie, sse_cookie),
        )
    ]
    for t in readers:
        t.start()
    with (
        connect(_ws(server, "/api/v1/live/feed"), additional_headers=headers) as feed,
        connect(_ws(server, "/api/v1/live/ingest"), additional_headers=headers) as ingest,
    ):
        assert json.loads(feed.recv(timeout=10))["type"] == "snapshot"
        ingest.send(json.dumps({"type": "start", "call_id": "revoked-1", "agent_id": "a1"}))
        assert json.loads(ingest.recv(timeout=60))["type"] == "started"
        ingest.send(b"\0" * 32000)  # a second of two-channel silence
        wait_for(lambda: all("open_at" in o for o in (sse, sse_other, sse_cookie)), 30)
        time.sleep(RECHECK_S * 1.5)  # a few checks pass while the key is good
        assert "ended_at" not in sse and "ended_at" not in sse_cookie

        server.store.revoke_api_key(key.info.id)
        revoked_at = time.monotonic()
        wait_for(lambda: "ended_at" in sse and "ended_at" in sse_cookie, RECHECK_S + 10)
        for out in (sse, sse_cookie):
            assert out["ended_at"] - revoked_at <= RECHECK_S + 3
            assert out["events"][-1]["type"] == "closed"
            assert "revoked" in out["events"][-1]["detail"]
        got = []
        with pytest.raises(ConnectionClosed):
            while True:
                got.append(json.loads(feed.recv(timeout=RECHECK_S + 10)))
        assert got and got[-1]["type"] == "closed"
        assert feed.close_code == 4401
        frames = []
        with pytest.raises(ConnectionClosed):
            while True:
                frames.append(json.loads(ingest.recv(timeout=RECHECK_S + 60)))
        assert any(f["type"] == "error" and "revoked" in f["detail"] for f in frames), frames
        assert ingest.close_code == 4401
        assert "ended_at" not in sse_other, "another key's feed goes on"
    # what the revoked ingest had sent is stored, marked incomplete
    with server.client(other) as c:
        deadline = time.monotonic() + 60
        while c.get("/api/v1/calls/revoked-1").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        stored = c.get("/api/v1/calls/revoked-1").json()
        other_id = c.get("/api/v1/me").json()["key_id"]
    assert stored["incomplete"] is True and stored["source"] == "live"
    server.store.revoke_api_key(other_id)  # ends the last feed
    wait_for(lambda: "ended_at" in sse_other, RECHECK_S + 10)


def test_twilio_socket_without_a_key_is_closed(server):
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    t0 = time.monotonic()
    with connect(_ws(server, "/api/v1/live/twilio"), open_timeout=10) as ws:
        ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        frames = []
        with pytest.raises(ConnectionClosed):
            while True:
                frames.append(json.loads(ws.recv(timeout=KEY_TIMEOUT_S + 10)))
    waited = time.monotonic() - t0
    assert KEY_TIMEOUT_S - 0.2 <= waited <= KEY_TIMEOUT_S + 3
    assert ws.close_code == 1008
    assert frames and "no key" in frames[-1]["detail"]


# --- what clients are served -------------------------------------------------------------------


def test_served_reports_hold_no_server_path(server):
    A, C = Role.AGENT, Role.CUSTOMER
    report = call(
        "en",
        (A, 0.5, 4.0, "Thank you for calling, how can I help you today?"),
        (C, 4.5, 8.0, "My order has not arrived."),
    )
    audio_dir = server.store.call_audio_dir("path-1")
    audio_dir.mkdir(parents=True, exist_ok=True)
    stored = audio_dir / "audio.wav"
    stored.write_bytes((SAMPLES / "en_mono.wav").read_bytes())
    from dataclasses import replace

    report = replace(report, call_id="path-1", audio=replace(report.audio, path=str(stored)))
    server.store.create_call(
        "path-1", "a1", "upload", audio_path=stored, audio_name="my call.wav", status="running"
    )
    server.store.save_report("path-1", report)
    assert server.store.get_report_dict("path-1")["audio"]["path"] == str(stored), "kept"
    data_dir = str(server.data_dir.resolve())
    with server.client(server.key("qa_lead")) as c:
        for path in (
            "/api/v1/calls/path-1/report",
            "/api/v1/calls/path-1/export/json",
            "/api/v1/calls/path-1/export/vtt",
            "/api/v1/calls/path-1/export/rttm",
            "/api/v1/calls/path-1",
        ):
            r = c.get(path)
            assert r.status_code == 200, (path, r.text)
            assert data_dir not in r.text and str(stored) not in r.text, path
        assert c.get("/api/v1/calls/path-1/report").json()["audio"]["path"] == "my call.wav"
    for _, payload in events_for_report("path-1", "a1", report):
        assert data_dir not in json.dumps(payload)


def test_qa_leads_upload_agents_do_not(server):
    sample = SAMPLES / "en_mono.wav"
    r = server.upload(server.key("qa_lead"), sample, "a1", call_id="qa-upload-1")
    assert r.status_code == 202, r.text
    r = server.upload(server.key("agent", "a1"), sample, "a1", call_id="agent-upload-1")
    assert r.status_code == 403


# --- webhook targets ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://hooks.example.com/x",
        "gopher://hooks.example.com/",
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://172.16.0.9/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[fd00::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://100.64.0.1/hook",
    ],
)
def test_webhook_urls_to_internal_addresses_are_refused(url):
    with pytest.raises(ValueError, match="webhooks"):
        WebhookSettings(url=url)
    with pytest.raises(WebhookRefused):
        webhook_target(url)


def test_webhook_allow_hosts_and_public_targets():
    assert WebhookSettings(url="http://127.0.0.1:9/h", allow_hosts=["127.0.0.1"]).url
    assert WebhookSettings(url="https://hooks.example.com/h").url  # a name: checked at delivery
    allowed = webhook_target("http://127.0.0.1:9/h", ["127.0.0.1"])
    assert allowed.url == "http://127.0.0.1:9/h" and not allowed.pinned
    # a real name from the hosts file that resolves to loopback
    with pytest.raises(WebhookRefused, match="resolved from localhost"):
        webhook_target("http://localhost:9/h")
    assert not webhook_target("http://LOCALHOST:9/h", ["localhost"]).pinned


def test_webhook_name_is_checked_at_every_delivery_and_pinned():
    """DNS rebinding: a name that answered a public address and then a private one is refused
    on the second answer; a public answer is pinned (connect to the checked address)."""
    answers = iter(["93.184.215.14", "10.0.0.7"])

    def resolve(host, port, type=0):
        return [(2, 1, 6, "", (next(answers), port))]

    url = "https://hooks.example.com:8443/in?x=1"
    target = webhook_target(url, (), resolve)
    assert target.pinned and target.url == "https://93.184.215.14:8443/in?x=1"
    assert target.host_header == "hooks.example.com:8443"
    assert target.server_name == "hooks.example.com"
    with pytest.raises(WebhookRefused, match=r"10\.0\.0\.7 is a private address"):
        webhook_target(url, (), resolve)


def test_webhook_sender_refuses_an_internal_address_at_delivery():
    """A URL that passed the settings check (a host name then) but is internal when the event
    goes out: refused, logged, never retried, and the receiver hears nothing."""
    rx = Receiver([])
    try:
        settings = WebhookSettings.model_construct(
            **{**WebhookSettings().model_dump(), "url": rx.url, "backoff_s": 0.01}
        )
        log = MemoryLog()
        with WebhookSender(settings, log) as sender:
            sender.send("call.scored", {"call_id": "c1"})
            wait_for(lambda: log.attempts)
            time.sleep(0.1)
        assert rx.requests == []
        ((attempt,),) = [[(a.attempt, a.delivered, a.error) for a in log.attempts]]
        assert attempt[:2] == (1, False) and "loopback" in attempt[2]
    finally:
        rx.close()


# --- the CLI, as a user runs it ----------------------------------------------------------------


def _calmline(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "calmline", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_readme_key_and_serve_commands_share_the_data_dir(tmp_path, cache_dir):
    """The README's order: create a key, then serve, on the same --data-dir; the key works.
    HOME is a fresh folder, so the default data dir is not the one used."""
    data = tmp_path / "calmline-data"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CALMLINE_")},
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "home" / ".local" / "share"),
        "CALMLINE_CACHE_DIR": str(cache_dir),
        "CALMLINE_SERVER__LOAD_MODELS": "false",
    }
    made = _calmline("keys", "create", "--role", "admin", "--data-dir", str(data), env=env)
    assert made.returncode == 0, made.stderr
    admin = made.stdout.strip().splitlines()[-1]
    made = _calmline(
        "keys", "create", "--role", "agent", "--agent", "a-017", "--data-dir", str(data), env=env
    )
    assert made.returncode == 0, made.stderr
    agent = made.stdout.strip().splitlines()[-1]
    listed = _calmline("keys", "list", "--data-dir", str(data), env=env)
    assert listed.returncode == 0 and "a-017" in listed.stdout
    assert (data / "calmline.db").is_file()
    assert not (tmp_path / "home" / ".local" / "share" / "calmline").exists()

    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "calmline", "serve", "--port", str(port), "--workers", "1",
         "--data-dir", str(data)],
        env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)
        me = httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {admin}"})
        assert me.status_code == 200 and me.json()["role"] == "admin"
        me = httpx.get(f"{base}/api/v1/me", headers={"X-API-Key": agent})
        assert me.json() == {**me.json(), "role": "agent", "agent_id": "a-017"}
        key_id = me.json()["key_id"]
        revoked = _calmline("keys", "revoke", key_id, "--data-dir", str(data), env=env)
        assert revoked.returncode == 0, revoked.stderr
        me = httpx.get(f"{base}/api/v1/me", headers={"X-API-Key": agent})
        assert me.status_code == 401
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def test_bad_settings_are_a_clear_cli_error(tmp_path):
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"webhooks": {"url": "http://169.254.169.254/x"}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALMLINE_")}
    done = _calmline("keys", "list", "--settings", str(settings), env=env)
    assert done.returncode == 2
    assert "webhooks" in done.stderr and "allow_hosts" in done.stderr
    assert "Traceback" not in done.stderr
