// Calibration sessions. /calibration: start one (a call and two evaluators or more), the open
// and closed ones, and agreement pooled over all closed ones. /calibration/ID: the evaluator's
// own answer while it is open (nobody sees another's answer before the close), then every
// answer side by side with the agreement per practice, between evaluators and with the machine.
import { api, showError, startPage } from "./api.js";
import { REJECT_REASONS } from "./evaluation.js";
import { t } from "./i18n.js";
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
  const call = h("input", { name: "call", required: true, spellcheck: "false", value: new URLSearchParams(location.search).get("call") || "", "aria-label": t("cal.call_id") });
  const boxes = evaluators.map((e) => h("label", { class: "check" }, h("input", { type: "checkbox", value: e.key_id, checked: e.key_id === me.key_id }), ` ${who(e)} (${t(`role.${e.role}`)})`));
  const note = h("input", { name: "note", placeholder: t("cal.note_optional"), "aria-label": t("cal.note") });
  const message = h("p", { class: "small", role: "status" });
  const f = h(
    "form",
    { class: "filters", "data-testid": "start-calibration" },
    h("label", {}, t("cal.call"), call),
    h("fieldset", { class: "evaluators" }, h("legend", {}, t("cal.evaluators_legend")), boxes),
    h("label", {}, t("cal.note"), note),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("cal.start"))),
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
  return h("section", { class: "panel" }, h("h2", {}, t("cal.start_heading")), f);
}

