// Weekly trend charts drawn as SVG elements (no chart library): scores by ISO week as lines,
// the customers' de-escalation rate as bars, and a small sparkline for tables. The x axis is the
// API's list of weeks (weeks without calls are in it, so gaps show as breaks in the lines).
import { api } from "./api.js";
import { kindLabel, LANG, t } from "./i18n.js";
import { append, h, s } from "./util.js";

const W = 720;
const H = 240;
const PAD = { left: 36, right: 12, top: 12, bottom: 28 };
/** Line classes, in order: overall first, then each practice (calmline.css colours them). */
const SERIES_CLASSES = 8;

function xOf(i, n) {
  const inner = W - PAD.left - PAD.right;
  return PAD.left + (n <= 1 ? inner / 2 : (inner * i) / (n - 1));
}

function yOf(value, max) {
  const inner = H - PAD.top - PAD.bottom;
  return PAD.top + inner * (1 - value / max);
}

function axes(weeks, max, ticks, fmt) {
  const n = weeks.length;
  const every = Math.max(1, Math.ceil(n / 8));
  return [
    ticks.map((tick) =>
      s(
        "g",
        { class: "tc-grid" },
        s("line", { x1: PAD.left, x2: W - PAD.right, y1: yOf(tick, max), y2: yOf(tick, max) }),
        s("text", { x: PAD.left - 4, y: yOf(tick, max) + 4, "text-anchor": "end" }, fmt(tick)),
      ),
    ),
    weeks.map((w, i) =>
      i % every === 0 || i === n - 1
        ? s("text", { class: "tc-week", x: xOf(i, n), y: H - 8, "text-anchor": "middle" }, t("chart.week", { n: w.week.replace(/^\d{4}-W?/, "") }))
        : null,
    ),
  ];
}

/** Path segments through the points that have a value; a null breaks the line. */
function linePath(values, max) {
  const n = values.length;
  let d = "";
  let pen = false;
  values.forEach((v, i) => {
    if (v === null || v === undefined) {
      pen = false;
      return;
    }
    d += `${pen ? "L" : "M"}${xOf(i, n).toFixed(1)},${yOf(v, max).toFixed(1)}`;
    pen = true;
  });
  return d;
}

/**
 * Scores (0-100) by week. `series`: [{id, name, values: [score|null per week]}], the first drawn
 * bold. `shown`: ids of the series drawn at first (default: all); a click on a legend entry shows
 * or hides its line. Returns a <figure> with the SVG and the legend.
 */
export function scoreChart(weeks, series, { title = t("trends.scores"), shown = null } = {}) {
  const svg = s(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, class: "trend-chart", role: "img", "aria-label": title, "data-testid": "trend-chart", "data-weeks": weeks.length },
    s("title", {}, title),
    axes(weeks, 100, [0, 20, 40, 60, 80, 100], String),
    series.map((line, k) =>
      s(
        "g",
        { class: `tc-series tc-s${k % SERIES_CLASSES}${k === 0 ? " tc-main" : ""}`, "data-series": line.id, visibility: !shown || shown.includes(line.id) ? null : "hidden" },
        s("path", { d: linePath(line.values, 100) }),
        line.values.map((v, i) =>
          v === null || v === undefined
            ? null
            : s("circle", { cx: xOf(i, weeks.length), cy: yOf(v, 100), r: k === 0 ? 3.5 : 2.5, "data-week": weeks[i].week, "data-value": v }, s("title", {}, t("chart.point", { name: line.name, week: weeks[i].week, v: Math.round(v) }))),
        ),
      ),
    ),
  );
  const toggle = (id, li) => {
    const g = svg.querySelector(`g[data-series="${CSS.escape(id)}"]`);
    const hide = g.getAttribute("visibility") !== "hidden";
    if (hide) g.setAttribute("visibility", "hidden");
    else g.removeAttribute("visibility");
    li.classList.toggle("off", hide);
    li.setAttribute("aria-pressed", String(!hide));
  };
  const legend = h(
    "ul",
    { class: "tc-legend" },
    series.map((line, k) => {
      const on = !shown || shown.includes(line.id);
      const li = h("li", { class: `tc-s${k % SERIES_CLASSES}${on ? "" : " off"}`, role: "button", tabindex: 0, "aria-pressed": String(on), "data-series": line.id }, h("span", { class: "tc-key" }), line.name);
      li.addEventListener("click", () => toggle(line.id, li));
      li.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          toggle(line.id, li);
        }
      });
      return li;
    }),
  );
  const hint = series.length > 1 ? h("figcaption", { class: "small muted" }, t("chart.hint")) : null;
  return h("figure", { class: "trend" }, svg, hint, legend);
}

