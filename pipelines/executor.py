"""Where an analysis runs: one interface, in this process or on a Ray cluster.

The job queue (:class:`calmline.pipelines.jobs.JobRunner`) claims a job from the store and hands
the work to an executor: a call's audio to :meth:`Executor.analyze`, a stored report and a
rubric to :meth:`Executor.rescore`; it never learns where the work runs. Each of its worker
threads blocks in the executor until the report is back, so the queue, the leases and the
idempotent writes stay in one place whatever runs the work:

- :class:`InProcessExecutor` (the default): the server's own :class:`BatchPipeline`, models
  loaded once and shared by the worker threads. One machine, SQLite or PostgreSQL.
- :class:`calmline.pipelines.ray_executor.RayExecutor`: Ray actors that each hold the models,
  on as many machines (and GPUs) as the cluster has.

Errors keep their meaning across executors: a :class:`CalmlineError` (bad audio, a channel map
that does not fit) fails the job for good; anything else, :class:`WorkerLost` included, is
retried by the queue.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from calmline.monitor.rubric import parse_rubric
from calmline.monitor.scoring import score_report
from calmline.monitor.types import CallReport
from calmline.pipelines.batch import AnalyzeRequest, BatchPipeline, Hook


def rescore_report(report: CallReport, rubric_yaml: str, source: str = "<rubric>") -> CallReport:
    """``report`` scored again with the rubric in ``rubric_yaml`` (no audio, no models): what
    every executor's :meth:`Executor.rescore` runs, wherever it runs it. A rubric that does not
    parse raises :class:`calmline.monitor.rubric.RubricError` (a :class:`CalmlineError`)."""
    return score_report(report, parse_rubric(rubric_yaml, source=source))


class WorkerLost(RuntimeError):
    """The process or machine running an analysis went away (a Ray node died, an actor
    crashed). Not a :class:`CalmlineError` on purpose: the input is not at fault, so the job
    queue tries the call again elsewhere."""


@runtime_checkable
class Executor(Protocol):
    """Runs analyses for the job queue."""

    @property
    def capacity(self) -> int:
        """How many analyses it runs at once (the queue starts that many worker threads)."""
        ...

    def analyze(
        self,
        audio_path: str,
        request: AnalyzeRequest,
        hook: Hook | Callable[..., None] | None = None,
    ) -> CallReport:
        """Analyse the call stored at ``audio_path`` (a path or URI the worker can read).

        Blocks until the report is back; ``hook(step, None, completed=, total=)`` is called in
        the caller's thread as the stages advance. Raises what the pipeline raises for bad
        input, :class:`WorkerLost` when the worker went away.
        """
        ...

    def rescore(self, report: CallReport, rubric_yaml: str, source: str = "<rubric>") -> CallReport:
        """Score a stored ``report`` again with the rubric in ``rubric_yaml`` (its text travels,
        so a worker needs no file); ``source`` names the rubric in error messages. Blocks until
        the new report is back; raises :class:`RubricError` for a rubric that does not parse,
        :class:`WorkerLost` when the worker went away (see :func:`rescore_report`)."""
        ...

    def close(self) -> None:
        """Release workers and connections; analyses in flight may be lost (their jobs are
        requeued by the store)."""
        ...


class InProcessExecutor:
    """Today's behaviour: the batch pipeline of this process, ``workers`` calls at once."""

    def __init__(self, pipeline: BatchPipeline, workers: int = 1) -> None:
        self.pipeline = pipeline
        self._workers = max(0, workers)

    @property
    def capacity(self) -> int:
        return self._workers

    def analyze(
        self,
        audio_path: str | os.PathLike[str],
        request: AnalyzeRequest,
        hook: Hook | Callable[..., None] | None = None,
    ) -> CallReport:
        return self.pipeline.analyze(audio_path, request, hook=hook)

    def rescore(self, report: CallReport, rubric_yaml: str, source: str = "<rubric>") -> CallReport:
        return rescore_report(report, rubric_yaml, source)

    def close(self) -> None:
        """Nothing to release: the models belong to the pipeline's :class:`ModelManager`."""
