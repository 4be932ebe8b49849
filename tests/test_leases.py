"""Several servers on one database: jobs under leases, on SQLite and a real PostgreSQL.

Replicas are real Stores and JobRunners: threads of this process with engines of their own, or
processes of their own (``tests/lease_worker.py``) that the tests SIGKILL. The analysis is a
stand-in with the pipeline's ``analyze`` (these tests are about the queue); one test runs the
real pipeline.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text, update

from calmline.monitor.store import JobRow, Store
from calmline.pipelines.jobs import JobRunner
from tests.lease_worker import StubPipeline, read_log, scored_report

REPO = Path(__file__).resolve().parents[1]


def wait_for(predicate, timeout: float = 20.0, what: str = "condition") -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def add_calls(store: Store, tmp_path: Path, ids: list[str]) -> dict[str, str]:
    """Queue an analysis job for each call id (a small stand-in audio file each)."""
    audio = tmp_path / "in.wav"
    audio.write_bytes(b"RIFF")
    return {c: store.create_call(c, "a1", "upload", audio_path=audio, job_params={}) for c in ids}


def replica(store: Store, tmp_path: Path, name: str) -> Store:
    """Another server's Store on the same database (its own engine and connections)."""
    return Store(store.url, tmp_path / f"audio-{name}")


def counts(store: Store, table: str) -> int:
    with store.session() as s:
        return s.execute(text(f"select count(*) from {table}")).scalar()


def test_twenty_jobs_on_two_replicas_each_run_once(store, tmp_path):
    other = replica(store, tmp_path, "b")
    ids = [f"c{i:02d}" for i in range(20)]
    jobs = add_calls(store, tmp_path, ids)
    a, b = StubPipeline(0.05, steps=2), StubPipeline(0.05, steps=2)
    runners = [
        JobRunner(store, a, workers=2, lease_s=5.0, poll_s=0.02),
        JobRunner(other, b, workers=2, lease_s=5.0, poll_s=0.02),
    ]
    for r in runners:
        r.start()
    try:
        wait_for(lambda: store.count_jobs()["done"] == 20, what="20 jobs done")
    finally:
        for r in runners:
            r.stop()
        other.close()
    assert sorted(a.runs + b.runs) == ids  # each analysed once, by one replica
    assert a.runs and b.runs, "both replicas took jobs"
    assert all(store.get_job(j).attempts == 1 for j in jobs.values())
    assert counts(store, "reports") == 20
    assert counts(store, "practice_scores") == 20 * len(scored_report("x").scorecard.practices)


def test_a_lost_owner_cannot_heartbeat_nor_write(store, tmp_path):
    (job_id,) = add_calls(store, tmp_path, ["c1"]).values()
    report = scored_report("c1")
    # leases long enough that a slow machine still checks them before they run out
    job = store.claim_job("host:1:aaaaaa/w", lease_s=2.0)
    assert job.worker == "host:1:aaaaaa/w" and job.lease_expires_at is not None
    assert store.claim_job("host:2:bbbbbb/w", lease_s=0.2) is None  # held: not taken
    assert store.heartbeat_job(job_id, "host:1:aaaaaa/w", lease_s=2.0)
    time.sleep(2.1)  # the owner stops renewing: the lease runs out
    taken = store.claim_job("host:2:bbbbbb/w", lease_s=30)
    assert (taken.id, taken.attempts) == (job_id, 2)
    assert not store.heartbeat_job(job_id, "host:1:aaaaaa/w")
    assert not store.finish_with_report(job_id, "host:1:aaaaaa/w", report)
    assert not store.finish_job(job_id, "boom", owner="host:1:aaaaaa/w")
    assert not store.update_job(job_id, owner="host:1:aaaaaa/w", step="score")
    assert store.get_report("c1") is None and store.get_job(job_id).state == "running"
    assert store.finish_with_report(job_id, "host:2:bbbbbb/w", report)
    assert store.get_job(job_id).state == "done"
    assert store.get_report("c1") is not None
    # done: no one writes again, not even its owner
    assert not store.finish_with_report(job_id, "host:2:bbbbbb/w", report)
    assert counts(store, "reports") == 1


