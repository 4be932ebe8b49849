// QA call page: scorecard, timeline, transcript by role and the audio; a finding click plays
// the audio from the finding's start and highlights its transcript turn.
import { api, ApiError, download, showError, startPage } from "./api.js";
import { linkedPlayer, renderPractices, renderTrend } from "./report-view.js";
import { legend, renderTimeline } from "./timeline.js";
import { badge, fmtDate, fmtTime, h, scoreEl } from "./util.js";

const root = document.getElementById("call");
const callId = decodeURIComponent(location.pathname.split("/").pop());
document.title = `${callId} · Calmline`;
if (document.referrer.startsWith(`${location.origin}/review?`)) {
  document.getElementById("back").href = new URL(document.referrer).pathname + new URL(document.referrer).search;
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
      call.critical ? badge("critical", "critical") : null,
      card && card.capped_by.length ? h("span", { class: "small muted" }, `capped by ${card.capped_by.join(", ")} (uncapped ${Math.round(card.uncapped)})`) : null,
      h("span", { class: "small" }, "Export: ", exportButton("json"), " ", exportButton("vtt"), " ", exportButton("rttm")),
    ),
    h(
      "div",
      { class: "facts" },
      fact("Agent", call.agent_id),
      fact("Started", fmtDate(call.started_at || call.created_at)),
      fact("Length", fmtTime(m.duration)),
      fact("Language", report.language),
      fact("Talk ratio (agent)", m.talk_ratio === null ? "–" : `${Math.round(m.talk_ratio * 100)} %`),
      fact("Overlap", `${m.overlap_time.toFixed(1)} s`),
      fact("No one talking", `${m.non_talk_time.toFixed(1)} s`),
      fact("Rubric", card ? `${card.rubric} ${card.rubric_version}` : "–"),
      fact("Source", call.source),
    ),
    report.warnings && report.warnings.length ? h("p", { class: "small muted" }, `Warnings: ${report.warnings.join("; ")}`) : null,
  );
}

function render(call, report) {
  const { player, transcript, onFinding } = linkedPlayer(call, report, root);
  const timeline = renderTimeline(report, { onSeek: (t) => player.seek(t), onFinding });
  player.el.addEventListener("timeupdate", () => timeline.setTime(player.el.currentTime));
  player.el.addEventListener("seeked", () => timeline.setTime(player.el.currentTime));

  const practices = renderPractices(report, onFinding);
  const creditsToggle = () => {
    const box = h("input", { type: "checkbox", checked: true });
    box.addEventListener("change", () => practices.classList.toggle("hide-positive", !box.checked));
    return h("label", { class: "small muted" }, box, " show credited moments (positive findings)");
  };
  root.replaceChildren(
    header(call, report),
    h("section", { class: "panel player" }, player.el, timeline.svg, legend()),
    h(
      "div",
      { class: "grid2" },
      h("section", { class: "panel" }, h("h2", {}, "Scorecard"), creditsToggle(), practices),
      h(
        "div",
        {},
        h("section", { class: "panel" }, h("h2", {}, "Customer trend"), renderTrend(report)),
        h("section", { class: "panel" }, h("h2", {}, "Transcript"), transcript.el),
      ),
    ),
  );
}

async function load(me) {
  let call;
  try {
    call = await api(`/api/v1/calls/${encodeURIComponent(callId)}`);
    const report = await api(`/api/v1/calls/${encodeURIComponent(callId)}/report`);
    render(call, report);
  } catch (e) {
    if (e instanceof ApiError && e.status === 409 && call) {
      const failed = call.status === "failed";
      root.replaceChildren(
        h("section", { class: "notice", role: "status" }, `Call ${callId} is not scored yet (${call.status}${failed && call.error ? `: ${call.error}` : ""}).`, failed ? "" : " This page refreshes by itself."),
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
