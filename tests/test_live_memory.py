"""Live calls back to back keep the server's resident memory flat (issue 15).

A live call frees what it allocated (no per-call state outlives it), but glibc keeps freed blocks
inside its arenas and gives back only an arena's top, which one small block still in use pins,
and after a large block is freed it puts blocks of up to that size in the arenas too: with calls
back to back the resident memory grew while the memory in use stayed flat
(``calmline.pipelines.live.heap``). Each test frees a known amount of memory inside the heap,
pinned that way, and reads the process's RSS (``VmRSS``): it must drop by most of it once a
live call hangs up, and large blocks must go back as they are freed once live calls are
followed. Without the fix the RSS stays where it was.
"""

from __future__ import annotations

import platform
import threading

import pytest

from calmline.pipelines.live import CallMeta, StreamingPipeline, decode_samples
from calmline.pipelines.live.heap import MMAP_THRESHOLD
from tests.conftest import SAMPLES
from tests.live_client import CHUNK_S, read_wav

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="glibc's heap (mallopt, malloc_trim); other C libraries manage theirs otherwise",
)

MB = 2**20
FREED_MB = 192
BLOCK = 1024
"""Bytes per block: past Python's small-object allocator (512 bytes), so each is glibc's."""


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def _free_inside_the_heap(mb: int) -> list[bytes]:
    """Allocate ``mb`` MB in 1 KiB blocks from a thread of its own (as the server's worker
    threads allocate), keep every 64th and free the rest: about ``mb`` MB free inside the
    heap, between blocks still in use, which glibc does not give back by itself. Returns the
    kept blocks (the caller holds them)."""
    kept: list[bytes] = []

    def work() -> None:
        blocks = [bytes(BLOCK) for _ in range(mb * MB // BLOCK)]
        kept.extend(blocks[63::64])
        blocks.clear()

    t = threading.Thread(target=work)
    t.start()
    t.join()
    return kept


def _large_blocks_freed(mb: int) -> tuple[float, float]:
    """Free a 32 MB block (glibc then raises the size from which blocks get pages of their own
    to 32 MB), then, in a thread of its own, allocate ``mb`` MB in blocks of
    ``MMAP_THRESHOLD``, each followed by a 1 KiB block kept, and free the large ones. Returns
    the RSS (MB) with the large blocks held and after they were freed."""
    big = bytearray(32 * MB)
    del big
    rss: list[float] = []

    def work() -> None:
        large: list[bytearray] = []
        kept: list[bytes] = []
        for _ in range(mb * MB // MMAP_THRESHOLD):
            large.append(bytearray(MMAP_THRESHOLD))  # written: its pages are resident
            kept.append(bytes(BLOCK))
        rss.append(_rss_mb())
        large.clear()
        rss.append(_rss_mb())

    t = threading.Thread(target=work)
    t.start()
    t.join()
    return rss[0], rss[1]


@pytest.fixture(scope="module")
def streaming(settings, pipeline):
    sp = StreamingPipeline(settings, batch=pipeline)
    yield sp
    sp.close()


def _call(streaming: StreamingPipeline, call_id: str, seconds: float = 4.0) -> None:
    """The first ``seconds`` of a sample call streamed in 20 ms chunks, then hung up."""
    wav = read_wav(SAMPLES / "en_stereo_mulaw.wav")
    x = decode_samples(wav.payload, wav.encoding, wav.channels)
    tracks = {"agent": "agent", "customer": "customer"}
    session = streaming.open_session(
        CallMeta(
            call_id=call_id,
            agent_id="a1",
            tracks=tracks,
            sample_rate=wav.rate,
            encoding=wav.encoding,
        ),
    )
    step = round(CHUNK_S * wav.rate)
    end = round(seconds * wav.rate)
    for i in range(0, end, step):
        for c, name in enumerate(tracks):
            session.accept(name, x[c, i : min(i + step, end)])
    session.close()


def test_a_call_that_hangs_up_gives_the_freed_heap_back(streaming):
    _call(streaming, "mem-warm")  # models loaded, first-call allocations made
    kept = _free_inside_the_heap(FREED_MB)
    held = _rss_mb()
    _call(streaming, "mem-after")
    after = _rss_mb()
    assert len(kept) > 0
    assert held - after > FREED_MB / 2, (
        f"RSS {held:.0f} MB before the call, {after:.0f} MB after it hung up: the "
        f"{FREED_MB} MB freed inside the heap were not given back"
    )


def test_large_buffers_go_back_as_they_are_freed_while_calls_are_followed(streaming):
    held, freed = _large_blocks_freed(FREED_MB)
    assert held - freed > FREED_MB / 2, (
        f"RSS {held:.0f} MB with {FREED_MB} MB of large blocks, {freed:.0f} MB once they were "
        "freed: they stayed in the heap"
    )
