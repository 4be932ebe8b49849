"""``gentle_control`` (适当的控制): with a customer who talks on and on, take the floor at a
breath pause (趁对方换气时), not by talking over, and with something positive.

Judged: every customer turn of at least ``long_turn_s`` (8 s) after which the agent takes the
floor, i.e. the first agent turn that starts after the long turn began (beyond the
turn-transition tolerance) and before the customer's next turn, not counting backchannels inside
the long turn (listening, not taking the floor) nor a backchannel in the customer's pause after
which the customer goes on (嗯 between two stretches of the story). A long turn after which the
customer speaks again, or the call ends, before the agent does is not judged. How the agent took
the floor:

- ``took_floor_over_customer`` (major): the agent took the floor by cutting in on the customer:
  an interruption of the customer under the segment rule of ``docs/interruptions.md``
  (:func:`~calmline.monitor.detectors.let_finish.interruption_events`) falls in the agent turn
  and starts inside the long turn. Value: its overlap in seconds, from segments. Credit 0.
- ``took_floor_in_pause`` (positive): the agent starts at least ``pause_min_s`` (0.3 s) after the
  long turn ends. Credit 1.
- ``took_floor_latched`` (minor): anything in between, the agent starting before the end
  without cutting in (overlap or speech too short for an interruption) or less than
  ``pause_min_s`` after it. Credit ``latched_credit`` (0.5): the
  customer had finished, but this is not the breath-pause technique either; and
  sub-0.3 s gaps are within the jitter of voice-activity boundaries, so a gap of 0.1 s cannot be
  told from one of 0.3 s with confidence. Requiring ``gap_before >= 0`` instead would credit
  every latched start in full, and require nothing of the pause the practice asks for.
- ``redirect`` (positive): a positive redirect phrase (lexicon ``redirect``) in the agent turn
  that takes the floor.

One fault, one penalty: a floor-taking turn that ``let_finish`` charges as an interruption, a
possible interruption or the turn a customer protested (``customer_protest``; see
:func:`~calmline.monitor.detectors.let_finish.charged_turns`) keeps its
kind here but at severity ``info``, its detail saying it is counted under ``let_finish``, and is
left out of this practice's score. ``took_floor_over_customer`` stays a major fault here only
when ``let_finish`` does not charge it (the practice disabled, or its own rules differ).

Each judged long turn weighs ``agitated_weight`` (1.5) when the customer is agitated at the
agent's start (``rubric.stress.agitated_level``), else 1.

Score: ``min(100, 100 * sum(weight * credit) / sum(weight) + redirect_bonus * n)``, where ``n``
counts the judged long turns whose floor-taking turn holds a redirect phrase and
``redirect_bonus`` is 10. ``None`` when no long customer turn is judged (turns counted under
``let_finish`` are not judged here).
"""

from __future__ import annotations

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.detectors.let_finish import (
    FloorRules,
    charged_turns,
    describe_gap,
    interruption_events,
    is_backchannel,
    listens_on,
    next_turns,
    starts_inside,
)
from calmline.monitor.detectors.phrases import match_fields
from calmline.monitor.floor import Interruption
from calmline.monitor.rubric import PracticeRubric
from calmline.monitor.types import Finding, Role, Severity, Turn

PRACTICE = "gentle_control"

DEFAULTS = {
    "long_turn_s": 8.0,
    "pause_min_s": 0.3,
    "agitated_weight": 1.5,
    "latched_credit": 0.5,
    "redirect_bonus": 10.0,
}
"""Thresholds of this practice and their defaults (rubric key -> value)."""


