"""The ingest socket's hand-over to the call's analysis (``api/live/stream.py``): audio read
faster than it is analysed goes in batches of up to ``BATCH_S`` per thread hop, in order; the
socket reads at most ``READ_AHEAD_S`` ahead; ``live.analysis_threads`` bounds the hops of all
calls at once. The server's own ``IngestStream`` and real sessions (VAD, the rules by sound)."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

import numpy as np
import pytest

from calmline.api.live import stream as ingest
from calmline.monitor.audio import resample
from calmline.pipelines.live import CallMeta, StreamingPipeline, decode_samples
from calmline.pipelines.live.session import StreamingSession
from tests.conftest import SAMPLES
from tests.live_client import CHUNK_S, read_wav

SECONDS = 6.0


@pytest.fixture(scope="module")
def streaming(settings, pipeline):
    sp = StreamingPipeline(settings, batch=pipeline)
    yield sp
    sp.close()


@pytest.fixture(scope="module")
def wav():
    return read_wav(SAMPLES / "en_stereo_mulaw.wav").excerpt(0, SECONDS)


def _session(streaming, wav, call_id: str) -> StreamingSession:
    meta = CallMeta(
        call_id=call_id,
        agent_id="a1",
        tracks={"0": "agent", "1": "customer"},
        sample_rate=wav.rate,
        encoding=wav.encoding,
    )
    return StreamingSession(streaming, meta, None, degraded=True)  # analysis by sound only


def _app(settings) -> SimpleNamespace:
    """What an ingest socket reads of the server: its settings and state."""
    return SimpleNamespace(state=SimpleNamespace(settings=settings))


def _stream(app: SimpleNamespace, session: StreamingSession) -> ingest.IngestStream:
    stream = ingest.IngestStream(SimpleNamespace(app=app), None, None)
    stream.call = SimpleNamespace(session=session)
    return stream


async def _read(stream: ingest.IngestStream, wav, seen=None) -> None:
    """The receive loop's part: every 20 ms frame of both tracks, as fast as it comes."""
    step = round(CHUNK_S * wav.rate) * wav.width * wav.channels
    for k in range(0, len(wav.payload), step):
        x = decode_samples(wav.payload[k : k + step], wav.encoding, wav.channels)
        for c in range(wav.channels):
            await stream.accept(str(c), x[c], None)
            if seen is not None:
                seen.append(stream._backlog)
        await asyncio.sleep(0)  # the socket's next frame
    await stream._drained()


@pytest.fixture
def hops(monkeypatch):
    """Each thread hop's chunks, and the most hops that ran at once."""
    record = {"sizes": [], "running": 0, "most": 0}
    lock = threading.Lock()
    real = ingest._analyse_batch

    def counted(session, batch):
        with lock:
            record["running"] += 1
            record["most"] = max(record["most"], record["running"])
        try:
            record["sizes"].append(len(batch))
            return real(session, batch)
        finally:
            with lock:
                record["running"] -= 1

    monkeypatch.setattr(ingest, "_analyse_batch", counted)
    return record


def test_audio_read_ahead_of_the_analysis_goes_in_batches_in_order(settings, streaming, wav, hops):
    session = _session(streaming, wav, "batched")
    asyncio.run(_read(_stream(_app(settings), session), wav))
    chunks = 2 * round(SECONDS / CHUNK_S)
    assert sum(hops["sizes"]) == chunks, "every chunk analysed once"
    # read faster than analysed: the chunks that came during a hop go with the next one
    assert len(hops["sizes"]) < chunks / 5, hops["sizes"]
    assert max(hops["sizes"]) <= 2 * round(ingest.BATCH_S / CHUNK_S), "at most BATCH_S a hop"
    # in order on each track: what the session holds is the recording, resampled as a whole
    x = decode_samples(wav.payload, wav.encoding, wav.channels)
    held = session.audio().samples
    for c in range(2):
        whole = resample(x[c], wav.rate)
        n = held.shape[1]
        assert n > 0.95 * whole.shape[0]
        np.testing.assert_allclose(held[c], whole[:n], atol=1e-6)


def test_the_socket_reads_at_most_read_ahead_s_before_the_analysis(
    settings, streaming, wav, hops, monkeypatch
):
    monkeypatch.setattr(ingest, "READ_AHEAD_S", 1.0)
    session = _session(streaming, wav, "bounded")
    backlog: list[int] = []
    asyncio.run(_read(_stream(_app(settings), session), wav, backlog))
    bound = 1.0 * wav.rate * 2  # samples of both tracks
    assert max(backlog) <= bound + round(CHUNK_S * wav.rate), "the reads waited for the analysis"
    assert max(backlog) > bound / 2, "and read ahead up to the bound"
    assert sum(hops["sizes"]) == 2 * round(SECONDS / CHUNK_S)


@pytest.mark.parametrize("threads", [1, 2])
def test_analysis_threads_bound_the_hops_of_all_calls(settings, streaming, wav, hops, threads):
    live = settings.live.model_copy(update={"analysis_threads": threads})
    configured = settings.model_copy(update={"live": live})

    async def calls():
        app = _app(configured)  # one server, three calls
        streams = [_stream(app, _session(streaming, wav, f"t{threads}-{i}")) for i in range(3)]
        await asyncio.gather(*(_read(s, wav) for s in streams))

    asyncio.run(calls())
    assert sum(hops["sizes"]) == 3 * 2 * round(SECONDS / CHUNK_S)
    assert hops["most"] <= threads
