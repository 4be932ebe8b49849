// Calibration sessions. /calibration: start one (a call and two evaluators or more), the open
// and closed ones, and agreement pooled over all closed ones. /calibration/ID: the evaluator's
// own answer while it is open (nobody sees another's answer before the close), then every
// answer side by side with the agreement per practice, between evaluators and with the machine.
import { api, showError, startPage } from "./api.js";
import { REJECT_REASONS } from "./evaluation.js";
import { badge, fmtDate, fmtTime, h, scoreEl } from "./util.js";

const root = document.getElementById("root");
const idPart = location.pathname.split("/")[2];
const EVALUATOR_ROLES = ["admin", "qa_lead"];
let me = null;

function num(x, digits = 1) {
  return x === null || x === undefined ? "–" : String(Math.round(x * 10 ** digits) / 10 ** digits);
}

function pct(x) {
  return x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`;
}

function option(value, label, selected) {
  return h("option", { value, selected: value === selected }, label);
}

function who(e) {
  return e.name || e.key_id;
}

// ------------------------------------------------------------------------- the list page

function startForm(evaluators) {
  const call = h("input", { name: "call", required: true, spellcheck: "false", value: new URLSearchParams(location.search).get("call") || "", "aria-label": "Call id" });
  const boxes = evaluators.map((e) => h("label", { class: "check" }, h("input", { type: "checkbox", value: e.key_id, checked: e.key_id === me.key_id }), ` ${who(e)} (${e.role.replace("_", " ")})`));
  const note = h("input", { name: "note", placeholder: "note (optional)", "aria-label": "Note" });
  const message = h("p", { class: "small", role: "status" });
  const f = h(
    "form",
    { class: "filters", "data-testid": "start-calibration" },
    h("label", {}, "Call", call),
    h("fieldset", { class: "evaluators" }, h("legend", {}, "Evaluators (two or more)"), boxes),
    h("label", {}, "Note", note),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Start calibration")),
    message,
  );
  f.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    try {
      const cal = await api(`/api/v1/calls/${encodeURIComponent(call.value.trim())}/calibrations`, { method: "POST", body: { evaluators: chosen, note: note.value.trim() || null } });
      location.assign(`/calibration/${cal.id}`);
    } catch (e) {
      message.textContent = e.detail || e.message;
      message.className = "small error";
    }
  });
  return h("section", { class: "panel" }, h("h2", {}, "Start a calibration"), f);
}

function listTable(rows) {
  if (!rows.length) return h("p", { class: "muted" }, "None.");
  return h(
    "table",
    { class: "list" },
    h("thead", {}, h("tr", {}, ["#", "Call", "Started", "Evaluators", "Status"].map((t) => h("th", {}, t)))),
    h(
      "tbody",
      {},
      rows.map((c) =>
        h(
          "tr",
          { "data-calibration": c.id, "data-state": c.status },
          h("td", {}, h("a", { href: `/calibration/${c.id}` }, `#${c.id}`)),
          h("td", {}, h("a", { href: `/review/${encodeURIComponent(c.call_id)}` }, c.call_id)),
          h("td", { class: "small" }, fmtDate(c.created_at)),
          h("td", {}, c.evaluators.map((e, i) => [i ? ", " : "", who(e), e.submitted ? " ✓" : ""])),
          h("td", {}, c.status === "closed" ? badge("closed", "info") : c.you.evaluator && !c.you.submitted ? badge("your answer is due", "minor") : badge("open", "positive")),
        ),
      ),
    ),
  );
}

