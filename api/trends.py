"""Trends of agents and teams: practice scores by ISO week, the faults that recur, the
customers' de-escalation rate, and agents side by side for a supervisor.

A team is a property of the agent (``agents.team``), set with ``PUT /api/v1/agents/{id}/team``
by an admin, a QA lead or a supervisor. The figures come from the machine's scores of scored
calls (``status = done``), by the week the call started (``started_at``, else when it was
stored), in UTC. The de-escalation rate is the share of calls whose customer ended calmer than
they began among those whose trajectory could be measured
(:func:`calmline.monitor.store.deescalation_rate`). Recurring findings are faults (minor, major
or critical findings) counted by practice and kind, most calls first.

An agent key sees only its own agent's trend; staff see any agent's, a team's or everyone's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam

from calmline.api.auth import (
    STAFF,
    Principal,
    authenticate,
    check_agent_access,
    refuse,
    require_roles,
)
from calmline.api.routes import ID_PATTERN
from calmline.api.schemas import AgentTeam
from calmline.monitor.store import Store, utcnow

router = APIRouter(tags=["trends"])

AgentId = Annotated[str, PathParam(pattern=ID_PATTERN, description="The agent id.")]
TEAM = r"^[^\x00-\x1f]{1,128}$"
DEFAULT_WEEKS = 12
"""Without ``since``, trends cover the last 12 weeks: a quarter, long enough to see a change
after coaching, short enough that one chart stays readable."""


def _store(request: Request) -> Store:
    return request.app.state.store


def _since(since: datetime | None, until: datetime | None, weeks: int) -> datetime:
    end = until or utcnow()
    return since if since is not None else end - timedelta(weeks=weeks)


def _team_agents(store: Store, team: str) -> list[str]:
    agents = [a.id for a in store.agents(team)]
    if not agents:
        raise HTTPException(404, f"no team {team!r} (no agent is in it)")
    return agents


@router.get("/api/v1/trends")
def trends(
    request: Request,
    agent_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    team: Annotated[str | None, Query(pattern=TEAM)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    weeks: Annotated[int, Query(ge=1, le=520, description="Weeks back without since.")] = (
        DEFAULT_WEEKS
    ),
    top: Annotated[int, Query(ge=1, le=100)] = 10,
    principal: Principal = Depends(authenticate),
) -> dict[str, Any]:
    """Weekly trend of one agent (``agent_id``), a team (``team``) or every agent (neither):
    calls, mean overall and per-practice scores, customers' trajectories and de-escalation rate
    per week, and the recurring findings. Agents: their own only (``agent_id`` may be left
    out)."""
    store = _store(request)
    if agent_id and team:
        raise HTTPException(422, "give agent_id or team, not both")
    if principal.role == "agent":
        if team is not None:
            raise refuse(request, principal, "see a team's trend")
        agent_id = agent_id or principal.agent_id
    if agent_id is not None:
        check_agent_access(request, principal, agent_id)
        agents: list[str] | None = [agent_id]
        scope = {"agent_id": agent_id}
    elif team is not None:
        agents = _team_agents(store, team)
        scope = {"team": team, "agents": agents}
    else:
        agents, scope = None, {"all": True}
    start = _since(since, until, weeks)
    body = store.trends(agents, since=start, until=until, top=top)
    return {"scope": scope, "since": start.isoformat(), "until": _iso(until), **body}


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


@router.get("/api/v1/trends/agents")
def compare_agents(
    request: Request,
    team: Annotated[str | None, Query(pattern=TEAM)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    weeks: Annotated[int, Query(ge=1, le=520)] = DEFAULT_WEEKS,
    principal: Principal = Depends(require_roles(*STAFF)),
) -> dict[str, Any]:
    """Agents side by side (of ``team``, or every agent with scored calls): calls, mean overall
    and per-practice scores, de-escalation rate, the most recurring finding and each agent's
    weekly mean overall (for a small chart), best mean overall first."""
    store = _store(request)
    start = _since(since, until, weeks)
    rows = store.agents(team) if team is not None else store.agents()
    if team is not None and not rows:
        raise HTTPException(404, f"no team {team!r} (no agent is in it)")
    out = []
    for a in rows:
        t = store.trends([a.id], since=start, until=until, top=1)
        if not t["calls"] and team is None:
            continue
        out.append(
            {
                "agent_id": a.id,
                "name": a.name,
                "team": a.team,
                "calls": t["calls"],
                "mean_overall": t["mean_overall"],
                "practices": t["practices"],
                "deescalation_rate": t["deescalation_rate"],
                "top_finding": t["recurring_findings"][0] if t["recurring_findings"] else None,
                "weeks": [
                    {"week": w["week"], "mean_overall": w["mean_overall"]} for w in t["weeks"]
                ],
            }
        )
    out.sort(key=lambda r: (r["mean_overall"] is None, -(r["mean_overall"] or 0), r["agent_id"]))
    return {"team": team, "since": start.isoformat(), "until": _iso(until), "agents": out}


@router.get("/api/v1/teams")
def teams(
    request: Request, principal: Principal = Depends(require_roles(*STAFF))
) -> list[dict[str, Any]]:
    """Teams and their agents (agents in no team are left out)."""
    out: dict[str, list[str]] = {}
    for a in _store(request).agents():
        if a.team:
            out.setdefault(a.team, []).append(a.id)
    return [{"team": t, "agents": agents} for t, agents in sorted(out.items())]


@router.put("/api/v1/agents/{agent_id}/team")
def set_team(
    request: Request,
    agent_id: AgentId,
    body: AgentTeam,
    principal: Principal = Depends(require_roles(*STAFF)),
) -> dict[str, Any]:
    """Put the agent in a team (``null``: in none)."""
    store = _store(request)
    row = store.set_agent_team(agent_id, body.team)
    store.audit(
        "agent.team",
        "ok",
        key_id=principal.key_id,
        role=principal.role,
        target=agent_id,
        detail=f"team {body.team!r}",
    )
    return {"agent_id": row.id, "name": row.name, "team": row.team}
