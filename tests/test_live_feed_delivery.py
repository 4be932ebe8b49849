"""Live feeds deliver every event of a call, in order, while they also check their key.

A feed waits for the next event with a timeout (the keep-alive, the key re-check) and then checks
the key, which awaits a thread. An event taken from the subscriber's queue during that await must
still reach the client. The app runs in-process (no models, no workers) with the real store; the
events are handed to the hub's loop as sessions hand them.
"""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from calmline.api.app import create_app
from calmline.monitor.settings import Settings

EVENTS = 300


@pytest.fixture()
def app(tmp_path, cache_dir):
    settings = Settings.load(
        cache_dir=str(cache_dir),
        storage={"data_dir": str(tmp_path / "data")},
        # the key is checked on every pass of the feed loop: the widest window for the race
        server={"load_models": False, "auth_recheck_s": 0.001},
        jobs={"workers": 0},
    )
    return create_app(settings)


def _publish(app, events: list[dict]) -> None:
    hub = app.state.live
    for event in events:
        hub.loop.call_soon_threadsafe(hub._fan_out, event)
        time.sleep(0.0005)  # spread over many passes of the feed loop


def test_websocket_feed_loses_no_event_while_checking_its_key(app):
    with TestClient(app) as client:
        key = app.state.store.create_api_key("admin", None).key
        headers = {"Authorization": f"Bearer {key}"}
        with client.websocket_connect("/api/v1/live/feed?call_id=c1", headers=headers) as ws:
            assert ws.receive_json()["type"] == "snapshot"
            got: list[dict] = []

            def read() -> None:
                while len(got) < EVENTS:
                    message = ws.receive_json()
                    if message.get("type") != "keepalive":
                        got.append(message)

            reader = threading.Thread(target=read, daemon=True)
            reader.start()
            sent = [
                {"type": "transcript", "call_id": "c1", "agent_id": "a1", "seq": i}
                for i in range(EVENTS)
            ]
            _publish(app, sent)
            reader.join(30)
            assert [e["seq"] for e in got] == list(range(EVENTS)), (
                f"{EVENTS - len(got)} events never reached the feed"
            )
            assert not any("dropped_before" in e for e in got)
