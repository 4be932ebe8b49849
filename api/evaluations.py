"""QA evaluations, agents' acknowledgements and disputes, and the labels they make.

A QA lead (or admin) evaluates a scored call: per machine finding *confirm* or *reject* (with a
reason from :data:`~calmline.api.schemas.REJECT_REASONS` and a note), findings the machine
missed added at a moment of the call, and per practice a score override with its reason. Each
save is a new **version** (``evaluations`` table) kept beside the machine's scorecard, which is
never changed: every answer shows both (machine and human score, who, when). Publishing a
version sends it to the agent, who sees only published versions of their own calls, and may
acknowledge it or dispute one item with a comment; a QA lead resolves a dispute as ``upheld``
or ``overturned`` (an overturned machine finding is rejected, an overturned added one removed,
in a new published version). Every change is written to the audit log.

Findings are named ``<practice>#<n>``, the n-th finding of that practice in the report's
scorecard (from 0); each verdict keeps a copy of the finding it judged, so an evaluation still
says what it judged after the call is re-scored.

The confirmed, rejected and added findings of the newest published versions are the field
labels (``GET /api/v1/evaluations/labels.jsonl``, ``calmline labels export``), which
``bench/field_labels.py`` reads to measure the detectors on real calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse

from calmline.api.auth import Principal, authenticate, refuse, require_roles
from calmline.api.routes import ID_PATTERN, NOT_FOUND, _call_or_404
from calmline.api.schemas import (
    DisputeRequest,
    DisputeResolution,
    ErrorBody,
    EvaluationRequest,
)
from calmline.monitor.store import CallRow, DisputeRow, EvaluationRow, Store

router = APIRouter(tags=["evaluations"])

CallId = Annotated[str, PathParam(pattern=ID_PATTERN, description="The call id.")]
EVALUATORS = ("admin", "qa_lead")
"""Roles that evaluate calls, publish evaluations and resolve disputes."""
STAFF_READ = ("admin", "qa_lead", "supervisor")
CONFLICT = {409: {"description": "Not possible in the evaluation's state", "model": ErrorBody}}
VERDICT_LABEL = {"confirm": "confirmed", "reject": "rejected"}


def _store(request: Request) -> Store:
    return request.app.state.store


def _audit(request: Request, principal: Principal, action: str, target: str, detail: str):
    _store(request).audit(
        action, "ok", key_id=principal.key_id, role=principal.role, target=target, detail=detail
    )


def _scored_call(
    request: Request, principal: Principal, call_id: str
) -> tuple[CallRow, dict[str, Any]]:
    """The call (404 when absent, 403 when the principal may not see it) and its report (409
    while it has no scorecard to evaluate)."""
    call = _call_or_404(request, principal, call_id)
    body = _store(request).get_report_dict(call.id)
    if body is None or not body.get("scorecard"):
        raise HTTPException(
            409, f"call {call.id!r} has no scorecard to evaluate yet ({call.status})"
        )
    return call, body


# ---------------------------------------------------------------------------- pure parts


def report_findings(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The scorecard's findings by key ``<practice>#<n>``."""
    out = {}
    for p in (report.get("scorecard") or {}).get("practices", []):
        for i, f in enumerate(p.get("findings", [])):
            out[f"{p['practice']}#{i}"] = f
    return out


SNAPSHOT = (
    "practice", "kind", "severity", "start", "end", "role", "speaker", "quote", "detail",
    "value", "threshold", "turn_index", "phrase", "matched_form", "match_kind",
)  # fmt: skip
"""What a verdict keeps of the finding it judged."""


def customer_context(report: dict[str, Any], turn_index: int | None, start: float | None) -> str:
    """The customer's words just before a moment (the turn before the agent's turn at
    ``turn_index``, or at ``start``), as ``bench/text_eval.py`` gives its detectors a labelled
    line's ``context``: empty when the turn before is not the customer's."""
    turns = report.get("turns") or []
    if turn_index is None and start is not None:
        turn_index = next(
            (
                t["index"]
                for t in turns
                if t.get("role") == "agent" and t["start"] - 0.05 <= start <= t["end"] + 0.05
            ),
            None,
        )
    if turn_index is None:
        return ""
    before = [t for t in turns if t["index"] < turn_index]
    return before[-1].get("text", "") if before and before[-1].get("role") == "customer" else ""


