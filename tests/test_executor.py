"""The executor interface: re-scoring a stored report runs through the executor, like an
analysis (in this process here; on a Ray actor in ``tests/test_cluster_ray.py``).

The stored report is a real scored one built from a transcript (``tests/lease_worker.py``), so
no model runs; the store is SQLite, then PostgreSQL.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import yaml

from calmline.monitor.rubric import RubricError, parse_rubric
from calmline.monitor.scoring import score_report
from calmline.monitor.store import Store
from calmline.monitor.types import CallReport
from calmline.pipelines.executor import Executor, InProcessExecutor
from calmline.pipelines.jobs import JobRunner
from tests.lease_worker import StubPipeline, scored_report


def another_version() -> str:
    """The default English rubric as version 9.9.0, with ``let_finish`` weighed 0."""
    default = resources.files("calmline.monitor").joinpath("rubrics", "default_en.yaml")
    data = yaml.safe_load(default.read_text(encoding="utf-8"))
    data["version"] = "9.9.0"
    data["practices"]["let_finish"]["weight"] = 0.0
    return yaml.safe_dump(data, allow_unicode=True)


class CountingExecutor(InProcessExecutor):
    """The in-process executor, noting which calls it re-scored."""

    def __init__(self, pipeline, workers: int = 1) -> None:
        super().__init__(pipeline, workers)
        self.rescored: list[str] = []

    def rescore(self, report: CallReport, rubric_yaml: str, source: str = "<rubric>"):
        self.rescored.append(report.call_id)
        return super().rescore(report, rubric_yaml, source)


def analysed(store: Store, tmp_path: Path, runner: JobRunner, call_id: str) -> None:
    """A call with its report stored, through an analysis job."""
    audio = tmp_path / f"{call_id}.wav"
    audio.write_bytes(b"RIFF")
    store.create_call(call_id, "a1", "upload", audio_path=audio, job_params={})
    assert runner.run_pending() == 1
    assert store.get_report(call_id).scorecard.rubric_version != "9.9.0"


def test_the_in_process_executor_rescores_as_the_scorer_does():
    executor = InProcessExecutor(StubPipeline())
    assert isinstance(executor, Executor)
    report = scored_report("c1")
    text = another_version()
    rescored = executor.rescore(report, text, "mine.yaml")
    expected = score_report(report, parse_rubric(text))
    assert rescored.scorecard == expected.scorecard
    assert rescored.scorecard.rubric_version == "9.9.0"
    assert rescored.turns == report.turns  # the transcript is the stored one
    with pytest.raises(RubricError, match=r"mine\.yaml"):
        executor.rescore(report, "rubric: [unclosed", "mine.yaml")


def test_a_rescore_job_runs_through_the_executor(store, tmp_path):
    executor = CountingExecutor(StubPipeline())
    runner = JobRunner(store, executor, poll_s=0.05)
    analysed(store, tmp_path, runner, "c1")
    before = store.get_report("c1")

    job = store.add_job("c1", "rescore", {"rubric_yaml": another_version(), "rubric_source": "v9"})
    assert runner.run_pending() == 1
    assert executor.rescored == ["c1"]
    row = store.get_job(job)
    assert (row.state, row.attempts, row.error) == ("done", 1, None)
    after = store.get_report("c1")
    assert after.scorecard.rubric_version == "9.9.0"
    assert after.turns == before.turns

    # a rubric the worker cannot read fails the job for good (no retry), the report unchanged
    bad = store.add_job("c1", "rescore", {"rubric_yaml": "rubric: [unclosed"})
    assert runner.run_pending() == 1
    row = store.get_job(bad)
    assert (row.state, row.attempts) == ("failed", 1) and "<rubric>" in row.error
    assert executor.rescored == ["c1", "c1"]
    assert store.get_report("c1").scorecard == after.scorecard


def test_a_bare_pipeline_still_rescores_in_the_worker(store, tmp_path):
    """A job queue given a pipeline rather than an executor (tests, scripts) scores itself."""
    runner = JobRunner(store, StubPipeline(), poll_s=0.05)
    analysed(store, tmp_path, runner, "c2")
    job = store.add_job("c2", "rescore", {"rubric_yaml": another_version()})
    assert runner.run_pending() == 1
    assert store.get_job(job).state == "done"
    assert store.get_report("c2").scorecard.rubric_version == "9.9.0"
