"""Trends by ISO week per agent and per team, recurring findings, de-escalation rate, agents
compared, and the charts on the trends and feedback pages.

The analysed call of ``tests/test_evaluations.py``'s ``site`` gives a real report; copies of it
are stored as calls of known agents in known weeks (``started_at``), with known scores, customer
trajectories and faults, so every figure has an expected value computed here from that table.
The store part runs on SQLite and PostgreSQL; the pages in a headless Chromium.
"""

# ruff: noqa: F811  (the fixtures of tests/test_evaluations.py are imported by name)
from __future__ import annotations

import copy
from datetime import datetime, timedelta
from statistics import mean

import pytest

from calmline.monitor.report import report_from_dict
from tests.test_evaluations import (  # noqa: F401  (fixtures and helpers reused)
    CALL,
    _shot,
    _signed_in,
    site,
)

W = [datetime.fromisocalendar(2026, n, 1) for n in (10, 11, 12, 13)]
"""Mondays of four ISO weeks, long before the sample call: outside the default 12-week window."""

# agent, week index, overall, customer trajectory, faults (let_finish interruptions, repeated acks)
TABLE = [
    ("t1", 0, 60.0, "de-escalated", (2, 0)),
    ("t1", 0, 80.0, "steady", (0, 1)),
    ("t1", 1, 90.0, "escalated", (1, 0)),
    ("t1", 3, 50.0, "insufficient", (3, 1)),
    ("t2", 0, 40.0, "de-escalated", (0, 0)),
    ("t2", 1, 90.0, "de-escalated", (1, 0)),
    ("t3", 2, 30.0, "escalated", (0, 2)),
]
TEAMS = {"t1": "north", "t2": "north", "t3": "south"}
FAULTS = ("minor", "major", "critical")


def _variant(base: dict, overall: float, trajectory: str, faults: tuple[int, int]) -> dict:
    """The base report with every scored practice at ``overall`` (``clear_speech`` at 100 minus
    it), the customer's trajectory, and only the given faults."""
    body = copy.deepcopy(base)
    card = body["scorecard"]
    card["overall"] = card["uncapped"] = overall
    card["capped_by"] = []
    card["stress"]["result"] = trajectory
    templates = {}
    for p in card["practices"]:
        for f in p["findings"]:
            if f["severity"] in FAULTS:
                templates[f["practice"]] = f
        p["findings"] = [f for f in p["findings"] if f["severity"] not in FAULTS]
        if p["score"] is not None:
            p["score"] = 100.0 - overall if p["practice"] == "clear_speech" else overall
    interrupt, repeated = templates["let_finish"], templates["acknowledge"]
    by_id = {p["practice"]: p for p in card["practices"]}
    by_id["let_finish"]["findings"] += [dict(interrupt) for _ in range(faults[0])]
    by_id["acknowledge"]["findings"] += [dict(repeated) for _ in range(faults[1])]
    return body


def _seed(store, base: dict, prefix: str) -> None:
    for n, (agent, week, overall, trajectory, faults) in enumerate(TABLE):
        call_id = f"{prefix}-{n}"
        store.create_call(call_id, agent, "upload", started_at=W[week] + timedelta(hours=9 + n))
        body = _variant(base, overall, trajectory, faults)
        body["call_id"] = call_id
        store.save_report(call_id, report_from_dict(body))


def _expected(agents: set[str]) -> dict:
    """The figures of ``agents`` computed from TABLE."""
    rows = [r for r in TABLE if r[0] in agents]
    weeks = sorted({r[1] for r in rows})
    span = range(weeks[0], weeks[-1] + 1)
    counts = {k: sum(r[3] == k for r in rows) for k in ("de-escalated", "steady", "escalated")}
    return {
        "weeks": [W[i].strftime("%G-W%V") for i in span],
        "calls": [sum(r[1] == i for r in rows) for i in span],
        "overall": [
            round(mean([r[2] for r in rows if r[1] == i]), 2) if i in weeks else None for i in span
        ],
        "rate": round(counts["de-escalated"] / sum(counts.values()), 3),
        "interrupt_calls": sum(r[4][0] > 0 for r in rows),
        "interrupt_findings": sum(r[4][0] for r in rows),
        "repeat_calls": sum(r[4][1] > 0 for r in rows),
        "mean": round(mean(r[2] for r in rows), 2),
    }


def _check(trend: dict, agents: set[str]) -> None:
    exp = _expected(agents)
    assert [w["week"] for w in trend["weeks"]] == exp["weeks"]
    assert [w["calls"] for w in trend["weeks"]] == exp["calls"]
    assert [w["mean_overall"] for w in trend["weeks"]] == exp["overall"]
    assert [w["practices"].get("clear_speech") for w in trend["weeks"]] == [
        None if x is None else round(100 - x, 2) for x in exp["overall"]
    ]
    assert trend["mean_overall"] == exp["mean"] and trend["deescalation_rate"] == exp["rate"]
    found = {(f["practice"], f["kind"]): f for f in trend["recurring_findings"]}
    interrupt = found[("let_finish", "interruption")]
    assert (interrupt["calls"], interrupt["findings"]) == (
        exp["interrupt_calls"],
        exp["interrupt_findings"],
    )
    assert interrupt["share_of_calls"] == round(exp["interrupt_calls"] / trend["calls"], 3)
    assert found[("acknowledge", "repeated_ack")]["calls"] == exp["repeat_calls"]
    calls = [f["calls"] for f in trend["recurring_findings"]]
    assert calls == sorted(calls, reverse=True)
    assert all(f["kind"] not in ("ack_phrase", "interruption_summary") for f in found.values())


@pytest.fixture(scope="module")
def seeded(site):
    base = site.server.store.get_report_dict(CALL)
    _seed(site.server.store, base, "trend")
    return site


