"""Let the customer know you are listening (让客户知道你的重视).

Measured on the agent's turns:

* acknowledgement phrases (``good``: 我理解, 我知道, 我了解, "I understand", "I see what you
  mean" …), as a rate per minute of customer speech against ``min_rate_per_min``;
* coverage of long customer turns: each customer turn of ``long_turn_s`` or more should be
  answered, in an agent turn overlapping it or in the agent's next turn, with an
  acknowledgement; a backchannel in the customer's pause after which the customer goes on (嗯
  between two stretches of the story) only listens, and the answer is the agent's turn after it,
  with the agent's turns that follow it before the customer speaks again (嗯 - 嗯嗯理解理解先生:
  one answer split in two turns); a long turn no agent turn follows with more than a
  backchannel (the customer's last words, a call cut while the agent hums 嗯) is not counted.
  An answer that restates the customer's matter (a paraphrase the ``paraphrase`` practice
  credits: 对商家反馈这也不知道是什么是吗) acknowledges it too;
* repeated tokens (``repeat``: 好好好, 对对对, "okay okay okay", "yeah yeah yeah"), a token said
  ``repeat_min`` times in a row: a major finding costing ``repeat_penalty`` points (times
  ``agitated_weight`` while the customer is agitated, when an angry customer retorts 好什么).

Score: ``rate_share`` × rate part + the rest × coverage part (either alone when the other cannot
be measured), minus the penalties. Without customer speech there is nothing to acknowledge and
the practice is not judged, unless repeated tokens were said.
"""

from __future__ import annotations

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, detector_for, register
from calmline.monitor.detectors.let_finish import (
    FloorRules,
    beyond_backchannel,
    listens_on,
    next_turns,
)
from calmline.monitor.detectors.phrases import (
    NOT_JUDGED,
    Hit,
    agent_turns,
    agitation_weight,
    customer_turns,
    find_hits,
    hit_finding,
    lexicon_hits,
    match_fields,
    outcome,
    quote_span,
    said,
    turn_finding,
)
from calmline.monitor.rubric import PracticeRubric
from calmline.monitor.types import Finding, Role, Severity, Turn


def opening_hits(ctx: DetectorContext, agents, practice: PracticeRubric) -> list[Hit]:
    """A bare acknowledgement word that opens the reply (``opening``: 了解, 明白, 理解; "got it",
    "understood"), after nothing but backchannels, fillers and the agent's self-reference
    (``opening_lead``: 嗯嗯嗯理解女士, 好的了解，…, 好的那这边了解): said
    first, it tells the customer what they said was taken in. In the middle of a sentence the
    same word is content (了解一下 asks to find out, 理解 in 请您理解 asks the customer), so only
    the reply's first words count, and a word that goes on into a verb phrase of finding out
    (``opening_not_followed_by``: 一下, "about") does not."""
    words = practice.phrase_list("opening")
    if not words:
        return []
    lead = {p.text for p in practice.phrase_list("repeat")}
    turn_taking = ctx.rubric.practices.get("let_finish")
    if turn_taking is not None:
        lead |= {p.text for p in turn_taking.phrase_list("backchannel")}
    lead |= {ctx.matcher.normalize(f) for f in ctx.rubric.matching.fillers}
    # the agent's self-reference and a linking word may come first: 好的那这边了解, 对我这边了解
    lead |= {ctx.matcher.normalize(p.text) for p in practice.phrase_list("opening_lead")}
    stop = practice.phrase_list("opening_not_followed_by")
    found = []
    for h in find_hits(ctx, agents, words, fuzzy_threshold=100):
        before = ctx.matcher.normalize(h.turn.text[: h.match.start_char])
        if not _only_tokens(before, lead, ctx.language):
            continue
        after = h.turn.text[h.match.end_char :].lstrip()
        going_on = ctx.matcher.find(after[:12], stop, fuzzy_threshold=100) if stop else []
        if going_on and going_on[0].start_char == 0:
            continue
        found.append(h)
    return found


def _restating_turns(ctx: DetectorContext) -> set[int]:
    """Indices of the agent turns the ``paraphrase`` practice credits (您是说…对吗, "so you were
    charged twice?"): repeating the customer's matter back shows it was heard as plainly as 我理
    解 does, so it answers a long turn. It adds nothing to the rate, which counts the words of
    acknowledgement."""
    practice = ctx.rubric.practices.get("paraphrase")
    if practice is None or not practice.enabled:
        return set()
    detector = detector_for("paraphrase")
    if detector is None:
        return set()
    outcome = detector(ctx, "paraphrase", practice)
    return {
        f.turn_index
        for f in outcome.findings
        if f.severity is Severity.POSITIVE and f.turn_index is not None
    }


_QUESTION_AFTER = ("吗", "没", "么")


def _asked_of_customer(ctx: DetectorContext, hit: Hit) -> bool:
    """Whether the words ask the customer instead of saying the agent took something in:
    您收到了吗 (has the customer received the text?) holds 收到了, asked (吗, 没 right after it).
    Mandarin only."""
    if not ctx.language.startswith("zh"):
        return False
    return hit.turn.text.startswith(_QUESTION_AFTER, hit.match.end_char)


def _only_tokens(text: str, tokens: set[str], language: str) -> bool:
    """Whether ``text`` (normalised) is made of ``tokens`` only (or is empty)."""
    if not language.startswith("zh"):
        return all(w in tokens for w in text.split())
    rest = text.replace(" ", "")
    ordered = sorted((t for t in tokens if t), key=len, reverse=True)
    while rest:
        t = next((t for t in ordered if rest.startswith(t)), None)
        if t is None:
            return False
        rest = rest[len(t) :]
    return True


