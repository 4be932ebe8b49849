// The call timeline as inline SVG: who spoke when (agent and customer rows), overlaps,
// non-talk spans, finding markers and the customer's agitation curve, with a playhead.
import { callLang, kindLabel, t } from "./i18n.js";
import { fmtTime, h, s } from "./util.js";

const W = 1000; // viewBox width; the SVG scales to the panel's width
const X0 = 78; // left edge of the plot (row labels to its left)
const X1 = 990;
const ROW = { findings: [6, 24], agent: [32, 54], customer: [60, 82], agitation: [96, 146] };
const AXIS_Y = 162;
const H = 172;

const SEVERITY_COLOR = {
  critical: "var(--critical)",
  major: "var(--major)",
  minor: "var(--minor)",
  info: "var(--info)",
  positive: "var(--positive)",
};

function tickStep(duration) {
  for (const step of [5, 10, 15, 30, 60, 120, 300, 600]) if (duration / step <= 12) return step;
  return 1200;
}

/** Every finding of the scorecard, in time order (the info summaries without a time skipped). */
export function allFindings(report) {
  const card = report.scorecard;
  if (!card) return [];
  const out = [];
  for (const p of card.practices) for (const f of p.findings) if (f.start !== null) out.push({ ...f, practiceName: p.name, language: report.language });
  return out.sort((a, b) => a.start - b.start);
}

/**
 * Draw the timeline. `onSeek(t)` is called for a click on the background, `onFinding(f)` for a
 * click on a marker. Returns {svg, setTime(t)} (setTime moves the playhead).
 */
export function renderTimeline(report, { onSeek, onFinding }) {
  const duration = Math.max(report.metrics.duration || report.audio.duration || 1, 0.001);
  const x = (t) => X0 + ((X1 - X0) * Math.min(Math.max(t, 0), duration)) / duration;
  const svg = s("svg", {
    class: "timeline",
    viewBox: `0 0 ${W} ${H}`,
    role: "img",
    "aria-label": t("tl.label"),
    "data-testid": "timeline",
    "data-duration": duration,
  });
  svg.append(
    s(
      "defs",
      {},
      s(
        "pattern",
        { id: "nontalk-hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
        s("rect", { width: 6, height: 6, fill: "#eef0f3" }),
        s("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#b5bcc5", "stroke-width": 2 }),
      ),
    ),
  );

  // row bands and labels
  const labels = [
    [t("tl.findings"), ROW.findings],
    [t("tl.agent"), ROW.agent],
    [t("tl.customer"), ROW.customer],
    [t("tl.agitation"), ROW.agitation],
  ];
  for (const [label, [y0, y1]] of labels) {
    svg.append(s("rect", { class: "band", x: X0, y: y0, width: X1 - X0, height: y1 - y0 }));
    svg.append(s("text", { x: X0 - 6, y: (y0 + y1) / 2 + 4, "text-anchor": "end" }, label));
  }

  // time grid and axis
  const step = tickStep(duration);
  for (let t = 0; t <= duration + 1e-6; t += step) {
    svg.append(s("line", { class: "grid", x1: x(t), x2: x(t), y1: ROW.findings[0], y2: ROW.agitation[1] }));
    svg.append(s("text", { x: x(t), y: AXIS_Y, "text-anchor": "middle" }, fmtTime(t)));
  }

  // non-talk spans and overlaps behind/over the speaker rows
  const nontalk = s("g", { "data-layer": "nontalk" });
  for (const span of report.metrics.non_talk || []) {
    nontalk.append(
      s(
        "rect",
        { class: "nontalk", x: x(span.start), y: ROW.agent[0], width: Math.max(x(span.end) - x(span.start), 1), height: ROW.customer[1] - ROW.agent[0] },
        s("title", {}, t("tl.nontalk", { from: fmtTime(span.start), to: fmtTime(span.end), s: (span.end - span.start).toFixed(1) })),
      ),
    );
  }
  svg.append(nontalk);

  const turns = s("g", { "data-layer": "turns" });
  for (const turn of report.turns) {
    const row = turn.role === "customer" ? ROW.customer : ROW.agent;
    turns.append(
      s(
        "rect",
        { class: `turn ${turn.role}`, x: x(turn.start), y: row[0] + 3, width: Math.max(x(turn.end) - x(turn.start), 1), height: row[1] - row[0] - 6, rx: 2, "data-turn": turn.index },
        s("title", {}, `${turn.role} ${fmtTime(turn.start)}–${fmtTime(turn.end)}: ${turn.text}`),
      ),
    );
  }
  svg.append(turns);

  const overlaps = s("g", { "data-layer": "overlaps" });
  for (const o of report.overlaps || []) {
    overlaps.append(
      s(
        "rect",
        { class: "overlap", x: x(o.start), y: ROW.agent[0], width: Math.max(x(o.end) - x(o.start), 2), height: ROW.customer[1] - ROW.agent[0] },
        s("title", {}, t("tl.overlap", { from: fmtTime(o.start), to: fmtTime(o.end), s: (o.end - o.start).toFixed(2) })),
      ),
    );
  }
  svg.append(overlaps);

  // agitation curve: one point per customer turn (middle of the turn), 0 at the bottom, 1 at the top
  const stress = report.scorecard && report.scorecard.stress;
  const curve = s("g", { "data-layer": "agitation" });
  if (stress && stress.turns && stress.turns.length) {
    const [a0, a1] = ROW.agitation;
    const y = (v) => a1 - (a1 - a0) * Math.min(Math.max(v, 0), 1);
    const pts = stress.turns.map((t) => [x((t.start + t.end) / 2), y(t.agitation)]);
    curve.append(s("polyline", { class: "agitation", points: pts.map((p) => p.map((v) => v.toFixed(1)).join(",")).join(" ") }));
    stress.turns.forEach((turn, i) => {
      curve.append(
        s(
          "circle",
          { class: "agitation-dot", cx: pts[i][0], cy: pts[i][1], r: 3 },
          s("title", {}, t("tl.agitation_at", { v: turn.agitation.toFixed(2), t: fmtTime(turn.start) })),
        ),
      );
    });
  }
  svg.append(curve);

  // finding markers: a downward triangle at the start, a thin bar over the finding's span
  const markers = s("g", { "data-layer": "findings" });
  for (const f of allFindings(report)) {
    const fx = x(f.start);
    const color = SEVERITY_COLOR[f.severity] || "var(--info)";
    const [m0, m1] = ROW.findings;
    const marker = s(
      "g",
      { class: `marker ${f.severity}`, "data-practice": f.practice, "data-kind": f.kind, "data-start": f.start, tabindex: 0 },
      s("rect", { x: fx, y: m1 - 3, width: Math.max(x(f.end) - fx, 1), height: 3, fill: color, "fill-opacity": 0.5 }),
      s("path", { d: `M${fx - 5},${m0} L${fx + 5},${m0} L${fx},${m1 - 2} Z`, fill: color }),
      s("title", {}, `${fmtTime(f.start)} ${f.practiceName}: ${kindLabel(f.kind, callLang(f.language))} (${t(`severity.${f.severity}`)})${f.quote ? ` “${f.quote}”` : ""}`),
    );
    const pick = (event) => {
      event.stopPropagation();
      onFinding(f);
    };
    marker.addEventListener("click", pick);
    marker.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") pick(event);
    });
    markers.append(marker);
  }
  svg.append(markers);

  const playhead = s("line", { class: "playhead", x1: X0, x2: X0, y1: ROW.findings[0] - 4, y2: ROW.agitation[1] + 2 });
  svg.append(playhead);

  svg.addEventListener("click", (event) => {
    const ctm = svg.getScreenCTM();
    if (!ctm) return;
    const p = new DOMPoint(event.clientX, event.clientY).matrixTransform(ctm.inverse());
    if (p.x < X0 || p.x > X1) return;
    onSeek(((p.x - X0) / (X1 - X0)) * duration);
  });

  return {
    svg,
    setTime(t) {
      const px = x(t);
      playhead.setAttribute("x1", px);
      playhead.setAttribute("x2", px);
    },
  };
}

