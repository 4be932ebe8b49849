"""Peak memory of long calls and of decompression bombs (``make bench-memory``).

Builds long calls from a bundled sample call tiled with digital silence (so they hold real
speech, about ``--speech-share`` of the time), then runs in a fresh child process per file:

* ``analyze``: the whole batch analysis (``BatchPipeline``: decode, VAD, ASR, measurements,
  scores), as a worker runs it. Reported: the child's RSS once the models are loaded, its peak
  RSS (``VmHWM``) and the wall time of the analysis.
* ``probe``: the upload check (``probe_audio``) on two FLAC bombs: 5 h of silence with the
  STREAMINFO length cleared (the header declares no length, so only decoding can tell), and a
  3 h 55 min file just under the 4 h limit. Reported: peak RSS, wall time, the outcome.

Everything is printed side by side in one table; ``--out`` also writes it as JSON.

    python bench/memory.py                       # 10 min, 1 h, 4 h stereo + bombs
    python bench/memory.py --durations 600 3600  # shorter run
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "en_stereo_mulaw.wav"
RATE = 8000
"""Sample rate of the generated calls (narrow-band telephony)."""


def _peak_rss_mb() -> float:
    """This process's peak RSS (MB): VmHWM, which starts afresh at exec (``ru_maxrss`` is
    carried over execve from the parent on Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


# --- generating calls -------------------------------------------------------------------------


def _sample_call(channels: int) -> np.ndarray:
    """The bundled call as int16 (channels, n) at 8 kHz."""
    with av.open(str(SAMPLE)) as c:
        stream = c.streams.audio[0]
        resampler = av.AudioResampler(
            format="s16p", layout="stereo" if channels == 2 else "mono", rate=RATE
        )
        parts = [f.to_ndarray() for frame in c.decode(stream) for f in resampler.resample(frame)]
        parts += [f.to_ndarray() for f in resampler.resample(None)]
    return np.concatenate(parts, axis=1).astype(np.int16)


