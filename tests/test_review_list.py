"""The QA review list: server-side sorting by every column, transcript search (Chinese and
English, SQLite FTS5 trigram and PostgreSQL pg_trgm, with the scan for 1-2 character words), the
review filters (finding kind, needs review, evaluated, disputed), and the page: sorting by a
header click and a queued call turning into a scored one without a reload.

Calls are scored from hand-made turns (no speech recognition), stored in a real server's
database (SQLite, then PostgreSQL); every expectation is computed from the API's own items and
reports, not written in.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest

from calmline.monitor.store import SORT_KEYS, CallFilter, Store
from tests.conftest import signed_in_page
from tests.server import CalmlineServer
from tests.test_applicability import COMPLAINT_ZH, ROUTINE_EN, one_voice, scored
from tests.test_evaluations import Server
from tests.test_stress import A, C, call

CARD_ZH = [
    A(0.0, 3.0, "您好，请问有什么可以帮您"),
    C(3.5, 9.0, "我的银行卡被冻结了，我已经打了三次电话了"),
    A(9.5, 13.0, "非常抱歉给您带来不便，我马上帮您查一下"),
    C(13.5, 15.0, "好的"),
    A(15.5, 18.0, "已经为您解冻了，还有别的问题吗"),
]
REFUND_EN = [
    A(0.0, 3.0, "Thank you for calling, how can I help you?"),
    C(3.5, 8.0, "I want a REFUND for my order, this is unacceptable"),
    A(7.0, 10.0, "Let me stop you there, I need your order number first"),
    C(10.5, 12.0, "It is four four two"),
    A(12.5, 15.0, "The refund is on its way, anything else?"),
]


def _report(call_id: str, turns: list, language: str):
    return replace(scored(call(turns, language=language)), call_id=call_id)


CALLS = {
    # call id: (agent, started, turns, language)
    "zh-card": ("a2", "2026-03-01T09:00:00", CARD_ZH, "zh"),
    "en-refund": ("a3", "2026-03-02T10:00:00", REFUND_EN, "en"),
    "en-address": ("a1", "2026-03-03T11:00:00", ROUTINE_EN, "en"),
    "zh-parcel": ("a1", "2026-03-04T12:00:00", COMPLAINT_ZH, "zh"),
    "one-voice": ("a2", "2026-03-05T13:00:00", one_voice(COMPLAINT_ZH), "zh"),
}


def _fill(store: Store) -> None:
    """The calls above, scored; one evaluated, one evaluated, published and disputed; one
    still queued."""
    for call_id, (agent, started, turns, language) in CALLS.items():
        store.create_call(
            call_id, agent, "upload", started_at=datetime.fromisoformat(started), status="done"
        )
        store.save_report(call_id, _report(call_id, turns, language))
    items = {"findings": [], "missed": [], "scores": []}
    store.add_evaluation("en-refund", evaluator_key_id="k", evaluator_role="qa_lead", items=items)
    ev = store.add_evaluation(
        "zh-card", evaluator_key_id="k", evaluator_role="qa_lead", items=items
    )
    store.publish_evaluation("zh-card")
    store.add_dispute(ev, "a2", "acknowledge#0", "我道歉了", "agent-key")
    store.create_call("queued-1", "a3", "upload")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request, tmp_path_factory, cache_dir) -> Iterator[tuple[CalmlineServer, dict[str, str]]]:
    """A real server on SQLite (FTS5 trigram), then on PostgreSQL (pg_trgm)."""
    env = {"CALMLINE_SERVER__LOAD_MODELS": "false"}
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres").create_database(f"t_{uuid.uuid4().hex[:10]}")
        env["CALMLINE_STORAGE__DATABASE_URL"] = url
    server = Server(tmp_path_factory.mktemp("review-list") / "data", cache_dir, env=env)
    server.start()
    try:
        _fill(server.store)
        keys = {"qa": server.key("qa_lead"), "agent": server.key("agent", "a2")}
        yield server, keys
    finally:
        server.stop()


def _list(server: CalmlineServer, key: str, **params: Any) -> tuple[list[dict], Any]:
    with server.client(key) as c:
        r = c.get("/api/v1/calls", params={"limit": 500, **params})
    assert r.status_code == 200, r.text
    return r.json()["items"], r.headers


def _ids(server: CalmlineServer, key: str, **params: Any) -> list[str]:
    return [i["call_id"] for i in _list(server, key, **params)[0]]


def _reports(server: CalmlineServer, key: str) -> dict[str, dict]:
    with server.client(key) as c:
        return {cid: c.get(f"/api/v1/calls/{cid}/report").json() for cid in CALLS}


# --- sorting ---------------------------------------------------------------------------------


def _value(item: dict, key: str) -> Any:
    """The item's value a sort key orders by, from the API's own fields."""
    if key == "call_id":
        return item["call_id"]
    if key == "started_at":
        return item["started_at"] or item["created_at"]
    if key == "customer":
        return item["customer_trend"]
    if key == "weakest":
        scores = [v for v in item["practices"].values() if v is not None]
        return min(scores) if scores else None
    return item[key]


def _expected(items: list[dict], key: str, descending: bool) -> list[str]:
    """Ordered by the value, empty values last either way, then the call id the same way."""
    present = [i for i in items if _value(i, key) is not None]
    empty = [i for i in items if _value(i, key) is None]
    present.sort(key=lambda i: (_value(i, key), i["call_id"]), reverse=descending)
    empty.sort(key=lambda i: i["call_id"], reverse=descending)
    return [i["call_id"] for i in present + empty]


@pytest.mark.parametrize("key", SORT_KEYS)
def test_the_list_sorts_by_every_column_both_ways(site, key):
    server, keys = site
    items, _ = _list(server, keys["qa"])
    assert len(items) == len(CALLS) + 1
    up = _ids(server, keys["qa"], sort=key)
    down = _ids(server, keys["qa"], sort=f"-{key}")
    assert up == _expected(items, key, descending=False)
    assert down == _expected(items, key, descending=True)
    if len({str(_value(i, key)) for i in items}) > 1:
        assert up != down


def test_default_order_is_newest_first_and_unknown_sort_keys_are_refused(site):
    server, keys = site
    items, _ = _list(server, keys["qa"])
    assert [i["call_id"] for i in items] == _expected(items, "started_at", descending=True)
    with server.client(keys["qa"]) as c:
        r = c.get("/api/v1/calls", params={"sort": "metadata"})
        assert r.status_code == 422 and "sort" in r.text
        r = c.get("/api/v1/calls", params={"sort": "overall; drop table calls"})
        assert r.status_code == 422


# --- search ----------------------------------------------------------------------------------


def _holding(reports: dict[str, dict], words: list[str]) -> list[str]:
    """Calls whose transcript holds every word (Latin letters case-insensitively)."""
    out = []
    for cid, report in reports.items():
        text = "\n".join(t["text"] for t in report["turns"]).lower()
        if all(w.lower() in text for w in words):
            out.append(cid)
    return sorted(out)


@pytest.mark.parametrize(
    ("query", "method"),
    [
        ("银行卡", "fts5-trigram"),  # three characters: the trigram index
        ("快递到现在", "fts5-trigram"),
        ("冻结", "scan"),  # two characters: too short for trigrams, found by LIKE
        ("卡", "scan"),
        ("快递 冻结", "scan"),  # every word must be there: no call has both
        ("refund", "fts5-trigram"),
        ("REFUND order", "fts5-trigram"),
        ("unacceptable refund", "fts5-trigram"),
        ("address", "fts5-trigram"),
        ("is", "scan"),
        ("100%", "fts5-trigram"),  # LIKE wildcards are plain characters
        ('"stop you"', "fts5-trigram"),  # FTS5 syntax is plain characters too
    ],
)
def test_transcript_search_in_chinese_and_english(site, query, method):
    server, keys = site
    reports = _reports(server, keys["qa"])
    items, headers = _list(server, keys["qa"], q=query, sort="call_id")
    if "CALMLINE_STORAGE__DATABASE_URL" in server.extra_env:  # PostgreSQL: its trigram index
        method = {"fts5-trigram": "pg_trgm"}.get(method, method)
    assert headers["X-Calmline-Search"] == method
    assert [i["call_id"] for i in items] == _holding(reports, query.split())
    if query in ("银行卡", "冻结", "卡", "refund", "REFUND order"):
        assert items, query  # the data above holds these


def test_search_keeps_in_step_with_reports_written_again_and_deleted(site):
    server, keys = site
    store = server.store
    store.create_call("tmp-1", "a9", "upload", status="done")
    store.save_report("tmp-1", _report("tmp-1", [A(0, 3, "账户余额查询"), C(3.5, 6, "谢谢")], "zh"))
    assert _ids(server, keys["qa"], q="余额查询") == ["tmp-1"]
    store.save_report("tmp-1", _report("tmp-1", [A(0, 3, "信用卡挂失"), C(3.5, 6, "谢谢")], "zh"))
    assert _ids(server, keys["qa"], q="余额查询") == []
    assert _ids(server, keys["qa"], q="信用卡挂失") == ["tmp-1"]
    store.delete_call("tmp-1")
    assert _ids(server, keys["qa"], q="信用卡") == []
    assert _ids(server, keys["qa"], q="挂失") == []


def test_an_agent_searches_only_their_own_calls(site):
    server, keys = site
    reports = _reports(server, keys["qa"])
    everyone = _holding(reports, ["快递"])
    assert set(everyone) == {"zh-parcel", "one-voice"}
    assert _ids(server, keys["agent"], q="快递") == ["one-voice"]  # a2's, not a1's


# --- filters ---------------------------------------------------------------------------------


def test_review_filters(site):
    server, keys = site
    reports = _reports(server, keys["qa"])
    qa = keys["qa"]

    def ids(**params: Any) -> list[str]:
        return sorted(_ids(server, qa, **params))

    assert ids(evaluated="true") == ["en-refund", "zh-card"]
    assert ids(evaluated="false") == sorted({*CALLS, "queued-1"} - {"en-refund", "zh-card"})
    assert ids(disputed="true") == ["zh-card"]
    assert "zh-card" not in ids(disputed="false") and len(ids(disputed="false")) == len(CALLS)
    flagged = sorted(c for c, r in reports.items() if r["scorecard"]["needs_review"])
    assert flagged == ["one-voice"]
    assert ids(needs_review="true") == flagged

    with server.client(qa) as c:
        kinds = c.get("/api/v1/findings/kinds").json()["kinds"]
    have = {
        cid: {f["kind"] for p in r["scorecard"]["practices"] for f in p["findings"]}
        for cid, r in reports.items()
    }
    assert set(kinds) == set().union(*have.values())
    narrow = [k for k in kinds if 0 < sum(k in h for h in have.values()) < len(have)]
    assert narrow, kinds
    for kind in narrow:
        assert ids(finding_kind=kind) == sorted(c for c, h in have.items() if kind in h), kind
    # filters, search and sorting together
    assert _ids(server, qa, q="快递", needs_review="false", evaluated="false") == ["zh-parcel"]
    both = _ids(server, qa, language="zh", sort="-overall", evaluated="false")
    assert both == [c for c in _ids(server, qa, sort="-overall") if c in both]


def test_the_migration_indexes_reports_stored_before_it(tmp_path):
    import json

    from calmline.monitor.migrations import upgrade
    from calmline.monitor.report import report_to_dict
    from calmline.monitor.store import AgentRow, CallRow, ReportRow

    store = Store(f"sqlite:///{tmp_path / 'old.db'}", tmp_path / "audio")
    upgrade(store.engine, "0004")  # a database of the revision before search
    body = report_to_dict(_report("old-1", CARD_ZH, "zh"))
    with store.session() as s:
        s.add(AgentRow(id="a1"))
        s.add(CallRow(id="old-1", agent_id="a1", status="done"))
        s.flush()
        # only the columns of that revision (later ones add columns to reports)
        s.execute(
            ReportRow.__table__.insert().values(
                call_id="old-1", schema_version="x", body=json.dumps(body)
            )
        )
    store.migrate()
    try:
        assert [c.id for c in store.list_calls(CallFilter(q="银行卡"))[0]] == ["old-1"]
        assert store.list_calls(CallFilter(q="快递"))[0] == []
    finally:
        store.close()


# --- PostgreSQL: the same store search -------------------------------------------------------


@pytest.fixture(scope="module")
def pg_store(tmp_path_factory) -> Iterator[Store]:
    from tests.pg import PostgresServer, pg_bin

    if pg_bin() is None:
        pytest.skip("PostgreSQL is not installed; scripts/system-deps.sh installs it")
    server = PostgresServer().start()
    try:
        store = Store(
            server.create_database(f"t_{uuid.uuid4().hex[:10]}"),
            tmp_path_factory.mktemp("pg-audio"),
        )
        store.migrate()
        _fill(store)
        yield store
        store.close()
    finally:
        server.stop()


def test_postgresql_search_sort_and_filters(pg_store):
    store = pg_store
    with store.session() as s:
        from sqlalchemy import text

        index = s.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_call_search_body_trgm'")
        ).scalar_one()
    assert "gin_trgm_ops" in index

    def ids(q: str, **kw: Any) -> list[str]:
        return sorted(c.id for c in store.list_calls(CallFilter(q=q, **kw))[0])

    assert store.search_method("银行卡") == "pg_trgm" and ids("银行卡") == ["zh-card"]
    assert store.search_method("冻结") == "scan" and ids("冻结") == ["zh-card"]
    assert ids("卡") == ["zh-card"]
    assert ids("快递") == ["one-voice", "zh-parcel"]
    assert ids("refund ORDER") == ["en-refund"] and ids("100%") == []
    assert ids("快递", needs_review=True) == ["one-voice"]
    assert ids("", evaluated=True) == ["en-refund", "zh-card"]
    assert ids("", disputed=True) == ["zh-card"]
    rows, _ = store.list_calls(sort="overall")
    scores = [r.overall for r in rows]
    assert scores[-1] is None  # the queued call: empty last
    assert scores[:-1] == sorted(scores[:-1])
    store.save_report("zh-card", _report("zh-card", [A(0, 3, "信用卡挂失"), C(3, 5, "好")], "zh"))
    assert ids("银行卡") == [] and ids("信用卡") == ["zh-card"]
    store.delete_call("zh-card")
    assert ids("信用卡") == []


# --- the page --------------------------------------------------------------------------------


def _rows(page) -> list[str]:
    rows = "#calls tbody tr[data-call-id]"
    return page.eval_on_selector_all(rows, "rs => rs.map(r => r.dataset.callId)")


def test_the_page_sorts_by_a_header_click_and_scores_queued_calls_in_place(site, browser):
    server, keys = site
    server.store.create_call("queued-2", "a1", "upload")
    errors: list[str] = []
    context, page = signed_in_page(browser, server.base_url, keys["qa"], errors)
    try:
        page.goto(f"{server.base_url}/review")
        page.wait_for_selector("#calls tbody[data-query]", state="attached")
        assert page.get_attribute("tr[data-call-id=queued-2]", "data-status") == "queued"

        # the call is scored while the page is open: its row changes, the page is not reloaded
        page.evaluate("window.__stayed = true")
        server.store.save_report("queued-2", _report("queued-2", ROUTINE_EN, "en"))
        page.wait_for_selector("tr[data-call-id=queued-2][data-status=done]", timeout=10_000)
        assert page.evaluate("window.__stayed") is True
        overall = server.store.get_call("queued-2").overall
        cell = page.inner_text("tr[data-call-id=queued-2] td.num >> nth=1")
        assert str(round(overall)) in cell

        items, _ = _list(server, keys["qa"])
        page.click("th[data-sort=overall] button")
        page.wait_for_selector("#calls tbody[data-query*='sort=overall']", state="attached")
        assert page.get_attribute("th[data-sort=overall]", "aria-sort") == "ascending"
        assert _rows(page) == _expected(items, "overall", descending=False)[:25]
        page.click("th[data-sort=overall] button")
        page.wait_for_selector("#calls tbody[data-query*='sort=-overall']", state="attached")
        assert page.get_attribute("th[data-sort=overall]", "aria-sort") == "descending"
        assert _rows(page) == _expected(items, "overall", descending=True)[:25]

        page.fill("[data-testid=search]", "冻结")
        page.click("#filters button[type=submit]")
        page.wait_for_selector("#calls tbody[data-query*='q=']", state="attached")
        assert _rows(page) == ["zh-card"]
        assert "one or two characters" in page.inner_text("[data-testid=search-note]")
        assert not errors, errors
    finally:
        context.close()
