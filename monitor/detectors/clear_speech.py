"""``clear_speech`` (保持吐字清晰): speak clearly, above all with an angry customer.

Judged: every agent turn with recognised words. Per judged turn, a finding for each fault:

- ``low_confidence``: ``mean_word_prob < min_mean_word_prob`` (0.6);
- ``low_conf_words``: ``low_conf_share > max_low_conf_share`` (0.25);
- ``too_slow`` / ``too_fast``: articulation rate outside ``[articulation_min, articulation_max]``
  in the turn's ``rate_unit`` (Mandarin characters per second, English syllables per second).
  Only turns with an articulation rate are judged: :func:`calmline.monitor.measure.measure`
  gives one only over 2 s or more of the speaker's speech, since the rate of a one-second phrase
  is the length of its few words, not a pace (on six real 8 kHz bank calls, Harper Valley, the
  human timing of phrases under 2 s reaches 9.5 syllables per second, of longer ones 6.5). A
  turn of fewer than ``min_rate_units`` (4) syllables is not judged on rate either. When the
  rubric's language counts a different unit from the call's (an English rubric on a Mandarin
  call), the built-in band of the call's unit is used rather than comparing characters with
  syllables. The articulation rate leaves pauses out and so runs above the speech rate: a band
  is to be set for articulation, not for the speech rate. Built-in English band 3.0-7.5
  syllables per second: conversational English articulates at 4.5-6; the rated agent turns of
  the Harper Valley calls measure 3.1-7.1 (``bench/articulation.py``), and the rubric sets its
  own band from the same calls;
- ``too_quiet``: ``loudness_dbfs < min_loudness_dbfs`` (-35 dBFS), else ``mumbling``:
  ``loudness_rel_db < quiet_rel_db`` (-6 dB below the agent's own median turn). One level
  finding per turn: a turn that is absolutely too quiet is not also reported as relatively so.

All findings are minor; while the customer is agitated (agitation at the turn's start at or above
``rubric.stress.agitated_level``) they weigh ``agitated_weight`` (1.5), since an angry customer
is the one who stops listening to unclear speech.

Score: ``100 * (1 - min(1, sum(duration * weight of faulty turns) / judged time))
- per_fault_penalty * sum(finding weights)``, clamped to [0, 100]. A faulty turn counts with the
weight of its moment. The time share makes a long call with one unclear sentence score
high; the small per-fault penalty (1) keeps repeated faults visible. ``None`` without a judged
agent turn.
"""

from __future__ import annotations

from collections.abc import Callable

from calmline.monitor.detectors import DetectorContext, PracticeOutcome, register
from calmline.monitor.measure import (
    CHARS_PER_S,
    SYLLABLES_PER_S,
    WORDS_PER_MIN,
    count_units,
    rate_unit,
)
from calmline.monitor.rubric import PracticeRubric
from calmline.monitor.stress import MIN_RATE_UNITS
from calmline.monitor.types import Finding, Role, Severity, Turn, TurnMetrics

PRACTICE = "clear_speech"

DEFAULTS = {
    "min_mean_word_prob": 0.6,
    "max_low_conf_share": 0.25,
    "min_loudness_dbfs": -35.0,
    "quiet_rel_db": -6.0,
    "agitated_weight": 1.5,
    "min_rate_units": float(MIN_RATE_UNITS),
    "per_fault_penalty": 1.0,
}
"""Thresholds of this practice and their defaults (rubric key -> value)."""

RATE_BANDS = {
    CHARS_PER_S: (3.0, 5.5),
    SYLLABLES_PER_S: (3.0, 7.5),
    WORDS_PER_MIN: (120.0, 180.0),
}
"""Default articulation band per rate unit (``words_per_min``: reports written before rates
were counted in syllables)."""