def test_a_runner_that_lost_its_lease_drops_its_result(store, tmp_path):
    (job_id,) = add_calls(store, tmp_path, ["c1"]).values()
    release = threading.Event()
    ended: list[str] = []
    told: list[str] = []

    class Blocking(StubPipeline):
        def analyze(self, audio_path, request, hook=None):
            self._note("start", request.call_id)
            hook("transcribe", None, completed=0, total=2)
            release.wait(30)
            hook("transcribe", None, completed=1, total=2)  # the lost owner stops here
            return scored_report(request.call_id)

    runner = JobRunner(
        store,
        Blocking(),
        lease_s=1.0,
        poll_s=0.05,
        listeners=[lambda call_id, _r: told.append(call_id)],
        on_job_end=lambda _j, outcome, _s: ended.append(outcome),
    )
    runner.start()
    try:
        wait_for(lambda: store.get_job(job_id).state == "running", what="the claim")
        owner = store.get_job(job_id).worker
        # the owner's database is out of reach past its lease: another server takes the job
        with store.session() as s:
            s.execute(update(JobRow).where(JobRow.id == job_id).values(lease_expires_at=None))
        thief = store.claim_job("elsewhere:1:cccccc/w", lease_s=30)
        assert thief.id == job_id and thief.attempts == 2
        wait_for(lambda: not store.heartbeat_job(job_id, owner), what="a refused heartbeat")
        release.set()
        wait_for(lambda: ended, what="the runner to end the job")
    finally:
        release.set()
        runner.stop()
    assert ended == ["lost"] and told == []
    assert store.get_report("c1") is None  # nothing written by the lost owner
    job = store.get_job(job_id)
    assert (job.state, job.worker) == ("running", "elsewhere:1:cccccc/w")


