"""Post-call quality: at hang-up the whole recorded call goes through the batch pipeline and its
report replaces the live one; the live alerts stay in the call's history.

A real server (one analysis worker) takes a 24 s excerpt of a real stereo call over the raw
protocol, sent as fast as it reads; the stored report is then compared with the upload of the
very file the server recorded.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.conftest import SAMPLES
from tests.live_client import read_wav, stream_raw
from tests.server import CalmlineServer

EXCERPT_S = 24.0


@pytest.fixture(scope="module")
def server(tmp_path_factory, cache_dir):
    data = tmp_path_factory.mktemp("postcall")
    with CalmlineServer(data / "data", cache_dir) as srv:
        yield srv


def _stream(server, key, call_id, *, stop=True):
    wav = read_wav(SAMPLES / "en_stereo_mulaw.wav").excerpt(0, EXCERPT_S)
    url = server.base_url.replace("http://", "ws://") + "/api/v1/live/ingest"
    return asyncio.run(
        stream_raw(url, wav, call_id=call_id, agent_id="a1", key=key, language="en", stop=stop)
    )


def _alert_ids(c, call_id):
    r = c.get("/api/v1/alerts", params={"call_id": call_id, "include_quiet": "true"})
    assert r.status_code == 200, r.text
    return sorted(a["id"] for a in r.json()["items"])


def test_the_stored_report_of_a_live_call_is_the_batch_report_of_its_recording(server):
    key = server.key("supervisor")
    result = _stream(server, key, "post-en")
    stopped = result.stopped
    assert not result.errors and stopped and stopped["stored"], result.messages[-3:]
    job_id = stopped["post_call_job"]
    assert job_id, "a complete two-track call is queued for the batch pipeline"
    with server.client(key) as c:
        alerts_at_hangup = _alert_ids(c, "post-en")
        metrics = c.get("/metrics").text
    # the server's own lag (nothing waits once the call's words are in) and degraded calls
    lag = next(ln for ln in metrics.splitlines() if ln.startswith("calmline_live_asr_lag_seconds "))
    assert float(lag.split()[1]) >= 0
    assert 'calmline_live_calls{transcript="after_call"} 0.0' in metrics
    # analyses here pause for live calls (live.batch_yield_s): the seconds are counted
    paused = next(ln for ln in metrics.splitlines() if ln.startswith("calmline_jobs_paused_for"))
    assert float(paused.split()[1]) >= 0
    assert server.wait_job(key, job_id)["state"] == "done"
    with server.client(key) as c:
        report = c.get("/api/v1/calls/post-en/report").json()
        assert _alert_ids(c, "post-en") == alerts_at_hangup, "live alerts stay in the history"
    assert "decode" in report["timings"] and "hangup_wait" not in report["timings"]
    assert report["incomplete"] is False
    assert report["audio"]["duration"] == pytest.approx(EXCERPT_S, abs=0.05)

    # the upload of the recorded file, analysed the same way, gives the same report
    recorded = server.store.get_call("post-en").audio_path
    r = server.upload(
        key,
        Path(recorded),
        "a1",
        language="en",
        diarization="channels",
        agent_channel=0,
    )
    assert r.status_code == 202, r.text
    assert server.wait_job(key, r.json()["job_id"])["state"] == "done"
    with server.client(key) as c:
        upload = c.get(f"/api/v1/calls/{r.json()['call_id']}/report").json()
    assert report["segments"] == upload["segments"]
    assert [(t["role"], t["text"]) for t in report["turns"]] == [
        (t["role"], t["text"]) for t in upload["turns"]
    ]
    assert report["scorecard"]["overall"] == upload["scorecard"]["overall"]


def test_a_call_cut_short_keeps_its_live_report(server):
    """A stream that vanished is not queued: its report keeps the ``incomplete`` mark and the
    warnings only the live session knows."""
    key = server.key("supervisor")
    _stream(server, key, "post-gone", stop=False)
    with server.client(key) as c:
        for _ in range(240):  # the server notices the closed socket, then stores the report
            r = c.get("/api/v1/calls/post-gone/report")
            if r.status_code == 200:
                break
            time.sleep(0.25)
    assert r.status_code == 200, r.text
    assert r.json()["incomplete"] is True
    assert server.store.latest_job("post-gone") is None
