"""Calibration sessions: several evaluators score one call independently, then see how far
they agree with each other and with the machine.

A QA lead (or admin) starts a calibration of a scored call and names the evaluators (key ids of
QA-lead or admin keys, two at least). The machine's scorecard is copied at the start, so every
answer is compared with the same scorecard even if the call is re-scored meanwhile. Each
evaluator answers with the shapes of an evaluation (``calmline.api.evaluations``): a verdict per
machine finding, findings the machine missed, practice score overrides. A practice not
overridden keeps the machine's score, and a finding not judged stands (counts as confirmed),
as in an evaluation. An evaluator may save a draft and change it until they submit it.

**Independence.** Until the calibration is closed nobody sees another evaluator's answer (not
the lead who started it, not an admin): each evaluator sees their own answer and, of the others,
only whether they have submitted. The one who started it, or an admin, closes it; from then on
the submitted answers (drafts are dropped) and the agreement figures are open to QA leads,
admins and supervisors. Closing after each has submitted, rather than showing an evaluator the
others' answers as soon as they have submitted, keeps a late evaluator from being told the
answers by an early one who already sees them.

**Agreement** (:func:`agreement`), per practice and for the overall score:

- scores between evaluators: over every pair, the mean absolute difference and the share of
  pairs within :data:`WITHIN` points; with the machine: the same over evaluator-machine pairs;
- finding verdicts (confirm/reject) between evaluators: percent agreement (the mean over
  findings of the share of agreeing evaluator pairs), Fleiss' kappa (with a varying number of
  raters per finding when figures are pooled), and Cohen's kappa when exactly two evaluators
  answered; a kappa is ``null`` where it is not defined (no findings, or every verdict the same
  so chance agreement is 1); with the machine: the share of verdicts that confirm its finding.

``GET /api/v1/calibrations/agreement`` pools the same figures over every closed calibration
(with two submitted answers at least), and per evaluator the mean distance of their scores from
the other evaluators' and from the machine's. Everything that changes a calibration is written
to the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam

from calmline.api.auth import Principal, refuse, require_roles
from calmline.api.evaluations import (
    EVALUATORS,
    SNAPSHOT,
    STAFF_READ,
    build_items,
    human_scores,
    report_findings,
)
from calmline.api.routes import ID_PATTERN
from calmline.api.schemas import CalibrationAnswer, CalibrationRequest, ErrorBody
from calmline.monitor.store import Calibration, CalibrationAnswerRow, Store

router = APIRouter(tags=["calibration"])

CallId = Annotated[str, PathParam(pattern=ID_PATTERN, description="The call id.")]
NO_CALIBRATION = {404: {"description": "No such calibration", "model": ErrorBody}}
CONFLICT = {409: {"description": "Not possible in the calibration's state", "model": ErrorBody}}

WITHIN = 10.0
"""Two scores "agree" when they are at most this many points apart: a tenth of the 0-100 scale,
half the width of the pages' score bands (below 60, 60-80, 80 and above), so two scores within
it fall in the same or a neighbouring band."""
OVERALL = "overall"
"""The key of the overall score among the practices in agreement figures."""


# ---------------------------------------------------------------------------- agreement (pure)


@dataclass(slots=True)
class Answer:
    """What one evaluator said: practice scores (overrides, else the machine's), the overall
    score computed from them, and a verdict per machine finding (``confirm`` or ``reject``)."""

    who: str
    """The evaluator's key id."""
    name: str | None
    scores: dict[str, float | None]
    overall: float | None
    verdicts: dict[str, str]


@dataclass(slots=True)
class Session:
    """One calibration's facts: the machine's scores and findings and the submitted answers."""

    machine: dict[str, float | None]
    machine_overall: float | None
    finding_practice: dict[str, str]
    """Machine finding key -> its practice."""
    answers: list[Answer]


@dataclass(slots=True)
class _Tally:
    pair_diffs: list[float] = field(default_factory=list)
    machine_diffs: list[float] = field(default_factory=list)
    items: list[list[str]] = field(default_factory=list)
    """Per finding, the evaluators' verdicts."""


def fleiss_kappa(items: Sequence[Sequence[str]]) -> float | None:
    """Fleiss' kappa of categorical ratings, one list of raters' categories per item; items may
    have different numbers of raters (those with fewer than two are left out). ``None`` when
    there is no item or chance agreement is 1 (every rating the same category)."""
    items = [i for i in items if len(i) >= 2]
    if not items:
        return None
    observed = []
    totals: dict[str, int] = {}
    for ratings in items:
        n = len(ratings)
        counts: dict[str, int] = {}
        for c in ratings:
            counts[c] = counts.get(c, 0) + 1
            totals[c] = totals.get(c, 0) + 1
        observed.append(sum(k * (k - 1) for k in counts.values()) / (n * (n - 1)))
    ratings_n = sum(totals.values())
    expected = sum((k / ratings_n) ** 2 for k in totals.values())
    if expected >= 1.0 - 1e-12:
        return None
    return (sum(observed) / len(observed) - expected) / (1.0 - expected)


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two raters' categories over the same items; ``None`` when there is no
    item or chance agreement is 1."""
    if not a or len(a) != len(b):
        return None
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    expected = sum((a.count(c) / n) * (b.count(c) / n) for c in set(a) | set(b))
    if expected >= 1.0 - 1e-12:
        return None
    return (observed - expected) / (1.0 - expected)


def percent_agreement(items: Sequence[Sequence[str]]) -> float | None:
    """The mean over items of the share of rater pairs that agree (items with two raters or
    more); ``None`` when there is none."""
    shares = []
    for ratings in items:
        pairs = list(combinations(ratings, 2))
        if pairs:
            shares.append(sum(x == y for x, y in pairs) / len(pairs))
    return sum(shares) / len(shares) if shares else None


def _diff_figures(diffs: Sequence[float], n_name: str) -> dict[str, Any]:
    return {
        n_name: len(diffs),
        "mean_abs_diff": _round(sum(diffs) / len(diffs)) if diffs else None,
        "within": _round(sum(d <= WITHIN for d in diffs) / len(diffs), 3) if diffs else None,
    }


def _round(x: float | None, digits: int = 2) -> float | None:
    return None if x is None else round(x, digits)


@dataclass(slots=True)
class _Person:
    name: str | None = None
    calibrations: int = 0
    others: list[float] = field(default_factory=list)
    machine: list[float] = field(default_factory=list)


def _tally(sessions: Iterable[Session]) -> tuple[dict[str, _Tally], dict[str, _Person]]:
    """Score differences and verdict lists per practice (and overall), and per evaluator the
    differences of their practice scores from the other evaluators' and from the machine's.
    Calibrations with fewer than two submitted answers are left out."""
    tallies: dict[str, _Tally] = {}
    people: dict[str, _Person] = {}
    for s in sessions:
        if len(s.answers) < 2:
            continue
        for a in s.answers:
            person = people.setdefault(a.who, _Person())
            person.name, person.calibrations = a.name, person.calibrations + 1
        for p in [*s.machine, OVERALL]:
            t = tallies.setdefault(p, _Tally())
            machine = s.machine_overall if p == OVERALL else s.machine[p]
            got = [(a.who, a.overall if p == OVERALL else a.scores.get(p)) for a in s.answers]
            got = [(w, x) for w, x in got if x is not None]
            for (wa, xa), (wb, xb) in combinations(got, 2):
                t.pair_diffs.append(abs(xa - xb))
                if p != OVERALL:
                    people[wa].others.append(abs(xa - xb))
                    people[wb].others.append(abs(xa - xb))
            if machine is not None:
                for w, x in got:
                    t.machine_diffs.append(abs(x - machine))
                    if p != OVERALL:
                        people[w].machine.append(abs(x - machine))
        for key, practice in s.finding_practice.items():
            verdicts = [a.verdicts.get(key, "confirm") for a in s.answers]
            for p in (practice, OVERALL):
                tallies.setdefault(p, _Tally()).items.append(verdicts)
    return tallies, people


def _figures(t: _Tally, *, cohen: bool) -> dict[str, Any]:
    verdicts = [v for item in t.items for v in item]
    two = cohen and t.items and all(len(i) == 2 for i in t.items)
    return {
        "scores": {
            "evaluators": _diff_figures(t.pair_diffs, "pairs"),
            "machine": _diff_figures(t.machine_diffs, "pairs"),
        },
        "findings": {
            "items": len(t.items),
            "percent_agreement": _round(percent_agreement(t.items), 3),
            "fleiss_kappa": _round(fleiss_kappa(t.items), 3),
            "cohen_kappa": (
                _round(cohen_kappa([i[0] for i in t.items], [i[1] for i in t.items]), 3)
                if two
                else None
            ),
            "machine_confirmed": (
                _round(verdicts.count("confirm") / len(verdicts), 3) if verdicts else None
            ),
        },
    }


def agreement(sessions: Sequence[Session], names: dict[str, str] | None = None) -> dict[str, Any]:
    """Agreement figures of one calibration, or pooled over several (see the module's text).
    Cohen's kappa is given only for a single calibration with two answers (pooled, the two
    raters are different people from one calibration to the next)."""
    tallies, people = _tally(sessions)
    single = len(sessions) == 1
    names = names or {}
    practices = [
        {"practice": p, "name": names.get(p, p), **_figures(t, cohen=single)}
        for p, t in tallies.items()
        if p != OVERALL
    ]
    return {
        "within_points": WITHIN,
        "calibrations": sum(len(s.answers) >= 2 for s in sessions),
        "overall": _figures(tallies[OVERALL], cohen=single) if OVERALL in tallies else None,
        "practices": practices,
        "evaluators": [
            {
                "key_id": who,
                "name": d.name,
                "calibrations": d.calibrations,
                "vs_evaluators": _diff_figures(d.others, "pairs"),
                "vs_machine": _diff_figures(d.machine, "pairs"),
            }
            for who, d in sorted(people.items())
        ],
    }


def session_facts(cal: Calibration, critical_cap: float) -> Session:
    """The facts of a calibration's submitted answers, against its scorecard snapshot."""
    card = cal.row.scorecard or {}
    report = {"scorecard": card}
    answers = []
    for a in cal.answers:
        if a.submitted_at is None:
            continue
        items = a.items or {}
        scores, overall = human_scores(report, items, critical_cap)
        verdicts = {v["key"]: v["verdict"] for v in items.get("findings", [])}
        answers.append(Answer(a.key_id, a.name, scores, overall, verdicts))
    return Session(
        machine={p["practice"]: p.get("score") for p in card.get("practices", [])},
        machine_overall=card.get("overall"),
        finding_practice={k: f["practice"] for k, f in report_findings(report).items()},
        answers=answers,
    )


# ---------------------------------------------------------------------------- views


def _store(request: Request) -> Store:
    return request.app.state.store


def _cap(request: Request, cal: Calibration) -> float:
    """The critical cap of the rubric of the calibrated scorecard's language."""
    language = (cal.row.scorecard or {}).get("language") or "en"
    return request.app.state.pipeline.rubric_for(language).critical_cap


def _iso(t) -> str | None:
    return t.isoformat() if t is not None else None


def _answer_view(a: CalibrationAnswerRow) -> dict[str, Any]:
    items = a.items or {}
    return {
        "key_id": a.key_id,
        "name": a.name,
        "role": a.role,
        "submitted_at": _iso(a.submitted_at),
        "updated_at": _iso(a.updated_at),
        "human_overall": a.human_overall,
        "findings": items.get("findings", []),
        "missed": items.get("missed", []),
        "scores": items.get("scores", []),
        "note": a.note,
    }


def calibration_view(
    request: Request, cal: Calibration, principal: Principal, *, brief: bool = False
) -> dict[str, Any]:
    """A calibration as ``principal`` may see it: while open, their own answer only (and who has
    submitted); once closed, every submitted answer and the agreement figures."""
    row = cal.row
    card = row.scorecard or {}
    mine = cal.answer_of(principal.key_id)
    view: dict[str, Any] = {
        "id": row.id,
        "call_id": row.call_id,
        "status": "closed" if cal.closed else "open",
        "created_by": row.created_by,
        "created_at": _iso(row.created_at),
        "closed_at": _iso(row.closed_at),
        "closed_by": row.closed_by,
        "note": row.note,
        "rubric": row.rubric,
        "rubric_version": row.rubric_version,
        "machine_overall": row.machine_overall,
        "evaluators": [
            {
                "key_id": a.key_id,
                "name": a.name,
                "role": a.role,
                "submitted": a.submitted_at is not None,
            }
            for a in cal.answers
        ],
        "you": {
            "evaluator": mine is not None,
            "submitted": mine is not None and mine.submitted_at is not None,
            "may_close": not cal.closed
            and (principal.role == "admin" or principal.key_id == row.created_by),
        },
    }
    if brief:
        return view
    view["you"]["answer"] = _answer_view(mine) if mine is not None else None
    view["practices"] = [
        {"practice": p["practice"], "name": p.get("name", p["practice"]), "machine": p.get("score")}
        for p in card.get("practices", [])
    ]
    view["findings"] = [
        {"key": k, **{s: f.get(s) for s in SNAPSHOT}}
        for k, f in report_findings({"scorecard": card}).items()
    ]
    if cal.closed:
        view["answers"] = [_answer_view(a) for a in cal.answers if a.submitted_at is not None]
        names = {p["practice"]: p["name"] for p in view["practices"]}
        view["agreement"] = agreement([session_facts(cal, _cap(request, cal))], names)
    return view


def _get(request: Request, calibration_id: int) -> Calibration:
    cal = _store(request).get_calibration(calibration_id)
    if cal is None:
        raise HTTPException(404, f"no calibration with id {calibration_id}")
    return cal


def _audit(request: Request, principal: Principal, action: str, target: str, detail: str):
    _store(request).audit(
        action, "ok", key_id=principal.key_id, role=principal.role, target=target, detail=detail
    )


# ---------------------------------------------------------------------------- routes


@router.get("/api/v1/calibrations/evaluators")
def list_evaluators(
    request: Request, principal: Principal = Depends(require_roles(*EVALUATORS))
) -> list[dict[str, Any]]:
    """Keys that may be named evaluators of a calibration: QA-lead and admin keys not revoked."""
    keys = _store(request).list_api_keys()
    return [
        {"key_id": k.id, "name": k.name, "role": k.role}
        for k in keys
        if k.role in EVALUATORS and not k.revoked
    ]


@router.get("/api/v1/calibrations/agreement")
def pooled_agreement(
    request: Request,
    call_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    principal: Principal = Depends(require_roles(*STAFF_READ)),
) -> dict[str, Any]:
    """Agreement figures pooled over every closed calibration (of one call with ``call_id``):
    per practice and overall, between evaluators and with the machine, and per evaluator."""
    store = _store(request)
    closed = store.calibrations(closed=True, call_id=call_id, limit=100_000)
    sessions, names = [], {}
    for cal in closed:
        sessions.append(session_facts(cal, _cap(request, cal)))
        for p in (cal.row.scorecard or {}).get("practices", []):
            names.setdefault(p["practice"], p.get("name", p["practice"]))
    return agreement(sessions, names)


@router.post(
    "/api/v1/calls/{call_id}/calibrations",
    status_code=201,
    responses={
        404: {"description": "No such call", "model": ErrorBody},
        409: {"description": "No scorecard yet", "model": ErrorBody},
    },
)
def start_calibration(
    request: Request,
    call_id: CallId,
    body: CalibrationRequest,
    principal: Principal = Depends(require_roles(*EVALUATORS)),
) -> dict[str, Any]:
    """Start a calibration of the call with the named evaluators (QA-lead or admin keys)."""
    store = _store(request)
    call = store.get_call(call_id)
    if call is None:
        raise HTTPException(404, f"no call with id {call_id!r}")
    report = store.get_report_dict(call_id)
    if report is None or not report.get("scorecard"):
        raise HTTPException(409, f"call {call_id!r} has no scorecard to calibrate ({call.status})")
    if len(set(body.evaluators)) != len(body.evaluators):
        raise HTTPException(422, "evaluators: a key is named twice")
    evaluators = []
    for n, key_id in enumerate(body.evaluators):
        key = store.get_api_key(key_id)
        if key is None or key.revoked:
            raise HTTPException(422, f"evaluators[{n}]: no key {key_id!r} (or it is revoked)")
        if key.role not in EVALUATORS:
            raise HTTPException(
                422, f"evaluators[{n}]: key {key_id!r} is a {key.role} key; qa_lead or admin"
            )
        evaluators.append((key.id, key.name, key.role))
    card = report["scorecard"]
    cal = store.create_calibration(
        call_id,
        created_by=principal.key_id,
        evaluators=evaluators,
        note=body.note,
        rubric=card.get("rubric"),
        rubric_version=card.get("rubric_version"),
        machine_overall=card.get("overall"),
        scorecard=card,
    )
    who = ", ".join(e[0] for e in evaluators)
    _audit(request, principal, "calibration.start", call_id, f"calibration {cal.row.id}: {who}")
    return calibration_view(request, cal, principal)


@router.get("/api/v1/calibrations")
def list_calibrations(
    request: Request,
    status: Literal["open", "closed"] | None = None,
    call_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    mine: Annotated[bool, Query(description="Only those naming the caller.")] = False,
    principal: Principal = Depends(require_roles(*STAFF_READ)),
) -> list[dict[str, Any]]:
    """Calibrations, newest first (who evaluates and who has submitted; no answers)."""
    closed = None if status is None else status == "closed"
    rows = _store(request).calibrations(
        call_id=call_id, closed=closed, key_id=principal.key_id if mine else None
    )
    return [calibration_view(request, c, principal, brief=True) for c in rows]


@router.get("/api/v1/calibrations/{calibration_id}", responses=NO_CALIBRATION)
def get_calibration(
    request: Request,
    calibration_id: int,
    principal: Principal = Depends(require_roles(*STAFF_READ)),
) -> dict[str, Any]:
    """One calibration: the scorecard it calibrates, the caller's own answer, and once closed
    every submitted answer with the agreement figures."""
    return calibration_view(request, _get(request, calibration_id), principal)


@router.put(
    "/api/v1/calibrations/{calibration_id}/answer", responses={**NO_CALIBRATION, **CONFLICT}
)
def save_answer(
    request: Request,
    calibration_id: int,
    body: CalibrationAnswer,
    principal: Principal = Depends(require_roles(*EVALUATORS)),
) -> dict[str, Any]:
    """Save the caller's answer (a draft, or with ``submit`` the final one). Only the named
    evaluators answer, while the calibration is open and until they submit."""
    store = _store(request)
    cal = _get(request, calibration_id)
    if cal.answer_of(principal.key_id) is None:
        raise refuse(request, principal, f"answer calibration {calibration_id} (not named in it)")
    if cal.closed:
        raise HTTPException(409, f"calibration {calibration_id} is closed")
    report = store.get_report_dict(cal.row.call_id) or {}
    report = {**report, "scorecard": cal.row.scorecard}
    items = build_items(body, report)
    _, overall = human_scores(report, items, _cap(request, cal))
    try:
        cal = store.save_calibration_answer(
            calibration_id,
            principal.key_id,
            items=items,
            note=body.note,
            human_overall=overall,
            submit=body.submit,
        )
    except ValueError as e:
        raise HTTPException(409, str(e)) from e
    action = "calibration.submit" if body.submit else "calibration.save"
    detail = (
        f"calibration {calibration_id}: {len(items['findings'])} verdict(s), "
        f"{len(items['missed'])} added, {len(items['scores'])} override(s)"
    )
    _audit(request, principal, action, cal.row.call_id, detail)
    return calibration_view(request, cal, principal)


@router.post(
    "/api/v1/calibrations/{calibration_id}/close", responses={**NO_CALIBRATION, **CONFLICT}
)
def close_calibration(
    request: Request,
    calibration_id: int,
    principal: Principal = Depends(require_roles(*EVALUATORS)),
) -> dict[str, Any]:
    """Close the calibration (the one who started it, or an admin): answers are shown side by
    side with the agreement figures; unsubmitted drafts are left out."""
    cal = _get(request, calibration_id)
    if principal.role != "admin" and principal.key_id != cal.row.created_by:
        raise refuse(request, principal, f"close calibration {calibration_id} (not its starter)")
    try:
        cal = _store(request).close_calibration(calibration_id, principal.key_id)
    except ValueError as e:
        raise HTTPException(409, str(e)) from e
    submitted = sum(a.submitted_at is not None for a in cal.answers)
    detail = f"calibration {calibration_id}: {submitted} of {len(cal.answers)} answer(s)"
    _audit(request, principal, "calibration.close", cal.row.call_id, detail)
    return calibration_view(request, cal, principal)
