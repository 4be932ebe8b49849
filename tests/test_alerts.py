"""Supervisor alerts: stored as they are raised on a live call, listed again after a reload or on
another dashboard, acknowledged (who, when, audit log), and the rules as settings (kinds,
lowest severity, thresholds, quiet during an announced hold, how long they are kept).

The live test streams a short excerpt of a bundled sample call (an interruption, then a silence
after "One moment, please") to a real server whose rules switch silence alerts off.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from calmline.api.alerts import AlertKeeper, alert_dict
from calmline.monitor.settings import ALERT_KINDS, AlertSettings
from calmline.monitor.store import Store
from tests.conftest import DESKTOP, SAMPLES, SCREENSHOTS, signed_in_page
from tests.live_client import read_wav, sse_events, stream_raw
from tests.server import CalmlineServer
from tests.test_i18n_pages import OVERFLOW, PHONE

EXCERPT = (25.0, 52.5)
"""Of en_stereo_mulaw: the agent talks over the customer at 27.6 s (an interruption), says
"One moment, please" at 44.3-47.5 s and is silent until 51.7 s (a silence alert at 50.5 s)."""
KINDS_ON = [k for k in ALERT_KINDS if k != "non_talk"]


# --- the rules, on a real store --------------------------------------------------------------


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'calmline.db'}", tmp_path / "audio")
    s.migrate()
    yield s
    s.close()


def _event(kind: str, t: float, call_id: str = "c1", **data: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "call_id": call_id,
        "agent_id": "a1",
        "t": t,
        "seq": int(t * 10),
        "emitted_at": time.time(),
        "data": data,
    }


def _said(role: str, start: float, end: float, text: str, call_id: str = "c1") -> dict:
    return _event("transcript", start, call_id, role=role, start=start, end=end, text=text)


def test_rules_kinds_severity_and_thresholds(store):
    settings = AlertSettings(
        kinds=KINDS_ON,
        min_severity="minor",
        thresholds={"interruption.overlap_s": 1.0},
    )
    keeper = AlertKeeper(store, settings)
    off = keeper.handle(_event("non_talk", 5.0, duration_s=3.1))
    assert off["alert_quiet"] == "kind off (alerts.kinds)" and "alert_id" not in off
    short = keeper.handle(_event("interruption", 6.0, overlap_s=0.5))
    assert "below 1" in short["alert_quiet"] and "alerts.thresholds" in short["alert_quiet"]
    long = keeper.handle(_event("interruption", 9.0, overlap_s=1.5))
    info = keeper.handle(_event("agent_louder", 12.0, severity="info", loudness_rel_db=5.0))
    assert "alerts.min_severity" in info["alert_quiet"]
    minor = keeper.handle(_event("agent_louder", 14.0, severity="minor", loudness_rel_db=5.0))
    credit = keeper.handle(_event("acknowledgement", 15.0))
    assert "alert_id" not in credit and "alert_quiet" not in credit  # a credit, not an alert
    stored = store.alerts()
    assert [(a.id, a.kind, a.severity) for a in stored] == [
        (minor["alert_id"], "agent_louder", "minor"),
        (long["alert_id"], "interruption", "major"),
    ]
    with pytest.raises(ValueError, match=r"unknown 'interruption\.quote'"):
        AlertSettings(thresholds={"interruption.quote": 1})


def test_an_announced_hold_quiets_silence_alerts_until_the_agent_speaks_again(store):
    keeper = AlertKeeper(store, AlertSettings(hold_max_s=120))
    keeper.handle(_said("customer", 2.0, 4.0, "Hold on, I am not the account holder"))
    before = keeper.handle(_event("non_talk", 4.0, duration_s=3.1))
    assert before.get("alert_id")  # a customer saying "hold on" is no hold
    keeper.handle(_said("agent", 10.0, 12.0, "Let me check our system. One moment, please."))
    quiet = keeper.handle(_event("non_talk", 12.0, duration_s=3.1))
    assert quiet["alert_quiet"] == "hold"
    louder = keeper.handle(_event("agent_louder", 13.0, severity="minor"))
    assert louder.get("alert_id")  # only alerts.hold_kinds are quiet in a hold
    keeper.handle(_said("agent", 20.0, 24.0, "Thank you for waiting."))
    after = keeper.handle(_event("non_talk", 25.0, duration_s=3.1))
    assert after.get("alert_id")  # the hold ended when the agent spoke again

    # a silence raised before the words announcing the hold were transcribed: quiet once they are
    early = keeper.handle(_event("non_talk", 40.0, "c2", duration_s=3.1))
    keeper.handle(_event("non_talk", 40.0, "c3", duration_s=3.1))  # another call: untouched
    keeper.handle(_said("agent", 38.0, 40.0, "好的，请您稍等", "c2"))
    listed = {a.id for a in store.alerts()}
    assert early["alert_id"] not in listed
    (row,) = [a for a in store.alerts(include_quiet=True) if a.id == early["alert_id"]]
    assert row.quiet == "hold"
    assert len(store.alerts(call_id="c3")) == 1
    assert {before["alert_id"], louder["alert_id"], after["alert_id"]} <= listed


def test_a_withdrawn_alert_is_marked_withdrawn_in_the_store_and_the_api(store):
    keeper = AlertKeeper(store, AlertSettings())
    by_sound = keeper.handle(
        _event("interruption", 27.62, agent_start=27.62, overlap_s=0.9, basis="sound")
    )
    other = keeper.handle(_event("interruption", 31.0, agent_start=31.0, overlap_s=1.2))
    elsewhere = keeper.handle(_event("interruption", 27.62, "c2", agent_start=27.62))
    reason = "the agent's words are a backchannel"
    gone = keeper.handle(
        _event(
            "alert_withdrawn",
            27.62,
            alert="interruption",
            agent_start=27.62,
            agent_end=28.4,
            quote="uh-huh",
            reason=reason,
        )
    )
    assert gone["alert_ids"] == [by_sound["alert_id"]]  # the dashboard marks it live
    rows = {a.id: a for a in store.alerts()}
    assert set(rows) == {by_sound["alert_id"], other["alert_id"], elsewhere["alert_id"]}
    shown = alert_dict(rows[by_sound["alert_id"]])
    assert shown["withdrawn"]["reason"] == reason and shown["withdrawn"]["quote"] == "uh-huh"
    assert datetime.fromisoformat(shown["withdrawn"]["at"]).tzinfo is not None
    assert "withdrawn" not in shown["data"] and shown["data"]["basis"] == "sound"
    assert alert_dict(rows[other["alert_id"]])["withdrawn"] is None
    assert alert_dict(rows[elsewhere["alert_id"]])["withdrawn"] is None
    # a second withdrawal of the same alert (another replica's copy) changes nothing
    again = keeper.handle(_event("alert_withdrawn", 27.62, alert="interruption", agent_start=27.62))
    assert again["alert_ids"] == []
    assert alert_dict(store.get_alert(by_sound["alert_id"]))["withdrawn"]["reason"] == reason


def test_a_louder_alert_withdrawn_keeps_its_reason_code_and_figures(store):
    """A louder turn told by sound and withdrawn (``pipelines/live/voice.py``) is found by its
    time (it has no ``agent_start``); the reason's code and figures are stored with the words,
    so a page can say it in the reader's language."""
    keeper = AlertKeeper(store, AlertSettings())
    told = keeper.handle(_event("agent_louder", 36.512, loudness_rel_db=8.1, basis="sound"))
    faster = keeper.handle(_event("agent_faster", 36.512, rate_ratio=1.4))
    values = {"loudness_rel_db": 1.9, "limit_db": 4.0}
    gone = keeper.handle(
        _event(
            "alert_withdrawn",
            36.512,
            alert="agent_louder",
            start=36.512,
            reason="the whole turn, with its words, was +1.9 dB ...",
            reason_code="not_louder",
            values=values,
        )
    )
    assert gone["alert_ids"] == [told["alert_id"]]
    shown = alert_dict(store.get_alert(told["alert_id"]))["withdrawn"]
    assert shown["reason_code"] == "not_louder" and shown["values"] == values
    assert alert_dict(store.get_alert(faster["alert_id"]))["withdrawn"] is None


