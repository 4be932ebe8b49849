// Supervisor dashboard: calls in progress with running metrics, alerts as they happen, and one
// followed call's transcript and alerts. Two Server-Sent Event streams from /api/v1/live/events:
// every call's metrics, alerts and start/end (types=…), and everything of the followed call
// (call_id=…, transcript included). Event payloads: docs/live.md.
// Alerts are kept by the server for the day (GET /api/v1/alerts, settings alerts.*): the panel
// lists today's on load, adds live ones (events with alert_id; alert_quiet ones the rules held
// back are not alerts), and asks again every ALERTS_REFRESH_MS for acknowledgements made on other
// screens and alerts silenced by a hold heard after them. Acknowledge: POST /api/v1/alerts/{id}/ack.
// An alert the live pipeline withdraws (alert_withdrawn, with the stored alert_ids) is shown
// withdrawn with the reason, live and after a reload (the stored alert's `withdrawn`).
import { api, apiUrl, showError, startPage } from "./api.js";
import { t } from "./i18n.js";
import { badge, fmtTime, h, ROLE_LABEL } from "./util.js";

const tbody = document.querySelector("#live tbody");
const alertsList = document.getElementById("alerts");
const follow = document.getElementById("follow");
const conn = document.getElementById("conn");

const ALERTS = {
  interruption: [t("db.alert.interruption"), "major"],
  apology_demand: [t("db.alert.apology_demand"), "critical"],
  repeated_ack: [t("db.alert.repeated_ack"), "major"],
  agent_louder: [t("db.alert.agent_louder"), "minor"],
  agent_faster: [t("db.alert.agent_faster"), "minor"],
  agitation_rising: [t("db.alert.agitation_rising"), "major"],
  non_talk: [t("db.alert.non_talk"), "minor"],
};
const POSITIVE = { acknowledgement: t("db.alert.acknowledgement") };
const CALL_TYPES = ["call_started", "metrics", "call_ended", "alert_withdrawn", ...Object.keys(ALERTS)];
/** The live pipeline's reasons for withdrawing an alert (pipelines/live/floor.py), by message key. */
const WITHDRAWN_REASONS = {
  "no word was recognised in the agent's speech": "db.withdrawn.no_words",
  "the agent's words are a backchannel": "db.withdrawn.backchannel",
  "an overlap in a closing exchange (thanks and goodbyes)": "db.withdrawn.closing",
};
/** Reasons with figures (pipelines/live/voice.py), by `reason_code`; `values` fill them in. */
const WITHDRAWN_CODES = {
  calm: "db.withdrawn.louder_calm",
  not_louder: "db.withdrawn.louder_turn",
  rule: "db.withdrawn.louder_rule",
};
const KEEP_ENDED_MS = 10 * 60 * 1000;
const MAX_ALERTS = 200;
const ALERTS_REFRESH_MS = 30 * 1000;
const ACK_ROLES = new Set(["admin", "supervisor", "qa_lead"]);
let canAck = false;

/** call_id -> what the table shows. */
const calls = new Map();
let followed = null; // {callId, source: EventSource, transcript: [], alerts: []}

function clock(ms) {
  const d = new Date(ms);
  return d.toTimeString().slice(0, 8);
}

/** Alerts of a call by type: the server's running count, or the alerts seen here if more. */
function alertsOf(call, type) {
  return Math.max((call.alerts || {})[type] || 0, call.seen[type] || 0);
}

function alertCount(call) {
  return Object.keys(ALERTS).reduce((n, type) => n + alertsOf(call, type), 0);
}