def write_flac(
    path: Path, duration_s: float, channels: int, speech_share: float, clear_length: bool = False
) -> Path:
    """A FLAC call of ``duration_s``: the sample call, then silence, repeated, so that about
    ``speech_share`` of the time is the sample call (it ends with silence). Written a block at a
    time. ``clear_length`` zeroes STREAMINFO's total-samples field (length unknown)."""
    speech = _sample_call(channels) if speech_share > 0 else np.zeros((channels, 0), np.int16)
    period = round(speech.shape[1] / speech_share) if speech_share > 0 else 0
    total = round(duration_s * RATE)
    layout = "stereo" if channels == 2 else "mono"
    with av.open(str(path), "w", format="flac") as out:
        stream = out.add_stream("flac", rate=RATE, layout=layout)
        stream.format = "s16"
        block = 1 << 16
        pos = 0
        while pos < total:
            n = min(block, total - pos)
            chunk = np.zeros((channels, n), dtype=np.int16)
            if period:
                # the sample call sits at the start of every period
                for start in range((pos // period) * period, pos + n, period):
                    a, b = max(start, pos), min(start + speech.shape[1], pos + n)
                    if b > a:
                        chunk[:, a - pos : b - pos] = speech[:, a - start : b - start]
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(chunk.T.reshape(1, -1)), format="s16", layout=layout
            )
            frame.sample_rate = RATE
            for packet in stream.encode(frame):
                out.mux(packet)
            pos += n
        for packet in stream.encode(None):
            out.mux(packet)
    if clear_length:
        clear_flac_length(path)
    return path


def clear_flac_length(path: Path) -> None:
    """Zero the 36-bit total-samples field of a FLAC file's STREAMINFO block."""
    with open(path, "r+b") as f:
        head = bytearray(f.read(26))
        if head[:4] != b"fLaC" or head[4] & 0x7F != 0:
            raise ValueError(f"{path}: no STREAMINFO block first")
        # STREAMINFO data starts at byte 8; total samples are the low 4 bits of byte 21 and
        # bytes 22-25
        head[21] &= 0xF0
        head[22:26] = b"\0\0\0\0"
        f.seek(0)
        f.write(head)


# --- child processes --------------------------------------------------------------------------


def child_analyze(path: str, asr_model: str | None) -> dict:
    from calmline.monitor.settings import Settings
    from calmline.pipelines.batch import AnalyzeRequest, BatchPipeline

    pipeline = BatchPipeline(Settings())
    request = AnalyzeRequest(asr_model=asr_model, call_id="bench")
    # load the models the analysis uses, so the RSS they need is known before the call
    pipeline.models.vad()
    pipeline.models.transcriber(asr_model)
    models_mb = _rss_mb()
    t0 = time.perf_counter()
    report = pipeline.analyze(path, request)
    return {
        "models_rss_mb": round(models_mb, 1),
        "wall_s": round(time.perf_counter() - t0, 1),
        "duration_s": report.audio.duration,
        "turns": len(report.turns),
        "words": sum(len(t.words) for t in report.turns),
    }


def child_probe(path: str) -> dict:
    from calmline.monitor.audio import LoadOptions, probe_audio
    from calmline.monitor.errors import AudioDecodeError

    start_mb = _rss_mb()
    t0 = time.perf_counter()
    try:
        info = probe_audio(path, LoadOptions())
        outcome = f"accepted ({info.duration:.0f} s)"
    except AudioDecodeError as e:
        outcome = f"{type(e).__name__}: {e.reason}"
    return {
        "start_rss_mb": round(start_mb, 1),
        "wall_s": round(time.perf_counter() - t0, 2),
        "outcome": outcome,
    }


def run_child(args: list[str], nice: int) -> dict:
    """Run this script as a child with ``args``; its JSON answer plus its peak RSS."""
    cmd = [sys.executable, __file__, "--child", *args]
    if nice:
        cmd = ["nice", "-n", str(nice), *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- main -------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--durations", type=float, nargs="+", default=[600.0, 3600.0, 14400.0])
    ap.add_argument("--channels", type=int, choices=(1, 2), default=2)
    ap.add_argument("--speech-share", type=float, default=0.15)
    ap.add_argument("--asr-model", default=None, help="ASR model (default: the settings')")
    ap.add_argument("--no-bombs", action="store_true", help="skip the upload-probe bombs")
    ap.add_argument("--nice", type=int, default=10, help="niceness of the child processes")
    ap.add_argument("--workdir", default=None, help="where the generated files go (temporary)")
    ap.add_argument("--out", default=None, help="also write the results as JSON here")
    args = ap.parse_args()

    if args.child:
        kind, path, *rest = args.child
        result = child_analyze(path, rest[0] if rest else None) if kind == "analyze" else None
        if kind == "probe":
            result = child_probe(path)
        assert result is not None, kind
        result["peak_rss_mb"] = round(_peak_rss_mb(), 1)
        print(json.dumps(result))
        return 0

    rows = []
    with tempfile.TemporaryDirectory(dir=args.workdir, prefix="calmline-bench-") as tmp:
        work = Path(tmp)
        for duration in args.durations:
            path = write_flac(
                work / f"call_{duration:.0f}s.flac", duration, args.channels, args.speech_share
            )
            child = ["analyze", str(path)] + ([args.asr_model] if args.asr_model else [])
            result = run_child(child, args.nice)
            rows.append({"case": f"analyze {duration / 60:g} min", "size_mb": _mb(path), **result})
            _print_row(rows[-1])
            path.unlink()
        if not args.no_bombs:
            bombs = [
                ("probe 5 h silence, length cleared", 5 * 3600.0, True),
                ("probe 3 h 55 min silence", 235 * 60.0, False),
            ]
            for case, duration, clear in bombs:
                path = write_flac(work / "bomb.flac", duration, 1, 0.0, clear_length=clear)
                result = run_child(["probe", str(path)], args.nice)
                rows.append({"case": case, "size_mb": _mb(path), **result})
                _print_row(rows[-1])
                path.unlink()
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


def _mb(path: Path) -> float:
    return round(os.path.getsize(path) / 2**20, 2)


def _print_row(row: dict) -> None:
    if "error" in row:
        print(f"{row['case']:<36} FAILED: {row['error']}", flush=True)
        return
    extra = (
        f"models {row['models_rss_mb']:7.1f} MB  call {row['duration_s']:8.1f} s  "
        f"{row['turns']} turns, {row['words']} words"
        if "models_rss_mb" in row
        else row.get("outcome", "")
    )
    print(
        f"{row['case']:<36} file {row['size_mb']:8.2f} MB  peak RSS {row['peak_rss_mb']:7.1f} MB  "
        f"wall {row['wall_s']:7.1f} s  {extra}",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
