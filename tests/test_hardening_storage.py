"""Storage and resource limits (issue 11, item 3): one audio folder per call whatever its id,
chunked uploads stopped at the size limit, bounded rubric YAML, a live-call limit by default,
and bounded silence for jumps in live media timestamps. Real servers on 127.0.0.1, real SQLite,
real audio."""

from __future__ import annotations

import asyncio
import io
import os
import time
import uuid
from pathlib import Path

import psutil
import pytest

from calmline.monitor.audiostore import LocalAudioStore
from calmline.monitor.rubric import (
    MAX_YAML_ALIASES,
    MAX_YAML_DEPTH,
    RubricError,
    default_rubric,
    parse_rubric,
)
from calmline.monitor.settings import Settings
from calmline.monitor.store import Store
from tests.conftest import SAMPLES
from tests.live_client import read_wav, stream_raw, stream_twilio
from tests.server import CalmlineServer

MAX_UPLOAD_MB = 2


@pytest.fixture(scope="module")
def server(tmp_path_factory, cache_dir):
    """No analysis worker and no models: these tests are about storage and input limits."""
    env = {
        "CALMLINE_SERVER__LOAD_MODELS": "false",
        "CALMLINE_SERVER__MAX_UPLOAD_MB": str(MAX_UPLOAD_MB),
    }
    data = tmp_path_factory.mktemp("hardening-storage") / "data"
    with CalmlineServer(data, cache_dir, workers=0, env=env) as srv:
        yield srv


@pytest.fixture(scope="module")
def admin(server) -> str:
    return server.key("admin")


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'calmline.db'}", tmp_path / "audio")
    s.migrate()
    yield s
    s.close()


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


# ---------------------------------------------------------------------------- one folder per call


def test_ids_that_differ_only_in_unsafe_characters_get_their_own_audio(server, admin):
    """``col:1`` (agent a1) and ``col_1`` (agent a2) used to share ``audio/col_1/``: the second
    upload overwrote the first, and a1 was served a2's audio."""
    first, second = SAMPLES / "en_pii.wav", SAMPLES / "zh_pii.wav"
    r1 = server.upload(admin, first, "a1", call_id="col:1")
    r2 = server.upload(admin, second, "a2", call_id="col_1")
    assert (r1.status_code, r2.status_code) == (202, 202), (r1.text, r2.text)
    with server.client(server.key("agent", "a1")) as c:
        own = c.get("/api/v1/calls/col:1/audio")
        other = c.get("/api/v1/calls/col_1/audio")
    assert own.status_code == 200 and own.content == first.read_bytes()
    assert other.status_code == 403
    with server.client(server.key("agent", "a2")) as c:
        assert c.get("/api/v1/calls/col_1/audio").content == second.read_bytes()
    store = server.store
    path1, path2 = (Path(store.get_call(c).audio_path) for c in ("col:1", "col_1"))
    assert path1.parent != path2.parent
    assert path1.parent == store.call_audio_dir("col:1")
    assert path2.parent == store.call_audio_dir("col_1")


def test_folder_names_are_unique_per_exact_id_and_readable(store):
    ids = ["col:1", "col_1", "col@1", "Col_1", "col.1", "a" * 128, "a" * 127 + "b", "电话-1"]
    folders = [store.call_audio_dir(i) for i in ids]
    assert len(set(folders)) == len(ids)
    assert len({f.name.lower() for f in folders}) == len(ids), "case-insensitive disks too"
    assert all(f.parent == store.audio_dir for f in folders)
    assert store.call_audio_dir("col:1").name.startswith("col_1~")
    assert all(f.name.isascii() and len(f.name) <= 65 for f in folders)


def test_deleting_a_call_removes_only_its_own_audio(store):
    paths = {}
    audio = LocalAudioStore(store.audio_dir)
    for call_id, agent in (("col:1", "a1"), ("col_1", "a2")):
        path = Path(audio.put(call_id, "audio.wav", io.BytesIO(call_id.encode())))
        store.create_call(call_id, agent, "upload", audio_path=path, job_params={})
        paths[call_id] = path
    store.delete_call("col:1")
    assert store.get_call("col:1") is None
    assert not paths["col:1"].exists() and not store.call_audio_dir("col:1").exists()
    assert paths["col_1"].read_bytes() == b"col_1"
    store.delete_call("col_1")
    assert _files(store.audio_dir) == set()


