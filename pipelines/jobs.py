"""Background analysis jobs: a persistent queue in the store and worker threads.

States: ``queued`` -> ``running`` -> ``done`` | ``failed`` (with the error). A job is in the
database before any work starts. A worker claims a job under a lease (``jobs.lease_s``) and a
heartbeat thread renews it every third of that while the work runs, so several servers can share
one PostgreSQL queue: a job is taken over only when its owner stopped renewing (the process or
machine died), never while its owner is alive. At start-up the jobs of a dead earlier process of
this host are queued again at once (see :mod:`calmline.monitor.leases`).

An owner that lost its lease (the database was out of reach for longer than the lease, and
another worker took the job) stops at the next progress step and writes nothing: the report,
the job's end and its webhook events are one transaction that only the owner may commit
(:meth:`Store.finish_with_report`), so a retried job never makes a second report or event.

Job kinds:

- ``analyze``: run the pipeline (anything with ``analyze(audio_path, request, hook=)``) on the
  call's stored audio and store the report.
- ``rescore``: score the stored report again with another rubric (no audio, no models), through
  the executor's ``rescore(report, rubric_yaml, source)`` like an analysis (in this process or
  on a Ray actor); a bare pipeline without it scores here.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from calmline.monitor.errors import AudioDecodeError, CalmlineError
from calmline.monitor.leases import owner_id
from calmline.monitor.store import DEFAULT_LEASE_S, JobRow, OutboxEvent, Store
from calmline.monitor.types import CallReport
from calmline.pipelines.batch import STEPS, AnalyzeRequest
from calmline.pipelines.executor import rescore_report

logger = logging.getLogger(__name__)

ReportListener = Callable[[str, CallReport], None]
"""Called with ``(call_id, report)`` after a report is stored (e.g. metrics)."""


class LeaseLost(RuntimeError):
    """This worker no longer holds the job (another took it over): stop, write nothing."""


def analyze_params(request: AnalyzeRequest) -> dict[str, Any]:
    """The JSON stored with an ``analyze`` job."""
    return {"request": {k: v for k, v in asdict(request).items() if v is not None}}


@dataclass(slots=True)
class _Held:
    """A job this runner is working on, renewed by the heartbeat thread."""

    owner: str
    lost: threading.Event = field(default_factory=threading.Event)
    ending: bool = False
    """Its worker is writing the outcome: no more heartbeats (the job may be done already)."""


class JobRunner:
    """Runs queued jobs on ``workers`` threads until :meth:`stop`.

    Args:
        store: the queue and the record.
        pipeline: runs the work: an :class:`calmline.pipelines.executor.Executor` (analyses
            and re-scorings), or anything with ``analyze(audio_path, request, hook=...)`` (the
            batch pipeline; re-scorings then run in the worker thread).
        lease_s: how long a claimed job is held without a heartbeat; heartbeats come every
            ``lease_s / 3``.
        webhooks: a :class:`calmline.pipelines.webhooks.WebhookSender`; the events of each
            report are queued in the transaction that stores it (once per job).
        make_way: says whether live calls in this process need the cores now (the live
            transcription has an utterance waiting or decoding); an analysis then pauses between
            decoding windows until they do not, at most ``make_way_s`` in all per job, so a
            recording analysed after hang-up does not push the calls in progress behind
            (``live.batch_yield_s``). Only for analyses that run in this process.
        make_way_s: the most one job pauses for live calls (s); 0 = never.
    """

    def __init__(
        self,
        store: Store,
        pipeline: Any,
        *,
        workers: int = 1,
        max_attempts: int = 3,
        poll_s: float = 0.5,
        lease_s: float = DEFAULT_LEASE_S,
        listeners: list[ReportListener] | None = None,
        on_job_end: Callable[[JobRow, str, float], None] | None = None,
        webhooks: Any = None,
        make_way: Callable[[], bool] | None = None,
        make_way_s: float = 0.0,
    ) -> None:
        self.store = store
        self.pipeline = pipeline
        self.workers = workers
        self.max_attempts = max_attempts
        self.poll_s = poll_s
        self.lease_s = lease_s
        self.listeners = list(listeners or [])
        self.on_job_end = on_job_end
        self.webhooks = webhooks
        self.make_way = make_way
        self.make_way_s = make_way_s
        self.paused_s = 0.0
        """Seconds analyses have paused for live calls since start (``/metrics``)."""
        self.tag = f"r{secrets.token_hex(2)}"
        """Tells this runner's workers from another runner's in the same process."""
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._held: dict[str, _Held] = {}
        self._held_lock = threading.Lock()
        self.resumed: list[str] = []

    def owner(self, worker: str) -> str:
        """The owner id this runner's ``worker`` claims jobs under."""
        return owner_id(f"{self.tag}.{worker}")

    def start(self) -> None:
        """Requeue jobs abandoned by a dead owner, then start the workers and the heartbeat."""
        self._stop.clear()
        self.resumed = self.store.requeue_abandoned()
        beat = threading.Thread(target=self._heartbeats, name="calmline-heartbeat", daemon=True)
        beat.start()
        self._threads.append(beat)
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
        """Run queued jobs in the calling thread until none is left; returns how many ran.
        Heartbeats come from this call's own timer thread."""
        n = 0
        owner = self.owner(worker)
        done = threading.Event()
        beat = None
        if not any(t.name == "calmline-heartbeat" and t.is_alive() for t in self._threads):
            beat = threading.Thread(target=self._heartbeats, args=(done,), daemon=True)
            beat.start()
        try:
            while (job := self.store.claim_job(owner, self.lease_s)) is not None:
                self._run(job, owner)
                n += 1
        finally:
            done.set()
            if beat is not None:
                beat.join(5.0)
        return n

    def _loop(self, name: str) -> None:
        owner = self.owner(name)
        while not self._stop.is_set():
            try:
                job = self.store.claim_job(owner, self.lease_s)
            except Exception:  # database briefly unavailable: log and keep the worker alive
                logger.exception("%s: could not claim a job", name)
                job = None
            if job is None:
                self._wake.wait(self.poll_s)
                self._wake.clear()
                continue
            self._run(job, owner)

    # -- leases ---------------------------------------------------------------------------------

    def _heartbeats(self, done: threading.Event | None = None) -> None:
        """Renew the lease of every job held, every ``lease_s / 3``; a job whose renewal is
        refused is marked lost (its worker stops at its next step and writes nothing)."""
        every = max(0.05, self.lease_s / 3)
        stop = done or self._stop
        while not stop.wait(every):
            with self._held_lock:
                held = list(self._held.items())
            for job_id, h in held:
                if h.lost.is_set() or h.ending:
                    continue
                try:
                    ok = self.store.heartbeat_job(job_id, h.owner, self.lease_s)
                except Exception:  # the database is out of reach: try again next beat
                    logger.exception("job %s: heartbeat failed", job_id)
                    continue
                if not ok and not h.ending:
                    logger.warning("job %s: %s lost its lease; stopping it", job_id, h.owner)
                    h.lost.set()

    def _hold(self, job_id: str, owner: str) -> _Held:
        h = _Held(owner)
        with self._held_lock:
            self._held[job_id] = h
        return h

    def _release(self, job_id: str) -> None:
        with self._held_lock:
            self._held.pop(job_id, None)

    # -- running one job ------------------------------------------------------------------------

    def _run(self, job: JobRow, owner: str) -> None:
        t0 = time.perf_counter()
        held = self._hold(job.id, owner)
        try:
            self._run_held(job, held, t0)
        finally:
            self._release(job.id)

    def _run_held(self, job: JobRow, held: _Held, t0: float) -> None:
        owner = held.owner
        if job.attempts > self.max_attempts:
            msg = f"gave up after {job.attempts - 1} attempts (the worker stopped during each)"
            held.ending = True
            ended = self.store.finish_job(job.id, msg, owner=owner)
            self._ended(job, "failed" if ended else "lost", t0)
            return
        try:
            if job.kind == "analyze":
                self._analyze(job, held)
            elif job.kind == "rescore":
                self._rescore(job, held)
            else:
                raise CalmlineError(f"unknown job kind {job.kind!r}")
        except LeaseLost:
            logger.warning("job %s: lease lost by %s; its result is dropped", job.id, owner)
            self._ended(job, "lost", t0)
            return
        except (AudioDecodeError, CalmlineError) as e:
            # the input is at fault: trying again gives the same answer
            logger.warning("job %s failed: %s", job.id, e)
            held.ending = True
            ended = self.store.finish_job(job.id, str(e), owner=owner)
            self._ended(job, "failed" if ended else "lost", t0)
            return
        except Exception as e:
            logger.error("job %s failed: %s\n%s", job.id, e, traceback.format_exc())
            again = job.attempts < self.max_attempts
            error = f"{type(e).__name__}: {e}"
            held.ending = True
            ended = self.store.finish_job(job.id, error, requeue=again, owner=owner)
            self._ended(job, ("retry" if again else "failed") if ended else "lost", t0)
            return
        self._ended(job, "done", t0)

    def _ended(self, job: JobRow, outcome: str, t0: float) -> None:
        if self.on_job_end is not None:
            self.on_job_end(job, outcome, time.perf_counter() - t0)

    def _analyze(self, job: JobRow, held: _Held) -> None:
        call = self.store.get_call(job.call_id)
        if call is None or not call.audio_path:
            raise CalmlineError(f"call {job.call_id} has no stored audio")
        request = AnalyzeRequest(**{**job.params.get("request", {}), "call_id": call.id})
        progress = _ProgressWriter(self.store, job.id, held, pause=self._make_way_for(held))
        report = self.pipeline.analyze(call.audio_path, request, hook=progress)
        self._finish(job, held, call.agent_id, report)

    def _make_way_for(self, held: _Held) -> Callable[[], None] | None:
        """The pause an analysis takes at each progress step while live calls need the cores;
        at most ``make_way_s`` in all for this job, ended early by a lost lease or a stop."""
        busy = self.make_way
        if busy is None or self.make_way_s <= 0:
            return None
        left = [self.make_way_s]

        def pause() -> None:
            last = time.monotonic()
            while left[0] > 0 and busy():
                if held.lost.is_set() or self._stop.wait(0.05):
                    return
                now = time.monotonic()
                left[0] -= now - last
                with self._held_lock:
                    self.paused_s += now - last
                last = now

        return pause

    def _rescore(self, job: JobRow, held: _Held) -> None:
        report = self.store.get_report(job.call_id)
        if report is None:
            raise CalmlineError(f"call {job.call_id} has no report to re-score")
        source = job.params.get("rubric_source") or "<rubric>"
        self.store.update_job(job.id, owner=held.owner, step="score", progress=0.5)
        rescore = getattr(self.pipeline, "rescore", None) or rescore_report
        rescored = rescore(report, job.params["rubric_yaml"], source)
        call = self.store.get_call(job.call_id)
        self._finish(job, held, call.agent_id if call else None, rescored)

    def _finish(self, job: JobRow, held: _Held, agent_id: str | None, report: CallReport) -> None:
        """Store the report, end the job and queue its webhook events, in one transaction
        that only the job's owner may commit; then tell the listeners."""
        if held.lost.is_set():
            raise LeaseLost(job.id)
        events: list[OutboxEvent] = []
        if self.webhooks is not None:
            events = self.webhooks.outbox_events(job.call_id, agent_id, report, key=job.id)
        held.ending = True
        if not self.store.finish_with_report(job.id, held.owner, report, events=events):
            raise LeaseLost(job.id)
        if events:
            self.webhooks.wake()
        self.tell(job.call_id, report)

    def announce(self, call_id: str, agent_id: str | None, report: CallReport, *, key: str) -> None:
        """A report stored outside a job (a live call's at hang-up): queue its webhook events
        once (``key`` makes a repeat a no-op), then tell the listeners."""
        if self.webhooks is not None:
            events = self.webhooks.outbox_events(call_id, agent_id, report, key=key)
            if events:
                self.store.enqueue_webhooks(events)
                self.webhooks.wake()
        self.tell(call_id, report)

    def tell(self, call_id: str, report: CallReport) -> None:
        """Hand a stored report to the listeners (metrics); a failing one is logged."""
        for listener in self.listeners:
            try:
                listener(call_id, report)
            except Exception:
                logger.exception("report listener failed for call %s", call_id)


class _ProgressWriter:
    """Pipeline hook that writes the job's step and progress, at most every 0.5 s, while this
    worker holds the job; once the lease is lost it stops the analysis (raises
    :class:`LeaseLost`)."""

    def __init__(
        self, store: Store, job_id: str, held: _Held, pause: Callable[[], None] | None = None
    ) -> None:
        self.store = store
        self.job_id = job_id
        self.held = held
        self.pause = pause
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
        if self.held.lost.is_set():
            raise LeaseLost(self.job_id)
        if step not in STEPS:
            return
        if self.pause is not None:
            self.pause()
            if self.held.lost.is_set():
                raise LeaseLost(self.job_id)
        i = STEPS.index(step)
        frac = (completed / total) if completed is not None and total else 0.0
        progress = min(0.99, (i + frac) / len(STEPS))
        now = time.monotonic()
        if step == self._step and now - self._last < 0.5:
            return
        self._step, self._last = step, now
        self.store.update_job(
            self.job_id, owner=self.held.owner, step=step, progress=round(progress, 3)
        )
