"""One live call: audio in per track, utterances to the worker, events out."""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from calmline.models.vad_spans import Span, StreamingVad
from calmline.monitor.audio import StreamResampler
from calmline.monitor.redact import redact_text
from calmline.monitor.stress import StressTrajectory
from calmline.monitor.textmatch import PhraseMatcher
from calmline.monitor.types import SAMPLE_RATE, CallReport
from calmline.pipelines.live.asr import Job
from calmline.pipelines.live.crosstalk import CrosstalkGate
from calmline.pipelines.live.floor import FloorMixin
from calmline.pipelines.live.onsets import OnsetRefiner, OnsetsMixin
from calmline.pipelines.live.pauses import PauseCutter
from calmline.pipelines.live.report import ReportMixin
from calmline.pipelines.live.rules import RulesMixin
from calmline.pipelines.live.tracks import LiveTurn, Track
from calmline.pipelines.live.transcripts import TranscriptsMixin
from calmline.pipelines.live.types import (
    CHANNEL_OF_ROLE,
    MAX_JUMPS_LISTED,
    WIDTH,
    CallMeta,
    LiveEvent,
    StreamError,
    Utterance,
    as_float,
)
from calmline.pipelines.live.voice import VoiceMixin

if TYPE_CHECKING:
    from calmline.pipelines.live.pipeline import StreamingPipeline

logger = logging.getLogger("calmline.pipelines.live")


