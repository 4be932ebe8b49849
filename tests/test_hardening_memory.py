"""Decompression bombs and long calls in bounded memory (issue 11, item 3).

Peak memory is a property of a process, so every measurement runs in a fresh child process (or
the real server's process) and compares its peak RSS (``VmHWM``) with its RSS
before the work: a bound on growth, with wide tolerances, never a timing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from calmline.monitor.audio import LoadOptions, load_audio, probe_audio
from calmline.monitor.errors import AudioCorruptError, AudioTooLongError
from calmline.monitor.spool import is_spooled, read_span
from tests.conftest import SAMPLES
from tests.server import CalmlineServer

MB = 2**20


def write_flac(path: Path, duration_s: float, *, noise_lsb: int = 0, rate: int = 8000) -> Path:
    """Mono 16-bit FLAC of digital silence (or +-``noise_lsb`` of noise), written in blocks."""
    rng = np.random.default_rng(0)
    total = round(duration_s * rate)
    with av.open(str(path), "w", format="flac") as out:
        stream = out.add_stream("flac", rate=rate, layout="mono")
        stream.format = "s16"
        for pos in range(0, total, 1 << 16):
            n = min(1 << 16, total - pos)
            block = rng.integers(-noise_lsb, noise_lsb + 1, n).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(block[None, :], format="s16", layout="mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def clear_flac_length(path: Path) -> Path:
    """Zero STREAMINFO's 36-bit total-samples field: the file no longer declares its length."""
    data = bytearray(path.read_bytes()[:26])
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0
    data[21] &= 0xF0
    data[22:26] = b"\0\0\0\0"
    with path.open("r+b") as f:
        f.write(data)
    return path


def run_child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object on its last line."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


_PEAK = """
import json, sys
import psutil
def rss():
    return psutil.Process().memory_info().rss
def peak():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over execve, so a child of a big pytest
    # process would start with the parent's peak
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")
"""


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """5 h of silence (3-4 MB of FLAC) whose header declares no length."""
    path = clear_flac_length(write_flac(tmp_path_factory.mktemp("bomb") / "bomb.flac", 5 * 3600))
    with av.open(str(path)) as c:
        assert c.streams.audio[0].duration is None  # nothing but decoding tells the length
    return path


def test_flac_bomb_with_cleared_length_is_refused_in_bounded_memory(bomb):
    """Both the upload probe and the decoder stop at the 4 h limit with the typed error, and
    the process never holds the decoded signal (4 h of it would be 0.9-1.8 GB)."""
    code = (
        _PEAK
        + """
from calmline.monitor.audio import LoadOptions, load_audio, probe_audio
from calmline.monitor.errors import AudioTooLongError
base = rss()
out = {}
for fn in (probe_audio, load_audio):
    try:
        fn(sys.argv[1], LoadOptions(max_duration_s=4 * 3600))
        out[fn.__name__] = "accepted"
    except AudioTooLongError as e:
        out[fn.__name__] = e.reason
out["growth"] = peak() - base
print(json.dumps(out))
"""
    )
    result = run_child(code, str(bomb))
    for name in ("probe_audio", "load_audio"):
        assert "longer than the limit of 14400.0 s" in result[name], result
    assert result["growth"] < 300 * MB, result


def test_upload_of_a_flac_bomb_is_refused_without_the_server_growing(tmp_path, cache_dir, bomb):
    """The issue's attack on the real server: the upload is a 422 naming the limit, and the
    server's peak RSS (VmHWM) does not grow by the decoded signal."""
    env = {"CALMLINE_SERVER__LOAD_MODELS": "false"}
    with CalmlineServer(tmp_path / "data", cache_dir, env=env) as server:
        key = server.key("admin")
        before = _vm_hwm(server.proc.pid)
        r = server.upload(key, bomb, "a1")
        after = _vm_hwm(server.proc.pid)
        assert r.status_code == 422, r.text
        assert "longer than the limit" in r.json()["detail"]
        assert not any((server.data_dir / "audio").glob("*/*.flac"))
    assert after - before < 300 * MB, (before, after)


def _vm_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def test_long_silent_call_analyses_in_bounded_memory(tmp_path, cache_dir):
    """An accepted hour of near-silence (8 MB of FLAC) analyses with about the same peak
    memory over the loaded models as one minute of it; in memory the hour alone is 230 MB of
    float32 and whole-signal VAD copies it twice more."""
    code = (
        _PEAK
        + """
from calmline.monitor.settings import Settings
from calmline.pipelines.batch import BatchPipeline
pipeline = BatchPipeline(Settings(cache_dir=sys.argv[2]))
pipeline.models.vad(); pipeline.models.transcriber(None); pipeline.models.diarizer("embedded")
base = rss()
report = pipeline.analyze(sys.argv[1])
print(json.dumps({"growth": peak() - base, "duration": report.audio.duration,
                  "turns": len(report.turns)}))
"""
    )
    results = {}
    for name, seconds in (("short", 60.0), ("long", 3600.0)):
        path = write_flac(tmp_path / f"{name}.flac", seconds, noise_lsb=1)
        results[name] = run_child(code, str(path), str(cache_dir))
        assert results[name]["duration"] == pytest.approx(seconds, abs=0.1)
    grew = results["long"]["growth"] - results["short"]["growth"]
    assert grew < 150 * MB, results


