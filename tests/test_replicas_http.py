"""Two API replicas over HTTP on one PostgreSQL: each upload is analysed exactly once.

One real PostgreSQL (``tests/pg.py``) and two real servers (``calmline serve`` subprocesses on
127.0.0.1, the in-process executor, one analysis worker each) sharing it and one audio folder
(a shared filesystem, as on a cluster):

- 20 uploads, sent to A and B in turn, are each analysed once: one job per call, done at the
  first attempt, one report per call in PostgreSQL, the same report from both replicas' API, and
  both replicas did part of the work;
- replica A stopped while both replicas are inside a call (SIGKILL: a crash; SIGTERM: an
  orchestrator's shutdown), then started again: its start-up takes back only its own job (a
  crash) or none (a shutdown finishes the job in hand), never B's, and every call still ends
  with one report.

To be sure that B's job is in flight while A starts again, B is paused (SIGSTOP) from the moment
A is stopped until A has started and run the rest of the queue: B's lease (``jobs.lease_s``)
outlives the pause, so its job must be left alone. The calls are 4 s stretches of a bundled
sample and Whisper tiny.en, about 1.5-2.5 s of one core each: the module takes 1-5 minutes on
2 cores (the longer when they are busy with other work).
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from calmline.monitor.audio import load_audio
from calmline.monitor.store import JobRow, ReportRow, Store
from tests.audio_factory import write_audio
from tests.conftest import SAMPLES
from tests.server import CalmlineServer

CLIP_S = 4.0
CALLS = 20
LEASE_S = 300.0
"""Far longer than B is paused (A's restart and the rest of the queue: 20-70 s here)."""
RESTART_CALLS = 6
DEADLINE_S = 300.0
"""Longest wait for any one thing (all calls done, a server up) before the test fails."""


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[Path]:
    """The stereo sample call (80.8 s) cut into 20 different 4 s calls, 16 kHz PCM WAV."""
    audio = load_audio(SAMPLES / "en_stereo_mulaw.wav")
    n = round(CLIP_S * 16000)
    assert audio.samples.shape[1] >= CALLS * n
    out = tmp_path_factory.mktemp("clips")
    return [
        write_audio(out / f"clip{i:02}.wav", audio.samples[:, i * n : (i + 1) * n], 16000,
                    "pcm_s16le")
        for i in range(CALLS)
    ]  # fmt: skip


@pytest.fixture(scope="module")
def replicas(postgres, tmp_path_factory, cache_dir):
    url = postgres.create_database("replicas_http")
    root = tmp_path_factory.mktemp("replicas-http")
    env = {
        "CALMLINE_STORAGE__DATABASE_URL": url,
        "CALMLINE_STORAGE__AUDIO_DIR": str(root / "audio"),  # one folder both replicas read
        "CALMLINE_ASR__MODEL": "bundled:tiny.en",
        "CALMLINE_ASR__CPU_THREADS": "1",
        "CALMLINE_JOBS__LEASE_S": str(LEASE_S),
    }
    a = CalmlineServer(root / "a", cache_dir, workers=1, env=env)
    b = CalmlineServer(root / "b", cache_dir, workers=1, env=env)
    store = Store(url, root / "audio")
    try:
        a.start()  # one after the other: each migrates the shared database on start
        b.start()
        yield {"a": a, "b": b, "store": store, "key": store.create_api_key("admin").key}
    finally:
        for server in (a, b):
            server.stop()
            server.kill()
        store.close()


# ---------------------------------------------------------------------------- helpers


def _pid(owner: str | None) -> int | None:
    """The process id in a job owner ``<host>:<pid>:<token>/<worker>``."""
    if not owner:
        return None
    return int(owner.split("/", 1)[0].rsplit(":", 2)[1])


def _jobs(store: Store, call_ids: list[str]) -> dict[str, JobRow]:
    with store.session() as s:
        rows = s.scalars(select(JobRow).where(JobRow.call_id.in_(call_ids))).all()
        s.expunge_all()
    return {r.call_id: r for r in rows}


def _report_counts(store: Store, call_ids: list[str]) -> dict[str, int]:
    with store.session() as s:
        return dict(
            s.execute(
                select(ReportRow.call_id, func.count())
                .where(ReportRow.call_id.in_(call_ids))
                .group_by(ReportRow.call_id)
            ).all()
        )


def _upload(replicas, clips: list[Path], tag: str) -> dict[str, str]:
    """Upload the clips to A and B in turn; returns {call id: job id}."""
    out = {}
    for i, clip in enumerate(clips):
        server = replicas["ab"[i % 2]]
        r = server.upload(replicas["key"], clip, f"agent{i % 3}", call_id=f"{tag}-{i:02}")
        assert r.status_code == 202, f"upload {i} to {server.base_url}: {r.text}"
        out[r.json()["call_id"]] = r.json()["job_id"]
    return out


def _logs(replicas) -> str:
    return "\n".join(f"--- replica {n} log (end):\n{replicas[n].log()[-3000:]}" for n in ("a", "b"))


def _wait(replicas, check, what: str, timeout: float = DEADLINE_S, every: float = 0.2) -> Any:
    """Poll ``check()`` until it returns something true; fail with both logs if it does not."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:g} s\n{_logs(replicas)}")
        time.sleep(every)


def _all_done(replicas, call_ids: list[str], timeout: float = DEADLINE_S) -> dict[str, JobRow]:
    def done() -> dict[str, JobRow] | None:
        jobs = _jobs(replicas["store"], call_ids)
        failed = {c: j.error for c, j in jobs.items() if j.state == "failed"}
        assert not failed, f"jobs failed: {failed}\n{_logs(replicas)}"
        return jobs if all(j.state == "done" for j in jobs.values()) else None

    return _wait(replicas, done, f"all {len(call_ids)} calls analysed", timeout)


def _check_one_report_each(replicas, call_ids: list[str]) -> None:
    """One report row per call in PostgreSQL, and both replicas serve that report."""
    assert _report_counts(replicas["store"], call_ids) == dict.fromkeys(call_ids, 1)
    served: dict[str, list[dict[str, Any]]] = {c: [] for c in call_ids}
    for name in ("a", "b"):
        with replicas[name].client(replicas["key"]) as c:
            for call_id in call_ids:
                r = c.get(f"/api/v1/calls/{call_id}/report")
                assert r.status_code == 200, f"{name}: {call_id}: {r.text}"
                served[call_id].append(r.json())
                assert c.get(f"/api/v1/calls/{call_id}").json()["status"] == "done"
    for call_id, (on_a, on_b) in served.items():
        assert on_a == on_b, f"{call_id}: the replicas serve different reports"
        assert on_a["call_id"] == call_id
        assert on_a["audio"]["duration"] == pytest.approx(CLIP_S, abs=0.05)
        assert on_a["models"][1]["name"] == "whisper-tiny.en"


# ---------------------------------------------------------------------------- tests


def test_uploads_to_both_replicas_are_each_analysed_once(replicas, clips):
    t0 = time.monotonic()
    jobs = _upload(replicas, clips, "once")
    assert len(set(jobs.values())) == CALLS
    done = _all_done(replicas, list(jobs))
    elapsed = time.monotonic() - t0

    assert {c: j.id for c, j in done.items()} == jobs, "one job per call"
    assert {c: j.attempts for c, j in done.items()} == dict.fromkeys(jobs, 1)
    by = {_pid(j.worker) for j in done.values()}
    pids = {replicas["a"].proc.pid, replicas["b"].proc.pid}
    assert by == pids, f"both replicas take jobs from the shared queue: {by} vs {pids}"
    _check_one_report_each(replicas, list(jobs))
    # the job listing agrees, whichever replica is asked
    for name in ("a", "b"):
        with replicas[name].client(replicas["key"]) as c:
            for call_id, job_id in jobs.items():
                job = c.get(f"/api/v1/jobs/{job_id}").json()
                assert (job["state"], job["attempts"], job["call_id"]) == ("done", 1, call_id)
    print(f"\n{CALLS} calls on two replicas in {elapsed:.1f} s")


def _both_inside_a_call(replicas, call_ids: list[str]) -> tuple[JobRow, JobRow]:
    """Pause both replicas at a moment each is inside a call (progress past the decode);
    returns (A's job, B's job) as they stand, frozen."""
    a, b, store = replicas["a"], replicas["b"], replicas["store"]
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        running = [j for j in _jobs(store, call_ids).values() if j.state == "running"]
        mine = {_pid(j.worker) for j in running if j.progress > 0}
        if {a.proc.pid, b.proc.pid} <= mine:
            a.send(signal.SIGSTOP)
            b.send(signal.SIGSTOP)
            time.sleep(0.3)  # a write in flight when the signal came lands, or does not
            running = {
                _pid(j.worker): j for j in _jobs(store, call_ids).values() if j.state == "running"
            }
            if a.proc.pid in running and b.proc.pid in running:
                return running[a.proc.pid], running[b.proc.pid]
            a.send(signal.SIGCONT)  # one of them finished its call meanwhile: again
            b.send(signal.SIGCONT)
        time.sleep(0.05)
    pytest.fail(f"never saw both replicas inside a call at once\n{_logs(replicas)}")


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_a_replica_restarted_mid_run_leaves_the_other_replicas_jobs_alone(replicas, clips, how):
    a, b, store = replicas["a"], replicas["b"], replicas["store"]
    jobs = _upload(replicas, clips[:RESTART_CALLS], f"restart-{how.lower()}")
    call_ids = list(jobs)
    a_job, b_job = _both_inside_a_call(replicas, call_ids)
    a_pid, b_pid = a.proc.pid, b.proc.pid
    assert b_job.attempts == 1
    paused = time.monotonic()
    try:
        if how == "SIGKILL":
            a.kill()
        else:
            a.terminate()  # SIGTERM, then SIGCONT: A wakes up and shuts down
        assert a.proc.poll() is not None, "replica A did not exit"
        stopped_s = time.monotonic() - paused
        a.start()  # its start-up requeues what a dead owner left running, B being alive
        started_s = time.monotonic() - paused - stopped_s
        assert a.proc.pid != a_pid

        # A works through the queue while B is paused, around B's job
        def rest_done() -> bool:
            rest = [j for c, j in _jobs(store, call_ids).items() if c != b_job.call_id]
            return all(j.state == "done" for j in rest)

        _wait(replicas, rest_done, "replica A running the queue after its restart")
        held = _jobs(store, [b_job.call_id])[b_job.call_id]
        pause_s = time.monotonic() - paused
        assert pause_s < LEASE_S * 0.8, f"B was paused {pause_s:.0f} s, near its lease"
        assert (held.state, held.worker, held.attempts) == ("running", b_job.worker, 1), (
            f"B's job was touched while B was alive: {held.state} {held.worker} {held.attempts}"
        )
        assert _report_counts(store, [b_job.call_id]) == {}
    finally:
        b.send(signal.SIGCONT)

    done = _all_done(replicas, call_ids)
    # B's call: finished by B, the first attempt, once
    mine = done[b_job.call_id]
    assert (mine.worker, mine.attempts, _pid(mine.worker)) == (b_job.worker, 1, b_pid)
    theirs = done[a_job.call_id]
    if how == "SIGKILL":
        # A's call in hand died with A; A's new process took it back at once (the old process
        # is gone: no need to wait for the lease) and ran it again
        assert theirs.attempts == 2 and _pid(theirs.worker) == a.proc.pid, theirs.worker
        assert all(j.attempts == 1 for c, j in done.items() if c != a_job.call_id)
    else:
        # a shutdown finishes the call in hand: nothing is run twice
        assert theirs.attempts == 1 and _pid(theirs.worker) == a_pid, theirs.worker
        assert all(j.attempts == 1 for j in done.values())
    assert {_pid(j.worker) for j in done.values()} <= {a_pid, a.proc.pid, b_pid}
    _check_one_report_each(replicas, call_ids)
    print(
        f"\n{how}: A stopped in {stopped_s:.1f} s, started in {started_s:.1f} s; "
        f"B paused {pause_s:.1f} s"
    )
