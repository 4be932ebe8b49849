// Agent feedback: an agent's own calls (the server scopes agent keys to their agent id).
// Supervisors and QA leads may open an agent's page with ?agent=AGENT_ID.
import { api, showError, startPage } from "./api.js";
import { badge, fmtDate, fmtTime, h, scoreEl } from "./util.js";

const tbody = document.querySelector("#calls tbody");
const status = document.getElementById("status");
const summary = document.getElementById("summary");
const range = document.getElementById("range");
const prev = document.getElementById("prev");
const next = document.getElementById("next");
const LIMIT = 25;
let names = {};

function weakest(practices) {
  let worst = null;
  for (const [id, score] of Object.entries(practices || {})) {
    if (score !== null && (worst === null || score < worst[1])) worst = [id, score];
  }
  if (!worst || worst[1] >= 80) return "–";
  return h("span", {}, `${names[worst[0]] || worst[0]} `, scoreEl(worst[1]));
}

function row(call, agentParam) {
  const href = `/feedback/${encodeURIComponent(call.call_id)}${agentParam ? `?agent=${encodeURIComponent(agentParam)}` : ""}`;
  return h(
    "tr",
    { dataset: { callId: call.call_id } },
    h("td", {}, h("a", { href }, call.call_id)),
    h("td", {}, fmtDate(call.started_at || call.created_at)),
    h("td", { class: "num" }, call.duration_s === null ? "–" : fmtTime(call.duration_s)),
    h("td", { class: "num" }, call.status === "done" ? scoreEl(call.overall) : badge(call.status, "info")),
    h("td", {}, call.critical ? badge("critical", "critical") : ""),
    h("td", {}, weakest(call.practices)),
    h("td", {}, call.customer_trend || "–"),
  );
}

async function loadSummary(agentId) {
  try {
    const s = await api(`/api/v1/agents/${encodeURIComponent(agentId)}/summary`);
    const mean = s.mean_overall === null ? "–" : Math.round(s.mean_overall);
    summary.replaceChildren(
      h("span", { class: "facts" }, h("span", {}, h("b", {}, "Scored calls"), s.calls), h("span", {}, h("b", {}, "Mean score"), mean), h("span", {}, h("b", {}, "Calls with a critical finding"), s.critical_calls)),
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
  if (!page.items.length) tbody.append(h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No calls yet.")));
  const last = page.offset + page.items.length;
  range.textContent = `${page.total ? page.offset + 1 : 0}–${last} of ${page.total} calls`;
  prev.disabled = page.offset <= 0;
  next.disabled = last >= page.total;
  prev.onclick = () => loadCalls(agentId, agentParam, Math.max(0, offset - LIMIT));
  next.onclick = () => loadCalls(agentId, agentParam, offset + LIMIT);
  tbody.dataset.query = new URLSearchParams(location.search).toString(); // shown (tests wait on it)
}

const me = await startPage("feedback");
if (me) {
  try {
    const rubric = await api("/api/v1/rubric", { params: { language: "en" } });
    names = Object.fromEntries(Object.entries(rubric.practices || {}).map(([id, p]) => [id, p.name]));
  } catch {
    names = {};
  }
  const agentParam = new URLSearchParams(location.search).get("agent");
  if (me.role === "agent") {
    await Promise.all([loadSummary(me.agent_id), loadCalls(me.agent_id, null, 0)]);
  } else {
    const form = document.getElementById("pick");
    form.hidden = false;
    form.agent.value = agentParam || "";
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      location.search = `?agent=${encodeURIComponent(form.agent.value.trim())}`;
    });
    if (agentParam) {
      document.getElementById("title").textContent = `Feedback for agent ${agentParam}`;
      await Promise.all([loadSummary(agentParam), loadCalls(agentParam, agentParam, 0)]);
    } else {
      document.getElementById("title").textContent = "Agent feedback";
      summary.replaceChildren(h("p", { class: "muted" }, "Choose an agent to see the feedback they get."));
      document.getElementById("calls").hidden = true;
    }
  }
}