/** What an alert says, from its payload (see docs/live.md). */
function describe(event) {
  const d = event.data || {};
  const quote = d.quote ? ` “${d.quote}”` : "";
  switch (event.type) {
    case "interruption":
      return t("db.say.interruption", { s: (d.overlap_s ?? 0).toFixed(1), quote });
    case "apology_demand":
      return t("db.say.apology_demand", { quote });
    case "repeated_ack":
      return t("db.say.repeated_ack", { quote });
    case "agent_louder":
      return t("db.say.agent_louder", { db: d.loudness_rel_db?.toFixed(1), quote });
    case "agent_faster":
      return t("db.say.agent_faster", { ratio: d.rate_ratio?.toFixed(2), quote });
    case "agitation_rising":
      return t("db.say.agitation_rising", { v: d.agitation?.toFixed(2), threshold: d.threshold, words: d.anger_words?.length ? `${t("colon")}${d.anger_words.join(t("list.sep"))}` : "" });
    case "non_talk":
      return t("db.say.non_talk", { s: d.duration_s?.toFixed(1) });
    case "acknowledgement":
      return t("db.say.acknowledgement", { quote });
    default:
      return event.type;
  }
}

// ------------------------------------------------------------------ the table of calls

function upsert(callId, fields) {
  const now = performance.now();
  const call = calls.get(callId) || { call_id: callId, alerts: {}, seen: {}, metrics: {}, state: "live", duration: 0, at: now };
  Object.assign(call, fields);
  calls.set(callId, call);
  return call;
}

function fromSummary(s) {
  upsert(s.call_id, {
    agent_id: s.agent_id,
    language: s.language,
    duration: s.duration_s || 0,
    at: performance.now(),
    metrics: s.metrics || {},
    alerts: s.alerts || {},
    state: s.ending ? "ending" : "live",
  });
}

function liveDuration(call) {
  if (call.state !== "live") return call.duration;
  return call.duration + (performance.now() - call.at) / 1000;
}

function agitationCell(value) {
  if (value === null || value === undefined) return h("span", { class: "muted" }, "–");
  return h(
    "span",
    {},
    h("span", { class: "agitation-meter", title: t("db.agitation_title", { v: value.toFixed(2) }) }, h("span", { style: `width:${Math.round(value * 100)}%` })),
    ` ${value.toFixed(2)}`,
  );
}

function stateCell(call) {
  if (call.state === "ended") {
    const score = call.overall === null || call.overall === undefined ? "" : ` · ${Math.round(call.overall)}`;
    return h("span", {}, badge(t("db.ended"), "ended"), " ", h("a", { href: `/review/${encodeURIComponent(call.call_id)}` }, `${t("db.report")}${score}`));
  }
  return badge(call.state, call.state === "live" ? "live" : "info");
}

/** call_id -> {tr, cells, shown}: rows are updated in place, so a click is never lost to a redraw. */
const rows = new Map();

function rowFor(call) {
  let row = rows.get(call.call_id);
  if (!row) {
    const cells = {
      agent: h("td"),
      id: h("td", {}, call.call_id),
      duration: h("td", { class: "num duration" }),
      ratio: h("td", { class: "num" }),
      interruptions: h("td", { class: "num interruptions" }),
      agitation: h("td"),
      alerts: h("td", { class: "num alert-count" }),
      state: h("td", { class: "state" }),
    };
    const tr = h("tr", { dataset: { callId: call.call_id }, title: t("db.follow_this") }, Object.values(cells));
    tr.style.cursor = "pointer";
    row = { tr, cells, shown: {} };
    rows.set(call.call_id, row);
  }
  return row;
}

/** Redraw one cell only when what it shows changed. */
function setCell(row, name, value, make) {
  const key = JSON.stringify(value);
  if (row.shown[name] === key) return;
  row.shown[name] = key;
  const content = make(value);
  row.cells[name].replaceChildren(content instanceof Node ? content : String(content));
}