function agreementTable(ag, extra = {}) {
  const cols = extra.columns || [];
  const row = (id, name, f, cells = []) =>
    h(
      "tr",
      { "data-practice": id, "data-mad": f.scores.evaluators.mean_abs_diff ?? "" },
      h("td", {}, name),
      cells,
      h("td", { class: "num" }, num(f.scores.evaluators.mean_abs_diff)),
      h("td", { class: "num" }, pct(f.scores.evaluators.within)),
      h("td", { class: "num" }, num(f.scores.machine.mean_abs_diff)),
      h("td", { class: "num" }, pct(f.scores.machine.within)),
      h("td", { class: "num" }, f.findings.items),
      h("td", { class: "num" }, pct(f.findings.percent_agreement)),
      h("td", { class: "num" }, num(f.findings.cohen_kappa ?? f.findings.fleiss_kappa, 2)),
      h("td", { class: "num" }, pct(f.findings.machine_confirmed)),
    );
  const within = `within ${ag.within_points}`;
  const heads = ["Evaluators: mean diff.", within, "Vs machine: mean diff.", within, "Findings", "Verdicts agree", "Kappa", "Machine confirmed"];
  const cellsOf = (id) => (extra.cells ? extra.cells(id) : []);
  const table = h(
    "table",
    { class: "list agreement", "data-testid": "agreement" },
    h("thead", {}, h("tr", {}, h("th", {}, "Practice"), cols.map((c) => h("th", { class: "num" }, c)), heads.map((t) => h("th", { class: "num" }, t)))),
    h(
      "tbody",
      {},
      ag.practices.map((p) => row(p.practice, p.name, p, cellsOf(p.practice))),
      ag.overall ? row("overall", h("b", {}, "Overall"), ag.overall, cellsOf("overall")) : null,
    ),
  );
  // Kappa: Cohen's with two evaluators, else Fleiss'; "–" where undefined (all verdicts alike).
  return h("div", { class: "table-scroll" }, table);
}

async function renderList() {
  document.getElementById("back").hidden = true;
  const [open, closed, pooled] = await Promise.all([
    api("/api/v1/calibrations", { params: { status: "open" } }),
    api("/api/v1/calibrations", { params: { status: "closed" } }),
    api("/api/v1/calibrations/agreement"),
  ]);
  const parts = [h("h1", {}, "Calibration")];
  if (EVALUATOR_ROLES.includes(me.role)) parts.push(startForm(await api("/api/v1/calibrations/evaluators")));
  parts.push(
    h("section", { class: "panel" }, h("h2", {}, "Open"), listTable(open)),
    h("section", { class: "panel" }, h("h2", {}, "Closed"), listTable(closed)),
    h(
      "section",
      { class: "panel" },
      h("h2", {}, `Agreement over ${pooled.calibrations} closed calibration(s)`),
      pooled.calibrations ? agreementTable(pooled) : h("p", { class: "muted" }, "No closed calibration with two answers yet."),
      pooled.evaluators.length
        ? h(
            "table",
            { class: "list", "data-testid": "evaluator-agreement" },
            h("thead", {}, h("tr", {}, ["Evaluator", "Calibrations", "Mean diff. from the others", "vs machine"].map((t) => h("th", {}, t)))),
            h("tbody", {}, pooled.evaluators.map((e) => h("tr", {}, h("td", {}, who(e)), h("td", { class: "num" }, e.calibrations), h("td", { class: "num" }, num(e.vs_evaluators.mean_abs_diff)), h("td", { class: "num" }, num(e.vs_machine.mean_abs_diff))))),
          )
        : null,
    ),
  );
  root.replaceChildren(...parts);
}

// ------------------------------------------------------------------------- one calibration

