// Pieces of a scored call shared by the QA call page and the agent's feedback page: the audio
// player, the scorecard with clickable findings, the transcript by role and the customer trend.
import { apiUrl } from "./api.js";
import { callLang, findingDetail, kindLabel, LANG, notApplicableReason, reviewReason, t, textLang, zhPunct } from "./i18n.js";
import { badge, fmtTime, h, ROLE_LABEL, scoreEl } from "./util.js";

const UI_LANG = LANG === "zh" ? "zh-CN" : "en";

/** A severity badge, its word in the interface language. */
export function severityBadge(severity) {
  return badge(t(`severity.${severity}`), severity);
}

/** The call audio (Range requests let the player seek); seek(t) works before metadata loads too. */
export function createPlayer(callId) {
  const audio = h("audio", {
    controls: true,
    preload: "auto",
    src: apiUrl(`/api/v1/calls/${encodeURIComponent(callId)}/audio`),
    "data-testid": "player",
  });
  let pending = null;
  audio.addEventListener("loadedmetadata", () => {
    if (pending !== null) audio.currentTime = pending;
    pending = null;
  });
  audio.addEventListener("error", () => {
    const err = audio.error;
    audio.after(h("p", { class: "error small" }, t("report.audio_error", { why: err ? ` (${err.message || `code ${err.code}`})` : "" })));
  });
  return {
    el: audio,
    seek(t) {
      if (audio.readyState === 0) pending = t;
      audio.currentTime = t;
    },
  };
}

/**
 * The player and the transcript of a call, linked: the transcript follows playback, a click on a
 * turn plays it, and onFinding(finding, button?) plays a finding's moment, highlights its turn and
 * marks its button (found in root when the click came from elsewhere, e.g. a timeline marker).
 */
export function linkedPlayer(call, report, root) {
  const player = createPlayer(call.call_id);
  const transcript = renderTranscript(report, (t) => player.seek(t));
  let active = null;
  const onFinding = (finding, button) => {
    // A finding about the whole call (start null) has no moment to play.
    if (finding.start !== null) {
      player.seek(finding.start);
      transcript.focus(turnFor(report, finding));
    }
    if (active) active.classList.remove("active");
    active = button || root.querySelector(`button.finding[data-practice="${finding.practice}"][data-start="${finding.start}"][data-kind="${finding.kind}"]`);
    if (active) active.classList.add("active");
  };
  player.el.addEventListener("timeupdate", () => transcript.follow(player.el.currentTime));
  return { player, transcript, onFinding };
}

/** The turn a finding points at: its own turn_index, else the turn of its role around its start. */
export function turnFor(report, finding) {
  if (finding.turn_index !== null && finding.turn_index !== undefined) return finding.turn_index;
  const t = finding.start;
  const same = report.turns.filter((x) => !finding.role || x.role === finding.role);
  const inside = same.find((x) => x.start <= t + 0.05 && t <= x.end + 0.05);
  if (inside) return inside.index;
  let best = null;
  for (const x of same) if (best === null || Math.abs(x.start - t) < Math.abs(best.start - t)) best = x;
  return best ? best.index : null;
}

/** A clickable finding: time ("whole call" when it has none), severity, quote and the measured
 * detail. */
export function findingButton(finding, onFinding, language = "en") {
  const whole = finding.start === null;
  const lang = callLang(language);
  const detail = findingDetail(finding, lang);
  const button = h(
    "button",
    {
      type: "button",
      class: `finding sev-${finding.severity}`,
      "data-practice": finding.practice,
      "data-kind": finding.kind,
      "data-start": finding.start,
      title: whole ? t("report.whole_call_title") : t("report.play_here"),
    },
    h("span", { class: "time" }, whole ? t("common.whole_call") : fmtTime(finding.start)),
    severityBadge(finding.severity),
    h(
      "span",
      {},
      h("span", { class: "kind", lang, title: finding.kind }, kindLabel(finding.kind, lang)),
      finding.quote ? [" ", h("span", { class: "quote", lang: textLang(finding.quote) }, `“${zhPunct(finding.quote)}”`)] : null,
      detail.text ? h("span", { class: "detail", lang: detail.lang, title: detail.lang === "zh" ? finding.detail : null }, detail.text) : null,
    ),
  );
  button.addEventListener("click", () => onFinding(finding, button));
  return button;
}

/** "Not applicable: why" with the reason in the call's language where it is known. */
function notApplicable(reason, lang) {
  const why = reason ? notApplicableReason(reason, lang) : { text: t("report.nothing_to_judge"), lang: LANG };
  const [before, after] = t("report.not_applicable", { reason: "\u0000" }).split("\u0000");
  return h("p", { class: "small muted", "data-testid": "not-applicable" }, before, h("span", { lang: why.lang }, why.text), after);
}

