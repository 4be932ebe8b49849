"""Calibration sessions: several evaluators score one call independently, then agreement.

The agreement statistics against published worked examples; one real ``calmline serve`` (the
analysed call of ``tests/test_evaluations.py``'s ``site``) for a calibration with two
evaluators through the HTTP API (independence before the close, known answers and the figures
they must give, the pooled agreement endpoint, roles and the audit log); the store's calibration
methods on SQLite and PostgreSQL; and the calibration page in a headless Chromium.
"""

# ruff: noqa: F811  (the fixtures of tests/test_evaluations.py are imported by name)
from __future__ import annotations

import json

import pytest

from calmline.api.calibration import WITHIN, cohen_kappa, fleiss_kappa, percent_agreement
from tests.test_evaluations import (  # noqa: F401  (fixtures and helpers reused)
    ARTIFACTS,
    CALL,
    Site,
    _audit,
    _catalog,
    _findings,
    _shot,
    _signed_in,
    site,
)

# ---------------------------------------------------------------------------- the statistics


def test_fleiss_kappa_on_the_worked_example():
    """Fleiss (1971) as worked in Wikipedia's "Fleiss' kappa": 10 subjects, 14 raters, 5
    categories, kappa 0.210."""
    table = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]  # fmt: skip
    items = [[str(c) for c, n in enumerate(row) for _ in range(n)] for row in table]
    assert fleiss_kappa(items) == pytest.approx(0.210, abs=0.0005)
    assert fleiss_kappa([["a", "a"], ["a", "a"]]) is None  # chance agreement is 1: undefined
    assert fleiss_kappa([["a"]]) is None  # one rater is no agreement at all