/** The colour key under the timeline. */
export function legend() {
  const item = (color, label) => {
    const i = document.createElement("i");
    i.style.background = color;
    const span = document.createElement("span");
    span.append(i, label);
    return span;
  };
  const div = document.createElement("div");
  div.className = "legend";
  div.append(
    item("var(--agent)", t("legend.agent")),
    item("var(--customer)", t("legend.customer")),
    item("rgba(210,58,58,.35)", t("legend.overlap")),
    item("#d5d9df", t("legend.nontalk")),
    item("var(--overlap)", t("legend.agitation")),
    item("var(--major)", t("legend.finding")),
  );
  return div;
}

/** Zoom steps of the timeline: 1× fits the panel; on a phone 2× or 4× spreads a long call out. */
export const ZOOMS = [1, 2, 4, 8];

/**
 * The timeline in a box that scrolls sideways by itself (the page never does), with zoom
 * buttons: the SVG is drawn `zoom` times the box's width. Clicks on it keep working at any zoom
 * (the click handler maps screen to SVG coordinates).
 */
export function zoomable(svg) {
  let level = 0;
  const box = h("div", { class: "timeline-box", "data-testid": "timeline-box" }, svg);
  const label = h("span", { class: "zoom-level small muted", "data-testid": "zoom-level" });
  const set = (next) => {
    const old = ZOOMS[level];
    level = Math.min(Math.max(next, 0), ZOOMS.length - 1);
    const zoom = ZOOMS[level];
    // keep the middle of what is shown in the middle
    const centre = (box.scrollLeft + box.clientWidth / 2) / old;
    svg.style.width = `${zoom * 100}%`;
    svg.dataset.zoom = zoom;
    box.scrollLeft = Math.max(0, centre * zoom - box.clientWidth / 2);
    label.textContent = t("tl.zoom", { n: zoom });
    out.disabled = level === 0;
    inn.disabled = level === ZOOMS.length - 1;
  };
  const out = h("button", { type: "button", class: "zoom", title: t("tl.zoom_out"), "aria-label": t("tl.zoom_out"), "data-testid": "zoom-out", onclick: () => set(level - 1) }, "−");
  const inn = h("button", { type: "button", class: "zoom", title: t("tl.zoom_in"), "aria-label": t("tl.zoom_in"), "data-testid": "zoom-in", onclick: () => set(level + 1) }, "+");
  // a phone starts at 2x: at 1x a call's minute is a few pixels and the labels are unreadable
  set(window.matchMedia("(max-width: 640px)").matches ? 1 : 0);
  const el = h("div", { class: "timeline-zoom" }, h("div", { class: "zoom-controls" }, out, label, inn), box);
  /** Keep time t (of a call of `duration` s) in view when zoomed: playback scrolls the box along. */
  el.follow = (t, duration) => {
    if (ZOOMS[level] === 1 || !(duration > 0)) return;
    const px = ((X0 + ((X1 - X0) * Math.min(Math.max(t / duration, 0), 1))) / W) * box.scrollWidth;
    if (px < box.scrollLeft || px > box.scrollLeft + box.clientWidth - 20) box.scrollLeft = Math.max(0, px - 40);
  };
  return el;
}
