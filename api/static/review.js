// QA review list: filter scored calls (the filters are kept in the page URL) and page through them.
import { api, download, showError, startPage } from "./api.js";
import { badge, fmtDate, fmtTime, h, scoreEl } from "./util.js";

const form = document.getElementById("filters");
const tbody = document.querySelector("#calls tbody");
const status = document.getElementById("status");
const range = document.getElementById("range");
const prev = document.getElementById("prev");
const next = document.getElementById("next");
const FIELDS = ["agent_id", "since", "until", "language", "min_score", "max_score", "practice", "below", "critical"];
let practiceNames = {};

function dayAfter(date) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** The page URL's query as API list parameters (dates become UTC day bounds). */
function apiParams(query) {
  const p = {};
  for (const name of FIELDS) {
    const v = query.get(name);
    if (v) p[name] = v;
  }
  if (p.since) p.since = `${p.since}T00:00:00`;
  if (p.until) p.until = `${dayAfter(p.until)}T00:00:00`; // inclusive day, exclusive bound
  if (p.below && !p.practice) delete p.below;
  p.limit = query.get("limit") || "25";
  p.offset = query.get("offset") || "0";
  return p;
}

function fillForm(query) {
  const limit = form.elements.limit;
  const wanted = query.get("limit") || "25";
  if (![...limit.options].some((o) => o.value === wanted)) limit.append(h("option", {}, wanted));
  for (const name of FIELDS) form.elements[name].value = query.get(name) || "";
  limit.value = wanted;
}

function weakest(practices) {
  let worst = null;
  for (const [id, score] of Object.entries(practices || {})) {
    if (score !== null && (worst === null || score < worst[1])) worst = [id, score];
  }
  if (!worst) return "–";
  return h("span", {}, `${practiceNames[worst[0]] || worst[0]} `, scoreEl(worst[1]));
}

function row(call) {
  const link = h("a", { href: `/review/${encodeURIComponent(call.call_id)}` }, call.call_id);
  const state = call.status === "done" ? (call.incomplete ? badge("incomplete", "minor") : "scored") : badge(call.status, call.status === "failed" ? "major" : "info");
  return h(
    "tr",
    { dataset: { callId: call.call_id, agentId: call.agent_id } },
    h("td", {}, link),
    h("td", {}, call.agent_id),
    h("td", {}, fmtDate(call.started_at || call.created_at)),
    h("td", { class: "num" }, call.duration_s === null ? "–" : fmtTime(call.duration_s)),
    h("td", {}, call.language || "–"),
    h("td", {}, state),
    h("td", { class: "num" }, scoreEl(call.overall)),
    h("td", {}, call.critical ? badge("critical", "critical") : ""),
    h("td", {}, call.customer_trend || "–"),
    h("td", {}, weakest(call.practices)),
  );
}

let loads = 0;

async function load() {
  const seq = ++loads;
  const query = new URLSearchParams(location.search);
  fillForm(query);
  const params = apiParams(query);
  delete tbody.dataset.query;
  status.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  let page;
  try {
    page = await api("/api/v1/calls", { params });
  } catch (e) {
    if (seq !== loads) return;
    status.replaceChildren();
    showError(e, null, status);
    return;
  }
  if (seq !== loads) return; // a newer load is on its way
  status.replaceChildren();
  tbody.replaceChildren(...page.items.map(row));
  if (!page.items.length) {
    tbody.append(h("tr", {}, h("td", { colspan: 10, class: "muted" }, "No calls match these filters.")));
  }
  const first = page.total ? page.offset + 1 : 0;
  const last = page.offset + page.items.length;
  range.textContent = `${first}–${last} of ${page.total} calls`;
  prev.disabled = page.offset <= 0;
  next.disabled = last >= page.total;
  prev.onclick = () => go({ offset: Math.max(0, page.offset - page.limit) });
  next.onclick = () => go({ offset: page.offset + page.limit });
  tbody.dataset.query = query.toString(); // what is shown (tests and scripts wait on it)
}

/** Navigate to the same page with changed query values (kept in history: Back works). */
function go(changes) {
  const query = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(changes)) {
    if (v === "" || v === null || v === undefined || (k === "offset" && Number(v) === 0)) query.delete(k);
    else query.set(k, v);
  }
  history.pushState(null, "", `${location.pathname}${query.size ? `?${query}` : ""}`);
  load();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const changes = { offset: 0 };
  for (const name of [...FIELDS, "limit"]) changes[name] = form.elements[name].value.trim();
  go(changes);
});
form.addEventListener("reset", (event) => {
  event.preventDefault();
  history.pushState(null, "", location.pathname);
  load();
});
window.addEventListener("popstate", load);

document.getElementById("csv").addEventListener("click", (event) => {
  event.preventDefault();
  const p = apiParams(new URLSearchParams(location.search));
  delete p.limit;
  delete p.offset;
  const u = new URL("/api/v1/export/scores.csv", location.origin);
  for (const [k, v] of Object.entries(p)) u.searchParams.set(k, v);
  download(u.pathname + u.search, "calmline-scores.csv").catch((e) => showError(e, null, status));
});

async function loadPractices() {
  try {
    const rubric = await api("/api/v1/rubric", { params: { language: "en" } });
    const select = form.elements.practice;
    const current = new URLSearchParams(location.search).get("practice") || "";
    for (const [id, p] of Object.entries(rubric.practices || {})) {
      practiceNames[id] = p.name;
      select.append(h("option", { value: id }, p.name));
    }
    select.value = current;
  } catch {
    practiceNames = {};
  }
}

const me = await startPage("review");
if (me) {
  await loadPractices();
  await load();
}
