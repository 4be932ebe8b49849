"""Calls analysed on a real Ray cluster: ``calmline serve --executor ray`` on 127.0.0.1 with
PostgreSQL, a Ray head (no CPUs: it only coordinates) and two worker nodes of one CPU each, all
started here with ``ray start`` (``tests/ray_cluster.py``).

- uploads are each analysed exactly once, by the actors on both worker nodes (their processes
  do the work; the server loads no model);
- a worker node killed in the middle of a call: that call is tried again on the other node,
  every call ends with one report, and the lost actor starts again on a node that joins.
- a re-scoring runs on an actor too (the rubric travels as text; a bad one stays a bad rubric),
  and a re-scoring job of the server is done once.

The calls are 8 s excerpts of a bundled sample and Whisper tiny.en, so the module takes about
2 minutes on 2 cores, most of it Ray and the actors starting.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from sqlalchemy import func, select

from calmline.monitor.audio import load_audio
from calmline.monitor.store import FindingRow, ReportRow, Store
from tests.audio_factory import write_audio
from tests.conftest import SAMPLES
from tests.ray_cluster import RayCluster
from tests.server import CalmlineServer
from tests.test_executor import another_version

EXCERPT_S = 8.0


@pytest.fixture(scope="module")
def calls(tmp_path_factory) -> list[Path]:
    """Eight different 8 s stretches of the stereo sample call, as 16 kHz PCM WAV files."""
    audio = load_audio(SAMPLES / "en_stereo_mulaw.wav")
    n = round(EXCERPT_S * 16000)
    out = tmp_path_factory.mktemp("calls")
    paths = []
    for i in range(8):
        part = audio.samples[:, i * n : (i + 1) * n]
        paths.append(write_audio(out / f"part{i}.wav", part, 16000, "pcm_s16le"))
    return paths


@pytest.fixture(scope="module")
def cluster():
    with RayCluster(head_cpus=0) as c:
        c.add_nodes(2, num_cpus=1)
        yield c


@pytest.fixture(scope="module")
def served(tmp_path_factory, cache_dir, cluster, postgres):
    url = postgres.create_database("ray_calls")
    data = tmp_path_factory.mktemp("server")
    store = Store(url, data / "audio")
    env = {
        **cluster.driver_env(),
        "CALMLINE_STORAGE__DATABASE_URL": url,
        "CALMLINE_ASR__MODEL": "bundled:tiny.en",
        "CALMLINE_SERVER__LOAD_MODELS": "false",
    }
    args = ["--executor", "ray", "--ray-address", cluster.address]
    with CalmlineServer(data, cache_dir, env=env, args=args) as server:
        yield server, store
    store.close()


def _actor_cpu(cluster: RayCluster) -> dict[str, float]:
    """CPU seconds used so far by the analysis actors of each live worker node."""
    out: dict[str, float] = {}
    for node in cluster.nodes:
        if node.name == "head" or not node.alive():
            continue
        total = 0.0
        for p in psutil.Process(node.proc.pid).children(recursive=True):
            try:
                if "AnalysisActor" in " ".join(p.cmdline()):
                    t = p.cpu_times()
                    total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        out[node.name] = total
    return out


def _wait_idle_actor(cluster: RayCluster, node: str, timeout: float = 180.0) -> None:
    """Until an actor runs on ``node`` and has loaded its models (its CPU time stands still)."""
    deadline = time.monotonic() + timeout
    last = -1.0
    while time.monotonic() < deadline:
        used = _actor_cpu(cluster).get(node, 0.0)
        if used > 0.5 and used - last < 0.05:
            return
        last = used
        time.sleep(2.0)
    raise TimeoutError(f"no actor came up on {node} in {timeout} s")


def _reports(store: Store, call_ids: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Report rows and finding rows per call, straight from the database."""
    with store.session() as s:
        reports = dict(
            s.execute(
                select(ReportRow.call_id, func.count())
                .where(ReportRow.call_id.in_(call_ids))
                .group_by(ReportRow.call_id)
            ).all()
        )
        findings = dict(
            s.execute(
                select(FindingRow.call_id, func.count())
                .where(FindingRow.call_id.in_(call_ids))
                .group_by(FindingRow.call_id)
            ).all()
        )
    return reports, findings


def _upload(server: CalmlineServer, key: str, paths: list[Path], tag: str) -> dict[str, str]:
    jobs = {}
    for i, path in enumerate(paths):
        r = server.upload(key, path, f"agent{i % 3}", call_id=f"{tag}-{i}")
        assert r.status_code == 202, r.text
        jobs[r.json()["call_id"]] = r.json()["job_id"]
    return jobs