def start_worker(store: Store, tmp_path: Path, log: Path, lease: float, delay: float):
    return subprocess.Popen(
        [
            sys.executable, "-m", "tests.lease_worker", store.url, str(tmp_path / "audio-w"),
            str(log), "--lease", str(lease), "--delay", str(delay),
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def test_restart_leaves_a_live_replicas_job_alone_and_takes_over_a_dead_ones(store, tmp_path):
    log = tmp_path / "worker.log"
    jobs = add_calls(store, tmp_path, ["live"])
    live = start_worker(store, tmp_path, log, lease=1.0, delay=4.0)
    local = StubPipeline(0.0)
    try:
        wait_for(lambda: ("start", "live", live.pid) in read_log(log), what="the replica's claim")
        # this server restarts while the other replica works: its job is not touched
        for _ in range(2):
            runner = JobRunner(store, local, lease_s=1.0, poll_s=0.05)
            runner.start()
            assert runner.resumed == []
            time.sleep(1.5)  # longer than the lease: only heartbeats keep it
            runner.stop()
        runner = JobRunner(store, local, lease_s=1.0, poll_s=0.05)
        runner.start()
        wait_for(lambda: store.get_job(jobs["live"]).state == "done", what="the live job")
        assert local.runs == [] and store.get_job(jobs["live"]).attempts == 1
        assert [e[0] for e in read_log(log) if e[1] == "live"] == ["start", "end"]

        runner.stop()

        # a replica killed mid-job: once its lease expires the job is taken over, one report
        live.kill()
        live.wait(10)
        dead = start_worker(store, tmp_path, log, lease=1.0, delay=60.0)
        jobs.update(add_calls(store, tmp_path, ["orphan"]))
        wait_for(lambda: ("start", "orphan", dead.pid) in read_log(log), what="the claim")
        runner = JobRunner(store, local, lease_s=1.0, poll_s=0.05)
        runner.start()
        assert runner.resumed == []  # its owner is alive
        time.sleep(1.5)
        assert store.get_job(jobs["orphan"]).attempts == 1
        dead.kill()
        dead.wait(10)
        t0 = time.monotonic()
        wait_for(lambda: store.get_job(jobs["orphan"]).state == "done", what="the takeover")
        assert time.monotonic() - t0 < 5.0
        runner.stop()
    finally:
        for p in (live, locals().get("dead")):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait(10)
    assert local.runs == ["orphan"]
    assert store.get_job(jobs["orphan"]).attempts == 2
    assert counts(store, "reports") == 2


def test_start_up_resumes_at_once_the_jobs_of_a_dead_process_of_this_host(store, tmp_path):
    """A single machine restarted after a crash does not wait for the leases of its jobs."""
    log = tmp_path / "worker.log"
    jobs = add_calls(store, tmp_path, ["c1"])
    dead = start_worker(store, tmp_path, log, lease=600.0, delay=60.0)
    try:
        wait_for(lambda: ("start", "c1", dead.pid) in read_log(log), what="the claim")
    finally:
        os.kill(dead.pid, signal.SIGKILL)
        dead.wait(10)
    assert store.requeue_abandoned(gone=lambda owner: False) == []  # a lease of 10 minutes
    runner = JobRunner(store, StubPipeline(0.0), lease_s=600.0, poll_s=0.05)
    runner.start()
    try:
        assert runner.resumed == [jobs["c1"]]
        wait_for(lambda: store.get_job(jobs["c1"]).state == "done", what="the resumed job")
    finally:
        runner.stop()
    assert store.get_job(jobs["c1"]).attempts == 2


def test_two_replicas_with_the_real_pipeline(store, tmp_path, pipeline):
    """The composition the server uses, on a real short call: heartbeats renew the lease while
    it is analysed, the other replica never takes it, one report."""
    if store.dialect != "postgresql":
        pytest.skip("the real pipeline runs once, on PostgreSQL")
    from tests.conftest import SAMPLES

    other = replica(store, tmp_path, "b")
    job_id = store.create_call(
        "r1", "a1", "upload", audio_path=SAMPLES / "en_pii.wav", job_params={}
    )
    runners = [JobRunner(s, pipeline, lease_s=4.0, poll_s=0.05) for s in (store, other)]
    for r in runners:
        r.start()
    try:
        wait_for(lambda: store.get_job(job_id).state == "done", timeout=300, what="the analysis")
    finally:
        for r in runners:
            r.stop()
        other.close()
    job = store.get_job(job_id)
    assert job.attempts == 1
    assert job.heartbeat_at > job.started_at  # renewed while the analysis ran
    report = store.get_report("r1")
    assert report is not None and report.turns and report.scorecard is not None
    assert counts(store, "reports") == 1


def test_one_replica_leads_the_watched_folder_and_another_takes_over(postgres, tmp_path):
    from calmline.pipelines.watch import FolderWatcher
    from tests.conftest import SAMPLES

    url = postgres.create_database("watch_leader")
    stores = [Store(url, tmp_path / f"audio-{i}") for i in range(2)]
    stores[0].migrate()
    folder = tmp_path / "pbx"
    queued: list[tuple[int, str]] = []
    watchers = [
        FolderWatcher(
            folder, s, pattern=r"(?P<agent_id>[^_]+)_(?P<call_id>.+)", poll_s=0.1, settle_s=0.0,
            on_queued=lambda call_id, i=i: queued.append((i, call_id)),
        )
        for i, s in enumerate(stores)
    ]  # fmt: skip

    def leaders() -> list[int]:
        return [i for i, w in enumerate(watchers) if w.leading]

    try:
        for w in watchers:
            w.start()
        wait_for(lambda: len(leaders()) == 1, what="a leader")
        time.sleep(0.5)  # several polls: the other still stands by
        (first,) = leaders()
        second = 1 - first
        (folder / "a1_call-1.wav").write_bytes((SAMPLES / "en_pii.wav").read_bytes())
        wait_for(lambda: queued, what="the first file")
        assert queued == [(first, "call-1")]

        # the leader's database connection dies: it stops leading, the other takes over
        with stores[second].session() as s:
            s.execute(
                text(
                    "select pg_terminate_backend(pid) from pg_locks "
                    "where locktype = 'advisory' and granted and pid <> pg_backend_pid()"
                )
            )
        wait_for(lambda: leaders() == [second], what="the takeover")
        (folder / "a1_call-2.wav").write_bytes((SAMPLES / "en_pii.wav").read_bytes())
        wait_for(lambda: len(queued) == 2, what="the second file")
        assert queued[1] == (second, "call-2")

        # the new leader stops: the first leads again
        watchers[second].stop()
        wait_for(lambda: leaders() == [first], what="the lead back")
        (folder / "a1_call-3.wav").write_bytes((SAMPLES / "en_pii.wav").read_bytes())
        wait_for(lambda: len(queued) == 3, what="the third file")
        assert queued[2] == (first, "call-3")
    finally:
        for w in watchers:
            w.stop()
        for s in stores:
            s.close()
    assert stores[0].count_jobs()["queued"] == 3
    assert sorted(p.name for p in (folder / "processed").iterdir()) == [
        "a1_call-1.wav", "a1_call-2.wav", "a1_call-3.wav",
    ]  # fmt: skip


def test_on_sqlite_the_watcher_always_leads(tmp_path):
    from calmline.pipelines.watch import LeaderLock

    s = Store(f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "audio")
    try:
        a, b = LeaderLock(s.engine, "calmline:watch"), LeaderLock(s.engine, "calmline:watch")
        assert a.lead() and b.lead() and not a.shared
    finally:
        s.close()
