"""Live findings: the rubric's own detectors run on a live call's turns so far."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from statistics import median
from typing import Any

from calmline.monitor.detectors import DetectorContext, detector_for
from calmline.monitor.detectors.let_finish import louder_faster
from calmline.monitor.measure import MeasureOptions, count_units, measure, rate_unit
from calmline.monitor.rubric import Rubric
from calmline.monitor.stress import StressTrajectory, estimate_stress
from calmline.monitor.textmatch import PhraseMatcher
from calmline.monitor.types import (
    SAMPLE_RATE,
    Audio,
    AudioInfo,
    CallMetrics,
    CallReport,
    Role,
    RoleAssignment,
    Severity,
    Turn,
    TurnMetrics,
    Word,
)
from calmline.pipelines.live.tracks import span_intersection, span_length
from calmline.pipelines.live.transcripts import join_words, joined_words
from calmline.pipelines.live.types import CHANNEL_OF_ROLE, Utterance

CHANNEL_ROLES = RoleAssignment(
    roles={"channel_0": Role.AGENT, "channel_1": Role.CUSTOMER}, method="channels"
)


class RulesMixin:
    """Part of :class:`~calmline.pipelines.live.session.StreamingSession` (its state lives
    there): turns measured and judged as their transcripts come in."""

    def _rubric(self) -> Rubric:
        return self.pipeline.batch.rubric_for(self.language or "en")

    def _matcher_for(self, rubric: Rubric) -> PhraseMatcher:
        if self._matcher is None or self._matcher.language != rubric.language:
            self._matcher = PhraseMatcher(rubric.matching, rubric.language)
        return self._matcher

    def _turn_obj(self, i: int, transcribed_only: bool = True, measured: bool = True) -> Turn:
        lt = self.turns[i]
        utts = [self.utterances[k] for k in lt.utterances]
        if transcribed_only:
            utts = [u for u in utts if u.done]
        words = joined_words(utts, self.language or "en")
        channel = CHANNEL_OF_ROLE[lt.role]
        start = min((u.start for u in utts), default=lt.start)
        end = max((u.end for u in utts), default=lt.end)
        metrics = None
        if measured and lt.measured is not None:
            loud, f0, rate, _ = lt.measured
            metrics = TurnMetrics(
                duration=round(end - start, 3),
                speech_rate=None,
                articulation_rate=rate,
                rate_unit=rate_unit(self.language or "en"),
                loudness_dbfs=loud,
                loudness_rel_db=self._rel_loudness(lt.role, loud),
                f0_median_hz=f0,
                f0_rel_semitones=self._rel_f0(lt.role, f0),
                f0_range_semitones=None,
                mean_word_prob=None,
                low_conf_share=None,
                gap_before=None,
                overlap=0.0,
            )
        return Turn(
            index=i,
            speaker=f"channel_{channel}",
            role=Role(lt.role),
            start=start,
            end=end,
            text=join_words(words, self.language or "en"),
            words=words,
            channel=channel,
            metrics=metrics,
        )

    def _baseline(self, role: str) -> tuple[float | None, float | None]:
        """Median level (dBFS) and median F0 (Hz) of ``role``'s turns so far, all of them, by
        sound (:meth:`VoiceMixin._sound`): the text path and the path by sound share it."""
        sounds = [self._sound(i) for i, t in enumerate(self.turns) if t.role == role]
        levels = [v for v, _ in sounds if v is not None]
        pitches = [f0 for _, f0 in sounds if f0 is not None]
        return median(levels) if levels else None, median(pitches) if pitches else None

    def _rel_loudness(
        self, role: str, loud: float | None, base: float | None = None
    ) -> float | None:
        """``loud`` against ``base`` (dB), by default the median level of ``role``'s turns."""
        base = self._baseline(role)[0] if base is None else base
        if loud is None or base is None:
            return None
        return round(loud - base, 2)

    def _rel_f0(self, role: str, f0: float | None, base: float | None = None) -> float | None:
        """``f0`` against ``base`` (semitones), by default the median F0 of ``role``'s turns."""
        base = self._baseline(role)[1] if base is None else base
        if f0 is None or base is None:
            return None
        return round(12.0 * math.log2(f0 / base), 2)

    def _measure_turn(self, i: int) -> None:
        """Level, F0 and articulation rate of a turn whose utterances are all transcribed,
        measured on its own audio with the batch pipeline's definitions."""
        lt = self.turns[i]
        if lt.measured is not None or not all(self.utterances[k].done for k in lt.utterances):
            return
        turn = self._turn_obj(i)
        units = count_units(turn.words, self.language or "en")
        m = self._measure_clip(turn, lt.track)
        if m is None:
            lt.measured = (None, None, None, units)
        else:
            lt.measured = (m.loudness_dbfs, m.f0_median_hz, m.articulation_rate, units)

    def _measure_clip(self, turn: Turn, track: str) -> TurnMetrics | None:
        """``turn`` measured on its span of ``track``'s audio alone, its words moved onto that
        clip, with the batch pipeline's definitions; ``None`` under 0.1 s of audio."""
        a, b = round(turn.start * SAMPLE_RATE), round(turn.end * SAMPLE_RATE)
        x = self.tracks[track].audio.view(a, b)
        if x.shape[0] < SAMPLE_RATE // 10:
            return None
        offset = a / SAMPLE_RATE
        local = replace(
            turn,
            start=0.0,
            end=x.shape[0] / SAMPLE_RATE,
            channel=None,
            words=tuple(
                Word(max(0.0, w.start - offset), max(0.0, w.end - offset), w.text, w.prob)
                for w in turn.words
            ),
        )
        info = AudioInfo("live", "live", "pcm_f32le", SAMPLE_RATE, 1, local.end, 0)
        (measured,), _ = measure(
            Audio(samples=x[None, :].copy(), info=info),
            [local],
            self.language or "en",
            MeasureOptions(
                low_conf_threshold=self.settings.measure.low_conf_threshold,
                non_talk_min_s=self.settings.measure.non_talk_min_s,
            ),
        )
        return measured.metrics

    def _judge(self, utt: Utterance) -> None:
        """Live findings after a transcript: the rubric's own detectors on the live turns."""
        rubric = self._rubric()
        self._measure_turn(utt.turn)
        if utt.role == "customer":
            self._customer_stress(rubric, utt)
        else:
            self._phrases(rubric, utt)
            self._louder_faster(rubric, utt)
        self._check_interruptions(trigger=utt)

    def _mini_report(self, turns: Sequence[Turn], duration: float) -> CallReport:
        """A report of a few live turns, for detectors that only read turns."""
        # the call's talk time so far, not the few turns': detectors judge against it
        talk = {r: 0.0 for r in ("agent", "customer")} | self._metrics()["talk_time"]
        return CallReport(
            call_id=self.call_id,
            audio=AudioInfo(f"live:{self.call_id}", "live", "", self.meta.sample_rate, 2, 0, 0),
            language=self.language or "en",
            language_probability=None,
            attribution="channels",
            roles=CHANNEL_ROLES,
            segments=(),
            turns=tuple(turns),
            overlaps=(),
            metrics=CallMetrics(
                duration=duration,
                talk_time=talk,
                talk_ratio=None,
                overlap_time=0.0,
                non_talk=(),
                non_talk_time=0.0,
                turn_count=len(turns),
                speakers=(),
            ),
            models=(),
            timings={},
        )

    def _context(self, rubric: Rubric, turns: Sequence[Turn]) -> DetectorContext:
        report = self._mini_report(turns, self._now())
        stress = self._stress or estimate_stress(report, rubric, self._matcher_for(rubric))
        return DetectorContext(
            report=report, rubric=rubric, matcher=self._matcher_for(rubric), stress=stress
        )

    def _phrases(self, rubric: Rubric, utt: Utterance) -> None:
        """Apology demands, acknowledgements and repeated acknowledgements in the agent's
        current turn, by the ``no_apology_demand`` and ``acknowledge`` detectors."""
        turn = self._turn_obj(utt.turn)
        if not turn.text.strip():
            return
        ctx = self._context(rubric, [turn])
        wanted = {
            "no_apology_demand": {"apology_demand": "apology_demand"},
            "acknowledge": {"ack_phrase": "acknowledgement", "repeated_ack": "repeated_ack"},
        }
        for practice_id, kinds in wanted.items():
            practice = rubric.practices.get(practice_id)
            detector = detector_for(practice_id)
            if practice is None or not practice.enabled or detector is None:
                continue
            for f in detector(ctx, practice_id, practice).findings:
                event = kinds.get(f.kind)
                # a demand heard too unsurely to charge is for the QA lead to hear, not an alert
                if event is None or f.severity is Severity.INFO:
                    continue
                self._alert_once(
                    (event, round(f.start, 1), f.phrase),
                    f.start,
                    {
                        "start": f.start,
                        "end": f.end,
                        "quote": self._scrub(f.quote),
                        "phrase": f.phrase,
                        "severity": str(f.severity),
                        "practice": practice_id,
                        "detail": f.detail,
                        "utterance_end": utt.speech_end,
                    },
                )

    def _louder_faster(self, rubric: Rubric, utt: Utterance) -> None:
        """``let_finish``'s ``louder`` and ``faster`` findings for the agent turn just measured,
        by the batch detector's own rule (:func:`~calmline.monitor.detectors.let_finish.
        louder_faster`) on the measured turns so far: the same baseline (the agent's own turns
        so far, this one included: median level, median articulation rate over turns of
        :data:`~calmline.monitor.stress.MIN_RATE_UNITS` units or more), the same thresholds
        from the rubric (``louder_db``, ``faster_ratio``), only while the customer is agitated
        (the customer's trajectory so far at the turn's start), and a rate only over
        ``min_rate_phonation_s`` of phonation (``monitor.measure``). Alerts by sound on turns
        now over and transcribed are judged again with their words
        (:meth:`VoiceMixin._settle_louder`)."""
        lt = self.turns[utt.turn]
        practice = rubric.practices.get("let_finish")
        if lt.measured is None or practice is None or not practice.enabled:
            return
        turns = [self._turn_obj(i) for i, t in enumerate(self.turns) if t.measured is not None]
        ctx = self._context(rubric, turns)
        louder, faster = louder_faster(ctx, "let_finish", practice)
        events = {"louder": "agent_louder", "faster": "agent_faster"}
        for f in [*louder, *faster]:
            if f.turn_index != utt.turn:
                continue
            data = self._louder_data(f, ctx, utt)
            self._alert_once((events[f.kind], utt.turn), f.start, data)
        self._settle_louder()

    def _customer_stress(self, rubric: Rubric, utt: Utterance) -> None:
        """The customer's agitation per turn so far (``monitor.stress``); an alert when the
        latest turn crosses the rubric's agitated level."""
        ids = [i for i, t in enumerate(self.turns) if t.role == "customer"]
        turns = [self._turn_obj(i) for i in ids if self.turns[i].measured is not None]
        if not turns:
            return
        report = self._mini_report(turns, self._now())
        self._agitation_alert(estimate_stress(report, rubric, self._matcher_for(rubric)), utt)

    def _agitation_alert(
        self, stress: StressTrajectory, utt: Utterance, basis: str | None = None
    ) -> None:
        """Keep ``stress`` as the call's customer agitation; ``agitation_rising`` when its
        latest turn crosses the rubric's agitated level (``basis``: ``sound`` where it was
        measured without words)."""
        if not stress.turns:
            return
        self._stress = stress
        latest = stress.turns[-1]
        level = self._rubric().stress.agitated_level
        if latest.agitation >= level and not self._agitated:
            self._agitated = True
            previous = stress.turns[-2].agitation if len(stress.turns) > 1 else None
            data = {
                "start": latest.start,
                "end": latest.end,
                "agitation": latest.agitation,
                "previous": previous,
                "threshold": level,
                "loudness_rel_db": latest.loudness_rel_db,
                "f0_rel_semitones": latest.f0_rel_semitones,
                "rate_rel": latest.rate_rel,
                "anger_words": list(latest.anger_words),
                "utterance_end": utt.speech_end,
            }
            if basis is not None:
                data["basis"] = basis
            self._alert("agitation_rising")
            self._emit("agitation_rising", latest.start, data)
        elif latest.agitation < level:
            self._agitated = False

    def _agitation(self) -> float | None:
        if self._stress is None or not self._stress.turns:
            return None
        return self._stress.turns[-1].agitation

    def _after_audio(self, final: bool = False) -> None:
        """After new audio: the interruption rule by sound while the agent talks, and the
        ``non_talk`` alert once nobody has spoken for ``measure.non_talk_min_s``."""
        now = self._now()
        if not final and any(
            tr.vad.in_speech and tr.role == "agent" for tr in self.tracks.values()
        ):
            self._acoustic_interruptions()
        if any(tr.vad.in_speech for tr in self.tracks.values()):
            self._non_talk_from = None
            return
        last_end = max((u.end for u in self.utterances), default=0.0)
        if self._non_talk_from is None or self._non_talk_from < last_end:
            self._non_talk_from = last_end
            self._non_talk_said = False
        threshold = self.settings.measure.non_talk_min_s
        if not self._non_talk_said and now - self._non_talk_from > threshold and not final:
            self._non_talk_said = True
            start = self._non_talk_from
            self._alert("non_talk")
            self._emit(
                "non_talk",
                start,
                {
                    "start": round(start, 3),
                    "duration_s": round(now - start, 3),
                    "threshold_s": threshold,
                    "utterance_end": round(start + threshold, 3),
                },
            )

    def _metrics(self) -> dict[str, Any]:
        """Running metrics: talk time per role, talk ratio, overlap, alerts, agitation."""
        now = self._now()
        spans: dict[str, list[tuple[float, float]]] = {}
        for u in self.utterances:
            spans.setdefault(u.role, []).append((u.start, u.end))
        for tr in self.tracks.values():
            if tr.vad.in_speech:
                spans.setdefault(tr.role, []).append((tr.vad.start or 0.0, tr.seconds))
        talk = {
            ("unknown" if r == "mixed" else r): round(span_length(s), 3) for r, s in spans.items()
        }
        agent, customer = talk.get("agent", 0.0), talk.get("customer", 0.0)
        overlap = span_intersection(spans.get("agent", []), spans.get("customer", []))
        return {
            "duration": round(now, 3),
            "talk_time": talk,
            "talk_ratio": round(agent / (agent + customer), 3) if agent + customer > 0 else None,
            "overlap_time": round(overlap, 3),
            "interruptions": self._alerts.get("interruption", 0),
            "customer_agitation": self._agitation(),
            "alerts": dict(self._alerts),
            "language": self.language,
            "transcript": "after_call" if self.degraded else "live",
            "asr_lag_s": self.asr_lag_s,
        }
