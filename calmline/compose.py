"""The composition root: the one place that turns :class:`Settings` into working parts.

The server's lifespan (``calmline.api.app``), the CLI and the benchmarks build the store, the
models, the batch pipeline and the executor here, so that choosing where analyses run (this
process or a Ray cluster, ``executor.kind``) is a setting and never a code path of its own.
Each function builds one part; the caller owns what it gets and closes it.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from calmline.monitor.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from calmline.monitor.store import Store
    from calmline.pipelines.batch import BatchPipeline
    from calmline.pipelines.executor import Executor
    from calmline.pipelines.manager import ModelManager

logger = logging.getLogger("calmline.compose")


def build_store(settings: Settings) -> Store:
    """The store named by ``storage.*``, its schema migrated to the newest revision."""
    from calmline.monitor.store import Store

    store = Store.from_settings(settings)
    store.migrate()
    return store


def build_models(settings: Settings) -> ModelManager:
    """The model manager (models load on first use, once per process)."""
    from calmline.pipelines.manager import ModelManager

    return ModelManager(settings)


def build_pipeline(settings: Settings, models: ModelManager | None = None) -> BatchPipeline:
    """The batch pipeline of this process (the live pipeline and re-scoring use it too, so a
    server on Ray still has one)."""
    from calmline.pipelines.batch import BatchPipeline

    return BatchPipeline(settings, models or build_models(settings))


def load_models(models: ModelManager) -> float:
    """Load the VAD and the default transcriber now; returns the seconds it took."""
    t0 = time.perf_counter()
    models.vad()
    models.transcriber(None)
    return time.perf_counter() - t0


def build_executor(settings: Settings, pipeline: BatchPipeline) -> Executor:
    """Where the job queue's analyses run (``executor.kind``).

    ``inprocess`` shares ``pipeline`` between ``jobs.workers`` threads; ``ray`` joins the
    cluster at ``executor.ray_address`` and starts its actor pool there (it fills while the
    server already answers).
    """
    from calmline.pipelines.executor import InProcessExecutor

    e = settings.executor
    if e.kind == "ray":
        from calmline.pipelines.ray_executor import RayExecutor

        return RayExecutor(
            settings,
            address=e.ray_address,
            actors=e.actors,
            num_gpus=e.num_gpus,
            cpus_per_actor=e.cpus_per_actor,
        )
    return InProcessExecutor(pipeline, workers=settings.jobs.workers)


def job_workers(settings: Settings, executor: Executor) -> int:
    """How many job-queue threads the server runs: ``jobs.workers`` in process; one per Ray
    actor (each thread waits on one actor), none when ``jobs.workers`` is 0."""
    if settings.jobs.workers == 0:
        return 0
    if settings.executor.kind == "ray":
        return executor.capacity
    return settings.jobs.workers


def build_app(settings: Settings | None = None) -> FastAPI:
    """The FastAPI app; its lifespan builds the rest with the functions above."""
    from calmline.api.app import create_app

    return create_app(settings)
