"""Analyses on a Ray cluster: a pool of actors that each load the models once.

    executor = RayExecutor(settings, address="10.0.0.5:6379", actors=0)
    report = executor.analyze("/shared/audio/c1.wav", AnalyzeRequest(call_id="c1"), hook)
    rescored = executor.rescore(report, rubric_yaml)  # on an actor too

Why actors and not tasks: Whisper, Silero and the speaker encoder take seconds to load and
hundreds of MB to hold, so each actor builds one :class:`BatchPipeline` when it starts and keeps
it for every call it is given. The pool sends one call at a time to each actor (an actor runs
one analysis, its ``cpus_per_actor`` cores all for it), and the caller's thread waits for the
answer, relaying the actor's progress to the job's hook every ``poll_s``.

The audio is passed as its path or URI: the actor reads the file itself, so every node must
reach the audio store (one machine: a local path; a cluster: a shared filesystem or an object
store URL, ``storage.audio_url``).

When an actor or its node dies, the call in flight raises :class:`WorkerLost` (the job queue
tries it again, on another actor) and a new actor is started in its place; it joins the pool
once Ray has room for it (a node joins, or comes back).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from calmline.monitor.errors import BackendUnavailable, CalmlineError
from calmline.monitor.settings import Settings
from calmline.monitor.types import CallReport
from calmline.pipelines.batch import AnalyzeRequest, Hook
from calmline.pipelines.executor import WorkerLost

logger = logging.getLogger(__name__)

NAMESPACE = "calmline"


def _ray():
    try:
        import ray
    except ImportError as e:  # the extra is not installed
        raise BackendUnavailable("ray", "install it with `pip install 'calmline[ray]'`") from e
    return ray


def actor_settings(settings: Settings, cpus_per_actor: float, num_gpus: float) -> dict[str, Any]:
    """The settings an actor builds its pipeline from: the server's, fitted to one actor.

    An actor runs one call at a time on the cores Ray reserved for it, so Whisper gets exactly
    those threads (the server's ``jobs.workers`` split would be wrong there), and a CPU actor
    never picks up a GPU that Ray did not give it.
    """
    data = settings.model_dump(mode="json")
    # an actor reads audio and runs models; the database and the signing keys stay home
    data["storage"]["database_url"] = None
    data["server"]["session_secret"] = None
    data["webhooks"]["secret"] = None
    data["jobs"]["workers"] = 1
    if not data["asr"]["cpu_threads"]:
        data["asr"]["cpu_threads"] = max(1, math.ceil(cpus_per_actor))
    if data["asr"]["device"] == "auto":
        data["asr"]["device"] = "cuda" if num_gpus > 0 else "cpu"
    return data


@dataclass(frozen=True)
class _Failure:
    """A :class:`CalmlineError` raised in an actor, carried back as data.

    Calmline's errors take their own constructor arguments (``AudioDecodeError(path,
    reason)``), which ``pickle`` cannot call again from the message alone; carrying the class
    and the attributes keeps the type, so a bad file still fails its job for good.
    """

    cls: type[CalmlineError]
    message: str
    attrs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, error: CalmlineError) -> _Failure:
        return cls(type(error), str(error), dict(vars(error)))

    def error(self) -> CalmlineError:
        e = self.cls.__new__(self.cls)
        Exception.__init__(e, self.message)
        vars(e).update(self.attrs)
        return e


class AnalysisActor:
    """One Ray actor: a batch pipeline with its models loaded, one call at a time (an analysis,
    or a re-scoring of a stored report, which needs no model).

    Created with ``max_concurrency=2`` so that :meth:`progress` answers while :meth:`analyze`
    runs (the two share only the list of progress events, under a lock).
    """

    def __init__(self, settings: dict[str, Any], preload: bool = True) -> None:
        from calmline.pipelines.batch import BatchPipeline
        from calmline.pipelines.manager import ModelManager

        self.settings = Settings.model_validate(settings)
        self.pipeline = BatchPipeline(self.settings, ModelManager(self.settings))
        self._events: list[tuple[str, float | None, float | None]] = []
        self._lock = threading.Lock()
        if preload:
            self.pipeline.models.vad()
            self.pipeline.models.transcriber(None)

    def where(self) -> dict[str, Any]:
        """Which node and process this actor is (for logs and tests)."""
        import ray

        return {
            "node_id": ray.get_runtime_context().get_node_id(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
        }

    def analyze(self, audio_path: str, request: AnalyzeRequest) -> CallReport | _Failure:
        with self._lock:
            self._events.clear()

        def hook(step: str, artifact: Any = None, *, completed=None, total=None) -> None:
            # artifacts stay here: the job queue only needs where the call is
            with self._lock:
                self._events.append((step, completed, total))

        try:
            return self.pipeline.analyze(audio_path, request, hook=hook)
        except CalmlineError as e:
            return _Failure.of(e)

    def rescore(self, report: CallReport, rubric_yaml: str, source: str) -> CallReport | _Failure:
        from calmline.pipelines.executor import rescore_report

        try:
            return rescore_report(report, rubric_yaml, source)
        except CalmlineError as e:
            return _Failure.of(e)

    def progress(self) -> list[tuple[str, float | None, float | None]]:
        """The progress events since the last call."""
        with self._lock:
            events, self._events = self._events, []
        return events


@dataclass
class _Slot:
    index: int
    actor: Any
    ready: Any = None
    """The ObjectRef of the actor's first ``where()``: it resolves once the models are loaded."""
    where: dict[str, Any] = field(default_factory=dict)