def test_alerts_are_kept_alerts_keep_hours(store):
    old = store.add_alert(
        call_id="c1",
        agent_id="a1",
        kind="interruption",
        severity="major",
        t=3.0,
        at=datetime.now(UTC) - timedelta(hours=30),
        data={},
    )
    recent = store.add_alert(
        call_id="c1",
        agent_id="a1",
        kind="interruption",
        severity="major",
        t=9.0,
        at=datetime.now(UTC) - timedelta(hours=20),
        data={},
    )
    AlertKeeper(store, AlertSettings())  # a server starting deletes expired alerts
    assert [a.id for a in store.alerts()] == [recent.id]
    assert store.get_alert(old.id) is None
    AlertKeeper(store, AlertSettings(keep_hours=12))
    assert store.alerts() == []


# --- a live call on a real server ------------------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory, cache_dir) -> Iterator[dict[str, Any]]:
    env = {"CALMLINE_ALERTS__KINDS": json.dumps(KINDS_ON), "CALMLINE_LIVE__MAX_CALLS": "2"}
    server = CalmlineServer(tmp_path_factory.mktemp("alerts") / "data", cache_dir, env=env)
    server.start()
    try:
        keys = {
            "supervisor": server.store.create_api_key("supervisor", None, "Mei Supervisor").key,
            "qa": server.key("qa_lead"),
            "a1": server.key("agent", "a1"),
            "a2": server.key("agent", "a2"),
        }
        feed = asyncio.run(_stream(server, keys["supervisor"]))
        yield {"server": server, "keys": keys, "feed": feed}
    finally:
        server.stop()


