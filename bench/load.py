"""Server throughput, bounded: uploads accepted per second, and calls analysed per minute with
1 and 2 workers, against a real ``calmline serve`` on 127.0.0.1 with SQLite.

    python bench/load.py [--uploads 60] [--clients 4] [--calls 6] [--workers 1 2]

Uploads are measured on a server with no analysis workers (the upload path only: receive,
check that the audio decodes, store, queue). Analysis is measured from the first upload to the
last finished job on a fresh server per worker count. Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.server import CalmlineServer  # noqa: E402

SAMPLES = REPO / "samples"
MIX = ["en_stereo_mulaw", "zh_stereo", "en_mono"]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_uploads(root: Path, cache: Path, n: int, clients: int) -> dict:
    with CalmlineServer(root / "uploads", cache, workers=0) as server:
        key = server.key("admin")
        path = SAMPLES / "en_stereo_mulaw.wav"
        # warm the connection path and the decoder once
        assert server.upload(key, path, "warm").status_code == 202

        def one(i: int) -> float:
            t0 = time.perf_counter()
            r = server.upload(key, path, f"agent{i % 7}")
            if r.status_code != 202:
                raise RuntimeError(r.text)
            return time.perf_counter() - t0

        t0 = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            latencies = list(pool.map(one, range(n)))
        wall = time.perf_counter() - t0
    size = path.stat().st_size
    return {
        "uploads": n,
        "clients": clients,
        "file_bytes": size,
        "wall_s": round(wall, 2),
        "uploads_per_s": round(n / wall, 2),
        "mb_per_s": round(n * size / wall / 1e6, 2),
        "latency_p50_s": round(statistics.median(latencies), 3),
        "latency_p95_s": round(_pct(latencies, 0.95), 3),
    }


def bench_analysis(root: Path, cache: Path, workers: int, n_calls: int) -> dict:
    from calmline.monitor.audio import load_audio

    names = [MIX[i % len(MIX)] for i in range(n_calls)]
    audio_s = sum(load_audio(SAMPLES / f"{n}.wav").duration for n in names)
    with CalmlineServer(root / f"workers{workers}", cache, workers=workers) as server:
        key = server.key("admin")
        t0 = time.perf_counter()
        jobs = []
        for i, name in enumerate(names):
            r = server.upload(key, SAMPLES / f"{name}.wav", f"agent{i}")
            jobs.append(r.json()["job_id"])
        states = [server.wait_job(key, j, timeout=1800)["state"] for j in jobs]
        wall = time.perf_counter() - t0
    return {
        "workers": workers,
        "calls": n_calls,
        "audio_s": round(audio_s, 1),
        "failed": sum(s != "done" for s in states),
        "wall_s": round(wall, 1),
        "calls_per_min": round(n_calls / wall * 60, 2),
        "audio_min_per_min": round(audio_s / wall, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--uploads", type=int, default=60)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--calls", type=int, default=6)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "load.json")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="calmline-load-"))
    cache = Path.home() / ".cache" / "calmline"
    print(f"uploads: {args.uploads} x en_stereo_mulaw.wav from {args.clients} clients", flush=True)
    uploads = bench_uploads(root, cache, args.uploads, args.clients)
    print(
        f"  {uploads['uploads_per_s']} uploads/s ({uploads['mb_per_s']} MB/s), latency p50 "
        f"{uploads['latency_p50_s']} s, p95 {uploads['latency_p95_s']} s",
        flush=True,
    )
    analysis = []
    for w in args.workers:
        print(f"analysis: {args.calls} calls with {w} worker(s)", flush=True)
        analysis.append(bench_analysis(root, cache, w, args.calls))
    print()
    print(
        f"{'workers':>7} {'calls':>5} {'audio s':>8} {'wall s':>7} {'calls/min':>9} {'audio x':>8}"
    )
    for a in analysis:
        print(
            f"{a['workers']:>7} {a['calls']:>5} {a['audio_s']:>8} {a['wall_s']:>7} "
            f"{a['calls_per_min']:>9} {a['audio_min_per_min']:>8}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"uploads": uploads, "analysis": analysis}, indent=2))
    print(f"\nwritten {args.out}")


if __name__ == "__main__":
    main()