def test_uploads_are_each_analysed_once_on_the_ray_actors(served, cluster, calls):
    server, store = served
    key = store.create_api_key("admin").key
    before = _actor_cpu(cluster)
    jobs = _upload(server, key, calls[:6], "once")
    done = {c: server.wait_job(key, j, timeout=240) for c, j in jobs.items()}
    after = _actor_cpu(cluster)

    assert {c: j["state"] for c, j in done.items()} == dict.fromkeys(jobs, "done"), done
    assert all(j["attempts"] == 1 for j in done.values()), done
    reports, findings = _reports(store, list(jobs))
    assert reports == dict.fromkeys(jobs, 1)
    with server.client(key) as c:
        for call_id in jobs:
            report = c.get(f"/api/v1/calls/{call_id}/report").json()
            assert report["call_id"] == call_id
            assert report["audio"]["duration"] == pytest.approx(EXCERPT_S, abs=0.05)
            assert report["models"][1]["name"] == "whisper-tiny.en"
            # the finding rows are the report's own, once
            assert findings.get(call_id, 0) == sum(
                len(p.get("findings", [])) for p in report["scorecard"]["practices"]
            )
    # both worker nodes did the work (6 calls x ~1-3 CPU s each); the server loaded no model
    grew = {n: after[n] - before.get(n, 0.0) for n in after}
    assert set(grew) == {"worker1", "worker2"}, grew
    assert all(g > 1.0 for g in grew.values()), grew
    maps = {Path(m.path).name for m in psutil.Process(server.proc.pid).memory_maps()}
    assert not any("ctranslate2" in name for name in maps), "Whisper was loaded in the server"


def test_a_worker_node_killed_mid_call_its_call_finishes_on_the_other(served, cluster, calls):
    server, store = served
    key = store.create_api_key("admin").key
    jobs = _upload(server, key, calls[:4], "kill")
    # wait until both actors are inside a call (the progress comes from the actors)
    deadline = time.monotonic() + 120
    with server.client(key) as c:
        while time.monotonic() < deadline:
            states = [c.get(f"/api/v1/jobs/{j}").json() for j in jobs.values()]
            busy = [s for s in states if s["state"] == "running" and s["progress"] > 0]
            if len(busy) >= 2:
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"the actors never ran two calls at once: {states}")
    assert {s["step"] for s in busy} <= {"decode", "speech", "transcribe", "roles", "turns"}
    cluster.kill_node(next(n for n in cluster.nodes if n.name == "worker1"))

    done = {c: server.wait_job(key, j, timeout=240) for c, j in jobs.items()}
    assert {c: j["state"] for c, j in done.items()} == dict.fromkeys(jobs, "done"), done
    retried = [c for c, j in done.items() if j["attempts"] > 1]
    assert len(retried) >= 1, done  # the call on the killed node, tried again
    assert all(j["attempts"] <= 2 for j in done.values()), done
    reports, _ = _reports(store, list(jobs))
    assert reports == dict.fromkeys(jobs, 1)

    # the lost actor is started again once Ray has room for it: a node joins, takes work
    cluster.add_node(num_cpus=1)
    _wait_idle_actor(cluster, "worker3")
    before = _actor_cpu(cluster)
    again = _upload(server, key, calls[4:8], "rejoined")
    done = {c: server.wait_job(key, j, timeout=240) for c, j in again.items()}
    assert {j["state"] for j in done.values()} == {"done"}, done
    grew = {n: t - before.get(n, 0.0) for n, t in _actor_cpu(cluster).items()}
    assert set(grew) == {"worker2", "worker3"} and all(g > 1.0 for g in grew.values()), grew


# ---------------------------------------------------------------------------- composition


def test_the_settings_choose_the_executor_and_the_job_threads(tmp_path):
    from calmline import compose
    from calmline.monitor.settings import Settings
    from calmline.pipelines.executor import Executor, InProcessExecutor

    settings = Settings(storage={"data_dir": str(tmp_path)}, jobs={"workers": 3})
    pipeline = compose.build_pipeline(settings)
    executor = compose.build_executor(settings, pipeline)
    assert isinstance(executor, InProcessExecutor) and isinstance(executor, Executor)
    assert executor.pipeline is pipeline and executor.capacity == 3
    assert compose.job_workers(settings, executor) == 3
    idle = settings.model_copy(update={"jobs": settings.jobs.model_copy(update={"workers": 0})})
    assert compose.job_workers(idle, executor) == 0


