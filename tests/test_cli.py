"""The calmline command as a user runs it: a real process, real models, real files."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from calmline.monitor.audio import load_audio
from tests.audio_factory import write_audio
from tests.conftest import SAMPLES
from tests.transcripts import SCRIPT_ERROR_BOUND, error_rate, joined, normalise


def run(*args, cwd=None, env_cache=None):
    import os

    env = dict(os.environ)
    if env_cache is not None:
        env["CALMLINE_CACHE_DIR"] = str(env_cache)
    return subprocess.run(
        [sys.executable, "-m", "calmline", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


def test_analyze_prints_a_summary_and_writes_exports(tmp_path, cache_dir):
    out = tmp_path / "out"
    result = run(
        "analyze",
        str(SAMPLES / "en_stereo_mulaw.wav"),
        "--asr-model",
        "bundled:tiny.en",
        "--json",
        str(out / "call.json"),
        "--rttm",
        str(out / "call.rttm"),
        "--vtt",
        str(out / "call.vtt"),
        env_cache=cache_dir,
    )
    assert result.returncode == 0, result.stderr
    assert "language en" in result.stdout
    assert "attribution channels" in result.stdout
    assert "agent talk ratio" in result.stdout
    report = json.loads((out / "call.json").read_text())
    # what Whisper hears differs between CPUs: the transcript is compared with the script within
    # a bound, and the summary must print the report's own first words
    script = json.loads((SAMPLES / "en_stereo_mulaw.json").read_text())["utterances"]
    heard = joined((t["text"] for t in report["turns"]), "en")
    assert error_rate(joined((u["text"] for u in script), "en"), heard, "en") < SCRIPT_ERROR_BOUND
    first = next(normalise(t["text"], "en") for t in report["turns"] if t["text"].strip())
    assert first[:20] in normalise(result.stdout, "en"), result.stdout
    assert report["schema_version"] == "1.5"
    assert report["models"][1]["name"] == "whisper-tiny.en"
    rttm = [line.split() for line in (out / "call.rttm").read_text().splitlines()]
    # who spoke when: one line per speech segment, the diarization's speaker labels
    assert [ln[0] for ln in rttm] == ["SPEAKER"] * len(report["segments"])
    assert [ln[7] for ln in rttm] == [s["speaker"] for s in report["segments"]]
    assert (out / "call.vtt").read_text().startswith("WEBVTT")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "file not found"),
        (b"", "empty"),
        (b"this is a text file, not audio\n" * 10, "not a recognised audio"),
    ],
)
def test_bad_input_names_the_file_and_exits_2(tmp_path, content, reason):
    path = tmp_path / "call.wav"
    if content is not None:
        path.write_bytes(content)
    result = run("analyze", str(path), "-q")
    assert result.returncode == 2
    assert str(path) in result.stderr
    assert reason in result.stderr


def test_channel_map_on_a_mono_file_is_a_clear_error(tmp_path):
    result = run("analyze", str(SAMPLES / "en_mono.wav"), "--diarization", "channels", "-q")
    assert result.returncode == 2
    assert "en_mono.wav" in result.stderr and "two-channel" in result.stderr


def test_batch_goes_on_past_bad_files(tmp_path, cache_dir):
    calls = tmp_path / "calls"
    calls.mkdir()
    audio = load_audio(SAMPLES / "en_stereo_mulaw.wav")
    write_audio(calls / "a_short.wav", audio.samples[:, : 16000 * 12], 16000, "pcm_s16le")
    (calls / "b_broken.wav").write_bytes(b"RIFF\x00\x00")
    (calls / "notes.txt").write_text("not a call")
    out = tmp_path / "reports"
    result = run(
        "batch",
        str(calls),
        "--out",
        str(out),
        "--asr-model",
        "bundled:tiny.en",
        "-q",
        env_cache=cache_dir,
    )
    assert result.returncode == 1  # one file failed
    outcomes = {
        o["file"].rsplit("/", 1)[-1]: o for o in json.loads((out / "batch.json").read_text())
    }
    assert set(outcomes) == {"a_short.wav", "b_broken.wav"}
    assert outcomes["a_short.wav"]["status"] == "ok"
    assert outcomes["b_broken.wav"]["status"] == "failed"
    assert "b_broken.wav" in outcomes["b_broken.wav"]["error"]
    assert (out / "a_short.json").is_file()


def test_summary_prints_bracketed_transcript_text_verbatim(analyzed):
    from dataclasses import replace

    from rich.console import Console

    from calmline.monitor.cli import print_summary

    report, _ = analyzed("en_stereo_mulaw")
    turn = replace(report.turns[0], text="call me at [PHONE] or [red]now[/red]")
    report = replace(report, turns=(turn, *report.turns[1:]))
    console = Console(record=True, width=240)
    print_summary(report, console)
    assert "call me at [PHONE] or [red]now[/red]" in console.export_text()
