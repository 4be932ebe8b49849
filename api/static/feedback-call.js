// One call's feedback for the agent: each practice with its score, the evidence (quotes with
// times; a click plays the moment) and the coaching sentence in the call's language.
import { api, ApiError, showError, startPage } from "./api.js";
import { linkedPlayer, renderPractices, renderTrend, reviewNotice } from "./report-view.js";
import { badge, fmtDate, fmtTime, h, scoreEl } from "./util.js";
import { agentEvaluation, loadEvaluation } from "./evaluation.js";
import { t } from "./i18n.js";

const root = document.getElementById("call");
const callId = decodeURIComponent(location.pathname.split("/").pop());
const agentParam = new URLSearchParams(location.search).get("agent");
document.title = t("fbc.page_title", { id: callId });

function render(call, report, ev) {
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
        call.critical ? badge(t("common.critical"), "critical") : null,
      ),
      h(
        "div",
        { class: "facts" },
        h("span", {}, h("b", {}, t("fbc.date")), fmtDate(call.started_at || call.created_at)),
        h("span", {}, h("b", {}, t("fbc.length")), fmtTime(report.metrics.duration)),
        h("span", {}, h("b", {}, t("fbc.coaching_points")), coached),
      ),
      reviewNotice(report, { forAgent: true }),
    ),
    h("section", { class: "panel player" }, player.el, h("p", { class: "small muted" }, t("fbc.click_quote"))),
    ev ? agentEvaluation({ call, ev, report }) : null,
    h(
      "div",
      { class: "grid2" },
      h("section", { class: "panel" }, h("h2", {}, t("fbc.practices")), renderPractices(report, onFinding, { worstFirst: true, showInfo: false })),
      h(
        "div",
        {},
        h("section", { class: "panel" }, h("h2", {}, t("fbc.customer")), renderTrend(report)),
        h("section", { class: "panel" }, h("details", {}, h("summary", {}, t("fbc.transcript")), transcript.el)),
      ),
    ),
  );
}

async function load(me) {
  let call;
  try {
    call = await api(`/api/v1/calls/${encodeURIComponent(callId)}`);
    const report = await api(`/api/v1/calls/${encodeURIComponent(callId)}/report`);
    const ev = report.scorecard ? await loadEvaluation(callId) : null;
    render(call, report, ev && ev.status === "published" ? ev : null);
  } catch (e) {
    root.replaceChildren();
    if (e instanceof ApiError && e.status === 409 && call) {
      root.append(h("section", { class: "notice", role: "status" }, t("fbc.not_ready", { state: t(`status.${call.status}`) })));
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
    back.textContent = t("fbc.back_of", { id: agentParam });
  }
  await load(me);
}
