// Pieces of a scored call shared by the QA call page and the agent's feedback page: the audio
// player, the scorecard with clickable findings, the transcript by role and the customer trend.
import { apiUrl } from "./api.js";
import { badge, fmtTime, h, ROLE_LABEL, scoreEl } from "./util.js";

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
    audio.after(h("p", { class: "error small" }, `The audio cannot be played here${err ? ` (${err.message || `code ${err.code}`})` : ""}.`));
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
export function findingButton(finding, onFinding) {
  const whole = finding.start === null;
  const button = h(
    "button",
    {
      type: "button",
      class: `finding sev-${finding.severity}`,
      "data-practice": finding.practice,
      "data-kind": finding.kind,
      "data-start": finding.start,
      title: whole ? "Measured over the whole call" : "Play from here",
    },
    h("span", { class: "time" }, whole ? "whole call" : fmtTime(finding.start)),
    badge(finding.severity, finding.severity),
    h(
      "span",
      {},
      h("span", { class: "kind" }, finding.kind.replaceAll("_", " ")),
      finding.quote ? [" ", h("span", { class: "quote" }, `“${finding.quote}”`)] : null,
      finding.detail ? h("span", { class: "detail" }, finding.detail) : null,
    ),
  );
  button.addEventListener("click", () => onFinding(finding, button));
  return button;
}

/** The practices of the scorecard (lowest score first when `worstFirst`). */
export function renderPractices(report, onFinding, { worstFirst = false, showInfo = true } = {}) {
  const card = report.scorecard;
  const box = h("div", { class: "practices", lang: report.language });
  if (!card) {
    box.append(h("p", { class: "muted" }, "This call has no scorecard."));
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
          h("h3", {}, p.name),
          p.critical ? badge("critical", "critical") : null,
          h("span", { class: "bar", title: `weight ${p.weight}` }, p.score === null ? null : h("span", { style: `width:${p.score}%` })),
          p.score === null ? h("span", { class: "muted small" }, "not judged") : scoreEl(p.score),
        ),
        p.coaching ? h("p", { class: "coaching", "data-testid": "coaching" }, p.coaching) : null,
        findings.length ? h("ul", { class: "findings" }, findings.map((f) => h("li", {}, findingButton(f, onFinding)))) : null,
      ),
    );
  }
  return box;
}

/** The customer's stress trajectory in words. */
export function renderTrend(report) {
  const stress = report.scorecard && report.scorecard.stress;
  if (!stress) return h("p", { class: "muted" }, "No customer trend.");
  const kind = { escalated: "major", "de-escalated": "positive", steady: "info", insufficient: "info" }[stress.result];
  const level = (v) => (v === null || v === undefined ? "–" : v.toFixed(2));
  return h(
    "div",
    { "data-testid": "trend" },
    h("p", {}, "Customer ", badge(stress.result, kind), ` agitation ${level(stress.start_level)} → ${level(stress.end_level)}`),
    stress.evidence ? h("p", { class: "small muted" }, stress.evidence) : null,
  );
}

/** The transcript by role; focus(i) highlights turn i, follow(t) marks the turn being played. */
export function renderTranscript(report, onSeek) {
  const items = new Map();
  const list = h("ol", { class: "transcript", lang: report.language, "data-testid": "transcript" });
  for (const turn of report.turns) {
    const li = h(
      "li",
      { class: turn.role, id: `turn-${turn.index}`, "data-turn": turn.index, "data-start": turn.start },
      h("button", { type: "button", class: "t", onclick: () => onSeek(turn.start), title: "Play from here" }, fmtTime(turn.start)),
      h("span", { class: "who" }, ROLE_LABEL[turn.role] || turn.role),
      h(
        "p",
        { class: "text" },
        turn.text || "…",
        turn.metrics && turn.metrics.overlap > 0.3 ? h("span", { class: "note" }, `talking over for ${turn.metrics.overlap.toFixed(1)} s`) : null,
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
