"""Few excuses (理由少一点; 找证明或借口).

Every agent turn that justifies (这是规定, 系统原因, "it's company policy", "lines are busy") is
counted once, from the customer's first turn: a cause of that kind, and a refusal with its reason
(因为…无法为您…, 如商家没有同意…无法为您退款, "so you cannot"), defends a shortfall by itself. A
bare connective (``connective``: 因为…所以…, 是因为, "that's because") explains as often as it
defends and counts only from the customer's first complaint (or, without one, their first
turn). Over the tune dialogues counting the named causes from the first turn added 11 excuses,
9 of them right (STC-3: system maintenance, busy lines, a base station fault, a compatibility
problem, the speaker's limits), where the customer's written post stated the shortfall without a
complaint word, and one SwDA line; counting the connectives too added 6 more in Mandarin calls, 5
of them wrong (是因为后台看到…), and 48 SwDA chat lines ("because I'm so engrossed in it"). Up to
``max_justifications`` are informational; each one beyond costs ``per_excess_penalty`` points
as a minor finding.

The reason for a hand-off the agent makes at once (因小美这边权限有限，为了更好的解决您的问题帮您
升级专员) leads to the solution and is no excuse: a hit followed in its sentence by a ``handoff``
phrase is dropped, unless the hit itself refuses (its phrase holds a negation such as 没有办法,
"can't": 没有办法给您退款，这边给您升级专员 still justifies the refusal). A cause the agent only
supposes (``diagnosis``: "may be caused by") with the fix after it in the turn is a diagnosis,
not an excuse (:func:`_diagnosis_with_fix`); nor is a cause phrase followed by a question word,
which asks the customer's reason (您是因为什么原因需要退款呢: :func:`_asks_why`), nor a bare refusal
(``bare_refusal``: 这个确实是没有办法的) with no ``refusal_reason`` in its sentence
(:func:`_bare_refusal`; over the Mandarin tune dialogues 13 fewer: 10 a refusal with no reason
or the customer's problem restated, 2 doubtful, 1 an excuse lost, 手机设置问题我们没办法答复).
"""

from __future__ import annotations

import re

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.phrases import (
    NOT_JUDGED,
    Hit,
    agent_turns,
    complaint_turns,
    customer_turns,
    enclosing,
    heard_apart,
    hit_finding,
    lexicon_hits,
    outcome,
    said,
    text_breaks,
    unsure_findings,
)
from calmline.monitor.rubric import PracticeRubric
from calmline.monitor.types import Severity

_SENTENCE_END = text_breaks("。．.!！?？\n")
_REFUSAL = re.compile(r"没|无法|不能|不了|不支持|暂不|can['’]t|cannot|\bnot\b", re.IGNORECASE)


def _refuses(h: Hit) -> bool:
    """Whether the matched words refuse (没有办法, 无法为您, 由于系统不支持, "so you cannot")."""
    return bool(_REFUSAL.search(h.turn.text[h.match.start_char : h.match.end_char]))


def _before_handoff(ctx: DetectorContext, practice: PracticeRubric, h: Hit) -> bool:
    """Whether the hit gives the reason for a hand-off later in its sentence (see above)."""
    handoff = practice.phrase_list("handoff")
    if not handoff or _refuses(h):
        return False
    rest = h.turn.text[h.match.end_char :]
    end = _SENTENCE_END.search(rest)
    sentence = rest[: end.start()] if end else rest
    return bool(ctx.matcher.find(sentence, handoff, fuzzy_threshold=100))


_ASKED = re.compile(r"[\s,，]*(?:什么|啥|哪)")
"""A question word right after a cause phrase: the agent asks the customer's reason (您是因为什么
原因需要退款呢), it gives none."""


def _asks_why(h: Hit) -> bool:
    """Whether the hit asks for a reason instead of giving one (是因为什么原因…呢)."""
    return bool(_ASKED.match(h.turn.text, h.match.end_char))


def _bare_refusal(ctx: DetectorContext, practice: PracticeRubric, h: Hit) -> bool:
    """Whether the hit is a refusal with no reason in its sentence (这个确实是没有办法的, 我也没
    有办法加您微信): a phrase of a ``bare_refusal`` entry (没办法) whose sentence holds no
    ``refusal_reason`` phrase (因为, 权限, 证据, 联系不上 …). The guideline calls a
    refusal without a reason no excuse; with one (没有保留证据确实没办法) it is."""
    bare = {e.text for e in practice.phrase_list("bare_refusal")}
    reasons = practice.phrase_list("refusal_reason")
    if h.match.phrase not in bare or not reasons:
        return False
    sentence = enclosing(h.turn.text, h.match.start_char, h.match.end_char, _SENTENCE_END)
    return not ctx.matcher.find(sentence, reasons, fuzzy_threshold=100)


def _diagnosis_with_fix(ctx: DetectorContext, practice: PracticeRubric, h: Hit) -> bool:
    """Whether the hit only supposes a cause (``diagnosis``: "may be caused by") and the fix
    follows in its turn (``fix``: "please restore it", "we suggest you update"): it tells the
    customer how to solve the problem and defends nothing. Without the fix ("restarting may be
    caused by deleting a system file", said of a phone just back from repair) it is a cause
    given for the shortfall."""
    diagnoses = {e.text for e in practice.phrase_list("diagnosis")}
    fixes = practice.phrase_list("fix")
    if h.match.phrase not in diagnoses or not fixes:
        return False
    rest = h.turn.text[h.match.end_char :]
    return bool(ctx.matcher.find(rest, fixes, fuzzy_threshold=100))


@register("no_excuses")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    agents = agent_turns(ctx)
    if not agents:
        return NOT_JUDGED
    customers = customer_turns(ctx)
    complaints = complaint_turns(ctx) or customers
    since = complaints[0].start if complaints else agents[0].start
    # a refusal with its reason (因为…无法为您…, "so you cannot") is a shortfall by itself: it
    # counts from the customer's first turn, as a named cause does; a bare connective
    # (因为…所以…, "that's because") defends one only after a complaint
    first = customers[0].start if customers else agents[0].start
    hits = lexicon_hits(ctx, [t for t in agents if t.start >= first], practice, "excuse")
    connectives = {e.text for e in practice.phrase_list("connective")}
    hits = [
        h
        for h in hits
        if (h.turn.start >= since or _refuses(h) or h.match.phrase not in connectives)
        and not _before_handoff(ctx, practice, h)
        and not _diagnosis_with_fix(ctx, practice, h)
        and not _asks_why(h)
        and not _bare_refusal(ctx, practice, h)
    ]
    hits, unsure = heard_apart(ctx, hits)
    allowed = int(practice.threshold("max_justifications", 2))
    penalty = practice.threshold("per_excess_penalty", 20.0)
    findings = unsure_findings(ctx, practice_id, "excuse", unsure, "justification")
    turns_seen: set[int] = set()
    for h in hits:
        if h.turn.index in turns_seen:
            continue
        turns_seen.add(h.turn.index)
        n = len(turns_seen)
        over = n > allowed
        findings.append(
            hit_finding(
                ctx,
                practice_id,
                "excuse",
                h,
                Severity.MINOR if over else Severity.INFO,
                f"justification #{n} after the complaint: {said(h)}; "
                f"{allowed} allowed" + (f", -{penalty:.0f} points" if over else ""),
                value=float(n),
                threshold=float(allowed),
            )
        )
    excess = max(0, len(turns_seen) - allowed)
    return outcome(100.0 - penalty * excess, findings)
