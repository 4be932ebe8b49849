"""Live calls of one process: shared models, one transcription worker, one session per call."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from calmline.models.vad_silero import SileroVad
from calmline.monitor.settings import Settings
from calmline.pipelines.batch import BatchPipeline
from calmline.pipelines.live.asr import AsrWorker
from calmline.pipelines.live.heap import map_large_blocks, release_freed_memory
from calmline.pipelines.live.session import StreamingSession
from calmline.pipelines.live.types import CallMeta, LiveEvent, StreamError, StreamingOptions
from calmline.pipelines.manager import ModelManager


class StreamingPipeline:
    """Live calls of one process: shared models, one transcription worker, one session per call.

    Args:
        settings: Calmline settings (VAD, ASR, measurement, scoring, privacy).
        models: the process's model manager (shared with the batch pipeline).
        batch: the process's batch pipeline; its rubrics and report assembly are reused.
        options: buffering, cutting and packing choices.
    """

    def __init__(
        self,
        settings: Settings,
        models: ModelManager | None = None,
        *,
        batch: BatchPipeline | None = None,
        options: StreamingOptions | None = None,
    ) -> None:
        self.settings = settings
        self.batch = batch or BatchPipeline(settings, models)
        self.models = self.batch.models
        self.options = options or StreamingOptions()
        self._lock = threading.Lock()
        self._worker: AsrWorker | None = None
        self.sessions: dict[str, StreamingSession] = {}
        map_large_blocks()  # the calls' large buffers go back to the system when freed

    def warm_up(self) -> None:
        """Load the models now rather than on the first call."""
        self.vad_model()
        self._asr()

    def vad_model(self) -> SileroVad:
        """The process's Silero VAD, shared with the batch pipeline: every live track runs its
        frames through this one session with its own recurrent state."""
        return self.models.vad()

    def _asr(self) -> AsrWorker:
        with self._lock:
            if self._worker is None:
                transcriber = self.models.transcriber()
                beam = self.options.beam_size or self.settings.live.beam_size
                if hasattr(transcriber, "with_options"):
                    transcriber = transcriber.with_options(
                        beam_size=beam, window_s=self.settings.live.window_s
                    )
                self._worker = AsrWorker(
                    transcriber, self.options, max_lag_s=self.settings.live.max_asr_lag_s
                )
            return self._worker

    def open_session(
        self, meta: CallMeta, on_event: Callable[[LiveEvent], None] | None = None
    ) -> StreamingSession:
        """Start a live call.

        Args:
            meta: the call's facts and track map.
            on_event: called with every event as soon as it exists, from the thread that made
                it (the caller's for ``accept``, the transcription worker's for transcripts and
                findings); it must not block.

        A call that starts while the recogniser is more than ``live.max_asr_lag_s`` behind is
        *degraded*: it gets its alerts by sound live and its transcript after hang-up (see
        :attr:`StreamingSession.degraded`), so the queue never grows past what was followed.

        Raises:
            StreamError: a call with this id is already live.
        """
        with self._lock:
            if meta.call_id in self.sessions:
                raise StreamError(f"call {meta.call_id!r} is already live")
        bound = self.settings.live.max_asr_lag_s
        worker = self._worker
        # beyond what the recogniser follows: this call's words come after hang-up
        degraded = bool(bound) and worker is not None and worker.lag_s() > bound
        session = StreamingSession(self, meta, on_event, degraded=degraded)
        with self._lock:
            self.sessions[meta.call_id] = session
        session._started()
        return session

    def _forget(self, session: StreamingSession) -> None:
        """A call has hung up: it leaves the live sessions, and the memory that calls freed goes
        back to the system (``calmline.pipelines.live.heap``), so back-to-back calls keep the
        process's resident memory flat."""
        with self._lock:
            if self.sessions.get(session.call_id) is session:
                del self.sessions[session.call_id]
        release_freed_memory()

    def needs_cores(self) -> bool:
        """Whether live transcription has an utterance waiting or decoding now: an analysis
        of this process then makes way (``live.batch_yield_s``)."""
        worker = self._worker
        return worker is not None and bool(self.sessions) and worker.lag_s() > 0

    def stats(self) -> dict[str, Any]:
        worker = self._worker
        with self._lock:
            sessions = list(self.sessions.values())
        return {
            "sessions": len(sessions),
            "degraded": sum(1 for s in sessions if s.degraded),
            "asr_lag_s": round(worker.lag_s(), 3) if worker else 0.0,
            "asr_pending": worker.pending() if worker else 0,
            **(dict(worker.stats) if worker else {}),
        }

    def close(self) -> None:
        """Stop the transcription worker (sessions still open get no more transcripts)."""
        if self._worker is not None:
            self._worker.stop()
