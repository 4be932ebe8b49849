"""QA evaluations, acknowledgements, disputes and field labels.

One real ``calmline serve`` for the module, on SQLite and then on a real PostgreSQL, with one
analysed call of agent a1: the whole loop through the HTTP API (reject a finding with a reason,
override a score, add a missed finding, publish, the agent acknowledges and disputes, the QA lead
resolves), the role rules, the audit log, the CSV and the labels (API, CLI,
``bench/field_labels.py`` and ``bench/text_eval.py --field`` on the exported file); the store's
evaluation methods on both backends; and the evaluation panel and the dispute in a headless
Chromium with a Chinese locale (the QA lead evaluates, the agent acknowledges and disputes, the
QA lead resolves, all in Chinese).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from calmline.monitor.store import Store
from tests.conftest import DESKTOP, REPO, SAMPLES, SCREENSHOTS, load_bench
from tests.server import CalmlineServer

CALL = "call-eval-1"
ARTIFACTS = REPO / "test-artifacts"


class Server(CalmlineServer):
    """A server whose ``store`` (keys, seeded data) is its database, SQLite or PostgreSQL."""

    @property
    def store(self) -> Store:
        url = self.extra_env.get("CALMLINE_STORAGE__DATABASE_URL")
        if url is None:
            return super().store
        if self._store is None:
            self._store = Store(url, self.data_dir / "audio")
        return self._store


class Site:
    def __init__(self, server: CalmlineServer, keys: dict[str, str], backend: str) -> None:
        self.server = server
        self.keys = keys
        self.backend = backend

    def req(self, role: str, method: str, path: str, **kw: Any):
        with self.server.client(self.keys[role]) as c:
            return c.request(method, path, **kw)

    def ok(self, role: str, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        r = self.req(role, method, path, **kw)
        assert r.status_code == status, (method, path, role, r.status_code, r.text)
        return r.json()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request, tmp_path_factory, cache_dir) -> Iterator[Site]:
    env = {}
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres").create_database("evaluations")
        env["CALMLINE_STORAGE__DATABASE_URL"] = url
    server = Server(tmp_path_factory.mktemp("evaluations") / "data", cache_dir, env=env).start()
    try:
        store = server.store
        keys = {
            "admin": server.key("admin"),
            "qa": store.create_api_key("qa_lead", None, "Lin QA").key,
            "supervisor": server.key("supervisor"),
            "a1": server.key("agent", "a1"),
            "a2": server.key("agent", "a2"),
        }
        r = server.upload(
            keys["admin"], SAMPLES / "en_stereo_mulaw.wav", "a1", call_id=CALL, language="en"
        )
        assert r.status_code == 202, r.text
        assert server.wait_job(keys["admin"], r.json()["job_id"])["state"] == "done"
        yield Site(server, keys, request.param)
    finally:
        server.stop()


def _findings(report: dict) -> list[tuple[str, dict, dict]]:
    """(key, finding, practice) of every finding in the scorecard, keyed as the API keys them."""
    return [
        (f"{p['practice']}#{i}", f, p)
        for p in report["scorecard"]["practices"]
        for i, f in enumerate(p["findings"])
    ]


def _audit(site: Site) -> list[dict]:
    return site.ok("admin", "GET", "/api/v1/audit", params={"limit": 1000})


def test_evaluation_loop_through_the_api(site):
    base = f"/api/v1/calls/{CALL}/evaluation"
    report = site.ok("qa", "GET", f"/api/v1/calls/{CALL}/report")
    assert "evaluation" not in report
    found = _findings(report)
    assert len(found) >= 2, "the sample call has an interruption, a greeting and apologies"
    (k_ok, f_ok, _), (k_bad, f_bad, _) = found[0], found[1]
    judged = [p for p in report["scorecard"]["practices"] if p["score"] is not None]
    practice = judged[0]
    new_score = 100.0 if practice["score"] < 50 else 10.0
    assert site.req("qa", "GET", base).status_code == 404

    # an agent (even on their own call) and a supervisor cannot evaluate; refusals are audited
    body = {"findings": [{"finding": k_ok, "verdict": "confirm"}]}
    assert site.req("a1", "POST", base, json=body).status_code == 403
    assert site.req("supervisor", "POST", base, json=body).status_code == 403
    refused = [e for e in _audit(site) if e["outcome"] == "refused" and e["target"] == base]
    assert {e["role"] for e in refused} == {"agent", "supervisor"}

    # bad verdicts are refused naming the item
    bad = site.req("qa", "POST", base, json={"findings": [{"finding": k_bad, "verdict": "reject"}]})
    assert bad.status_code == 422 and k_bad in bad.json()["detail"]
    other = {"finding": k_bad, "verdict": "reject", "reason": "other"}
    assert "note" in site.req("qa", "POST", base, json={"findings": [other]}).json()["detail"]
    nowhere = {"findings": [{"finding": "acknowledge#999", "verdict": "confirm"}]}
    assert site.req("qa", "POST", base, json=nowhere).status_code == 422
    late = {"practice": practice["practice"], "kind": "x", "start": 1e6}
    assert site.req("qa", "POST", base, json={"missed": [late]}).status_code == 422

    # an acknowledgement the machine missed (a kind the text detectors produce: text_eval
    # re-runs them on its quote below)
    missed = {
        "practice": "acknowledge",
        "kind": "ack_phrase",
        "start": 20.0,
        "quote": "I understand how frustrating that must be",
        "note": "heard in the audio",
    }
    body = {
        "findings": [
            {"finding": k_ok, "verdict": "confirm"},
            {"finding": k_bad, "verdict": "reject", "reason": "asr_error", "note": "misheard"},
        ],
        "missed": [missed],
        "scores": [{"practice": practice["practice"], "score": new_score, "reason": "calm"}],
        "note": "good recovery",
    }
    ev = site.ok("qa", "POST", base, 201, json=body)
    assert (ev["version"], ev["status"], ev["evaluator"]["name"]) == (1, "draft", "Lin QA")
    assert ev["machine_overall"] == report["scorecard"]["overall"]
    row = next(p for p in ev["practices"] if p["practice"] == practice["practice"])
    assert (row["machine"], row["human"], row["reason"]) == (practice["score"], new_score, "calm")
    verdicts = {f["key"]: (f["verdict"], f["reason"]) for f in ev["findings"]}
    assert verdicts[k_ok] == ("confirm", None) and verdicts[k_bad] == ("reject", "asr_error")
    assert len(ev["findings"]) == len(found)
    assert ev["missed"][0]["quote"] == missed["quote"]
    assert ev["human_overall"] != ev["machine_overall"]  # the override moved the weighted mean

    # a draft is the staff's: the agent sees nothing yet, the report and the CSV show it to staff
    assert site.req("a1", "GET", base).status_code == 404
    assert "evaluation" not in site.ok("a1", "GET", f"/api/v1/calls/{CALL}/report")
    summary = site.ok("supervisor", "GET", f"/api/v1/calls/{CALL}/report")["evaluation"]
    assert summary["status"] == "draft" and summary["human_overall"] == ev["human_overall"]
    assert summary["overrides"] == {practice["practice"]: new_score}

    published = site.ok("qa", "POST", f"{base}/publish")
    assert published["status"] == "published" and published["published_at"]
    assert site.req("qa", "POST", f"{base}/publish").status_code == 409

    # the agent sees the published version of their own call; another agent does not
    seen = site.ok("a1", "GET", base)
    assert (seen["version"], seen["evaluator"]["name"]) == (1, "Lin QA")
    assert site.ok("a1", "GET", f"/api/v1/calls/{CALL}/report")["evaluation"]["version"] == 1
    assert site.req("a2", "GET", base).status_code == 403
    assert site.req("a2", "POST", f"{base}/acknowledge").status_code == 403

    # CSV: machine and human score side by side, who and when
    for role in ("qa", "a1"):
        text = site.req(role, "GET", "/api/v1/export/scores.csv").text
        (line,) = [r for r in csv.DictReader(io.StringIO(text)) if r["call_id"] == CALL]
        assert float(line[practice["practice"]]) == pytest.approx(practice["score"])
        assert float(line[f"human:{practice['practice']}"]) == pytest.approx(new_score)
        assert float(line["overall"]) == pytest.approx(report["scorecard"]["overall"])
        assert float(line["human_overall"]) == pytest.approx(ev["human_overall"])
        assert (line["evaluator"], line["evaluation_status"]) == ("Lin QA", "published")
        assert line["evaluated_at"] == published["published_at"]

    # acknowledgement: the agent's own, once
    assert site.req("qa", "POST", f"{base}/acknowledge").status_code == 403
    assert site.ok("a1", "POST", f"{base}/acknowledge")["acknowledged_at"]
    assert site.req("a1", "POST", f"{base}/acknowledge").status_code == 409

    # dispute the confirmed finding; once while open; not by staff or another agent
    comment = {"item": k_ok, "comment": "the customer had finished speaking"}
    dispute = site.ok("a1", "POST", f"{base}/disputes", 201, json=comment)
    assert dispute["status"] == "open" and dispute["agent_id"] == "a1"
    assert site.req("a1", "POST", f"{base}/disputes", json=comment).status_code == 409
    assert site.req("a2", "POST", f"{base}/disputes", json=comment).status_code == 403
    assert site.req("qa", "POST", f"{base}/disputes", json=comment).status_code == 403
    ghost = {"item": "missed#7", "comment": "x"}
    assert site.req("a1", "POST", f"{base}/disputes", json=ghost).status_code == 422

    queue = site.ok("qa", "GET", "/api/v1/disputes")
    (mine,) = [d for d in queue if d["id"] == dispute["id"]]
    assert mine["subject"]["verdict"] == "confirm" and mine["subject"]["kind"] == f_ok["kind"]
    assert site.req("a1", "GET", "/api/v1/disputes").status_code == 403
    resolution = {"outcome": "overturned", "note": "agreed, no interruption"}
    path = f"/api/v1/disputes/{dispute['id']}/resolve"
    assert site.req("supervisor", "POST", path, json=resolution).status_code == 403
    resolved = site.ok("qa", "POST", path, json=resolution)
    assert (resolved["status"], resolved["version"]) == ("overturned", 2)
    assert site.req("qa", "POST", path, json=resolution).status_code == 409
    assert all(d["id"] != dispute["id"] for d in site.ok("qa", "GET", "/api/v1/disputes"))

    # the overturn is a new published version: the disputed finding rejected, the rest kept
    after = site.ok("a1", "GET", base)
    assert (after["version"], after["status"], after["acknowledged_at"]) == (2, "published", None)
    verdicts = {f["key"]: (f["verdict"], f["reason"]) for f in after["findings"]}
    assert verdicts[k_ok] == ("reject", "other") and verdicts[k_bad] == ("reject", "asr_error")
    assert [d["status"] for d in after["disputes"]] == ["overturned"]
    history = site.ok("qa", "GET", f"/api/v1/calls/{CALL}/evaluations")
    assert [(v["version"], v["status"]) for v in history] == [(1, "published"), (2, "published")]
    assert site.ok("qa", "GET", base, params={"version": 1})["findings"] == ev["findings"]

    # everything is in the audit log, by whom
    log = [e for e in _audit(site) if e["target"] == CALL and e["outcome"] == "ok"]
    actions = {(e["action"], e["role"]) for e in log}
    for expected in (
        ("evaluation.save", "qa_lead"),
        ("evaluation.publish", "qa_lead"),
        ("evaluation.acknowledge", "agent"),
        ("dispute.open", "agent"),
        ("dispute.resolve", "qa_lead"),
    ):
        assert expected in actions, (expected, actions)

    # labels: the judged findings of the newest published version, as JSON lines
    assert site.req("a1", "GET", "/api/v1/evaluations/labels.jsonl").status_code == 403
    r = site.req("qa", "GET", "/api/v1/evaluations/labels.jsonl")
    assert r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(x) for x in r.text.splitlines()]
    by_key = {x["id"].rsplit("/", 1)[1]: x for x in lines}
    assert set(by_key) == {k_ok, k_bad, "missed#0"}
    rej = by_key[k_bad]
    assert (rej["verdict"], rej["reason"], rej["note"]) == ("rejected", "asr_error", "misheard")
    assert (rej["quote"], rej["practice"], rej["kind"]) == (
        f_bad["quote"],
        f_bad["practice"],
        f_bad["kind"],
    )
    assert rej["language"] == "en" and rej["evaluation_version"] == 2
    assert rej["rule"]["rubric"] == report["scorecard"]["rubric"]
    assert rej["rule"]["phrase"] == f_bad.get("phrase")
    assert by_key[k_ok]["verdict"] == "rejected" and by_key[k_ok]["reason"] == "other"
    add = by_key["missed#0"]
    assert (add["verdict"], add["quote"], add["kind"]) == (
        "missed",
        missed["quote"],
        "ack_phrase",
    )
    only = site.req("qa", "GET", "/api/v1/evaluations/labels.jsonl", params={"verdict": "missed"})
    assert [json.loads(x)["verdict"] for x in only.text.splitlines()] == ["missed"]

    # the CLI writes the same lines from the database
    out = site.server.data_dir / "labels.jsonl"
    cli = subprocess.run(
        [sys.executable, "-m", "calmline", "labels", "export", "--out", str(out),
         "--data-dir", str(site.server.data_dir)],
        capture_output=True, text=True, timeout=120, cwd=REPO,
        env={**os.environ, "CALMLINE_STORAGE__DATA_DIR": str(site.server.data_dir),
             **site.server.extra_env},
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert [json.loads(x) for x in out.read_text("utf-8").splitlines()] == lines
    assert "3 label(s)" in cli.stderr

    # bench/field_labels.py reads them; text_eval's detectors re-run on the quotes
    field = load_bench("field_labels")
    text_eval = load_bench("text_eval")
    rep = field.field_report(
        out, lambda rs: text_eval.label_predictions(rs, None), text_eval.FINDING_LABELS
    )
    assert rep["labels"] == 3 and rep["upstream_rejections"] == {"asr_error": 1}
    counted = sum(s["confirmed"] + s["rejected"] + s["missed"] for s in rep["by_kind"].values())
    assert counted == 2  # the asr_error rejection is counted apart, not against the rule
    scorable = [x for x in lines if (x["practice"], x["kind"]) in text_eval.FINDING_LABELS]
    assert 1 <= rep["quotes_scored"] <= len(scorable)  # the missed acknowledgement at least
    assert "ack_phrase" in rep["detectors"]

    # and bench/text_eval.py --field reads the exported file as a script (kept as evidence)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    kept = ARTIFACTS / f"field-labels-{site.backend}.jsonl"
    kept.write_text(out.read_text("utf-8"), "utf-8")
    scored = ARTIFACTS / f"field-labels-{site.backend}.text_eval.json"
    run = subprocess.run(
        [sys.executable, str(REPO / "bench" / "text_eval.py"), "--field", str(kept),
         "--json", str(scored)],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    got, want = json.loads(scored.read_text("utf-8")), json.loads(json.dumps(rep))
    assert got["file"] == str(kept) and "3 field label(s)" in run.stdout
    assert {k: v for k, v in got.items() if k != "file"} == {
        k: v for k, v in want.items() if k != "file"
    }


def test_field_labels_reader_names_file_and_line(tmp_path):
    field = load_bench("field_labels")
    good = {
        "id": "c/v1/missed#0",
        "language": "zh",
        "practice": "acknowledge",
        "kind": "ack_phrase",
        "verdict": "missed",
        "quote": "我理解您的心情",
        "context": "你们送餐太慢了",
        "evaluated_at": "2026-12-01T10:00:00",
    }
    bad = good | {"verdict": "rejected", "reason": "because"}
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps(good, ensure_ascii=False) + "\n" + json.dumps(bad) + "\n", "utf-8")
    with pytest.raises(ValueError, match=r"labels\.jsonl:2: .*reason 'because'"):
        field.read_field_labels(path)
    path.write_text(json.dumps(good, ensure_ascii=False) + "\n{oops\n", "utf-8")
    with pytest.raises(ValueError, match=r"labels\.jsonl:2: not JSON"):
        field.read_field_labels(path)
    # the current detectors find the acknowledgement the machine missed in the field
    path.write_text(json.dumps(good, ensure_ascii=False) + "\n", "utf-8")
    text_eval = load_bench("text_eval")
    records = field.to_text_records(field.read_field_labels(path), text_eval.FINDING_LABELS)
    scores = field.detector_scores(records, text_eval.label_predictions(records, None))
    assert scores["ack_phrase"]["tp"] == 1 and scores["ack_phrase"]["fn"] == 0


# ---------------------------------------------------------------------------- store, both backends


def _items(verdict: str, reason: str | None = None) -> dict:
    finding = {"key": "acknowledge#0", "verdict": verdict, "reason": reason, "note": None}
    finding |= {"practice": "acknowledge", "kind": "ack_phrase", "quote": "我明白", "start": 3.0}
    return {"findings": [finding], "missed": [], "scores": []}


def test_store_evaluations_round_trip(store):
    store.create_call("c1", "a1", "upload", language="zh")
    store.create_call("c2", "a2", "upload")
    with pytest.raises(KeyError):
        store.add_evaluation("nope", evaluator_key_id="k", evaluator_role="qa_lead", items={})
    v1 = store.add_evaluation(
        "c1", evaluator_key_id="k1", evaluator_role="qa_lead", items=_items("confirm")
    )
    v2 = store.add_evaluation(
        "c1", evaluator_key_id="k1", evaluator_role="qa_lead", items=_items("reject", "wrong_rule")
    )
    assert (v1.version, v2.version) == (1, 2)
    assert store.latest_evaluation("c1").version == 2
    assert store.latest_evaluation("c1", published_only=True) is None
    assert store.field_labels() == []  # drafts are not labels
    assert store.publish_evaluation("c1").version == 2
    with pytest.raises(ValueError, match="published already"):
        store.publish_evaluation("c1")
    with pytest.raises(KeyError):
        store.publish_evaluation("c2")
    assert set(store.latest_evaluations(published_only=True)) == {"c1"}
    (label,) = store.field_labels()
    assert (label["verdict"], label["reason"], label["language"]) == (
        "rejected",
        "wrong_rule",
        "zh",
    )
    assert label["quote"] == "我明白" and label["id"] == "c1/v2/acknowledge#0"
    assert store.field_labels(["missed"]) == []

    with pytest.raises(ValueError, match="not published"):
        store.acknowledge_evaluation(v1.id, "agent-key")
    assert store.acknowledge_evaluation(v2.id, "agent-key").acknowledged_by == "agent-key"
    d = store.add_dispute(v2, "a1", "acknowledge#0", "我说了", "agent-key")
    with pytest.raises(ValueError, match="disputed already"):
        store.add_dispute(v2, "a1", "acknowledge#0", "again", "agent-key")
    assert [x.id for x in store.disputes(status="open", agent_id="a1")] == [d.id]
    with pytest.raises(ValueError, match="unknown outcome"):
        store.resolve_dispute(d.id, "maybe", "n", "qa")
    assert store.resolve_dispute(d.id, "upheld", "stands", "qa").status == "upheld"
    with pytest.raises(ValueError, match="upheld already"):
        store.resolve_dispute(d.id, "overturned", "n", "qa")
    assert store.disputes(status="open") == []

    store.delete_call("c1")
    assert store.evaluations("c1") == [] and store.disputes() == []
    assert store.get_evaluation(v2.id) is None


# ---------------------------------------------------------------------------- the pages


def _signed_in(browser, site: Site, role: str, errors: list[str], locale: str | None = None):
    """(context, page) signed in with the role's key, in a browser of ``locale`` (None: its
    own); the page's script errors go to ``errors``; the caller closes the context."""
    context = browser.new_context(viewport=DESKTOP, locale=locale)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{site.server.base_url}/signin")
    page.fill("#key", site.keys[role])
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("[data-testid=whoami]")
    return context, page