async def _stream(server: CalmlineServer, key: str) -> list[dict[str, Any]]:
    feed: list[dict[str, Any]] = []
    ready = asyncio.Event()
    reader = asyncio.create_task(
        sse_events(server.base_url + "/api/v1/live/events", key, feed, ready)
    )
    await asyncio.wait_for(ready.wait(), 30)
    wav = read_wav(SAMPLES / "en_stereo_mulaw.wav").excerpt(*EXCERPT)
    ingest = server.base_url.replace("http://", "ws://") + "/api/v1/live/ingest"
    result = await stream_raw(ingest, wav, call_id="al-1", agent_id="a1", key=key, language="en")
    assert result.stopped and result.stopped["stored"], result.messages
    deadline = time.monotonic() + 30
    while not any(e["type"] == "call_ended" for e in feed) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    reader.cancel()
    return feed


def _get(server: CalmlineServer, key: str, path: str, **params: Any) -> Any:
    with server.client(key) as c:
        r = c.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_live_alerts_are_stored_as_they_go_out_and_rules_hold_kinds_back(live):
    server, keys, feed = live["server"], live["keys"], live["feed"]
    alerts = [e for e in feed if e.get("type") in ALERT_KINDS]
    # the silence after "One moment, please" is measured, not heard: always there
    silences = [e for e in alerts if e["type"] == "non_talk"]
    assert silences and all(e["alert_quiet"] == "kind off (alerts.kinds)" for e in silences)
    assert any(e["type"] == "interruption" for e in alerts)
    assert all(("alert_id" in e) != ("alert_quiet" in e) for e in alerts)
    raised = {e["alert_id"]: e for e in alerts if "alert_id" in e}

    stored = _get(server, keys["qa"], "/api/v1/alerts", include_quiet="true")["items"]
    assert {a["id"] for a in stored} == set(raised)
    for a in stored:
        e = raised[a["id"]]
        assert (a["type"], a["call_id"], a["agent_id"], a["t"]) == (
            e["type"],
            "al-1",
            "a1",
            e["t"],
        )
        assert a["data"] == e["data"] and a["acknowledged_at"] is None
        assert abs(datetime.fromisoformat(a["at"]).timestamp() - e["emitted_at"]) < 0.01
    # a new client (another dashboard, a reload) gets them; an agent only their own calls'
    assert len(_get(server, keys["supervisor"], "/api/v1/alerts")["items"]) == len(raised)
    assert len(_get(server, keys["a1"], "/api/v1/alerts")["items"]) == len(raised)
    assert _get(server, keys["a2"], "/api/v1/alerts")["items"] == []
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert _get(server, keys["qa"], "/api/v1/alerts", since=later)["items"] == []