def build_items(body: EvaluationRequest, report: dict[str, Any]) -> dict[str, Any]:
    """The stored items of a request, checked against the report (422 naming the item)."""
    findings = report_findings(report)
    practices = {p["practice"]: p for p in report["scorecard"]["practices"]}
    duration = float((report.get("metrics") or {}).get("duration") or 0.0)
    verdicts, seen = [], set()
    for n, v in enumerate(body.findings):
        where = f"findings[{n}] ({v.finding})"
        if v.finding not in findings:
            raise HTTPException(422, f"{where}: the report has no such finding")
        if v.finding in seen:
            raise HTTPException(422, f"{where}: judged twice")
        seen.add(v.finding)
        if v.verdict == "reject" and v.reason is None:
            raise HTTPException(422, f"{where}: a rejection needs a reason")
        if v.reason == "other" and not (v.note or "").strip():
            raise HTTPException(422, f"{where}: reason 'other' needs a note saying what")
        snap = {k: findings[v.finding].get(k) for k in SNAPSHOT}
        snap["context"] = customer_context(report, snap["turn_index"], snap["start"])
        reason = v.reason if v.verdict == "reject" else None
        verdicts.append(
            {"key": v.finding, "verdict": v.verdict, "reason": reason, "note": v.note} | snap
        )
    missed = []
    for n, m in enumerate(body.missed):
        where = f"missed[{n}]"
        if m.practice not in practices:
            raise HTTPException(422, f"{where}: practice {m.practice!r} is not in the scorecard")
        if duration and m.start > duration + 1.0:
            raise HTTPException(422, f"{where}: {m.start} s is after the call's end ({duration} s)")
        if m.end is not None and m.end < m.start:
            raise HTTPException(422, f"{where}: ends before it starts")
        context = customer_context(report, None, m.start)
        missed.append({"key": f"missed#{n}", **m.model_dump(), "context": context})
    scores = []
    for n, o in enumerate(body.scores):
        if o.practice not in practices:
            raise HTTPException(
                422, f"scores[{n}]: practice {o.practice!r} is not in the scorecard"
            )
        if o.practice in {s["practice"] for s in scores}:
            raise HTTPException(422, f"scores[{n}]: {o.practice} overridden twice")
        scores.append(o.model_dump() | {"machine": practices[o.practice].get("score")})
    return {"findings": verdicts, "missed": missed, "scores": scores}


def human_scores(
    report: dict[str, Any], items: dict[str, Any], critical_cap: float
) -> tuple[dict[str, float | None], float | None]:
    """Practice scores with the evaluator's overrides, and the overall score computed as the
    machine's is (weighted mean, capped at ``critical_cap`` while a practice with a critical
    finding still stands: not overridden, and not every critical finding of it rejected)."""
    card = report["scorecard"]
    overrides = {s["practice"]: s["score"] for s in items.get("scores", [])}
    rejected = {v["key"] for v in items.get("findings", []) if v["verdict"] == "reject"}
    practices: dict[str, float | None] = {}
    total = weighted = 0.0
    capped = False
    for p in card["practices"]:
        pid = p["practice"]
        score = overrides.get(pid, p.get("score"))
        practices[pid] = score
        if score is not None and p.get("weight", 0) > 0:
            total += p["weight"]
            weighted += p["weight"] * score
        if p.get("critical") and pid not in overrides:
            keys = [
                f"{pid}#{i}"
                for i, f in enumerate(p.get("findings", []))
                if f.get("severity") == "critical"
            ]
            capped = capped or not keys or not set(keys) <= rejected
    if not overrides and not rejected:
        return practices, card.get("overall")  # nothing changed: the machine's, to the digit
    uncapped = weighted / total if total else 100.0
    return practices, round(min(uncapped, critical_cap) if capped else uncapped, 1)


