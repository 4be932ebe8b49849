"""Audio by URI (issue 16, item 3): the audio store, uploads checked without decoding, workers
and downloads reading through the store.

Real parts throughout: real files and fsspec filesystems, real ``calmline serve`` processes
whose audio lives in a ``file://`` folder outside their data directory or in a local S3 server
(moto's, on 127.0.0.1, reached through ``s3fs``).
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import av
import httpx
import numpy as np
import pytest

from calmline.monitor.audio import LoadOptions, load_audio, write_wav
from calmline.monitor.audioprobe import inspect_audio
from calmline.monitor.audiostore import LocalAudioStore, open_audio_store
from calmline.monitor.errors import (
    AudioCorruptError,
    AudioMissingError,
    AudioTooLongError,
    NotAudioError,
)
from calmline.monitor.settings import Settings
from calmline.monitor.store import Store
from calmline.pipelines.batch import BatchPipeline
from tests.conftest import SAMPLES
from tests.server import CalmlineServer, free_port
from tests.test_hardening_memory import clear_flac_length, write_flac

SAMPLE = SAMPLES / "en_stereo_mulaw.wav"
MB = 2**20


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


# ---------------------------------------------------------------------- the store itself


def test_local_store_keeps_the_call_folder_layout_and_plain_paths(tmp_path):
    """The default store writes where ``Store.call_audio_dir`` says, and its URIs are plain
    absolute paths, so rows written before URIs and after look alike."""
    audio_dir = tmp_path / "audio"
    db = Store(f"sqlite:///{tmp_path / 'calmline.db'}", audio_dir)
    local = LocalAudioStore(audio_dir)
    data = SAMPLE.read_bytes()
    uri = local.put("col:1", "audio.wav", io.BytesIO(data))
    path = Path(uri)
    assert path.is_absolute() and path.parent == db.call_audio_dir("col:1")
    assert path.name.startswith("audio-") and path.suffix == ".wav"
    assert local.exists(uri) and local.size(uri) == len(data) and local.is_local(uri)
    with local.open(uri) as f:
        assert f.read() == data
    with local.local_path(uri) as p:
        assert p == path  # the file itself, no copy
    assert path.exists()  # and it stays

    # a spooled file is moved in, not copied
    spooled = tmp_path / "incoming.wav"
    shutil.copy(SAMPLE, spooled)
    second = local.put("col:1", "audio.wav", spooled)
    assert not spooled.exists() and Path(second).read_bytes() == data
    assert second != uri  # each writer its own name

    local.delete(uri)
    assert not local.exists(uri) and path.parent.is_dir()  # the other file is still there
    local.delete(second)
    assert not path.parent.exists()  # an empty call folder goes with its last file
    local.delete(second)  # deleting twice is fine
    assert _files(audio_dir) == set()
    db.close()


@pytest.mark.parametrize("url", ["local", "memory"])
def test_old_absolute_paths_resolve_in_any_store(tmp_path, url):
    """A row written before URIs holds ``/…/audio/old_1/audio.wav``: it still opens, whatever
    store is configured now, and the worker decodes it."""
    legacy = tmp_path / "audio" / "old_1" / "audio.wav"
    legacy.parent.mkdir(parents=True)
    shutil.copy(SAMPLE, legacy)
    if url == "local":
        store = LocalAudioStore(tmp_path / "audio")
    else:
        store = open_audio_store(f"memory://calmline-{uuid.uuid4().hex}", default_dir=tmp_path)
    uri = str(legacy)
    assert store.exists(uri) and store.is_local(uri)
    with store.open(uri) as f:
        assert f.read() == SAMPLE.read_bytes()
    with store.local_path(uri) as p:
        assert p == legacy
    settings = Settings(storage={"data_dir": str(tmp_path), "audio_url": store.url})
    audio = BatchPipeline(settings).load(uri)
    assert audio.info.path == uri and audio.channels == 2


def test_memory_store_round_trip_and_the_worker_reads_from_it(tmp_path):
    """An fsspec store: URIs are URLs, reads need no local file, the decoder gets a temporary
    download (removed after) and names the URI in what it reports."""
    url = f"memory://calmline-{uuid.uuid4().hex}/audio"
    settings = Settings(storage={"data_dir": str(tmp_path / "data"), "audio_url": url})
    from calmline.monitor.audiostore import audio_store_from_settings

    store = audio_store_from_settings(settings)
    data = SAMPLE.read_bytes()
    with SAMPLE.open("rb") as f:
        uri = store.put("pbx:42", "my call.WAV", f)
    assert uri.startswith(store.url + "/pbx_42~") and uri.endswith(".wav")
    assert store.exists(uri) and store.size(uri) == len(data) and not store.is_local(uri)
    with store.open(uri) as f:
        f.seek(1000)
        assert f.read(500) == data[1000:1500]
    with store.local_path(uri) as p:
        downloaded = p
        assert p.read_bytes() == data and p.suffix == ".wav"
    assert not downloaded.exists()
    assert _files(tmp_path / "data" / "audio") == set()  # nothing written locally

    pipeline = BatchPipeline(settings)
    audio = pipeline.load(uri)
    direct = load_audio(SAMPLE)
    assert audio.info.path == uri
    assert audio.info.duration == direct.info.duration
    np.testing.assert_array_equal(audio.samples, direct.samples)

    # bad stored audio is reported under its URI, never under the temporary download
    cut = store.put("pbx:43", "audio.wav", io.BytesIO(data[:40_000]))
    with pytest.raises(AudioCorruptError) as err:
        pipeline.load(cut)
    assert err.value.path == cut and "truncated" in err.value.reason
    store.delete(uri)
    assert not store.exists(uri)
    with pytest.raises(AudioMissingError) as err:
        pipeline.load(uri)
    assert err.value.path == uri


def test_unknown_audio_url_is_refused_naming_the_setting(tmp_path):
    with pytest.raises(ValueError, match=r"storage.audio_url 'nosuch://x'.*unknown protocol"):
        Settings(storage={"data_dir": str(tmp_path), "audio_url": "nosuch://x"})


# ---------------------------------------------------------------------- the upload check


def _write_opus(path: Path, source: Path = SAMPLES / "en_mono.wav") -> Path:
    with av.open(str(source)) as src, av.open(str(path), "w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=48000)
        for frame in src.decode(audio=0):
            frame.pts = None
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def test_inspect_agrees_with_the_decoder_without_decoding(tmp_path):
    """The upload check reads the header and the packets: its facts match a full decode, and
    what it refuses is refused with the decoder's typed errors."""
    flac = write_flac(tmp_path / "noise.flac", 30.0, noise_lsb=200)
    opus = _write_opus(tmp_path / "call.opus")
    for path in (SAMPLE, SAMPLES / "zh_stereo.wav", flac, opus):
        info, decoded = inspect_audio(path), load_audio(path).info
        assert (info.container, info.channels, info.sample_rate) == (
            decoded.container,
            decoded.channels,
            decoded.sample_rate,
        ), path
        assert abs(info.duration - decoded.duration) < 0.15, (path, info, decoded)

    cut_opus = tmp_path / "cut.opus"
    cut_opus.write_bytes(opus.read_bytes()[: opus.stat().st_size // 2])
    with pytest.raises(AudioCorruptError, match="end-of-stream"):
        inspect_audio(cut_opus)
    cut_flac = tmp_path / "cut.flac"
    cut_flac.write_bytes(flac.read_bytes()[:20_000])
    with pytest.raises(AudioCorruptError, match=r"declares 30\.00 s"):
        inspect_audio(cut_flac)
    # a header that declares no length: the packets are counted, up to the limit only
    bomb = clear_flac_length(write_flac(tmp_path / "bomb.flac", 600.0))
    with pytest.raises(AudioTooLongError, match=r"longer than the limit of 60\.0 s"):
        inspect_audio(bomb, LoadOptions(max_duration_s=60))
    with pytest.raises(NotAudioError):
        inspect_audio(Path(__file__))


# ---------------------------------------------------------------------- real servers


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """The first 25 s of the stereo sample (both parties speak): a full analysis in seconds."""
    audio = load_audio(SAMPLE)
    path = tmp_path_factory.mktemp("clip") / "clip.wav"
    return write_wav(audio.samples[:, : 25 * audio.sample_rate], audio.sample_rate, path)


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory, cache_dir):
    """A server whose audio lives in a ``file://`` folder outside its data directory."""
    root = tmp_path_factory.mktemp("store")
    shared = root / "shared-audio"
    env = {"CALMLINE_STORAGE__AUDIO_URL": shared.as_uri()}
    with CalmlineServer(root / "data", cache_dir, env=env) as server:
        server.shared = shared
        yield server


def _check_served(server, key: str, call_id: str, data: bytes) -> None:
    with server.client(key) as c:
        r = c.get(f"/api/v1/calls/{call_id}/audio")
        assert r.status_code == 200 and r.content == data
        assert r.headers["content-type"] == "audio/wav"
        r = c.get(f"/api/v1/calls/{call_id}/audio", headers={"Range": "bytes=100-1099"})
        assert r.status_code == 206 and r.content == data[100:1100]
        assert r.headers["content-range"] == f"bytes 100-1099/{len(data)}"
        r = c.get(f"/api/v1/calls/{call_id}/audio", headers={"Range": "bytes=-10"})
        assert r.status_code == 206 and r.content == data[-10:]


def _upload_and_analyse(server, key: str, call_id: str, clip: Path) -> str:
    """Upload ``clip``, wait for its report; returns the stored URI."""
    r = server.upload(key, clip, "a1", call_id=call_id)
    assert r.status_code == 202, r.text
    job = server.wait_job(key, r.json()["job_id"])
    assert job["state"] == "done", (job, server.log()[-3000:])
    with server.client(key) as c:
        report = c.get(f"/api/v1/calls/{call_id}/report").json()
    assert report["audio"]["channels"] == 2
    assert abs(report["audio"]["duration"] - load_audio(clip).info.duration) < 0.01
    assert report["turns"], "the worker read the audio and transcribed it"
    return server.store.get_call(call_id).audio_path


def test_file_url_store_on_a_real_server(shared_server, clip):
    """Upload -> stored in the shared folder (a file:// URI in the row) -> the worker reads it
    from there -> report -> the audio downloads, ranges included. Nothing lands in the server's
    own audio folder."""
    key = shared_server.key("admin")
    uri = _upload_and_analyse(shared_server, key, "shared-1", clip)
    assert uri.startswith(shared_server.shared.as_uri() + "/shared-1~")
    stored = Path(uri.removeprefix("file://"))
    assert stored.read_bytes() == clip.read_bytes()
    assert shared_server.store.get_call("shared-1").audio_bytes == clip.stat().st_size
    assert _files(shared_server.data_dir / "audio") == set()
    _check_served(shared_server, key, "shared-1", clip.read_bytes())


def test_bad_uploads_are_refused_by_name_and_nothing_is_stored(shared_server, tmp_path):
    data = SAMPLE.read_bytes()
    opus = _write_opus(tmp_path / "whole.opus").read_bytes()
    three = tmp_path / "three.wav"
    write_wav(np.zeros((3, 8000), dtype=np.float32), 8000, three)
    flac = write_flac(tmp_path / "f.flac", 20.0, noise_lsb=200).read_bytes()
    cases = [
        ("empty-call.wav", b"", 415, "empty"),
        ("minutes.txt", b"this is not audio at all\n" * 100, 415, "no audio"),
        ("cut-call.wav", data[:40_000], 422, "truncated"),
        ("cut-call.flac", flac[: len(flac) // 3], 422, "truncated"),
        ("cut-call.opus", opus[: len(opus) // 2], 422, "truncated"),
        ("conference.wav", three.read_bytes(), 422, "3 channels"),
    ]
    key = shared_server.key("admin")
    before = _files(shared_server.shared)
    with shared_server.client(key) as c:
        total = c.get("/api/v1/calls").json()["total"]
        for name, content, status, words in cases:
            r = c.post("/api/v1/calls", data={"agent_id": "a1"}, files={"file": (name, content)})
            assert r.status_code == status, (name, r.text)
            detail = r.json()["detail"]
            assert detail.startswith(f"{name}: ") and words in detail.lower(), detail
        assert c.get("/api/v1/calls").json()["total"] == total
    assert _files(shared_server.shared) == before
    assert not [p for p in _files(shared_server.data_dir / "audio") if ".incoming" in p.parts]


def test_large_upload_is_checked_in_bounded_memory(tmp_path, cache_dir):
    """A 30-minute stereo WAV (55 MB) is spooled and checked without the server's peak RSS
    growing by the file, let alone its decoded samples (no worker: nothing else runs)."""
    big = tmp_path / "long-call.wav"
    rng = np.random.default_rng(1)
    with big.open("wb") as f:  # header, then noise written a minute at a time
        rate, seconds = 8000, 30 * 60
        f.write(b"RIFF" + (36 + rate * 4 * seconds).to_bytes(4, "little") + b"WAVEfmt ")
        f.write((16).to_bytes(4, "little") + (1).to_bytes(2, "little") + (2).to_bytes(2, "little"))
        f.write(rate.to_bytes(4, "little") + (rate * 4).to_bytes(4, "little"))
        f.write((4).to_bytes(2, "little") + (16).to_bytes(2, "little"))
        f.write(b"data" + (rate * 4 * seconds).to_bytes(4, "little"))
        for _ in range(30):
            f.write(rng.integers(-3000, 3000, rate * 60 * 2, dtype=np.int16).tobytes())
    assert big.stat().st_size > 50 * MB
    env = {
        "CALMLINE_SERVER__LOAD_MODELS": "false",
        "CALMLINE_STORAGE__AUDIO_URL": (tmp_path / "shared").as_uri(),
    }
    with CalmlineServer(tmp_path / "data", cache_dir, workers=0, env=env) as server:
        key = server.key("admin")
        before = _vm_hwm(server.proc.pid)
        r = server.upload(key, big, "a1", call_id="long-1")
        after = _vm_hwm(server.proc.pid)
        assert r.status_code == 202, r.text
        stored = server.store.get_call("long-1").audio_path
        assert Path(stored.removeprefix("file://")).stat().st_size == big.stat().st_size
    assert after - before < 40 * MB, (before, after)


def _vm_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


# ---------------------------------------------------------------------- S3 (moto server)


@pytest.fixture
def s3_endpoint(tmp_path):
    """A local S3 server (moto) on 127.0.0.1 with a bucket ``calls``."""
    pytest.importorskip("s3fs", reason="the s3 extra (s3fs) is not installed")
    moto_server = Path(sys.executable).with_name("moto_server")
    if not moto_server.exists():
        pytest.skip("moto[server] is not installed (pip install 'moto[server]')")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "moto.log").open("wb")
    proc = subprocess.Popen(
        [str(moto_server), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url, timeout=1.0)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError((tmp_path / "moto.log").read_text()) from None
                time.sleep(0.2)
        options = {
            "endpoint_url": url,
            "key": "test",
            "secret": "test",
            "client_kwargs": {"region_name": "eu-west-1"},
        }
        import s3fs

        s3fs.S3FileSystem(**options).mkdir("calls")
        yield options
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def test_s3_store_on_a_real_server(tmp_path, cache_dir, s3_endpoint, clip):
    """Upload to a real server whose audio store is S3 (moto on 127.0.0.1): the object is in
    the bucket, the worker downloads and analyses it, the API streams it back."""
    import s3fs

    env = {
        "CALMLINE_STORAGE__AUDIO_URL": "s3://calls/audio",
        "CALMLINE_STORAGE__AUDIO_OPTIONS": json.dumps(s3_endpoint),
    }
    with CalmlineServer(tmp_path / "data", cache_dir, env=env) as server:
        key = server.key("admin")
        uri = _upload_and_analyse(server, key, "s3-1", clip)
        assert uri.startswith("s3://calls/audio/s3-1~") and uri.endswith(".wav")
        s3 = s3fs.S3FileSystem(**s3_endpoint)
        assert s3.cat_file(uri) == clip.read_bytes()
        assert _files(server.data_dir / "audio") == set()
        _check_served(server, key, "s3-1", clip.read_bytes())
        with server.client(key) as c:
            r = c.get("/api/v1/calls/s3-1/audio", headers={"Range": f"bytes={10**9}-"})
            assert r.status_code == 416
            assert r.headers["content-range"] == f"bytes */{clip.stat().st_size}"
        s3.rm_file(uri)
        with server.client(key) as c:
            assert c.get("/api/v1/calls/s3-1/audio").status_code == 404


def test_env_names_are_the_documented_ones(monkeypatch):
    """The settings the README tells operators to set exist under those names."""
    monkeypatch.setenv("CALMLINE_STORAGE__AUDIO_URL", "memory://x/audio")
    monkeypatch.setenv("CALMLINE_STORAGE__AUDIO_OPTIONS", '{"skip_instance_cache": true}')
    storage = Settings().storage
    assert storage.audio_url == "memory://x/audio"
    assert storage.audio_options == {"skip_instance_cache": True}
