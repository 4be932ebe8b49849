// One call's feedback for the agent: each practice with its score, the evidence (quotes with
// times; a click plays the moment) and the coaching sentence in the call's language.
import { api, ApiError, showError, startPage } from "./api.js";
import { linkedPlayer, renderPractices, renderTrend } from "./report-view.js";
import { badge, fmtDate, fmtTime, h, scoreEl } from "./util.js";

const root = document.getElementById("call");
const callId = decodeURIComponent(location.pathname.split("/").pop());
const agentParam = new URLSearchParams(location.search).get("agent");
document.title = `Feedback ${callId} · Calmline`;

function render(call, report) {
  const { player, transcript, onFinding } = linkedPlayer(call, report, root);
  const card = report.scorecard;
  const coached = card ? card.practices.filter((p) => p.coaching).length : 0;
  root.replaceChildren(
    h(
      "section",
      { class: "panel" },
      h(
        "div",
        { class: "callhead" },
        h("h1", {}, call.call_id),
        h("span", { class: "overall", "data-testid": "overall" }, scoreEl(card ? card.overall : call.overall)),
        call.critical ? badge("critical", "critical") : null,
      ),
      h(
        "div",
        { class: "facts" },
        h("span", {}, h("b", {}, "Date"), fmtDate(call.started_at || call.created_at)),
        h("span", {}, h("b", {}, "Length"), fmtTime(report.metrics.duration)),
        h("span", {}, h("b", {}, "Coaching points"), coached),
      ),
    ),
    h("section", { class: "panel player" }, player.el, h("p", { class: "small muted" }, "Click a quote to hear that moment.")),
    h(
      "div",
      { class: "grid2" },
      h("section", { class: "panel" }, h("h2", {}, "Practices (lowest score first)"), renderPractices(report, onFinding, { worstFirst: true, showInfo: false })),
      h(
        "div",
        {},
        h("section", { class: "panel" }, h("h2", {}, "Customer"), renderTrend(report)),
        h("section", { class: "panel" }, h("details", {}, h("summary", {}, "Transcript"), transcript.el)),
      ),
    ),
  );
}

async function load(me) {
  let call;
  try {
    call = await api(`/api/v1/calls/${encodeURIComponent(callId)}`);
    render(call, await api(`/api/v1/calls/${encodeURIComponent(callId)}/report`));
  } catch (e) {
    root.replaceChildren();
    if (e instanceof ApiError && e.status === 409 && call) {
      root.append(h("section", { class: "notice", role: "status" }, `Feedback for this call is not ready yet (${call.status}).`));
    } else if (e instanceof ApiError && e.status === 404) {
      root.append(h("div", { class: "error", role: "alert" }, e.detail));
    } else {
      showError(e, me, root);
    }
  }
}

const me = await startPage("feedback");
if (me) {
  if (me.role !== "agent" && agentParam) {
    const back = document.getElementById("back");
    back.href = `/feedback?agent=${encodeURIComponent(agentParam)}`;
    back.textContent = `← Calls of ${agentParam}`;
  }
  await load(me);
}
