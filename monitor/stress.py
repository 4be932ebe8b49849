"""Customer stress: an agitation estimate per customer turn and its trajectory over the call.

The point of every practice is that the customer calms down, so the customer is measured too.
Per customer turn, four components, each 0 (nothing) to 1 (fully agitated):

- **loudness**: ``(loudness_rel_db - calm loudness_rel_db) / loudness_db_full``;
- **pitch**: ``(f0_rel_semitones - calm f0_rel_semitones) / pitch_st_full``;
- **rate**: ``(articulation_rate / calm articulation_rate - 1) / (rate_ratio_full - 1)``, over
  turns with at least :data:`MIN_RATE_UNITS` units (a rate over one or two words is the length
  of a pause, not a pace);
- **words**: anger words of ``rubric.stress.anger_words`` found in the turn's text: none 0,
  one :data:`ONE_ANGER_WORD`, two or more 1.

The acoustic components are clipped to [0, 1]: only a deviation *above* the customer's calm
level, pitch or pace counts; a quieter turn is not "negatively agitated". A component that
cannot be measured (no voiced frames, no words) drops out and the weights of the others
(``rubric.stress.weights``) are renormalised, so a turn is never called calm for lack of data.

**The calm reference.** ``loudness_rel_db`` and ``f0_rel_semitones`` are relative to the
customer's median turn (:mod:`calmline.monitor.measure`). In a complaint call the customer is
upset for much of the call, so the median turn is an upset turn, and deviations from it hide
the anger: on the bundled sample calls (three or four angry customer turns, then two or three
calmer ones) the angry turns sit 0.0 to 1.5 dB above the median. The reference here is
therefore the customer's :data:`CALM_PERCENTILE` th percentile turn (their quieter, lower, slower
quarter), taken on the same per-turn values, which puts the same angry turns 3.8 to 4.9 dB above
it. The cost is that a
customer who is calm throughout reads slightly above zero on most turns (the natural
turn-to-turn spread of a dB or two); it lifts the start and the end of the call alike, so the
trajectory does not move. ``TurnStress.loudness_rel_db``, ``f0_rel_semitones`` and ``rate_rel``
hold these values relative to the calm reference.

**Relative, not absolute.** Still relative to the customer's own turns: on a customer who shouts
from the first word to the last, the acoustics say nothing, and only the anger words (absolute)
do. A start-to-end change is what these measures are good for.

**Not mixed in: the customer's level relative to the agent's.** It looks like an absolute
anchor but is not one. On stereo recordings the two channels have independent gains (agent
headset on one side, the public network with its automatic gain control on the other); on mono
recordings the customer's voice has come through the phone line and its codec while the agent's
is often recorded locally. A level difference between them measures the line at least as much as
the voice, and because it is roughly constant over a call it would not move the trajectory
either: it would only shift the absolute agitation, which is exactly the part the line gain
corrupts.

Trajectory: the customer turns whose midpoint lies in the first third of the call duration
against those in the last third; ``change = end_level - start_level`` (rounded to 3 decimals);
``steady`` when ``|change| < change_threshold``, else ``de-escalated`` (negative) or
``escalated``; ``insufficient`` when either third has no customer turn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from calmline.monitor.measure import count_units
from calmline.monitor.rubric import PhraseEntry, Rubric, StressRubric
from calmline.monitor.textmatch import PhraseMatcher
from calmline.monitor.types import CallReport, Role, StressTrajectory, Turn, TurnStress

CALM_PERCENTILE = 25.0
"""Percentile of the customer's per-turn level, pitch and rate taken as their calm reference."""

MIN_RATE_UNITS = 4
"""Fewest units (zh characters, en words) for a turn's articulation rate to count."""

ONE_ANGER_WORD = 0.6
"""Words component for one anger word; two or more give 1.0. One word is a strong cue (people
rarely say 气死我了 calmly) but can be a quote or a figure of speech, so it is not full."""


