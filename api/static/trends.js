// Trends for supervisors and QA leads: an agent's, a team's or everyone's practice scores by
// ISO week (SVG line chart), the customers' de-escalation rate by week, the findings that recur,
// and agents side by side. ?agent=ID or ?team=NAME, &weeks=N (default 12).
import { api, showError, startPage } from "./api.js";
import { kindLabel, LANG, t } from "./i18n.js";
import { badge, h, scoreEl } from "./util.js";
import { pct, rateChart, scoreChart, sparkline, trendSeries, weakestSeries } from "./trend-chart.js";

const form = document.getElementById("scope");
const params = new URLSearchParams(location.search);
const agent = params.get("agent") || "";
const team = agent ? "" : params.get("team") || "";
const weeks = params.get("weeks") || "12";
let names = {};

/** A finding kind's name in the interface language (English: the kind id, spaced). */
function kindName(kind) {
  return LANG === "zh" ? kindLabel(kind, "zh") : kind.replaceAll("_", " ");
}

function fact(label, value) {
  return h("span", {}, h("b", {}, label), value);
}

function renderSummary(trend) {
  const scope = agent ? t("trends.scope_agent", { id: agent }) : team ? t("trends.scope_team", { team }) : t("trends.scope_all");
  document.getElementById("title").textContent = t("trends.heading_scope", { scope });
  document.getElementById("summary").replaceChildren(
    h(
      "div",
      { class: "facts", "data-calls": trend.calls },
      fact(t("trends.scored_calls"), trend.calls),
      fact(t("trends.mean_score"), scoreEl(trend.mean_overall)),
      fact(t("trends.calmer_end"), pct(trend.deescalation_rate)),
      fact(t("trends.weeks"), trend.weeks.length),
    ),
  );
}

function renderRecurring(trend) {
  const root = document.getElementById("recurring");
  if (!trend.recurring_findings.length) {
    root.replaceChildren(h("p", { class: "muted" }, t("trends.no_faults")));
    return;
  }
  root.replaceChildren(
    h(
      "table",
      { class: "list", "data-testid": "recurring" },
      h("thead", {}, h("tr", {}, h("th", {}, t("trends.practice")), h("th", {}, t("trends.finding")), h("th", { class: "num" }, t("trends.calls")), h("th", { class: "num" }, t("trends.share")), h("th", { class: "num" }, t("trends.findings")))),
      h(
        "tbody",
        {},
        trend.recurring_findings.map((f) =>
          h(
            "tr",
            { "data-kind": f.kind, "data-practice": f.practice },
            h("td", {}, names[f.practice] || f.practice),
            h("td", {}, kindName(f.kind)),
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
    root.replaceChildren(h("p", { class: "muted" }, t("trends.no_agents")));
    return;
  }
  root.replaceChildren(
    h(
      "table",
      { class: "list", "data-testid": "compare" },
      h("thead", {}, h("tr", {}, ["agent", "team", "calls", "mean_score", "by_week", "calmer", "most"].map((key) => h("th", {}, t(`trends.${key}`))))),
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
            h("td", {}, a.top_finding ? `${names[a.top_finding.practice] || a.top_finding.practice} · ${kindName(a.top_finding.kind)} (${a.top_finding.calls})` : "–"),
          ),
        ),
      ),
    ),
  );
}

async function loadTeams() {
  const teams = await api("/api/v1/teams");
  form.team.append(...teams.map((x) => h("option", { value: x.team, selected: x.team === team }, `${x.team} (${x.agents.length})`)));
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
      message.replaceChildren(badge(t("trends.saved"), "positive"), ` ${r.agent_id}${t("colon")}${r.team || t("trends.no_team")}`);
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
    const rubric = await api("/api/v1/rubric", { params: { language: LANG === "zh" ? "zh" : "en" } });
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
      scores.replaceChildren(h("p", { class: "muted" }, t("trends.no_calls_weeks")));
      rates.replaceChildren();
    }
    renderRecurring(trend);
    await renderCompare();
    teamForm();
  } catch (e) {
    showError(e, me, document.getElementById("status"));
  }
}
