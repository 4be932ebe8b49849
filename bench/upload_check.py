"""What checking an upload costs the API: the header-and-packets check against a full decode.

    .venv/bin/python bench/upload_check.py [--minutes 1,10,60] [--out FILE.json]

For each length, a stereo 16-bit WAV and a mono FLAC of noise at 8 kHz (what a PBX records) are
written to a temporary folder; each file is then checked in a fresh child process by
``inspect_audio`` (what ``POST /api/v1/calls`` runs: header, then packets, no codec) and by
``probe_audio`` (the earlier upload check: every frame decoded and resampled, then dropped).
Printed: wall and CPU seconds, and the child's peak RSS growth (``VmHWM``) over its RSS before.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import av
import numpy as np

REPO = Path(__file__).resolve().parents[1]
RATE = 8000

CHILD = """
import json, os, sys, time
import psutil
from calmline.monitor.audio import probe_audio
from calmline.monitor.audioprobe import inspect_audio
fn = {"inspect_audio": inspect_audio, "probe_audio": probe_audio}[sys.argv[1]]
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
base = psutil.Process().memory_info().rss
t0, c0 = time.perf_counter(), time.process_time()
info = fn(sys.argv[2])
print(json.dumps({"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
                  "growth_mb": (hwm() - base) / 2**20, "duration_s": info.duration}))
"""


def write_wav(path: Path, minutes: float) -> Path:
    rng = np.random.default_rng(0)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        for _ in range(round(minutes)):
            w.writeframes(rng.integers(-3000, 3000, RATE * 60 * 2, dtype=np.int16).tobytes())
    return path


def write_flac(path: Path, minutes: float) -> Path:
    rng = np.random.default_rng(0)
    with av.open(str(path), "w", format="flac") as out:
        stream = out.add_stream("flac", rate=RATE, layout="mono")
        stream.format = "s16"
        for _ in range(round(minutes)):
            block = rng.integers(-3000, 3000, RATE * 60, dtype=np.int16)[None, :]
            frame = av.AudioFrame.from_ndarray(block, format="s16", layout="mono")
            frame.sample_rate = RATE
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def measure(fn: str, path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, fn, str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", default="1,10,60", help="call lengths, comma-separated")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/upload_check.json")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in (float(m) for m in args.minutes.split(",")):
            for kind, writer in (("wav", write_wav), ("flac", write_flac)):
                path = writer(Path(tmp) / f"call-{minutes:g}.{kind}", minutes)
                row = {"file": path.name, "mb": round(path.stat().st_size / 2**20, 1)}
                for fn in ("inspect_audio", "probe_audio"):
                    row[fn] = measure(fn, path)
                rows.append(row)
                path.unlink()
    print("| file | MB | check | wall s | CPU s | peak growth MB |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        for fn in ("inspect_audio", "probe_audio"):
            m = row[fn]
            print(
                f"| {row['file']} | {row['mb']} | {fn} | {m['wall_s']:.2f} | {m['cpu_s']:.2f} "
                f"| {m['growth_mb']:.1f} |"
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