def test_calls_stored_in_the_old_shared_folders_stay_readable_and_delete_alone(
    store, server, admin
):
    """Rows written before folders were unique keep their ``audio_path`` (``audio/col_1/…``,
    possibly shared by two ids): they are still served, and deleting one leaves the other."""
    legacy = store.audio_dir / "old_1"
    legacy.mkdir(parents=True)
    (legacy / "audio.wav").write_bytes(b"first")
    (legacy / "audio-2.wav").write_bytes(b"second")
    store.create_call("old:1", "a1", "upload", audio_path=legacy / "audio.wav", job_params={})
    store.create_call("old_1", "a2", "upload", audio_path=legacy / "audio-2.wav", job_params={})
    store.delete_call("old:1")
    assert not (legacy / "audio.wav").exists()
    assert (legacy / "audio-2.wav").read_bytes() == b"second"
    store.delete_call("old_1")
    assert not legacy.exists()

    # served from the stored path by a real server
    old = server.store.audio_dir / "legacy_7"
    old.mkdir(parents=True)
    wav = SAMPLES / "en_pii.wav"
    (old / "audio.wav").write_bytes(wav.read_bytes())
    server.store.create_call("legacy:7", "a1", "upload", audio_path=old / "audio.wav")
    with server.client(admin) as c:
        r = c.get("/api/v1/calls/legacy:7/audio")
    assert r.status_code == 200 and r.content == wav.read_bytes()


def test_a_call_id_race_keeps_the_winners_audio(store):
    """Two writers of one new call id: the loser's clean-up must not remove the winner's file."""
    audio = LocalAudioStore(store.audio_dir)
    winner = Path(audio.put("race-1", "audio.wav", io.BytesIO(b"winner")))
    loser = Path(audio.put("race-1", "audio.wav", io.BytesIO(b"loser")))
    assert winner != loser and winner.parent == loser.parent
    assert winner.parent == store.call_audio_dir("race-1")
    store.create_call("race-1", "a1", "upload", audio_path=winner, job_params={})
    with pytest.raises(ValueError, match="exists already"):
        store.create_call("race-1", "a2", "upload", audio_path=loser, job_params={})
    audio.delete(str(loser))
    assert winner.read_bytes() == b"winner" and not loser.exists()


# ---------------------------------------------------------------------------- chunked uploads


def _multipart(boundary: str, fields: dict[str, str], name: str, chunks, sent: list[int]):
    """A multipart/form-data body as a generator (httpx sends it chunked: no Content-Length);
    ``sent[0]`` counts the bytes the server has taken."""
    for key, value in fields.items():
        part = f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
        sent[0] += len(part)
        yield part.encode()
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    sent[0] += len(head)
    yield head.encode()
    for chunk in chunks:
        sent[0] += len(chunk)
        yield chunk
    yield f"\r\n--{boundary}--\r\n".encode()


def _chunked_upload(server, key: str, call_id: str, name: str, chunks):
    boundary = uuid.uuid4().hex
    sent = [0]
    body = _multipart(boundary, {"agent_id": "a1", "call_id": call_id}, name, chunks, sent)
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    with server.client(key) as c:
        r = c.post("/api/v1/calls", content=body, headers=headers)
    assert "content-length" not in {k.lower() for k in r.request.headers}
    return r, sent[0]