/** The practices of the scorecard (lowest score first when `worstFirst`). */
export function renderPractices(report, onFinding, { worstFirst = false, showInfo = true } = {}) {
  const card = report.scorecard;
  const lang = callLang(report.language);
  const box = h("div", { class: "practices" });
  if (!card) {
    box.append(h("p", { class: "muted" }, t("report.no_scorecard")));
    return box;
  }
  let practices = [...card.practices];
  if (worstFirst) practices.sort((a, b) => (a.score ?? 101) - (b.score ?? 101));
  for (const p of practices) {
    const findings = p.findings.filter((f) => showInfo || f.severity !== "info");
    box.append(
      h(
        "section",
        { class: "practice", "data-practice": p.practice },
        h(
          "div",
          { class: "head" },
          h("h3", { lang }, p.name),
          p.critical ? badge(t("common.critical"), "critical") : null,
          h("span", { class: "bar", title: t("report.weight", { w: p.weight }) }, p.score === null ? null : h("span", { style: `width:${p.score}%` })),
          p.score === null ? h("span", { class: "score na", title: t("report.not_applicable_title") }, "—") : scoreEl(p.score),
        ),
        p.score === null ? notApplicable(p.reason, lang) : null,
        p.coaching ? h("p", { class: "coaching", lang, "data-testid": "coaching" }, lang === "zh" ? zhPunct(p.coaching) : p.coaching) : null,
        findings.length ? h("ul", { class: "findings" }, findings.map((f) => h("li", {}, findingButton(f, onFinding, lang)))) : null,
      ),
    );
  }
  return box;
}

/**
 * The notice of a call that needs review (roles or kind of call uncertain), or null: for the QA
 * lead it says why; for the agent that the call is not used for coaching until a QA lead looks.
 */
export function reviewNotice(report, { forAgent = false } = {}) {
  const card = report.scorecard;
  if (!card || !card.needs_review) return null;
  const reasons = (card.review_reasons || []).map((r) => h("li", { "data-code": r.code }, reviewReason(r)));
  const lead = forAgent ? t("report.review_agent") : t("report.review_qa");
  return h("section", { class: "notice", role: "status", "data-testid": "needs-review" }, h("p", {}, badge(t("common.needs_review"), "minor"), " ", lead), reasons.length ? h("ul", { class: "small" }, reasons) : null);
}

/** The customer's stress trajectory in words. */
export function renderTrend(report) {
  const stress = report.scorecard && report.scorecard.stress;
  if (!stress) return h("p", { class: "muted" }, t("report.no_trend"));
  const kind = { escalated: "major", "de-escalated": "positive", steady: "info", insufficient: "info" }[stress.result];
  const level = (v) => (v === null || v === undefined ? "–" : v.toFixed(2));
  return h(
    "div",
    { "data-testid": "trend" },
    h("p", {}, t("report.customer"), badge(t(`trend.${stress.result}`), kind), t("report.agitation", { start: level(stress.start_level), end: level(stress.end_level) })),
    // the measured evidence is written in English: folded away in a Chinese interface
    stress.evidence && LANG === "zh" ? h("details", { class: "small muted" }, h("summary", {}, t("report.evidence")), h("p", { lang: "en" }, stress.evidence)) : null,
    stress.evidence && LANG !== "zh" ? h("p", { class: "small muted", lang: "en" }, stress.evidence) : null,
  );
}

/** A speaker role in the interface language. */
export function roleLabel(role) {
  return ROLE_LABEL[role] || role;
}

/** The transcript by role; focus(i) highlights turn i, follow(t) marks the turn being played. */
export function renderTranscript(report, onSeek) {
  const items = new Map();
  const list = h("ol", { class: "transcript", lang: report.language, "data-testid": "transcript" });
  for (const turn of report.turns) {
    const li = h(
      "li",
      { class: turn.role, id: `turn-${turn.index}`, "data-turn": turn.index, "data-start": turn.start },
      h("button", { type: "button", class: "t", onclick: () => onSeek(turn.start), title: t("report.play_here") }, fmtTime(turn.start)),
      h("span", { class: "who", lang: UI_LANG }, roleLabel(turn.role)),
      h(
        "p",
        { class: "text" },
        (callLang(report.language) === "zh" ? zhPunct(turn.text) : turn.text) || "…",
        turn.metrics && turn.metrics.overlap > 0.3 ? h("span", { class: "note", lang: UI_LANG }, t("report.talking_over", { s: turn.metrics.overlap.toFixed(1) })) : null,
      ),
    );
    items.set(turn.index, li);
    list.append(li);
  }
  let focused = null;
  let playing = null;
  return {
    el: list,
    focus(index) {
      if (focused) focused.classList.remove("focus");
      focused = items.get(index) || null;
      if (focused) {
        focused.classList.add("focus");
        list.scrollTop = focused.offsetTop - list.offsetTop - 40;
      }
    },
    follow(t) {
      const turn = report.turns.find((x) => x.start <= t && t < x.end);
      const li = turn ? items.get(turn.index) : null;
      if (li === playing) return;
      if (playing) playing.classList.remove("playing");
      playing = li;
      if (playing) playing.classList.add("playing");
    },
  };
}
