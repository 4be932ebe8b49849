"""Onsets of a stereo live call's speech spans, moved back to the talker's own level rise.

The batch pipeline's ``refine_onsets`` (``monitor.crosstalk``) on the audio a live call has so
far: Silero is late on a talker's onset after silence, so a span's start moves back over the
frames right before it where the channel's telephone-band level is the talker's own (over the
channel's noise floor by ``vad.channels_onset_margin_db``, within 25 dB of the span's loudest
frame, not the other party's copy), never into the channel's previous span and by
``vad.channels_onset_shift_ms`` at most. The per-frame evidence (level of each track, the two
tracks' best-lag correlation) is computed once per frame as both tracks' audio arrives, with the
same function and frame grid as the batch pipeline's; the noise floor is taken over the call so
far (the batch pipeline takes it over the whole call: early in a call the two may differ).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from calmline.monitor.crosstalk import (
    FRAME,
    CrosstalkOptions,
    Evidence,
    crosstalk_frames,
    evidence_frames,
    evidence_reach,
    refine_onsets,
)
from calmline.monitor.settings import Settings
from calmline.monitor.types import SAMPLE_RATE
from calmline.pipelines.live.tracks import Growing, Track


class OnsetRefiner:
    """The evidence of a two-track call so far and the refined onsets of its spans.

    Args:
        audio: the two tracks' 16 kHz audio as it grows (channel 0 = agent, 1 = customer).
        settings: ``vad.channels_onset_*`` and ``crosstalk.*``.
    """

    def __init__(self, audio: tuple[Growing, Growing], settings: Settings) -> None:
        v = settings.vad
        self.options = CrosstalkOptions.of(settings.crosstalk)
        self.max_shift_s = v.channels_onset_shift_ms / 1000
        self.margin_db = v.channels_onset_margin_db
        self.audio = audio
        self._reach = evidence_reach(self.options)
        self._back = -(-self._reach // FRAME)  # whole frames before a block that it reads
        self._level = (Growing(4096, np.float64), Growing(4096, np.float64))
        self._corr = Growing(4096, np.float64)
        self._lag = Growing(4096, np.float64)

    @classmethod
    def of_tracks(cls, tracks: Iterable[Track], settings: Settings) -> OnsetRefiner | None:
        """The refiner of a call with an agent and a customer track, else ``None`` (a mixed
        track: the batch pipeline refines only a stereo call's channels)."""
        by_role = {t.role: t for t in tracks}
        if not {"agent", "customer"} <= by_role.keys():
            return None
        return cls((by_role["agent"].audio, by_role["customer"].audio), settings)

    @property
    def frames(self) -> int:
        """Frames whose evidence is final."""
        return self._corr.size

    def update(self, final: bool = False) -> None:
        """Evidence of every frame that both tracks' audio now reaches past by the evidence's
        reach (at the end of the call: every frame, zeros after the audio)."""
        n = min(a.size for a in self.audio)
        if final:
            n = max(a.size for a in self.audio)
            f1 = -(-n // FRAME)
        else:
            f1 = max((n - self._reach) // FRAME, 0)
        f0 = self.frames
        if f1 <= f0:
            return
        base = max(f0 - self._back, 0)
        lo, hi = base * FRAME, f1 * FRAME + self._reach
        piece = np.zeros((2, hi - lo), dtype=np.float32)
        for c, a in enumerate(self.audio):
            x = a.view(lo, hi)
            piece[c, : x.shape[0]] = x
        ev = evidence_frames(piece, f0 - base, f1 - base, self.options)
        for c in (0, 1):
            self._level[c].append(ev.level_db[c])
        self._corr.append(ev.correlation)
        self._lag.append(ev.lag_ms)

    def evidence(self, lo: int, hi: int) -> Evidence:
        """The evidence of frames ``lo``-``hi`` (final ones: ``hi`` <= :attr:`frames`)."""
        return Evidence(
            np.stack([self._level[0].view(lo, hi), self._level[1].view(lo, hi)]),
            self._corr.view(lo, hi),
            self._lag.view(lo, hi),
        )

    def covers(self, t: float) -> bool:
        """Whether the evidence reaches past call time ``t`` (s), as it does once the audio is a
        frame and the evidence's reach past it."""
        if self.frames * FRAME <= t * SAMPLE_RATE:
            self.update()
        return self.frames * FRAME > t * SAMPLE_RATE

    def refine(
        self, channel: int, start: float, end: float, previous_end: float, final: bool = False
    ) -> float:
        """Start of the span ``start``-``end`` (s) of ``channel`` moved back to its talker's level
        rise, never before ``previous_end`` (the end of the channel's previous span); ``final``:
        the call's audio is all in."""
        if self.max_shift_s <= 0:
            return start
        self.update(final)
        k = self.frames
        if k * FRAME <= start * SAMPLE_RATE:
            return start  # the audio before the span is not judged yet
        ev = self.evidence(0, k)
        if self.options.enabled:
            copy = crosstalk_frames(ev, self.options)[channel]
        else:
            copy = np.zeros(k, dtype=bool)
        spans = [(previous_end, previous_end), (start, end)] if previous_end > 0 else [(start, end)]
        moved = refine_onsets(spans, ev.level_db[channel], copy, self.max_shift_s, self.margin_db)
        return moved[-1][0]


class OnsetsMixin:
    """Part of :class:`~calmline.pipelines.live.session.StreamingSession` (its state lives
    there): the onsets of its spans, closed and in progress."""

    def _onset(self, tr: Track, start: float, end: float) -> float:
        """Where the speech of ``tr``'s span ``start``-``end`` began: ``start`` moved back to the
        talker's level rise (:class:`~calmline.pipelines.live.onsets.OnsetRefiner`)."""
        if self._onsets is None:
            return start
        previous = next((u.end for u in reversed(self.utterances) if u.track == tr.name), 0.0)
        return self._onsets.refine(tr.channel, start, end, previous, final=self.closed)

    def _open_start(self, tr: Track) -> float | None:
        """Start of ``tr``'s span in progress, moved back to the level rise as its utterance's
        will be (refined once, when first asked), or ``None`` outside speech."""
        start = tr.vad.open_start()
        if start is None or self._onsets is None:
            return start
        known = self._open_onsets.get(tr.name)
        if known is None or known[0] != start:
            if not self._onsets.covers(start):
                return start  # its level rise is not judged yet
            known = (start, self._onset(tr, start, tr.seconds))
            self._open_onsets[tr.name] = known
        return known[1]
