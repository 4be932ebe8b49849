"""Live ingest: what it costs to hand a socket's audio to the call's analysis, one chunk per
thread hop against the batches of ``api/live/stream.py`` (up to ``BATCH_S`` of audio per hop),
on any of anyio's 40 worker threads against ``live.analysis_threads`` of them for all calls.

N calls (the sample ``en_stereo_mulaw``, 80.8 s of 8 kHz mu-law stereo, as the raw protocol's
20 ms binary frames) are read at once, as fast as they come, by the server's own ``IngestStream``
on one asyncio loop with its worker threads, as ``calmline serve`` reads them. Each call's
session is opened without live transcription (``degraded``), so the figures are the reading and
the analysis by sound alone (resampling, VAD, onsets, crosstalk gate, acoustic rules). The ways
run side by side in one process, in turns (``--runs`` rounds of the ways, the fastest
round of each kept), on the same machine load.

    .venv/bin/python bench/live_ingest.py [--calls 1,5] [--runs 2]

Printed per N and way: wall time until every call's audio is analysed, the process's CPU time
over it, thread hops, and each way's ratios to the last (the server's
default).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calmline.api.live import stream as ingest
from calmline.monitor.settings import Settings
from calmline.pipelines.batch import BatchPipeline
from calmline.pipelines.live import CallMeta, StreamingPipeline, decode_samples
from calmline.pipelines.live.session import StreamingSession
from calmline.pipelines.manager import ModelManager
from tests.live_client import CHUNK_S, read_wav

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "en_stereo_mulaw.wav"


async def _read_calls(pipeline: StreamingPipeline, settings: Settings, n: int, tag: str) -> int:
    """Read ``n`` calls at once through ``IngestStream.accept``; the thread hops it took."""
    wav = read_wav(SAMPLE)
    step = round(CHUNK_S * wav.rate) * wav.width * wav.channels
    app = SimpleNamespace(state=SimpleNamespace(settings=settings))
    hops = 0
    real = ingest._analyse_batch

    def counted(session, batch):
        nonlocal hops
        hops += 1
        return real(session, batch)

    ingest._analyse_batch = counted

    async def one(i: int) -> None:
        meta = CallMeta(
            call_id=f"{tag}-{i}",
            agent_id="a1",
            tracks={"0": "agent", "1": "customer"},
            sample_rate=wav.rate,
            encoding=wav.encoding,
        )
        stream = ingest.IngestStream(SimpleNamespace(app=app), None, None)
        stream.call = SimpleNamespace(session=StreamingSession(pipeline, meta, None, degraded=True))
        for k in range(0, len(wav.payload), step):
            x = decode_samples(wav.payload[k : k + step], wav.encoding, wav.channels)
            for c in range(wav.channels):
                await stream.accept(str(c), x[c], None)
            await asyncio.sleep(0)  # the next frame of the socket
        await stream._drained()

    try:
        await asyncio.gather(*(one(i) for i in range(n)))
    finally:
        ingest._analyse_batch = real
    return hops


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", default="1,5", help="concurrent calls, comma-separated")
    ap.add_argument(
        "--runs", type=int, default=2, help="rounds of the ways; the fastest of each is kept"
    )
    args = ap.parse_args()
    settings = Settings(cache_dir=tempfile.mkdtemp(prefix="calmline-bench-"))
    pipeline = StreamingPipeline(settings, batch=BatchPipeline(settings, ModelManager(settings)))
    pipeline.vad_model()
    batch_s, threads = ingest.BATCH_S, settings.live.analysis_threads
    pool = 40  # anyio's default worker threads
    ways = {
        f"per chunk, {pool} threads": (0.0, pool),
        f"batched ({batch_s:g} s), {pool} threads": (batch_s, pool),
        **{f"batched ({batch_s:g} s), {t} thread(s)": (batch_s, t) for t in (1, threads)},
    }
    print(f"{SAMPLE.name}, analysis by sound only, {args.runs} rounds, fastest kept")
    print("| calls | way | wall s (to the last) | CPU s (to the last) | hops |")
    print("|---|---|---|---|---|")
    for n in (int(c) for c in args.calls.split(",")):
        best: dict[str, tuple[float, float, int]] = {}
        for r in range(args.runs):
            for w, (name, (size, limit)) in enumerate(ways.items()):
                ingest.BATCH_S = size
                live = settings.live.model_copy(update={"analysis_threads": limit})
                way = settings.model_copy(update={"live": live})
                t, c = time.perf_counter(), time.process_time()
                hops = asyncio.run(_read_calls(pipeline, way, n, f"{n}-{r}-{w}"))
                got = (time.perf_counter() - t, time.process_time() - c, hops)
                if name not in best or got[0] < best[name][0]:
                    best[name] = got
        ingest.BATCH_S = batch_s
        last_wall, last_cpu, _ = best[list(ways)[-1]]
        for name, (wall, cpu, hops) in best.items():
            print(
                f"| {n} | {name} | {wall:.1f} ({wall / last_wall:.2f}x) "
                f"| {cpu:.1f} ({cpu / last_cpu:.2f}x) | {hops} |"
            )
    pipeline.close()


if __name__ == "__main__":
    main()
