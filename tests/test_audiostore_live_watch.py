"""Audio by URI for live calls and the watched folder (issue 16, item 3): their recordings go
through the audio store as uploads do, so a post-call batch job or a watched-folder job that
runs on another machine reads the audio from the store.

A real ``calmline serve`` whose audio store is a local S3 server (moto on 127.0.0.1, through
``s3fs``) takes a live call over the raw protocol and a file dropped in its watched folder; the
watcher's own rules (copy, never move the exported file; remove what no call row took) are
checked on a ``memory://`` store.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
import uuid
from pathlib import Path, PurePosixPath

import pytest
from sqlalchemy import text

from calmline.monitor.audio import load_audio, write_wav
from calmline.monitor.audiostore import LocalAudioStore, open_audio_store
from calmline.monitor.store import Store
from calmline.pipelines.watch import FolderWatcher
from tests.conftest import SAMPLES
from tests.live_client import read_wav, stream_raw
from tests.server import CalmlineServer
from tests.test_audiostore import _check_served, _files, s3_endpoint  # noqa: F401

LIVE_S = 12.0
PATTERN = r"(?P<agent_id>[^_]+)_(?P<call_id>.+)"


def _wait(predicate, what: str, timeout: float = 120.0, server=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    log = server.log()[-3000:] if server is not None else ""
    raise AssertionError(f"no {what} in {timeout} s\n{log}")


def _stored_in_s3(server, s3, call_id: str) -> str:
    """The call's URI, checked to name an object in the bucket under the upload key layout."""
    uri = server.store.get_call(call_id).audio_path
    assert uri.startswith(f"s3://calls/audio/{call_id}~"), uri
    assert s3.isfile(uri), uri
    return uri


def test_live_and_watched_calls_are_stored_in_s3_on_a_real_server(
    tmp_path,
    cache_dir,
    s3_endpoint,  # noqa: F811
):
    """A live call and a watched-folder file on a server whose audio store is S3: each call's
    row holds an ``s3://`` URI, the batch job reads the audio from the bucket and makes the
    report, the API serves the stored bytes, and the server's own audio folder stays empty."""
    import s3fs

    watch = tmp_path / "pbx"
    env = {
        "CALMLINE_STORAGE__AUDIO_URL": "s3://calls/audio",
        "CALMLINE_STORAGE__AUDIO_OPTIONS": json.dumps(s3_endpoint),
        "CALMLINE_WATCH__POLL_S": "0.2",
        "CALMLINE_WATCH__SETTLE_S": "0.2",
    }
    s3 = s3fs.S3FileSystem(**s3_endpoint)
    with CalmlineServer(
        tmp_path / "data", cache_dir, env=env, args=["--watch", str(watch)]
    ) as server:
        key = server.key("admin")

        # a live call: at hang-up the recording goes to S3, the post-call job reads it there
        wav = read_wav(SAMPLES / "en_stereo_mulaw.wav").excerpt(0, LIVE_S)
        url = server.base_url.replace("http://", "ws://") + "/api/v1/live/ingest"
        result = asyncio.run(
            stream_raw(url, wav, call_id="live-s3", agent_id="a1", key=key, language="en")
        )
        stopped = result.stopped
        assert not result.errors and stopped and stopped["stored"], result.messages[-3:]
        uri = _stored_in_s3(server, s3, "live-s3")
        assert uri.endswith(".wav") and PurePosixPath(uri).name.startswith("live-")
        job_id = stopped["post_call_job"]
        assert job_id, "a complete two-track call is queued for the batch pipeline"
        job = server.wait_job(key, job_id)
        assert job["state"] == "done", (job, server.log()[-3000:])
        with server.client(key) as c:
            report = c.get("/api/v1/calls/live-s3/report").json()
        assert "decode" in report["timings"], "the batch job decoded the stored object"
        assert server.store.get_report("live-s3").audio.path == uri
        assert report["audio"]["duration"] == pytest.approx(LIVE_S, abs=0.05)
        assert report["turns"] and report["scorecard"] is not None
        recorded = s3.cat_file(uri)
        _check_served(server, key, "live-s3", recorded)

        # a watched-folder file: copied to S3 as it is, queued, analysed from the bucket
        clip = tmp_path / "agent7_pbx-55_20261120T141500.wav"
        whole = load_audio(SAMPLES / "en_stereo_mulaw.wav")
        write_wav(whole.samples[:, : int(LIVE_S) * whole.sample_rate], whole.sample_rate, clip)
        exported = clip.read_bytes()
        watch.mkdir(exist_ok=True)
        shutil.copy(clip, watch / clip.name)
        call = _wait(lambda: server.store.get_call("pbx-55"), "watched call", server=server)
        assert call.agent_id == "agent7" and call.source == "watch"
        uri = _stored_in_s3(server, s3, "pbx-55")
        assert uri.endswith(".wav") and s3.cat_file(uri) == exported
        job = server.wait_job(key, server.store.latest_job("pbx-55").id)
        assert job["state"] == "done", (job, server.log()[-3000:])
        with server.client(key) as c:
            report = c.get("/api/v1/calls/pbx-55/report").json()
        assert server.store.get_report("pbx-55").audio.path == uri
        assert report["audio"]["duration"] == pytest.approx(
            load_audio(clip).info.duration, abs=0.01
        )
        assert report["turns"]
        _check_served(server, key, "pbx-55", exported)
        assert (watch / "processed" / clip.name).read_bytes() == exported

        assert _files(server.data_dir / "audio") == set(), "nothing in the local audio folder"