@register(PRACTICE)
def detect(ctx: DetectorContext, practice_id: str, practice: PracticeRubric) -> PracticeOutcome:
    """Word confidence, articulation rate and level of every agent turn with words."""

    def th(key: str) -> float:
        return practice.threshold(key, DEFAULTS[key])

    judged = [
        (t, t.metrics)
        for t in sorted(ctx.turns_of(Role.AGENT), key=lambda t: (t.start, t.end))
        if t.words and t.metrics is not None
    ]
    if not judged:
        return PracticeOutcome(score=None, findings=())

    findings: list[Finding] = []
    judged_time = 0.0
    faulty_time = 0.0
    for turn, m in judged:
        level = ctx.agitation_at(turn.start)
        agitated = level >= ctx.rubric.stress.agitated_level
        weight = th("agitated_weight") if agitated else 1.0
        context = (
            f"customer agitation {level:.2f} (agitated)"
            if agitated
            else f"customer agitation {level:.2f}"
        )
        faults = _faults(ctx, practice, turn, m, th)
        for kind, value, limit, what in faults:
            findings.append(
                Finding(
                    practice=practice_id,
                    kind=kind,
                    start=turn.start,
                    end=turn.end,
                    speaker=turn.speaker,
                    role=turn.role,
                    quote=turn.text,
                    value=value,
                    threshold=limit,
                    severity=Severity.MINOR,
                    detail=f"Agent turn {turn.index}: {what}; {context}, weight {weight:g}.",
                    turn_index=turn.index,
                    weight=weight,
                )
            )
        duration = m.duration if m.duration > 0 else max(0.0, turn.end - turn.start)
        judged_time += duration
        if faults:
            faulty_time += duration * weight

    share = 1.0 - min(1.0, faulty_time / judged_time) if judged_time > 0 else 1.0
    penalty = th("per_fault_penalty") * sum(f.weight for f in findings)
    score = round(min(100.0, max(0.0, 100.0 * share - penalty)), 1)
    return PracticeOutcome(score=score, findings=tuple(findings))


def _faults(
    ctx: DetectorContext,
    practice: PracticeRubric,
    turn: Turn,
    m: TurnMetrics,
    th: Callable[[str], float],
) -> list[tuple[str, float, float, str]]:
    """``(kind, value, threshold, description)`` per fault of the turn."""
    out: list[tuple[str, float, float, str]] = []
    min_prob, max_share = th("min_mean_word_prob"), th("max_low_conf_share")
    if m.mean_word_prob is not None and m.mean_word_prob < min_prob:
        out.append(
            (
                "low_confidence",
                m.mean_word_prob,
                min_prob,
                f"mean word probability {m.mean_word_prob:.2f} below {min_prob:.2f}",
            )
        )
    if m.low_conf_share is not None and m.low_conf_share > max_share:
        out.append(
            (
                "low_conf_words",
                m.low_conf_share,
                max_share,
                f"{m.low_conf_share:.0%} of words low-confidence, above {max_share:.0%}",
            )
        )

    lo, hi = _band(ctx, practice, m.rate_unit)
    enough = count_units(turn.words, ctx.report.language) >= th("min_rate_units")
    rate = m.articulation_rate
    if rate is not None and enough and rate < lo:
        out.append(("too_slow", rate, lo, f"articulation {rate:g} {m.rate_unit}, below {lo:g}"))
    elif rate is not None and enough and rate > hi:
        out.append(("too_fast", rate, hi, f"articulation {rate:g} {m.rate_unit}, above {hi:g}"))

    floor, rel = th("min_loudness_dbfs"), th("quiet_rel_db")
    if m.loudness_dbfs is not None and m.loudness_dbfs < floor:
        out.append(
            (
                "too_quiet",
                m.loudness_dbfs,
                floor,
                f"level {m.loudness_dbfs:.1f} dBFS, below {floor:.1f} dBFS",
            )
        )
    elif m.loudness_rel_db is not None and m.loudness_rel_db < rel:
        out.append(
            (
                "mumbling",
                m.loudness_rel_db,
                rel,
                f"level {m.loudness_rel_db:+.1f} dB against the agent's median turn, "
                f"below {rel:+.1f} dB",
            )
        )
    return out


def _band(ctx: DetectorContext, practice: PracticeRubric, unit: str) -> tuple[float, float]:
    """The articulation band in ``unit``: the rubric's if it counts that unit, else the default."""
    lo, hi = RATE_BANDS.get(unit, RATE_BANDS[SYLLABLES_PER_S])
    if rate_unit(ctx.rubric.language) != unit:
        return lo, hi
    return practice.threshold("articulation_min", lo), practice.threshold("articulation_max", hi)
