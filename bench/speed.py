"""Speed and peak memory of Calmline next to bare faster-whisper, on the same calls in one run.

For each call, two child processes are started, one per side, so that neither side's memory or
warm caches pollute the other's figures:

* **bare** - faster-whisper alone, as a user would run it on the file: ``decode_audio`` (both
  channels of a stereo file split, as Calmline transcribes them), then ``WhisperModel.transcribe``
  per channel with its own Silero VAD filter;
* **calmline** - the full batch pipeline, ``BatchPipeline.analyze(path)``: decode, VAD or mono
  diarization, ASR, roles, turns, measurements and scoring, with per-stage times.

Both sides use the same model, device, compute type, CPU threads, beam size (5), word timestamps,
``condition_on_previous_text=False``, the call's language given (no detection on either side) and
no initial prompt. Each child loads its models and warms up on the first 20 s
of the call before it is timed; the two then run the call in turn (the order alternates between
repetitions) and the fastest run of each side is kept, so both see the same machine load. A
side's peak memory is the peak resident set size (``ru_maxrss``) of its own child process,
models included. The ratio is Calmline's best wall time over bare's; RTF is wall time over call
duration. CPU time (user + system of the child) is printed as well: it moves less than wall time
when other work shares the machine.

Long calls are made from the project's own samples: a call of N minutes is the sample repeated
back to back, each copy followed by 0.5 s of silence, cut at exactly N minutes and written in
the sample's own format (8 kHz mu-law stereo, 8 kHz PCM mono, 8 kHz PCM stereo) under
``bench/results/calls/``; the 1-minute call is the sample's first minute.

Throughput of ``calmline batch`` is measured on a folder of four calls (the three 1-minute calls
and the 81 s stereo sample, 4.3 minutes in all) with ``--workers 1`` and ``--workers 2``: wall
time of the whole command (start-up and model loading included) and the peak RSS of its largest
process.

    .venv/bin/python bench/speed.py [--cases en_stereo_mulaw:1,en_mono:30] [--repeat N]
                                   [--threads N] [--model bundled:base] [--no-batch] [--quick]
                                   [--out bench/results/speed.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
RESULTS = REPO / "bench" / "results"
LANGUAGE = {"en_stereo_mulaw": "en", "en_mono": "en", "zh_stereo": "zh"}
DEFAULT_CASES = "en_stereo_mulaw:1,en_mono:1,zh_stereo:1,en_stereo_mulaw:10,en_mono:30"
"""Every sample at 1 minute; the stereo call at 10 minutes; the mono call, the costliest for
Calmline (diarization) and the largest in memory, at 30 minutes."""
GAP_S = 0.5
WARM_S = 20.0


# -- calls ------------------------------------------------------------------------------------


def make_call(sample: str, minutes: float, folder: Path) -> Path:
    """The sample repeated (0.5 s of silence after each copy) and cut at ``minutes``; cached."""
    import numpy as np
    import soundfile as sf

    source = SAMPLES / f"{sample}.wav"
    label = f"{minutes:g}min" if minutes >= 1 else f"{minutes * 60:g}s"
    target = folder / f"{sample}_{label}.wav"
    if target.is_file() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    info = sf.info(str(source))
    dtype = "float64" if info.subtype in ("ULAW", "ALAW") else "int16"
    x, rate = sf.read(str(source), dtype=dtype, always_2d=True)  # (n, channels) at 8 kHz
    gap = np.zeros((round(GAP_S * rate), x.shape[1]), dtype=x.dtype)
    n = round(minutes * 60 * rate)
    copies = -(-n // (x.shape[0] + gap.shape[0]))
    y = np.concatenate([x, gap] * copies)[:n]
    folder.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp.wav")
    sf.write(str(tmp), y, rate, subtype=info.subtype, format="WAV")
    os.replace(tmp, target)
    return target


# -- child processes --------------------------------------------------------------------------


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _current_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class _Bare:
    """faster-whisper alone: decode, then transcribe each channel with its own VAD filter."""

    def __init__(self, model: str, threads: int) -> None:
        from faster_whisper import WhisperModel

        from calmline.models.asr_whisper import resolve_model
        from calmline.models.device import resolve_device
        from calmline.monitor.settings import Settings

        target, self.name, _ = resolve_model(model, Settings.load().cache_dir)
        choice = resolve_device("auto")
        self.device = f"{choice.device} {choice.compute_type}"
        self.model = WhisperModel(
            target, device=choice.device, compute_type=choice.compute_type, cpu_threads=threads
        )

    def load(self, channels: int) -> None:
        return None

    def run(self, path: str, language: str, channels: int) -> dict[str, Any]:
        from faster_whisper import decode_audio

        t0 = time.perf_counter()
        signals = decode_audio(path, split_stereo=channels == 2)
        if channels != 2:
            signals = (signals,)
        t1 = time.perf_counter()
        words = 0
        for x in signals:
            segments, _ = self.model.transcribe(
                x,
                language=language,
                beam_size=5,
                word_timestamps=True,
                vad_filter=True,
                condition_on_previous_text=False,
            )
            words += sum(len(s.words or ()) for s in segments)
        t2 = time.perf_counter()
        return {"stages_s": {"decode": t1 - t0, "transcribe": t2 - t1}, "words": words}


class _Calmline:
    """The full batch pipeline, models loaded once."""

    def __init__(self, model: str, threads: int) -> None:
        from calmline.monitor.settings import Settings
        from calmline.pipelines.batch import BatchPipeline

        settings = Settings.load(asr={"model": model, "cpu_threads": threads})
        self.pipeline = BatchPipeline(settings)
        info = self.pipeline.models.transcriber().info
        self.name = info.name
        self.device = f"{info.device} {info.compute_type}"
        self.pipeline.models.vad()

    def load(self, channels: int) -> None:
        if channels == 1:  # the diarizer (torch) is only loaded for what needs it
            self.pipeline.models.diarizer("embedded")

    def run(self, path: str, language: str, channels: int) -> dict[str, Any]:
        from calmline.pipelines.batch import AnalyzeRequest

        report = self.pipeline.analyze(path, AnalyzeRequest(language=language))
        stages = {k: v for k, v in report.timings.items() if k != "total"}
        return {"stages_s": stages, "words": sum(len(t.words) for t in report.turns)}


def child_main(side: str, model: str, threads: int) -> int:
    """One side of the comparison: JSON commands on stdin, one JSON answer per line on stdout."""
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing but answers on the pipe
    t0 = time.perf_counter()
    worker = _Bare(model, threads) if side == "bare" else _Calmline(model, threads)
    answer: dict[str, Any] = {
        "load_s": time.perf_counter() - t0,
        "model": worker.name,
        "device": worker.device,
    }
    out.write(json.dumps(answer) + "\n")
    out.flush()
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] == "exit":
            answer = {"peak_rss_mb": _peak_rss_mb()}
        elif cmd["cmd"] == "load":
            t0 = time.perf_counter()
            worker.load(cmd["channels"])
            answer = {"load_s": time.perf_counter() - t0, "rss_mb": _current_rss_mb()}
        else:
            c0, t0 = _cpu_s(), time.perf_counter()
            answer = worker.run(cmd["path"], cmd["language"], cmd["channels"])
            answer["wall_s"] = time.perf_counter() - t0
            answer["cpu_s"] = _cpu_s() - c0
        out.write(json.dumps(answer) + "\n")
        out.flush()
        if cmd["cmd"] == "exit":
            break
    return 0


class Child:
    def __init__(self, side: str, model: str, threads: int) -> None:
        self.side = side
        self.proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--child",
                side,
                "--model",
                model,
                "--threads",
                str(threads),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        self.hello: dict[str, Any] | None = None

    def ready(self) -> dict[str, Any]:
        if self.hello is None:
            self.hello = self._read()
        return self.hello

    def ask(self, **cmd: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise RuntimeError(f"{self.side} child exited with status {self.proc.returncode}")
        return json.loads(line)

    def close(self) -> dict[str, Any]:
        answer = self.ask(cmd="exit")
        self.proc.wait(timeout=60)
        return answer


# -- one call, both sides ---------------------------------------------------------------------


def _sf_channels(path: Path) -> tuple[int, float]:
    import soundfile as sf

    info = sf.info(str(path))
    return info.channels, info.duration


def run_case(sample: str, minutes: float, repeat: int, model: str, threads: int) -> dict[str, Any]:
    calls = RESULTS / "calls"
    path = make_call(sample, minutes, calls)
    warm = make_call(sample, WARM_S / 60, calls)
    channels, duration = _sf_channels(path)
    language = LANGUAGE[sample]
    children = {side: Child(side, model, threads) for side in ("bare", "calmline")}
    sides: dict[str, dict[str, Any]] = {}
    try:
        for side, child in children.items():
            hello = child.ready()
            loaded = child.ask(cmd="load", channels=channels)
            child.ask(cmd="run", path=str(warm), language=language, channels=channels)
            sides[side] = {
                "model": hello["model"],
                "device": hello["device"],
                "load_s": round(hello["load_s"] + loaded["load_s"], 2),
                "rss_after_load_mb": round(loaded["rss_mb"]),
                "runs": [],
            }
        for r in range(repeat):
            order = ("bare", "calmline") if r % 2 == 0 else ("calmline", "bare")
            for side in order:
                sides[side]["runs"].append(
                    children[side].ask(
                        cmd="run", path=str(path), language=language, channels=channels
                    )
                )
        for side, child in children.items():
            sides[side]["peak_rss_mb"] = round(child.close()["peak_rss_mb"])
    finally:
        for child in children.values():
            if child.proc.poll() is None:
                child.proc.kill()
    for s in sides.values():
        best = min(s["runs"], key=lambda run: run["wall_s"])
        s["wall_s"] = round(best["wall_s"], 2)
        s["walls_s"] = [round(run["wall_s"], 2) for run in s["runs"]]
        s["cpu_s"] = round(min(run["cpu_s"] for run in s["runs"]), 2)
        s["rtf"] = round(best["wall_s"] / duration, 4)
        s["stages_s"] = {k: round(v, 2) for k, v in best["stages_s"].items()}
        s["words"] = best["words"]
        del s["runs"]
    return {
        "call": sample,
        "minutes": minutes,
        "file": str(path.relative_to(REPO)),
        "duration_s": round(duration, 2),
        "channels": channels,
        "language": language,
        "bare": sides["bare"],
        "calmline": sides["calmline"],
        "ratio": round(sides["calmline"]["wall_s"] / sides["bare"]["wall_s"], 3),
        "ratio_cpu": round(sides["calmline"]["cpu_s"] / sides["bare"]["cpu_s"], 3),
    }


# -- calmline batch ---------------------------------------------------------------------------


def run_batch(files: list[Path], workers: int, model: str) -> dict[str, Any]:
    """Wall time and peak RSS (largest process of the command's tree) of ``calmline batch``."""
    with tempfile.TemporaryDirectory(prefix="calmline-bench-") as tmp:
        folder = Path(tmp) / "calls"
        folder.mkdir()
        for f in files:
            os.symlink(f, folder / f.name)
        cmd = [
            sys.executable,
            "-m",
            "calmline.monitor.cli",
            "batch",
            str(folder),
            "--out",
            str(Path(tmp) / "reports"),
            "--workers",
            str(workers),
            "--asr-model",
            model,
            "--quiet",
        ]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        outcomes = json.loads((Path(tmp) / "reports" / "batch.json").read_text())
    if proc.returncode != 0:
        raise RuntimeError(f"calmline batch --workers {workers} exited with {proc.returncode}")
    audio_s = sum(o["duration"] for o in outcomes if o["status"] == "ok")
    return {
        "workers": workers,
        "calls": len(outcomes),
        "audio_s": round(audio_s, 1),
        "wall_s": round(wall, 2),
        "x_realtime": round(audio_s / wall, 2),
        "calls_per_hour": round(3600 * len(outcomes) / wall),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
    }


# -- main -------------------------------------------------------------------------------------


def parse_cases(text: str) -> list[tuple[str, float]]:
    cases = []
    for item in text.split(","):
        sample, _, minutes = item.strip().partition(":")
        if sample not in LANGUAGE:
            raise SystemExit(f"unknown sample {sample!r}; known: {', '.join(LANGUAGE)}")
        try:
            cases.append((sample, float(minutes or 1)))
        except ValueError:
            raise SystemExit(f"bad case {item!r}: expected SAMPLE:MINUTES") from None
    return cases


def _load() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def print_tables(result: dict[str, Any]) -> None:
    m = result["machine"]
    print(
        f"model {result['model']} ({result['device']}), {result['threads']} threads; "
        f"{m['cpus']} CPUs {m['processor']}; load before {m['load_before']}, after "
        f"{m['load_after']}"
    )
    header = (
        f"{'call':17} {'min':>4} {'bare s':>7} {'calm s':>7} {'ratio':>6} {'cpu ratio':>9} "
        f"{'bare RTF':>8} {'calm RTF':>8} {'bare MB':>7} {'calm MB':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in result["cases"]:
        b, c = r["bare"], r["calmline"]
        print(
            f"{r['call']:17} {r['minutes']:>4g} {b['wall_s']:7.1f} {c['wall_s']:7.1f} "
            f"{r['ratio']:6.3f} {r['ratio_cpu']:9.3f} {b['rtf']:8.4f} {c['rtf']:8.4f} "
            f"{b['peak_rss_mb']:7.0f} {c['peak_rss_mb']:7.0f}"
        )
        print("    calmline: " + ", ".join(f"{k} {v:.2f}" for k, v in c["stages_s"].items()))
        print("    bare:     " + ", ".join(f"{k} {v:.2f}" for k, v in b["stages_s"].items()))
    if result.get("batch"):
        print()
        header = f"{'calmline batch':15} {'calls':>5} {'audio s':>8} {'wall s':>7} {'x RT':>6}"
        header += f" {'calls/h':>8} {'peak MB':>8}"
        print(header)
        print("-" * len(header))
        for b in result["batch"]:
            print(
                f"{'--workers ' + str(b['workers']):15} {b['calls']:5d} {b['audio_s']:8.1f} "
                f"{b['wall_s']:7.1f} {b['x_realtime']:6.2f} {b['calls_per_hour']:8d} "
                f"{b['peak_rss_mb']:8.0f}"
            )
    print(f"\nbenchmark wall time {result['bench_wall_s']:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=DEFAULT_CASES, help="SAMPLE:MINUTES,... to run")
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs per side, best kept (default 2 for calls up to 2 minutes, else 1)",
    )
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--model", default="bundled:base")
    parser.add_argument("--no-batch", action="store_true", help="skip calmline batch throughput")
    parser.add_argument("--quick", action="store_true", help="1-minute calls, one run, no batch")
    parser.add_argument("--out", type=Path, default=RESULTS / "speed.json")
    parser.add_argument("--child", choices=["bare", "calmline"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_main(args.child, args.model, args.threads)

    t_start = time.perf_counter()
    if args.quick:
        cases = [(s, 1.0) for s in LANGUAGE]
        args.no_batch = True
    else:
        cases = parse_cases(args.cases)
    load_before = _load()
    rows = []
    for sample, minutes in cases:
        repeat = args.repeat or (1 if args.quick or minutes > 2 else 2)
        print(f"{sample} {minutes:g} min, {repeat} run(s) per side ...", file=sys.stderr)
        rows.append(run_case(sample, minutes, repeat, args.model, args.threads))
    batch = []
    if not args.no_batch:
        calls = RESULTS / "calls"
        files = [make_call(s, 1, calls) for s in LANGUAGE] + [SAMPLES / "en_stereo_mulaw.wav"]
        for workers in (1, 2):
            print(f"calmline batch --workers {workers} ...", file=sys.stderr)
            batch.append(run_batch(files, workers, args.model))
    result = {
        "model": rows[0]["calmline"]["model"] if rows else args.model,
        "device": rows[0]["calmline"]["device"] if rows else "",
        "threads": args.threads,
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "load_before": load_before,
            "load_after": _load(),
        },
        "cases": rows,
        "batch": batch,
        "bench_wall_s": round(time.perf_counter() - t_start, 1),
    }
    print_tables(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