def test_watcher_copies_into_the_audio_store_and_removes_what_no_row_took(tmp_path):
    """The exported file is copied (it moves to ``processed/`` whole), the store's copy is the
    call's audio; when the row cannot be written the stored copy is removed again."""
    db = Store(f"sqlite:///{tmp_path / 'calmline.db'}", tmp_path / "audio")
    db.migrate()
    audio = open_audio_store(f"memory://calmline-{uuid.uuid4().hex}/audio", default_dir=tmp_path)
    folder = tmp_path / "pbx"
    watcher = FolderWatcher(folder, db, audio_store=audio, pattern=PATTERN, settle_s=0.0)
    data = (SAMPLES / "en_pii.wav").read_bytes()
    (folder / "a1_mem-1.WAV").write_bytes(data)
    assert watcher.scan() == ["mem-1"]
    uri = db.get_call("mem-1").audio_path
    assert uri.startswith(audio.url + "/mem-1~") and uri.endswith(".wav")
    with audio.open(uri) as f:
        assert f.read() == data
    assert (folder / "processed" / "a1_mem-1.WAV").read_bytes() == data
    assert _files(tmp_path / "audio") == set()

    # the database refuses the row: nothing stays in the store
    listed = set(audio.fs.find(audio.root))
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TRIGGER refuse BEFORE INSERT ON calls "
                "BEGIN SELECT RAISE(ABORT, 'no row'); END"
            )
        )
    (folder / "a1_mem-2.wav").write_bytes(data)
    with pytest.raises(Exception, match="no row"):
        watcher.scan()
    assert set(audio.fs.find(audio.root)) == listed
    assert (folder / "a1_mem-2.wav").exists(), "the export waits for the next poll"
    db.close()


def test_local_store_copies_a_kept_source(tmp_path):
    """``keep_source``: the local store copies the file instead of moving it."""
    local = LocalAudioStore(tmp_path / "audio")
    source = tmp_path / "export.wav"
    shutil.copy(SAMPLES / "en_pii.wav", source)
    uri = local.put("k-1", "audio.wav", source, keep_source=True)
    assert source.exists() and Path(uri).read_bytes() == source.read_bytes()
    assert not [p for p in _files(tmp_path / "audio") if p.name.endswith(".part")]