/** The customers' de-escalation rate (0-1) by week as bars, with the number of measured calls. */
export function rateChart(weeks, { title = t("chart.rate_title") } = {}) {
  const n = weeks.length;
  const inner = W - PAD.left - PAD.right;
  const bw = Math.max(2, Math.min(36, (inner / Math.max(n, 1)) * 0.6));
  const svg = s(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, class: "trend-chart", role: "img", "aria-label": title, "data-testid": "rate-chart" },
    s("title", {}, title),
    axes(weeks, 1, [0, 0.25, 0.5, 0.75, 1], (tick) => `${Math.round(tick * 100)}%`),
    weeks.map((w, i) => {
      if (w.deescalation_rate === null) return null;
      const measured = w.customer["de-escalated"] + w.customer.steady + w.customer.escalated;
      const y = yOf(w.deescalation_rate, 1);
      return s(
        "rect",
        { class: "tc-bar", x: xOf(i, n) - bw / 2, y, width: bw, height: yOf(0, 1) - y, "data-week": w.week, "data-value": w.deescalation_rate },
        s("title", {}, t("chart.bar", { week: w.week, pct: Math.round(w.deescalation_rate * 100), n: measured })),
      );
    }),
  );
  return h("figure", { class: "trend" }, svg);
}

/** A small line of weekly values (0-100) for a table cell. */
export function sparkline(values) {
  const w = 120;
  const hh = 28;
  const n = values.length;
  const pts = values.map((v, i) => (v === null || v === undefined ? null : [n <= 1 ? w / 2 : (w * i) / (n - 1), hh - (hh * v) / 100]));
  let d = "";
  let pen = false;
  for (const p of pts) {
    if (!p) {
      pen = false;
      continue;
    }
    d += `${pen ? "L" : "M"}${p[0].toFixed(1)},${p[1].toFixed(1)}`;
    pen = true;
  }
  return s("svg", { viewBox: `0 0 ${w} ${hh}`, class: "sparkline", width: w, height: hh, "aria-hidden": "true" }, s("path", { d }));
}

/** The series of a trend: overall first, then each practice that has a score, named. */
export function trendSeries(trend, names = {}) {
  const practices = Object.keys(trend.practices || {});
  return [
    { id: "overall", name: t("chart.overall"), values: trend.weeks.map((w) => w.mean_overall) },
    ...practices.map((p) => ({ id: p, name: names[p] || p, values: trend.weeks.map((w) => (w.practices[p] === undefined ? null : w.practices[p])) })),
  ];
}

/** Ids drawn at first: overall and the `n` practices with the lowest mean (what to work on). */
export function weakestSeries(trend, n = 3) {
  const ranked = Object.entries(trend.practices || {})
    .filter(([, v]) => v !== null)
    .sort((a, b) => a[1] - b[1])
    .slice(0, n)
    .map(([id]) => id);
  return ["overall", ...ranked];
}

/** A percentage or a dash. */
export function pct(x) {
  return x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`;
}

/** The agent's own trend, for the feedback page: inserted after `after`. */
export async function mountAgentTrend(after, agentId, names = {}) {
  const box = h("section", { class: "panel", "data-testid": "agent-trend" }, h("h2", {}, t("fb.trend.heading")));
  after.after(box);
  let trend;
  try {
    trend = await api("/api/v1/trends", { params: { agent_id: agentId } });
  } catch (e) {
    box.append(h("p", { class: "small error" }, e.detail || e.message));
    return;
  }
  if (!trend.calls) {
    box.append(h("p", { class: "muted" }, t("fb.trend.none")));
    return;
  }
  box.dataset.calls = trend.calls;
  const overallOnly = [trendSeries(trend, names)[0]];
  append(
    box,
    h("p", { class: "small muted" }, t("fb.trend.summary", { n: trend.calls, since: trend.since.slice(0, 10), pct: pct(trend.deescalation_rate) })),
    scoreChart(trend.weeks, overallOnly, { title: t("fb.trend.chart") }),
    trend.recurring_findings.length
      ? h("p", { class: "small" }, t("fb.trend.most"), trend.recurring_findings.slice(0, 3).map((f, i) => [i ? t("list.sep") : "", t("fb.trend.item", { practice: names[f.practice] || f.practice, kind: LANG === "zh" ? kindLabel(f.kind, "zh") : f.kind.replaceAll("_", " "), n: f.calls })]))
      : null,
  );
}