def estimate_stress(
    report: CallReport, rubric: Rubric, matcher: PhraseMatcher, *, least: bool = False
) -> StressTrajectory:
    """Agitation of every customer turn and how it moved from the start to the end of the call.

    Args:
        report: The analysed call (turns with metrics).
        rubric: The rubric; its ``stress`` section holds the scales, weights and anger words.
        matcher: Phrase matcher for the call's language.
        least: A turn without words yet (a live call's, before the recogniser has it) counts
            its words and rate as calm (0) instead of leaving them out: the least agitation
            its words could give it, so an agitation told by sound is one its words can only
            raise. On the six Harper Valley calls (calm callers) the sound alone, with the
            words left out, reads 3 of 33 turns as agitated; at least, none.

    Returns:
        The trajectory: one :class:`TurnStress` per customer turn in time order, the start and
        end thirds' mean agitation, the change, the result and one line of evidence.
    """
    cfg = rubric.stress
    customer = sorted(
        (t for t in report.turns if t.role is Role.CUSTOMER), key=lambda t: (t.start, t.end)
    )
    anger = cfg.anger_list()
    calm = _calm_reference(customer, report.language)
    turns = tuple(
        _turn_stress(t, cfg, matcher, anger, calm, report.language, least) for t in customer
    )
    duration = report.metrics.duration
    if duration <= 0:
        duration = max((t.end for t in report.turns), default=0.0)
    return trajectory(turns, duration, cfg.change_threshold)


def trajectory(
    turns: Sequence[TurnStress], duration: float, change_threshold: float
) -> StressTrajectory:
    """The start-third versus end-third comparison of per-turn agitation.

    Args:
        turns: Customer turn stress, any order.
        duration: Call duration (s); the thirds are thirds of it.
        change_threshold: Smallest absolute change that counts as de- or escalation.

    Returns:
        The trajectory with its evidence line.
    """
    turns = tuple(sorted(turns, key=lambda s: (s.start, s.end)))
    first = [s for s in turns if (s.start + s.end) / 2 < duration / 3]
    last = [s for s in turns if (s.start + s.end) / 2 >= 2 * duration / 3]
    if not first or not last:
        where = " and ".join(name for name, part in (("first", first), ("last", last)) if not part)
        return StressTrajectory(
            turns=turns,
            start_level=_mean(first),
            end_level=_mean(last),
            change=None,
            result="insufficient",
            evidence=(
                f"{len(turns)} customer turn(s) in a {duration:.1f} s call; none in the {where} "
                "third, so no start-to-end comparison."
            ),
        )
    start_level, end_level = _level(first), _level(last)
    change = round(end_level - start_level, 3) + 0.0
    # Compare on the rounded change so the reported number and the verdict agree.
    if abs(change) < change_threshold:
        result = "steady"
    elif change < 0:
        result = "de-escalated"
    else:
        result = "escalated"
    evidence = (
        f"Customer agitation {start_level:.2f} in the first third ({_where(first)}) -> "
        f"{end_level:.2f} in the last third ({_where(last)}): change {change:+.3f} "
        f"against a threshold of {change_threshold:.3f}, {result}."
    )
    return StressTrajectory(
        turns=turns,
        start_level=start_level,
        end_level=end_level,
        change=change,
        result=result,
        evidence=evidence,
    )


def agitation(components: dict[str, float | None], weights: dict[str, float]) -> float:
    """Weighted mean of the components that were measured, 0-1.

    Args:
        components: Component name to value in [0, 1], or ``None`` when not measured.
        weights: Component name to weight; missing names weigh 0.

    Returns:
        The agitation, 0 when nothing with a positive weight was measured.
    """
    total = sum(weights.get(k, 0.0) for k, v in components.items() if v is not None)
    if total <= 0:
        return 0.0
    return sum(weights.get(k, 0.0) * v for k, v in components.items() if v is not None) / total