def test_acknowledging_records_who_and_when_in_the_audit_log(live):
    server, keys = live["server"], live["keys"]
    items = _get(server, keys["qa"], "/api/v1/alerts")["items"]
    target = next(a for a in items if a["type"] == "interruption")
    url = f"/api/v1/alerts/{target['id']}/ack"
    with server.client(keys["a1"]) as c:
        assert c.post(url, json={}).status_code == 403  # agents do not acknowledge
    with server.client(keys["supervisor"]) as c:
        r = c.post(url, json={"note": "talked to the agent"})
        assert r.status_code == 200, r.text
        done = r.json()
        again = c.post(url, json={})
        assert again.status_code == 409 and "acknowledged already" in again.text
        assert c.post("/api/v1/alerts/999999/ack", json={}).status_code == 404
    assert done["acknowledged_by_name"] == "Mei Supervisor"
    assert done["note"] == "talked to the agent"
    at = datetime.fromisoformat(done["acknowledged_at"])
    assert abs((datetime.now(UTC) - at).total_seconds()) < 60
    listed = _get(server, keys["qa"], "/api/v1/alerts", acknowledged="true")["items"]
    assert [a["id"] for a in listed] == [target["id"]]
    assert target["id"] not in {
        a["id"] for a in _get(server, keys["qa"], "/api/v1/alerts", acknowledged="false")["items"]
    }
    audit = server.store.audit_log(200)
    (entry,) = [a for a in audit if a.action == "alert.ack"]
    assert entry.target == f"alert:{target['id']}" and entry.outcome == "ok"
    assert entry.key_id == done["acknowledged_by"] and "talked to the agent" in entry.detail
    assert any(a.outcome == "refused" and "/ack" in (a.target or "") for a in audit)


# --- the dashboard ---------------------------------------------------------------------------


def test_the_dashboard_lists_stored_alerts_after_a_reload_and_acknowledges_them(live, browser):
    server, keys = live["server"], live["keys"]
    # one more alert of another call, so there is one to acknowledge whatever the live call
    # raised and the other tests acknowledged
    server.store.add_alert(
        call_id="al-2",
        agent_id="a2",
        kind="agitation_rising",
        severity="major",
        t=12.5,
        at=datetime.now(UTC),
        data={"agitation": 0.81, "threshold": 0.6, "anger_words": ["生气"]},
    )
    stored = _get(server, keys["qa"], "/api/v1/alerts")["items"]
    open_ids = [a["id"] for a in stored if a["acknowledged_at"] is None and not a["withdrawn"]]
    assert open_ids
    errors: list[str] = []
    context, page = signed_in_page(browser, server.base_url, keys["supervisor"], errors)
    try:
        page.goto(f"{server.base_url}/dashboard")
        page.wait_for_selector("#alerts[data-loaded]", state="attached")
        shown = page.eval_on_selector_all("#alerts li", "ls => ls.map(l => +l.dataset.alertId)")
        assert sorted(shown) == sorted(a["id"] for a in stored)
        acked = [a["id"] for a in stored if a["acknowledged_at"]]
        for alert_id in acked:  # acknowledged before (the API test): shown so, no button
            li = f"#alerts li[data-alert-id='{alert_id}']"
            assert page.locator(f"{li} [data-testid=acked]").count() == 1
            assert page.locator(f"{li} [data-testid=ack]").count() == 0
        first = f"#alerts li[data-alert-id='{open_ids[0]}']"
        page.click(f"{first} [data-testid=ack]")
        page.wait_for_selector(f"{first} [data-testid=acked]")
        page.reload()
        page.wait_for_selector("#alerts[data-loaded]", state="attached")
        assert "Mei Supervisor" in page.inner_text(f"{first} [data-testid=acked]")
        for other in open_ids[1:]:
            assert page.locator(f"#alerts li[data-alert-id='{other}'] [data-testid=ack]").count()
        assert not errors, errors
    finally:
        context.close()


