"""REST routes of the Calmline server (prefix ``/api/v1``), plus ``/healthz`` and ``/metrics``."""

from __future__ import annotations

import csv
import io
import json
import logging
import uuid
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    UploadFile,
)
from fastapi import (
    Path as PathParam,
)
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials
from starlette.types import Message, Receive

from calmline import __version__
from calmline.api.auth import (
    CSRF_HEADER,
    SESSION_COOKIE,
    SESSION_COOKIE_PATH,
    Principal,
    authenticate,
    check_agent_access,
    refuse,
    require_roles,
)
from calmline.api.schemas import (
    AgentSummary,
    CallList,
    CallSummary,
    ErrorBody,
    Health,
    JobStatus,
    RescoreAccepted,
    RescoreRequest,
    SessionInfo,
    SessionRequest,
    UploadAccepted,
)
from calmline.monitor.audiostore import CHUNK as AUDIO_CHUNK
from calmline.monitor.audiostore import AudioStore, LocalAudioStore, audio_store_from_settings
from calmline.monitor.errors import (
    AudioDecodeError,
    AudioEmptyError,
    NotAudioError,
)
from calmline.monitor.store import SORT_KEYS, CallFilter, CallRow, Store

logger = logging.getLogger("calmline.api")

router = APIRouter()

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
"""Call and agent ids: letters, digits and ``._:@-``, up to 128 characters."""
CallId = Annotated[str, PathParam(pattern=ID_PATTERN, description="The call id.")]

NOT_FOUND = {404: {"description": "No such call or job", "model": ErrorBody}}
SORT_PATTERN = "^-?(" + "|".join(SORT_KEYS) + ")$"
"""``sort`` of the call list: a whitelisted column, ``-`` for descending."""


def _store(request: Request) -> Store:
    return request.app.state.store


def _call_or_404(request: Request, principal: Principal, call_id: str) -> CallRow:
    call = _store(request).get_call(call_id)
    if call is None:
        raise HTTPException(404, f"no call with id {call_id!r}")
    check_agent_access(request, principal, call.agent_id)
    return call


# ---------------------------------------------------------------------------- uploads and jobs


UPLOAD_FORM_SLACK = 64 * 1024
"""Bytes of multipart framing and form fields allowed on top of ``server.max_upload_mb`` (the
same slack as the Content-Length check in ``calmline.api.app``)."""


UPLOAD_ROLES = ("admin", "qa_lead", "supervisor")


class _UploadRoute(APIRoute):
    """The upload route knows its caller before it reads a byte of the body (a client without
    an upload key is refused at once, not after sending up to the size limit), then counts the
    body's bytes as they arrive and answers 413 as soon as they pass the limit, with or without
    a Content-Length: a chunked upload is never received whole first. The answer closes the
    connection, so the rest of the body is not read."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def counted(request: Request) -> Response:
            await run_in_threadpool(_authorize_before_body, request)
            return await handler(Request(request.scope, _counting_receive(request)))

        return counted


def _authorize_before_body(request: Request) -> None:
    """401/403 (logged) unless the request's key or session may upload; reads no body.
    Blocking (database)."""
    auth = request.headers.get("authorization", "")
    bearer = None
    if auth[:7].lower() == "bearer " and auth[7:].strip():
        bearer = HTTPAuthorizationCredentials(scheme="Bearer", credentials=auth[7:].strip())
    try:
        principal = authenticate(request, bearer, request.headers.get("x-api-key"))
        require_roles(*UPLOAD_ROLES)(request, principal)
    except HTTPException as e:
        raise HTTPException(
            e.status_code, e.detail, headers={**(e.headers or {}), "Connection": "close"}
        ) from None


def _counting_receive(request: Request) -> Receive:
    """``request``'s ASGI receive that raises 413 once the body passes the upload limit."""
    app = request.app
    max_mb = app.state.settings.server.max_upload_mb
    limit = int(max_mb * 1024 * 1024) + UPLOAD_FORM_SLACK
    receive = request.receive
    received = 0

    async def counting() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                app.state.metrics.uploads.labels("too_large").inc()
                raise HTTPException(
                    413,
                    f"upload is over the limit of {max_mb:g} MB (refused after {received} bytes)",
                    headers={"Connection": "close"},
                )
        return message

    return counting