def _turn_stress(
    turn: Turn,
    cfg: StressRubric,
    matcher: PhraseMatcher,
    anger: tuple[PhraseEntry, ...],
    calm: _Calm,
    language: str,
    least: bool = False,
) -> TurnStress:
    m = turn.metrics
    loud = pitch = rate_rel = None
    if m is not None:
        if m.loudness_rel_db is not None and calm.loudness is not None:
            loud = round(m.loudness_rel_db - calm.loudness, 2) + 0.0
        if m.f0_rel_semitones is not None and calm.pitch is not None:
            pitch = round(m.f0_rel_semitones - calm.pitch, 2) + 0.0
        if m.articulation_rate and calm.rate and _rated(turn, language):
            rate_rel = round(m.articulation_rate / calm.rate, 3)

    hits: list[str] = []
    if turn.text.strip() and anger:
        hits = [
            x.phrase
            for x in matcher.find(turn.text, anger)
            if not x.negated and matcher.heard(turn, x, matcher.matching.min_word_prob)
        ]
    words_component: float | None
    if not turn.text.strip():
        # no transcript: the words say nothing either way (at least, they add nothing)
        words_component = 0.0 if least else None
    elif not hits:
        words_component = 0.0
    else:
        words_component = ONE_ANGER_WORD if len(hits) == 1 else 1.0

    components = {
        "loudness": _clip(loud / cfg.loudness_db_full) if loud is not None else None,
        "pitch": _clip(pitch / cfg.pitch_st_full) if pitch is not None else None,
        "rate": (
            _clip((rate_rel - 1.0) / (cfg.rate_ratio_full - 1.0))
            if rate_rel is not None
            else (0.0 if least and not turn.text.strip() else None)
        ),
        "words": words_component,
    }
    return TurnStress(
        turn_index=turn.index,
        start=turn.start,
        end=turn.end,
        agitation=round(agitation(components, cfg.weights), 3) + 0.0,
        loudness_rel_db=loud,
        f0_rel_semitones=pitch,
        rate_rel=rate_rel,
        anger_words=tuple(hits),
    )


@dataclass(frozen=True, slots=True)
class _Calm:
    """The customer's calm reference: loudness and pitch relative to their median turn (dB,
    semitones) and articulation rate (the call's rate unit); ``None`` where never measured."""

    loudness: float | None
    pitch: float | None
    rate: float | None


def _calm_reference(turns: Sequence[Turn], language: str) -> _Calm:
    metrics = [t.metrics for t in turns if t.metrics is not None]
    rated = [t for t in turns if t.metrics is not None and _rated(t, language)]
    return _Calm(
        loudness=_percentile([m.loudness_rel_db for m in metrics]),
        pitch=_percentile([m.f0_rel_semitones for m in metrics]),
        rate=_percentile([t.metrics.articulation_rate for t in rated if t.metrics]),
    )


def _rated(turn: Turn, language: str) -> bool:
    """Whether the turn's articulation rate says something about the pace."""
    m = turn.metrics
    return (
        m is not None
        and bool(m.articulation_rate)
        and count_units(turn.words, language) >= MIN_RATE_UNITS
    )


def _percentile(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None and math.isfinite(v)]
    if not present:
        return None
    return float(np.percentile(np.asarray(present, dtype=np.float64), CALM_PERCENTILE))


def _clip(x: float) -> float:
    if not math.isfinite(x):
        return 0.0
    return min(1.0, max(0.0, x))


def _mean(part: Sequence[TurnStress]) -> float | None:
    return _level(part) if part else None


def _level(part: Sequence[TurnStress]) -> float:
    """Mean agitation of a non-empty list of turns, rounded like the per-turn values."""
    return round(sum(s.agitation for s in part) / len(part), 3) + 0.0


def _where(part: Sequence[TurnStress]) -> str:
    shown = ", ".join(
        f"turn {s.turn_index} at {s.start:.1f} s = {s.agitation:.2f}" for s in part[:6]
    )
    more = f", +{len(part) - 6} more" if len(part) > 6 else ""
    return shown + more