def _shot(page, name: str, where) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    where.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _catalog(page) -> dict[str, str]:
    """The interface strings of the page's language (``api/static/i18n.js``)."""
    lang = page.get_attribute("html", "lang")[:2]
    return page.evaluate("import('/static/i18n.js').then((m) => m.catalogs())")["ui"][lang]


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_evaluation_panel_and_dispute_in_the_browser(site, browser, locale):
    """The QA lead evaluates and publishes, the agent disputes and acknowledges, the QA lead
    resolves: every step in the browser's language."""
    lang = locale[:2]
    comment = {"zh": "我说了这句话", "en": "I did say it"}[lang]
    report = site.ok("qa", "GET", f"/api/v1/calls/{CALL}/report")
    key, _, _ = _findings(report)[0]
    practice = next(p for p in report["scorecard"]["practices"] if p["score"] is not None)
    before = site.ok("qa", "GET", f"/api/v1/calls/{CALL}/evaluations")
    errors: list[str] = []
    context, page = _signed_in(browser, site, "qa", errors, locale)
    try:
        page.goto(f"{site.server.base_url}/review/{CALL}")
        panel = page.locator("[data-testid=evaluation]")
        row = panel.locator(f'li[data-ev-finding="{key}"]')
        row.locator("select").first.select_option("reject")
        row.locator("select").nth(1).select_option("wrong_rule")
        ui = _catalog(page)
        assert page.get_attribute("html", "lang") == {"zh": "zh-CN", "en": "en"}[lang]
        reason = row.locator("select").nth(1).locator("option:checked").inner_text()
        assert reason == ui["ev.reason.wrong_rule"]
        publish = panel.locator("[data-testid=publish-evaluation]")
        assert publish.inner_text().strip() == ui["ev.publish"]
        scores = panel.locator(f'tr[data-ev-practice="{practice["practice"]}"] input')
        scores.first.fill("55")
        scores.nth(1).fill({"zh": "整通电话都听了", "en": "heard the whole call"}[lang])
        publish.click()
        version = len(before) + 1
        status = page.locator(f'[data-testid=evaluation-status][data-version="{version}"]')
        try:
            status.wait_for()
        except Exception:
            message = panel.locator("[data-testid=evaluation-message]").inner_text()
            raise AssertionError(f"not published: {message}") from None
        assert status.get_attribute("data-status") == "published"
        assert ui["ev.status.published"] in status.inner_text()
        assert "null" not in panel.inner_text()
        _shot(page, f"evaluation-panel-{lang}", panel)
    finally:
        context.close()
    ev = site.ok("a1", "GET", f"/api/v1/calls/{CALL}/evaluation")
    judged = {f["key"]: (f["verdict"], f["reason"]) for f in ev["findings"]}
    assert judged[key] == ("reject", "wrong_rule")
    human = {p["practice"]: p["human"] for p in ev["practices"]}
    assert human[practice["practice"]] == 55

    context, page = _signed_in(browser, site, "a1", errors, locale)
    try:
        page.goto(f"{site.server.base_url}/feedback/{CALL}")
        item = page.locator(f'[data-testid=agent-evaluation] li[data-ev-item="{key}"]')
        assert item.get_attribute("data-verdict") == "reject"
        ui = _catalog(page)
        assert item.locator("[data-testid=dispute]").inner_text().strip() == ui["ev.dispute"]
        item.locator("[data-testid=dispute]").click()
        item.locator("input").fill(comment)
        item.locator("[data-testid=send-dispute]").click()
        page.locator("[data-testid=disputes] li[data-state=open]").wait_for()
        page.locator("[data-testid=acknowledge]").click()
        acked = ui["ev.acknowledged"].split("{when}")[0].strip(" ·")
        page.locator("[data-testid=evaluation-status]", has_text=acked).wait_for()
        # no "null" where a part is absent (the acknowledge button, once acknowledged); the
        # dispute names the finding (practice and kind in the call's language), not its key
        assert "null" not in page.locator("[data-testid=agent-evaluation]").inner_text()
        disputes = page.locator("[data-testid=disputes] li[data-state=open]").inner_text()
        assert key not in disputes and comment in disputes
        _shot(page, f"evaluation-feedback-{lang}", page.locator("[data-testid=agent-evaluation]"))
    finally:
        context.close()
    (dispute,) = [
        d for d in site.ok("qa", "GET", "/api/v1/disputes") if d["item"] == key
    ]  # one open at a time
    assert dispute["comment"] == comment

    context, page = _signed_in(browser, site, "qa", errors, locale)
    try:
        page.goto(f"{site.server.base_url}/disputes")
        row = page.locator(f'tr[data-dispute="{dispute["id"]}"]')
        assert comment in row.inner_text()
        row.locator("[data-testid=resolution-note]").fill(
            {"zh": "规则在一个问句上触发", "en": "the rule fired on a question"}[lang]
        )
        _shot(page, f"disputes-{lang}", page.locator("main"))
        row.locator("[data-testid=uphold]").click()
        page.locator("[data-testid=no-disputes]").wait_for()
    finally:
        context.close()
    closed = site.ok("qa", "GET", "/api/v1/disputes", params={"status": "upheld"})
    assert dispute["id"] in [d["id"] for d in closed if d["item"] == key]
    assert not errors, errors
