// Trends for supervisors and QA leads: an agent's, a team's or everyone's practice scores by
// ISO week (SVG line chart), the customers' de-escalation rate by week, the findings that recur,
// and agents side by side. ?agent=ID or ?team=NAME, &weeks=N (default 12).
import { api, showError, startPage } from "./api.js";
import { badge, h, scoreEl } from "./util.js";
import { pct, rateChart, scoreChart, sparkline, trendSeries, weakestSeries } from "./trend-chart.js";

const form = document.getElementById("scope");
const params = new URLSearchParams(location.search);
const agent = params.get("agent") || "";
const team = agent ? "" : params.get("team") || "";
const weeks = params.get("weeks") || "12";
let names = {};

function fact(label, value) {
  return h("span", {}, h("b", {}, label), value);
}

function renderSummary(trend) {
  const scope = agent ? `agent ${agent}` : team ? `team ${team}` : "every agent";
  document.getElementById("title").textContent = `Trends: ${scope}`;
  document.getElementById("summary").replaceChildren(
    h(
      "div",
      { class: "facts", "data-calls": trend.calls },
      fact("Scored calls", trend.calls),
      fact("Mean score", scoreEl(trend.mean_overall)),
      fact("Customers calmer at the end", pct(trend.deescalation_rate)),
      fact("Weeks", trend.weeks.length),
    ),
  );
}

function renderRecurring(trend) {
  const root = document.getElementById("recurring");
  if (!trend.recurring_findings.length) {
    root.replaceChildren(h("p", { class: "muted" }, "No faults found in these calls."));
    return;
  }
  root.replaceChildren(
    h(
      "table",
      { class: "list", "data-testid": "recurring" },
      h("thead", {}, h("tr", {}, h("th", {}, "Practice"), h("th", {}, "Finding"), h("th", { class: "num" }, "Calls"), h("th", { class: "num" }, "Share of calls"), h("th", { class: "num" }, "Findings"))),
      h(
        "tbody",
        {},
        trend.recurring_findings.map((f) =>
          h(
            "tr",
            { "data-kind": f.kind, "data-practice": f.practice },
            h("td", {}, names[f.practice] || f.practice),
            h("td", {}, f.kind.replaceAll("_", " ")),
            h("td", { class: "num" }, f.calls),
            h("td", { class: "num" }, pct(f.share_of_calls)),
            h("td", { class: "num" }, f.findings),
          ),
        ),
      ),
    ),
  );
}

async function renderCompare() {
  const root = document.getElementById("compare");
  if (agent) {
    document.getElementById("compare-panel").hidden = true;
    return;
  }
  const body = await api("/api/v1/trends/agents", { params: { team: team || undefined, weeks } });
  if (!body.agents.length) {
    root.replaceChildren(h("p", { class: "muted" }, "No agents with scored calls."));
    return;
  }
  root.replaceChildren(
    h(
      "table",
      { class: "list", "data-testid": "compare" },
      h("thead", {}, h("tr", {}, ["Agent", "Team", "Calls", "Mean score", "By week", "Customers calmer", "Comes up most"].map((t) => h("th", {}, t)))),
      h(
        "tbody",
        {},
        body.agents.map((a) =>
          h(
            "tr",
            { "data-agent": a.agent_id },
            h("td", {}, h("a", { href: `/trends?agent=${encodeURIComponent(a.agent_id)}&weeks=${weeks}` }, a.agent_id)),
            h("td", {}, a.team || "–"),
            h("td", { class: "num" }, a.calls),
            h("td", { class: "num" }, scoreEl(a.mean_overall)),
            h("td", {}, sparkline(a.weeks.map((w) => w.mean_overall))),
            h("td", { class: "num" }, pct(a.deescalation_rate)),
            h("td", {}, a.top_finding ? `${names[a.top_finding.practice] || a.top_finding.practice} · ${a.top_finding.kind.replaceAll("_", " ")} (${a.top_finding.calls})` : "–"),
          ),
        ),
      ),
    ),
  );
}

async function loadTeams() {
  const teams = await api("/api/v1/teams");
  form.team.append(...teams.map((t) => h("option", { value: t.team, selected: t.team === team }, `${t.team} (${t.agents.length})`)));
}

function teamForm() {
  const panel = document.getElementById("team-panel");
  const tf = document.getElementById("team-form");
  const message = document.getElementById("team-message");
  panel.hidden = false;
  tf.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const r = await api(`/api/v1/agents/${encodeURIComponent(tf.agent.value.trim())}/team`, { method: "PUT", body: { team: tf.team.value.trim() || null } });
      message.replaceChildren(badge("saved", "positive"), ` ${r.agent_id}: ${r.team || "no team"}`);
      message.className = "small";
    } catch (e) {
      message.textContent = e.detail || e.message;
      message.className = "small error";
    }
  });
}

const me = await startPage("review");
if (me) {
  form.agent.value = agent;
  if (![...form.weeks.options].some((o) => o.value === weeks)) form.weeks.append(h("option", {}, weeks));
  form.weeks.value = weeks;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = new URLSearchParams({ weeks: form.weeks.value });
    if (form.agent.value.trim()) q.set("agent", form.agent.value.trim());
    else if (form.team.value) q.set("team", form.team.value);
    location.search = `?${q}`;
  });
  try {
    const rubric = await api("/api/v1/rubric", { params: { language: "en" } });
    names = Object.fromEntries(Object.entries(rubric.practices || {}).map(([id, p]) => [id, p.name]));
  } catch {
    names = {};
  }
  try {
    await loadTeams();
    const trend = await api("/api/v1/trends", { params: { agent_id: agent || undefined, team: team || undefined, weeks } });
    renderSummary(trend);
    const scores = document.getElementById("scores");
    const rates = document.getElementById("rates");
    if (trend.weeks.length) {
      scores.replaceChildren(scoreChart(trend.weeks, trendSeries(trend, names), { shown: weakestSeries(trend) }));
      rates.replaceChildren(rateChart(trend.weeks));
    } else {
      scores.replaceChildren(h("p", { class: "muted" }, "No scored calls in these weeks."));
      rates.replaceChildren();
    }
    renderRecurring(trend);
    await renderCompare();
    teamForm();
  } catch (e) {
    showError(e, me, document.getElementById("status"));
  }
}
