"""A live call's transcripts: utterances in from the worker, redacted transcript events out.

A digit run said across utterances is redacted whole: a transcript that ends in one is held back
until the speaker's next utterance shows where the run ends.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from calmline.monitor.digits import DigitReader
from calmline.monitor.redact import MAX_GAP_S, redact_word_groups
from calmline.monitor.types import SAMPLE_RATE, Word
from calmline.pipelines.live.asr import Job
from calmline.pipelines.live.types import Utterance

logger = logging.getLogger("calmline.pipelines.live")


class TranscriptsMixin:
    """Part of :class:`~calmline.pipelines.live.session.StreamingSession` (its state lives
    there): transcripts in, transcript events out."""

    def _speech_for_detection(self, job: Job) -> np.ndarray:
        """Closed speech of the call so far (up to 30 s) for language detection."""
        with self._lock:
            parts, total = [], 0
            for u in self.utterances:
                tr = self.tracks[u.track]
                x = tr.audio.view(round(u.audio_start * SAMPLE_RATE), round(u.end * SAMPLE_RATE))
                parts.append(x)
                total += x.shape[0]
                if total >= 30 * SAMPLE_RATE:
                    break
            if not parts:
                return job.samples
            return np.concatenate(parts)[: 30 * SAMPLE_RATE].copy()

    def _set_language(self, language: str, probability: float | None) -> None:
        with self._lock:
            if self.language is None:
                self.language = language
                self.language_probability = probability

    def _transcribed(self, utt: Utterance, words: tuple[Word, ...], error: str | None) -> None:
        with self._lock:
            utt.words = words
            utt.text = join_words(words, self.language or "en")
            utt.done = True
            self._pending -= 1
            self.asr_lag_s = round(time.perf_counter() - utt.closed_at, 3)
            if error:
                self.warnings.append(f"utterance at {utt.start:.2f} s: {error}")
            self._done_cv.notify_all()
            self._publish(utt)
            if self.mixed or not self.language:
                return
            try:
                self._judge(utt)
            except Exception:
                logger.exception("live judging failed for call %s", self.call_id)

    def _shed(self, jobs: Sequence[Job], lag_s: float) -> None:
        """The transcription worker is more than ``live.max_asr_lag_s`` behind and this call
        leaves its line (:meth:`AsrWorker._shed`): its waiting utterances (``jobs``) and its
        later ones are not transcribed live; alerts by sound go on, and its words come from the
        batch analysis of the recording after hang-up. Shown on the feed as ``transcript:
        after_call`` in the next ``metrics`` event, sent now."""
        with self._lock:
            self._pending -= len(jobs)
            self._done_cv.notify_all()
            if self.degraded:
                return
            self.degraded = True
            now = self._now()
            self.shed_at = now
            self.warnings.append(
                f"live transcription stopped at {now:.1f} s, {lag_s:.1f} s behind (more than "
                f"live.max_asr_lag_s): the words after it come from the batch analysis of the "
                "recording"
            )
            self._emit("metrics", now, self._metrics())

    # --- live transcript redaction: a digit run said across utterances is redacted whole -------

    def _publish(self, utt: Utterance) -> None:
        """Emit ``utt``'s transcript, after the track's held one; hold ``utt`` back instead
        while it ends in a digit run that the speaker's next utterance may continue."""
        held = self._held.pop(utt.track, None)
        if held is not None:
            self._emit_transcript(held)
        if self.settings.privacy.redact and not self.closed and digits_at(utt, end=True):
            self._held[utt.track] = utt
        else:
            self._emit_transcript(utt)

    def _release_held(self, final: bool = False) -> None:
        """Emit held transcripts whose digit run can no longer go on: the track moved on more
        than ``MAX_GAP_S`` past the run with no utterance starting in that time (a later
        utterance's transcript releases the held one itself), or the call ended."""
        for track, u in list(self._held.items()):
            end = u.words[-1].end
            tr = self.tracks[track]
            later = next((v for v in self.utterances[u.index + 1 :] if v.track == track), None)
            if later is not None:
                going_on = later.start <= end + MAX_GAP_S
            elif tr.vad.in_speech:
                going_on = (tr.vad.start or 0.0) <= end + MAX_GAP_S
            else:
                going_on = tr.seconds <= end + MAX_GAP_S
            if final or not going_on:
                del self._held[track]
                self._emit_transcript(u)

    def _emit_transcript(self, u: Utterance) -> None:
        payload = self._utterance_payload(u)
        self._emit("transcript", u.start, {**payload, "utterance_end": u.speech_end})

    def _neighbour(self, u: Utterance, step: int) -> Utterance | None:
        """The track's transcribed utterance before (-1) or after (1) ``u``, if it has words."""
        i = u.index + step
        while 0 <= i < len(self.utterances):
            v = self.utterances[i]
            if v.track == u.track:
                return v if v.done and v.words else None
            i += step
        return None

    def _redacted_words(self, u: Utterance) -> tuple[Word, ...]:
        """``u``'s words redacted together with the track's utterances that a digit run goes
        on into (or comes from), and the utterance before them for the words that name it."""
        chain = [u]
        before = self._neighbour(u, -1)
        while before is not None and crosses(before, chain[0]):
            chain.insert(0, before)
            before = self._neighbour(before, -1)
        after = self._neighbour(u, 1)
        while after is not None and crosses(chain[-1], after):
            chain.append(after)
            after = self._neighbour(after, 1)
        groups = ([before.words] if before is not None else []) + [v.words for v in chain]
        privacy = self.settings.privacy
        out = redact_word_groups(groups, privacy.kinds, long_numbers=privacy.long_numbers)
        return out[len(groups) - len(chain) + chain.index(u)]

    def _utterance_payload(self, u: Utterance) -> dict[str, Any]:
        words = u.words
        if self.settings.privacy.redact and words:
            words = self._redacted_words(u)
        return {
            "role": "unknown" if u.role == "mixed" else u.role,
            "track": u.track,
            "start": u.start,
            "end": u.end,
            "text": join_words(words, self.language or "en"),
            "words": [[w.start, w.end, w.text, w.prob] for w in words],
        }