function renderTable() {
  const now = performance.now();
  for (const [id, call] of calls) {
    if (call.state === "ended" && now - call.endedAt > KEEP_ENDED_MS) calls.delete(id);
  }
  for (const id of rows.keys()) if (!calls.has(id)) rows.delete(id);
  const order = [...calls.values()].sort(
    (a, b) => (a.state === "ended") - (b.state === "ended") || a.call_id.localeCompare(b.call_id),
  );
  const wanted = order.map((call) => {
    const m = call.metrics || {};
    const row = rowFor(call);
    row.tr.dataset.state = call.state;
    row.tr.classList.toggle("selected", Boolean(followed && followed.callId === call.call_id));
    setCell(row, "agent", call.agent_id || "–", (v) => v);
    setCell(row, "duration", fmtTime(liveDuration(call)), (v) => v);
    setCell(row, "ratio", m.talk_ratio ?? null, (v) => (v === null ? "–" : `${Math.round(v * 100)} %`));
    setCell(row, "interruptions", Math.max(m.interruptions || 0, alertsOf(call, "interruption")), (v) => v);
    setCell(row, "agitation", m.customer_agitation ?? null, agitationCell);
    setCell(row, "alerts", alertCount(call), (v) => (v ? badge(String(v), "major") : "0"));
    setCell(row, "state", [call.state, call.overall ?? null], () => stateCell(call));
    return row.tr;
  });
  if (!wanted.length) {
    wanted.push(h("tr", {}, h("td", { colspan: 8, class: "muted" }, t("db.none"))));
  }
  const current = [...tbody.children];
  if (current.length !== wanted.length || current.some((tr, i) => tr !== wanted[i])) {
    tbody.replaceChildren(...wanted);
  }
}

tbody.addEventListener("click", (event) => {
  if (event.target.closest("a")) return;
  const tr = event.target.closest("tr[data-call-id]");
  if (tr) followCall(tr.dataset.callId);
});

function tick() {
  for (const [id, row] of rows) {
    const call = calls.get(id);
    if (call && call.state === "live") setCell(row, "duration", fmtTime(liveDuration(call)), (v) => v);
  }
  if (followed && followed.view) {
    const call = calls.get(followed.callId);
    if (call) followed.view.duration.textContent = fmtTime(liveDuration(call));
  }
}

// ------------------------------------------------------------------ alerts feed

/** alert id -> its <li>; live alerts the server did not store have no id and are not kept here. */
const shownAlerts = new Map();

/** An alert from the live feed or from GET /api/v1/alerts: {type, call_id, agent_id, t, data, ms, id?, acknowledged…}. */
function alertLi(alert, fresh) {
  const [label, severity] = ALERTS[alert.type];
  const li = h(
    "li",
    { class: fresh ? "alert new" : "alert", dataset: { type: alert.type, callId: alert.call_id, t: alert.t, at: alert.ms } },
    h("span", { class: "small muted" }, `${clock(alert.ms)} · `),
    badge(label, (alert.data && alert.data.severity) || alert.severity || severity),
    " ",
    h("b", {}, alert.agent_id),
    h("span", { class: "small muted" }, t("db.alert_at", { call: alert.call_id, time: fmtTime(alert.t) })),
    h("span", { class: "ack-state" }),
    h("div", { class: "small" }, describe(alert)),
  );
  if (alert.id) li.dataset.alertId = alert.id;
  li.style.cursor = "pointer";
  li.addEventListener("click", (e) => {
    if (!e.target.closest("button")) followCall(alert.call_id);
  });
  showAck(li, alert);
  if (fresh) setTimeout(() => li.classList.remove("new"), 2500);
  return li;
}

/** The state of a stored alert: withdrawn (why), acknowledged (who and when), or the button. */
function showAck(li, alert) {
  const cell = li.querySelector(".ack-state");
  li.classList.toggle("acked", Boolean(alert.acknowledged_at));
  li.classList.toggle("withdrawn", Boolean(alert.withdrawn));
  if (alert.withdrawn) {
    li.dataset.withdrawn = "true";
    const said = alert.withdrawn.reason || "";
    const code = WITHDRAWN_CODES[alert.withdrawn.reason_code];
    const reason = code ? t(code, alert.withdrawn.values || {}) : WITHDRAWN_REASONS[said] ? t(WITHDRAWN_REASONS[said]) : said;
    cell.replaceChildren(h("span", { class: "withdrawn-note", "data-testid": "withdrawn" }, t("db.withdrawn", { reason })));
  } else if (alert.acknowledged_at) {
    const who = alert.acknowledged_by_name || alert.acknowledged_by || "";
    cell.replaceChildren(h("span", { class: "acked-by", "data-testid": "acked" }, t("db.acked", { who, time: clock(Date.parse(alert.acknowledged_at)) })));
  } else if (alert.id && canAck) {
    const button = h("button", { type: "button", class: "ack", "data-testid": "ack" }, t("db.acknowledge"));
    button.addEventListener("click", () => acknowledge(li, alert, button));
    cell.replaceChildren(button);
  } else {
    cell.replaceChildren();
  }
}