@register(PRACTICE)
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    """How the agent takes the floor after long customer turns, and with what words."""

    def th(key: str) -> float:
        return practice.threshold(key, DEFAULTS[key])

    rules = FloorRules.of(ctx.rubric, practice)
    agent = sorted(ctx.turns_of(Role.AGENT), key=lambda t: (t.start, t.end))
    customer = sorted(ctx.turns_of(Role.CUSTOMER), key=lambda t: (t.start, t.end))
    redirects = practice.phrase_list("redirect")
    negations = practice.phrase_list("negation")
    charged = charged_turns(ctx)
    following = next_turns(ctx)
    cut_in: dict[int, Interruption] = {}  # agent turn -> the agent's first cut-in in it
    for e, t in interruption_events(ctx, rules):
        if t.role is Role.AGENT:
            cut_in.setdefault(t.index, e)

    findings: list[Finding] = []
    weighted_credit = 0.0
    total_weight = 0.0
    with_redirect = 0
    for i, c in enumerate(customer):
        if c.end - c.start < th("long_turn_s"):
            continue
        until = customer[i + 1].start if i + 1 < len(customer) else float("inf")
        a = _floor_taker(ctx, rules, c, agent, until, following)
        if a is None:
            continue
        level = ctx.agitation_at(a.start)
        agitated = level >= ctx.rubric.stress.agitated_level
        weight = th("agitated_weight") if agitated else 1.0
        mood = f"customer agitation {level:.2f}{' (agitated)' if agitated else ''}"
        long_turn = f"the customer's {c.end - c.start:.1f} s turn {c.index}"

        event = cut_in.get(a.index)
        over = event is not None and c.start <= event.start <= c.end
        if event is not None and over:
            credit = 0.0
            overlap = event.overlap
            kind, severity, value, limit = (
                "took_floor_over_customer",
                Severity.MAJOR,
                overlap,
                rules.tolerance,
            )
            detail = (
                f"Agent took the floor {a.start - c.start:.1f} s into {long_turn} while the "
                f"customer kept talking ({overlap:.2f} s of overlap); {mood}."
            )
        else:
            # to the 10 ms the detail shows: "0.30 s after … without a pause of 0.30 s" from a
            # gap of 0.2999 s would contradict itself
            gap = round(a.start - c.end, 2) + 0.0
            value, limit = gap, th("pause_min_s")
            if gap >= th("pause_min_s"):
                credit = 1.0
                kind, severity = "took_floor_in_pause", Severity.POSITIVE
                detail = (
                    f"Agent took the floor in a {gap:.2f} s pause after {long_turn} "
                    f"(pause >= {limit:.2f} s); {mood}."
                )
            else:
                credit = th("latched_credit")
                kind, severity = "took_floor_latched", Severity.MINOR
                detail = (
                    f"Agent took the floor {describe_gap(gap)} the end of {long_turn}, without "
                    f"a pause of {limit:.2f} s; {mood}."
                )
        elsewhere = charged.get(a.index)
        if elsewhere is not None:
            # One fault, one penalty: let_finish charges this turn; it is referenced here.
            severity = Severity.INFO
            detail += f" Counted under let_finish as {elsewhere}; no penalty here."
        findings.append(
            Finding(
                practice=practice_id,
                kind=kind,
                start=event.start if event is not None and over else a.start,
                end=event.end if event is not None and over else a.end,
                speaker=a.speaker,
                role=a.role,
                quote=a.text,
                value=round(value, 3) + 0.0,
                threshold=limit,
                severity=severity,
                detail=detail,
                turn_index=a.index,
                weight=weight,
            )
        )
        if elsewhere is None:
            weighted_credit += weight * credit
            total_weight += weight

        matches = (
            [m for m in ctx.matcher.find(a.text, redirects, negations=negations) if not m.negated]
            if redirects and a.text.strip()
            else []
        )
        with_redirect += bool(matches)
        for m in matches:
            start, end = ctx.matcher.time_span(a, m)
            findings.append(
                Finding(
                    practice=practice_id,
                    kind="redirect",
                    start=start,
                    end=end,
                    speaker=a.speaker,
                    role=a.role,
                    quote=m.matched,
                    value=m.score,
                    threshold=None,
                    severity=Severity.POSITIVE,
                    detail=(
                        f'Agent took the floor after {long_turn} with "{m.matched}" '
                        f'(redirect phrase "{m.phrase}", {m.kind} match).'
                    ),
                    turn_index=a.index,
                    phrase=m.phrase,
                    **match_fields(m, m.matched, 0, len(m.matched)),
                )
            )

    if total_weight == 0:
        return PracticeOutcome(score=None, findings=tuple(findings))
    share = weighted_credit / total_weight
    score = round(min(100.0, 100.0 * share + th("redirect_bonus") * with_redirect), 1)
    return PracticeOutcome(score=score, findings=tuple(findings))


def _floor_taker(
    ctx: DetectorContext,
    rules: FloorRules,
    long_turn: Turn,
    agent: list[Turn],
    until: float,
    following: dict[int, Turn],
) -> Turn | None:
    """The agent turn that takes the floor from ``long_turn``: the first one starting after it
    began and before ``until`` (the customer's next turn), backchannels inside it skipped, and
    so are backchannels in the customer's pause after which the customer goes on talking
    (:func:`~calmline.monitor.detectors.let_finish.listens_on`; ``following``: the call's next
    turn after each, :func:`~calmline.monitor.detectors.let_finish.next_turns`)."""
    for a in agent:
        if a.start <= long_turn.start + rules.tolerance:
            continue
        if a.start >= until:
            return None
        inside = starts_inside(a, long_turn, rules.tolerance)
        if inside and is_backchannel(a, rules, ctx.matcher, other_continues=long_turn.end > a.end):
            continue
        if not inside and listens_on(a, following.get(a.index), rules, ctx.matcher):
            continue
        return a
    return None