function answerForm(cal) {
  const mine = cal.you.answer || { findings: [], scores: [], note: null };
  const overrides = new Map(mine.scores.map((o) => [o.practice, o]));
  const verdicts = new Map(mine.findings.map((v) => [v.key, v]));
  const message = h("p", { class: "small", role: "status", "data-testid": "answer-message" });
  const scoreRows = cal.practices.map((p) => {
    const o = overrides.get(p.practice);
    const score = h("input", { type: "number", min: 0, max: 100, step: "any", value: o ? o.score : "", placeholder: "machine's", "aria-label": `Your score of ${p.name}` });
    const reason = h("input", { type: "text", value: o ? o.reason : "", placeholder: "reason", "aria-label": `Reason for ${p.name}` });
    const tr = h("tr", { "data-ev-practice": p.practice }, h("td", {}, p.name), h("td", { class: "num" }, scoreEl(p.machine)), h("td", {}, score), h("td", {}, reason));
    tr.read = () => (score.value === "" ? null : { practice: p.practice, score: Number(score.value), reason: reason.value.trim() || "calibration" });
    return tr;
  });
  const findingRows = cal.findings.map((f) => {
    const v = verdicts.get(f.key);
    const verdict = h("select", { "aria-label": "Verdict" }, option("", "stands", v ? v.verdict : ""), option("confirm", "confirm", v ? v.verdict : ""), option("reject", "reject", v ? v.verdict : ""));
    const reason = h("select", { "aria-label": "Reason" }, Object.entries(REJECT_REASONS).map(([k, label]) => option(k, label, v ? v.reason : "")));
    const note = h("input", { type: "text", value: v && v.note ? v.note : "", placeholder: "note", "aria-label": "Note" });
    const sync = () => {
      reason.hidden = verdict.value !== "reject";
    };
    verdict.addEventListener("change", sync);
    sync();
    const li = h(
      "li",
      { "data-ev-finding": f.key },
      h("div", { class: "ev-what" }, h("span", { class: "time" }, f.start === null ? "whole call" : fmtTime(f.start)), " ", badge(f.severity, f.severity), ` ${f.practice} · ${String(f.kind).replaceAll("_", " ")} `, f.quote ? h("q", { class: "ev-quote" }, f.quote) : null),
      h("div", { class: "ev-controls" }, verdict, reason, note),
    );
    li.read = () => (verdict.value ? { finding: f.key, verdict: verdict.value, reason: verdict.value === "reject" ? reason.value : null, note: note.value.trim() || null } : null);
    return li;
  });
  const note = h("textarea", { rows: 2, placeholder: "Your note", "aria-label": "Note" }, mine.note || "");
  const send = async (submit) => {
    const body = { findings: findingRows.map((r) => r.read()).filter(Boolean), scores: scoreRows.map((r) => r.read()).filter(Boolean), note: note.value.trim() || null, submit };
    message.textContent = submit ? "Submitting…" : "Saving…";
    try {
      render(await api(`/api/v1/calibrations/${cal.id}/answer`, { method: "PUT", body }));
    } catch (e) {
      message.textContent = e.detail || e.message;
      message.className = "small error";
    }
  };
  return h(
    "section",
    { class: "panel evaluation", "data-testid": "calibration-answer" },
    h("h2", {}, "Your answer"),
    h("p", { class: "small muted" }, "Score the call on your own: the others' answers are shown when the calibration is closed. A practice you leave empty keeps the machine's score; a finding you leave as it stands counts as confirmed."),
    h("table", { class: "list ev-scores" }, h("thead", {}, h("tr", {}, h("th", {}, "Practice"), h("th", { class: "num" }, "Machine"), h("th", {}, "Your score"), h("th", {}, "Reason"))), h("tbody", {}, scoreRows)),
    h("h3", {}, "The machine's findings"),
    findingRows.length ? h("ul", { class: "ev-findings" }, findingRows) : h("p", { class: "muted small" }, "The machine found nothing."),
    h("label", { class: "ev-note" }, "Note", note),
    h(
      "div",
      { class: "ev-actions" },
      h("button", { type: "button", "data-testid": "save-answer", onclick: () => send(false) }, "Save draft"),
      h("button", { type: "button", class: "primary", "data-testid": "submit-answer", onclick: () => send(true) }, "Submit (final)"),
    ),
    message,
  );
}