def _who(row: EvaluationRow) -> dict[str, Any]:
    return {
        "key_id": row.evaluator_key_id,
        "name": row.evaluator_name,
        "role": row.evaluator_role,
    }


def _iso(t) -> str | None:
    return t.isoformat() if t is not None else None


def dispute_view(d: DisputeRow) -> dict[str, Any]:
    return {
        "id": d.id,
        "call_id": d.call_id,
        "agent_id": d.agent_id,
        "evaluation_id": d.evaluation_id,
        "item": d.item,
        "comment": d.comment,
        "status": d.status,
        "created_at": _iso(d.created_at),
        "resolved_at": _iso(d.resolved_at),
        "resolved_by": d.resolved_by,
        "resolution_note": d.resolution_note,
    }


def evaluation_view(
    row: EvaluationRow,
    report: dict[str, Any],
    *,
    versions: int,
    disputes: list[DisputeRow] = (),
) -> dict[str, Any]:
    """One version as the API answers it: machine and human scores side by side, who, when,
    every machine finding with its verdict (``null`` = not judged), the added findings and the
    call's disputes."""
    items = row.items or {}
    card = report.get("scorecard") or {}
    verdicts = {v["key"]: v for v in items.get("findings", [])}
    overrides = {s["practice"]: s for s in items.get("scores", [])}
    human = {}
    for p in card.get("practices", []):
        o = overrides.get(p["practice"])
        human[p["practice"]] = {
            "practice": p["practice"],
            "name": p.get("name", p["practice"]),
            "machine": p.get("score"),
            "human": o["score"] if o else p.get("score"),
            "overridden": o is not None,
            "reason": o["reason"] if o else None,
        }
    findings = []
    current = report_findings(report)
    for key, f in current.items():
        v = verdicts.get(key)
        findings.append(
            {
                "key": key,
                **{k: f.get(k) for k in SNAPSHOT},
                "verdict": v["verdict"] if v else None,
                "reason": v["reason"] if v else None,
                "note": v["note"] if v else None,
            }
        )
    stale = [v for k, v in verdicts.items() if k not in current]
    return {
        "id": row.id,
        "call_id": row.call_id,
        "version": row.version,
        "versions": versions,
        "status": "published" if row.published_at else "draft",
        "evaluator": _who(row),
        "created_at": _iso(row.created_at),
        "published_at": _iso(row.published_at),
        "acknowledged_at": _iso(row.acknowledged_at),
        "rubric": row.rubric,
        "rubric_version": row.rubric_version,
        "note": row.note,
        "machine_overall": row.machine_overall,
        "human_overall": row.human_overall,
        "practices": list(human.values()),
        "findings": findings,
        "stale_verdicts": stale,
        "missed": items.get("missed", []),
        "disputes": [dispute_view(d) for d in disputes],
    }


def evaluation_summary(row: EvaluationRow | None) -> dict[str, Any] | None:
    """What the report and the CSV carry of an evaluation: version, status, who, when, both
    overall scores and the human practice scores."""
    if row is None:
        return None
    items = row.items or {}
    return {
        "version": row.version,
        "status": "published" if row.published_at else "draft",
        "evaluator": _who(row),
        "created_at": _iso(row.created_at),
        "published_at": _iso(row.published_at),
        "machine_overall": row.machine_overall,
        "human_overall": row.human_overall,
        "overrides": {s["practice"]: s["score"] for s in items.get("scores", [])},
        "rejected": sum(v["verdict"] == "reject" for v in items.get("findings", [])),
        "confirmed": sum(v["verdict"] == "confirm" for v in items.get("findings", [])),
        "missed": len(items.get("missed", [])),
    }


def visible_evaluation(store: Store, principal: Principal, call_id: str) -> EvaluationRow | None:
    """The version ``principal`` sees: the newest for staff, the newest published for agents."""
    return store.latest_evaluation(call_id, published_only=principal.role == "agent")


# ---------------------------------------------------------------------------- routes


