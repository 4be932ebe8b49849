// Agent feedback: an agent's own calls (the server scopes agent keys to their agent id).
// Supervisors and QA leads may open an agent's page with ?agent=AGENT_ID.
import { api, showError, startPage } from "./api.js";
import { callLang, LANG, t } from "./i18n.js";
import { badge, fmtDate, fmtTime, h, scoreEl } from "./util.js";
import { mountAgentTrend } from "./trend-chart.js";

const tbody = document.querySelector("#calls tbody");
const status = document.getElementById("status");
const summary = document.getElementById("summary");
const range = document.getElementById("range");
const prev = document.getElementById("prev");
const next = document.getElementById("next");
const LIMIT = 25;
let names = { en: {}, zh: {} }; // practice id -> name, by the rubric's language

function weakest(practices, language) {
  const lang = callLang(language);
  let worst = null;
  for (const [id, score] of Object.entries(practices || {})) {
    if (score !== null && (worst === null || score < worst[1])) worst = [id, score];
  }
  if (!worst || worst[1] >= 80) return "–";
  return h("span", {}, h("span", { lang }, names[lang][worst[0]] || worst[0]), " ", scoreEl(worst[1]));
}

function row(call, agentParam) {
  const href = `/feedback/${encodeURIComponent(call.call_id)}${agentParam ? `?agent=${encodeURIComponent(agentParam)}` : ""}`;
  return h(
    "tr",
    { dataset: { callId: call.call_id } },
    h("td", {}, h("a", { href }, call.call_id)),
    h("td", {}, fmtDate(call.started_at || call.created_at)),
    h("td", { class: "num" }, call.duration_s === null ? "–" : fmtTime(call.duration_s)),
    h("td", { class: "num" }, call.status === "done" ? scoreEl(call.overall) : badge(t(`status.${call.status}`), "info")),
    h("td", {}, call.critical ? badge(t("common.critical"), "critical") : "", call.needs_review ? [" ", badge(t("common.needs_review"), "minor")] : null),
    // A call that needs review is not used for coaching: no weakest practice to work on.
    h("td", {}, call.needs_review ? h("span", { class: "muted small" }, t("fb.no_coaching")) : weakest(call.practices, call.language)),
    h("td", {}, call.customer_trend ? t(`trend.${call.customer_trend}`) : "–"),
  );
}

async function loadSummary(agentId) {
  try {
    const s = await api(`/api/v1/agents/${encodeURIComponent(agentId)}/summary`);
    const mean = s.mean_overall === null ? "–" : Math.round(s.mean_overall);
    summary.replaceChildren(
      h("span", { class: "facts" }, h("span", {}, h("b", {}, t("fb.scored_calls")), s.calls), h("span", {}, h("b", {}, t("fb.mean_score")), mean), h("span", {}, h("b", {}, t("fb.critical_calls")), s.critical_calls)),
    );
  } catch (e) {
    summary.replaceChildren();
    showError(e, null, summary);
  }
}

async function loadCalls(agentId, agentParam, offset) {
  let page;
  try {
    page = await api("/api/v1/calls", { params: { agent_id: agentId, limit: LIMIT, offset } });
  } catch (e) {
    showError(e, null, status);
    return;
  }
  tbody.replaceChildren(...page.items.map((c) => row(c, agentParam)));
  if (!page.items.length) tbody.append(h("tr", {}, h("td", { colspan: 7, class: "muted" }, t("common.no_calls"))));
  const last = page.offset + page.items.length;
  range.textContent = t("common.range", { first: page.total ? page.offset + 1 : 0, last, total: page.total });
  prev.disabled = page.offset <= 0;
  next.disabled = last >= page.total;
  prev.onclick = () => loadCalls(agentId, agentParam, Math.max(0, offset - LIMIT));
  next.onclick = () => loadCalls(agentId, agentParam, offset + LIMIT);
  tbody.dataset.query = new URLSearchParams(location.search).toString(); // shown (tests wait on it)
}

const me = await startPage("feedback");
if (me) {
  for (const language of ["en", "zh"]) {
    try {
      const rubric = await api("/api/v1/rubric", { params: { language } });
      names[language] = Object.fromEntries(Object.entries(rubric.practices || {}).map(([id, p]) => [id, p.name]));
    } catch {
      names[language] = {};
    }
  }
  const agentParam = new URLSearchParams(location.search).get("agent");
  if (me.role === "agent") {
    await Promise.all([loadSummary(me.agent_id), loadCalls(me.agent_id, null, 0)]);
    await mountAgentTrend(summary, me.agent_id, names[LANG] || names.en); // their own trend by week
  } else {
    const form = document.getElementById("pick");
    form.hidden = false;
    form.agent.value = agentParam || "";
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      location.search = `?agent=${encodeURIComponent(form.agent.value.trim())}`;
    });
    if (agentParam) {
      document.getElementById("title").textContent = t("fb.for_agent", { id: agentParam });
      await Promise.all([loadSummary(agentParam), loadCalls(agentParam, agentParam, 0)]);
      await mountAgentTrend(summary, agentParam, names[LANG] || names.en);
    } else {
      document.getElementById("title").textContent = t("fb.agent_feedback");
      summary.replaceChildren(h("p", { class: "muted" }, t("fb.choose")));
      document.getElementById("calls").hidden = true;
    }
  }
}