def test_cohen_kappa_on_the_worked_example():
    """Wikipedia's "Cohen's kappa" example: 50 proposals, yes/yes 20, yes/no 5, no/yes 10,
    no/no 15: kappa 0.4; with two raters it equals Fleiss' up to the marginals' pooling."""
    pairs = [("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15
    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert percent_agreement([list(p) for p in pairs]) == pytest.approx(35 / 50)
    assert cohen_kappa(["y"] * 3, ["y"] * 3) is None
    assert cohen_kappa([], []) is None


# ---------------------------------------------------------------------------- through the API


def _key_id(site: Site, role: str) -> str:
    return site.ok(role, "GET", "/api/v1/me")["key_id"]


@pytest.fixture(scope="module")
def panel(site) -> Site:
    """A second QA lead, Mei, beside the module's Lin."""
    site.keys["qa2"] = site.server.store.create_api_key("qa_lead", None, "Mei QA").key
    return site


def _answer(findings: dict[str, str], scores: dict[str, float], note: str, submit: bool) -> dict:
    return {
        "findings": [
            {"finding": k, "verdict": v, "reason": "wrong_rule" if v == "reject" else None}
            for k, v in findings.items()
        ],
        "scores": [{"practice": p, "score": s, "reason": "heard it"} for p, s in scores.items()],
        "note": note,
        "submit": submit,
    }


def test_calibration_with_two_evaluators(panel):
    site = panel
    report = site.ok("qa", "GET", f"/api/v1/calls/{CALL}/report")
    keys = [k for k, _, _ in _findings(report)]
    assert len(keys) >= 2
    practices = [p for p in report["scorecard"]["practices"] if p["score"] is not None]
    p1, p2 = practices[0], practices[1]
    lin, mei = _key_id(site, "qa"), _key_id(site, "qa2")
    start = f"/api/v1/calls/{CALL}/calibrations"

    # who may start, and whom they may name
    body = {"evaluators": [lin, mei], "note": "week 49"}
    assert site.req("supervisor", "POST", start, json=body).status_code == 403
    supervisor = _key_id(site, "supervisor")
    bad = site.req("qa", "POST", start, json={"evaluators": [lin, supervisor]})
    assert bad.status_code == 422 and supervisor in bad.json()["detail"]
    assert site.req("qa", "POST", start, json={"evaluators": [lin]}).status_code == 422
    assert site.req("qa", "POST", start, json={"evaluators": [lin, lin]}).status_code == 422
    names = {
        e["key_id"]: e["name"] for e in site.ok("qa", "GET", "/api/v1/calibrations/evaluators")
    }
    assert names[lin] == "Lin QA" and names[mei] == "Mei QA" and supervisor not in names

    cal = site.ok("qa", "POST", start, 201, json=body)
    path = f"/api/v1/calibrations/{cal['id']}"
    assert cal["status"] == "open" and [e["key_id"] for e in cal["evaluators"]] == [lin, mei]
    assert [f["key"] for f in cal["findings"]] == keys

    # Lin answers and submits; Mei, the admin and the supervisor see that, never what
    lin_answer = _answer(
        {keys[0]: "reject", keys[1]: "confirm"}, {p1["practice"]: 50}, "LIN-SECRET", True
    )
    assert site.req("admin", "PUT", f"{path}/answer", json=lin_answer).status_code == 403
    mine = site.ok("qa", "PUT", f"{path}/answer", json=lin_answer)
    assert mine["you"]["submitted"] and mine["you"]["answer"]["note"] == "LIN-SECRET"
    assert site.req("qa", "PUT", f"{path}/answer", json=lin_answer).status_code == 409
    for role in ("qa2", "admin", "supervisor"):
        r = site.req(role, "GET", path)
        assert r.status_code == 200 and "LIN-SECRET" not in r.text
        assert "answers" not in r.json() and "agreement" not in r.json()
        assert [e["submitted"] for e in r.json()["evaluators"]] == [True, False]
    assert "LIN-SECRET" not in site.req("qa2", "GET", "/api/v1/calibrations").text
    pooled = site.ok("qa2", "GET", "/api/v1/calibrations/agreement")
    assert pooled["calibrations"] == 0 and "LIN-SECRET" not in str(pooled)

    # Mei saves a draft, changes it, submits; only the starter (or an admin) closes
    draft = _answer({keys[0]: "confirm"}, {}, "first look", False)
    assert not site.ok("qa2", "PUT", f"{path}/answer", json=draft)["you"]["submitted"]
    mei_answer = _answer({keys[0]: "reject", keys[1]: "reject"}, {p1["practice"]: 65}, "MEI", True)
    site.ok("qa2", "PUT", f"{path}/answer", json=mei_answer)
    assert site.req("qa2", "POST", f"{path}/close").status_code == 403
    closed = site.ok("qa", "POST", f"{path}/close")
    assert closed["status"] == "closed"
    assert site.req("qa", "POST", f"{path}/close").status_code == 409
    assert site.req("qa2", "PUT", f"{path}/answer", json=mei_answer).status_code == 409

    # after the close everyone on the staff sees both answers and the agreement
    seen = site.ok("supervisor", "GET", path)
    assert [a["note"] for a in seen["answers"]] == ["LIN-SECRET", "MEI"]
    ag = seen["agreement"]
    by_practice = {p["practice"]: p for p in ag["practices"]}
    one = by_practice[p1["practice"]]["scores"]
    assert one["evaluators"] == {"pairs": 1, "mean_abs_diff": 15.0, "within": 0.0}
    m1 = p1["score"]
    expected = [abs(50 - m1), abs(65 - m1)]
    assert one["machine"]["mean_abs_diff"] == pytest.approx(sum(expected) / 2, abs=0.01)
    assert one["machine"]["within"] == sum(d <= WITHIN for d in expected) / 2
    untouched = by_practice[p2["practice"]]["scores"]  # neither overrode it: the machine's
    assert untouched["evaluators"]["mean_abs_diff"] == 0 and untouched["machine"]["within"] == 1

    # verdicts: a finding not judged stands (confirmed) for both
    n = len(keys)
    lin_v = ["reject", "confirm"] + ["confirm"] * (n - 2)
    mei_v = ["reject", "reject"] + ["confirm"] * (n - 2)
    overall = ag["overall"]["findings"]
    assert overall["items"] == n
    assert overall["percent_agreement"] == pytest.approx((n - 1) / n, abs=0.001)
    assert overall["cohen_kappa"] == pytest.approx(cohen_kappa(lin_v, mei_v), abs=0.001)
    assert overall["fleiss_kappa"] == pytest.approx(
        fleiss_kappa([list(v) for v in zip(lin_v, mei_v, strict=True)]), abs=0.001
    )
    assert overall["machine_confirmed"] == pytest.approx((2 * n - 3) / (2 * n), abs=0.001)
    lin_overall, mei_overall = (a["human_overall"] for a in seen["answers"])
    assert ag["overall"]["scores"]["evaluators"]["mean_abs_diff"] == pytest.approx(
        abs(lin_overall - mei_overall), abs=0.01
    )

    # a second calibration: Mei and the admin both accept the machine's scorecard as it is
    admin = _key_id(site, "admin")
    second = site.ok("qa", "POST", start, 201, json={"evaluators": [mei, admin]})
    for role in ("qa2", "admin"):
        site.ok(role, "PUT", f"/api/v1/calibrations/{second['id']}/answer", json={"submit": True})
    assert site.req("qa2", "POST", f"/api/v1/calibrations/{second['id']}/close").status_code == 403
    site.ok("admin", "POST", f"/api/v1/calibrations/{second['id']}/close")

    pooled = site.ok("supervisor", "GET", "/api/v1/calibrations/agreement")
    assert pooled["calibrations"] == 2
    pooled_p1 = {p["practice"]: p for p in pooled["practices"]}[p1["practice"]]["scores"]
    assert pooled_p1["evaluators"] == {"pairs": 2, "mean_abs_diff": 7.5, "within": 0.5}
    items = [list(v) for v in zip(lin_v, mei_v, strict=True)] + [["confirm"] * 2] * n
    assert pooled["overall"]["findings"]["fleiss_kappa"] == pytest.approx(
        fleiss_kappa(items), abs=0.001
    )
    assert pooled["overall"]["findings"]["cohen_kappa"] is None  # not defined across sessions
    people = {e["key_id"]: e for e in pooled["evaluators"]}
    assert people[mei]["calibrations"] == 2 and people[lin]["calibrations"] == 1
    # Mei's practice-score distances from the others: 15 on p1 and 0 elsewhere, twice over
    practice_count = len([p for p in report["scorecard"]["practices"] if p["score"] is not None])
    mei_others = [15.0] + [0.0] * (2 * practice_count - 1)
    assert people[mei]["vs_evaluators"]["mean_abs_diff"] == pytest.approx(
        sum(mei_others) / len(mei_others), abs=0.01
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"calibration-agreement-{site.backend}.json").write_text(
        json.dumps({"session": ag, "pooled": pooled}, ensure_ascii=False, indent=1), "utf-8"
    )  # the figures, as evidence
    assert site.req("a1", "GET", "/api/v1/calibrations/agreement").status_code == 403
    assert site.req("a1", "GET", path).status_code == 403

    # lists: open and closed, the caller's own
    assert {
        c["id"] for c in site.ok("qa2", "GET", "/api/v1/calibrations", params={"mine": True})
    } >= {
        cal["id"],
        second["id"],
    }
    assert site.ok("qa", "GET", "/api/v1/calibrations", params={"status": "open"}) == []

    log = [e for e in _audit(site) if e["target"] == CALL and e["action"].startswith("calib")]
    got = {(e["action"], e["key_id"]) for e in log}
    for expected_entry in (
        ("calibration.start", lin),
        ("calibration.submit", lin),
        ("calibration.save", mei),
        ("calibration.submit", mei),
        ("calibration.close", lin),
        ("calibration.close", admin),
    ):
        assert expected_entry in got, (expected_entry, got)


def test_percent_agreement_counts_pairs():
    # three raters on one item, two agree: one pair of three agrees
    assert percent_agreement([["a", "a", "b"]]) == pytest.approx(1 / 3)
    assert percent_agreement([["a"]]) is None


# ---------------------------------------------------------------------------- store, both backends


def test_store_calibrations_round_trip(store):
    store.create_call("c1", "a1", "upload", language="zh")
    with pytest.raises(KeyError):
        store.create_calibration(
            "nope", created_by="k", evaluators=[("k1", None, "qa_lead"), ("k2", None, "admin")]
        )
    with pytest.raises(ValueError, match="named twice"):
        store.create_calibration("c1", created_by="k", evaluators=[("k1", None, "qa_lead")] * 2)
    with pytest.raises(ValueError, match="two evaluators"):
        store.create_calibration("c1", created_by="k", evaluators=[("k1", None, "qa_lead")])
    card = {"practices": [{"practice": "acknowledge", "score": 70.0, "findings": []}]}
    cal = store.create_calibration(
        "c1",
        created_by="k1",
        evaluators=[("k1", "Lin", "qa_lead"), ("k2", "Mei", "admin")],
        scorecard=card,
        machine_overall=70.0,
    )
    assert [a.key_id for a in cal.answers] == ["k1", "k2"] and not cal.closed
    assert store.get_calibration(cal.row.id).row.scorecard == card
    with pytest.raises(PermissionError):
        store.save_calibration_answer(cal.row.id, "k3", items={})
    items = {"findings": [], "missed": [], "scores": [{"practice": "acknowledge", "score": 40}]}
    saved = store.save_calibration_answer(
        cal.row.id, "k1", items=items, note="中文备注", submit=True
    )
    assert saved.answer_of("k1").submitted_at is not None and saved.answer_of("k1").items == items
    with pytest.raises(ValueError, match="submitted"):
        store.save_calibration_answer(cal.row.id, "k1", items={})
    assert [c.row.id for c in store.calibrations(key_id="k2", closed=False)] == [cal.row.id]
    assert store.calibrations(key_id="k9") == []
    closed = store.close_calibration(cal.row.id, "k1")
    assert closed.closed and closed.row.closed_by == "k1"
    with pytest.raises(ValueError, match="closed"):
        store.save_calibration_answer(cal.row.id, "k2", items={})
    with pytest.raises(ValueError, match="closed already"):
        store.close_calibration(cal.row.id, "k1")
    assert [c.row.id for c in store.calibrations(closed=True, call_id="c1")] == [cal.row.id]
    store.delete_call("c1")
    assert store.get_calibration(cal.row.id) is None and store.calibrations() == []


# ---------------------------------------------------------------------------- the page


def test_calibration_page_answer_close_and_agreement(panel, browser):
    site = panel
    lin, mei = _key_id(site, "qa"), _key_id(site, "qa2")
    report = site.ok("qa", "GET", f"/api/v1/calls/{CALL}/report")
    practice = next(p for p in report["scorecard"]["practices"] if p["score"] is not None)
    cal = site.ok(
        "qa", "POST", f"/api/v1/calls/{CALL}/calibrations", 201, json={"evaluators": [lin, mei]}
    )
    path = f"/api/v1/calibrations/{cal['id']}"
    site.ok("qa2", "PUT", f"{path}/answer", json={"submit": True})
    errors: list[str] = []
    context, page = _signed_in(browser, site, "qa", errors, "zh-CN")  # a Chinese QA team
    try:
        page.goto(f"{site.server.base_url}/calibration/{cal['id']}")
        form = page.locator("[data-testid=calibration-answer]")
        form.locator(f'tr[data-ev-practice="{practice["practice"]}"] input').first.fill("12")
        form.locator(f'tr[data-ev-practice="{practice["practice"]}"] input').nth(1).fill("why")
        form.locator("[data-testid=submit-answer]").click()
        page.locator("[data-testid=answer-submitted]").wait_for()
        page.locator("[data-testid=close-calibration]").click()
        table = page.locator("[data-testid=agreement]")
        table.wait_for()
        row = table.locator(f'tr[data-practice="{practice["practice"]}"]')
        diff = abs(12 - practice["score"])  # Mei kept the machine's score
        assert float(row.get_attribute("data-mad")) == pytest.approx(diff, abs=0.01)
        assert page.get_attribute("html", "lang") == "zh-CN"
        ui, main = _catalog(page), page.locator("main").inner_text()
        assert ui["cal.answers"] in main and ui["cal.ev_diff"] in main and "null" not in main
        _shot(page, f"calibration-closed-zh-{site.backend}", page.locator("main"))
    finally:
        context.close()
    seen = site.ok("qa", "GET", path)
    assert seen["status"] == "closed" and seen["you"]["submitted"]
    (lin_answer,) = [a for a in seen["answers"] if a["key_id"] == lin]
    assert lin_answer["scores"] == [
        {
            "practice": practice["practice"],
            "score": 12.0,
            "reason": "why",
            "machine": practice["score"],
        }
    ]
    assert not errors, errors