def _upload_post(path: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``@router.post`` for the upload route, with the byte-counting route class."""

    def register(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        router.add_api_route(
            path, endpoint, methods=["POST"], route_class_override=_UploadRoute, **kwargs
        )
        return endpoint

    return register


@_upload_post(
    "/api/v1/calls",
    status_code=202,
    response_model=UploadAccepted,
    tags=["calls"],
    summary="Upload a call for analysis",
    responses={
        409: {"description": "The call id exists already", "model": ErrorBody},
        413: {"description": "The upload is over the size limit", "model": ErrorBody},
        415: {"description": "The file is not audio", "model": ErrorBody},
        422: {
            "description": "Corrupt audio (the decoder's reason) or bad fields",
            "model": ErrorBody,
        },
    },
)
async def upload_call(
    request: Request,
    file: Annotated[UploadFile, File(description="The call recording (WAV, MP3, FLAC, …).")],
    agent_id: Annotated[str, Form(pattern=ID_PATTERN, description="The agent on the call.")],
    call_id: Annotated[
        str | None, Form(pattern=ID_PATTERN, description="Your call id (default: generated).")
    ] = None,
    started_at: Annotated[
        datetime | None, Form(description="When the call started (ISO 8601).")
    ] = None,
    language: Annotated[Literal["auto", "zh", "en"], Form()] = "auto",
    diarization: Annotated[Literal["auto", "channels", "embedded", "pyannote"], Form()] = "auto",
    agent_channel: Annotated[
        int | None, Form(ge=0, le=1, description="Stereo: agent's channel.")
    ] = None,
    metadata: Annotated[
        str | None, Form(max_length=65536, description='A JSON object, e.g. {"queue": "billing"}.')
    ] = None,
    principal: Principal = Depends(require_roles(*UPLOAD_ROLES)),
) -> UploadAccepted:
    """Store the file, check that it is audio, and queue it. Nothing is kept when it is refused.

    The API never decodes: the upload is spooled to a local file in chunks (bounded memory,
    refused past the size limit), checked from its header and packets
    (:func:`~calmline.monitor.audioprobe.inspect_audio`), then handed to the audio store,
    where the workers read it. Damage only decoding shows fails the job with its reason.
    """
    from calmline.monitor.audio import LoadOptions
    from calmline.monitor.audioprobe import inspect_audio
    from calmline.pipelines.batch import AnalyzeRequest
    from calmline.pipelines.jobs import analyze_params

    app = request.app
    settings = app.state.settings
    store = _store(request)
    metrics = app.state.metrics
    meta: dict[str, Any] = {}
    if metadata:
        try:
            meta = json.loads(metadata)
        except ValueError as e:
            raise HTTPException(422, f"metadata: not JSON ({e})") from e
        if not isinstance(meta, dict):
            raise HTTPException(422, "metadata: must be a JSON object")
    call_id = call_id or f"call-{uuid.uuid4().hex[:12]}"
    if store.call_exists(call_id):
        raise HTTPException(409, f"call {call_id!r} exists already")
    name = Path(file.filename or "upload").name or "upload"
    suffix = "".join(c for c in Path(name).suffix.lower() if c.isalnum() or c == ".")[:8]
    incoming = store.audio_dir / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    tmp = incoming / f"{uuid.uuid4().hex}{suffix}"
    limit = int(settings.server.max_upload_mb * 1024 * 1024)
    try:
        size = 0
        with tmp.open("wb") as out:
            while chunk := await file.read(1024 * 1024):
                size += len(chunk)
                if size > limit:
                    metrics.uploads.labels("too_large").inc()
                    raise HTTPException(
                        413,
                        f"{name}: upload is over the limit of {settings.server.max_upload_mb:g} MB",
                    )
                out.write(chunk)
        try:
            # header and packets only, never decoded: milliseconds a minute, stops at the limit
            audio = await run_in_threadpool(
                inspect_audio, tmp, LoadOptions(max_duration_s=settings.audio.max_duration_s)
            )
        except (NotAudioError, AudioEmptyError) as e:
            metrics.uploads.labels("not_audio").inc()
            raise HTTPException(415, f"{name}: {e.reason}") from e
        except AudioDecodeError as e:
            metrics.uploads.labels("bad_audio").inc()
            raise HTTPException(422, f"{name}: {e.reason}") from e
        if diarization == "channels" and audio.channels != 2:
            raise HTTPException(
                422,
                f"{name}: channel attribution needs a two-channel file, this one has "
                f"{audio.channels} channel(s)",
            )
        del audio
        audio_store = _audio_store(request)
        target = await run_in_threadpool(audio_store.put, call_id, f"audio{suffix or '.bin'}", tmp)
        request_params = AnalyzeRequest(
            language=None if language == "auto" else language,
            diarization=None if diarization == "auto" else diarization,
            agent_channel=agent_channel,
        )
        try:
            job_id = store.create_call(
                call_id,
                agent_id,
                "upload",
                started_at=started_at,
                metadata=meta,
                audio_path=target,
                audio_name=name,
                language=None if language == "auto" else language,
                job_params=analyze_params(request_params),
                audio_bytes=size,
            )
        except ValueError as e:  # lost a race for the same call id
            await run_in_threadpool(audio_store.delete, target)
            raise HTTPException(409, str(e)) from e
        except Exception:
            await run_in_threadpool(audio_store.delete, target)
            raise
    finally:
        tmp.unlink(missing_ok=True)
        await file.close()
    metrics.uploads.labels("accepted").inc()
    app.state.jobs.notify()
    return UploadAccepted(
        call_id=call_id,
        job_id=job_id,
        status_url=f"/api/v1/jobs/{job_id}",
        report_url=f"/api/v1/calls/{call_id}/report",
    )


@router.get("/api/v1/jobs/{job_id}", response_model=JobStatus, tags=["jobs"], responses=NOT_FOUND)
def job_status(
    request: Request,
    job_id: Annotated[str, PathParam(max_length=64)],
    principal: Principal = Depends(authenticate),
) -> JobStatus:
    """A job's state, progress (0–1), current step and error."""
    store = _store(request)
    job = store.get_job(job_id)
    if job is None:
        raise HTTPException(404, f"no job with id {job_id!r}")
    call = store.get_call(job.call_id)
    check_agent_access(request, principal, call.agent_id if call else None)
    return JobStatus.of(job)


@router.post(
    "/api/v1/jobs/{job_id}/retry",
    status_code=202,
    response_model=JobStatus,
    tags=["jobs"],
    responses={**NOT_FOUND, 409: {"description": "The job has not failed", "model": ErrorBody}},
)
def retry_job(
    request: Request,
    job_id: Annotated[str, PathParam(max_length=64)],
    principal: Principal = Depends(require_roles("admin", "qa_lead")),
) -> JobStatus:
    """Queue a failed job again."""
    store = _store(request)
    try:
        job = store.retry_job(job_id)
    except KeyError as e:
        raise HTTPException(404, f"no job with id {job_id!r}") from e
    except ValueError as e:
        raise HTTPException(409, str(e)) from e
    request.app.state.jobs.notify()
    return JobStatus.of(job)


# ---------------------------------------------------------------------------- calls


def _filters(
    request: Request,
    principal: Principal,
    agent_id: str | None,
    since: datetime | None,
    until: datetime | None,
    language: str | None,
    min_score: float | None,
    max_score: float | None,
    practice: str | None,
    below: float | None,
    critical: bool | None,
    source: str | None,
    status: str | None,
    needs_review: bool | None = None,
    finding_kind: str | None = None,
    evaluated: bool | None = None,
    disputed: bool | None = None,
    q: str | None = None,
) -> CallFilter:
    if principal.role == "agent":
        if agent_id is not None and agent_id != principal.agent_id:
            raise refuse(request, principal, "list another agent's calls")
        agent_id = principal.agent_id
    if below is not None and practice is None:
        raise HTTPException(422, "below: needs practice=<practice id>")
    return CallFilter(
        agent_id=agent_id,
        since=since,
        until=until,
        language=language,
        min_score=min_score,
        max_score=max_score,
        practice=practice,
        below=below,
        critical=critical,
        needs_review=needs_review,
        source=source,
        status=status,
        finding_kind=finding_kind,
        evaluated=evaluated,
        disputed=disputed,
        q=q.strip() if q and q.strip() else None,
    )


class _ListParams:
    def __init__(
        self,
        agent_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
        since: Annotated[
            datetime | None, Query(description="Calls at or after (ISO 8601).")
        ] = None,
        until: Annotated[datetime | None, Query(description="Calls before (ISO 8601).")] = None,
        language: Annotated[Literal["zh", "en"] | None, Query()] = None,
        min_score: Annotated[float | None, Query(ge=0, le=100)] = None,
        max_score: Annotated[float | None, Query(ge=0, le=100)] = None,
        practice: Annotated[
            str | None, Query(pattern=r"^[a-z_]{1,64}$", description="A practice id.")
        ] = None,
        below: Annotated[
            float | None, Query(ge=0, le=100, description="With practice: scored below this.")
        ] = None,
        critical: Annotated[bool | None, Query(description="Has a critical finding.")] = None,
        source: Annotated[Literal["upload", "watch", "live"] | None, Query()] = None,
        status: Annotated[Literal["queued", "running", "done", "failed"] | None, Query()] = None,
        needs_review: Annotated[
            bool | None, Query(description="Roles or kind of call uncertain: scored, not coached.")
        ] = None,
        finding_kind: Annotated[
            str | None,
            Query(pattern=r"^[a-z_]{1,64}$", description="Has a machine finding of this kind."),
        ] = None,
        evaluated: Annotated[
            bool | None, Query(description="Has (true) or has not (false) a QA evaluation.")
        ] = None,
        disputed: Annotated[
            bool | None, Query(description="An agent has (true) or has not (false) disputed it.")
        ] = None,
        q: Annotated[
            str | None,
            Query(
                max_length=200,
                description="Words that are all in the transcript (any language; a word of 1-2 "
                "characters is found by a scan, slower: the X-Calmline-Search header says how).",
            ),
        ] = None,
    ) -> None:
        self.values = dict(
            agent_id=agent_id,
            since=since,
            until=until,
            language=language,
            min_score=min_score,
            max_score=max_score,
            practice=practice,
            below=below,
            critical=critical,
            source=source,
            status=status,
            needs_review=needs_review,
            finding_kind=finding_kind,
            evaluated=evaluated,
            disputed=disputed,
            q=q,
        )


@router.get("/api/v1/calls", response_model=CallList, tags=["calls"])
def list_calls(
    request: Request,
    response: Response,
    params: Annotated[_ListParams, Depends()],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    sort: Annotated[
        str,
        Query(
            pattern=SORT_PATTERN,
            description=f"One of {', '.join(SORT_KEYS)}; a leading - sorts descending. Empty "
            "values come last either way.",
        ),
    ] = "-started_at",
    principal: Principal = Depends(authenticate),
) -> CallList:
    """Calls, newest first (or by ``sort``), filtered and paginated. Agent keys see only their
    own calls. With ``q``, the ``X-Calmline-Search`` header says how the transcripts were
    searched (``fts5-trigram``, ``pg_trgm`` or ``scan``)."""
    store = _store(request)
    filters = _filters(request, principal, **params.values)
    rows, total = store.list_calls(filters, limit=limit, offset=offset, sort=sort)
    if filters.q:
        response.headers["X-Calmline-Search"] = store.search_method(filters.q)
    scores = store.practice_scores([r.id for r in rows])
    return CallList(
        items=[CallSummary.of(r, scores[r.id]) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/api/v1/findings/kinds", tags=["calls"])
def finding_kinds(
    request: Request, principal: Principal = Depends(authenticate)
) -> dict[str, list[str]]:
    """The finding kinds of the stored calls (the call list's ``finding_kind`` choices)."""
    return {"kinds": _store(request).finding_kinds()}


@router.get(
    "/api/v1/calls/{call_id}", response_model=CallSummary, tags=["calls"], responses=NOT_FOUND
)
def get_call(
    request: Request, call_id: CallId, principal: Principal = Depends(authenticate)
) -> CallSummary:
    call = _call_or_404(request, principal, call_id)
    return CallSummary.of(call, _store(request).practice_scores([call.id])[call.id])


def _report_dict(request: Request, call: CallRow) -> dict[str, Any]:
    body = _store(request).get_report_dict(call.id)
    if body is None:
        state = call.status if call.status != "failed" else f"failed: {call.error}"
        raise HTTPException(409, f"call {call.id!r} has no report yet ({state})")
    return client_report(body, call.audio_name)


def client_report(body: dict[str, Any], audio_name: str | None = None) -> dict[str, Any]:
    """A stored report as clients get it: ``audio.path`` (where the server keeps the file) is
    replaced by the file's name as it came in, so no server path leaves the server."""
    audio = body.get("audio")
    if not isinstance(audio, dict) or "path" not in audio:
        return body
    name = audio_name or Path(str(audio["path"])).name
    return {**body, "audio": {**audio, "path": name}}


@router.get(
    "/api/v1/calls/{call_id}/report",
    tags=["calls"],
    responses={**NOT_FOUND, 409: {"description": "Not analysed yet", "model": ErrorBody}},
)
def get_report(
    request: Request, call_id: CallId, principal: Principal = Depends(authenticate)
) -> dict[str, Any]:
    """The call's report (schema in docs/report-schema.md): transcript by role, measurements,
    scorecard with findings and coaching."""
    call = _call_or_404(request, principal, call_id)
    body = _report_dict(request, call)
    return _with_evaluation(request, principal, call.id, body)


def _with_evaluation(
    request: Request, principal: Principal, call_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """The report with ``evaluation`` (machine and human scores, who, when) once the call has
    one the caller may see (``calmline.api.evaluations``)."""
    from calmline.api.evaluations import evaluation_summary, visible_evaluation

    row = visible_evaluation(_store(request), principal, call_id)
    return body if row is None else {**body, "evaluation": evaluation_summary(row)}


@router.get(
    "/api/v1/calls/{call_id}/audio",
    tags=["calls"],
    response_class=FileResponse,
    responses={
        **NOT_FOUND,
        200: {"content": {"audio/*": {}}, "description": "The call audio"},
        206: {"description": "Partial content (Range request)"},
    },
)
def get_audio(request: Request, call_id: CallId, principal: Principal = Depends(authenticate)):
    """The call's audio. HTTP Range requests are answered with 206, so a player can seek."""
    call = _call_or_404(request, principal, call_id)
    audio = _audio_store(request)
    uri = call.audio_path
    if not uri or not audio.exists(uri):
        raise HTTPException(404, f"call {call_id!r} has no stored audio")
    served = _exported_audio(request, call, audio, uri)
    if served is None and audio.is_local(uri):
        with audio.local_path(uri) as path:  # the file itself: nothing is removed on exit
            served = path
    if served is not None:
        return FileResponse(
            served, media_type=_media_type(served), filename=f"{call.id}{served.suffix}"
        )
    return _stream_audio(request, audio, uri, f"{call.id}{PurePosixPath(uri).suffix}")


def _audio_store(request: Request) -> AudioStore:
    """The app's audio store (``storage.audio_url``; default the store's own audio folder)."""
    state = request.app.state
    audio = getattr(state, "audio_store", None)
    if audio is None:
        settings = state.settings
        if settings.storage.audio_url:
            audio = audio_store_from_settings(settings)
        else:
            audio = LocalAudioStore(_store(request).audio_dir)
        state.audio_store = audio
    return audio


def _exported_audio(request: Request, call: CallRow, audio: AudioStore, uri: str) -> Path | None:
    """With audio redaction on, the stored audio with redacted words silenced (made once, a
    local file: beside the audio in a local store, in the call's local folder otherwise);
    ``None`` when the stored audio is served as it is."""
    settings = request.app.state.settings
    if not (settings.privacy.redact and settings.privacy.redact_audio):
        return None
    store = _store(request)
    report = store.get_report(call.id)
    if report is None or not getattr(report, "redactions", ()):
        return None
    if audio.is_local(uri):
        with audio.local_path(uri) as path:
            out = path.with_name("audio.redacted.wav")
    else:
        out = store.call_audio_dir(call.id) / "audio.redacted.wav"
        out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists():
        from calmline.monitor.audio import load_audio
        from calmline.monitor.redact import write_redacted_wav

        tmp = out.with_name(f".{uuid.uuid4().hex}.wav")
        try:
            with audio.local_path(uri) as path:
                write_redacted_wav(load_audio(path), report, tmp)
            tmp.replace(out)
        finally:
            tmp.unlink(missing_ok=True)
    return out


def _stream_audio(request: Request, audio: AudioStore, uri: str, filename: str) -> Response:
    """Audio in a remote store, streamed in chunks; one ``Range`` (``bytes=a-b``, ``a-``,
    ``-n``) is answered with 206, several are answered with the whole file (RFC 9110 allows
    it), an unsatisfiable one with 416."""
    size = audio.size(uri)
    start, end = 0, size - 1
    status = 200
    spec = request.headers.get("range", "")
    if spec.startswith("bytes=") and "," not in spec:
        first, _, last = spec[6:].strip().partition("-")
        try:
            if first:
                start, end = int(first), min(int(last), size - 1) if last else size - 1
            else:
                start = max(size - int(last), 0)
        except ValueError:
            start, end = 0, size - 1  # a malformed Range is ignored
        else:
            if start >= size or start > end:
                return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
            status = 206
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Length": str(end - start + 1),
        "Content-Disposition": f'attachment; filename="{filename}"',
    }
    if status == 206:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"

    def body() -> Iterator[bytes]:
        with audio.open(uri) as f:
            f.seek(start)
            left = end - start + 1
            while left > 0 and (chunk := f.read(min(AUDIO_CHUNK, left))):
                left -= len(chunk)
                yield chunk

    media = _media_type(Path(PurePosixPath(uri).name))
    return StreamingResponse(body(), status_code=status, media_type=media, headers=headers)


def _media_type(path: Path) -> str:
    return {
        ".wav": "audio/wav",
        ".mp3": "audio/mpeg",
        ".flac": "audio/flac",
        ".ogg": "audio/ogg",
        ".opus": "audio/ogg",
        ".m4a": "audio/mp4",
        ".mp4": "audio/mp4",
        ".aac": "audio/aac",
    }.get(path.suffix.lower(), "application/octet-stream")


@router.get(
    "/api/v1/calls/{call_id}/export/{fmt}",
    tags=["export"],
    responses={
        **NOT_FOUND,
        409: {"description": "Not analysed yet", "model": ErrorBody},
        200: {"content": {"application/json": {}, "text/plain": {}, "text/vtt": {}}},
    },
)
def export_call(
    request: Request,
    call_id: CallId,
    fmt: Literal["json", "rttm", "vtt"],
    principal: Principal = Depends(authenticate),
):
    """One call as its JSON report, RTTM (who spoke when: the diarization's speaker labels and
    speech segments) or WebVTT (transcript by role)."""
    from calmline.monitor.report import report_from_dict, to_rttm, to_vtt

    call = _call_or_404(request, principal, call_id)
    body = _report_dict(request, call)
    disposition = {"Content-Disposition": f'attachment; filename="{call.id}.{fmt}"'}
    if fmt == "json":
        return Response(
            json.dumps(body, ensure_ascii=False, indent=2),
            media_type="application/json",
            headers=disposition,
        )
    report = report_from_dict(body)
    if fmt == "vtt":
        return PlainTextResponse(to_vtt(report), media_type="text/vtt", headers=disposition)
    # who spoke when: the diarization's speaker labels and speech segments, not roles or turns
    return PlainTextResponse(to_rttm(report), headers=disposition)


@router.get(
    "/api/v1/export/scores.csv",
    tags=["export"],
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_scores(
    request: Request,
    params: Annotated[_ListParams, Depends()],
    principal: Principal = Depends(authenticate),
):
    """Scores of every matching call (same filters as the call list) as CSV, one row per call
    and one column per practice."""
    store = _store(request)
    filters = _filters(request, principal, **params.values)
    rows, _ = store.list_calls(filters, limit=1_000_000)
    scores = store.practice_scores([r.id for r in rows])
    practices = sorted({p for s in scores.values() for p in s})
    evaluated = store.latest_evaluations(
        [r.id for r in rows], published_only=principal.role == "agent"
    )
    buf = io.StringIO()
    w = csv.writer(buf)
    head = ["call_id", "agent_id", "source", "started_at", "created_at", "language"]
    w.writerow(
        [
            *head,
            *("duration_s", "status", "overall", "critical", "customer_trend", *practices),
            *EVALUATION_COLUMNS,
            *(f"human:{p}" for p in practices),
        ]
    )
    for r in rows:
        w.writerow(
            [
                r.id,
                r.agent_id,
                r.source,
                r.started_at.isoformat() if r.started_at else "",
                r.created_at.isoformat(),
                r.language or "",
                _num(r.duration_s),
                r.status,
                _num(r.overall),
                int(r.critical),
                r.stress_result or "",
                *(_num(scores[r.id].get(p)) for p in practices),
                *_evaluation_cells(evaluated.get(r.id), scores[r.id], practices),
            ]
        )
    return Response(
        buf.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="calmline-scores.csv"'},
    )


EVALUATION_COLUMNS = (
    "evaluation_version",
    "evaluation_status",
    "evaluator",
    "evaluated_at",
    "human_overall",
)
"""CSV columns of a call's QA evaluation (empty when it has none); ``human:<practice>`` columns
follow: the evaluator's override, else the machine's score."""


def _evaluation_cells(row, machine: dict[str, float | None], practices: list[str]) -> list[str]:
    if row is None:
        return [""] * (len(EVALUATION_COLUMNS) + len(practices))
    overrides = {o["practice"]: o["score"] for o in (row.items or {}).get("scores", [])}
    when = row.published_at or row.created_at
    return [
        str(row.version),
        "published" if row.published_at else "draft",
        row.evaluator_name or row.evaluator_key_id,
        when.isoformat(),
        _num(row.human_overall),
        *(_num(overrides.get(p, machine.get(p))) for p in practices),
    ]


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


# ---------------------------------------------------------------------------- agents, rubric


@router.get("/api/v1/agents/{agent_id}/summary", response_model=AgentSummary, tags=["agents"])
def agent_summary(
    request: Request,
    agent_id: Annotated[str, PathParam(pattern=ID_PATTERN)],
    since: datetime | None = None,
    until: datetime | None = None,
    bucket: Literal["day", "week"] = "week",
    principal: Principal = Depends(authenticate),
) -> AgentSummary:
    """An agent's scores over time: calls, mean overall, critical calls, mean per practice."""
    check_agent_access(request, principal, agent_id)
    return AgentSummary(
        **_store(request).agent_summary(agent_id, since=since, until=until, bucket=bucket)
    )


@router.get("/api/v1/rubric", tags=["rubric"])
def active_rubric(
    request: Request,
    language: Literal["zh", "en"] = "en",
    principal: Principal = Depends(authenticate),
) -> dict[str, Any]:
    """The rubric calls in ``language`` are scored with."""
    rubric = request.app.state.pipeline.rubric_for(language)
    return rubric.model_dump(mode="json")


@router.post(
    "/api/v1/rescore",
    status_code=202,
    response_model=RescoreAccepted,
    tags=["rubric"],
    responses={422: {"description": "The rubric is not valid", "model": ErrorBody}},
)
def rescore(
    request: Request,
    body: RescoreRequest,
    principal: Principal = Depends(require_roles("admin", "qa_lead")),
) -> RescoreAccepted:
    """Score stored calls again with another rubric (version). One job per call."""
    from calmline.monitor.rubric import RubricError, parse_rubric

    store = _store(request)
    try:
        rubric = parse_rubric(body.rubric_yaml, source="rubric_yaml")
    except RubricError as e:
        raise HTTPException(422, str(e)) from e
    language = body.language or rubric.language
    if body.call_ids is not None:
        rows = [store.get_call(c) for c in body.call_ids]
        missing = [c for c, r in zip(body.call_ids, rows, strict=True) if r is None]
        if missing:
            raise HTTPException(404, f"no call with id {missing[0]!r}")
        not_done = [r.id for r in rows if r.status != "done"]
        if not_done:
            raise HTTPException(409, f"call {not_done[0]!r} has no report to re-score yet")
    else:
        rows, _ = store.list_calls(
            CallFilter(agent_id=body.agent_id, language=language, status="done"), limit=100_000
        )
    params = {"rubric_yaml": body.rubric_yaml, "rubric_source": f"{rubric.rubric} {rubric.version}"}
    jobs = [JobStatus.of(store.get_job(store.add_job(r.id, "rescore", params))) for r in rows]
    request.app.state.jobs.notify()
    return RescoreAccepted(rubric=rubric.rubric, rubric_version=rubric.version, jobs=jobs)


# ---------------------------------------------------------------------------- operations


@router.get("/healthz", response_model=Health, tags=["operations"])
def health(request: Request) -> Health:
    """Liveness and readiness: database reachable, models loaded, job counts."""
    app = request.app
    store = _store(request)
    try:
        ok = store.ping()
        jobs = store.count_jobs()
    except Exception:
        ok, jobs = False, {}
    return Health(
        status="ok" if ok else "degraded",
        version=__version__,
        database=store.dialect,
        models_loaded=bool(app.state.models_loaded),
        workers=app.state.jobs.workers,
        jobs=jobs,
    )


@router.get(
    "/metrics",
    tags=["operations"],
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}},
)
def metrics(request: Request):
    """Prometheus metrics (text exposition format)."""
    from prometheus_client import CONTENT_TYPE_LATEST

    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/v1/me", tags=["keys"])
def whoami(principal: Principal = Depends(authenticate)) -> dict[str, Any]:
    """The role (and agent id) of the key in use; pages use it to show the right view."""
    return {"key_id": principal.key_id, "role": principal.role, "agent_id": principal.agent_id}


@router.post(
    "/api/v1/session",
    tags=["keys"],
    response_model=SessionInfo,
    responses={
        401: {"description": "Unknown or revoked key", "model": ErrorBody},
        415: {"description": "The body is not JSON", "model": ErrorBody},
    },
)
def sign_in(request: Request, body: SessionRequest) -> JSONResponse:
    """Sign a page in: the key (in a JSON body, never in the URL) is checked and an HttpOnly,
    SameSite=Strict session cookie is set for ``/api/``. The cookie names the key, not the key
    itself: revoking the key ends the session, and it expires after ``server.session_ttl_s``."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise HTTPException(
            415, 'send {"key": "<API key>"} as JSON (Content-Type: application/json)'
        )
    info = _store(request).lookup_api_key(body.key.strip())
    if info is None:
        raise HTTPException(
            401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"}
        )
    sessions = request.app.state.sessions
    token, held = sessions.issue(info.id)
    answer = SessionInfo(
        key_id=info.id,
        role=info.role,
        agent_id=info.agent_id,
        expires_at=datetime.fromtimestamp(held.expires_at, UTC),
    )
    response = JSONResponse(answer.model_dump(mode="json"))
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(sessions.ttl_s),
        path=SESSION_COOKIE_PATH,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response


@router.delete("/api/v1/session", status_code=204, tags=["keys"])
def sign_out(request: Request) -> Response:
    """Sign a page out: its session token is refused from now on and the cookie is cleared."""
    sessions = request.app.state.sessions
    token = sessions.verify(request.cookies.get(SESSION_COOKIE))
    if token is not None:
        if CSRF_HEADER.lower() not in request.headers:
            raise HTTPException(403, f"signing out with the session cookie needs {CSRF_HEADER}")
        sessions.end(token)
    response = Response(status_code=204)
    response.delete_cookie(
        SESSION_COOKIE, path=SESSION_COOKIE_PATH, httponly=True, samesite="strict"
    )
    return response


@router.get("/api/v1/audit", tags=["keys"])
def audit_log(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    principal: Principal = Depends(require_roles("admin")),
) -> list[dict[str, Any]]:
    """Recent refusals and other audited actions (newest first)."""
    return [
        {
            "at": r.at.isoformat(),
            "key_id": r.key_id,
            "role": r.role,
            "action": r.action,
            "target": r.target,
            "outcome": r.outcome,
            "detail": r.detail,
        }
        for r in _store(request).audit_log(limit)
    ]


@router.get("/api/v1/webhooks/deliveries", tags=["operations"])
def webhook_deliveries(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    principal: Principal = Depends(require_roles("admin")),
) -> list[dict[str, Any]]:
    """The webhook delivery log (every attempt, newest first)."""
    return [
        {
            "delivery_id": r.delivery_id,
            "event_id": r.event_id,
            "event_type": r.event_type,
            "url": r.url,
            "attempt": r.attempt,
            "status_code": r.status_code,
            "error": r.error,
            "delivered": r.delivered,
            "at": r.at.isoformat(),
            "duration_ms": r.duration_ms,
        }
        for r in _store(request).webhook_deliveries(limit)
    ]