async function acknowledge(li, alert, button) {
  button.disabled = true;
  try {
    Object.assign(alert, await api(`/api/v1/alerts/${alert.id}/ack`, { method: "POST", body: {} }));
  } catch (e) {
    if (e.status !== 409) {
      button.disabled = false;
      showError(e, null, alertsList.parentElement);
      return;
    }
    await refreshAlerts(); // someone else acknowledged it first
    return;
  }
  showAck(li, alert);
}

function placeAlert(li) {
  const ms = Number(li.dataset.at);
  const after = [...alertsList.children].find((x) => Number(x.dataset.at) < ms);
  alertsList.insertBefore(li, after || null);
  while (alertsList.children.length > MAX_ALERTS) {
    const last = alertsList.lastElementChild;
    shownAlerts.delete(Number(last.dataset.alertId));
    last.remove();
  }
}

/** alert_withdrawn from the live feed: the stored alerts it names are shown withdrawn. */
function withdrawAlerts(event) {
  const d = event.data || {};
  for (const id of event.alert_ids || []) {
    const li = shownAlerts.get(id);
    if (li) showAck(li, { id, withdrawn: { reason: d.reason, quote: d.quote, reason_code: d.reason_code, values: d.values } });
  }
  const call = calls.get(event.call_id);
  if (call && d.alert && call.seen[d.alert]) call.seen[d.alert] -= 1;
}

function addAlert(event) {
  if (event.alert_quiet) return; // held back by the alert rules (settings alerts.*)
  if (event.alert_id && shownAlerts.has(event.alert_id)) return;
  const alert = { ...event, id: event.alert_id, ms: event.emitted_at * 1000 };
  const li = alertLi(alert, true);
  if (alert.id) shownAlerts.set(alert.id, li);
  placeAlert(li);
}

/** Today's stored alerts (since local midnight): add the missing, update acknowledgements, drop
 * the ones a hold silenced. */
async function refreshAlerts() {
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  let page;
  try {
    page = await api("/api/v1/alerts", { params: { since: midnight.toISOString(), include_quiet: "true", limit: String(MAX_ALERTS) } });
  } catch (e) {
    showError(e, null, alertsList.parentElement);
    return;
  }
  for (const item of page.items.reverse()) {
    const alert = { ...item, ms: Date.parse(item.at) };
    const li = shownAlerts.get(item.id);
    if (item.quiet || !(item.type in ALERTS)) {
      if (li) li.remove();
      shownAlerts.delete(item.id);
    } else if (li) {
      showAck(li, alert);
    } else {
      const made = alertLi(alert, false);
      shownAlerts.set(item.id, made);
      placeAlert(made);
    }
  }
  alertsList.dataset.loaded = "true";
}

// ------------------------------------------------------------------ the followed call

/** The followed call's panel, built once per call; renderFollowed() fills it in. */
function followView(callId) {
  const view = {
    title: h("h2", {}, t("db.following", { id: callId })),
    agent: h("span"),
    duration: h("span", { "data-testid": "follow-duration" }),
    state: h("span"),
    facts: h("div", { class: "facts" }),
    transcript: h("ol", { class: "transcript", "data-testid": "live-transcript" }),
    events: h("ul", { class: "alerts", "data-testid": "follow-alerts" }),
  };
  view.root = [
    h("div", { class: "callhead" }, view.title, view.agent, view.duration, view.state, h("button", { type: "button", onclick: () => unfollow() }, t("db.close"))),
    view.facts,
    h("div", { class: "grid2" }, h("div", {}, h("h3", {}, t("db.transcript")), view.transcript), h("div", {}, h("h3", {}, t("db.events")), view.events)),
  ];
  return view;
}

