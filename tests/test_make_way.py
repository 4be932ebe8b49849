"""Analyses make way for live calls: an analysis job of a server pauses between decoding windows
while live transcription has utterances waiting (``live.batch_yield_s``), at most that long per
job, and the transcriber tells its progress between windows so such a pause can happen there.

Real parts: the bundled Whisper and Silero models through the batch pipeline, a 20 s excerpt of
the bundled stereo sample, a SQLite store, the job runner's own worker threads. The "live calls
need the cores" signal is a flag the test sets, as ``StreamingPipeline.needs_cores`` would.
"""

from __future__ import annotations

import threading
import time

import pytest

from calmline.monitor.audio import load_audio, write_wav
from calmline.monitor.store import Store
from calmline.monitor.types import SAMPLE_RATE
from calmline.pipelines.executor import InProcessExecutor
from calmline.pipelines.jobs import JobRunner
from tests.conftest import SAMPLES

EXCERPT_S = 20.0


@pytest.fixture(scope="module")
def excerpt(tmp_path_factory):
    audio = load_audio(SAMPLES / "en_stereo_mulaw.wav")  # two channels at 16 kHz
    samples = audio.samples[:, : int(EXCERPT_S * SAMPLE_RATE)]
    assert samples.shape == (2, int(EXCERPT_S * SAMPLE_RATE))
    return write_wav(samples, SAMPLE_RATE, tmp_path_factory.mktemp("make-way") / "excerpt.wav")


def _queued(tmp_path, excerpt, call_id: str) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'calls.db'}", tmp_path / "audio")
    store.migrate()
    store.create_call(call_id, "a1", "upload", audio_path=excerpt, job_params={})
    return store


def test_the_transcriber_tells_its_progress_between_windows(pipeline, excerpt):
    seen: list[tuple[float, float]] = []

    def hook(step, artifact=None, *, completed=None, total=None):
        if step == "transcribe" and completed is not None:
            seen.append((completed, total))

    report = pipeline.analyze(excerpt, hook=hook)
    assert any(t.words for t in report.turns), "the excerpt has speech"
    # the stage's own start and end marks are (0, 1) and (1, 1); within it, one part per channel
    within = [(c, t) for c, t in seen if t != 1]
    assert {t for _, t in within} == {2}, seen
    done = [c for c, _ in within]
    assert done == sorted(done), "progress never goes back"
    inside = [c for c in done if c not in (0, 1, 2)]
    assert inside, f"progress comes between windows, not only per channel: {seen}"
    assert all(0 <= c <= 2 for c in done)


def test_an_analysis_waits_while_live_calls_need_the_cores(pipeline, excerpt, tmp_path):
    store = _queued(tmp_path, excerpt, "c1")
    busy = threading.Event()
    busy.set()
    runner = JobRunner(
        store,
        InProcessExecutor(pipeline),
        poll_s=0.05,
        make_way=busy.is_set,
        make_way_s=120.0,
    )
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while runner.paused_s < 0.5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert store.get_report("c1") is None
        # held: no step forward while the live calls need the cores
        before = store.latest_job("c1")
        time.sleep(1.5)
        after = store.latest_job("c1")
        assert store.get_report("c1") is None
        assert before.state == after.state == "running"
        assert (after.step, after.progress) == (before.step, before.progress)
        assert runner.paused_s >= 1.5
        busy.clear()
        deadline = time.monotonic() + 240
        while store.get_report("c1") is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert store.get_report("c1") is not None, "the analysis went on once the calls let it"
        assert store.get_report("c1").turns
    finally:
        runner.stop()
        store.close()


@pytest.mark.parametrize(
    ("busy", "most_s", "paused"),
    [(True, 1.0, (0.9, 1.6)), (False, 60.0, (0.0, 0.2))],
    ids=["calls-that-never-let-go-do-not-starve-it", "no-pause-without-live-calls"],
)
def test_an_analysis_makes_way_for_at_most_batch_yield_s(
    pipeline, excerpt, tmp_path, busy, most_s, paused
):
    store = _queued(tmp_path, excerpt, "c2")
    runner = JobRunner(
        store, InProcessExecutor(pipeline), poll_s=0.05, make_way=lambda: busy, make_way_s=most_s
    )
    try:
        assert runner.run_pending() == 1
        assert store.get_report("c2") is not None
        assert paused[0] <= runner.paused_s <= paused[1], runner.paused_s
    finally:
        store.close()
