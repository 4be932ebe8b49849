"""Live calls across API replicas: events fan out through PostgreSQL NOTIFY/LISTEN.

A real PostgreSQL (``tests/pg.py``) and real servers (``calmline serve`` subprocesses on
127.0.0.1) sharing it: calls streamed into replica B (its models loaded) are followed on
replica A (no models: it only serves feeds) through SSE and WebSocket feeds, its call listing
and its per-call snapshot, with agent keys scoped the same way. Then B, holding a silent call, is
killed: A keeps the call while B's heartbeats come and drops it after ``live.replica_timeout_s``
once they stop. The bus itself is checked on its own: events far over NOTIFY's 8000-byte limit
from two replicas at once reach every other replica whole and in each replica's order.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from dataclasses import replace
from typing import Any

import httpx
import pytest

from calmline.api.livebus import LocalBus, PostgresBus, encode, open_bus
from tests.conftest import SAMPLES
from tests.live_client import CHUNK_S, WavData, read_wav, sse_events, ws_events
from tests.server import CalmlineServer

GREETING_S = 7.0
"""The agent's greeting of en_stereo_mulaw (1.2-6.5 s), before the customer speaks (7.26 s). The
call that speaks sends it and 2 s of silence, so the utterance closes: one transcription window
while the call is live, none at hang-up (the test's CPU time is mostly this). The other call
sends the second of silence before the greeting (nothing to transcribe)."""
EXCERPT_S = GREETING_S + 2.0
HEARTBEAT_S = 0.5
REPLICA_TIMEOUT_S = 3.0


# --- the bus on its own --------------------------------------------------------------------


def _events(tag: str) -> list[dict[str, Any]]:
    """A call's worth of events, three of them far over one NOTIFY payload: a long Chinese
    transcript (compressible), and a payload of random hex (barely compressible)."""
    words = [[i * 0.3, i * 0.3 + 0.25, f"银行卡{i}", 0.9] for i in range(3000)]
    out: list[dict[str, Any]] = []
    for i in range(40):
        data: dict[str, Any] = {"duration": i * 0.5, "alerts": {}}
        if i in (5, 20):
            data = {"text": "".join(w[2] for w in words), "words": words}
        elif i == 30:
            data = {"blob": os.urandom(30_000).hex()}
        out.append({"type": "metrics", "call_id": tag, "agent_id": "a1", "seq": i, "data": data})
    return out


def test_bus_delivers_other_replicas_events_whole_and_in_order(postgres):
    url = postgres.create_database("bus_order")
    buses = [PostgresBus(url) for _ in range(3)]
    got: dict[str, list[tuple[str, dict[str, Any]]]] = {b.replica_id: [] for b in buses}
    a, b, c = buses
    sent = {a.replica_id: _events("from-a"), b.replica_id: _events("from-b")}
    big = [e for e in sent[a.replica_id] if len(encode(e, a.replica_id, 1)) > 1]
    assert len(big) == 3, "the large events go out in several NOTIFY payloads"
    assert max(len(encode(e, a.replica_id, 1)) for e in big) >= 4
    try:
        for bus in buses:
            bus.start(
                lambda event, replica, sink=got[bus.replica_id]: sink.append((replica, event))
            )

        def publish(bus: PostgresBus) -> None:
            for event in sent[bus.replica_id]:
                bus.publish(event)

        threads = [threading.Thread(target=publish, args=(bus,)) for bus in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        deadline = time.monotonic() + 30
        while len(got[c.replica_id]) < 80 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # anything more (a duplicate) would have come by now
    finally:
        for bus in buses:
            bus.close()
    for listener, publishers in ((c, (a, b)), (a, (b,)), (b, (a,))):
        received = got[listener.replica_id]
        assert {r for r, _ in received} == {p.replica_id for p in publishers}, (
            "each replica hears the others, never itself"
        )
        for p in publishers:
            mine = [e for r, e in received if r == p.replica_id]
            assert mine == sent[p.replica_id], f"{listener.replica_id} heard {p.replica_id}"
    assert a.lost == b.lost == 0


def test_bus_follows_the_store(tmp_path):
    sqlite = f"sqlite:///{tmp_path / 'calmline.db'}"
    pg = "postgresql+psycopg://calmline@127.0.0.1:5999/calmline"
    assert isinstance(open_bus("auto", sqlite), LocalBus)
    assert isinstance(open_bus("auto", pg), PostgresBus)
    assert isinstance(open_bus("local", pg), LocalBus)
    with pytest.raises(ValueError, match=r"storage\.database_url"):
        open_bus("postgres", sqlite)
    assert PostgresBus(pg).conninfo == "postgresql://calmline@127.0.0.1:5999/calmline"


# --- the hub's view of another replica's calls ---------------------------------------------


def _other(kind: str, call_id: str, seq: int, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": kind,
        "call_id": call_id,
        "agent_id": "a1",
        "t": float(seq),
        "seq": seq,
        "emitted_at": time.time(),
        "data": data,
    }


def test_hub_keeps_other_replicas_calls_from_their_events(tmp_path, cache_dir):
    """The hub's state of a call on another replica, fed as the bus feeds it (the app runs
    in-process, no models). A heartbeat sent while the call was ending arrives after its
    ``call_ended`` (the heartbeat is made on the loop, the end on a worker thread): the call
    must not come back. A call whose replica stops sending is dropped, feeds told."""
    from fastapi.testclient import TestClient

    from calmline.api.app import create_app
    from calmline.monitor.settings import Settings

    settings = Settings.load(
        cache_dir=str(cache_dir),
        storage={"data_dir": str(tmp_path / "data")},
        server={"load_models": False},
        jobs={"workers": 0},
        live={"heartbeat_s": 0.2, "replica_timeout_s": 1.0},
    )
    app = create_app(settings)
    with TestClient(app) as client:
        hub = app.state.live
        store = app.state.store
        sup = {"Authorization": f"Bearer {store.create_api_key('supervisor').key}"}
        other = {"Authorization": f"Bearer {store.create_api_key('agent', 'a2').key}"}

        def listed() -> dict[str, dict[str, Any]]:
            items = client.get("/api/v1/live/calls", headers=sup).json()["items"]
            return {c["call_id"]: c for c in items}

        beating = threading.Event()

        def heartbeats() -> None:  # other-1 holds x-1 until its end is sent
            while not beating.wait(0.1):
                hub.receive({"type": "replica", "calls": [{"call_id": "x-1"}]}, "other-1")

        line = {"role": "agent", "track": "0", "start": 1.2, "end": 6.5, "text": "Thank you"}
        for e in (
            _other("call_started", "x-1", 0, {"started_at": 1.7e9, "tracks": {"0": "agent"},
                                              "language": "en", "source": "twilio"}),
            _other("transcript", "x-1", 1, {**line, "words": [], "utterance_end": 6.5}),
            _other("metrics", "x-1", 2, {"duration": 7.0, "alerts": {}, "talk_time": {},
                                         "language": "en", "utterance_end": 6.5}),
            _other("interruption", "x-1", 3, {"agent_start": 5.0}),
        ):  # fmt: skip
            hub.receive(e, "other-1")
        beat = threading.Thread(target=heartbeats, daemon=True)
        beat.start()
        deadline = time.monotonic() + 5
        while "x-1" not in listed():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        call = listed()["x-1"]
        assert call["source"] == "twilio" and call["duration_s"] == 7.0
        assert call["alerts"] == {"interruption": 1} == call["metrics"]["alerts"]
        detail = client.get("/api/v1/live/calls/x-1", headers=sup).json()
        assert detail["transcript"] == [{**line, "words": []}]
        assert client.get("/api/v1/live/calls/x-1", headers=other).status_code == 403
        assert listed()["x-1"] == call  # what another replica's heartbeat would carry

        beating.set()
        beat.join()
        hub.receive(_other("call_ended", "x-1", 4, {"duration": 7.0}), "other-1")
        hub.receive({"type": "replica", "calls": [{**call, "ending": True}]}, "other-1")
        time.sleep(0.3)
        assert "x-1" not in listed(), "a heartbeat older than the call's end brought it back"

        with client.websocket_connect("/api/v1/live/feed", headers=sup) as ws:
            assert ws.receive_json()["type"] == "snapshot"
            t0 = time.monotonic()
            hub.receive({"type": "replica", "calls": [{**call, "call_id": "x-2"}]}, "other-2")
            ended = ws.receive_json()  # no more heartbeats from other-2: it stopped
            assert time.monotonic() - t0 >= 1.0  # live.replica_timeout_s
        assert ended["type"] == "call_ended" and ended["call_id"] == "x-2"
        assert ended["data"]["lost"] is True
        assert "x-2" not in listed()


# --- two real replicas ---------------------------------------------------------------------


def _env(url: str, **extra: str) -> dict[str, str]:
    return {
        "CALMLINE_STORAGE__DATABASE_URL": url,
        "CALMLINE_LIVE__HEARTBEAT_S": str(HEARTBEAT_S),
        "CALMLINE_LIVE__REPLICA_TIMEOUT_S": str(REPLICA_TIMEOUT_S),
        "CALMLINE_JOBS__WORKERS": "0",
        **extra,
    }


@pytest.fixture(scope="module")
def cluster(postgres, tmp_path_factory, cache_dir):
    from calmline.monitor.store import Store

    url = postgres.create_database("replicas")
    root = tmp_path_factory.mktemp("replicas")
    # started one after the other: each migrates the shared database on start
    a = CalmlineServer(root / "a", cache_dir, env=_env(url, CALMLINE_SERVER__LOAD_MODELS="false"))
    b = CalmlineServer(root / "b", cache_dir, env=_env(url))
    with a, b:
        store = Store(url, root / "keys-audio")
        keys = {
            "admin": store.create_api_key("admin").key,
            "supervisor": store.create_api_key("supervisor").key,
            "a1": store.create_api_key("agent", "a1").key,
            "a2": store.create_api_key("agent", "a2").key,
        }
        yield {"a": a, "b": b, "keys": keys, "url": url}
        store.close()


def _ws(server: CalmlineServer, path: str) -> str:
    return server.base_url.replace("http://", "ws://") + path


async def _held_call(
    url: str,
    wav: WavData | None,
    call_id: str,
    agent_id: str,
    key: str,
    release: asyncio.Event,
    said: list[dict[str, Any]],
) -> None:
    """Stream a call as fast as the server reads, then keep it open until ``release`` (so
    the other replica can be asked about it while it is live), then stop it."""
    from websockets.asyncio.client import connect

    headers = {"Authorization": f"Bearer {key}"}
    async with connect(url, additional_headers=headers, max_size=None) as ws:
        start = {"type": "start", "call_id": call_id, "agent_id": agent_id}
        if wav is not None:
            start |= {"sample_rate": wav.rate, "encoding": wav.encoding, "channels": wav.channels}
        await ws.send(json.dumps(start))
        if wav is not None:
            step = round(CHUNK_S * wav.rate) * wav.width * wav.channels
            for i in range(0, len(wav.payload), step):
                await ws.send(wav.payload[i : i + step])
        await release.wait()
        await ws.send(json.dumps({"type": "stop"}))
        async for message in ws:  # until the server closes after storing the call
            said.append(json.loads(message))


def _of(feed: list[dict[str, Any]], call_id: str) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in e.items() if k != "received_at"}
        for e in feed
        if e.get("call_id") == call_id and "seq" in e
    ]


async def _until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        await asyncio.sleep(0.1)


async def _get(server: CalmlineServer, key: str, path: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as c:
        return await c.get(path, headers={"Authorization": f"Bearer {key}"})


async def _follow_calls_of_b_on_a(cluster) -> dict[str, Any]:
    a, b, keys = cluster["a"], cluster["b"], cluster["keys"]
    feeds: dict[str, list[dict[str, Any]]] = {n: [] for n in ("a", "a-one", "a1", "a2", "b")}
    readers = [
        (sse_events, a.base_url + "/api/v1/live/events", keys["supervisor"], "a"),
        (ws_events, _ws(a, "/api/v1/live/feed?call_id=rep-1"), keys["admin"], "a-one"),
        (ws_events, _ws(a, "/api/v1/live/feed"), keys["a1"], "a1"),
        (ws_events, _ws(a, "/api/v1/live/feed"), keys["a2"], "a2"),
        (sse_events, b.base_url + "/api/v1/live/events", keys["supervisor"], "b"),
    ]
    ready = [asyncio.Event() for _ in readers]
    tasks = [
        asyncio.create_task(fn(url, key, feeds[name], r))
        for (fn, url, key, name), r in zip(readers, ready, strict=True)
    ]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), 30)
    wav = read_wav(SAMPLES / "en_stereo_mulaw.wav")
    assert wav.encoding == "mulaw"
    greeting = wav.excerpt(0, GREETING_S)
    silence = b"\xff" * round((EXCERPT_S - GREETING_S) * wav.rate) * wav.channels  # mu-law 0
    audio = {
        "rep-1": replace(greeting, payload=greeting.payload + silence),
        "rep-2": wav.excerpt(0, 1.0),
    }
    release = asyncio.Event()
    said: dict[str, list[dict[str, Any]]] = {"rep-1": [], "rep-2": []}
    ingest = _ws(b, "/api/v1/live/ingest")
    calls = [
        asyncio.create_task(
            _held_call(ingest, audio[cid], cid, agent, keys["supervisor"], release, said[cid])
        )
        for cid, agent in (("rep-1", "a1"), ("rep-2", "a2"))
    ]
    out: dict[str, Any] = {"feeds": feeds, "said": said}
    try:

        def transcribed() -> bool:
            heard = {(e.get("call_id"), e["type"]) for e in feeds["a"]}
            return {("rep-1", "transcript"), ("rep-2", "call_started")} <= heard

        await _until(transcribed, 180, "the first call's transcript on A's feed")
        # both calls are live on B: ask A about them
        out["list"] = {w: (await _get(a, keys[w], "/api/v1/live/calls")).json() for w in keys}
        out["detail"] = (await _get(a, keys["a1"], "/api/v1/live/calls/rep-1")).json()
        out["refused"] = (await _get(a, keys["a2"], "/api/v1/live/calls/rep-1")).status_code
        late: list[dict[str, Any]] = []
        got_snapshot = asyncio.Event()
        snap = asyncio.create_task(
            ws_events(_ws(a, "/api/v1/live/feed?call_id=rep-1"), keys["a1"], late, got_snapshot)
        )
        await _until(lambda: bool(late), 30, "the snapshot of a late subscriber")
        snap.cancel()
        out["late"] = late[0]
        release.set()
        await asyncio.wait_for(asyncio.gather(*calls), 180)

        def ended() -> bool:
            done = {e["call_id"] for e in feeds["a"] if e.get("type") == "call_ended"}
            return {"rep-1", "rep-2"} <= done

        await _until(ended, 60, "call_ended of both calls on A's feed")
        await asyncio.sleep(0.5)
        out["after"] = (await _get(a, keys["supervisor"], "/api/v1/live/calls")).json()
    finally:
        release.set()
        for t in [*tasks, *calls]:
            t.cancel()
        await asyncio.gather(*tasks, *calls, return_exceptions=True)
    return out


@pytest.fixture(scope="module")
def followed(cluster):
    return asyncio.run(_follow_calls_of_b_on_a(cluster))


def test_feeds_on_a_get_every_event_of_calls_on_b_in_order(followed):
    feeds = followed["feeds"]
    for call_id in ("rep-1", "rep-2"):
        stopped = next(m for m in followed["said"][call_id] if m.get("type") == "stopped")
        assert stopped["stored"] is True
        on_b = _of(feeds["b"], call_id)
        on_a = _of(feeds["a"], call_id)
        types = [e["type"] for e in on_b]
        assert types[0] == "call_started" and types[-1] == "call_ended"
        if call_id == "rep-1":
            assert {"transcript", "metrics"} <= set(types)
        assert [e["seq"] for e in on_b] == sorted(e["seq"] for e in on_b)
        assert on_a == on_b, f"{call_id}: A's feed differs from B's (order, loss or content)"
        assert not any("dropped_before" in e for e in feeds["a"])
        assert on_a[0]["data"]["source"] == "raw"
    assert _of(feeds["a-one"], "rep-1") == _of(feeds["a"], "rep-1")
    assert {e["call_id"] for e in feeds["a-one"] if "seq" in e} == {"rep-1"}


def test_agent_keys_on_a_follow_only_their_own_calls_on_b(followed):
    feeds = followed["feeds"]
    for agent, call_id in (("a1", "rep-1"), ("a2", "rep-2")):
        assert {e["call_id"] for e in feeds[agent] if "seq" in e} == {call_id}
        assert _of(feeds[agent], call_id) == _of(feeds["a"], call_id)
        listed = followed["list"][agent]["items"]
        assert [c["call_id"] for c in listed] == [call_id]
    assert followed["refused"] == 403


def test_a_lists_and_shows_the_calls_of_b_while_they_are_live(followed, cluster):
    items = {c["call_id"]: c for c in followed["list"]["supervisor"]["items"]}
    assert set(items) == {"rep-1", "rep-2"}
    for call_id, agent in (("rep-1", "a1"), ("rep-2", "a2")):
        c = items[call_id]
        assert c["agent_id"] == agent and c["source"] == "raw"
        assert c["tracks"] == {"0": "agent", "1": "customer"}
        assert c["replica"] and c["started_at"]
        assert 0 <= c["duration_s"] <= EXCERPT_S + 0.5
    # the speaking call's metrics came with its utterance (the silent one's with a heartbeat)
    assert items["rep-1"]["duration_s"] > 5
    assert {"talk_time", "talk_ratio", "alerts"} <= set(items["rep-1"]["metrics"])
    assert items["rep-1"]["replica"] == items["rep-2"]["replica"]
    detail = followed["detail"]
    assert detail["call_id"] == "rep-1" and detail["agent_id"] == "a1"
    assert detail["transcript"] and all(u["text"] for u in detail["transcript"])
    heard = [e["data"] for e in followed["feeds"]["a"] if e.get("type") == "transcript"]
    assert all(u in [{k: v for k, v in h.items() if k != "utterance_end"} for h in heard]
               for u in detail["transcript"])  # fmt: skip
    late = followed["late"]
    assert late["type"] == "snapshot" and late["call"]["call_id"] == "rep-1"
    assert late["call"]["transcript"], "a late subscriber on A gets the call's transcript so far"
    assert not [c for c in followed["after"]["items"] if c["call_id"] in ("rep-1", "rep-2")]


def test_a_dead_replicas_call_is_dropped_after_the_timeout(cluster, followed):
    """A silent call (no events after its start) stays listed while its replica's heartbeats
    come; once the replica is killed (SIGKILL: it says nothing more) it goes after
    ``live.replica_timeout_s``, counted from the last heartbeat that mentioned it (the test
    listens on the bus too, so a heartbeat sent late on a busy machine moves the bound with
    it). Replica B is the one killed, after the other tests used it."""
    a, c, keys = cluster["a"], cluster["b"], cluster["keys"]
    beats: list[float] = []
    """When a heartbeat that mentions the silent call reached the test's own listener."""

    def heard(event: dict[str, Any], replica: str) -> None:
        if event.get("type") == "replica" and any(
            s.get("call_id") == "rep-quiet" for s in event.get("calls") or ()
        ):
            beats.append(time.monotonic())

    listener = PostgresBus(cluster["url"])
    listener.start(heard)

    async def run() -> tuple[list[dict[str, Any]], float]:
        feed: list[dict[str, Any]] = []
        ready = asyncio.Event()
        reader = asyncio.create_task(
            sse_events(a.base_url + "/api/v1/live/events", keys["supervisor"], feed, ready)
        )
        await asyncio.wait_for(ready.wait(), 30)
        release = asyncio.Event()
        call = asyncio.create_task(
            _held_call(
                _ws(c, "/api/v1/live/ingest"), None, "rep-quiet", "a1", keys["admin"], release, []
            )
        )

        async def listed() -> bool:
            items = (await _get(a, keys["supervisor"], "/api/v1/live/calls")).json()["items"]
            return "rep-quiet" in {i["call_id"] for i in items}

        try:
            deadline = time.monotonic() + 30
            while not await listed():
                assert time.monotonic() < deadline, "the call on C never showed on A"
                await asyncio.sleep(0.1)
            await asyncio.sleep(2.5 * REPLICA_TIMEOUT_S)
            still = await listed()
            c.kill()
            killed = time.monotonic()
            while await listed():
                assert time.monotonic() - killed < 30, "the dead replica's call stayed on A"
                await asyncio.sleep(0.1)
            gone = time.monotonic()
            await asyncio.sleep(0.3)
        finally:
            release.set()
            call.cancel()
            reader.cancel()
            await asyncio.gather(call, reader, return_exceptions=True)
            listener.close()
        assert still, "a silent call is kept while its replica's heartbeats come"
        return feed, gone

    feed, gone = asyncio.run(run())
    assert len(beats) >= 2 * REPLICA_TIMEOUT_S / HEARTBEAT_S, "B's heartbeats reached the bus"
    quiet = gone - beats[-1]  # A may hear the last heartbeat a little before the test does
    assert REPLICA_TIMEOUT_S - 0.25 <= quiet <= REPLICA_TIMEOUT_S + 3 * HEARTBEAT_S + 2
    ended = [e for e in feed if e.get("call_id") == "rep-quiet" and e["type"] == "call_ended"]
    assert len(ended) == 1 and ended[0]["data"]["lost"] is True
    assert ended[0]["data"]["incomplete"] is True
