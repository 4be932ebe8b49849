"""Server throughput, bounded: uploads accepted per second, and calls analysed per minute with
1 and 2 workers, against a real ``calmline serve`` on 127.0.0.1 with SQLite.

    python bench/load.py [--uploads 60] [--clients 4] [--calls 6] [--workers 1 2]
    python bench/load.py --executor ray [--calls 6] [--nodes 1 2]

Uploads are measured on a server with no analysis workers (the upload path only: receive,
check that the audio decodes, store, queue). Analysis is measured from the first upload to the
last finished job on a fresh server per worker count. Prints a table and writes JSON.

``--executor ray`` runs the same calls through the in-process executor and through Ray in one
run: a Ray cluster on this machine (``ray start``: a head with no CPUs and 1, then 2 worker
nodes of one CPU each; ``tests/ray_cluster.py``) and ``calmline serve --executor ray`` with one
actor per node. Every server first analyses one short call per worker (models loaded, actors
placed), then the calls are timed. The overhead per call is the job's time in the server (claimed
to finished) less the pipeline's own time (``report.timings.total``): the store's writes and,
through Ray, sending the call to the actor, polling its progress and bringing the report back.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.ray_cluster import RayCluster  # noqa: E402
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


def bench_analysis(
    root: Path,
    cache: Path,
    workers: int,
    n_calls: int,
    *,
    executor: str = "inprocess",
    cluster: RayCluster | None = None,
    warm: Path | None = None,
) -> dict:
    from calmline.monitor.audio import load_audio

    names = [MIX[i % len(MIX)] for i in range(n_calls)]
    audio_s = sum(load_audio(SAMPLES / f"{n}.wav").duration for n in names)
    env, args = {}, []
    if cluster is not None:
        env = {**cluster.driver_env(), "CALMLINE_EXECUTOR__ACTORS": str(workers)}
        args = ["--executor", "ray", "--ray-address", cluster.address]
    label = f"{executor}{workers}"
    with CalmlineServer(root / label, cache, workers=workers, env=env, args=args) as server:
        key = server.key("admin")
        if warm is not None:
            # one short call per worker: models loaded, Ray actors placed and warm
            warm_jobs = [server.upload(key, warm, "warm").json()["job_id"] for _ in range(workers)]
            for j in warm_jobs:
                server.wait_job(key, j, timeout=900)
        t0 = time.perf_counter()
        jobs = []
        for i, name in enumerate(names):
            r = server.upload(key, SAMPLES / f"{name}.wav", f"agent{i}")
            jobs.append(r.json()["job_id"])
        states = [server.wait_job(key, j, timeout=1800)["state"] for j in jobs]
        wall = time.perf_counter() - t0
        overheads = _overheads(server, jobs)
    out = {
        "executor": executor,
        "workers": workers,
        "calls": n_calls,
        "audio_s": round(audio_s, 1),
        "failed": sum(s != "done" for s in states),
        "wall_s": round(wall, 1),
        "calls_per_min": round(n_calls / wall * 60, 2),
        "audio_min_per_min": round(audio_s / wall, 2),
    }
    if overheads:
        out["overhead_ms_median"] = round(statistics.median(overheads) * 1000)
        out["overhead_ms_max"] = round(max(overheads) * 1000)
    return out


def _overheads(server: CalmlineServer, job_ids: list[str]) -> list[float]:
    """Per job: its time in the server (claimed -> finished) less the pipeline's own time."""
    out = []
    for job_id in job_ids:
        job = server.store.get_job(job_id)
        report = server.store.get_report(job.call_id)
        if job.started_at is None or job.finished_at is None or report is None:
            continue
        held = (job.finished_at - job.started_at).total_seconds()
        out.append(held - report.timings["total"])
    return out


def bench_ray(root: Path, cache: Path, n_calls: int, nodes: list[int], workers: list[int]) -> list:
    """The in-process executor and Ray with 1..N worker nodes, the same calls, one run."""
    warm = _warm_call(root)
    rows = []
    for w in workers:
        print(f"analysis: {n_calls} calls, in-process, {w} worker(s)", flush=True)
        rows.append(bench_analysis(root, cache, w, n_calls, warm=warm))
    with RayCluster(root / "ray", head_cpus=0) as cluster:
        for n in sorted(nodes):
            while len(cluster.nodes) - 1 < n:
                cluster.add_node(num_cpus=1)
            print(f"analysis: {n_calls} calls, Ray, {n} worker node(s) of 1 CPU", flush=True)
            rows.append(
                bench_analysis(root, cache, n, n_calls, executor="ray", cluster=cluster, warm=warm)
            )
    return rows


def _warm_call(root: Path) -> Path:
    """The first 5 s of the stereo sample: enough to load and run every model once."""
    from calmline.monitor.audio import load_audio
    from tests.audio_factory import write_audio

    audio = load_audio(SAMPLES / "en_stereo_mulaw.wav")
    return write_audio(root / "warm.wav", audio.samples[:, : 5 * 16000], 16000, "pcm_s16le")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--uploads", type=int, default=60)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--calls", type=int, default=6)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument(
        "--executor",
        choices=["inprocess", "ray"],
        default="inprocess",
        help="ray: the in-process executor against Ray with --nodes worker nodes, same calls",
    )
    ap.add_argument("--nodes", type=int, nargs="+", default=[1, 2], help="Ray worker nodes")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = (
        args.out
        or REPO / "bench" / "results" / f"load{'-ray' if args.executor == 'ray' else ''}.json"
    )
    root = Path(tempfile.mkdtemp(prefix="calmline-load-"))
    cache = Path.home() / ".cache" / "calmline"
    result: dict = {"load_average_start": os.getloadavg()}
    if args.executor == "ray":
        analysis = bench_ray(root, cache, args.calls, args.nodes, args.workers)
    else:
        print(
            f"uploads: {args.uploads} x en_stereo_mulaw.wav from {args.clients} clients", flush=True
        )
        uploads = bench_uploads(root, cache, args.uploads, args.clients)
        result["uploads"] = uploads
        print(
            f"  {uploads['uploads_per_s']} uploads/s ({uploads['mb_per_s']} MB/s), latency p50 "
            f"{uploads['latency_p50_s']} s, p95 {uploads['latency_p95_s']} s",
            flush=True,
        )
        analysis = []
        for w in args.workers:
            print(f"analysis: {args.calls} calls with {w} worker(s)", flush=True)
            analysis.append(bench_analysis(root, cache, w, args.calls))
    result["analysis"] = analysis
    result["load_average_end"] = os.getloadavg()
    print()
    print(
        f"{'executor':>9} {'workers':>7} {'calls':>5} {'audio s':>8} {'wall s':>7} "
        f"{'calls/min':>9} {'audio x':>8} {'overhead ms':>11}"
    )
    for a in analysis:
        print(
            f"{a['executor']:>9} {a['workers']:>7} {a['calls']:>5} {a['audio_s']:>8} "
            f"{a['wall_s']:>7} {a['calls_per_min']:>9} {a['audio_min_per_min']:>8} "
            f"{a.get('overhead_ms_median', '-'):>11}"
        )
    print(f"load average {result['load_average_start']} -> {result['load_average_end']}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"\nwritten {out}")


if __name__ == "__main__":
    main()
