"""The end of a live call: flush, wait for its transcripts, and make its report."""

from __future__ import annotations

import heapq
import time
from dataclasses import replace
from typing import Any

import numpy as np

from calmline.monitor.roles import roles_from_channels
from calmline.monitor.types import SAMPLE_RATE, Audio, AudioInfo, CallReport, Word
from calmline.pipelines.batch import AnalyzeRequest
from calmline.pipelines.live.transcripts import joined_words
from calmline.pipelines.live.types import StreamError


class ReportMixin:
    """Part of :class:`~calmline.pipelines.live.session.StreamingSession` (its state lives
    there): hang-up and the stored report, judged exactly like an uploaded file's."""

    def close(
        self, incomplete: bool = False, reason: str | None = None, *, announce: bool = True
    ) -> CallReport:
        """End the call: flush the audio, wait for its transcripts, make the report.

        Args:
            incomplete: the stream stopped before the call ended (the client vanished); the
                report covers what was received and says so.
            reason: why, for the report's warnings.
            announce: emit ``call_ended`` now; a caller that stores the report first passes
                ``False`` and calls :meth:`announce_end` once it is stored.

        Returns:
            The call's report (``incomplete`` set when asked), scored like an uploaded call.
        """
        with self._lock:
            if self.closed:
                if self.report is None:
                    raise StreamError(f"call {self.call_id} is closed")
                return self.report
            self.closed = True
            t_close = time.perf_counter()
            for tr in self.tracks.values():
                while tr.heap:
                    start, _, chunk = heapq.heappop(tr.heap)
                    self._place(tr, start, chunk)
                tail = tr.resampler.push(None)
                if tail.size:
                    self._vad_push(tr, tail)
            # every channel as long as the longest, as in a recorded file
            n = max((tr.audio.size for tr in self.tracks.values()), default=0)
            for tr in self.tracks.values():
                if tr.audio.size < n:
                    self._vad_push(tr, np.zeros(n - tr.audio.size, dtype=np.float32))
            lengths = {}
            for tr in self.tracks.values():
                lengths[tr.name], spans = tr.vad.flush()
                for span in spans:
                    self._utterance(tr, span)
            if self._gate is not None:
                self._gated(self._gate.release(final=True))
            for tr in self.tracks.values():
                for span in tr.vad.finish(lengths[tr.name]):
                    self._utterance(tr, span)
            self._after_audio(final=True)
            deadline = time.monotonic() + self.options.close_timeout_s
            while self._pending and time.monotonic() < deadline:
                self._done_cv.wait(timeout=0.5)
            if self._pending:
                self.warnings.append(
                    f"{self._pending} utterance(s) were not transcribed within "
                    f"{self.options.close_timeout_s:.0f} s of hang-up"
                )
            self._release_held(final=True)
            if not self.degraded:
                self._settle_louder(final=True)
            wait_s = time.perf_counter() - t_close
        try:
            report = self._final_report(incomplete, reason, wait_s)
        finally:
            self.pipeline._forget(self)
        with self._lock:
            self.report = report
        if announce:
            self.announce_end()
        return report

    def post_call_request(self, force: bool = False) -> AnalyzeRequest | None:
        """What the batch pipeline is asked to do with the whole recorded call at hang-up
        (``live.post_call_batch``): the stored two-channel file, agent on channel 0, in the
        language the call was heard in. ``None`` where the live report already is the batch
        pipeline's (one mixed track, or a degraded call with no worker to wait for) or covers an
        interrupted stream (its ``incomplete`` mark and warnings must stay)."""
        report = self.report
        if not force and (self.batch_report or report is None or report.incomplete):
            return None
        return AnalyzeRequest(
            language=self.language, diarization="channels", agent_channel=0, call_id=self.call_id
        )

    def _batch_after_call(self) -> bool:
        """Whether the server queues the recording for the batch pipeline at hang-up."""
        return self.settings.live.post_call_batch and self.settings.jobs.workers > 0

    def announce_end(self, extra: dict[str, Any] | None = None) -> None:
        """Emit ``call_ended`` with the report's score (after :meth:`close`)."""
        with self._lock:
            report = self.report
            if report is None:
                raise StreamError(f"call {self.call_id} has no report yet")
            sc = report.scorecard
            self._emit(
                "call_ended",
                report.metrics.duration,
                {
                    "duration": report.metrics.duration,
                    "incomplete": report.incomplete,
                    "language": report.language,
                    "overall": sc.overall if sc else None,
                    "critical": bool(sc and sc.capped_by),
                    "practices": {p.practice: p.score for p in sc.practices} if sc else {},
                    "alerts": dict(self._alerts),
                    **(extra or {}),
                },
            )

    def audio(self) -> Audio:
        """What was received, at 16 kHz: (2, n) agent/customer, or (1, n) for a mixed track."""
        with self._lock:
            n = max((tr.audio.size for tr in self.tracks.values()), default=0)
            channels = 1 if self.mixed else 2
            samples = np.zeros((channels, n), dtype=np.float32)
            for tr in self.tracks.values():
                data = tr.audio.view(0, n)
                samples[tr.channel, : data.shape[0]] = data
            info = AudioInfo(
                path=f"live:{self.call_id}",
                container="live",
                codec={"mulaw": "pcm_mulaw", "pcm16": "pcm_s16le", "float32": "pcm_f32le"}[
                    self.meta.encoding
                ],
                sample_rate=self.meta.sample_rate,
                channels=channels,
                duration=round(n / SAMPLE_RATE, 3),
                size_bytes=self.received_bytes,
            )
            return Audio(samples=samples, info=info)

    def _final_report(self, incomplete: bool, reason: str | None, wait_s: float) -> CallReport:
        audio = self.audio()
        warnings = list(self.warnings)
        for tr in self.tracks.values():
            rate = self.meta.sample_rate
            if tr.gaps:
                warnings.append(
                    f"track {tr.name}: {tr.gaps} gap(s) in the media timestamps, "
                    f"{tr.gap_samples / rate:.2f} s filled with silence"
                )
            if tr.late:
                warnings.append(
                    f"track {tr.name}: {tr.late} chunk(s) arrived after their time had passed, "
                    f"{tr.late_samples / rate:.2f} s dropped"
                )
            if tr.position == 0:
                warnings.append(f"track {tr.name} ({tr.role}) sent no audio")
        if incomplete:
            warnings.append(
                f"incomplete: {reason or 'the stream ended without a stop message'} after "
                f"{audio.duration:.1f} s; the report covers the audio received"
            )
        batch = self.pipeline.batch
        timings = {"hangup_wait": round(wait_s, 3)}
        if audio.samples.shape[1] == 0:
            raise StreamError(f"call {self.call_id} ended before any audio arrived")
        later = self.degraded and not incomplete and self._batch_after_call()
        if self.mixed or (self.degraded and not later):
            # no live transcript to assemble (a mixed track's roles need the whole call; a
            # degraded call was not transcribed): the batch pipeline now
            request = AnalyzeRequest(language=self.language, call_id=self.call_id)
            if not self.mixed:
                request = self.post_call_request(force=True)
            report = batch.analyze_audio(audio, request, timings=timings)
            report = replace(report, warnings=(*report.warnings, *warnings))
            self.batch_report = True
        else:
            if self.degraded and self.shed_at is None:
                warnings.append(
                    "transcript after the call: the call started while live transcription was "
                    "more than live.max_asr_lag_s behind; this report has no words until the "
                    "batch analysis of the recording replaces it"
                )
            elif self.degraded:
                warnings.append(
                    "transcript after the call: this report has the live words up to "
                    f"{self.shed_at:.1f} s until the batch analysis of the recording replaces it"
                )
            segments = sorted(
                self._closed_segments(self.utterances), key=lambda s: (s.start, s.end)
            )
            words_by_channel: dict[int | None, tuple[Word, ...]] = {}
            for channel in (0, 1):
                utts = [u for u in self.utterances if u.channel == channel]
                words_by_channel[channel] = tuple(
                    sorted(
                        joined_words(utts, self.language or "en", by_turn=True),
                        key=lambda w: (w.start, w.end),
                    )
                )
            if not segments:
                warnings.append("no speech found")
            roles = roles_from_channels({0: "channel_0", 1: "channel_1"}, 0)
            report = batch.assemble_report(
                audio,
                segments,
                words_by_channel,
                roles,
                call_id=self.call_id,
                language=self.language or ("en" if not segments else None),
                language_probability=self.language_probability,
                attribution="channels",
                models_used=[
                    self.pipeline.models.vad().info,
                    self.pipeline.models.transcriber().info,
                ],
                warnings=warnings,
                timings=timings,
            )
        return replace(report, incomplete=incomplete)