def test_a_spooled_call_holds_exactly_the_samples_decoded_in_memory():
    """Past ``spool_after_s`` the call is decoded to a temporary file; the values are the same
    and the probe reports what the decoder decodes."""
    path = SAMPLES / "en_stereo_mulaw.wav"
    in_memory = load_audio(path)
    spooled = load_audio(path, LoadOptions(spool_after_s=10.0))
    assert not is_spooled(in_memory.samples) and is_spooled(spooled.samples)
    assert spooled.info == in_memory.info == probe_audio(path)
    assert np.array_equal(spooled.samples, in_memory.samples)
    assert np.array_equal(spooled.mono(), in_memory.mono())
    part = read_span(spooled.samples[1], 16000, 48000)
    assert not is_spooled(part) and np.array_equal(part, in_memory.samples[1, 16000:48000])


def test_a_spooled_call_is_analysed_like_one_in_memory(pipeline, tmp_path):
    """Short calls behave exactly as before: the same report from a spooled decode."""
    from dataclasses import asdict

    from calmline.monitor.audio import write_wav
    from calmline.pipelines.batch import AnalyzeRequest

    call = load_audio(SAMPLES / "en_stereo_mulaw.wav")
    path = write_wav(call.samples[:, : 25 * 16000], 16000, tmp_path / "call.wav")
    reports = [
        asdict(pipeline.analyze_audio(load_audio(path, o), AnalyzeRequest(call_id="c")))
        for o in (LoadOptions(), LoadOptions(spool_after_s=0.0))
    ]
    for r in reports:
        r.pop("timings")
    assert reports[0]["turns"] and reports[0] == reports[1]


def test_probe_refuses_what_the_decoder_refuses(tmp_path):
    """The probe keeps the decoder's checks: a cut FLAC is corrupt, a long one too long."""
    src = write_flac(tmp_path / "ok.flac", 20.0, noise_lsb=200)
    cut = tmp_path / "cut.flac"
    cut.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    for fn in (probe_audio, load_audio):
        with pytest.raises(AudioCorruptError):
            fn(cut)
        with pytest.raises(AudioTooLongError):
            fn(src, LoadOptions(max_duration_s=5.0))
    assert probe_audio(src).duration == pytest.approx(20.0, abs=0.01)


def test_speech_without_a_pause_is_transcribed_in_bounded_pieces():
    """Minutes of speech without a 2 s pause are one chunk; it is cut into pieces of at most
    ``max_piece_s`` (Whisper's features of a 4 h chunk would need about 10 GB)."""
    from calmline.models.asr_whisper import _pieces

    pieces = _pieces([(0, 5), (6, 8), (10, 35), (40, 42)], 10)
    assert all(sum(b - a for a, b in p) <= 10 for p in pieces)
    covered = [ab for p in pieces for ab in p]
    assert covered == [(0, 5), (6, 8), (10, 20), (20, 30), (30, 35), (40, 42)]


def test_redacted_export_is_written_block_by_block_as_the_whole_call_would_be(
    tmp_path, monkeypatch
):
    """Served redacted audio is silenced and written a block at a time (a 4 h call never sits in
    memory whole): spans that cross block edges come out exactly as one whole-call pass."""
    import wave

    from calmline.monitor import redact
    from calmline.monitor.types import Audio, AudioInfo

    rng = np.random.default_rng(3)
    sr = 16000
    samples = rng.uniform(-0.5, 0.5, (2, sr * 5)).astype(np.float32)
    spans = [redact.AudioSpan(0.9, 1.05, 0), redact.AudioSpan(2.46, 3.3, None)]
    expected = redact.redact_audio(samples, sr, spans)
    info = AudioInfo("x.wav", "wav", "pcm_s16le", sr, 2, 5.0, 0)
    audio = Audio(samples, info, sr)

    class Report:  # only what audio_spans reads
        redactions = ()

    monkeypatch.setattr(redact, "audio_spans", lambda report: spans)
    monkeypatch.setattr(redact, "REDACT_BLOCK_S", 0.37)  # edges inside both spans and fades
    out = redact.write_redacted_wav(audio, Report(), tmp_path / "r.wav")
    with wave.open(str(out)) as w:
        got = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2).T
    want = np.round(np.clip(expected, -1, 1) * 32767).astype("<i2")
    assert got.shape == want.shape
    assert np.array_equal(got, want)
    # the silence is really there: the whole padded span of channel 0 and of both for the other
    assert not got[0, int(0.75 * sr) : int(1.2 * sr)].any()
    assert not got[:, int(2.3 * sr) : int(3.45 * sr)].any()
    assert got[1, int(0.75 * sr) : int(1.2 * sr)].any()