@router.get("/api/v1/calls/{call_id}/evaluation", responses=NOT_FOUND)
def get_evaluation(
    request: Request,
    call_id: CallId,
    version: Annotated[int | None, Query(ge=1, description="A version (staff).")] = None,
    principal: Principal = Depends(authenticate),
) -> dict[str, Any]:
    """The call's evaluation beside the machine's scorecard: the newest version (agents: the
    newest published one, and only of their own calls)."""
    store = _store(request)
    _, report = _scored_call(request, principal, call_id)
    rows = store.evaluations(call_id)
    visible = [r for r in rows if principal.role != "agent" or r.published_at is not None]
    if version is not None:
        visible = [r for r in visible if r.version == version]
    if not visible:
        which = "" if version is None else f" version {version}"
        raise HTTPException(404, f"call {call_id!r} has no evaluation{which} to show")
    disputes = store.disputes(call_id=call_id)
    return evaluation_view(visible[-1], report, versions=len(rows), disputes=disputes)


@router.get("/api/v1/calls/{call_id}/evaluations", responses=NOT_FOUND)
def list_evaluations(
    request: Request,
    call_id: CallId,
    principal: Principal = Depends(require_roles(*STAFF_READ)),
) -> list[dict[str, Any]]:
    """Every version of the call's evaluation, oldest first (summaries)."""
    _call_or_404(request, principal, call_id)
    return [evaluation_summary(r) for r in _store(request).evaluations(call_id)]


@router.post(
    "/api/v1/calls/{call_id}/evaluation",
    status_code=201,
    responses={**NOT_FOUND, 409: {"description": "No scorecard yet", "model": ErrorBody}},
)
def save_evaluation(
    request: Request,
    call_id: CallId,
    body: EvaluationRequest,
    principal: Principal = Depends(require_roles(*EVALUATORS)),
) -> dict[str, Any]:
    """Save a new version of the call's evaluation (``publish``: and send it to the agent)."""
    store = _store(request)
    _, report = _scored_call(request, principal, call_id)
    items = build_items(body, report)
    rubric = request.app.state.pipeline.rubric_for(report.get("language") or "en")
    _, overall = human_scores(report, items, rubric.critical_cap)
    key = store.get_api_key(principal.key_id)
    card = report["scorecard"]
    row = store.add_evaluation(
        call_id,
        evaluator_key_id=principal.key_id,
        evaluator_role=principal.role,
        evaluator_name=key.name if key else None,
        items=items,
        note=body.note,
        rubric=card.get("rubric"),
        rubric_version=card.get("rubric_version"),
        machine_overall=card.get("overall"),
        human_overall=overall,
    )
    detail = (
        f"version {row.version}: {len(items['findings'])} verdict(s), "
        f"{len(items['missed'])} added, {len(items['scores'])} override(s)"
    )
    _audit(request, principal, "evaluation.save", call_id, detail)
    if body.publish:
        row = store.publish_evaluation(call_id)
        _audit(request, principal, "evaluation.publish", call_id, f"version {row.version}")
    return evaluation_view(
        row, report, versions=row.version, disputes=store.disputes(call_id=call_id)
    )


@router.post("/api/v1/calls/{call_id}/evaluation/publish", responses={**NOT_FOUND, **CONFLICT})
def publish_evaluation(
    request: Request,
    call_id: CallId,
    principal: Principal = Depends(require_roles(*EVALUATORS)),
) -> dict[str, Any]:
    """Publish the newest version: the agent sees it on their feedback page."""
    store = _store(request)
    _, report = _scored_call(request, principal, call_id)
    try:
        row = store.publish_evaluation(call_id)
    except KeyError as e:
        raise HTTPException(404, f"call {call_id!r} has no evaluation to publish") from e
    except ValueError as e:
        raise HTTPException(409, str(e)) from e
    _audit(request, principal, "evaluation.publish", call_id, f"version {row.version}")
    return evaluation_view(
        row, report, versions=row.version, disputes=store.disputes(call_id=call_id)
    )


