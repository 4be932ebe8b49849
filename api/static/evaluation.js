// QA evaluations beside the machine's scorecard: the QA lead's panel on the call page (confirm or
// reject each finding, add a missed one, override a practice score, save or publish) and the
// agent's view on the feedback page (acknowledge, dispute an item). The API checks every rule.
import { api, ApiError } from "./api.js";
import { callLang, kindLabel, t, textLang, zhPunct } from "./i18n.js";
import { append, badge, fmtDate, fmtTime, h, scoreEl } from "./util.js";

export const REJECT_REASONS = Object.fromEntries(
  ["asr_error", "wrong_speaker", "not_applicable", "wrong_rule", "other"].map((k) => [k, t(`ev.reason.${k}`)]),
);
const EVALUATOR_ROLES = ["admin", "qa_lead"];

/** The call's evaluation the caller may see, or null (none yet, or none published). */
export async function loadEvaluation(callId) {
  try {
    return await api(`/api/v1/calls/${encodeURIComponent(callId)}/evaluation`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

function who(ev) {
  return ev.evaluator.name || ev.evaluator.key_id;
}

/** "Version 2, published 2026-12-02 14:30 by Lin" (and the acknowledgement). */
export function statusLine(ev) {
  if (!ev) return h("p", { class: "small muted", "data-testid": "evaluation-status" }, t("ev.not_evaluated"));
  const when = ev.published_at ? t("ev.published", { when: fmtDate(ev.published_at) }) : t("ev.draft", { when: fmtDate(ev.created_at) });
  return h(
    "p",
    { class: "small", "data-testid": "evaluation-status", "data-status": ev.status, "data-version": ev.version },
    badge(t(`ev.status.${ev.status}`), ev.status === "published" ? "positive" : "info"),
    t("ev.status_line", { version: ev.version, versions: ev.versions, when, who: who(ev) }),
    ev.acknowledged_at ? t("ev.acknowledged", { when: fmtDate(ev.acknowledged_at) }) : "",
  );
}

function overallLine(ev) {
  return h(
    "p",
    { class: "ev-overall" },
    t("ev.overall"),
    scoreEl(ev.machine_overall),
    t("ev.overall_qa"),
    h("span", { "data-testid": "human-overall" }, scoreEl(ev.human_overall)),
  );
}

/** A finding's line: time, severity, practice name and kind (in the call's language), quote.
 * `names` maps practice ids to the names the call's rubric gives them. */
function findingLabel(f, names = {}, language = "en") {
  const lang = callLang(language);
  return [
    h("span", { class: "time" }, f.start === null || f.start === undefined ? t("common.whole_call") : fmtTime(f.start)),
    " ",
    badge(f.severity ? t(`severity.${f.severity}`) : t("ev.added"), f.severity || "info"),
    " ",
    h("span", { class: "kind", lang, title: `${f.practice} · ${f.kind}` }, `${names[f.practice] || f.practice} · ${kindLabel(f.kind, lang)}`),
    f.quote ? [" ", h("q", { class: "ev-quote", lang: textLang(f.quote) }, zhPunct(f.quote))] : null,
  ];
}

/** Practice id -> name from a report's scorecard or an evaluation's practices. */
function practiceNames(rows) {
  return Object.fromEntries((rows || []).filter((p) => p.name).map((p) => [p.practice, p.name]));
}

function option(value, label, selected) {
  return h("option", { value, selected: value === selected }, label);
}

/** The evaluation's disputes; each names the finding it is about (practice, kind, quote) when the
 * evaluation holds it, else its key. */
function disputeList(ev, names = {}, language = "en") {
  if (!ev || !ev.disputes.length) return null;
  const items = new Map([...ev.findings, ...ev.missed].map((f) => [f.key, f]));
  const about = (key) => {
    const f = items.get(key);
    if (!f) return key;
    const lang = callLang(language);
    return h("span", { class: "kind", lang, title: key }, `${names[f.practice] || f.practice} · ${kindLabel(f.kind, lang)}`);
  };
  return h(
    "ul",
    { class: "ev-disputes", "data-testid": "disputes" },
    ev.disputes.map((d) =>
      h(
        "li",
        { "data-dispute": d.id, "data-state": d.status },
        badge(t(`dispute.${d.status}`), d.status === "open" ? "minor" : d.status === "overturned" ? "positive" : "info"),
        " ",
        about(d.item),
        `${t("colon")}“${d.comment}”`,
        d.resolution_note ? h("span", { class: "small muted" }, ` — ${d.resolution_note}`) : null,
      ),
    ),
  );
}

/**
 * The QA lead's evaluation panel of a call (read-only for other staff). `getTime()` gives the
 * player's time for a missed finding; `onSaved(ev)` runs after a save.
 */
export function evaluationPanel({ me, call, report, ev, getTime }) {
  const editable = EVALUATOR_ROLES.includes(me.role);
  const panel = h("section", { class: "panel evaluation", "data-testid": "evaluation" });
  const practices = report.scorecard ? report.scorecard.practices : [];
  const verdicts = new Map((ev ? ev.findings : []).filter((f) => f.verdict).map((f) => [f.key, f]));
  const overrides = new Map((ev ? ev.practices : []).filter((p) => p.overridden).map((p) => [p.practice, p]));
  const missed = ev ? ev.missed.map(({ practice, kind, start, end, quote, note }) => ({ practice, kind, start, end, quote, note })) : [];
  const message = h("p", { class: "small", role: "status", "data-testid": "evaluation-message" });
  const names = practiceNames(practices);
  const language = report.language;

  const scoreRows = practices.map((p) => {
    const o = overrides.get(p.practice);
    const score = h("input", { type: "number", min: 0, max: 100, step: "any", value: o ? o.human : "", placeholder: "–", disabled: !editable, "aria-label": t("ev.qa_score_of", { name: p.name }) });
    const reason = h("input", { type: "text", value: o ? o.reason : "", placeholder: t("ev.reason"), disabled: !editable, "aria-label": t("ev.reason_for", { name: p.name }) });
    const row = h("tr", { "data-ev-practice": p.practice }, h("td", { lang: callLang(language) }, p.name), h("td", { class: "num" }, scoreEl(p.score)), h("td", {}, score), h("td", {}, reason));
    row.read = () => (score.value === "" ? null : { practice: p.practice, score: Number(score.value), reason: reason.value.trim() });
    return row;
  });

  const findingRows = [];
  for (const p of practices) {
    p.findings.forEach((f, i) => {
      const key = `${p.practice}#${i}`;
      const v = verdicts.get(key);
      const verdict = h("select", { disabled: !editable, "aria-label": t("ev.verdict") }, option("", "—", v ? v.verdict : ""), option("confirm", t("ev.confirm"), v ? v.verdict : ""), option("reject", t("ev.reject"), v ? v.verdict : ""));
      const reason = h("select", { disabled: !editable, "aria-label": t("ev.reason_label") }, Object.entries(REJECT_REASONS).map(([k, label]) => option(k, label, v ? v.reason : "")));
      const note = h("input", { type: "text", value: v && v.note ? v.note : "", placeholder: t("ev.note"), disabled: !editable, "aria-label": t("ev.note_label") });
      const sync = () => {
        reason.hidden = verdict.value !== "reject";
      };
      verdict.addEventListener("change", sync);
      sync();
      const li = h("li", { "data-ev-finding": key, "data-verdict": v ? v.verdict : "" }, h("div", { class: "ev-what" }, findingLabel(f, names, language)), h("div", { class: "ev-controls" }, verdict, reason, note));
      li.read = () => (verdict.value ? { finding: key, verdict: verdict.value, reason: verdict.value === "reject" ? reason.value : null, note: note.value.trim() || null } : null);
      findingRows.push(li);
    });
  }

  const missedList = h("ul", { class: "ev-missed", "data-testid": "missed" });
  const drawMissed = () =>
    missedList.replaceChildren(
      ...missed.map((m, i) =>
        h(
          "li",
          { "data-ev-missed": i },
          findingLabel({ ...m, severity: null }, names, language),
          m.note ? h("span", { class: "small muted" }, ` — ${m.note}`) : null,
          editable ? h("button", { type: "button", class: "link", onclick: () => { missed.splice(i, 1); drawMissed(); } }, t("ev.remove")) : null,
        ),
      ),
    );
  drawMissed();

  const addForm = () => {
    const practice = h("select", { name: "practice", "aria-label": t("ev.practice") }, practices.map((p) => option(p.practice, p.name, "")));
    const kind = h("input", { name: "kind", placeholder: t("ev.kind_ph"), pattern: "[a-z_]+", "aria-label": t("ev.kind") });
    const time = h("input", { name: "time", placeholder: t("ev.time_ph"), size: 6, "aria-label": t("ev.time") });
    const quote = h("input", { name: "quote", placeholder: t("ev.quote_ph"), "aria-label": t("ev.quote") });
    const note = h("input", { name: "note", placeholder: t("ev.note"), "aria-label": t("ev.note_label") });
    const now = h("button", { type: "button", onclick: () => { time.value = fmtTime(getTime()); } }, t("ev.now"));
    const add = h("button", { type: "button", "data-testid": "add-missed" }, t("ev.add"));
    add.addEventListener("click", () => {
      const start = parseTime(time.value);
      if (!/^[a-z_]+$/.test(kind.value) || start === null) {
        message.textContent = t("ev.missed_needs");
        return;
      }
      missed.push({ practice: practice.value, kind: kind.value, start, quote: quote.value.trim(), note: note.value.trim() || null });
      for (const el of [kind, time, quote, note]) el.value = "";
      drawMissed();
    });
    return h("div", { class: "ev-add" }, practice, kind, time, now, quote, note, add);
  };

  const note = h("textarea", { rows: 2, placeholder: t("ev.note_for_agent"), disabled: !editable, "aria-label": t("ev.note_aria") }, ev && ev.note ? ev.note : "");
  const save = async (publish) => {
    const body = {
      findings: findingRows.map((r) => r.read()).filter(Boolean),
      scores: scoreRows.map((r) => r.read()).filter(Boolean),
      missed,
      note: note.value.trim() || null,
      publish,
    };
    message.textContent = publish ? t("ev.publishing") : t("ev.saving");
    try {
      const saved = await api(`/api/v1/calls/${encodeURIComponent(call.call_id)}/evaluation`, { method: "POST", body });
      panel.replaceWith(evaluationPanel({ me, call, report, ev: saved, getTime }));
    } catch (e) {
      message.textContent = e.detail || e.message;
      message.className = "small error";
    }
  };

  append(
    panel,
    h("h2", {}, t("ev.heading")),
    statusLine(ev),
    ev ? overallLine(ev) : null,
    h("h3", {}, t("ev.scores")),
    h("table", { class: "list ev-scores" }, h("thead", {}, h("tr", {}, h("th", {}, t("ev.col.practice")), h("th", { class: "num" }, t("ev.col.machine")), h("th", {}, t("ev.col.qa")), h("th", {}, t("ev.col.reason")))), h("tbody", {}, scoreRows)),
    h("h3", {}, t("ev.findings")),
    findingRows.length ? h("ul", { class: "ev-findings" }, findingRows) : h("p", { class: "muted small" }, t("ev.none_found")),
    h("h3", {}, t("ev.missed")),
    missedList,
    editable ? addForm() : null,
    h("label", { class: "ev-note" }, t("ev.note_label"), note),
    editable
      ? h(
          "div",
          { class: "ev-actions" },
          h("button", { type: "button", "data-testid": "save-evaluation", onclick: () => save(false) }, t("ev.save")),
          h("button", { type: "button", class: "primary", "data-testid": "publish-evaluation", onclick: () => save(true) }, t("ev.publish")),
          h("a", { href: "/disputes", class: "small" }, t("ev.queue")),
        )
      : null,
    message,
    disputeList(ev, names, language),
  );
  return panel;
}

/** "1:05" or "65" or "1:02:03" as seconds; null when it is not a time. */
export function parseTime(text) {
  const parts = String(text).trim().split(":");
  if (!parts.length || parts.some((x) => !/^\d+(\.\d+)?$/.test(x))) return null;
  return parts.reduce((acc, x) => acc * 60 + Number(x), 0);
}

/** The agent's view of a published evaluation: QA scores beside the machine's, each judged item
 * with a dispute form, and the acknowledgement. */
export function agentEvaluation({ call, ev, report = null }) {
  const language = report ? report.language : "en";
  const names = { ...practiceNames(ev.practices), ...practiceNames(report && report.scorecard ? report.scorecard.practices : []) };
  const enc = encodeURIComponent(call.call_id);
  const panel = h("section", { class: "panel evaluation", "data-testid": "agent-evaluation" });
  const message = h("p", { class: "small", role: "status", "data-testid": "evaluation-message" });
  const redraw = async () => {
    const fresh = await api(`/api/v1/calls/${enc}/evaluation`);
    panel.replaceWith(agentEvaluation({ call, ev: fresh, report }));
  };
  const fail = (e) => {
    message.textContent = e.detail || e.message;
    message.className = "small error";
  };
  const open = new Set(ev.disputes.filter((d) => d.status === "open").map((d) => d.item));
  const isAgent = document.body.dataset.role === "agent";
  const disputeForm = (item) => {
    const box = h("span", { class: "ev-dispute" });
    if (!isAgent) return open.has(item) ? badge(t("ev.disputed"), "minor") : box;
    const start = h("button", { type: "button", class: "link", "data-testid": "dispute" }, t("ev.dispute"));
    start.addEventListener("click", () => {
      const comment = h("input", { type: "text", placeholder: t("ev.dispute_ph"), "aria-label": t("ev.dispute_aria"), size: 40 });
      const send = h("button", { type: "button", "data-testid": "send-dispute" }, t("ev.send"));
      send.addEventListener("click", async () => {
        try {
          await api(`/api/v1/calls/${enc}/evaluation/disputes`, { method: "POST", body: { item, comment: comment.value } });
          await redraw();
        } catch (e) {
          fail(e);
        }
      });
      box.replaceChildren(comment, send);
      comment.focus();
    });
    box.append(open.has(item) ? badge(t("ev.disputed"), "minor") : start);
    return box;
  };
  const judged = ev.findings.filter((f) => f.verdict || f.severity !== "info");
  const item = (key, f, verdict) =>
    h(
      "li",
      { "data-ev-item": key, "data-verdict": verdict || "" },
      findingLabel(f, names, language),
      verdict === "reject" ? h("span", { class: "small ev-verdict" }, t("ev.removed_by_qa", { reason: REJECT_REASONS[f.reason] || f.reason }), f.note ? `${t("list.sep")}${f.note}` : "") : null,
      verdict === "confirm" ? h("span", { class: "small ev-verdict" }, t("ev.confirmed_by_qa")) : null,
      verdict === "missed" ? h("span", { class: "small ev-verdict" }, t("ev.added_by_qa"), f.note ? `${t("colon")}${f.note}` : "") : null,
      " ",
      disputeForm(key),
    );
  const ack = ev.acknowledged_at || !isAgent
    ? null
    : h("button", { type: "button", class: "primary", "data-testid": "acknowledge" }, t("ev.acknowledge"));
  if (ack)
    ack.addEventListener("click", async () => {
      try {
        await api(`/api/v1/calls/${enc}/evaluation/acknowledge`, { method: "POST" });
        await redraw();
      } catch (e) {
        fail(e);
      }
    });
  const changed = ev.practices.filter((p) => p.overridden);
  append(
    panel,
    h("h2", {}, t("ev.heading")),
    statusLine(ev),
    overallLine(ev),
    changed.length
      ? h("ul", { class: "ev-changed" }, changed.map((p) => h("li", { "data-ev-practice": p.practice }, t("ev.changed", { name: names[p.practice] || p.name || p.practice }), scoreEl(p.machine), t("ev.to_qa"), scoreEl(p.human), h("span", { class: "small muted" }, ` (${p.reason})`))))
      : null,
    ev.note ? h("p", { class: "coaching" }, ev.note) : null,
    h("ul", { class: "ev-findings" }, judged.map((f) => item(f.key, f, f.verdict)), ev.missed.map((m) => item(m.key, m, "missed"))),
    ack,
    message,
    disputeList(ev, names, language),
  );
  return panel;
}
