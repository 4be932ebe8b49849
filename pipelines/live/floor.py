"""Live interruptions: ``let_finish``'s floor rule on the speech of a live call so far.

Two passes of the one rule (``docs/interruptions.md``). By sound: the rule on the speech spans
alone (words unknown) as the audio arrives, so an agent cutting in is told while they are still
talking, with no wait for the recogniser; its conditions (onset, the customer's stretch under
way, the overlap, the length of the agent's stretch) only grow true. By words: once the agent's
stretch is over and transcribed, the rule with its words, as the stored report applies it; an
alert by sound that the words undo (a backchannel by its words, a closing exchange, nothing
recognised) is withdrawn with the reason (``alert_withdrawn``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from calmline.models.vad_spans import FRAME_S
from calmline.monitor.detectors import DetectorContext
from calmline.monitor.detectors.let_finish import FloorRules, interruption_events
from calmline.monitor.floor import Interruption, find_interruptions, stretches
from calmline.monitor.stress import estimate_stress
from calmline.monitor.types import Role, SpeechSegment
from calmline.pipelines.live.tracks import Track
from calmline.pipelines.live.transcripts import join_words
from calmline.pipelines.live.types import Utterance

ACOUSTIC_EVERY_S = 0.1
"""The rule by sound runs at most this often while the agent is talking (s of call time)."""


class FloorMixin:
    """Part of :class:`~calmline.pipelines.live.session.StreamingSession` (its state lives
    there): interruption alerts as soon as their outcome cannot change."""

    def _check_interruptions(self, trigger: Utterance) -> None:
        """``let_finish``'s interruption rule (``docs/interruptions.md``,
        :func:`calmline.monitor.detectors.let_finish.interruption_events`) on the speech so far:
        the closed utterances of both tracks and the speech in progress as segments, the
        transcribed words of the turns. An agent interruption is told as soon as its outcome
        cannot change: the agent's stretch has ended and all its words are in (the rule reads
        its length and its words), while the customer may still be talking (the overlap only
        grows with the customer's speech, so once it passes ``min_overlap_s`` it stays)."""
        if self.mixed:
            return
        rubric = self._rubric()
        practice = rubric.practices.get("let_finish")
        if practice is None or not practice.enabled:
            return
        now = self._now()
        horizon = now - self.options.window_s
        segments, open_from = self._live_segments(horizon)
        agent = next((tr for tr in self.tracks.values() if tr.role == "agent"), None)
        if agent is None or not segments:
            return
        turns = [self._turn_obj(i) for i, lt in enumerate(self.turns) if lt.end > horizon]
        report = replace(self._mini_report(turns, now), segments=tuple(segments))
        ctx = DetectorContext(
            report=report,
            rubric=rubric,
            matcher=self._matcher_for(rubric),
            stress=self._stress or estimate_stress(report, rubric, self._matcher_for(rubric)),
        )
        rules = FloorRules.of(rubric, practice)
        heard: set[tuple] = set()
        for event, turn in interruption_events(ctx, rules):
            key = self._interruption_key(event.start)
            heard.add(key)
            if turn.role is not Role.AGENT or not self._settled(agent, event, open_from):
                continue
            held_until = stretch_end(segments, event.interrupted, event.held_since)
            customer_open = open_from.get(self._customer_track() or "")
            ongoing = customer_open is not None and customer_open <= held_until + 1e-6
            if self._alert_once(
                key,
                event.start,
                {
                    "agent_start": round(event.start, 3),
                    "overlap_s": round(event.overlap, 3),
                    "customer_start": round(event.held_since, 3),
                    "customer_end": None if ongoing else round(held_until, 3),
                    "agent_end": round(event.stretch.end, 3),
                    "quote": self._scrub(join_words(event.stretch.words or (), report.language)),
                    "min_overlap_s": rules.min_overlap_s,
                    "min_speech_s": rules.backchannel_max_s,
                    "utterance_end": trigger.speech_end,
                },
            ):
                # the running count changed after the utterances' own metrics went out
                self._emit(
                    "metrics", trigger.end, {**self._metrics(), "utterance_end": trigger.speech_end}
                )
        self._settle_acoustic(agent, segments, open_from, heard, rules, report.language)

    def _acoustic_interruptions(self, force: bool = False) -> None:
        """The interruption rule on the speech spans so far, words unknown: an agent who cut in
        is told as soon as the overlap and the length of their stretch pass the rule's limits
        (``min_overlap_s``, ``backchannel_max_s``), while they are still talking."""
        if self.mixed or not self.options.acoustic_alerts:
            return
        now = self._now()
        if not force and now - self._acoustic_at < ACOUSTIC_EVERY_S:
            return
        self._acoustic_at = now
        rules = self._floor_rules()
        agent = next((tr for tr in self.tracks.values() if tr.role == "agent"), None)
        if rules is None or agent is None:
            return
        rule = rules.interruption_rule
        if not self._may_interrupt(agent, rule.min_speech_s, rule.join_gap_s, now):
            return
        segments, open_from = self._live_segments(now - self.options.window_s)
        speaker = f"channel_{agent.channel}"
        for event in find_interruptions(stretches(segments, None, rule.join_gap_s), rule):
            if event.speaker != speaker:
                continue
            key = self._interruption_key(event.start)
            customer_open = open_from.get(self._customer_track() or "")
            held_until = stretch_end(segments, event.interrupted, event.held_since)
            ongoing = customer_open is not None and customer_open <= held_until + 1e-6
            if self._alert_once(
                key,
                event.start,
                {
                    "agent_start": round(event.start, 3),
                    "overlap_s": round(event.overlap, 3),
                    "customer_start": round(event.held_since, 3),
                    "customer_end": None if ongoing else round(held_until, 3),
                    "agent_end": None,
                    "quote": None,
                    "min_overlap_s": rules.min_overlap_s,
                    "min_speech_s": rules.backchannel_max_s,
                    "basis": "sound",
                    "words": "pending",
                    # when the rule by sound held at the earliest: the alert's evidence time
                    "utterance_end": round(
                        min(now, event.start + max(rule.min_speech_s, rule.min_overlap_s)), 3
                    ),
                },
            ):
                self._acoustic[key] = event.start
                self._emit("metrics", now, self._metrics())

    def _floor_rules(self) -> FloorRules | None:
        """``let_finish``'s floor rules of the call's rubric (made once per rubric), ``None``
        when the practice is off."""
        rubric = self._rubric()
        cached = self._floor_cache
        if cached is None or cached[0] is not rubric:
            practice = rubric.practices.get("let_finish")
            on = practice is not None and practice.enabled
            cached = self._floor_cache = (rubric, FloorRules.of(rubric, practice) if on else None)
        return cached[1]

    def _may_interrupt(
        self, agent: Track, min_speech_s: float, join_gap_s: float, now: float
    ) -> bool:
        """Whether the rule by sound can hold now for the agent's latest stretch (the one in
        progress, else the last closed one; utterances ``join_gap_s`` apart or closer are one
        stretch): it is ``min_speech_s`` long at least, the customer spoke during it, and it was
        not told already. Cheap, so the rule itself runs only where it can find something: it
        runs on the thread that accepts the audio, and its Python time is taken from the reading
        of every call's socket (the interpreter's lock)."""
        utts = self.utterances
        last = next((u for u in reversed(utts) if u.track == agent.name), None)
        raw = agent.vad.open_start()
        shift = self.settings.vad.channels_onset_shift_ms / 1000
        joins = last is not None and raw is not None and last.end + join_gap_s + 1e-9 >= raw
        if raw is not None and not joins and now - raw + shift < min_speech_s:
            return False  # too short yet, wherever its onset moves
        start, end = self._open_start(agent), now
        if start is None:
            if last is None:
                return False
            start, end = last.start, last.end
        for u in reversed(utts):  # earlier utterances the stretch joins
            if u.end < start - self.options.max_utterance_s:
                break
            if u.track == agent.name and u.start < start <= u.end + join_gap_s + 1e-9:
                start = u.start
        if end - start < min_speech_s or self._interruption_key(start) in self._reported:
            return False
        customer = next((tr for tr in self.tracks.values() if tr.role == "customer"), None)
        if customer is None:
            return False
        going = customer.vad.open_start()  # its level rise only moves it earlier
        if going is not None and going < end:
            return True
        for u in reversed(utts):
            if u.end < start - self.options.max_utterance_s:
                break
            if u.track == customer.name and u.start < end and u.end > start:
                return True
        return False

    def _interruption_key(self, start: float) -> tuple:
        """The alert key of an agent interruption starting at ``start`` (s): the key it was told
        under already where one is this close to it (the onset of a span in progress is moved
        back to the level rise from the audio so far, its final onset from the whole span, which
        may differ by a few frames), else a new one."""
        key = ("interruption", round(start, 2))
        if key in self._reported:
            return key
        slack = self.settings.vad.channels_onset_shift_ms / 1000 + 2 * FRAME_S
        near = [k for k in self._reported if k[0] == "interruption" and abs(k[1] - start) <= slack]
        return min(near, key=lambda k: abs(k[1] - start)) if near else key

    def _settle_acoustic(
        self,
        agent: Track,
        segments: Sequence[SpeechSegment],
        open_from: dict[str, float | None],
        heard: set[tuple],
        rules: FloorRules,
        language: str,
    ) -> None:
        """Alerts by sound whose agent stretch is over and transcribed: kept when the rule
        with words finds the interruption too (``heard``), else withdrawn with the reason."""
        speaker = f"channel_{agent.channel}"
        for key, start in list(self._acoustic.items()):
            end = stretch_end(segments, speaker, start)
            if end <= start:
                continue  # out of the window: the stored report decides
            going = open_from.get(agent.name)
            if going is not None and going <= end + 1e-6:
                continue
            utts = [
                u
                for u in self.utterances
                if u.track == agent.name and u.start < end and u.end > start
            ]
            if not all(u.done for u in utts):
                continue
            del self._acoustic[key]
            if key in heard:
                continue
            words = [w for u in utts for w in u.words]
            if not words:
                reason = "no word was recognised in the agent's speech"
            elif len(words) <= rules.backchannel_max_words:
                reason = "the agent's words are a backchannel"
            else:
                reason = "an overlap in a closing exchange (thanks and goodbyes)"
            self._withdraw(
                "interruption",
                start,
                {
                    "agent_start": round(start, 3),
                    "agent_end": round(end, 3),
                    "quote": self._scrub(join_words(words, language)),
                    "reason": reason,
                },
            )

    def _interruption_candidate(self, utt: Utterance) -> bool:
        """Whether agent utterance ``utt`` may be an interruption that only its words can still
        settle: long enough to take the floor and over customer speech that started before it
        by more than ``simultaneous_start_s``, for ``min_overlap_s`` or more. Its transcription
        goes to the head of the line, so the alert is not held up behind other calls' backlog
        (such utterances are few: a call cannot take the line by them)."""
        if self.mixed or utt.role != "agent":
            return False
        rubric = self._rubric()
        practice = rubric.practices.get("let_finish")
        if practice is None or not practice.enabled:
            return False
        rules = FloorRules.of(rubric, practice)
        if utt.end - utt.start < rules.backchannel_max_s:
            return False
        segments, _ = self._live_segments(utt.start - self.options.max_utterance_s)
        for s in segments:
            if s.channel != 1 or utt.start - s.start <= rules.simultaneous_start_s:
                continue
            if min(s.end, utt.end) - max(s.start, utt.start) >= rules.min_overlap_s:
                return True
        return False

    def _customer_track(self) -> str | None:
        return next((tr.name for tr in self.tracks.values() if tr.role == "customer"), None)

    def _live_segments(self, horizon: float) -> tuple[list[SpeechSegment], dict[str, float | None]]:
        """The speech of both tracks since ``horizon`` as segments (``channel_0`` agent,
        ``channel_1`` customer): closed utterances (cut at their talker's own pauses where the
        other party started in one, as the batch pipeline's segments), and per track the span
        in progress up to the track's end so far; and per track where its span in progress
        starts (``None``: not talking). The start of a span in progress is final (the VAD's
        padding rule, clipped at the previous span), only its end grows."""
        open_from: dict[str, float | None] = {}
        in_progress = []
        for tr in self.tracks.values():
            start = self._open_start(tr)
            open_from[tr.name] = start
            end = tr.vad.open_end(tr.seconds)
            if start is not None and end > start:
                in_progress.append(SpeechSegment(start, end, f"channel_{tr.channel}", tr.channel))
        segments = self._closed_segments(
            [u for u in self.utterances if u.end > horizon],
            [(tr.channel, open_from[tr.name]) for tr in self.tracks.values()],
        )
        return sorted(segments + in_progress, key=lambda s: (s.start, s.end)), open_from

    def _closed_segments(
        self,
        utterances: Sequence[Utterance],
        open_starts: Sequence[tuple[int, float | None]] | None = None,
    ) -> list[SpeechSegment]:
        """``utterances`` as segments, each cut at its talker's own pauses that the other
        party started speaking in (:class:`~calmline.pipelines.live.pauses.PauseCutter`; the
        other party's onsets: its utterances' starts and its speech in progress, per channel
        in ``open_starts`` when the caller has them)."""
        if self._pauses is None:
            return [
                SpeechSegment(u.start, u.end, f"channel_{u.channel}", u.channel) for u in utterances
            ]
        onsets: dict[int, list[float]] = {0: [], 1: []}
        for u in self.utterances:
            onsets[u.channel].append(u.start)
        if open_starts is None:
            open_starts = [(tr.channel, self._open_start(tr)) for tr in self.tracks.values()]
        for channel, start in open_starts:
            if start is not None:
                onsets[channel].append(start)
        return [
            SpeechSegment(a, b, f"channel_{u.channel}", u.channel)
            for u in utterances
            for a, b in self._pauses.cut(u.channel, u.start, u.end, onsets[1 - u.channel])
        ]

    def _settled(
        self, agent: Track, event: Interruption, open_from: dict[str, float | None]
    ) -> bool:
        """Whether the agent's stretch of ``event`` is over (no speech in progress continues
        it) and every utterance in it is transcribed."""
        stretch = event.stretch
        start = open_from.get(agent.name)
        if start is not None and start <= stretch.end + 1e-6:
            return False
        return all(
            u.done
            for u in self.utterances
            if u.track == agent.name and u.start < stretch.end and u.end > stretch.start
        )


def stretch_end(segments: Sequence[SpeechSegment], speaker: str, start: float) -> float:
    """End of ``speaker``'s stretch that starts at ``start``: their segments (sorted by start)
    from there on, joined while they touch or overlap (``monitor.floor.stretches``, join gap 0)."""
    end = start
    for s in segments:
        if s.speaker != speaker or s.end <= end:
            continue
        if s.start > end + 1e-9 and end > start:
            break
        if s.start <= end + 1e-9 or s.start == start:
            end = max(end, s.end)
    return end
