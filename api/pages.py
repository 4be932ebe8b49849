"""The web pages: sign-in, QA review, agent feedback and the supervisor dashboard.

The pages are plain HTML files in ``api/static/`` with small ES modules; there is no build step.
They hold no data and no key of their own: the sign-in page sends the API key once to
``POST /api/v1/session``, which sets an HttpOnly, SameSite=Strict session cookie for ``/api/``;
each page then asks ``GET /api/v1/me`` for the session's role and calls the REST and live APIs
(fetch, ``<audio>``, EventSource) with the cookie. No key is ever put in a URL. Serving the HTML
shells needs no key; every call behind them is checked by the API, so an agent key that opens
another agent's call gets the API's 403, which the page shows.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from calmline.api.app import static_dir
from calmline.api.routes import ID_PATTERN

router = APIRouter(include_in_schema=False)

CallId = Annotated[str, PathParam(pattern=ID_PATTERN)]

# Pages must never be cached with an old key check or an old script list.
_NO_STORE = {"Cache-Control": "no-store"}


def _page(name: str) -> FileResponse:
    return FileResponse(static_dir() / name, media_type="text/html", headers=_NO_STORE)


@router.get("/")
def home() -> RedirectResponse:
    """The landing page asks for the API key and sends the user to the page of their role."""
    return RedirectResponse("/signin", status_code=307)


@router.get("/signin")
def signin() -> FileResponse:
    return _page("signin.html")


@router.get("/dashboard")
def dashboard() -> FileResponse:
    """Supervisor dashboard: live calls, alerts as they happen, a call's live transcript."""
    return _page("dashboard.html")


@router.get("/review")
def review() -> FileResponse:
    """QA review: scored calls, filtered and paginated."""
    return _page("review.html")


@router.get("/review/{call_id}")
def review_call(call_id: CallId) -> FileResponse:
    """One call: scorecard, timeline, transcript by role and the audio."""
    return _page("call.html")


@router.get("/disputes")
def disputes() -> FileResponse:
    """QA disputes: agents' open disputes of published evaluations, to resolve."""
    return _page("disputes.html")


@router.get("/calibration")
def calibrations() -> FileResponse:
    """Calibration sessions: start one, answer the ones naming you, see agreement when closed."""
    return _page("calibration.html")


@router.get("/calibration/{calibration_id}")
def calibration(calibration_id: int) -> FileResponse:
    """One calibration session: your answer while open; answers and agreement once closed."""
    return _page("calibration.html")


@router.get("/trends")
def trends() -> FileResponse:
    """Trends by week of an agent, a team or everyone, and agents side by side."""
    return _page("trends.html")


@router.get("/feedback")
def feedback() -> FileResponse:
    """Agent feedback: the agent's own calls."""
    return _page("feedback.html")


@router.get("/feedback/{call_id}")
def feedback_call(call_id: CallId) -> FileResponse:
    """One call's feedback: each practice with its score, evidence and coaching."""
    return _page("feedback-call.html")


def mount(app: FastAPI) -> None:
    """Serve ``api/static`` at ``/static`` (CSS and the page scripts)."""
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
