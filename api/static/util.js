// DOM building and formatting helpers shared by the Calmline pages.
// Text is always set with text nodes, never as HTML: transcripts and ids come from callers.

import { t } from "./i18n.js";

const SVG_NS = "http://www.w3.org/2000/svg";

function build(el, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** An HTML element: h("a", {href: "/x", class: "y"}, "text", otherNode). */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** Append children to an existing element as h() does: null, undefined and false are left
 * out (Element.append would write them as text), arrays are flattened. */
export function append(el, ...children) {
  return build(el, null, children);
}

/** An SVG element, same calling convention as h(). */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Seconds as m:ss (or h:mm:ss). */
export function fmtTime(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "–";
  const t = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(t / 3600);
  const mm = Math.floor((t % 3600) / 60);
  const ss = String(t % 60).padStart(2, "0");
  return hh ? `${hh}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

/** An ISO timestamp from the API (UTC, maybe without zone) as local date and time. */
export function fmtDate(iso) {
  if (!iso) return "–";
  const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function fmtScore(score) {
  return score === null || score === undefined ? "–" : String(Math.round(score));
}

/** A score as a coloured span (low < 60 <= mid < 80 <= high). */
export function scoreEl(score, extra = "") {
  const band = score === null || score === undefined ? "" : score < 60 ? "low" : score < 80 ? "mid" : "high";
  return h("span", { class: `score ${band} ${extra}`.trim() }, fmtScore(score));
}

export function badge(text, kind) {
  return h("span", { class: `badge ${kind || ""}`.trim() }, text);
}

/** Speaker roles in the interface language. */
export const ROLE_LABEL = { agent: t("role.agent_label"), customer: t("role.customer"), unknown: t("role.unknown") };
