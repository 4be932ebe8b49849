"""The web pages in a real headless Chromium (Playwright) against a real ``calmline serve``.

One server for the module with two analysed uploads (an English call of agent-a, a Mandarin call
of agent-b); the dashboard test streams a third call through the live ingest. Screenshots of
every page go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,  # noqa: F401  (tests/test_applicability.py imports it)
    SAMPLES,
    SCREENSHOTS,
)
from tests.live_client import read_wav
from tests.server import CalmlineServer

AUDIO_READY = "(() => { const a = document.querySelector('audio'); return a?.readyState > 0 })()"
"""The page's player has loaded the audio's metadata (duration known, seekable)."""

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is absent (scripts/system-deps.sh installs Debian's chromium)",
)


@dataclass
class Site:
    server: CalmlineServer
    keys: dict[str, str]
    calls: dict[str, str]  # sample name -> call id
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.base_url

    def api(self, path: str, role: str = "admin", **params: Any) -> Any:
        with self.server.client(self.keys[role]) as c:
            r = c.get(path, params=params)
            r.raise_for_status()
            return r.json()


@pytest.fixture(scope="module")
def site(tmp_path_factory, cache_dir) -> Iterator[Site]:
    server = CalmlineServer(tmp_path_factory.mktemp("pages-server"), cache_dir).start()
    try:
        keys = {
            "admin": server.key("admin"),
            "qa_lead": server.key("qa_lead"),
            "supervisor": server.key("supervisor"),
            "agent_a": server.key("agent", "agent-a"),
        }
        uploads = {
            "en_stereo_mulaw": ("agent-a", "2026-01-10T09:00:00"),
            "zh_stereo": ("agent-b", "2026-02-20T15:30:00"),
        }
        calls, jobs = {}, {}
        for name, (agent, started_at) in uploads.items():
            r = server.upload(keys["admin"], SAMPLES / f"{name}.wav", agent, started_at=started_at)
            assert r.status_code == 202, r.text
            calls[name], jobs[name] = r.json()["call_id"], r.json()["job_id"]
        for name, job_id in jobs.items():
            job = server.wait_job(keys["admin"], job_id)
            assert job["state"] == "done", f"{name}: {job}"
        site = Site(server, keys, calls)
        for name, call_id in calls.items():
            site.summaries[name] = site.api(f"/api/v1/calls/{call_id}")
        yield site
    finally:
        server.stop()


def sign_in(page, site: Site, role: str, lands_on: str) -> None:
    page.goto(f"{site.url}/")
    page.wait_for_url("**/signin")
    page.fill("#key", site.keys[role])
    page.click("#signin-form button[type=submit]")
    page.wait_for_url(f"**{lands_on}")


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def listed_calls(page) -> list[str]:
    """The call ids in the list once it shows what the page URL asks for."""
    page.wait_for_function(
        "(() => { const b = document.querySelector('#calls tbody'); return b && "
        "b.dataset.query === new URLSearchParams(location.search).toString(); })()"
    )
    return page.eval_on_selector_all(
        "#calls tbody tr[data-call-id]", "rows => rows.map(r => r.dataset.callId)"
    )


def api_ids(site: Site, **params: Any) -> list[str]:
    return [c["call_id"] for c in site.api("/api/v1/calls", **params)["items"]]


def test_sign_in_sends_each_role_to_its_page(site, open_page):
    page = open_page()
    page.goto(f"{site.url}/")
    page.wait_for_url("**/signin")
    page.fill("#key", "cl_not_a_key")
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#message .error")
    assert "not known" in page.inner_text("#message")
    shot(page, "signin")
    homes = {"qa_lead": "/review", "supervisor": "/dashboard", "agent_a": "/feedback"}
    for role, home in homes.items():
        page = open_page()
        requested: list[str] = []
        page.on("request", lambda r, seen=requested: seen.append(r.url))
        sign_in(page, site, role, home)
        page.wait_for_selector("[data-testid=whoami]")
        key = site.keys[role]
        # the key is kept nowhere a script can read it: an HttpOnly, SameSite=Strict cookie
        # holding a session token (not the key) is all the browser has
        stored = page.evaluate(
            "JSON.stringify([document.cookie, {...sessionStorage}, {...localStorage}])"
        )
        assert key not in stored and "calmline_session" not in stored
        (cookie,) = [c for c in page.context.cookies() if c["name"] == "calmline_session"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert cookie["path"] == "/api/" and key not in cookie["value"]
        assert requested and not [u for u in requested if key in u or "key=" in u]

    # signing out ends the session: the pages ask for the key again
    page.click("#who button")
    page.wait_for_url("**/signin")
    page.goto(f"{site.url}/feedback")
    page.wait_for_url("**/signin?next=*")
    assert not [c for c in page.context.cookies() if c["name"] == "calmline_session"]


def test_a_request_refused_while_signing_out_leads_to_the_sign_in_page(site, open_page):
    """Signing out while the page still loads: its data requests come back 401 once the session
    is gone, and that must not send the browser to "session expired" instead of /signin."""
    page = open_page()
    sign_in(page, site, "agent_a", "/feedback")
    page.wait_for_selector("[data-testid=whoami]")
    held, requested = [], []
    page.on("request", lambda r: requested.append(r.url))
    page.route(
        "**/api/v1/session",
        lambda route: held.append(route) if route.request.method == "DELETE" else route.continue_(),
    )
    # sign out; before the DELETE comes back, a request of the page fails with 401
    page.evaluate(
        """async () => {
            const m = await import("/static/api.js");
            m.signOut();
            m.showError(new m.ApiError(401, "the session is gone"));
        }"""
    )
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1, "signing out sent no DELETE /api/v1/session"
    assert not [u for u in requested if "reason=expired" in u]
    held[0].continue_()
    page.wait_for_url("**/signin")
    assert not [u for u in requested if "reason=expired" in u]
    assert not [c for c in page.context.cookies() if c["name"] == "calmline_session"]


def test_review_lists_and_filters_calls(site, open_page):
    en, zh = site.calls["en_stereo_mulaw"], site.calls["zh_stereo"]
    page = open_page()
    sign_in(page, site, "qa_lead", "/review")
    assert sorted(listed_calls(page)) == sorted([en, zh])
    assert page.inner_text("[data-testid=range]") == "1–2 of 2 calls"
    shot(page, "review-list")

    def apply(**fields: str) -> list[str]:
        page.click("#filters button[type=reset]")
        page.wait_for_function("!location.search")
        for name, value in fields.items():
            selector = f"#filters [name={name}]"
            if page.eval_on_selector(selector, "e => e.tagName") == "SELECT":
                page.select_option(selector, value)
            else:
                page.fill(selector, value)
        page.click("#filters button[type=submit]")
        page.wait_for_function(f"new URLSearchParams(location.search).size > {len(fields)}")
        return listed_calls(page)

    assert apply(language="zh") == [zh]
    assert apply(language="en") == [en]
    assert apply(agent_id="agent-a") == [en]
    assert apply(since="2026-02-01") == [zh]
    assert apply(since="2026-01-10", until="2026-01-10") == [en]  # "to" includes the day
    # which calls are critical depends on the words Whisper heard; the filter must follow the API
    critical = [c for name, c in site.calls.items() if site.summaries[name]["critical"]]
    assert apply(critical="true") == critical
    assert apply(critical="false") == [c for c in (zh, en) if c not in critical]

    # a score range between the two calls' overall scores keeps only the better one
    scores = {c: site.summaries[n]["overall"] for n, c in site.calls.items()}
    low, high = sorted(scores.values())
    assert high - low >= 2
    cut = str(int((low + high) / 2))
    assert apply(min_score=cut) == [c for c, s in scores.items() if s >= float(cut)]
    assert apply(max_score=cut) == [c for c, s in scores.items() if s <= float(cut)]

    # a practice below a threshold: a practice the two calls score differently
    pe = site.summaries["en_stereo_mulaw"]["practices"]
    pz = site.summaries["zh_stereo"]["practices"]
    practice = next(
        p for p in pe if pe[p] is not None and pz.get(p) is not None and abs(pe[p] - pz[p]) >= 2
    )
    below = (pe[practice] + pz[practice]) / 2
    expected = api_ids(site, practice=practice, below=below)
    assert len(expected) == 1
    assert apply(practice=practice, below=f"{below:g}") == expected

    # pagination: one call per page, newest first, like the API
    page.goto(f"{site.url}/review?limit=1")
    assert listed_calls(page) == [zh]
    assert page.inner_text("[data-testid=range]") == "1–1 of 2 calls"
    assert page.is_disabled("#prev")
    page.click("#next")
    page.wait_for_url("**offset=1*")
    assert listed_calls(page) == [en]
    assert page.is_disabled("#next")
    shot(page, "review-paged")


def test_call_page_finding_moves_the_player(site, open_page):
    call_id = site.calls["en_stereo_mulaw"]
    report = site.api(f"/api/v1/calls/{call_id}/report")
    findings = [f for p in report["scorecard"]["practices"] for f in p["findings"]]
    interruption = next(f for f in findings if f["kind"] == "interruption")

    page = open_page()
    audio_responses = []
    page.on(
        "response",
        lambda r: (
            audio_responses.append((r.status, r.request.headers.get("range"), r.url))
            if f"/api/v1/calls/{call_id}/audio" in r.url
            else None
        ),
    )
    sign_in(page, site, "qa_lead", "/review")
    page.click(f"#calls a[href='/review/{call_id}']")
    page.wait_for_url(f"**/review/{call_id}")
    page.wait_for_function(AUDIO_READY)
    # the audio really loaded (not just a default start position): its duration, by Range
    duration = page.evaluate("document.querySelector('audio').duration")
    assert duration == pytest.approx(report["audio"]["duration"], abs=0.5)
    assert any(status == 206 and rng for status, rng, _ in audio_responses), audio_responses
    assert not [u for *_, u in audio_responses if "key=" in u], "the cookie, not a key in the URL"

    # the timeline draws what the report holds
    svg = "[data-testid=timeline]"
    assert page.locator(f"{svg} g.marker").count() == sum(f["start"] is not None for f in findings)
    assert page.locator(f"{svg} rect.overlap").count() == len(report["overlaps"]) >= 1
    assert page.locator(f"{svg} rect.nontalk").count() == len(report["metrics"]["non_talk"]) >= 1
    stress_turns = report["scorecard"]["stress"]["turns"]
    assert page.locator(f"{svg} circle.agitation-dot").count() == len(stress_turns) >= 2
    assert page.locator("[data-testid=transcript] li").count() == len(report["turns"])

    # a finding in the scorecard: the player jumps to its start, its turn is highlighted
    page.click(
        f"button.finding[data-practice=let_finish][data-kind=interruption]"
        f"[data-start='{interruption['start']}']"
    )
    page.wait_for_function(
        f"Math.abs(document.querySelector('audio').currentTime - {interruption['start']}) < 0.3"
    )
    focused = page.get_attribute("[data-testid=transcript] li.focus", "id")
    assert focused == f"turn-{interruption['turn_index']}"
    shot(page, "review-call")

    # a marker on the timeline does the same for another finding (one no other marker covers)
    starts = [f["start"] for f in findings if f["start"] is not None]
    other = next(
        f
        for f in findings
        if f["start"] is not None
        and f["start"] > 40
        and sum(abs(t - f["start"]) < 1.0 for t in starts) == 1
    )
    page.click(
        f"{svg} g.marker[data-kind={other['kind']}][data-start='{other['start']}'] path",
        force=True,
    )
    page.wait_for_function(
        f"Math.abs(document.querySelector('audio').currentTime - {other['start']}) < 0.3"
    )


def shown_score(score: float) -> str:
    """A score as the pages print it (``fmtScore``: JavaScript's Math.round, halves up)."""
    return str(math.floor(score + 0.5))


def test_agent_key_sees_only_its_own_calls(site, open_page):
    own, other = site.calls["en_stereo_mulaw"], site.calls["zh_stereo"]
    page = open_page()
    sign_in(page, site, "agent_a", "/feedback")
    assert listed_calls(page) == [own]
    assert other not in page.inner_text("main")
    assert page.locator("header nav a", has_text="QA review").count() == 0
    shot(page, "feedback-list")

    page.click(f"#calls a[href='/feedback/{own}']")
    page.wait_for_selector(".practice")
    report = site.api(f"/api/v1/calls/{own}/report")
    practices = report["scorecard"]["practices"]
    # the page is this call's own feedback: its overall, every practice with the report's score
    # ("—" where it does not apply) and exactly the report's coaching sentences (a calm routine
    # call handled well may get none)
    assert page.inner_text("[data-testid=overall]") == shown_score(report["scorecard"]["overall"])
    assert page.locator(".practice").count() == len(practices)
    for p in practices:
        head = page.locator(f".practice[data-practice='{p['practice']}'] .head .score")
        assert head.inner_text() == ("—" if p["score"] is None else shown_score(p["score"]))
    coaching = [p["coaching"] for p in practices if p["coaching"]]
    shown = page.locator("[data-testid=coaching]").all_inner_texts()
    assert sorted(shown) == sorted(coaching)
    # its evidence plays its moments: the first timed fault (else credit) of the report
    timed = [
        f
        for p in practices
        for f in p["findings"]
        if f["start"] is not None and f["severity"] != "info"
    ]
    timed.sort(key=lambda f: (f["severity"] == "positive", f["start"]))
    assert timed, "the sample gives no timed finding to play"
    first = timed[0]
    evidence = page.locator(
        f"button.finding[data-practice='{first['practice']}'][data-kind='{first['kind']}']"
    ).first
    start = float(evidence.get_attribute("data-start"))
    assert start == pytest.approx(first["start"])
    page.wait_for_function(AUDIO_READY)
    evidence.click()
    page.wait_for_function(f"Math.abs(document.querySelector('audio').currentTime - {start}) < 0.3")
    shot(page, "feedback-call")

    # another agent's call, typed in directly: the API refuses and the page says so
    page.goto(f"{site.url}/feedback/{other}")
    page.wait_for_selector("[data-testid=refusal]")
    assert "another agent" in page.inner_text("[data-testid=refusal]")
    assert page.locator(".practice").count() == 0
    shot(page, "feedback-refused")
    for path in (f"/review/{other}", "/review", "/dashboard"):
        page.goto(f"{site.url}{path}")
        page.wait_for_selector("[data-testid=refusal]")
        assert "not open to agent keys" in page.inner_text("[data-testid=refusal]")
    with site.server.client(site.keys["agent_a"]) as c:
        assert c.get(f"/api/v1/calls/{other}/report").status_code == 403


class LiveCall(threading.Thread):
    """Streams a sample through ``WS /api/v1/live/ingest`` (the raw protocol: JSON start, binary
    frames of interleaved samples, JSON stop) faster than real time; sends ``stop`` only once
    ``hang_up`` is set, so the call stays live until the test has seen what it waits for."""

    def __init__(self, site: Site, path: Path, call_id: str, agent_id: str, speed: float) -> None:
        super().__init__(daemon=True)
        self.site = site
        self.path = path
        self.call_id = call_id
        self.agent_id = agent_id
        self.speed = speed
        self.hang_up = threading.Event()
        self.stopped: dict[str, Any] | None = None
        self.error: Exception | None = None

    def run(self) -> None:
        from websockets.sync.client import connect

        try:
            wav = read_wav(self.path)
            url = self.site.url.replace("http://", "ws://") + "/api/v1/live/ingest"
            headers = {"Authorization": f"Bearer {self.site.keys['supervisor']}"}
            with connect(url, additional_headers=headers, open_timeout=30) as ws:
                start = {
                    "type": "start",
                    "call_id": self.call_id,
                    "agent_id": self.agent_id,
                    "sample_rate": wav.rate,
                    "encoding": wav.encoding,
                    "channels": wav.channels,
                }
                ws.send(json.dumps(start))
                reply = json.loads(ws.recv(timeout=30))
                if reply.get("type") != "started":
                    raise RuntimeError(f"ingest refused the start message: {reply}")
                # 200 ms binary frames of interleaved samples, `speed` times real time
                step = round(0.2 * wav.rate) * wav.width * wav.channels
                for i in range(0, len(wav.payload), step):
                    ws.send(wav.payload[i : i + step])
                    time.sleep(0.2 / self.speed)
                self.hang_up.wait(180)
                ws.send(json.dumps({"type": "stop"}))
                self.stopped = json.loads(ws.recv(timeout=180))
        except Exception as e:  # reported by the test
            self.error = e


def test_dashboard_shows_a_live_alert(site, open_page):
    planted = json.loads((SAMPLES / "en_stereo_mulaw.json").read_text())["events"]["interruption"]
    call_id = "live-pages-1"
    page = open_page()
    sign_in(page, site, "supervisor", "/dashboard")
    page.wait_for_selector("[data-testid=connection][data-state=open]")
    assert "No calls in progress" in page.inner_text("#live")

    call = LiveCall(site, SAMPLES / "en_stereo_mulaw.wav", call_id, "agent-live", speed=5.0)
    call.start()
    row = f"#live tbody tr[data-call-id='{call_id}']"
    alert = f"#alerts li[data-type=interruption][data-call-id='{call_id}']"
    try:
        page.wait_for_selector(row, timeout=30_000)
        assert page.inner_text(f"{row} td:first-child") == "agent-live"
        page.click(f"{row} td:nth-child(2)")  # follow the call
        page.wait_for_selector(alert, timeout=90_000)
        # the alert is there while the call is still live (stop has not been sent)
        assert call.stopped is None and call.error is None
        assert page.get_attribute(row, "data-state") == "live"
        assert float(page.get_attribute(alert, "data-t")) == pytest.approx(
            planted["agent_start"], abs=1.0
        )
        assert int(page.inner_text(f"{row} td.interruptions")) >= 1
        assert int(page.inner_text(f"{row} td.alert-count")) >= 1
        follow_alerts = "[data-testid=follow-alerts] li[data-type=interruption]"
        page.wait_for_selector(follow_alerts)
        page.wait_for_selector("[data-testid=live-transcript] li.customer")
        # the duration ticks while the call is live
        before = page.inner_text(f"{row} td.duration")
        page.wait_for_function(
            f"document.querySelector(\"{row} td.duration\").textContent !== '{before}'"
        )
        shot(page, "dashboard-live")
    finally:
        call.hang_up.set()
        call.join(240)
    assert call.error is None, call.error
    assert call.stopped and call.stopped["type"] == "stopped", call.stopped
    page.wait_for_selector(f"{row}[data-state=ended]", timeout=30_000)
    assert page.locator(f"{row} a[href='/review/{call_id}']").count() == 1
    shot(page, "dashboard-ended")