function listTable(rows) {
  if (!rows.length) return h("p", { class: "muted" }, t("cal.none"));
  return h(
    "table",
    { class: "list" },
    h("thead", {}, h("tr", {}, ["#", t("cal.call"), t("cal.started"), t("cal.evaluators"), t("cal.status")].map((text) => h("th", {}, text)))),
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
          h("td", {}, c.evaluators.map((e, i) => [i ? t("list.sep") : "", who(e), e.submitted ? " ✓" : ""])),
          h("td", {}, c.status === "closed" ? badge(t("cal.state.closed"), "info") : c.you.evaluator && !c.you.submitted ? badge(t("cal.due"), "minor") : badge(t("cal.state.open"), "positive")),
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
  const within = t("cal.within", { points: ag.within_points });
  const heads = [t("cal.ev_diff"), within, t("cal.machine_diff"), within, t("cal.findings"), t("cal.verdicts_agree"), t("cal.kappa"), t("cal.machine_confirmed")];
  const cellsOf = (id) => (extra.cells ? extra.cells(id) : []);
  const table = h(
    "table",
    { class: "list agreement", "data-testid": "agreement" },
    h("thead", {}, h("tr", {}, h("th", {}, t("cal.practice")), cols.map((c) => h("th", { class: "num" }, c)), heads.map((text) => h("th", { class: "num" }, text)))),
    h(
      "tbody",
      {},
      ag.practices.map((p) => row(p.practice, p.name, p, cellsOf(p.practice))),
      ag.overall ? row("overall", h("b", {}, t("cal.overall")), ag.overall, cellsOf("overall")) : null,
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
  const parts = [h("h1", {}, t("cal.heading"))];
  if (EVALUATOR_ROLES.includes(me.role)) parts.push(startForm(await api("/api/v1/calibrations/evaluators")));
  parts.push(
    h("section", { class: "panel" }, h("h2", {}, t("cal.open")), listTable(open)),
    h("section", { class: "panel" }, h("h2", {}, t("cal.closed")), listTable(closed)),
    h(
      "section",
      { class: "panel" },
      h("h2", {}, t("cal.agreement_over", { n: pooled.calibrations })),
      pooled.calibrations ? agreementTable(pooled) : h("p", { class: "muted" }, t("cal.no_closed")),
      pooled.evaluators.length
        ? h(
            "table",
            { class: "list", "data-testid": "evaluator-agreement" },
            h("thead", {}, h("tr", {}, [t("cal.evaluator"), t("cal.calibrations"), t("cal.diff_others"), t("cal.vs_machine")].map((text) => h("th", {}, text)))),
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
    const score = h("input", { type: "number", min: 0, max: 100, step: "any", value: o ? o.score : "", placeholder: t("cal.machines"), "aria-label": t("cal.score_of", { name: p.name }) });
    const reason = h("input", { type: "text", value: o ? o.reason : "", placeholder: t("cal.reason_ph"), "aria-label": t("cal.reason_for", { name: p.name }) });
    const tr = h("tr", { "data-ev-practice": p.practice }, h("td", {}, p.name), h("td", { class: "num" }, scoreEl(p.machine)), h("td", {}, score), h("td", {}, reason));
    tr.read = () => (score.value === "" ? null : { practice: p.practice, score: Number(score.value), reason: reason.value.trim() || "calibration" });
    return tr;
  });
  const findingRows = cal.findings.map((f) => {
    const v = verdicts.get(f.key);
    const verdict = h("select", { "aria-label": t("cal.verdict") }, option("", t("cal.stands"), v ? v.verdict : ""), option("confirm", t("cal.confirm"), v ? v.verdict : ""), option("reject", t("cal.reject"), v ? v.verdict : ""));
    const reason = h("select", { "aria-label": t("cal.reason") }, Object.entries(REJECT_REASONS).map(([k, label]) => option(k, label, v ? v.reason : "")));
    const note = h("input", { type: "text", value: v && v.note ? v.note : "", placeholder: t("cal.note_ph"), "aria-label": t("cal.note") });
    const sync = () => {
      reason.hidden = verdict.value !== "reject";
    };
    verdict.addEventListener("change", sync);
    sync();
    const li = h(
      "li",
      { "data-ev-finding": f.key },
      h("div", { class: "ev-what" }, h("span", { class: "time" }, f.start === null ? t("common.whole_call") : fmtTime(f.start)), " ", badge(f.severity, f.severity), ` ${f.practice} · ${String(f.kind).replaceAll("_", " ")} `, f.quote ? h("q", { class: "ev-quote" }, f.quote) : null),
      h("div", { class: "ev-controls" }, verdict, reason, note),
    );
    li.read = () => (verdict.value ? { finding: f.key, verdict: verdict.value, reason: verdict.value === "reject" ? reason.value : null, note: note.value.trim() || null } : null);
    return li;
  });
  const note = h("textarea", { rows: 2, placeholder: t("cal.your_note"), "aria-label": t("cal.note") }, mine.note || "");
  const send = async (submit) => {
    const body = { findings: findingRows.map((r) => r.read()).filter(Boolean), scores: scoreRows.map((r) => r.read()).filter(Boolean), note: note.value.trim() || null, submit };
    message.textContent = submit ? t("cal.submitting") : t("cal.saving");
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
    h("h2", {}, t("cal.your_answer")),
    h("p", { class: "small muted" }, t("cal.answer_intro")),
    h("table", { class: "list ev-scores" }, h("thead", {}, h("tr", {}, h("th", {}, t("cal.practice")), h("th", { class: "num" }, t("cal.machine")), h("th", {}, t("cal.your_score")), h("th", {}, t("cal.reason")))), h("tbody", {}, scoreRows)),
    h("h3", {}, t("cal.machine_findings")),
    findingRows.length ? h("ul", { class: "ev-findings" }, findingRows) : h("p", { class: "muted small" }, t("cal.machine_nothing")),
    h("label", { class: "ev-note" }, t("cal.note"), note),
    h(
      "div",
      { class: "ev-actions" },
      h("button", { type: "button", "data-testid": "save-answer", onclick: () => send(false) }, t("cal.save_draft")),
      h("button", { type: "button", class: "primary", "data-testid": "submit-answer", onclick: () => send(true) }, t("cal.submit")),
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
    return v ? (v.verdict === "reject" ? t("cal.reject_reason", { reason: REJECT_REASONS[v.reason] || v.reason }) : t("cal.confirm")) : t("cal.stands");
  };
  return [
    agreementTable(cal.agreement, { columns: [t("cal.machine"), ...answers.map(who)], cells }),
    cal.findings.length
      ? h(
          "table",
          { class: "list", "data-testid": "verdicts" },
          h("thead", {}, h("tr", {}, h("th", {}, t("cal.finding")), answers.map((a) => h("th", {}, who(a))))),
          h("tbody", {}, cal.findings.map((f) => h("tr", { "data-ev-finding": f.key }, h("td", {}, `${f.practice} · ${String(f.kind).replaceAll("_", " ")} `, f.quote ? h("q", { class: "ev-quote" }, f.quote) : null), answers.map((a) => h("td", {}, verdict(a, f.key)))))),
        )
      : null,
    answers.some((a) => a.note) ? h("ul", { class: "small" }, answers.filter((a) => a.note).map((a) => h("li", {}, h("b", {}, `${who(a)}${t("colon")}`), a.note))) : null,
  ];
}

function render(cal) {
  const closeButton = cal.you.may_close
    ? h("button", { type: "button", "data-testid": "close-calibration" }, t("cal.close"))
    : null;
  if (closeButton)
    closeButton.addEventListener("click", async () => {
      const waiting = cal.evaluators.filter((e) => !e.submitted).map(who);
      if (waiting.length && !confirm(t("cal.not_submitted", { names: waiting.join(t("list.sep")) }))) return;
      try {
        render(await api(`/api/v1/calibrations/${cal.id}/close`, { method: "POST" }));
      } catch (e) {
        showError(e, me, root);
      }
    });
  let body;
  if (cal.status === "closed") body = h("section", { class: "panel" }, h("h2", {}, t("cal.answers")), answersTable(cal));
  else if (cal.you.evaluator && !cal.you.submitted) body = answerForm(cal);
  else if (cal.you.evaluator) body = h("p", { class: "panel", "data-testid": "answer-submitted" }, t("cal.you_submitted"));
  else body = h("p", { class: "panel muted" }, t("cal.not_evaluator"));
  root.replaceChildren(
    h("h1", { "data-status": cal.status }, t("cal.heading_id", { id: cal.id })),
    h(
      "section",
      { class: "panel" },
      h(
        "div",
        { class: "facts" },
        h("span", {}, h("b", {}, t("cal.call")), h("a", { href: `/review/${encodeURIComponent(cal.call_id)}` }, cal.call_id)),
        h("span", {}, h("b", {}, t("cal.status")), badge(t(`cal.state.${cal.status}`), cal.status === "closed" ? "info" : "positive")),
        h("span", {}, h("b", {}, t("cal.started")), fmtDate(cal.created_at)),
        h("span", {}, h("b", {}, t("cal.machine_overall")), scoreEl(cal.machine_overall)),
        h("span", {}, h("b", {}, t("cal.evaluators")), cal.evaluators.map((e, i) => [i ? t("list.sep") : "", who(e), " ", e.submitted ? badge(t("cal.submitted"), "positive") : badge(t("cal.waiting"), "minor")])),
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