def _agent_only(request: Request, principal: Principal, what: str) -> None:
    if principal.role != "agent":
        raise refuse(request, principal, what)


@router.post("/api/v1/calls/{call_id}/evaluation/acknowledge", responses={**NOT_FOUND, **CONFLICT})
def acknowledge_evaluation(
    request: Request, call_id: CallId, principal: Principal = Depends(authenticate)
) -> dict[str, Any]:
    """The agent acknowledges the newest published evaluation of their call."""
    _agent_only(request, principal, "acknowledge an agent's evaluation")
    store = _store(request)
    _, report = _scored_call(request, principal, call_id)
    row = store.latest_evaluation(call_id, published_only=True)
    if row is None:
        raise HTTPException(404, f"call {call_id!r} has no published evaluation")
    try:
        row = store.acknowledge_evaluation(row.id, principal.key_id)
    except ValueError as e:
        raise HTTPException(409, str(e)) from e
    _audit(request, principal, "evaluation.acknowledge", call_id, f"version {row.version}")
    return evaluation_view(
        row,
        report,
        versions=len(store.evaluations(call_id)),
        disputes=store.disputes(call_id=call_id),
    )


def _item_exists(row: EvaluationRow, report: dict[str, Any], item: str) -> bool:
    if item.startswith("missed#"):
        return any(m["key"] == item for m in (row.items or {}).get("missed", []))
    return item in report_findings(report)


@router.post(
    "/api/v1/calls/{call_id}/evaluation/disputes",
    status_code=201,
    responses={**NOT_FOUND, **CONFLICT},
)
def open_dispute(
    request: Request,
    call_id: CallId,
    body: DisputeRequest,
    principal: Principal = Depends(authenticate),
) -> dict[str, Any]:
    """The agent disputes one item (a finding, or one the evaluator added) of the newest
    published evaluation of their call, with a comment."""
    _agent_only(request, principal, "dispute an agent's evaluation")
    store = _store(request)
    call, report = _scored_call(request, principal, call_id)
    row = store.latest_evaluation(call_id, published_only=True)
    if row is None:
        raise HTTPException(404, f"call {call_id!r} has no published evaluation to dispute")
    if not _item_exists(row, report, body.item):
        raise HTTPException(422, f"item: the evaluation has no item {body.item!r}")
    try:
        d = store.add_dispute(row, call.agent_id, body.item, body.comment, principal.key_id)
    except ValueError as e:
        raise HTTPException(409, str(e)) from e
    _audit(request, principal, "dispute.open", call_id, f"dispute {d.id} of {body.item}")
    return dispute_view(d)


@router.get("/api/v1/disputes")
def list_disputes(
    request: Request,
    status: Literal["open", "upheld", "overturned"] | None = "open",
    agent_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    principal: Principal = Depends(require_roles(*STAFF_READ)),
) -> list[dict[str, Any]]:
    """The dispute queue (default: the open ones, oldest first), each with the item disputed as
    the evaluation judged it."""
    store = _store(request)
    out = []
    for d in store.disputes(status=status, agent_id=agent_id):
        view = dispute_view(d)
        row = store.get_evaluation(d.evaluation_id)
        view["version"] = row.version if row else None
        view["subject"] = _subject(store, row, d) if row else None
        out.append(view)
    return out


def _subject(store: Store, row: EvaluationRow, d: DisputeRow) -> dict[str, Any] | None:
    """The disputed item: the added finding, or the machine finding with the verdict on it."""
    items = row.items or {}
    if d.item.startswith("missed#"):
        return next((m for m in items.get("missed", []) if m["key"] == d.item), None)
    verdict = next((v for v in items.get("findings", []) if v["key"] == d.item), None)
    if verdict is not None:
        return verdict
    report = store.get_report_dict(d.call_id) or {}
    f = report_findings(report).get(d.item)
    if f is None:
        return None
    return {"key": d.item, "verdict": None, **{k: f.get(k) for k in SNAPSHOT}}


