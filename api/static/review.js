// QA review list: filter, search and sort calls (all kept in the page URL) and page through them.
// Sorting and search are done by the server (GET /api/v1/calls?sort=&q=); calls still queued or
// running are asked for again every few seconds and their rows change in place once scored.
import { api, download, showError, startPage } from "./api.js";
import { callLang, kindLabel, LANG, t } from "./i18n.js";
import { badge, fmtDate, fmtTime, h, scoreEl } from "./util.js";

const form = document.getElementById("filters");
const tbody = document.querySelector("#calls tbody");
const status = document.getElementById("status");
const range = document.getElementById("range");
const prev = document.getElementById("prev");
const next = document.getElementById("next");
const FIELDS = ["q", "agent_id", "since", "until", "language", "min_score", "max_score", "practice", "below", "critical", "needs_review", "finding_kind", "evaluated", "disputed"];
const DEFAULT_SORT = "-started_at";
const PENDING = new Set(["queued", "running"]);
const POLL_MS = 2000;
const searchNote = h("p", { class: "small muted", "data-testid": "search-note" });
status.before(searchNote);
let practiceNames = {};
const practiceNamesZh = {}; // the Chinese rubric's names, for Chinese calls

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
  p.sort = query.get("sort") || DEFAULT_SORT;
  return p;
}

function fillForm(query) {
  const kinds = form.elements.finding_kind;
  const kind = query.get("finding_kind");
  if (kind && ![...kinds.options].some((o) => o.value === kind)) kinds.append(h("option", { value: kind }, kind));
  const limit = form.elements.limit;
  const wanted = query.get("limit") || "25";
  if (![...limit.options].some((o) => o.value === wanted)) limit.append(h("option", {}, wanted));
  for (const name of FIELDS) form.elements[name].value = query.get(name) || "";
  limit.value = wanted;
}

function weakest(practices, language) {
  const names = callLang(language) === "zh" ? practiceNamesZh : practiceNames;
  let worst = null;
  for (const [id, score] of Object.entries(practices || {})) {
    if (score !== null && (worst === null || score < worst[1])) worst = [id, score];
  }
  if (!worst) return "–";
  return h("span", {}, `${names[worst[0]] || practiceNames[worst[0]] || worst[0]} `, scoreEl(worst[1]));
}

/** Sortable headers: aria-sort on the sorted one; a click sorts by it, a second click reverses. */
function showSort(sort) {
  const key = sort.replace(/^-/, "");
  for (const th of document.querySelectorAll("#calls th[data-sort]")) {
    const on = th.dataset.sort === key;
    th.setAttribute("aria-sort", on ? (sort.startsWith("-") ? "descending" : "ascending") : "none");
  }
}

document.querySelector("#calls thead").addEventListener("click", (event) => {
  const th = event.target.closest("th[data-sort]");
  if (!th) return;
  const current = new URLSearchParams(location.search).get("sort") || DEFAULT_SORT;
  const key = th.dataset.sort;
  const sort = current === key ? `-${key}` : key;
  go({ sort: sort === DEFAULT_SORT ? "" : sort, offset: 0 });
});

function row(call) {
  const link = h("a", { href: `/review/${encodeURIComponent(call.call_id)}` }, call.call_id);
  const state = call.status === "done" ? (call.incomplete ? badge(t("rv.incomplete"), "minor") : t("rv.scored")) : badge(t(`status.${call.status}`), call.status === "failed" ? "major" : "info");
  return h(
    "tr",
    { dataset: { callId: call.call_id, agentId: call.agent_id, status: call.status } },
    h("td", {}, link),
    h("td", {}, call.agent_id),
    h("td", {}, fmtDate(call.started_at || call.created_at)),
    h("td", { class: "num" }, call.duration_s === null ? "–" : fmtTime(call.duration_s)),
    h("td", {}, call.language || "–"),
    h("td", {}, state, call.needs_review ? [" ", h("span", { "data-testid": "needs-review" }, badge(t("common.needs_review"), "minor"))] : null),
    h("td", { class: "num" }, scoreEl(call.overall)),
    h("td", {}, call.critical ? badge(t("common.critical"), "critical") : ""),
    h("td", {}, call.customer_trend ? t(`trend.${call.customer_trend}`) : "–"),
    h("td", { lang: callLang(call.language) }, weakest(call.practices, call.language)),
  );
}