function renderFollowed() {
  if (!followed) {
    follow.hidden = true;
    follow.replaceChildren();
    return;
  }
  follow.hidden = false;
  if (followed.notLive && !calls.has(followed.callId)) {
    const link = h("a", { href: `/review/${encodeURIComponent(followed.callId)}` }, t("db.its_report"));
    follow.replaceChildren(h("p", { class: "notice" }, t("db.not_live", { id: followed.callId }), link, t("db.period")));
    followed.view = null;
    return;
  }
  if (!followed.view) {
    followed.view = followView(followed.callId);
    follow.replaceChildren(...followed.view.root);
  }
  const view = followed.view;
  const call = calls.get(followed.callId) || { call_id: followed.callId, metrics: {}, seen: {}, state: "live", duration: 0, at: performance.now() };
  const m = call.metrics || {};
  view.agent.textContent = `agent ${call.agent_id || "–"}`;
  view.duration.textContent = fmtTime(liveDuration(call));
  view.state.replaceChildren(stateCell(call));
  const facts = [
    h("span", {}, h("b", {}, t("db.agent_talk")), m.talk_ratio == null ? "–" : `${Math.round(m.talk_ratio * 100)} %`),
    h("span", {}, h("b", {}, t("db.overlap")), m.overlap_time == null ? "–" : `${m.overlap_time.toFixed(1)} s`),
    h("span", {}, h("b", {}, t("db.agitation")), m.customer_agitation == null ? "–" : m.customer_agitation.toFixed(2)),
  ];
  if (call.state === "ended") {
    facts.push(h("a", { href: `/review/${encodeURIComponent(call.call_id)}` }, t("db.open_scored")));
  }
  view.facts.replaceChildren(...facts);
  if (followed.drawn !== followed.version) {
    followed.drawn = followed.version;
    const list = view.transcript;
    const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 20;
    if (call.language) list.lang = call.language;
    list.replaceChildren(
      ...[...followed.transcript]
        .sort((a, b) => a.start - b.start)
        .map((u) =>
          h(
            "li",
            { class: u.role, "data-start": u.start },
            h("span", { class: "t" }, fmtTime(u.start)),
            h("span", { class: "who" }, ROLE_LABEL[u.role] || u.role),
            h("p", { class: "text" }, u.text || "…"),
          ),
        ),
    );
    if (atBottom) list.scrollTop = list.scrollHeight;
    view.events.replaceChildren(
      ...[...followed.alerts]
        .sort((a, b) => b.t - a.t)
        .map((e) =>
          h(
            "li",
            { dataset: { type: e.type } },
            h("span", { class: "small muted" }, `${fmtTime(e.t)} `),
            e.type in ALERTS ? badge(ALERTS[e.type][0], ALERTS[e.type][1]) : badge(POSITIVE[e.type], "positive"),
            " ",
            h("span", { class: "small" }, describe(e)),
          ),
        ),
    );
  }
}

function unfollow() {
  if (followed) followed.source.close();
  followed = null;
  history.replaceState(null, "", location.pathname);
  renderFollowed();
  renderTable();
}

function followCall(callId) {
  if (followed && followed.callId === callId) return;
  if (followed) followed.source.close();
  const source = new EventSource(apiUrl("/api/v1/live/events", { call_id: callId }));
  followed = { callId, source, transcript: [], alerts: [], version: 0, drawn: -1, view: null };
  const mine = followed;
  history.replaceState(null, "", `${location.pathname}?call=${encodeURIComponent(callId)}`);
  source.addEventListener("snapshot", (e) => {
    const snap = JSON.parse(e.data);
    if (followed !== mine) return;
    if (snap.call) {
      fromSummary(snap.call);
      mine.transcript = snap.call.transcript.map((u) => ({ ...u }));
      mine.version += 1;
    } else if (!calls.has(callId)) {
      mine.notLive = true;
    }
    renderFollowed();
    renderTable();
  });
  source.addEventListener("transcript", (e) => {
    const ev = JSON.parse(e.data);
    if (followed !== mine) return;
    mine.transcript = mine.transcript.filter((u) => !(u.start === ev.data.start && u.role === ev.data.role));
    mine.transcript.push(ev.data);
    mine.version += 1;
    renderFollowed();
  });
  for (const type of [...Object.keys(ALERTS), ...Object.keys(POSITIVE)]) {
    source.addEventListener(type, (e) => {
      if (followed !== mine) return;
      mine.alerts.push(JSON.parse(e.data));
      mine.version += 1;
      renderFollowed();
    });
  }
  source.addEventListener("call_ended", () => {
    if (followed === mine) setTimeout(renderFollowed, 0);
  });
  renderFollowed();
  renderTable();
}