def test_a_withdrawn_alert_shows_withdrawn_on_the_dashboard_after_a_reload(live, browser):
    server, keys = live["server"], live["keys"]
    # the live pipeline's events, through the keeper, on the server's own database
    keeper = AlertKeeper(server.store, AlertSettings())
    raised = keeper.handle(
        _event("interruption", 61.25, "al-3", agent_start=61.25, overlap_s=0.8, basis="sound")
    )
    reason = "the agent's words are a backchannel"
    keeper.handle(
        _event("alert_withdrawn", 61.25, "al-3", alert="interruption", agent_start=61.25,
               agent_end=61.9, quote="嗯嗯", reason=reason)
    )  # fmt: skip
    (item,) = _get(server, keys["supervisor"], "/api/v1/alerts", call_id="al-3")["items"]
    assert item["id"] == raised["alert_id"] and item["withdrawn"]["reason"] == reason
    li = f"#alerts li[data-alert-id='{raised['alert_id']}']"
    # a louder turn told by sound, withdrawn with a reason in figures: said in the page's language
    louder = keeper.handle(_event("agent_louder", 70.5, "al-4", loudness_rel_db=8.1, basis="sound"))
    keeper.handle(
        _event("alert_withdrawn", 70.5, "al-4", alert="agent_louder", start=70.5,
               reason="the whole turn, with its words, was +1.9 dB", reason_code="not_louder",
               values={"loudness_rel_db": 1.9, "limit_db": 4.0})
    )  # fmt: skip
    louder_li = f"#alerts li[data-alert-id='{louder['alert_id']}']"
    errors: list[str] = []
    for viewport in (DESKTOP, PHONE):  # and the day's alerts fit a phone
        context = browser.new_context(locale="zh-CN", viewport=viewport)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            page.goto(f"{server.base_url}/signin")
            page.fill("#key", keys["supervisor"])
            page.click("#signin-form button[type=submit]")
            page.wait_for_selector("[data-testid=whoami]")
            for _ in range(2):  # the first load, then a reload
                page.goto(f"{server.base_url}/dashboard")
                page.wait_for_selector("#alerts[data-loaded]", state="attached")
                assert page.get_attribute(li, "data-withdrawn") == "true"
                note = page.inner_text(f"{li} [data-testid=withdrawn]")
                assert note.startswith("已撤回：") and "附和" in note
                said = page.inner_text(f"{louder_li} [data-testid=withdrawn]")
                assert said.startswith("已撤回：整段话") and "1.9 dB" in said and "4 dB" in said
                assert page.locator(f"{li} [data-testid=ack]").count() == 0
            layout = page.evaluate(OVERFLOW)
            assert layout["scrollWidth"] <= viewport["width"], layout
            page.screenshot(
                path=str(SCREENSHOTS / f"dashboard-alerts-zh-{viewport['width']}.png"),
                full_page=True,
            )
        finally:
            context.close()
    assert not errors, errors
