"""Live raised voice by sound: ``let_finish``'s louder rule as soon as a turn's speech closes.

A turn's level and F0 need no words. Each live turn is measured on its own audio
(:func:`calmline.monitor.measure.measure`'s definitions) once its utterances are closed by the
VAD, and again when a later utterance joins it (:attr:`LiveTurn.sound`). On those measures:

- the **customer's agitation** is :func:`calmline.monitor.stress.estimate_stress` on the
  customer's turns so far, with the articulation rate and anger words of the turns already
  transcribed; a turn still without words counts its rate and words as calm
  (``least=True``): the least agitation its words could give it, so the customer is agitated
  by sound only where no words can make them calm (on the six Harper Valley calls, calm
  callers, the sound alone with words left out read 3 of 33 turns as agitated; at least, none);
- the **agent's level** is the turn's loudness against the median of the agent's turns so far
  (all of them, transcribed or not: the baseline of the text path too);
- the rule is the detector's own (:func:`calmline.monitor.detectors.let_finish.louder_faster`):
  an agent turn ``louder_db`` over the agent's median while the customer is agitated is told at
  once (``agent_louder``, ``basis: sound``), with no wait for the recogniser.

Once the turn is over (the other party started, or its speaker paused past
``measure.max_turn_pause_s``, or the call ended) and all of it is transcribed, the rule runs
again with the words, on the whole turn as the stored report measures it. The words can only
raise the customer's agitation, but the turn may have grown since its first utterance (a
louder opening to a long answer at the usual level) and the baselines moved; an alert by sound
that the rule with words does not hold is withdrawn with the reason (``alert_withdrawn``).
A call without live transcription (shed or started degraded) keeps its alerts by sound and
gets the customer's agitation by sound (``agitation_rising``, ``basis: sound``); its stored
report is the batch pipeline's, with the words.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from calmline.monitor.detectors import DetectorContext
from calmline.monitor.detectors.let_finish import DEFAULTS as LET_FINISH
from calmline.monitor.detectors.let_finish import louder_faster
from calmline.monitor.measure import rate_unit
from calmline.monitor.stress import estimate_stress
from calmline.monitor.types import Finding, Role, TurnMetrics
from calmline.pipelines.live.types import Utterance


class VoiceMixin:
    """Part of :class:`~calmline.pipelines.live.session.StreamingSession` (its state lives
    there): the louder rule and the customer's agitation on turn levels, before the words."""

    def _sound(self, i: int) -> tuple[float | None, float | None]:
        """(loudness_dbfs, f0_median_hz) of live turn ``i`` over its closed utterances,
        measured once per extent of the turn."""
        lt = self.turns[i]
        if lt.sound is None:
            # every closed utterance of the turn, words or not (level and F0 need none)
            turn = replace(self._turn_obj(i, transcribed_only=False, measured=False), words=())
            m = self._measure_clip(turn, lt.track)
            lt.sound = (None, None) if m is None else (m.loudness_dbfs, m.f0_median_hz)
        return lt.sound

    def _sound_context(self, roles: tuple[str, ...]) -> DetectorContext:
        """A detector context of the turns of ``roles`` so far, measured by sound (level and
        F0 of all their closed utterances against the median of the role's turns, with the
        rate and words of those already transcribed), and the customer's agitation on the same
        measures, at least (``estimate_stress(least=True)``)."""
        rubric = self._rubric()
        matcher = self._matcher_for(rubric)
        ids = [i for i, lt in enumerate(self.turns) if lt.role in roles]
        base = {role: self._baseline(role) for role in roles}
        turns = []
        for i in ids:
            lt = self.turns[i]
            (loud, f0), (loud_base, f0_base) = self._sound(i), base[lt.role]
            metrics = TurnMetrics(
                duration=round(lt.end - lt.start, 3),
                speech_rate=None,
                articulation_rate=lt.measured[2] if lt.measured is not None else None,
                rate_unit=rate_unit(self.language or "en"),
                loudness_dbfs=loud,
                loudness_rel_db=self._rel_loudness(lt.role, loud, loud_base),
                f0_median_hz=f0,
                f0_rel_semitones=self._rel_f0(lt.role, f0, f0_base),
                f0_range_semitones=None,
                mean_word_prob=None,
                low_conf_share=None,
                gap_before=None,
                overlap=0.0,
            )
            turn = self._turn_obj(i, measured=False)
            turns.append(replace(turn, start=lt.start, end=lt.end, metrics=metrics))
        customer = [t for t in turns if t.role is Role.CUSTOMER]
        now = self._now()
        stress = estimate_stress(self._mini_report(customer, now), rubric, matcher, least=True)
        report = self._mini_report(turns, now)
        return DetectorContext(report=report, rubric=rubric, matcher=matcher, stress=stress)

    def _voice_on_close(self, utt: Utterance) -> None:
        """After an utterance closed: the louder rule by sound for an agent turn while the
        customer is agitated; for a call without live words, the customer's agitation too."""
        if self.mixed or not self.options.acoustic_alerts:
            return
        if not self.degraded:
            self._settle_louder()
        practice = self._rubric().practices.get("let_finish")
        if utt.role == "customer":
            if self.degraded:
                self._agitation_alert(self._sound_context(("customer",)).stress, utt, "sound")
            return
        key = ("agent_louder", utt.turn)
        if practice is None or not practice.enabled or key in self._reported:
            return
        lt = self.turns[utt.turn]
        customer = self._sound_context(("customer",))
        if customer.agitation_at(lt.start) < customer.rubric.stress.agitated_level:
            return  # the rule cannot hold: no agent turn is measured for nothing
        ctx = self._sound_context(("agent", "customer"))
        louder, _ = louder_faster(ctx, "let_finish", practice)
        for f in louder:
            if f.turn_index != utt.turn:
                continue
            data = self._louder_data(f, ctx, utt)
            data |= {
                "basis": "sound",
                "words": "after_call" if self.degraded else "pending",
                "quote": None,
            }
            if self._alert_once(key, f.start, data):
                self._louder_by_sound[utt.turn] = f.start

    def _louder_data(self, f: Finding, ctx: DetectorContext, utt: Utterance) -> dict[str, Any]:
        """The fields of an ``agent_louder`` or ``agent_faster`` alert for finding ``f``."""
        if f.kind == "louder":
            value = {"loudness_rel_db": f.value, "threshold_db": f.threshold}
        else:
            value = {"rate_ratio": f.value, "threshold_ratio": f.threshold}
        return {
            "start": f.start,
            "end": f.end,
            "quote": self._scrub(f.quote),
            "customer_agitation": ctx.agitation_at(f.start),
            "customer_agitated": True,
            "severity": str(f.severity),
            "practice": "let_finish",
            "detail": f.detail,
            "utterance_end": utt.speech_end,
            **value,
        }

    def _turn_over(self, i: int, final: bool = False) -> bool:
        """Whether live turn ``i`` can no longer grow (``build_turns``' rule): the call ended,
        another party started after it, or its speaker paused longer than
        ``measure.max_turn_pause_s`` (counting the speech in progress on its track)."""
        lt = self.turns[i]
        if final:
            return True
        if any(
            u.track != lt.track and u.start >= lt.end - 1e-6
            for u in self.utterances[lt.utterances[-1] + 1 :]
        ):
            return True
        opened = {tr.name: tr.vad.start for tr in self.tracks.values() if tr.vad.in_speech}
        if any(t != lt.track and (s or 0.0) >= lt.end - 1e-6 for t, s in opened.items()):
            return True
        pause = self.settings.measure.max_turn_pause_s
        own = opened.get(lt.track)
        resumed = own is not None and (own or 0.0) - lt.end <= pause
        return self._now() - lt.end > pause and not resumed

    def _settle_louder(self, final: bool = False) -> None:
        """Alerts by sound on agent turns that are over and transcribed, judged again by the
        rule with their words (the whole turn, as the stored report measures it): kept when
        it holds, else withdrawn with the reason."""
        practice = self._rubric().practices.get("let_finish")
        if not self._louder_by_sound or practice is None or not practice.enabled:
            return
        ready = [
            i
            for i in self._louder_by_sound
            if self.turns[i].measured is not None and self._turn_over(i, final)
        ]
        if not ready:
            return
        turns = [self._turn_obj(i) for i, t in enumerate(self.turns) if t.measured is not None]
        ctx = self._context(self._rubric(), turns)
        louder, _ = louder_faster(ctx, "let_finish", practice)
        threshold = practice.threshold("louder_db", LET_FINISH["louder_db"])
        for i in ready:
            start = self._louder_by_sound.pop(i)
            if not any(f.turn_index == i for f in louder):
                self._withdraw_louder(i, start, ctx, threshold)

    def _withdraw_louder(
        self, turn_index: int, start: float, ctx: DetectorContext, threshold: float
    ) -> None:
        """Withdraw the louder alert by sound on agent turn ``turn_index``, with the reason in
        words and as ``reason_code`` (``calm``: the customer was not agitated at the turn's
        start; ``not_louder``: the whole turn was under ``louder_db``; ``rule``: otherwise) with
        its ``values``, for pages that say it in the reader's language."""
        turn = next((t for t in ctx.report.turns if t.index == turn_index), None)
        level = ctx.rubric.stress.agitated_level
        agitation = round(ctx.agitation_at(start), 2)
        rel = turn.metrics.loudness_rel_db if turn is not None and turn.metrics else None
        values: dict[str, Any] = {"agitation": agitation, "threshold": level}
        if agitation < level:
            code = "calm"
            reason = (
                f"with the customer's words in, their agitation at the turn's start was "
                f"{agitation:.2f} (agitated at >= {level:.2f})"
            )
        elif rel is None or rel < threshold:
            code = "not_louder"
            values = {"loudness_rel_db": rel, "limit_db": threshold}
            said = "not measured" if rel is None else f"{rel:+.1f} dB"
            reason = (
                f"the whole turn, with its words, was {said} against the agent's median turn "
                f"level (limit +{threshold:.1f} dB)"
            )
        else:
            code = "rule"
            reason = "the rule with the turn's words did not hold"
        self._withdraw(
            "agent_louder",
            start,
            {
                "start": round(start, 3),
                "agent_end": round(turn.end, 3) if turn is not None else None,
                "quote": self._scrub(turn.text) if turn is not None else None,
                "reason": reason,
                "reason_code": code,
                "values": values,
            },
        )
