"""Background analysis jobs: a persistent queue in the store and an in-process worker pool.

States: ``queued`` -> ``running`` -> ``done`` | ``failed`` (with the error). A job is in the
database before any work starts; jobs found ``running`` at start-up (the server stopped under
them) are queued again and resumed. Workers share the process's models (loaded once).

Job kinds:

- ``analyze``: run the batch pipeline on the call's stored audio and store the report.
- ``rescore``: score the stored report again with another rubric (no audio, no models).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from calmline.monitor.errors import AudioDecodeError, CalmlineError
from calmline.monitor.rubric import parse_rubric
from calmline.monitor.scoring import score_report
from calmline.monitor.store import JobRow, Store
from calmline.monitor.types import CallReport
from calmline.pipelines.batch import STEPS, AnalyzeRequest, BatchPipeline

logger = logging.getLogger(__name__)

ReportListener = Callable[[str, CallReport], None]
"""Called with ``(call_id, report)`` after a report is stored (e.g. webhooks, metrics)."""


def analyze_params(request: AnalyzeRequest) -> dict[str, Any]:
    """The JSON stored with an ``analyze`` job."""
    return {"request": {k: v for k, v in asdict(request).items() if v is not None}}


class JobRunner:
    """Runs queued jobs on ``workers`` threads until :meth:`stop`."""

    def __init__(
        self,
        store: Store,
        pipeline: BatchPipeline,
        *,
        workers: int = 1,
        max_attempts: int = 3,
        poll_s: float = 0.5,
        listeners: list[ReportListener] | None = None,
        on_job_end: Callable[[JobRow, str, float], None] | None = None,
    ) -> None:
        self.store = store
        self.pipeline = pipeline
        self.workers = workers
        self.max_attempts = max_attempts
        self.poll_s = poll_s
        self.listeners = list(listeners or [])
        self.on_job_end = on_job_end
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self.resumed: list[str] = []

    def start(self) -> None:
        """Resume jobs left running by a crash, then start the workers."""
        self.resumed = self.store.requeue_running()
        for i in range(self.workers):
            t = threading.Thread(target=self._loop, args=(f"worker-{i}",), daemon=True)
            t.start()
            self._threads.append(t)

    def notify(self) -> None:
        """Wake idle workers now (a job was queued)."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()

    def run_pending(self, worker: str = "inline") -> int:
        """Run queued jobs in the calling thread until none is left; returns how many ran."""
        n = 0
        while (job := self.store.claim_job(worker)) is not None:
            self._run(job)
            n += 1
        return n

    def _loop(self, name: str) -> None:
        while not self._stop.is_set():
            try:
                job = self.store.claim_job(name)
            except Exception:  # database briefly unavailable: log and keep the worker alive
                logger.exception("%s: could not claim a job", name)
                job = None
            if job is None:
                self._wake.wait(self.poll_s)
                self._wake.clear()
                continue
            self._run(job)

    def _run(self, job: JobRow) -> None:
        t0 = time.perf_counter()
        if job.attempts > self.max_attempts:
            msg = f"gave up after {job.attempts - 1} attempts (the worker stopped during each)"
            self.store.finish_job(job.id, msg)
            self._ended(job, "failed", t0)
            return
        try:
            if job.kind == "analyze":
                self._analyze(job)
            elif job.kind == "rescore":
                self._rescore(job)
            else:
                raise CalmlineError(f"unknown job kind {job.kind!r}")
        except (AudioDecodeError, CalmlineError) as e:
            # the input is at fault: trying again gives the same answer
            logger.warning("job %s failed: %s", job.id, e)
            self.store.finish_job(job.id, str(e))
            self._ended(job, "failed", t0)
            return
        except Exception as e:
            logger.error("job %s failed: %s\n%s", job.id, e, traceback.format_exc())
            again = job.attempts < self.max_attempts
            error = f"{type(e).__name__}: {e}"
            self.store.finish_job(job.id, error, requeue=again)
            self._ended(job, "retry" if again else "failed", t0)
            return
        self.store.finish_job(job.id)
        self._ended(job, "done", t0)

    def _ended(self, job: JobRow, outcome: str, t0: float) -> None:
        if self.on_job_end is not None:
            self.on_job_end(job, outcome, time.perf_counter() - t0)

    def _analyze(self, job: JobRow) -> None:
        call = self.store.get_call(job.call_id)
        if call is None or not call.audio_path:
            raise CalmlineError(f"call {job.call_id} has no stored audio")
        request = AnalyzeRequest(**{**job.params.get("request", {}), "call_id": call.id})
        progress = _ProgressWriter(self.store, job.id)
        report = self.pipeline.analyze(call.audio_path, request, hook=progress)
        self.store.save_report(call.id, report)
        self.tell(call.id, report)

    def _rescore(self, job: JobRow) -> None:
        report = self.store.get_report(job.call_id)
        if report is None:
            raise CalmlineError(f"call {job.call_id} has no report to re-score")
        source = job.params.get("rubric_source") or "<rubric>"
        rubric = parse_rubric(job.params["rubric_yaml"], source=source)
        self.store.update_job(job.id, step="score", progress=0.5)
        rescored = score_report(report, rubric)
        self.store.save_report(job.call_id, rescored)
        self.tell(job.call_id, rescored)

    def tell(self, call_id: str, report: CallReport) -> None:
        """Hand a stored report to the listeners (metrics, webhooks); a failing one is logged."""
        for listener in self.listeners:
            try:
                listener(call_id, report)
            except Exception:
                logger.exception("report listener failed for call %s", call_id)


class _ProgressWriter:
    """Pipeline hook that writes the job's step and progress, at most every 0.5 s."""

    def __init__(self, store: Store, job_id: str) -> None:
        self.store = store
        self.job_id = job_id
        self._last = 0.0
        self._step: str | None = None

    def __call__(
        self,
        step: str,
        artifact: Any = None,
        *,
        completed: float | None = None,
        total: float | None = None,
    ) -> None:
        if step not in STEPS:
            return
        i = STEPS.index(step)
        frac = (completed / total) if completed is not None and total else 0.0
        progress = min(0.99, (i + frac) / len(STEPS))
        now = time.monotonic()
        if step == self._step and now - self._last < 0.5:
            return
        self._step, self._last = step, now
        self.store.update_job(self.job_id, step=step, progress=round(progress, 3))