_SENTENCE_END = re.compile(r"[.!?]+$")


def joined_words(
    utts: Sequence[Utterance], language: str, by_turn: bool = False
) -> tuple[Word, ...]:
    """The words of consecutive utterances of one speaker, as one text.

    Each utterance is recognised on its own, so Whisper ends it with a full stop even where
    the speaker only paused ("tomorrow morning." | "or on Thursday"). In English a next
    utterance of the same turn that starts in lower case continues the sentence: the stop is
    dropped, as a recogniser hearing both at once would have written it. Mandarin has no case
    to tell, and keeps its punctuation. ``by_turn``: only join utterances of the same live turn.
    """
    out: list[Word] = []
    previous: Utterance | None = None
    for u in utts:
        if (
            out
            and u.words
            and previous is not None
            and (not by_turn or previous.turn == u.turn)
            and not language.startswith("zh")
            and u.words[0].text[:1].islower()
            and _SENTENCE_END.sub("", out[-1].text)
            and _SENTENCE_END.search(out[-1].text)
        ):
            last = out[-1]
            out[-1] = Word(last.start, last.end, _SENTENCE_END.sub("", last.text), last.prob)
        out.extend(u.words)
        if u.words:
            previous = u
    return tuple(out)


def digits_at(u: Utterance, end: bool) -> bool:
    """Whether ``u``'s words end (``end``) or start with a digit run that may go on across an
    utterance boundary."""
    if not u.words:
        return False
    reader = DigitReader([w.text for w in u.words], [(w.start, w.end) for w in u.words], MAX_GAP_S)
    return reader.trailing_run() if end else reader.leading_run()


def crosses(a: Utterance, b: Utterance) -> bool:
    """A digit run said at the end of ``a`` may go on at the start of ``b`` (same track)."""
    return (
        b.words[0].start - a.words[-1].end <= MAX_GAP_S
        and digits_at(a, end=True)
        and digits_at(b, end=False)
    )


def join_words(words: Sequence[Word], language: str) -> str:
    return ("" if language == "zh" else " ").join(w.text for w in words)