def test_chunked_upload_over_the_limit_is_stopped_at_the_limit(server, admin):
    total = 96 * 1024 * 1024
    zeros = bytes(64 * 1024)
    proc = psutil.Process(server.proc.pid)
    rss_before = proc.memory_info().rss
    incoming = server.store.audio_dir / ".incoming"
    before = _files(server.store.audio_dir)
    t0 = time.monotonic()
    r, sent = _chunked_upload(
        server, admin, "huge-1", "huge.wav", (zeros for _ in range(total // len(zeros)))
    )
    elapsed = time.monotonic() - t0
    assert r.status_code == 413, r.text
    assert f"{MAX_UPLOAD_MB:g} MB" in r.json()["detail"]
    # the server read about the limit, not the body: the client could send little more
    assert sent < 24 * 1024 * 1024, f"the server took {sent} bytes of a {total}-byte body"
    assert elapsed < 20
    assert proc.memory_info().rss - rss_before < 64 * 1024 * 1024
    assert server.store.get_call("huge-1") is None
    assert _files(server.store.audio_dir) == before
    assert _files(incoming) == set()
    with server.client(admin) as c:  # the server goes on
        assert c.get("/healthz").status_code == 200


def test_chunked_upload_under_the_limit_is_taken(server, admin):
    wav = SAMPLES / "en_pii.wav"
    data = wav.read_bytes()
    pieces = (data[i : i + 65536] for i in range(0, len(data), 65536))
    r, _ = _chunked_upload(server, admin, "chunked-ok", wav.name, pieces)
    assert r.status_code == 202, r.text
    with server.client(admin) as c:
        assert c.get("/api/v1/calls/chunked-ok/audio").content == data


@pytest.mark.parametrize("role", [None, "agent"])
def test_an_upload_without_an_upload_key_is_refused_before_its_body_is_read(server, role):
    """A client that may not upload gets its 401/403 while it is still sending: the server
    does not wait for (up to the size limit of) a body it will refuse anyway."""
    import socket

    boundary = uuid.uuid4().hex
    key = server.key("agent", agent_id="a1") if role == "agent" else None
    head = (
        "POST /api/v1/calls HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        "Transfer-Encoding: chunked\r\n" + (f"X-API-Key: {key}\r\n" if key else "") + "\r\n"
    )
    part = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + bytes(64 * 1024)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(head.encode() + f"{len(part):x}\r\n".encode() + part + b"\r\n")
        # the body is not finished: only an answer given before reading it can arrive now
        answer = s.recv(4096).decode("latin-1")
    status = int(answer.split(" ", 2)[1])
    assert status == (403 if role else 401), answer
    if role:
        assert any(
            a.action == "POST /api/v1/calls" and a.outcome == "refused"
            for a in server.store.audit_log(limit=20)
        )


# ---------------------------------------------------------------------------- rubric YAML


def _laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        prev, name = chr(96 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]")
    return "\n".join(lines) + "\n"


BAD_YAML = {
    "recursive": ("a: &a [*a]\n", "recursive"),
    "recursive mapping": ("rubric: x\nm: &m {inner: *m}\n", "recursive"),
    "billion laughs": (_laughs(), "once its aliases are expanded"),
    "deep flow": ("[" * 100_000, f"nested more than {MAX_YAML_DEPTH} levels"),
    "deep block": (
        "".join(f"{'  ' * i}k{i}:\n" for i in range(200)) + "  " * 200 + "x: 1\n",
        f"nested more than {MAX_YAML_DEPTH} levels",
    ),
    "aliases": (
        "a: &a 1\nb: [" + ", ".join(["*a"] * (MAX_YAML_ALIASES + 1)) + "]\n",
        f"more than {MAX_YAML_ALIASES} aliases",
    ),
    "values": ("a: [" + ",".join(["x"] * 60_000) + "]\n", "values"),
    "size": ("# " + "x" * 300_000 + "\n", "characters long"),
}


@pytest.mark.parametrize("case", list(BAD_YAML))
def test_hostile_rubric_yaml_is_a_rubric_error_in_milliseconds(case):
    text, message = BAD_YAML[case]
    t0 = time.perf_counter()
    with pytest.raises(RubricError) as info:
        parse_rubric(text, source="house.yaml")
    elapsed = time.perf_counter() - t0
    assert message in str(info.value) and str(info.value).startswith("house.yaml")
    assert elapsed < 0.5, f"{case}: {elapsed:.2f} s"


def test_packaged_rubrics_are_within_the_limits():
    for language in ("zh", "en"):
        assert default_rubric(language).practices


@pytest.mark.parametrize("case", ["recursive", "billion laughs", "deep flow"])
def test_rescore_with_hostile_rubric_is_422_fast(server, admin, case):
    text, message = BAD_YAML[case]
    with server.client(admin) as c:
        t0 = time.monotonic()
        r = c.post("/api/v1/rescore", json={"rubric_yaml": text})
        elapsed = time.monotonic() - t0
    assert r.status_code == 422, r.text
    assert message in r.json()["detail"]
    assert elapsed < 1.0, f"{case}: {elapsed:.2f} s"


# ---------------------------------------------------------------------------- live limits


def test_live_max_calls_defaults_to_what_the_cpus_follow(monkeypatch):
    monkeypatch.delenv("CALMLINE_LIVE__MAX_CALLS", raising=False)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert Settings().live.max_calls == max(1, 2 * (cores or 1))
    monkeypatch.setenv("CALMLINE_LIVE__MAX_CALLS", "12")
    assert Settings.load().live.max_calls == 12
    monkeypatch.setenv("CALMLINE_LIVE__MAX_CALLS", "0")
    assert Settings.load().live.max_calls == 0, "0 still means no limit"


def _jump(after_s: float, by_s: float):
    """A ``transform`` for ``stream_twilio``: media timestamps from ``after_s`` on are moved
    ``by_s`` ahead (a clock that jumps)."""

    def transform(media):
        out = []
        for t, message in media:
            if t >= after_s:
                m = {**message, "media": dict(message["media"])}
                m["media"]["timestamp"] = str(int(m["media"]["timestamp"]) + round(by_s * 1000))
                message = m
            out.append((t, message))
        return out

    return transform


def test_a_jump_in_twilio_timestamps_is_a_warning_not_hours_of_silence(tmp_path, cache_dir):
    """A 10 min jump in the media timestamps used to become 10 min of zeros per track (2 h took
    the server to 3.96 GB). Now: at most ``live.max_gap_s`` of silence, an error frame, a
    warning in the report, and the rest of the call right after."""
    env = {"CALMLINE_SERVER__LOAD_MODELS": "false", "CALMLINE_LIVE__MAX_GAP_S": "2"}
    wav = read_wav(SAMPLES / "en_stereo_mulaw.wav").excerpt(0, 6.0)
    with CalmlineServer(tmp_path / "data", cache_dir, workers=0, env=env) as server:
        key = server.key("supervisor")
        url = server.base_url.replace("http://", "ws://") + "/api/v1/live/twilio"
        result = asyncio.run(
            stream_twilio(
                url, wav, call_sid="CAjump1", agent_id="a1", key=key, transform=_jump(3.0, 600)
            )
        )
        with server.client(key) as c:
            report = c.get("/api/v1/calls/CAjump1/report").json()
    assert result.stopped is not None and result.stopped["stored"], result.messages
    jumps = [m for m in result.errors if "jumped" in m["detail"]]
    assert len(jumps) == 2, result.messages  # one per track
    assert "600.0 s ahead" in jumps[0]["detail"] and "live.max_gap_s" in jumps[0]["detail"]
    assert report["audio"]["duration"] == pytest.approx(6.0 + 2.0, abs=0.1)
    assert sum("jumped" in w for w in report["warnings"]) == 2


def test_a_live_call_past_the_longest_accepted_is_closed_and_keeps_its_audio(tmp_path, cache_dir):
    """A client that sends a call past ``audio.max_duration_s`` as fast as it can: the server
    reads ahead of the analysis, which finds the limit; the stream is closed with the reason
    (policy violation) and the call is stored, incomplete, with the audio up to the limit."""
    env = {"CALMLINE_SERVER__LOAD_MODELS": "false", "CALMLINE_AUDIO__MAX_DURATION_S": "5"}
    wav = read_wav(SAMPLES / "en_stereo_mulaw.wav").excerpt(0, 12.0)
    with CalmlineServer(tmp_path / "data", cache_dir, workers=0, env=env) as server:
        key = server.key("supervisor")
        url = server.base_url.replace("http://", "ws://") + "/api/v1/live/ingest"
        result = asyncio.run(stream_raw(url, wav, call_id="too-long", agent_id="a1", key=key))
        with server.client(key) as c:
            call = c.get("/api/v1/calls/too-long").json()
            report = c.get("/api/v1/calls/too-long/report").json()
    assert result.close_code == 1008 and result.stopped is None, result.messages
    (error,) = [m for m in result.errors if "longest accepted" in m["detail"]]
    assert "(5 s)" in error["detail"]
    assert call["metadata"]["live"]["source"] == "raw"
    assert report["audio"]["duration"] == pytest.approx(5.0, abs=0.05)
    assert any("after an error" in w for w in report["warnings"]), report["warnings"]
