// The QA lead's dispute queue: agents' disputes of published evaluations, oldest first, each with
// the item as the evaluation judged it; a QA lead (or admin) resolves one as upheld or overturned.
import { api, showError, startPage } from "./api.js";
import { REJECT_REASONS } from "./evaluation.js";
import { kindLabel, LANG, t, textLang, zhPunct } from "./i18n.js";
import { badge, fmtDate, fmtTime, h } from "./util.js";

const root = document.getElementById("disputes");
const statusSelect = document.getElementById("status");

function subject(d) {
  const s = d.subject;
  if (!s) return h("span", { class: "muted" }, d.item);
  const verdict = d.item.startsWith("missed#")
    ? t("dp.added_by_qa")
    : s.verdict === "reject"
      ? t("dp.rejected_by_qa", { reason: REJECT_REASONS[s.reason] || s.reason })
      : s.verdict === "confirm"
        ? t("dp.confirmed_by_qa")
        : t("dp.not_judged");
  // the call's language is not in the dispute: the quote's script says it
  const lang = s.quote ? textLang(s.quote) : LANG;
  return h(
    "div",
    {},
    h("span", { class: "time" }, s.start === null || s.start === undefined ? t("common.whole_call") : fmtTime(s.start)),
    " ",
    h("span", { class: "kind", lang, title: `${s.practice} · ${s.kind}` }, `${names[lang][s.practice] || s.practice} · ${kindLabel(s.kind, lang)}`),
    " ",
    s.quote ? h("q", { class: "ev-quote", lang }, zhPunct(s.quote)) : null,
    h("div", { class: "small muted" }, t("dp.item_version", { item: d.item, version: d.version, verdict })),
  );
}

function resolver(d, canResolve) {
  if (d.status !== "open") {
    return h("div", {}, badge(t(`dispute.${d.status}`), d.status === "overturned" ? "positive" : "info"), h("div", { class: "small" }, d.resolution_note || ""), h("div", { class: "small muted" }, fmtDate(d.resolved_at)));
  }
  if (!canResolve) return badge(t("dispute.open"), "minor");
  const note = h("input", { type: "text", placeholder: t("dp.note_ph"), "aria-label": t("dp.note_aria"), "data-testid": "resolution-note" });
  const message = h("div", { class: "small", role: "status" });
  const resolve = async (outcome) => {
    if (!note.value.trim()) {
      message.textContent = t("dp.write_note");
      return;
    }
    try {
      await api(`/api/v1/disputes/${d.id}/resolve`, { method: "POST", body: { outcome, note: note.value.trim() } });
      await load();
    } catch (e) {
      message.textContent = e.detail || e.message;
      message.className = "small error";
    }
  };
  return h(
    "div",
    { class: "ev-resolve" },
    note,
    h("button", { type: "button", "data-testid": "uphold", onclick: () => resolve("upheld") }, t("dp.uphold")),
    h("button", { type: "button", "data-testid": "overturn", onclick: () => resolve("overturned") }, t("dp.overturn")),
    message,
  );
}

let me = null;
const names = { en: {}, zh: {} }; // practice id -> name, by the rubric's language

async function loadNames() {
  for (const language of Object.keys(names)) {
    try {
      const rubric = await api("/api/v1/rubric", { params: { language } });
      for (const [id, p] of Object.entries(rubric.practices || {})) names[language][id] = p.name;
    } catch {
      /* ids stand in for names */
    }
  }
}

async function load() {
  let rows;
  try {
    rows = await api("/api/v1/disputes", { params: { status: statusSelect.value || undefined } });
  } catch (e) {
    showError(e, me, root);
    return;
  }
  if (!statusSelect.value) {
    // "all": the API's default is the open ones, so ask for each state
    rows = [];
    for (const status of ["open", "upheld", "overturned"]) rows.push(...(await api("/api/v1/disputes", { params: { status } })));
    rows.sort((a, b) => a.id - b.id);
  }
  if (!rows.length) {
    root.replaceChildren(h("p", { class: "muted", "data-testid": "no-disputes" }, t("dp.none")));
    return;
  }
  const canResolve = ["admin", "qa_lead"].includes(me.role);
  root.replaceChildren(
    h(
      "table",
      { class: "list", "data-testid": "dispute-list" },
      h("thead", {}, h("tr", {}, ["call", "agent", "item", "comment", "opened", "decision"].map((k) => h("th", {}, t(`dp.col.${k}`))))),
      h(
        "tbody",
        {},
        rows.map((d) =>
          h(
            "tr",
            { "data-dispute": d.id, "data-state": d.status },
            h("td", {}, h("a", { href: `/review/${encodeURIComponent(d.call_id)}` }, d.call_id)),
            h("td", {}, d.agent_id),
            h("td", {}, subject(d)),
            h("td", { lang: textLang(d.comment) }, d.comment),
            h("td", { class: "small" }, fmtDate(d.created_at)),
            h("td", {}, resolver(d, canResolve)),
          ),
        ),
      ),
    ),
  );
}

me = await startPage("review");
if (me) {
  statusSelect.addEventListener("change", load);
  await loadNames();
  await load();
}
