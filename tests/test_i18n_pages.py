"""The pages in Chinese and English, and on a phone, in a real headless Chromium against a real
``calmline serve`` with one analysed Mandarin call.

Chinese browser locale: the interface is Chinese (``<html lang="zh-CN">``), the call's practice
names, finding kinds and details are Chinese, no Chinese text is set in italics and the call's
text carries full-width punctuation; the switch turns the interface to English and the choice
holds on the next page. At 390 x 844 (a phone) no page scrolls sideways: tables become cards
and the timeline zooms inside its own box. Screenshots of each page in both languages and both
widths go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CHROMIUM, DESKTOP, SAMPLES, SCREENSHOTS
from tests.server import CalmlineServer

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is absent (scripts/system-deps.sh installs Debian's chromium)",
)

PHONE = {"width": 390, "height": 844}
CJK = re.compile(r"[\u3400-\u9fff]")
HALF_WIDTH_AFTER_CJK = re.compile(r"[\u3400-\u9fff][,;:!?](?!\d)")

ITALIC_CJK = """() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const out = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!/[\\u3400-\\u9fff]/.test(n.textContent) || !n.parentElement) continue;
    if (getComputedStyle(n.parentElement).fontStyle !== "normal") out.push(n.textContent);
  }
  return out;
}"""
"""Text nodes holding Chinese characters whose computed font style is not normal."""

OVERFLOW = """() => {
  const W = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > W + 1 && !el.closest(".timeline-box"))
    .map((el) => `${el.tagName}.${el.className}`);
  return { scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 5) };
}"""
"""The document's width and the elements sticking out on the right (the timeline's own
sideways-scrolling box excepted: it clips what it holds)."""


@dataclass
class Site:
    server: CalmlineServer
    keys: dict[str, str]
    call_id: str
    report: dict[str, Any]

    @property
    def url(self) -> str:
        return self.server.base_url


@pytest.fixture(scope="module")
def site(tmp_path_factory, cache_dir) -> Iterator[Site]:
    server = CalmlineServer(tmp_path_factory.mktemp("i18n-server"), cache_dir).start()
    try:
        keys = {"qa_lead": server.key("qa_lead"), "supervisor": server.key("supervisor")}
        r = server.upload(keys["qa_lead"], SAMPLES / "zh_stereo.wav", "agent-b")
        assert r.status_code == 202, r.text
        job = server.wait_job(keys["qa_lead"], r.json()["job_id"])
        assert job["state"] == "done", job
        call_id = r.json()["call_id"]
        with server.client(keys["qa_lead"]) as c:
            report = c.get(f"/api/v1/calls/{call_id}/report").json()
        yield Site(server, keys, call_id, report)
    finally:
        server.stop()


def sign_in(page, site: Site, role: str, lands_on: str) -> None:
    page.goto(f"{site.url}/signin")
    page.fill("#key", site.keys[role])
    page.click("#signin-form button[type=submit]")
    page.wait_for_url(f"**{lands_on}")
    page.wait_for_selector("[data-testid=whoami]")


def shot(page, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def open_call(page, site: Site) -> None:
    page.goto(f"{site.url}/review/{site.call_id}")
    page.wait_for_selector(".practice")


def test_chinese_browser_gets_chinese_pages_and_can_switch(site, open_page):
    page = open_page("zh-CN", DESKTOP)
    sign_in(page, site, "qa_lead", "/review")
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.inner_text("header nav a.current") == "质检"
    assert page.inner_text("[data-testid=whoami]") == "已登录：质检主管"

    open_call(page, site)
    assert page.get_attribute("html", "lang") == "zh-CN"
    card = site.report["scorecard"]
    assert card["language"] == "zh"
    # practice names as the Chinese rubric gives them, in the rubric's order
    names = page.locator(".practice h3").all_inner_texts()
    assert names == [p["name"] for p in card["practices"]]
    assert all(CJK.search(n) for n in names)
    # every finding's kind and (where the measured fields allow) its detail in Chinese
    kinds = page.locator("button.finding .kind").all_inner_texts()
    assert kinds and all(CJK.search(k) for k in kinds), kinds
    details = page.eval_on_selector_all(
        "button.finding .detail", "els => els.map(e => [e.lang, e.textContent])"
    )
    assert details and all(lang == "zh" and CJK.search(text) for lang, text in details), details
    # the coaching sentences (in the rubric's language) are all there
    coaching = [p["coaching"] for p in card["practices"] if p["coaching"]]
    assert page.locator("[data-testid=coaching]").count() == len(coaching) >= 1
    # the interface around the call is Chinese too
    assert page.locator("section.panel h2", has_text="评分卡").count() == 1
    assert page.text_content("[data-testid=timeline] text >> nth=0") == "发现"
    # no Chinese in italics, and Chinese text with full-width punctuation
    assert page.evaluate(ITALIC_CJK) == []
    shown = page.locator(
        "[data-testid=transcript] .text, button.finding .quote, [data-testid=coaching]"
    ).all_inner_texts()
    assert any(CJK.search(s) for s in shown)
    assert [s for s in shown if HALF_WIDTH_AFTER_CJK.search(s)] == []
    shot(page, "i18n-call-zh-1366")

    # the switch: English interface, the call's own words stay Chinese; the choice is kept
    page.click("[data-testid=lang-switch]")
    page.wait_for_function("document.documentElement.lang === 'en'")
    page.wait_for_selector(".practice")
    assert page.inner_text("[data-testid=whoami]") == "Signed in: qa lead"
    assert page.locator("section.panel h2", has_text="Scorecard").count() == 1
    assert page.locator(".practice h3").all_inner_texts() == names
    assert page.locator(".practice h3 >> nth=0").get_attribute("lang") == "zh"
    assert page.evaluate(ITALIC_CJK) == []
    shot(page, "i18n-call-en-zh-call-1366")
    page.goto(f"{site.url}/disputes")
    page.wait_for_selector("#disputes [data-testid=no-disputes]")
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text("h1") == "Disputes"
    page.click("[data-testid=lang-switch]")
    page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    assert page.inner_text("h1") == "申诉"


def test_chinese_catalog_uses_full_width_punctuation(site, open_page):
    page = open_page("zh-CN", DESKTOP)
    page.goto(f"{site.url}/signin")
    page.wait_for_selector("[data-testid=lang-switch]")
    assert page.inner_text("h1") == "登录"
    catalogs = page.evaluate("import('/static/i18n.js').then((m) => m.catalogs())")
    zh = {
        **catalogs["ui"]["zh"],
        **{f"kind.{k}": v for k, v in catalogs["kinds"]["zh"].items()},
        **{f"detail.{k}": v for k, v in catalogs["details"]["zh"].items()},
    }
    assert set(catalogs["ui"]["zh"]) == set(catalogs["ui"]["en"])  # nothing left untranslated
    half = re.compile(r"[\u3400-\u9fff][,.;:!?()]|[,.;:!?()][\u3400-\u9fff]")
    assert {k: v for k, v in zh.items() if half.search(v)} == {}
    # every kind of finding the call holds has a Chinese name
    kinds = {f["kind"] for p in site.report["scorecard"]["practices"] for f in p["findings"]}
    assert kinds and kinds <= set(catalogs["kinds"]["zh"])


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_pages_fit_a_phone(site, open_page, locale):
    lang = locale[:2]
    pages = {
        "review": ("/review", "#calls tbody tr[data-call-id]"),
        "dashboard": ("/dashboard", "[data-testid=connection]"),
        "call": (f"/review/{site.call_id}", ".practice"),
        "feedback": ("/feedback?agent=agent-b", "#calls tbody tr[data-call-id]"),
        "feedback-call": (f"/feedback/{site.call_id}?agent=agent-b", ".practice"),
        "disputes": ("/disputes", "#disputes [data-testid=no-disputes]"),
    }
    for viewport in (PHONE, DESKTOP):
        page = open_page(locale, viewport)
        page.goto(f"{site.url}/signin")
        page.wait_for_selector("[data-testid=lang-switch]")
        assert page.evaluate(OVERFLOW)["scrollWidth"] <= viewport["width"]
        shot(page, f"i18n-signin-{lang}-{viewport['width']}")
        sign_in(page, site, "qa_lead", "/review")
        for name, (path, ready) in pages.items():
            page.goto(f"{site.url}{path}")
            page.wait_for_selector(ready)
            assert page.get_attribute("html", "lang") == {"zh": "zh-CN", "en": "en"}[lang]
            layout = page.evaluate(OVERFLOW)
            assert layout["scrollWidth"] <= viewport["width"], (name, layout)
            if viewport is PHONE and name in ("review", "feedback"):
                # the list is a column of cards: no header row, each cell named by its column
                assert (
                    page.eval_on_selector(
                        "#calls tbody tr[data-call-id]", "tr => getComputedStyle(tr).display"
                    )
                    == "block"
                )
                heads = page.eval_on_selector_all(
                    "#calls thead th", "ths => ths.map((th) => th.textContent.trim())"
                )
                labels = page.eval_on_selector(
                    "#calls tbody tr[data-call-id]",
                    "tr => [...tr.children].map((td) => td.dataset.label)",
                )
                assert labels == heads and all(heads)
            if name == "feedback-call":  # what the agent reads: headings in the interface language
                heading = {"zh": "各项规范（得分从低到高）", "en": "Practices (lowest score first)"}
                assert page.locator("h2", has_text=heading[lang]).count() == 1
            shot(page, f"i18n-{name}-{lang}-{viewport['width']}")

        if viewport is PHONE:
            # the timeline zooms inside its box; the page itself still does not scroll sideways
            page.goto(f"{site.url}/review/{site.call_id}")
            page.wait_for_selector("[data-testid=timeline]")
            box = "[data-testid=timeline-box]"
            # a phone starts zoomed in (2x), wider than the box, which scrolls by itself
            assert page.get_attribute("[data-testid=timeline]", "data-zoom") == "2"
            before = page.eval_on_selector(box, "b => [b.scrollWidth, b.clientWidth]")
            assert before[0] > 1.8 * before[1]
            page.click("[data-testid=zoom-in]")
            assert page.get_attribute("[data-testid=timeline]", "data-zoom") == "4"
            after = page.eval_on_selector(box, "b => [b.scrollWidth, b.clientWidth]")
            assert after[0] >= 1.8 * before[0] and after[1] <= PHONE["width"]
            page.click("[data-testid=zoom-out]")
            page.click("[data-testid=zoom-out]")
            assert page.get_attribute("[data-testid=timeline]", "data-zoom") == "1"
            assert page.eval_on_selector(box, "b => b.scrollWidth <= b.clientWidth + 1")
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            assert page.evaluate(ITALIC_CJK) == []
            page.locator("[data-testid=timeline-box]").screenshot(
                path=str(SCREENSHOTS / f"i18n-timeline-zoom-{lang}-390.png")
            )


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_calibration_and_trends_pages_in_both_languages_fit_a_phone(site, open_page, locale):
    """The calibration and trends pages carry the catalog's headings of the browser's language
    (with a Chinese locale nothing is left in English) and, at 390 px, do not scroll sideways;
    screenshots at both widths."""
    lang = locale[:2]
    other = "en" if lang == "zh" else "zh"
    pages = {
        "calibration": (
            "/calibration",
            "[data-testid=start-calibration]",
            "h1, h2",
            ["cal.heading", "cal.start_heading", "cal.open", "cal.closed"],
        ),
        "trends": (  # the team panel shows last, once everything else is drawn
            "/trends",
            "#team-panel:not([hidden])",
            "h2",
            ["trends.scores", "trends.rates", "trends.recurring", "trends.compare", "trends.teams"],
        ),
    }
    for viewport in (PHONE, DESKTOP):
        page = open_page(locale, viewport)
        sign_in(page, site, "qa_lead", "/review")
        catalogs = page.evaluate("import('/static/i18n.js').then((m) => m.catalogs())")
        mine, theirs = catalogs["ui"][lang], catalogs["ui"][other]
        for name, (path, ready, selector, keys) in pages.items():
            page.goto(f"{site.url}{path}")
            page.wait_for_selector(ready)
            assert page.get_attribute("html", "lang") == {"zh": "zh-CN", "en": "en"}[lang]
            headings = page.locator(selector).all_inner_texts()
            for key in keys:
                assert mine[key] in headings, (name, key, headings)
                assert theirs[key] not in headings, (name, key, headings)
                assert bool(CJK.search(mine[key])) == (lang == "zh"), (name, key)
            layout = page.evaluate(OVERFLOW)
            assert layout["scrollWidth"] <= viewport["width"], (name, layout)
            if lang == "zh":
                assert page.evaluate(ITALIC_CJK) == [], name
            shot(page, f"i18n-{name}-{lang}-{viewport['width']}")