def test_trends_by_week_per_agent_and_team(seeded):
    site = seeded
    window = {"since": W[0].isoformat(), "until": (W[3] + timedelta(days=7)).isoformat()}
    assert (
        site.req("a1", "PUT", "/api/v1/agents/t1/team", json={"team": "north"}).status_code == 403
    )
    for agent, team in TEAMS.items():
        r = site.ok("supervisor", "PUT", f"/api/v1/agents/{agent}/team", json={"team": team})
        assert r == {"agent_id": agent, "name": None, "team": team}
    teams = site.ok("qa", "GET", "/api/v1/teams")
    assert teams == [{"team": "north", "agents": ["t1", "t2"]}, {"team": "south", "agents": ["t3"]}]

    one = site.ok("qa", "GET", "/api/v1/trends", params={"agent_id": "t1", **window})
    assert one["scope"] == {"agent_id": "t1"} and one["weeks"][2]["calls"] == 0  # a gap week
    _check(one, {"t1"})
    north = site.ok("supervisor", "GET", "/api/v1/trends", params={"team": "north", **window})
    _check(north, {"t1", "t2"})
    everyone = site.ok("admin", "GET", "/api/v1/trends", params=window)
    _check(everyone, {"t1", "t2", "t3"})
    # the default window is the last 12 weeks: these calls are older
    assert site.ok("qa", "GET", "/api/v1/trends", params={"agent_id": "t1"})["calls"] == 0
    assert site.req("qa", "GET", "/api/v1/trends", params={"team": "west"}).status_code == 404

    compared = site.ok(
        "supervisor", "GET", "/api/v1/trends/agents", params={"team": "north", **window}
    )
    rows = {a["agent_id"]: a for a in compared["agents"]}
    assert [a["agent_id"] for a in compared["agents"]] == sorted(
        rows, key=lambda a: -_expected({a})["mean"]
    )
    for agent in ("t1", "t2"):
        exp = _expected({agent})
        assert rows[agent]["mean_overall"] == exp["mean"]
        assert rows[agent]["deescalation_rate"] == exp["rate"]
        assert [w["mean_overall"] for w in rows[agent]["weeks"]] == exp["overall"]
    assert rows["t1"]["top_finding"]["kind"] == "interruption"

    # an agent sees their own trend only
    t1 = site.server.key("agent", "t1")
    with site.server.client(t1) as c:
        own = c.get("/api/v1/trends", params=window).json()
        assert own["scope"] == {"agent_id": "t1"} and own["calls"] == 4
        assert c.get("/api/v1/trends", params={"agent_id": "t2"}).status_code == 403
        assert c.get("/api/v1/trends", params={"team": "north"}).status_code == 403
        assert c.get("/api/v1/trends/agents").status_code == 403
        assert c.get("/api/v1/teams").status_code == 403
    log = site.ok("admin", "GET", "/api/v1/audit", params={"limit": 1000})
    assert {e["target"] for e in log if e["action"] == "agent.team"} == set(TEAMS)


def test_store_trends_and_teams(site, store):
    base = site.server.store.get_report_dict(CALL)
    _seed(store, base, "s")
    for agent, team in TEAMS.items():
        store.set_agent_team(agent, team)
    assert [a.id for a in store.agents("north")] == ["t1", "t2"]
    north = store.trends(["t1", "t2"], since=W[0], until=W[3] + timedelta(days=7))
    _check(north, {"t1", "t2"})
    assert store.trends([])["calls"] == 0 and store.trends([])["weeks"] == []
    late = store.trends(["t1"], since=W[1])  # from the second week on
    assert [w["week"] for w in late["weeks"]] == _expected({"t1"})["weeks"][1:]
    store.set_agent_team("t3", None)
    assert [a.id for a in store.agents("south")] == []


def test_trends_page_and_agent_feedback_trend(seeded, browser):
    site = seeded
    for agent, team in TEAMS.items():
        site.server.store.set_agent_team(agent, team)
    errors: list[str] = []
    context, page = _signed_in(browser, site, "supervisor", errors)
    try:
        page.goto(f"{site.server.base_url}/trends?team=north&weeks=520")
        chart = page.locator("svg[data-testid=trend-chart]")
        chart.wait_for()
        exp = _expected({"t1", "t2"})
        assert chart.get_attribute("data-weeks") == str(len(exp["weeks"]))
        points = chart.locator("g[data-series=overall] circle")
        assert points.count() == sum(x is not None for x in exp["overall"])
        values = [float(points.nth(i).get_attribute("data-value")) for i in range(points.count())]
        assert values == [x for x in exp["overall"] if x is not None]
        measured = {r[1] for r in TABLE if r[0] in ("t1", "t2") and r[3] != "insufficient"}
        assert page.locator("svg[data-testid=rate-chart] rect.tc-bar").count() == len(measured)
        page.locator("[data-testid=recurring] tr[data-kind=interruption]").wait_for()
        page.locator("#team-panel:not([hidden])").wait_for()  # shown once the comparison is in
        rows = page.locator("[data-testid=compare] tbody tr")
        assert rows.count() == 2
        _shot(page, "trends-team", page.locator("main"))
    finally:
        context.close()
    context, page = _signed_in(browser, site, "a1", errors)
    try:
        page.goto(f"{site.server.base_url}/feedback")
        block = page.locator("[data-testid=agent-trend]")
        block.locator("svg[data-testid=trend-chart]").wait_for()
        assert block.get_attribute("data-calls") == "1"  # the sample call, this week
        assert block.locator("g[data-series=overall] circle").count() == 1
        _shot(page, "feedback-trend", block)
    finally:
        context.close()
    assert not errors, errors
