"""The live transcription worker: one queue per call, windows of one call each, calls in turn."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from calmline.monitor.types import SAMPLE_RATE, Word
from calmline.pipelines.live.types import StreamError, StreamingOptions, Utterance

if TYPE_CHECKING:
    from calmline.pipelines.live.session import StreamingSession

logger = logging.getLogger("calmline.pipelines.live")


@dataclass(slots=True)
class Job:
    session: StreamingSession
    utt: Utterance
    samples: np.ndarray
    """float32 (n,) at 16 kHz: the utterance's audio."""

    @property
    def seconds(self) -> float:
        return self.samples.shape[0] / SAMPLE_RATE


_Result = tuple[tuple[Word, ...], str | None]
"""An utterance's words (call time) and the error that kept it from being transcribed."""


class AsrScheduler:
    """The utterances waiting for the recogniser, one queue per call, served round-robin.

    A recogniser window never holds audio of two calls: :meth:`take` returns windows that are
    each made of one call's utterances (both its tracks, several utterances in time order, up to
    ``pack_max_s`` of audio with ``pack_gap_s`` of silence between them). Calls are served in
    turn: the call at the head of the line gives one window and goes to the back, so a call with
    a backlog (a client streaming faster than real time, a long monologue cut into pieces) gets
    one window per round like every other waiting call and cannot starve them. Not thread-safe:
    :class:`AsrWorker` holds its lock around every call.
    """

    def __init__(self, pack_max_s: float, pack_gap_s: float) -> None:
        self.pack_max_s = pack_max_s
        self.pack_gap_s = pack_gap_s
        self._queues: dict[int, deque[Job]] = {}
        self._order: deque[int] = deque()  # calls with work, in service order

    def put(self, job: Job, urgent: bool = False) -> None:
        """Queue ``job`` behind the earlier utterances of its call; ``urgent``: the call moves to
        the head of the line (its next window decides an alert that waits for these words)."""
        key = id(job.session)
        q = self._queues.get(key)
        if q is None:
            q = self._queues[key] = deque()
            self._order.append(key)
        q.append(job)
        if urgent:
            self._order.remove(key)
            self._order.appendleft(key)

    def pending(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def sessions(self) -> list[StreamingSession]:
        """The calls with utterances waiting."""
        return [q[0].session for q in self._queues.values() if q]

    def drop(self, session: StreamingSession) -> list[Job]:
        """Take every waiting utterance of ``session`` out of the line."""
        key = id(session)
        q = self._queues.pop(key, None)
        if key in self._order:
            self._order.remove(key)
        return list(q or ())

    def oldest(self) -> float | None:
        """When the longest-waiting utterance was closed (perf counter), if any waits."""
        return min((q[0].utt.closed_at for q in self._queues.values() if q), default=None)

    def __bool__(self) -> bool:
        return bool(self._order)

    def take(self, calls: int = 1) -> list[list[Job]]:
        """The next windows, one per call, for up to ``calls`` calls at the head of the line.

        Several calls are taken only when each call's language is known and the same (they are
        decoded as rows of one batch, in one language); a call whose language is still unknown
        is decoded alone, one utterance per window, as its language is detected per utterance
        until enough speech has been heard.
        """
        windows: list[list[Job]] = []
        language: str | None = None
        for key in list(self._order)[: max(1, calls)]:
            q = self._queues[key]
            call_language = q[0].session.language
            if windows and (call_language is None or call_language != language):
                break
            language = call_language
            windows.append(self._window(q, alone=call_language is None))
            self._order.remove(key)
            if q:
                self._order.append(key)
            else:
                del self._queues[key]
            if call_language is None:
                break
        return windows

    def _window(self, q: deque[Job], alone: bool) -> list[Job]:
        """One call's waiting utterances in order while they fit in ``pack_max_s``."""
        window = [q.popleft()]
        used = window[0].seconds + self.pack_gap_s
        while q and not alone and used + q[0].seconds + self.pack_gap_s <= self.pack_max_s:
            used += q[0].seconds + self.pack_gap_s
            window.append(q.popleft())
        return window


class AsrWorker:
    """One transcription thread for every live session of a process.

    Whisper encodes a 30 s window whatever the length of the speech in it, so on a CPU the
    encoder, not the speech, sets the cost of a short utterance: while a call's utterances wait,
    the worker packs them (both tracks of the call) into one window, ``pack_gap_s`` of silence
    apart, and hands each its words back by time. A window holds one call only
    (:class:`AsrScheduler`): a word the recogniser times wrongly can at worst land in the other
    party's or the neighbouring utterance of the same call, never in another caller's
    transcript. Where the recogniser decodes batches of windows (faster-whisper's batched
    pipeline, on CUDA), windows of up to ``batch_calls`` calls go through the model together as
    rows of one batch: each row is encoded and decoded on its own, and each segment the batch
    returns names its row, so words come back to their call by construction, not by time. On a
    CPU (sequential decoding) the worker decodes one call's window at a time, calls in turn. A
    packed utterance that comes back without words is decoded again alone, so packing never
    loses an utterance.
    """

    def __init__(self, transcriber: Any, options: StreamingOptions, max_lag_s: float = 0.0) -> None:
        self.transcriber = transcriber
        self.options = options
        self.max_lag_s = max_lag_s
        """Most the worker may fall behind (s, ``live.max_asr_lag_s``); 0 = no bound. From half
        of it on, the newest call with utterances waiting sheds its live transcript
        (:meth:`_shed`)."""
        self._shed_at = 0.0
        self._cv = threading.Condition()
        self._scheduler = AsrScheduler(options.pack_max_s, options.pack_gap_s)
        self._thread: threading.Thread | None = None
        self._stop = False
        self._batched: Any = None
        if getattr(transcriber, "batched", False) and hasattr(transcriber, "model"):
            from faster_whisper import BatchedInferencePipeline

            self._batched = BatchedInferencePipeline(transcriber.model)
        self.batch_calls = options.batch_calls if self._batched is not None else 1
        """Calls decoded together (rows of one batch); 1 with a sequential recogniser."""
        self._inflight: float | None = None
        """When the oldest utterance being decoded was closed (perf counter)."""
        self.stats = {
            "packs": 0,
            "windows": 0,
            "utterances": 0,
            "busy_s": 0.0,
            "judge_s": 0.0,
            "retries": 0,
            "shed_calls": 0,
            "shed_utterances": 0,
        }

    def submit(self, job: Job, urgent: bool = False) -> None:
        """Queue an utterance; ``urgent`` puts its call at the head of the line
        (:meth:`AsrScheduler.put`)."""
        with self._cv:
            if self._stop:
                raise StreamError("the transcription worker is stopped")
            self._scheduler.put(job, urgent)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="calmline-live-asr", daemon=True
                )
                self._thread.start()
            self._cv.notify_all()

    def pending(self) -> int:
        with self._cv:
            return self._scheduler.pending()

    def lag_s(self) -> float:
        """How far the recogniser is behind now (s): how long the oldest utterance queued or
        being decoded has waited since VAD closed it; 0 when nothing waits. Past lags do not
        count: a backlog that was cleared is no reason to turn a new call away from live
        transcription."""
        now = time.perf_counter()
        with self._cv:
            waiting = [t for t in (self._scheduler.oldest(), self._inflight) if t is not None]
        return max(0.0, now - min(waiting)) if waiting else 0.0

    def stop(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _shed(self) -> tuple[StreamingSession, list[Job], float] | None:
        """Past half of ``max_lag_s``, the call that started last among those waiting leaves
        the line: its waiting utterances are dropped and it gets no more live transcription
        (alerts by sound go on; its words come from the batch pipeline after hang-up), so the
        queue is bounded by what the recogniser follows rather than growing through every call.
        Shedding starts at half the bound because the backlog already queued must still drain:
        the lag then stays about within the bound. One call per ``max_lag_s / 8`` (at least
        1 s), so the calls still followed can catch up before the next goes; the last call
        waiting is never shed. Called with the lock held; returns (call, its dropped jobs, lag).
        """
        if not self.max_lag_s:
            return None
        now = time.perf_counter()
        oldest = self._scheduler.oldest()
        lag = now - oldest if oldest is not None else 0.0
        if lag <= self.max_lag_s / 2 or now - self._shed_at < max(1.0, self.max_lag_s / 8):
            return None
        waiting = [s for s in self._scheduler.sessions() if not s.closed]
        if len(waiting) < 2:
            return None  # the only call followed stays followed
        victim = max(waiting, key=lambda s: s.opened)
        self._shed_at = now
        jobs = self._scheduler.drop(victim)
        self.stats["shed_calls"] += 1
        self.stats["shed_utterances"] += len(jobs)
        return victim, jobs, lag

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._scheduler and not self._stop:
                    self._cv.wait()
                if self._stop:
                    return
                shed = self._shed()
                if shed is None:
                    windows = self._scheduler.take(self.batch_calls)
                    self._inflight = min(job.utt.closed_at for w in windows for job in w)
            if shed is not None:
                # outside the worker's lock: the session takes its own (the accepting thread
                # holds the session's lock when it queues an utterance)
                try:
                    shed[0]._shed(shed[1], shed[2])
                except Exception:
                    logger.exception("live session %s failed to shed", shed[0].call_id)
                continue
            t0 = time.perf_counter()
            try:
                results = self._transcribe(windows)
            except Exception as e:  # one bad utterance must not stop every live call
                logger.exception("live transcription failed")
                results = [[((), f"transcription failed: {e}") for _ in w] for w in windows]
            self.stats["busy_s"] += time.perf_counter() - t0
            logger.debug(
                "decoded %d window(s) of %s in %.2f s, %d waiting",
                len(windows),
                ",".join(w[0].session.call_id for w in windows),
                time.perf_counter() - t0,
                self.pending(),
            )
            self.stats["packs"] += 1
            self.stats["windows"] += len(windows)
            t1 = time.perf_counter()
            for window, result in zip(windows, results, strict=True):
                self.stats["utterances"] += len(window)
                for job, (words, error) in zip(window, result, strict=True):
                    try:
                        job.session._transcribed(job.utt, words, error)
                    except Exception:
                        logger.exception(
                            "live session %s failed on a transcript", job.session.call_id
                        )
            self.stats["judge_s"] += time.perf_counter() - t1
            with self._cv:
                self._inflight = None

    def _language(self, job: Job) -> str | None:
        """The call's language: given, detected once from enough speech, else per utterance."""
        session = job.session
        if session.language is not None:
            return session.language
        speech = session._speech_for_detection(job)
        if speech.shape[0] >= self.options.language_min_speech_s * SAMPLE_RATE:
            language, probability = self.transcriber.detect_language(speech)
            session._set_language(language, probability)
            return session.language
        return None

    def _transcribe(self, windows: list[list[Job]]) -> list[list[_Result]]:
        """Words of each utterance of each window (windows of one call each)."""
        if len(windows) == 1:
            return [self._transcribe_window(windows[0])]
        language = windows[0][0].session.language  # the scheduler batches one known language
        laid = [self._lay_out(w) for w in windows]
        heard = self._decode_rows([audio for audio, _ in laid], language)
        return [
            self._hand_back(w, spans, words)
            for w, (_, spans), words in zip(windows, laid, heard, strict=True)
        ]

    def _transcribe_window(self, window: list[Job]) -> list[_Result]:
        language = self._language(window[0])
        audio, spans = self._lay_out(window)
        words = self.transcriber.transcribe(audio, language=language).words
        return self._hand_back(window, spans, words)

    def _lay_out(self, window: list[Job]) -> tuple[np.ndarray, list[tuple[float, float]]]:
        """One call's utterances as one signal, ``pack_gap_s`` apart, a second of silence after
        the last; and where each utterance lies in it (s)."""
        gap = np.zeros(round(self.options.pack_gap_s * SAMPLE_RATE), dtype=np.float32)
        parts: list[np.ndarray] = []
        spans: list[tuple[float, float]] = []
        offset = 0
        for k, job in enumerate(window):
            if k:
                parts.append(gap)
                offset += gap.shape[0]
            spans.append((offset / SAMPLE_RATE, (offset + job.samples.shape[0]) / SAMPLE_RATE))
            parts.append(job.samples)
            offset += job.samples.shape[0]
        parts.append(np.zeros(SAMPLE_RATE, dtype=np.float32))  # a second of silence closes it
        return np.concatenate(parts), spans

    def _hand_back(
        self, window: list[Job], spans: list[tuple[float, float]], words: Sequence[Word]
    ) -> list[_Result]:
        """The words of one call's window, each to the utterance it falls in (:func:`owner`)."""
        mine: list[list[Word]] = [[] for _ in window]
        for w in words:
            k = owner((w.start + w.end) / 2, spans)
            if k is not None:
                mine[k].append(w)
        out: list[_Result] = []
        for job, (a, _), own in zip(window, spans, mine, strict=True):
            if len(window) > 1 and not own and job.samples.shape[0] >= 0.5 * SAMPLE_RATE:
                # Whisper sometimes skips one utterance of a full window: decode it alone
                self.stats["retries"] += 1
                out.append(self._transcribe_window([job])[0])
            else:
                out.append((self._place(own, a, job.utt), None))
        return out

    def _decode_rows(self, rows: list[np.ndarray], language: str) -> list[tuple[Word, ...]]:
        """Words of windows of different calls decoded as rows of one batch of the batched
        pipeline; each word's time is in its own row's signal.

        The rows are laid end to end, each from a whole second on, and given to the pipeline as
        its clips: one clip is one row of the batch, encoded and decoded alone, and every
        segment it returns carries its clip's start (``seek``), which says whose words they are.
        """
        fps = self.transcriber.model.frames_per_second
        starts: list[int] = []
        parts: list[np.ndarray] = []
        at = 0
        for x in rows:
            starts.append(at)
            whole = -(-x.shape[0] // SAMPLE_RATE) * SAMPLE_RATE  # on to the next second
            parts.append(np.pad(x[: 30 * SAMPLE_RATE], (0, whole - min(x.shape[0], whole))))
            at += whole
        clips = [
            {"start": a / SAMPLE_RATE, "end": (a + x.shape[0]) / SAMPLE_RATE}
            for a, x in zip(starts, rows, strict=True)
        ]
        row_of = {int(a / SAMPLE_RATE * fps): k for k, a in enumerate(starts)}
        segments, _ = self._batched.transcribe(
            np.concatenate(parts),
            language=language,
            beam_size=self.transcriber.options.beam_size,
            word_timestamps=True,
            vad_filter=False,
            clip_timestamps=clips,
            batch_size=len(rows),
        )
        out: list[list[Word]] = [[] for _ in rows]
        for segment in segments:
            k = row_of[segment.seek]
            offset, length = starts[k] / SAMPLE_RATE, rows[k].shape[0] / SAMPLE_RATE
            for w in segment.words or ():
                text = w.word.strip()
                start, end = float(w.start) - offset, float(w.end) - offset
                if not text or (start + end) / 2 > length:
                    continue
                if language == "zh":
                    text = self.transcriber._simplified(text)
                start = min(max(start, 0.0), length)
                end = min(max(end, start), length)
                out[k].append(Word(round(start, 3), round(end, 3), text, round(w.probability, 4)))
        return [tuple(ws) for ws in out]

    @staticmethod
    def _place(words: Sequence[Word], offset: float, utt: Utterance) -> tuple[Word, ...]:
        out = []
        for w in words:
            a = utt.audio_start
            start = min(max(a + w.start - offset, a), utt.end)
            end = min(max(a + w.end - offset, start), utt.end)
            out.append(Word(round(start, 3), round(end, 3), w.text, w.prob))
        return tuple(sorted(out, key=lambda w: (w.start, w.end)))


TAIL_S = 0.2
"""A word may end this far after its utterance's end (s); later ones are in the silence."""


def owner(mid: float, windows: Sequence[tuple[float, float]]) -> int | None:
    """Which packed utterance a word belongs to, by the time of its middle.

    Inside a window: that utterance. In the silence between two: the previous utterance when
    within :data:`TAIL_S` of its end, else the next one (Whisper starts the first word after a
    pause early, by up to half a second, and rarely ends one late). After the last window: the
    last utterance within :data:`TAIL_S`, else nobody: words well into the closing silence are
    made up by the recogniser from the silence itself.
    """
    for k, (a, b) in enumerate(windows):
        if mid < a:
            if k and mid <= windows[k - 1][1] + TAIL_S:
                return k - 1
            return k
        if mid < b:
            return k
    return len(windows) - 1 if windows and mid <= windows[-1][1] + TAIL_S else None