@register("acknowledge")
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    agents = agent_turns(ctx)
    if not agents:
        return NOT_JUDGED
    findings: list[Finding] = []
    hits = lexicon_hits(ctx, agents, practice, "good")
    hits = [h for h in hits if not _asked_of_customer(ctx, h)]
    credited = {h.turn.index for h in hits}
    hits += [h for h in opening_hits(ctx, agents, practice) if h.turn.index not in credited]
    hits.sort(key=lambda h: (h.turn.index, h.match.start_char))
    for h in hits:
        findings.append(
            hit_finding(
                ctx,
                practice_id,
                "ack_phrase",
                h,
                Severity.POSITIVE,
                f"agent acknowledged with {said(h)}",
            )
        )

    parts: list[tuple[float, float]] = []  # (weight, 0-100)
    rate_share = min(1.0, max(0.0, practice.threshold("rate_share", 0.5)))
    customer_s = float(ctx.report.metrics.talk_time.get(Role.CUSTOMER.value, 0.0))
    if customer_s > 0:
        min_rate = practice.threshold("min_rate_per_min", 1.0)
        rate = len(hits) / (customer_s / 60.0)
        parts.append((rate_share, 100.0 * min(1.0, rate / min_rate) if min_rate > 0 else 100.0))
        findings.append(
            turn_finding(
                ctx,
                practice_id,
                "ack_rate",
                agents[0],
                Severity.POSITIVE if rate >= min_rate else Severity.MINOR,
                f"{len(hits)} acknowledgement(s) in {customer_s:.0f} s of customer speech = "
                f"{rate:.2f}/min (threshold {min_rate:g}/min)",
                value=round(rate, 2),
                threshold=min_rate,
                whole_call=True,
            )
        )

    long_s = practice.threshold("long_turn_s", 10.0)
    rules = FloorRules.of(ctx.rubric, practice)
    # a long turn no agent turn answers (the customer's last words, a thread's unanswered
    # last post, a call cut while the agent hums 嗯 after them) is one the agent had no chance
    # to acknowledge
    answering = beyond_backchannel(agents, rules, ctx.matcher)
    long_turns = [
        t
        for t in customer_turns(ctx)
        if t.end - t.start >= long_s and any(a.start >= t.start for a in answering)
    ]
    if long_turns:
        covered = 0
        hit_turns = {h.turn.index for h in hits}
        restated = _restating_turns(ctx)
        following = next_turns(ctx)
        customers = customer_turns(ctx)
        for c in long_turns:
            during = [t for t in agents if c.start <= t.start < c.end]
            # the answer is the agent's next turn that does more than listen on: a backchannel
            # in the customer's pause after which the customer goes on is not it
            listening: list[Turn] = []
            after = None
            for t in (t for t in agents if t.start >= c.end):
                if not listens_on(t, following.get(t.index), rules, ctx.matcher):
                    after = t
                    break
                listening.append(t)
            answer = during + listening + ([after] if after is not None else [])
            if after is not None:
                # the rest of the answer: the agent's turns after it before the customer speaks
                # again (嗯 - 嗯嗯理解理解先生, one answer split in two turns)
                again = next((t.index for t in customers if t.index > after.index), None)
                answer += [
                    t
                    for t in agents
                    if t.index > after.index and (again is None or t.index < again)
                ]
            if any(t.index in hit_turns or t.index in restated for t in answer):
                covered += 1
                continue
            anchor = after if after is not None else answer[0] if answer else c
            findings.append(
                turn_finding(
                    ctx,
                    practice_id,
                    "long_turn_unacknowledged",
                    anchor,
                    Severity.MINOR,
                    f"customer spoke {c.end - c.start:.1f} s ({c.start:.1f} s to {c.end:.1f} s, at "
                    f"least {long_s:g} s) and the agent's answer held no acknowledgement",
                    value=round(c.end - c.start, 1),
                    threshold=long_s,
                )
            )
        parts.append((1.0 - rate_share, 100.0 * covered / len(long_turns)))

    repeat_min = max(2, int(practice.threshold("repeat_min", 3)))
    penalty = practice.threshold("repeat_penalty", 15.0)
    lost = 0.0
    for turn in agents:
        for m in ctx.matcher.find_repeats(turn.text, practice.phrase_list("repeat"), repeat_min):
            start, end = ctx.matcher.time_span(turn, m)
            weight = agitation_weight(ctx, practice, start)
            lost += penalty * weight
            text, qa, qb = quote_span(turn.text, m.start_char, m.end_char, ctx.language)
            findings.append(
                Finding(
                    practice=practice_id,
                    kind="repeated_ack",
                    start=start,
                    end=end,
                    speaker=turn.speaker,
                    role=turn.role,
                    quote=text,
                    value=float(m.count),
                    threshold=float(repeat_min),
                    severity=Severity.MAJOR,
                    detail=f"agent repeated '{m.phrase}' {m.count} times in a row "
                    f"(limit {repeat_min - 1}); -{penalty * weight:.0f} points",
                    turn_index=turn.index,
                    phrase=m.phrase,
                    weight=weight,
                    **match_fields(m, text, qa, qb),
                )
            )

    total = sum(w for w, _ in parts)
    if total > 0:
        base = sum(w * s for w, s in parts) / total
    elif parts or lost:
        base = 100.0
    else:
        return NOT_JUDGED
    return outcome(base - lost, findings)
