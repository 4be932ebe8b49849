"""Shared machinery of the phrase-driven detectors.

Only the agent is scored: every helper here searches the agent's turns, and the customer's turns
only serve as context (was there a complaint, how long did the customer talk). A phrase the
matcher marks as negated (不是说你要道歉, "I'm not saying you need to apologize") counts neither
as credit nor as a fault.

Shapes of practice shared by several detectors:

* presence (apologise, paraphrase, empathy, options): saying a phrase of the ``good`` lexicon
  earns full credit; saying none costs points only where the customer complained (complaint or
  anger words, or agitation at or above the rubric's level), else the practice is not judged;
* fault (no_arguing, no_blame_shift, no_overpromise): every phrase of the ``bad`` lexicon costs
  ``per_finding_penalty`` points;
* components (greeting, closing): a fixed part of the call (the agent's first or last turns)
  should hold one phrase of each of several lexicons; the score is the share found.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from calmline.monitor.detectors import DetectorContext, PracticeOutcome
from calmline.monitor.rubric import PhraseEntry, PracticeRubric, StressRubric
from calmline.monitor.textmatch import Match, PhraseMatcher
from calmline.monitor.types import Finding, Role, Severity, Turn

MAX_POSITIVE_FINDINGS = 10
"""Credit findings kept per kind: enough to show the moments, not one per sentence of a call."""

QUOTE_CONTEXT_CHARS = 12
"""Mandarin quote: characters kept on each side of the phrase."""
QUOTE_CONTEXT_WORDS = 6
"""English quote: words kept on each side of the phrase."""

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

NUMBER_JOINS = ".．:："
"""Marks that join the digits on both sides into one number or time (1.5个小时, 08:00, "version
1.3", "$12.50") and break the text only elsewhere."""


def text_breaks(marks: str, repeat: bool = False) -> re.Pattern[str]:
    """The clause or sentence breaks among ``marks``, with a point or a colon between two digits
    no break (:data:`NUMBER_JOINS`): 我们会在1.3版本完善 is one clause, not 我们会在1 and 3版本完善.
    ``repeat``: a run of marks is one break."""
    joins = "".join(m for m in marks if m in NUMBER_JOINS)
    plain = "".join(m for m in marks if m not in NUMBER_JOINS)
    parts = [f"[{re.escape(plain)}]"] if plain else []
    if joins:
        j = re.escape(joins)
        parts += [rf"(?<!\d)[{j}]", rf"[{j}](?!\d)"]
    one = "|".join(parts)
    return re.compile(f"(?:{one})+" if repeat else one)


def enclosing(text: str, start: int, end: int, breaks: re.Pattern[str]) -> str:
    """The part of ``text`` between the ``breaks`` (clause or sentence, :func:`text_breaks`)
    around ``start`` .. ``end``: the whole clause or sentence a match lies in."""
    first = max((m.end() for m in breaks.finditer(text, 0, start)), default=0)
    stop = breaks.search(text, end)
    return text[first : stop.start() if stop else len(text)]


@dataclass(frozen=True, slots=True)
class Hit:
    """A phrase found in one turn, with its time in the call."""

    turn: Turn
    match: Match
    start: float
    end: float


def agent_turns(ctx: DetectorContext) -> tuple[Turn, ...]:
    """The agent's turns that hold words."""
    return tuple(t for t in ctx.turns_of(Role.AGENT) if t.text.strip())


def customer_turns(ctx: DetectorContext) -> tuple[Turn, ...]:
    return tuple(t for t in ctx.turns_of(Role.CUSTOMER) if t.end > t.start or t.text.strip())


def units(text: str, language: str) -> int:
    """Characters (Mandarin) or words (English) in ``text``."""
    if language.startswith("zh"):
        return len(_CJK.findall(text))
    return len(re.findall(r"\w+", text))


def lexicon_hits(
    ctx: DetectorContext,
    turns: Sequence[Turn],
    practice: PracticeRubric,
    lexicon: str,
    *,
    fuzzy_threshold: float | None = None,
    lemmas: bool = True,
) -> list[Hit]:
    """:func:`find_hits` for the practice's ``lexicon``, with its own ``negation`` list and
    ``negation_window``."""
    return find_hits(
        ctx,
        turns,
        practice.phrase_list(lexicon),
        negations=practice.phrase_list("negation"),
        fuzzy_threshold=fuzzy_threshold,
        negation_window=optional_int(practice, "negation_window"),
        lemmas=lemmas,
    )


def find_hits(
    ctx: DetectorContext,
    turns: Sequence[Turn],
    phrases: Sequence[PhraseEntry],
    *,
    negations: Sequence[PhraseEntry] = (),
    keep_negated: bool = False,
    fuzzy_threshold: float | None = None,
    negation_window: int | None = None,
    lemmas: bool = True,
) -> list[Hit]:
    """Phrases found in ``turns``, in call order; negated ones dropped unless asked for."""
    hits = []
    if not phrases:
        return hits
    for turn in turns:
        for m in ctx.matcher.find(
            turn.text,
            phrases,
            negations=negations,
            fuzzy_threshold=fuzzy_threshold,
            negation_window=negation_window,
            lemmas=lemmas,
        ):
            if m.negated and not keep_negated:
                continue
            start, end = ctx.matcher.time_span(turn, m)
            hits.append(Hit(turn, m, start, end))
    return hits


def optional_int(practice: PracticeRubric, key: str) -> int | None:
    value = practice.thresholds.get(key)
    return None if value is None else int(value)


def quote(text: str, start: int, end: int, language: str) -> str:
    """The phrase at ``text[start:end]`` with a little context, ``…`` where text was cut."""
    return quote_span(text, start, end, language)[0]


def quote_span(text: str, start: int, end: int, language: str) -> tuple[str, int, int]:
    """:func:`quote`, and where ``text[start:end]`` lies in it (character offsets)."""
    if language.startswith("zh"):
        a = max(0, start - QUOTE_CONTEXT_CHARS)
        b = min(len(text), end + QUOTE_CONTEXT_CHARS)
    else:
        before = [m.start() for m in re.finditer(r"\S+", text[:start])]
        after = [m.end() for m in re.finditer(r"\S+", text[end:])]
        a = before[-QUOTE_CONTEXT_WORDS] if len(before) >= QUOTE_CONTEXT_WORDS else 0
        b = end + after[QUOTE_CONTEXT_WORDS - 1] if len(after) >= QUOTE_CONTEXT_WORDS else len(text)
    piece = text[a:b]
    stripped = piece.lstrip()
    shift = len(piece) - len(stripped)
    prefix = "…" if a > 0 else ""
    out = prefix + stripped.rstrip() + ("…" if b < len(text) else "")
    offset = len(prefix) - a - shift
    return out, start + offset, end + offset


def short_text(turn: Turn, language: str) -> str:
    """A turn's text cut to a quotable length."""
    limit = 2 * QUOTE_CONTEXT_CHARS + 8 if language.startswith("zh") else 120
    text = turn.text.strip()
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def agitation_weight(ctx: DetectorContext, practice: PracticeRubric, time: float) -> float:
    """``agitated_weight`` while the customer is agitated at ``time``, else 1."""
    if ctx.agitation_at(time) >= ctx.rubric.stress.agitated_level:
        return practice.threshold("agitated_weight", 1.0)
    return 1.0


def match_fields(m: Match, quote_text: str, start: int, end: int) -> dict:
    """The :class:`Finding` fields saying how a phrase was heard: ``quote_text[start:end]``
    are the words the match covered."""
    return {
        "match_kind": m.kind,
        "matched": quote_text[start:end],
        "match_start": start,
        "match_end": end,
        "matched_form": m.form or m.phrase,
    }


def hit_finding(
    ctx: DetectorContext,
    practice_id: str,
    kind: str,
    hit: Hit,
    severity: Severity,
    detail: str,
    *,
    value: float | None = None,
    threshold: float | None = None,
    weight: float = 1.0,
) -> Finding:
    """A finding about a phrase; its value defaults to the match score (100 = exact or
    normalised), its threshold to the rubric's fuzzy threshold for a fuzzy match. It records
    how the phrase was matched and where the words heard lie in its quote."""
    m = hit.match
    if value is None:
        value = m.score
        if threshold is None and m.kind == "fuzzy":
            threshold = ctx.rubric.matching.fuzzy_threshold
    text, a, b = quote_span(hit.turn.text, m.start_char, m.end_char, ctx.language)
    return Finding(
        practice=practice_id,
        kind=kind,
        start=hit.start,
        end=hit.end,
        speaker=hit.turn.speaker,
        role=hit.turn.role,
        quote=text,
        value=value,
        threshold=threshold,
        severity=severity,
        detail=detail,
        turn_index=hit.turn.index,
        phrase=m.phrase,
        weight=weight,
        **match_fields(m, text, a, b),
    )


def turn_finding(
    ctx: DetectorContext,
    practice_id: str,
    kind: str,
    turn: Turn,
    severity: Severity,
    detail: str,
    *,
    value: float | None = None,
    threshold: float | None = None,
    start: float | None = None,
    end: float | None = None,
    quote_text: str | None = None,
    whole_call: bool = False,
) -> Finding:
    """A finding about a whole turn (a missing phrase, a summary measured over turns). With
    ``whole_call`` it is about the whole call (a rate or share measured over it): no time, no
    turn, no quote; ``turn`` only names the speaker."""
    if whole_call:
        return Finding(
            practice=practice_id,
            kind=kind,
            start=None,
            end=None,
            speaker=turn.speaker,
            role=turn.role,
            quote="",
            value=value,
            threshold=threshold,
            severity=severity,
            detail=detail,
        )
    return Finding(
        practice=practice_id,
        kind=kind,
        start=turn.start if start is None else start,
        end=turn.end if end is None else end,
        speaker=turn.speaker,
        role=turn.role,
        quote=short_text(turn, ctx.language) if quote_text is None else quote_text,
        value=value,
        threshold=threshold,
        severity=severity,
        detail=detail,
        turn_index=turn.index,
    )


def match_note(hit: Hit) -> str:
    """How the words were matched, in words a reviewer can check against the quote."""
    m = hit.match
    form = m.form or m.phrase
    listed = "" if form == m.phrase else f", a listed form of '{m.phrase}'"
    if m.kind == "exact":
        return f"exact match of '{form}'{listed}" if listed else "exact match"
    if m.kind == "normalised":
        return f"normalised match: '{m.matched}' read as '{form}'{listed}"
    if m.kind == "pattern":
        return f"pattern match: '{m.matched}' fits the frame '{form}'"
    if m.kind == "learned":
        return (
            f"learned model, probability {m.score / 100:.2f}: "
            "no listed phrase; these words weigh most"
        )
    if m.kind == "phonetic":
        return f"phonetic match {m.score:.0f}: '{m.matched}' sounds like '{form}'{listed}"
    return f"fuzzy match {m.score:.0f}: '{m.matched}' is close to '{form}'{listed}"


def said(hit: Hit) -> str:
    """``'<words heard>' (<how they matched>)``: the evidence part of a phrase finding."""
    return f"'{hit.match.matched}' ({match_note(hit)})"


def heard_apart(ctx: DetectorContext, hits: Sequence[Hit]) -> tuple[list[Hit], list[Hit]]:
    """``hits`` split into those the recogniser heard clearly enough to charge a fault on and
    those whose words it was unsure of (mean word probability under ``matching.min_word_prob``:
    as likely misheard as said)."""
    bound = ctx.rubric.matching.min_word_prob
    clear: list[Hit] = []
    unsure: list[Hit] = []
    for h in hits:
        (clear if ctx.matcher.heard(h.turn, h.match, bound) else unsure).append(h)
    return clear, unsure


def unsure_note(prob: float, bound: float) -> str:
    """What a fault finding heard too unsurely to charge says of itself."""
    return (
        f"heard unsurely (mean word probability {prob:.2f}, under {bound:g}): not charged; "
        "listen to the moment before acting on it"
    )


def unsure_findings(
    ctx: DetectorContext, practice_id: str, kind: str, hits: Sequence[Hit], what: str
) -> list[Finding]:
    """Info findings for fault phrases heard too unsurely to charge (:func:`heard_apart`):
    shown to the QA lead with the words' probability, to be checked by ear; no points, no
    coaching."""
    bound = ctx.rubric.matching.min_word_prob
    out = []
    for h in hits:
        prob = ctx.matcher.heard_prob(h.turn, h.match) or 0.0
        out.append(
            hit_finding(
                ctx,
                practice_id,
                kind,
                h,
                Severity.INFO,
                f"{what} {said(h)} {unsure_note(prob, bound)}",
                value=round(prob, 2),
                threshold=bound,
            )
        )
    return out


def clamp(score: float) -> float:
    return round(min(100.0, max(0.0, score)), 1)


def complaint_words(text: str, matcher: PhraseMatcher, stress: StressRubric) -> list[Match]:
    """The complaint and anger words (``stress.complaint_words``, ``stress.anger_words``) of
    ``text`` outside every phrase that says there is no problem ("no problem, thanks", "nothing
    wrong with the router", 不是投诉: ``stress.complaint_negations``), and without the words that
    only ask (``stress.question_complaints``: 为什么) when ``text`` ends by asking to confirm
    (``stress.confirming_tails``: …先走省内流量，是不是)."""
    words = stress.complaint_list() + stress.anger_list()
    if not words:
        return []
    denied = [
        (n.start_char, n.end_char) for n in matcher.find(text, stress.complaint_negation_list())
    ]
    # the tail is looked for only in a turn that holds a question word
    asked = matcher.find(text, stress.question_complaint_list(), fuzzy_threshold=100)
    if asked and _asks_to_confirm(text, matcher, stress):
        denied += [(q.start_char, q.end_char) for q in asked]
    return [
        m
        for m in matcher.find(text, words)
        if not any(a <= m.start_char and m.end_char <= b for a, b in denied)
    ]


_TAIL_END = re.compile(r"[\s,，。.!！?？~～…啊呀呢哈]*$")
"""What may follow a confirming tail at the end of a turn (punctuation, 啊, 呢 …)."""


def _asks_to_confirm(text: str, matcher: PhraseMatcher, stress: StressRubric) -> bool:
    """Whether ``text`` ends on a confirming tail (``stress.confirming_tails``: 是不是, 对吧)."""
    tails = stress.confirming_tail_list()
    if not tails:
        return False
    end = _TAIL_END.search(text).start()
    return any(m.end_char == end for m in matcher.find(text, tails, fuzzy_threshold=100))


def complaint_turns(ctx: DetectorContext) -> tuple[Turn, ...]:
    """Customer turns that complain: complaint or anger words (:func:`complaint_words`: none
    inside "no problem"), or agitation at the rubric's ``agitated_level`` or above."""
    stress = ctx.rubric.stress
    agitated = {
        s.turn_index
        for s in ctx.stress.turns
        if s.agitation >= stress.agitated_level or s.anger_words
    }

    def complains(t: Turn) -> bool:
        # a cue the recogniser barely heard is no evidence ("you as well, bye" heard as
        # "What's wrong?")
        return any(
            ctx.matcher.heard(t, m, ctx.rubric.matching.min_word_prob)
            for m in complaint_words(t.text, ctx.matcher, stress)
        )

    return tuple(t for t in customer_turns(ctx) if t.index in agitated or complains(t))


def reply_to(ctx: DetectorContext, turn: Turn) -> Turn | None:
    """The agent's first turn after ``turn`` started (the answer to it), if any."""
    return next((t for t in agent_turns(ctx) if t.start >= turn.start), None)


def capped(findings: list[Finding]) -> list[Finding]:
    """At most :data:`MAX_POSITIVE_FINDINGS` credit findings per kind (the earliest)."""
    seen: dict[str, int] = {}
    out = []
    for f in findings:
        if f.severity is Severity.POSITIVE:
            seen[f.kind] = seen.get(f.kind, 0) + 1
            if seen[f.kind] > MAX_POSITIVE_FINDINGS:
                continue
        out.append(f)
    return out


def outcome(score: float | None, findings: list[Finding]) -> PracticeOutcome:
    # Findings about the whole call (no time) first, then in time order.
    ordered = sorted(
        capped(findings), key=lambda f: (f.start is not None, f.start or 0.0, f.end or 0.0)
    )
    return PracticeOutcome(score=None if score is None else clamp(score), findings=tuple(ordered))


NOT_JUDGED = PracticeOutcome(score=None, findings=())


# --- practice shapes -------------------------------------------------------------------------


def presence_outcome(
    ctx: DetectorContext,
    practice_id: str,
    practice: PracticeRubric,
    *,
    kind: str,
    missing_kind: str,
    what: str,
    lexicon: str = "good",
    exclude: str | None = None,
    accept: Callable[[DetectorContext, Hit], bool] | None = None,
    more: Callable[[DetectorContext, Sequence[Turn]], list[Hit]] | None = None,
) -> PracticeOutcome:
    """Credit for saying a ``lexicon`` phrase; a missing one costs only after a complaint.

    With ``exclude``, a turn holding a phrase of that lexicon (a request to repeat, for a
    paraphrase) earns no credit from its ``lexicon`` phrases; with ``accept``, only hits it
    accepts count; ``more`` adds hits found by a rule of the practice's own (also subject to
    ``exclude``), one per turn not already credited.

    Scores 100 with a phrase, ``missing_score`` without one where the customer complained, and
    is not judged (``None``) without agent speech or without a phrase and a complaint.
    """
    agents = agent_turns(ctx)
    if not agents:
        return NOT_JUDGED
    hits = lexicon_hits(ctx, agents, practice, lexicon)
    if more is not None:
        credited = {h.turn.index for h in hits}
        extra = [h for h in more(ctx, agents) if h.turn.index not in credited]
        hits = sorted(hits + extra, key=lambda h: (h.turn.index, h.match.start_char))
    if exclude is not None:
        voided = {h.turn.index for h in lexicon_hits(ctx, agents, practice, exclude)}
        hits = [h for h in hits if h.turn.index not in voided]
    if accept is not None:
        hits = [h for h in hits if accept(ctx, h)]
    if hits:
        findings = [
            hit_finding(
                ctx,
                practice_id,
                kind,
                h,
                Severity.POSITIVE,
                f"agent said {what} phrase {said(h)}",
            )
            for h in hits
        ]
        return outcome(100.0, findings)
    complaints = complaint_turns(ctx)
    if not complaints:
        return NOT_JUDGED
    first = complaints[0]
    reply = reply_to(ctx, first) or agents[-1]
    missing = turn_finding(
        ctx,
        practice_id,
        missing_kind,
        reply,
        Severity.MINOR,
        f"customer complained at {first.start:.1f}s and no {what} phrase was said by the agent "
        f"in the call",
    )
    return outcome(practice.threshold("missing_score", 50.0), [missing])


def fault_outcome(
    ctx: DetectorContext,
    practice_id: str,
    practice: PracticeRubric,
    *,
    kind: str,
    severity: Severity,
    what: str,
    lexicon: str = "bad",
    aside: Callable[[DetectorContext, Hit], str | None] | None = None,
    keep: Callable[[DetectorContext, Hit], bool] | None = None,
) -> PracticeOutcome:
    """Each agent turn that says a ``lexicon`` phrase costs ``per_finding_penalty`` points
    (times the ``agitated_weight`` while the customer is agitated), once however many of the
    phrases it holds: 我们只是您和商家的一个网络交易场所，商家才是实际的销售者和责任方 is one blame
    shift said in three listed phrases, and its finding names the others as well. With
    ``keep``, only the hits it accepts (the others are not the fault at all). A hit for which
    ``aside`` gives a reason is not charged: it is shown as an info finding with that reason,
    for the QA lead to check (as a phrase heard too unsurely is, :func:`unsure_findings`)."""
    agents = agent_turns(ctx)
    if not agents:
        return NOT_JUDGED
    found = lexicon_hits(ctx, agents, practice, lexicon)
    if keep is not None:
        found = [h for h in found if keep(ctx, h)]
    reasons = {id(h): aside(ctx, h) for h in found} if aside is not None else {}
    hits, unsure = heard_apart(ctx, [h for h in found if not reasons.get(id(h))])
    penalty = practice.threshold("per_finding_penalty", 30.0)
    findings = unsure_findings(ctx, practice_id, kind, unsure, f"agent said {what}")
    findings += [
        hit_finding(
            ctx,
            practice_id,
            kind,
            h,
            Severity.INFO,
            f"agent said {what} {said(h)} {reasons[id(h)]}",
        )
        for h in found
        if reasons.get(id(h))
    ]
    lost = 0.0
    by_turn: dict[int, list[Hit]] = {}
    for h in sorted(hits, key=lambda h: (h.turn.index, h.match.start_char)):
        by_turn.setdefault(h.turn.index, []).append(h)
    for first, *more in by_turn.values():
        weight = agitation_weight(ctx, practice, first.start)
        lost += penalty * weight
        also = "".join(f", also '{h.match.matched}'" for h in more)
        findings.append(
            hit_finding(
                ctx,
                practice_id,
                kind,
                first,
                severity,
                f"agent said {what} {said(first)}{also}; -{penalty * weight:.0f} points",
                weight=weight,
            )
        )
    return outcome(100.0 - lost, findings)


@dataclass(frozen=True, slots=True)
class Component:
    lexicon: str
    """Rubric lexicon holding the phrases of this component."""
    kind: str
    """Finding kind when the component is found."""
    label: str
    """What it is, for the reviewer's detail line."""
    accept: Callable[[DetectorContext, PracticeRubric, Hit], bool] | None = None
    """A further test a phrase hit must pass (e.g. a name must follow 我是)."""
    evidence: Callable[[DetectorContext, PracticeRubric, Hit], Hit] | None = None
    """The accepted hit as the finding shows it, where the words that make it lie beside the
    phrase (the name before 为您服务)."""


def components_outcome(
    ctx: DetectorContext,
    practice_id: str,
    practice: PracticeRubric,
    turns: Sequence[Turn],
    components: Sequence[Component],
    *,
    incomplete_kind: str,
    where: str,
    anchor: Turn | None = None,
) -> PracticeOutcome:
    """Score = share of ``components`` with a phrase in ``turns``; ``None`` without turns.

    The coaching values name only the missing components (the rubric's ``label_<lexicon>``
    coaching entries) and suggest, for each, the rubric's ``example_<lexicon>`` words unless
    the agent said them anywhere in the call. The finding for the missing ones points at
    ``anchor`` when given (the turn the coaching quotes), else at the first turn of an opening
    or the last of a closing.
    """
    if not turns:
        return NOT_JUDGED
    wanted = [c for c in components if practice.phrase_list(c.lexicon)]
    if not wanted:
        return NOT_JUDGED
    findings = []
    missing: list[Component] = []
    for c in wanted:
        hits = find_hits(ctx, turns, practice.phrase_list(c.lexicon))
        if c.accept is not None:
            hits = [h for h in hits if c.accept(ctx, practice, h)]
        if c.evidence is not None:
            hits = [c.evidence(ctx, practice, h) for h in hits]
        if hits:
            # the first of each turn: every turn that holds the component shows it
            seen: set[int] = set()
            for h in hits:
                if h.turn.index in seen:
                    continue
                seen.add(h.turn.index)
                findings.append(
                    hit_finding(
                        ctx,
                        practice_id,
                        c.kind,
                        h,
                        Severity.POSITIVE,
                        f"{where}: {c.label} {said(h)}",
                    )
                )
        else:
            missing.append(c)
    found = len(wanted) - len(missing)
    values: dict[str, str] = {}
    if missing:
        # The moment to point at: the first words of the call, or its last.
        if anchor is None:
            anchor = turns[0] if where == "opening" else turns[-1]
        findings.append(
            turn_finding(
                ctx,
                practice_id,
                incomplete_kind,
                anchor,
                Severity.MINOR,
                f"{where} ({len(turns)} agent turn(s), {turns[0].start:.1f} s to "
                f"{turns[-1].end:.1f} s) lacks: {', '.join(c.label for c in missing)}",
                value=float(found),
                threshold=float(len(wanted)),
            )
        )
        values = missing_values(ctx, practice, [c.lexicon for c in missing])
    result = outcome(100.0 * found / len(wanted), findings)
    return replace(result, coaching_values=values)


def missing_values(
    ctx: DetectorContext, practice: PracticeRubric, lexicons: Sequence[str]
) -> dict[str, str]:
    """``{missing}`` and ``{say}`` for the missing ``lexicons`` of a practice."""
    zh = ctx.language.startswith("zh")
    labels = [practice.coaching.get(f"label_{name}", name) for name in lexicons]
    examples = [practice.coaching.get(f"example_{name}", "") for name in lexicons]
    examples = [e for e in examples if e and not agent_said(ctx, e)]
    return {
        "missing": join_words(labels, zh),
        "say": ("，" if zh else ", ").join(examples),
    }


def join_words(words: Sequence[str], zh: bool) -> str:
    """``a、b和c`` / ``a, b and c``."""
    if len(words) <= 1:
        return "".join(words)
    if zh:
        return "、".join(words[:-1]) + "和" + words[-1]
    return ", ".join(words[:-1]) + " and " + words[-1]


_CLAUSE_SPLIT = text_breaks(",，.。!！?？;；:：、", repeat=True)


def agent_said(ctx: DetectorContext, words: str) -> bool:
    """Whether the agent said any clause of ``words`` anywhere in the call (any match kind). In
    Mandarin the plain 你 (and a typed 你您) counts as the polite 您 here: an agent who said
    感谢你的耐心等待 is not told to say 感谢您的耐心 (the matcher keeps the two apart elsewhere)."""
    clauses = [c.strip() for c in _CLAUSE_SPLIT.split(words) if c.strip()]
    entries = [PhraseEntry(text=c) for c in clauses]
    if not entries:
        return False
    zh = ctx.language.startswith("zh")
    for t in agent_turns(ctx):
        polite = t.text.replace("你您", "您").replace("你", "您")
        texts = (t.text, polite) if zh and polite != t.text else (t.text,)
        if any(ctx.matcher.find(text, entries) for text in texts):
            return True
    return False
