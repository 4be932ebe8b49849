"""The Calmline server: ``create_app(settings)`` builds the FastAPI app.

The lifespan opens (and migrates) the store, loads the models once, resumes jobs left running
by a crash, starts the analysis workers, the watched folder and the webhook sender, and stops
them in reverse order.
"""

from __future__ import annotations

import logging
import time
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from calmline import __version__
from calmline.monitor.settings import Settings
from calmline.monitor.store import Store

logger = logging.getLogger("calmline.api")

DESCRIPTION = """
Calmline keeps and serves scored calls.

Authenticate with an API key (`calmline keys create --role …`), sent as
`Authorization: Bearer <key>` or `X-API-Key: <key>` (never in the URL). The pages sign in with
`POST /api/v1/session` and then use an HttpOnly, SameSite=Strict session cookie. Roles:
**admin**, **qa_lead**, **supervisor**, and **agent** (bound to one agent id; sees only that
agent's calls).

Upload a call (`POST /api/v1/calls`) → 202 with a job id → poll `GET /api/v1/jobs/{job_id}` →
read `GET /api/v1/calls/{call_id}/report`. Errors are JSON: `{"detail": …, "error_id": …}`.
"""


def error_response(status: int, detail: str, headers: dict[str, str] | None = None):
    error_id = f"err_{uuid.uuid4().hex[:12]}"
    return JSONResponse(
        {"detail": detail, "error_id": error_id}, status_code=status, headers=headers
    ), error_id


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.load()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from calmline import compose
        from calmline.api.auth import install_log_redaction
        from calmline.api.metrics import Metrics
        from calmline.monitor.audiostore import audio_store_from_settings
        from calmline.pipelines.executor import InProcessExecutor
        from calmline.pipelines.jobs import JobRunner

        install_log_redaction()  # after uvicorn has configured its loggers
        store = compose.build_store(settings)
        models = compose.build_models(settings)
        pipeline = compose.build_pipeline(settings, models)
        app.state.settings = settings
        app.state.store = store
        app.state.pipeline = pipeline
        app.state.audio_store = audio_store_from_settings(settings, store.audio_dir)
        app.state.metrics = Metrics(store)
        app.state.models_loaded = False
        if settings.server.load_models:
            t0 = time.perf_counter()
            models.vad()
            models.transcriber(None)
            logger.info("models loaded in %.1f s", time.perf_counter() - t0)
            app.state.models_loaded = True

        webhooks = _start_webhooks(settings, store)
        app.state.webhooks = webhooks
        listeners = [_metrics_listener(app)]
        executor = compose.build_executor(settings, pipeline)
        app.state.executor = executor
        jobs = JobRunner(
            store,
            executor,
            workers=compose.job_workers(settings, executor),
            max_attempts=settings.jobs.max_attempts,
            poll_s=settings.jobs.poll_s,
            lease_s=settings.jobs.lease_s,
            webhooks=webhooks,  # a report's events are queued in its own transaction
            listeners=listeners,
            on_job_end=_job_end_metrics(app),
            # analyses here share the cores with live calls: they pause while those need them
            make_way=_live_needs_cores(app) if isinstance(executor, InProcessExecutor) else None,
            make_way_s=settings.live.batch_yield_s,
        )
        app.state.jobs = jobs
        app.state.metrics.watch_paused(lambda: jobs.paused_s)
        jobs.start()
        watcher = None
        if settings.watch.dir:
            from calmline.pipelines.watch import FolderWatcher

            watcher = FolderWatcher(
                settings.watch.dir,
                store,
                audio_store=app.state.audio_store,
                pattern=settings.watch.pattern,
                poll_s=settings.watch.poll_s,
                settle_s=settings.watch.settle_s,
                on_queued=lambda _call_id: jobs.notify(),
            )
            watcher.start()
        app.state.watcher = watcher
        try:
            yield
        finally:
            if watcher is not None:
                watcher.stop()
            jobs.stop()
            executor.close()
            if webhooks is not None:
                webhooks.close(timeout=5.0)
            store.close()

    app = FastAPI(
        title="Calmline",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        responses={
            401: {"description": "No or unknown API key", "model": _error_model()},
            403: {"description": "The key's role may not do this", "model": _error_model()},
            422: {"description": "Malformed parameters", "model": _error_model()},
        },
    )
    app.state.settings = settings
    from calmline.api.auth import Sessions

    app.state.sessions = Sessions(settings.server.session_secret, settings.server.session_ttl_s)
    _install_error_handlers(app)
    _install_middleware(app, settings)

    from calmline.api import alerts, calibration, evaluations, live, pages, routes, trends

    app.include_router(routes.router)
    app.include_router(evaluations.router)
    app.include_router(calibration.router)
    app.include_router(trends.router)
    app.include_router(live.router)
    app.include_router(alerts.router)
    live.mount(app)  # the live hub starts and stops with the app
    app.include_router(pages.router)
    pages.mount(app)  # static files
    return app