function answersTable(cal) {
  const answers = cal.answers;
  const scoreOf = (a, practice) => {
    const o = a.scores.find((s) => s.practice === practice);
    return o ? o.score : cal.practices.find((p) => p.practice === practice).machine;
  };
  const cells = (practice) =>
    practice === "overall"
      ? [h("td", { class: "num" }, scoreEl(cal.machine_overall)), answers.map((a) => h("td", { class: "num" }, scoreEl(a.human_overall)))]
      : [h("td", { class: "num" }, scoreEl(cal.practices.find((p) => p.practice === practice).machine)), answers.map((a) => h("td", { class: "num" }, scoreEl(scoreOf(a, practice))))];
  const verdict = (a, key) => {
    const v = a.findings.find((f) => f.key === key);
    return v ? (v.verdict === "reject" ? `reject (${REJECT_REASONS[v.reason] || v.reason})` : "confirm") : "stands";
  };
  return [
    agreementTable(cal.agreement, { columns: ["Machine", ...answers.map(who)], cells }),
    cal.findings.length
      ? h(
          "table",
          { class: "list", "data-testid": "verdicts" },
          h("thead", {}, h("tr", {}, h("th", {}, "Finding"), answers.map((a) => h("th", {}, who(a))))),
          h("tbody", {}, cal.findings.map((f) => h("tr", { "data-ev-finding": f.key }, h("td", {}, `${f.practice} · ${String(f.kind).replaceAll("_", " ")} `, f.quote ? h("q", { class: "ev-quote" }, f.quote) : null), answers.map((a) => h("td", {}, verdict(a, f.key)))))),
        )
      : null,
    answers.some((a) => a.note) ? h("ul", { class: "small" }, answers.filter((a) => a.note).map((a) => h("li", {}, h("b", {}, `${who(a)}: `), a.note))) : null,
  ];
}

function render(cal) {
  const closeButton = cal.you.may_close
    ? h("button", { type: "button", "data-testid": "close-calibration" }, "Close and show the answers")
    : null;
  if (closeButton)
    closeButton.addEventListener("click", async () => {
      const waiting = cal.evaluators.filter((e) => !e.submitted).map(who);
      if (waiting.length && !confirm(`Not submitted yet: ${waiting.join(", ")}. Close anyway?`)) return;
      try {
        render(await api(`/api/v1/calibrations/${cal.id}/close`, { method: "POST" }));
      } catch (e) {
        showError(e, me, root);
      }
    });
  let body;
  if (cal.status === "closed") body = h("section", { class: "panel" }, h("h2", {}, "Answers and agreement"), answersTable(cal));
  else if (cal.you.evaluator && !cal.you.submitted) body = answerForm(cal);
  else if (cal.you.evaluator) body = h("p", { class: "panel", "data-testid": "answer-submitted" }, "Your answer is submitted. The answers are shown when the calibration is closed.");
  else body = h("p", { class: "panel muted" }, "You are not an evaluator of this calibration; the answers are shown when it is closed.");
  root.replaceChildren(
    h("h1", { "data-status": cal.status }, `Calibration #${cal.id}`),
    h(
      "section",
      { class: "panel" },
      h(
        "div",
        { class: "facts" },
        h("span", {}, h("b", {}, "Call"), h("a", { href: `/review/${encodeURIComponent(cal.call_id)}` }, cal.call_id)),
        h("span", {}, h("b", {}, "Status"), badge(cal.status, cal.status === "closed" ? "info" : "positive")),
        h("span", {}, h("b", {}, "Started"), fmtDate(cal.created_at)),
        h("span", {}, h("b", {}, "Machine overall"), scoreEl(cal.machine_overall)),
        h("span", {}, h("b", {}, "Evaluators"), cal.evaluators.map((e, i) => [i ? ", " : "", who(e), " ", e.submitted ? badge("submitted", "positive") : badge("waiting", "minor")])),
      ),
      cal.note ? h("p", { class: "small" }, cal.note) : null,
      closeButton,
    ),
    body,
  );
}

me = await startPage("review");
if (me) {
  try {
    if (idPart && /^\d+$/.test(idPart)) render(await api(`/api/v1/calibrations/${idPart}`));
    else await renderList();
  } catch (e) {
    showError(e, me, root);
  }
}