@router.post(
    "/api/v1/disputes/{dispute_id}/resolve",
    responses={404: {"description": "No such dispute", "model": ErrorBody}, **CONFLICT},
)
def resolve_dispute(
    request: Request,
    dispute_id: int,
    body: DisputeResolution,
    principal: Principal = Depends(require_roles(*EVALUATORS)),
) -> dict[str, Any]:
    """Resolve a dispute: ``upheld`` (the item stands) or ``overturned`` (a new published
    version rejects the disputed machine finding, or drops the disputed added one)."""
    store = _store(request)
    d = store.get_dispute(dispute_id)
    if d is None:
        raise HTTPException(404, f"no dispute with id {dispute_id}")
    if d.status != "open":
        raise HTTPException(409, f"dispute {dispute_id} is {d.status} already")
    version = None
    if body.outcome == "overturned":
        version = _overturn(request, principal, d, body.note)
    try:
        d = store.resolve_dispute(dispute_id, body.outcome, body.note, principal.key_id)
    except ValueError as e:
        raise HTTPException(409, str(e)) from e
    extra = f"; version {version} published" if version else ""
    _audit(request, principal, "dispute.resolve", d.call_id, f"dispute {d.id} {d.status}{extra}")
    return dispute_view(d) | {"version": version}


def _overturn(request: Request, principal: Principal, d: DisputeRow, note: str) -> int:
    """Write and publish the version that follows an overturned dispute; its number."""
    store = _store(request)
    base = store.latest_evaluation(d.call_id, published_only=True)
    report = store.get_report_dict(d.call_id)
    if base is None or report is None:
        raise HTTPException(409, f"call {d.call_id!r} has no published evaluation any more")
    items = json.loads(json.dumps(base.items or {}))
    why = f"dispute {d.id} overturned: {note}"
    if d.item.startswith("missed#"):
        items["missed"] = [m for m in items.get("missed", []) if m["key"] != d.item]
    else:
        findings = [v for v in items.get("findings", []) if v["key"] != d.item]
        f = report_findings(report).get(d.item)
        if f is None:
            raise HTTPException(409, f"the report no longer has finding {d.item}")
        snap = {k: f.get(k) for k in SNAPSHOT}
        snap["context"] = customer_context(report, snap["turn_index"], snap["start"])
        findings.append({"key": d.item, "verdict": "reject", "reason": "other", "note": why} | snap)
        items["findings"] = findings
    rubric = request.app.state.pipeline.rubric_for(report.get("language") or "en")
    _, overall = human_scores(report, items, rubric.critical_cap)
    key = store.get_api_key(principal.key_id)
    row = store.add_evaluation(
        d.call_id,
        evaluator_key_id=principal.key_id,
        evaluator_role=principal.role,
        evaluator_name=key.name if key else None,
        items=items,
        note=base.note,
        rubric=base.rubric,
        rubric_version=base.rubric_version,
        machine_overall=base.machine_overall,
        human_overall=overall,
    )
    store.publish_evaluation(d.call_id)
    return row.version


@router.get(
    "/api/v1/evaluations/labels.jsonl",
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def export_labels(
    request: Request,
    verdict: Annotated[
        list[Literal["confirmed", "rejected", "missed"]] | None,
        Query(description="Only these verdicts (repeat); default: all three."),
    ] = None,
    principal: Principal = Depends(require_roles(*EVALUATORS)),
) -> StreamingResponse:
    """The judged findings of the newest published evaluation of every call, one JSON object a
    line (``bench/field_labels.py`` reads them): quote, language, practice, kind, the rule that
    fired (rubric, version, phrase), the verdict (``confirmed``, ``rejected``, ``missed``), the
    reason and note, who judged and when."""
    store = _store(request)
    records = store.field_labels(verdicts=tuple(verdict) if verdict else None)
    _audit(request, principal, "labels.export", "evaluations", f"{len(records)} label(s)")

    def lines() -> Iterator[str]:
        for r in records:
            yield json.dumps(r, ensure_ascii=False) + "\n"

    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="calmline-labels.jsonl"'},
    )