def _error_model():
    from calmline.api.schemas import ErrorBody

    return ErrorBody


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        response, _ = error_response(
            exc.status_code, str(exc.detail), getattr(exc, "headers", None)
        )
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        problems = []
        for err in exc.errors():
            where = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
            problems.append(f"{where}: {err.get('msg')}")
        response, _ = error_response(422, "; ".join(problems) or "malformed request")
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        response, error_id = error_response(500, "internal error")
        logger.exception("%s %s failed (%s)", request.method, request.url.path, error_id)
        return response


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    limit = int(settings.server.max_upload_mb * 1024 * 1024)

    @app.middleware("http")
    async def guard_and_count(request: Request, call_next):
        if request.method == "POST" and request.url.path == "/api/v1/calls":
            length = request.headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > limit + 64 * 1024:
                response, _ = error_response(
                    413,
                    f"upload of {int(length)} bytes is over the limit of "
                    f"{settings.server.max_upload_mb:g} MB",
                )
                _count(request, response.status_code)
                return response
        try:
            response = await call_next(request)
        except HTTPException:
            raise
        _count(request, response.status_code)
        return response


def _count(request: Request, status: int) -> None:
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is None:
        return
    route = request.scope.get("route")
    template = getattr(route, "path", None) or "unmatched"
    metrics.requests.labels(request.method, template, str(status)).inc()


def _metrics_listener(app: FastAPI):
    def listener(call_id, report) -> None:
        metrics = app.state.metrics
        metrics.calls_scored.inc()
        card = report.scorecard
        if card is not None and any(p.critical for p in card.practices):
            metrics.critical_calls.inc()

    return listener


def _live_needs_cores(app: FastAPI):
    """Whether this server's live calls need the cores now (read at each analysis step)."""

    def needs() -> bool:
        hub = getattr(app.state, "live", None)
        return hub is not None and hub.pipeline.needs_cores()

    return needs


def _job_end_metrics(app: FastAPI):
    def on_end(job, outcome: str, seconds: float) -> None:
        metrics = app.state.metrics
        metrics.jobs_finished.labels(job.kind, outcome).inc()
        metrics.job_seconds.labels(job.kind).observe(seconds)

    return on_end


def _start_webhooks(settings: Settings, store: Store):
    if not settings.webhooks.url:
        return None
    from calmline.pipelines.webhook_targets import WebhookRefused, webhook_target
    from calmline.pipelines.webhooks import WebhookSender

    try:
        webhook_target(settings.webhooks.url, settings.webhooks.allow_hosts)
    except WebhookRefused as e:
        logger.warning("webhooks.url refused, events will not be delivered: %s", e)
    except OSError as e:
        logger.warning("webhooks.url does not resolve now (%s); deliveries will retry", e)
    sender = WebhookSender(settings.webhooks, store)
    sender.start()
    return sender


def static_dir() -> Path:
    return Path(__file__).resolve().parent / "static"