class RayExecutor:
    """A pool of :class:`AnalysisActor` on a Ray cluster (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        *,
        address: str | None = None,
        actors: int = 0,
        num_gpus: float = 0.0,
        cpus_per_actor: float = 1.0,
        poll_s: float = 0.25,
        preload: bool = True,
    ) -> None:
        ray = _ray()
        self._ray = ray
        self.poll_s = poll_s
        self.num_gpus = num_gpus
        self.cpus_per_actor = cpus_per_actor
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            # no address: a one-machine cluster of this process's own (handy on a laptop)
            # a Ray started here needs no dashboard; joining one, the head decides
            local = not (address or os.environ.get("RAY_ADDRESS"))
            extra = {"include_dashboard": False} if local else {}
            try:
                ray.init(
                    address=address or None,
                    namespace=NAMESPACE,
                    log_to_driver=False,
                    configure_logging=False,
                    **extra,
                )
            except Exception as e:  # unreachable head, wrong token, version mismatch
                where = f"the Ray cluster at {address}" if address else "a local Ray"
                raise BackendUnavailable(
                    "ray", f"could not join {where} (executor.ray_address): {e}"
                ) from e
        self._settings = actor_settings(settings, cpus_per_actor, num_gpus)
        self._preload = preload
        self._actor_cls = ray.remote(AnalysisActor).options(
            num_cpus=cpus_per_actor,
            num_gpus=num_gpus,
            max_concurrency=2,
            max_restarts=0,
        )
        self._size = actors if actors > 0 else self._fit(ray.cluster_resources())
        self._idle: queue.Queue[_Slot] = queue.Queue()
        self._pending: dict[Any, _Slot] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        for i in range(self._size):
            self._spawn(_Slot(i, None))
        self._keeper = threading.Thread(target=self._keep, name="ray-pool", daemon=True)
        self._keeper.start()
        logger.info(
            "Ray executor: %d actor(s) of %g CPU, %g GPU on %s",
            self._size,
            cpus_per_actor,
            num_gpus,
            address or "a local Ray instance",
        )

    def _fit(self, resources: dict[str, float]) -> int:
        """How many actors the cluster has room for now (``executor.actors = 0``)."""
        if self.num_gpus > 0:
            n = resources.get("GPU", 0.0) / self.num_gpus
        else:
            n = resources.get("CPU", 0.0) / self.cpus_per_actor
        return max(1, int(n + 1e-9))

    @property
    def capacity(self) -> int:
        return self._size

    def wait_ready(self, n: int | None = None, timeout: float = 300.0) -> int:
        """Wait until ``n`` actors (default: all) have loaded their models; returns how many
        are ready. Start-up does not wait (the API answers while the pool fills)."""
        n = self._size if n is None else n
        deadline = time.monotonic() + timeout
        while self._idle.qsize() < n and time.monotonic() < deadline:
            time.sleep(0.1)
        return self._idle.qsize()

    # -- the pool

    def _spawn(self, slot: _Slot) -> None:
        actor = self._actor_cls.remote(self._settings, self._preload)
        slot.actor, slot.where = actor, {}
        slot.ready = actor.where.remote()
        with self._lock:
            self._pending[slot.ready] = slot

    def _keep(self) -> None:
        """Move actors into the pool as they come up; start again those that failed to."""
        ray = self._ray
        while not self._closed.is_set():
            with self._lock:
                refs = list(self._pending)
            if not refs:
                self._closed.wait(self.poll_s)
                continue
            done, _ = ray.wait(refs, num_returns=1, timeout=1.0)
            for ref in done:
                with self._lock:
                    slot = self._pending.pop(ref)
                try:
                    slot.where = ray.get(ref)
                except Exception as e:
                    logger.error("Ray actor %d did not start: %s; again in 10 s", slot.index, e)
                    self._kill(slot.actor)
                    if self._closed.wait(10.0):
                        return
                    self._spawn(slot)
                    continue
                logger.info("Ray actor %d ready on %s", slot.index, slot.where)
                self._idle.put(slot)

    def _take(self) -> _Slot:
        while True:
            if self._closed.is_set():
                raise WorkerLost("the Ray executor is closed")
            try:
                return self._idle.get(timeout=0.5)
            except queue.Empty:
                continue

    def _kill(self, actor: Any) -> None:
        with contextlib.suppress(Exception):  # already gone with its node
            self._ray.kill(actor, no_restart=True)

    # -- the work

    def analyze(
        self,
        audio_path: str | os.PathLike[str],
        request: AnalyzeRequest,
        hook: Hook | Callable[..., None] | None = None,
    ) -> CallReport:
        path = os.fspath(audio_path)
        return self._call("analyze", (path, request), hook, f"analysing {path}")

    def rescore(self, report: CallReport, rubric_yaml: str, source: str = "<rubric>") -> CallReport:
        """On an actor of the pool, like an analysis (a re-scoring of many calls spreads over
        the cluster, not over the server); the rubric travels as its text."""
        what = f"re-scoring call {report.call_id}"
        return self._call("rescore", (report, rubric_yaml, source), None, what)

    def _call(
        self,
        method: str,
        args: tuple[Any, ...],
        hook: Hook | Callable[..., None] | None,
        what: str,
    ) -> CallReport:
        """Run ``method`` of an idle actor, relaying its progress to ``hook`` until done."""
        ray = self._ray
        from ray.exceptions import GetTimeoutError, RayError, RayTaskError

        slot = self._take()
        try:
            ref = getattr(slot.actor, method).remote(*args)
            done: list[Any] = []
            while not done:
                done, _ = ray.wait([ref], timeout=self.poll_s)
                if hook is not None and not done:
                    try:
                        events = ray.get(slot.actor.progress.remote(), timeout=5.0)
                    except GetTimeoutError:
                        events = []
                    for step, completed, total in events:
                        hook(step, None, completed=completed, total=total)
            result = ray.get(ref)
        except RayTaskError:
            # an unexpected error in the pipeline (raised as is: the queue retries it); the
            # actor itself is fine
            self._idle.put(slot)
            raise
        except RayError as e:
            where = slot.where.get("node_id", "?")
            logger.warning("Ray actor %d on node %s lost: %s", slot.index, where, e)
            self._kill(slot.actor)
            if not self._closed.is_set():
                self._spawn(slot)
            raise WorkerLost(
                f"the Ray worker {what} went away ({type(e).__name__}); the call is tried again"
            ) from e
        except BaseException:
            self._idle.put(slot)
            raise
        self._idle.put(slot)
        if isinstance(result, _Failure):
            raise result.error()
        return result

    def close(self) -> None:
        """Stop the actors and leave the cluster (a local Ray started here is shut down)."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._keeper.join(5.0)
        slots: list[_Slot] = []
        while not self._idle.empty():
            slots.append(self._idle.get_nowait())
        with self._lock:
            slots += list(self._pending.values())
            self._pending.clear()
        for slot in slots:
            self._kill(slot.actor)
        if self._owns_ray:
            self._ray.shutdown()