let loads = 0;

async function load() {
  const seq = ++loads;
  const query = new URLSearchParams(location.search);
  fillForm(query);
  const params = apiParams(query);
  delete tbody.dataset.query;
  status.replaceChildren(h("p", { class: "muted" }, t("common.loading")));
  showSort(params.sort);
  let page;
  let method = "";
  try {
    const response = await api("/api/v1/calls", { params, raw: true });
    method = response.headers.get("X-Calmline-Search") || "";
    page = await response.json();
  } catch (e) {
    if (seq !== loads) return;
    status.replaceChildren();
    showError(e, null, status);
    return;
  }
  if (seq !== loads) return; // a newer load is on its way
  status.replaceChildren();
  searchNote.textContent =
    method === "scan"
      ? t("rv.search_note")
      : "";
  tbody.replaceChildren(...page.items.map(row));
  watchPending();
  if (!page.items.length) {
    tbody.append(h("tr", {}, h("td", { colspan: 10, class: "muted" }, t("rv.no_match"))));
  }
  const first = page.total ? page.offset + 1 : 0;
  const last = page.offset + page.items.length;
  range.textContent = t("common.range", { first, last, total: page.total });
  prev.disabled = page.offset <= 0;
  next.disabled = last >= page.total;
  prev.onclick = () => go({ offset: Math.max(0, page.offset - page.limit) });
  next.onclick = () => go({ offset: page.offset + page.limit });
  tbody.dataset.query = query.toString(); // what is shown (tests and scripts wait on it)
}

// ------------------------------------------------------------------ queued and running calls

let pollTimer = null;

/** Ask again for the calls shown as queued or running until they are scored or failed. */
function watchPending() {
  clearTimeout(pollTimer);
  pollTimer = null;
  if (tbody.querySelector("tr[data-status=queued], tr[data-status=running]")) {
    pollTimer = setTimeout(refreshPending, POLL_MS);
  }
}

async function refreshPending() {
  const seq = loads;
  const pending = [...tbody.querySelectorAll("tr[data-status=queued], tr[data-status=running]")];
  for (const tr of pending) {
    let call;
    try {
      call = await api(`/api/v1/calls/${encodeURIComponent(tr.dataset.callId)}`);
    } catch {
      continue; // deleted or not reachable now: try again on the next round
    }
    if (seq !== loads || !tr.isConnected) return; // the list was loaded again meanwhile
    if (call.status !== tr.dataset.status || !PENDING.has(call.status)) tr.replaceWith(row(call));
  }
  if (seq === loads) watchPending();
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
  delete p.sort;
  const u = new URL("/api/v1/export/scores.csv", location.origin);
  for (const [k, v] of Object.entries(p)) u.searchParams.set(k, v);
  download(u.pathname + u.search, "calmline-scores.csv").catch((e) => showError(e, null, status));
});

async function loadFindingKinds() {
  try {
    const { kinds } = await api("/api/v1/findings/kinds");
    const select = form.elements.finding_kind;
    const current = new URLSearchParams(location.search).get("finding_kind") || "";
    const have = new Set([...select.options].map((o) => o.value));
    for (const kind of kinds) if (!have.has(kind)) select.append(h("option", { value: kind, title: kind }, kindLabel(kind, LANG)));
    select.value = current;
  } catch {
    /* the filter keeps "any" */
  }
}

async function loadPractices() {
  try {
    // names in each rubric's language (a call's weakest practice is named in its language);
    // the filter lists them in the interface language
    const [en, zh] = await Promise.all(["en", "zh"].map((language) => api("/api/v1/rubric", { params: { language } })));
    const rubric = LANG === "zh" ? zh : en;
    const select = form.elements.practice;
    const current = new URLSearchParams(location.search).get("practice") || "";
    for (const [id, p] of Object.entries(en.practices || {})) practiceNames[id] = p.name;
    for (const [id, p] of Object.entries(zh.practices || {})) practiceNamesZh[id] = p.name;
    for (const [id, p] of Object.entries(rubric.practices || {})) {
      select.append(h("option", { value: id }, p.name));
    }
    select.value = current;
  } catch {
    practiceNames = {};
  }
}

const me = await startPage("review");
if (me) {
  await Promise.all([loadPractices(), loadFindingKinds()]);
  await load();
}