class StreamingSession(
    TranscriptsMixin, RulesMixin, VoiceMixin, FloorMixin, OnsetsMixin, ReportMixin
):
    """One live call. ``accept`` from one thread at a time; events may come from the
    transcription worker's thread too (through ``on_event`` and the outbox)."""

    def __init__(
        self,
        pipeline: StreamingPipeline,
        meta: CallMeta,
        on_event: Callable[[LiveEvent], None] | None,
        *,
        degraded: bool = False,
    ) -> None:
        self.pipeline = pipeline
        self.degraded = degraded
        """Started beyond the recogniser's capacity: no live transcript (alerts by sound only);
        its words come from the batch pipeline after hang-up. Set during the call too, when the
        worker sheds it (:meth:`_shed`)."""
        self.shed_at: float | None = None
        """Call time (s) at which the worker shed the call's live transcript, if it did."""
        self.asr_lag_s: float | None = None
        """This call's latest lag, end of an utterance -> its words (s)."""
        self.meta = meta
        self.call_id = meta.call_id
        self.options = pipeline.options
        self.settings = pipeline.settings
        self.on_event = on_event
        self.started_at = meta.started_at if meta.started_at is not None else time.time()
        self.opened = time.perf_counter()
        self.language: str | None = None
        self.language_probability: float | None = None
        given = meta.language if meta.language not in (None, "auto") else None
        default = self.settings.asr.language
        self.language = given or (default if default != "auto" else None)
        self._lock = threading.RLock()
        self._done_cv = threading.Condition(self._lock)
        self._outbox: deque[LiveEvent] = deque(maxlen=self.options.max_outbox)
        self._seq = itertools.count()
        vad = pipeline.vad_model()
        vad_options = pipeline.models.vad_options()
        if "mixed" not in meta.tracks.values():
            # one party per track: the stereo settings of the batch pipeline's channel_speech
            v = self.settings.vad
            vad_options = replace(
                vad_options,
                threshold=v.channels_threshold,
                min_silence_ms=v.channels_min_silence_ms,
                speech_pad_ms=v.channels_speech_pad_ms,
            )
        self.tracks: dict[str, Track] = {
            name: Track(
                name=name,
                role=role,
                channel=CHANNEL_OF_ROLE[role],
                resampler=StreamResampler(meta.sample_rate),
                vad=StreamingVad(vad, vad_options, self.options.max_utterance_s),
            )
            for name, role in meta.tracks.items()
        }
        self.mixed = any(t.role == "mixed" for t in self.tracks.values())
        self._onsets = OnsetRefiner.of_tracks(self.tracks.values(), self.settings)
        """Onsets moved back to the talker's level rise, as the batch pipeline's stereo spans."""
        self._gate = CrosstalkGate.of_call(self._onsets, self.tracks.values(), self.settings)
        """The other party's leak kept out of each track's spans (two tracks, crosstalk on)."""
        self._pauses = PauseCutter.of_call(self._onsets, self.tracks.values(), self.settings)
        """Utterances cut at their talker's own pauses for the floor rules (two tracks)."""
        self._open_onsets: dict[str, tuple[float, float]] = {}
        """Per track: (start of the span in progress, its refined start), refined once."""
        self.utterances: list[Utterance] = []
        self.turns: list[LiveTurn] = []
        self._pending = 0
        self.closed = False
        self.warnings: list[str] = []
        self.received_bytes = 0
        self._reported: set[tuple] = set()
        self._alerts: dict[str, int] = {}
        self._stress: StressTrajectory | None = None
        self._agitated = False
        self._non_talk_from: float | None = 0.0  # start of the current silence, if reported once
        self._non_talk_said = False
        self._acoustic: dict[tuple, float] = {}
        """Interruption alerts told by sound whose words are still to come: key -> onset."""
        self._louder_by_sound: dict[int, float] = {}
        """Agent turns told louder by sound whose words are still to come: turn -> start."""
        self._acoustic_at = -1.0
        self._floor_cache: tuple[Any, Any] | None = None
        """(rubric, its floor rules): ``let_finish``'s thresholds, made once per rubric."""
        self._matcher: PhraseMatcher | None = None
        self._held: dict[str, Utterance] = {}
        """Per track: a transcript held back while its digit run may go on (``_publish``)."""
        self.report: CallReport | None = None
        self.batch_report = False
        """The report was made by the batch pipeline from the recording (not live words)."""

    # --- public ----------------------------------------------------------------------------------

    @property
    def agent_id(self) -> str:
        return self.meta.agent_id

    @property
    def duration(self) -> float:
        """Audio received so far (s): the longest track."""
        return max((t.seconds for t in self.tracks.values()), default=0.0)

    def accept(self, track: str, samples: np.ndarray, t: float | None = None) -> list[LiveEvent]:
        """Add audio of one track.

        Args:
            track: a track name of ``meta.tracks``.
            samples: float (-1..1) or int16 samples at ``meta.sample_rate``, shape (n,).
            t: call time of the first sample (s), from the media timestamps; ``None`` = right
                after the previous chunk. Chunks may come out of order by up to
                ``reorder_window_s``; a gap is filled with silence, at most
                ``live.max_gap_s`` of it (a larger jump ahead is a warning and the track goes
                on from the new timestamp); audio for a time already played out is dropped.

        Returns:
            The events that became ready since the previous ``accept`` or ``drain`` (none when
            the session has an ``on_event`` callback: events then go only there).

        Raises:
            StreamError: unknown track, bad samples or timestamp, closed session, or a call
                longer than the configured maximum.
        """
        if self.closed:
            raise StreamError(f"call {self.call_id} is closed")
        tr = self.tracks.get(track)
        if tr is None:
            raise StreamError(f"unknown track {track!r}; this call has {sorted(self.tracks)}")
        x = as_float(samples)
        rate = self.meta.sample_rate
        if t is not None and (not math.isfinite(t) or t < 0):
            raise StreamError(f"timestamp must be a non-negative number of seconds, got {t}")
        pos = tr.position if t is None else self._bounded_gap(tr, round(t * rate) - tr.offset)
        limit = self.settings.audio.max_duration_s * rate
        if pos + x.shape[0] > limit:
            raise StreamError(
                f"call {self.call_id} passed the longest accepted call "
                f"({self.settings.audio.max_duration_s:.0f} s)"
            )
        with self._lock:
            tr.received += x.shape[0]
            self.received_bytes += x.shape[0] * WIDTH[self.meta.encoding]
            if x.shape[0]:
                heapq.heappush(tr.heap, (pos, next(self._seq), x))
                tr.newest = max(tr.newest, pos + x.shape[0])
            window = round(self.options.reorder_window_s * rate)
            # in order: at once; ahead of missing audio: once the stream is a window past it
            while tr.heap and (tr.heap[0][0] <= tr.position or tr.newest - tr.position > window):
                start, _, chunk = heapq.heappop(tr.heap)
                self._place(tr, start, chunk)
            self._after_audio()
            self._release_held()
            return self._drain()

    def drain(self) -> list[LiveEvent]:
        """Events that became ready since the previous call (and were not returned yet)."""
        with self._lock:
            return self._drain()

    def snapshot(self, transcript_limit: int = 200) -> dict[str, Any]:
        """The call as a late subscriber should first see it: metrics and transcript so far."""
        with self._lock:
            held = [id(u) for u in self._held.values()]
            done = [u for u in self.utterances if u.done and u.text and id(u) not in held]
            done = done[-transcript_limit:]
            return {
                "call_id": self.call_id,
                "agent_id": self.agent_id,
                "started_at": self.started_at,
                "duration": round(self.duration, 3),
                "language": self.language,
                "closed": self.closed,
                "metrics": self._metrics(),
                "transcript": [self._utterance_payload(u) for u in done],
            }

    def metrics(self) -> dict[str, Any]:
        with self._lock:
            return self._metrics()

    def timestamp_jumps(self, track: str) -> tuple[int, str | None]:
        """How often ``track``'s media timestamps jumped ahead by more than ``live.max_gap_s``,
        and the warning about the latest jump."""
        tr = self.tracks.get(track)
        return (tr.jumps, tr.last_jump) if tr is not None else (0, None)

    # --- audio in --------------------------------------------------------------------------------

    def _bounded_gap(self, tr: Track, pos: int) -> int:
        """``pos`` (source samples on the track's timeline) with a jump of the media timestamps
        past ``live.max_gap_s`` ahead of the newest audio cut to that much silence: the track
        goes on from the new timestamp (its later timestamps are shifted the same way), and the
        jump is a warning, not hours of zeros."""
        rate = self.meta.sample_rate
        max_gap = round(self.settings.live.max_gap_s * rate)
        newest = max(tr.newest, tr.position)
        jump = pos - newest
        if jump <= max_gap:
            return pos
        with self._lock:
            tr.offset += jump - max_gap
            tr.jumps += 1
            tr.last_jump = (
                f"track {tr.name}: the media timestamps jumped {jump / rate:.1f} s ahead after "
                f"{newest / rate:.1f} s of audio; {max_gap / rate:g} s of silence put in "
                "(live.max_gap_s) and the track goes on from the new timestamp"
            )
            if tr.jumps <= MAX_JUMPS_LISTED:
                self.warnings.append(tr.last_jump)
            elif tr.jumps == MAX_JUMPS_LISTED + 1:
                self.warnings.append(f"track {tr.name}: more timestamp jumps, not listed")
        return pos - (jump - max_gap)

    def _place(self, tr: Track, start: int, chunk: np.ndarray) -> None:
        if start > tr.position:
            gap = start - tr.position
            tr.gaps += 1
            tr.gap_samples += gap
            self._feed(tr, np.zeros(gap, dtype=np.float32))
        elif start < tr.position:
            overlap = tr.position - start
            tr.late += 1
            tr.late_samples += min(overlap, chunk.shape[0])
            chunk = chunk[overlap:]
        if chunk.shape[0]:
            self._feed(tr, chunk)

    def _feed(self, tr: Track, x: np.ndarray) -> None:
        tr.position += x.shape[0]
        y = tr.resampler.push(x)
        if y.size:
            self._vad_push(tr, y)

    def _vad_push(self, tr: Track, y: np.ndarray) -> None:
        tr.audio.append(y)
        for span in tr.vad.push(y, self.options.vad_frames):
            self._utterance(tr, span)
        if self._gate is not None:
            self._gated(self._gate.release())

    def _gated(self, spans: list[tuple[int, Span]]) -> None:
        """The spans the crosstalk gate closed, each on its track."""
        by_channel = {t.channel: t for t in self.tracks.values()}
        for channel, span in spans:
            self._utterance(by_channel[channel], span)

    def _utterance(self, tr: Track, span: Span) -> None:
        utt = Utterance(
            index=len(self.utterances),
            track=tr.name,
            role=tr.role,
            channel=tr.channel,
            start=self._onset(tr, span.start, span.end),
            end=span.end,
            speech_end=span.speech_end,
            closed_at=time.perf_counter(),
            heard=span.start,
        )
        self.utterances.append(utt)
        self._join_turn(utt)
        samples = tr.audio.view(round(span.start * SAMPLE_RATE), round(utt.end * SAMPLE_RATE))
        if not self.degraded:
            self._pending += 1
            urgent = self._interruption_candidate(utt)
            self.pipeline._asr().submit(Job(self, utt, samples.copy()), urgent=urgent)
        self._check_interruptions(trigger=utt)
        if utt.role == "agent":
            self._acoustic_interruptions(force=True)
        self._voice_on_close(utt)
        self._emit("metrics", utt.end, {**self._metrics(), "utterance_end": utt.speech_end})

    def _join_turn(self, utt: Utterance) -> None:
        """The turn rule of ``monitor.turns.build_turns``: a speaker's utterance continues their
        last turn when the pause is short and nobody else started talking in between."""
        last = next((t for t in reversed(self.turns) if t.track == utt.track), None)
        if last is not None and self._joins(utt.track, last.end, utt.start):
            last.utterances.append(utt.index)
            last.end = max(last.end, utt.end)
            last.measured = None
            last.sound = None
            utt.turn = self.turns.index(last)
            return
        self.turns.append(LiveTurn(utt.role, utt.track, [utt.index], utt.start, utt.end))
        utt.turn = len(self.turns) - 1

    def _starts_of_others(self, track: str, lo: float, hi: float) -> bool:
        for u in reversed(self.utterances):
            if u.end < lo - self.options.window_s:
                break
            if u.track != track and lo <= u.start < hi:
                return True
        for tr in self.tracks.values():
            if tr.name != track and tr.vad.in_speech and lo <= (tr.vad.start or 0.0) < hi:
                return True
        return False

    def _now(self) -> float:
        """Call time every track has reached (s)."""
        heard = [tr.seconds for tr in self.tracks.values() if tr.position > 0]
        return min(heard) if heard else 0.0

    # --- transcripts in --------------------------------------------------------------------------

    def _joins(self, track: str, end: float, start: float) -> bool:
        """Whether speech starting at ``start`` continues the track's turn that ended at
        ``end`` (``build_turns``' rule)."""
        pause = start - end
        if pause <= 0:
            return True
        others = self._starts_of_others(track, end - 1e-6, start)
        return not others and pause <= self.settings.measure.max_turn_pause_s

    # --- events ----------------------------------------------------------------------------------

    def _scrub(self, text: str | None) -> str | None:
        privacy = self.settings.privacy
        if text and privacy.redact:
            return redact_text(text, privacy.kinds, long_numbers=privacy.long_numbers)
        return text

    def _alert(self, kind: str) -> None:
        self._alerts[kind] = self._alerts.get(kind, 0) + 1

    def _alert_once(self, key: tuple, t: float, data: dict[str, Any]) -> bool:
        """Count and emit the alert ``key[0]`` unless ``key`` was reported already (the judges
        look at a window of the call again after every utterance); whether it was emitted."""
        if key in self._reported:
            return False
        self._reported.add(key)
        self._alert(key[0])
        self._emit(key[0], t, data)
        return True

    def _withdraw(self, alert: str, t: float, data: dict[str, Any]) -> None:
        """Take back an alert told by sound that the rule with words does not hold: uncount
        it and emit ``alert_withdrawn`` (``data``: what it was and why)."""
        self._alerts[alert] = max(0, self._alerts.get(alert, 0) - 1)
        self._emit("alert_withdrawn", t, {"alert": alert, **data})

    def _emit(self, kind: str, t: float, data: dict[str, Any]) -> None:
        event = LiveEvent(
            type=kind,
            call_id=self.call_id,
            agent_id=self.agent_id,
            t=round(float(t), 3),
            data=data,
            emitted_at=time.time(),
            seq=next(self._seq),
        )
        if self.on_event is None:
            self._outbox.append(event)
        else:
            try:
                self.on_event(event)
            except Exception:
                logger.exception("live event subscriber failed for call %s", self.call_id)

    def _drain(self) -> list[LiveEvent]:
        out = list(self._outbox)
        self._outbox.clear()
        return out

    def _started(self) -> None:
        with self._lock:
            self._emit(
                "call_started",
                0.0,
                {
                    "started_at": self.started_at,
                    "tracks": dict(self.meta.tracks),
                    "sample_rate": self.meta.sample_rate,
                    "encoding": self.meta.encoding,
                    "language": self.language,
                    "transcript": "after_call" if self.degraded else "live",
                },
            )
