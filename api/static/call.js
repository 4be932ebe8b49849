// QA call page: scorecard, timeline, transcript by role and the audio; a finding click plays
// the audio from the finding's start and highlights its transcript turn.
import { api, ApiError, download, showError, startPage } from "./api.js";
import { linkedPlayer, renderPractices, renderTrend, reviewNotice } from "./report-view.js";
import { legend, renderTimeline, zoomable } from "./timeline.js";
import { badge, fmtDate, fmtTime, h, scoreEl } from "./util.js";
import { evaluationPanel, loadEvaluation } from "./evaluation.js";
import { langName, t } from "./i18n.js";

const root = document.getElementById("call");
const callId = decodeURIComponent(location.pathname.split("/").pop());
document.title = t("call.page_title", { id: callId });
if (document.referrer.startsWith(`${location.origin}/review?`)) {
  document.getElementById("back").href = new URL(document.referrer).pathname + new URL(document.referrer).search;
}

/** A practice's name as the call's rubric gives it (its id when the scorecard lacks it). */
function practiceName(card, id) {
  const p = card.practices.find((x) => x.practice === id);
  return p ? p.name : id;
}

function fact(label, value) {
  return h("span", {}, h("b", {}, label), value);
}

function header(call, report) {
  const card = report.scorecard;
  const m = report.metrics;
  const enc = encodeURIComponent(call.call_id);
  const exportButton = (fmt) =>
    h("button", { type: "button", onclick: () => download(`/api/v1/calls/${enc}/export/${fmt}`, `${call.call_id}.${fmt}`).catch((e) => showError(e)) }, fmt.toUpperCase());
  return h(
    "section",
    { class: "panel" },
    h(
      "div",
      { class: "callhead" },
      h("h1", {}, call.call_id),
      h("span", { class: "overall", "data-testid": "overall" }, scoreEl(card ? card.overall : call.overall)),
      call.critical ? badge(t("common.critical"), "critical") : null,
      card && card.needs_review ? badge(t("common.needs_review"), "minor") : null,
      card && card.capped_by.length ? h("span", { class: "small muted" }, t("call.capped", { by: card.capped_by.map((id) => practiceName(card, id)).join(t("list.sep")), uncapped: Math.round(card.uncapped) })) : null,
      h("span", { class: "small" }, t("call.export"), exportButton("json"), " ", exportButton("vtt"), " ", exportButton("rttm")),
    ),
    h(
      "div",
      { class: "facts" },
      fact(t("call.agent"), call.agent_id),
      fact(t("call.started"), fmtDate(call.started_at || call.created_at)),
      fact(t("call.length"), fmtTime(m.duration)),
      fact(t("call.language"), langName(report.language)),
      fact(t("call.talk_ratio"), m.talk_ratio === null ? "–" : `${Math.round(m.talk_ratio * 100)} %`),
      fact(t("call.overlap"), t("unit.s", { v: m.overlap_time.toFixed(1) })),
      fact(t("call.non_talk"), t("unit.s", { v: m.non_talk_time.toFixed(1) })),
      fact(t("call.rubric"), card ? `${card.rubric} ${card.rubric_version}` : "–"),
      fact(t("call.source"), call.source),
    ),
    report.warnings && report.warnings.length ? h("p", { class: "small muted", lang: "en" }, t("call.warnings", { list: report.warnings.join("; ") })) : null,
    reviewNotice(report),
  );
}

function render(call, report, me, ev) {
  const { player, transcript, onFinding } = linkedPlayer(call, report, root);
  const timeline = renderTimeline(report, { onSeek: (t) => player.seek(t), onFinding });
  const zoom = zoomable(timeline.svg);
  const duration = Number(timeline.svg.dataset.duration);
  player.el.addEventListener("timeupdate", () => {
    timeline.setTime(player.el.currentTime);
    zoom.follow(player.el.currentTime, duration);
  });
  player.el.addEventListener("seeked", () => timeline.setTime(player.el.currentTime));

  const practices = renderPractices(report, onFinding);
  const creditsToggle = () => {
    const box = h("input", { type: "checkbox", checked: true });
    box.addEventListener("change", () => practices.classList.toggle("hide-positive", !box.checked));
    return h("label", { class: "small muted" }, box, t("call.show_credits"));
  };
  root.replaceChildren(
    header(call, report),
    h("section", { class: "panel player" }, player.el, zoom, legend()),
    h(
      "div",
      { class: "grid2" },
      h("section", { class: "panel" }, h("h2", {}, t("call.scorecard")), creditsToggle(), practices),
      h(
        "div",
        {},
        h("section", { class: "panel" }, h("h2", {}, t("call.trend")), renderTrend(report)),
        h("section", { class: "panel" }, h("h2", {}, t("call.transcript")), transcript.el),
      ),
    ),
    report.scorecard ? evaluationPanel({ me, call, report, ev, getTime: () => player.el.currentTime }) : null,
  );
}

async function load(me) {
  let call;
  try {
    call = await api(`/api/v1/calls/${encodeURIComponent(callId)}`);
    const report = await api(`/api/v1/calls/${encodeURIComponent(callId)}/report`);
    render(call, report, me, report.scorecard ? await loadEvaluation(callId) : null);
  } catch (e) {
    if (e instanceof ApiError && e.status === 409 && call) {
      const failed = call.status === "failed";
      root.replaceChildren(
        h("section", { class: "notice", role: "status" }, t("call.not_scored", { id: callId, state: `${t(`status.${call.status}`)}${failed && call.error ? `: ${call.error}` : ""}` }), failed ? "" : t("call.refreshes")),
      );
      if (!failed) setTimeout(() => load(me), 4000);
      return;
    }
    root.replaceChildren();
    if (e instanceof ApiError && e.status === 404) root.append(h("div", { class: "error", role: "alert" }, e.detail));
    else showError(e, me, root);
  }
}

const me = await startPage("review");
if (me) await load(me);