def test_an_actor_gets_the_cores_and_the_device_ray_gave_it():
    from calmline.monitor.settings import Settings
    from calmline.pipelines.ray_executor import actor_settings

    settings = Settings(
        jobs={"workers": 8},
        storage={"database_url": "postgresql+psycopg://calmline:pw@db/calmline"},
        webhooks={"url": "https://hooks.example.com/in", "secret": "s3cret"},
    )
    cpu = actor_settings(settings, cpus_per_actor=2, num_gpus=0)
    assert (cpu["asr"]["cpu_threads"], cpu["asr"]["device"], cpu["jobs"]["workers"]) == (
        2,
        "cpu",
        1,
    )
    gpu = actor_settings(settings, cpus_per_actor=1, num_gpus=0.5)
    assert gpu["asr"]["device"] == "cuda"
    fixed = actor_settings(Settings(asr={"cpu_threads": 3, "device": "cpu"}), 1, 1)["asr"]
    assert (fixed["cpu_threads"], fixed["device"]) == (3, "cpu")  # what is set is kept
    assert Settings.model_validate(cpu).asr.cpu_threads == 2  # what the actor builds from
    # the actor needs no database and no signing key
    assert cpu["storage"]["database_url"] is None and cpu["webhooks"]["secret"] is None
    assert cpu["webhooks"]["url"] == "https://hooks.example.com/in"


def test_a_bad_file_in_an_actor_stays_a_bad_file_for_the_queue():
    """Calmline's errors do not survive plain pickling (their constructors take more than the
    message), so an actor carries them back as data; the queue must still see the type."""
    import pickle

    from calmline.monitor.errors import AudioDecodeError, AudioMissingError
    from calmline.pipelines.ray_executor import _Failure

    error = AudioMissingError("/srv/audio/c1.wav", "file not found")
    with pytest.raises(TypeError):
        pickle.loads(pickle.dumps(error))
    back = pickle.loads(pickle.dumps(_Failure.of(error))).error()
    assert type(back) is AudioMissingError and isinstance(back, AudioDecodeError)
    assert (back.path, back.reason, str(back)) == (error.path, error.reason, str(error))


def test_serve_refuses_an_unknown_executor(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "calmline", "serve", "--executor", "spark"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CALMLINE_STORAGE__DATA_DIR": str(tmp_path)},
    )
    assert r.returncode == 2
    assert "--executor" in r.stderr and "'spark' is not one of inprocess, ray" in r.stderr


# ---------------------------------------------------------------------------- re-scoring


def test_a_rescore_runs_on_an_actor_and_keeps_its_errors(cluster, monkeypatch):
    """A pool of its own (one actor needing no CPU, so it fits beside the server's), driven from
    this process: the new scorecard comes from the actor's process, a bad rubric's error keeps
    its type."""
    from calmline.monitor.rubric import RubricError, parse_rubric
    from calmline.monitor.scoring import score_report
    from calmline.monitor.settings import Settings
    from calmline.pipelines.ray_executor import RayExecutor
    from tests.lease_worker import scored_report

    for name, value in cluster.driver_env().items():
        monkeypatch.setenv(name, value)
    executor = RayExecutor(
        Settings(), address=cluster.address, actors=1, cpus_per_actor=0, preload=False
    )
    try:
        assert executor.wait_ready(1, timeout=180) == 1, "the actor did not start"
        report = scored_report("c-ray")
        text = another_version()
        rescored = executor.rescore(report, text, "v9.yaml")
        assert rescored.scorecard == score_report(report, parse_rubric(text)).scorecard
        assert rescored.scorecard.rubric_version == "9.9.0"
        with pytest.raises(RubricError, match=r"bad\.yaml"):
            executor.rescore(report, "rubric: [unclosed", "bad.yaml")
        slot = executor._idle.get(timeout=5)  # the same actor is still in the pool
        assert slot.where["pid"] != os.getpid()
        executor._idle.put(slot)
    finally:
        executor.close()


def test_a_rescore_job_of_a_ray_server_is_done_once(served, calls):
    server, store = served
    key = store.create_api_key("admin").key
    jobs = _upload(server, key, calls[:1], "rescore")
    (call_id, job_id), *_ = jobs.items()
    assert server.wait_job(key, job_id, timeout=240)["state"] == "done"
    with server.client(key) as c:
        r = c.post(
            "/api/v1/rescore",
            json={"rubric_yaml": another_version(), "call_ids": [call_id]},
        )
        assert r.status_code == 202, r.text
        job = server.wait_job(key, r.json()["jobs"][0]["job_id"], timeout=120)
        assert (job["state"], job["kind"], job["attempts"]) == ("done", "rescore", 1), job
        report = c.get(f"/api/v1/calls/{call_id}/report").json()
    assert report["scorecard"]["rubric_version"] == "9.9.0"
    assert _reports(store, [call_id])[0] == {call_id: 1}