// ------------------------------------------------------------------ the all-calls stream

function setConnection(state, text) {
  conn.className = `conn ${state === "open" ? "ok" : "down"}`;
  conn.dataset.state = state;
  conn.textContent = text;
}

function onCallEvent(type, ev) {
  const d = ev.data || {};
  if (type === "call_started") {
    upsert(ev.call_id, { agent_id: ev.agent_id, language: d.language, state: "live", duration: 0, at: performance.now() });
  } else if (type === "metrics") {
    upsert(ev.call_id, { agent_id: ev.agent_id, metrics: d, alerts: d.alerts || {}, duration: d.duration, at: performance.now(), language: d.language });
  } else if (type === "call_ended") {
    upsert(ev.call_id, { agent_id: ev.agent_id, state: "ended", duration: d.duration, overall: d.overall, alerts: d.alerts || {}, endedAt: performance.now() });
  } else if (type === "alert_withdrawn") {
    withdrawAlerts(ev);
  } else if (type in ALERTS) {
    const call = upsert(ev.call_id, { agent_id: ev.agent_id });
    call.seen[type] = (call.seen[type] || 0) + 1;
    addAlert(ev);
  }
  renderTable();
  if (followed && followed.callId === ev.call_id) renderFollowed();
}

let retry = 1000;

function connect() {
  const source = new EventSource(apiUrl("/api/v1/live/events", { types: CALL_TYPES.join(",") }));
  setConnection("connecting", t("db.connecting"));
  source.addEventListener("snapshot", (e) => {
    retry = 1000;
    setConnection("open", t("db.live"));
    const snap = JSON.parse(e.data);
    const live = new Set(snap.calls.map((c) => c.call_id));
    for (const [id, call] of calls) if (call.state !== "ended" && !live.has(id)) calls.delete(id);
    snap.calls.forEach(fromSummary);
    renderTable();
  });
  for (const type of CALL_TYPES) source.addEventListener(type, (e) => onCallEvent(type, JSON.parse(e.data)));
  // the server ends the feed when the key behind the session is revoked or the session ends
  source.addEventListener("closed", async () => {
    source.close();
    setConnection("closed", t("db.disconnected"));
    try {
      await api("/api/v1/me");
    } catch (err) {
      showError(err);
      return;
    }
    setTimeout(connect, retry);
  });
  source.addEventListener("error", async () => {
    if (source.readyState !== EventSource.CLOSED) {
      setConnection("connecting", "reconnecting…");
      return; // the browser reconnects by itself
    }
    setConnection("closed", t("db.disconnected"));
    try {
      await api("/api/v1/me"); // a refused key shows as a sign-in or refusal, not a silent retry
    } catch (err) {
      showError(err);
      return;
    }
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 30000);
  });
}

const me = await startPage("dashboard");
if (me) {
  canAck = ACK_ROLES.has(me.role);
  await refreshAlerts();
  setInterval(refreshAlerts, ALERTS_REFRESH_MS);
  try {
    const live = await api("/api/v1/live/calls");
    live.items.forEach(fromSummary);
  } catch (e) {
    showError(e, me);
  }
  renderTable();
  connect();
  setInterval(tick, 1000);
  const wanted = new URLSearchParams(location.search).get("call");
  if (wanted) followCall(wanted);
}
