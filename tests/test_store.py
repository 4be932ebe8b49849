"""Storage against SQLite and a real PostgreSQL server (same tests, both backends)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from calmline.monitor.migrations import current
from calmline.monitor.store import CallFilter


@pytest.fixture(scope="module")
def report(analyzed):
    return analyzed("en_stereo_mulaw")[0]


def test_migrations_are_idempotent_and_at_head(store):
    from alembic.script import ScriptDirectory

    from calmline.monitor.migrations import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()  # one head only
    assert current(store.engine) == head
    store.migrate()
    assert current(store.engine) == head


def test_call_and_job_are_written_together_and_ids_are_unique(store):
    job_id = store.create_call("c1", "a1", "upload", job_params={"request": {}})
    assert store.get_job(job_id).state == "queued"
    assert store.get_call("c1").status == "queued"
    with pytest.raises(ValueError, match="exists already"):
        store.create_call("c1", "a1", "upload", job_params={"request": {}})
    assert store.count_jobs()["queued"] == 1


def test_claim_is_exclusive_across_threads(store):
    for i in range(12):
        store.create_call(f"c{i}", "a1", "upload", job_params={})
    claimed: list[str] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        while (job := store.claim_job(name)) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == 12
    assert len(set(claimed)) == 12
    assert store.count_jobs() == {"queued": 0, "running": 12, "done": 0, "failed": 0}


def test_job_lifecycle_retry_and_crash_resume(store):
    job_id = store.create_call("c1", "a1", "upload", job_params={})
    # a lease long enough that a slow machine still checks it before it runs out
    job = store.claim_job("w", lease_s=2.0)
    assert (job.id, job.state, job.attempts) == (job_id, "running", 1)
    assert store.get_call("c1").status == "running"
    # the server dies here: the job stays its own until the lease expires, then is queued again
    assert store.requeue_abandoned() == []
    time.sleep(2.1)
    assert store.requeue_abandoned() == [job_id]
    assert store.get_job(job_id).state == "queued"
    assert store.claim_job("w").attempts == 2
    store.finish_job(job_id, "boom")
    assert store.get_job(job_id).state == "failed"
    assert store.get_call("c1").status == "failed"
    assert store.get_call("c1").error == "boom"
    with pytest.raises(ValueError, match="only failed jobs"):
        store.retry_job(store.create_call("c2", "a1", "upload", job_params={}))
    store.retry_job(job_id)
    assert store.get_job(job_id).state == "queued"
    assert store.get_job(job_id).attempts == 0
    assert store.claim_job("w").id == job_id
    store.finish_job(job_id)
    assert store.get_job(job_id).state == "done"
    with pytest.raises(KeyError):
        store.retry_job("job_missing")


def test_report_is_queryable_and_saving_again_does_not_duplicate(store, report):
    store.create_call("c1", "a1", "upload", job_params={})
    store.save_report("c1", report)
    store.save_report("c1", report)
    back = store.get_report("c1")
    assert back.scorecard.overall == report.scorecard.overall
    assert [t.text for t in back.turns] == [t.text for t in report.turns]
    with store.session() as s:
        n_scores = s.execute(text("select count(*) from practice_scores")).scalar()
        n_findings = s.execute(text("select count(*) from findings")).scalar()
    assert n_scores == len(report.scorecard.practices)
    assert n_findings == sum(len(p.findings) for p in report.scorecard.practices)
    call = store.get_call("c1")
    assert call.status == "done"
    assert call.overall == report.scorecard.overall
    assert call.language == "en"
    scores = store.practice_scores(["c1"])["c1"]
    assert scores["let_finish"] == next(
        p.score for p in report.scorecard.practices if p.practice == "let_finish"
    )


def test_filters_and_pagination(store, report):
    base = datetime(2026, 11, 2, 9, 0)
    card = report.scorecard
    for i in range(6):
        agent = "a1" if i % 2 == 0 else "a2"
        store.create_call(f"c{i}", agent, "upload", started_at=base + timedelta(days=i))
        practices = tuple(
            replace(p, score=10.0 * i, critical=(i == 5 and p.practice == "no_apology_demand"))
            for p in card.practices
        )
        scored = replace(
            report,
            language="zh" if i >= 4 else "en",
            scorecard=replace(card, overall=float(50 + 5 * i), practices=practices),
        )
        store.save_report(f"c{i}", scored)
    rows, total = store.list_calls(limit=2, offset=0)
    assert total == 6
    assert [r.id for r in rows] == ["c5", "c4"]  # newest first
    rows, _ = store.list_calls(limit=2, offset=4)
    assert [r.id for r in rows] == ["c1", "c0"]

    def ids(**kw) -> list[str]:
        return sorted(r.id for r in store.list_calls(CallFilter(**kw))[0])

    assert ids(agent_id="a1") == ["c0", "c2", "c4"]
    assert ids(language="zh") == ["c4", "c5"]
    assert ids(min_score=60, max_score=70) == ["c2", "c3", "c4"]
    assert ids(practice="let_finish", below=25) == ["c0", "c1", "c2"]
    assert ids(critical=True) == ["c5"]
    assert ids(since=base + timedelta(days=1), until=base + timedelta(days=3)) == ["c1", "c2"]
    assert ids(agent_ids=("a2",), min_score=60) == ["c3", "c5"]

    summary = store.agent_summary("a1", bucket="day")
    assert summary["calls"] == 3
    assert summary["mean_overall"] == pytest.approx((50 + 60 + 70) / 3, abs=0.01)
    assert [b["bucket"] for b in summary["series"]] == ["2026-11-02", "2026-11-04", "2026-11-06"]
    assert summary["series"][1]["practices"]["let_finish"] == 20.0
    weekly = store.agent_summary("a2", bucket="week")
    assert sum(b["calls"] for b in weekly["series"]) == 3


def test_api_keys_are_hashed_at_rest_and_revocable(store):
    created = store.create_api_key("agent", "a7", "desk 7")
    assert created.key.startswith("cl_")
    with store.session() as s:
        stored = [tuple(r) for r in s.execute(text("select * from api_keys"))]
    assert all(created.key not in str(v) for row in stored for v in row)
    info = store.lookup_api_key(created.key)
    assert (info.role, info.agent_id) == ("agent", "a7")
    assert store.lookup_api_key(created.key + "x") is None
    store.revoke_api_key(info.id)
    assert store.lookup_api_key(created.key) is None
    with pytest.raises(ValueError, match="agent id"):
        store.create_api_key("agent")
    with pytest.raises(ValueError, match="unknown role"):
        store.create_api_key("root")
    with pytest.raises(ValueError, match="only agent keys"):
        store.create_api_key("supervisor", "a7")


def test_delete_call_removes_rows_and_audio(store, report):
    folder = store.call_audio_dir("c1")
    folder.mkdir(parents=True)
    (folder / "audio.wav").write_bytes(b"RIFF")
    store.create_call("c1", "a1", "upload", audio_path=folder / "audio.wav", job_params={})
    store.save_report("c1", report)
    store.delete_call("c1")
    assert store.get_call("c1") is None
    assert store.get_report("c1") is None
    assert not folder.exists()
    assert store.count_jobs()["queued"] == 0
