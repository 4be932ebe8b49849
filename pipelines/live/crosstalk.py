"""Crosstalk kept out of a two-track live call's speech spans, as the batch pipeline keeps it out.

The batch pipeline sets each channel's VAD probability to 0 on the frames where the channel only
carries the other party (``monitor.crosstalk.own_speech``: correlated with the other channel at a
small lag, quieter by ``crosstalk.min_level_gap_db``, not ahead of it, and the channel's quiet
frames touching such a stretch), then makes spans with the usual rules: a leak can neither start
nor hold a span. :class:`CrosstalkGate` does the same on a live call: each track's Silero
probabilities are held until the two tracks' evidence (the one the onset refiner computes as the
audio arrives) judges their frames, then fed to the track's span engine with the copy frames at 0.

What it costs and where it differs from the batch pipeline:

- **Delay.** A frame is judged once both tracks' audio reaches past it by the evidence's reach,
  and fed ``LOOKAHEAD_FRAMES`` (0.32 s) after that, so that a quiet stretch just before a leak is
  seen touching it (the batch rule spreads a copy over the quiet frames on both sides). Spans
  and the alerts read from them come about 0.4 s later than without the gate.
- **The noise floor** is the call's so far (updated every second), where the batch pipeline
  takes it over the whole call; ``CONTEXT_FRAMES`` (2 s) of evidence before the frames judged
  lets a copy that began earlier spread over a pause.
- **A track that falls behind** (its audio stops arriving while the other's goes on) does not
  stall the other: frames more than ``MAX_WAIT_FRAMES`` (1.5 s) past the judged ones are fed
  unjudged, as a one-party call's would be.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from calmline.models.vad_spans import Span, StreamingVad
from calmline.monitor.crosstalk import CrosstalkOptions, crosstalk_frames, noise_floor_db
from calmline.monitor.settings import Settings
from calmline.pipelines.live.onsets import OnsetRefiner
from calmline.pipelines.live.tracks import Track

LOOKAHEAD_FRAMES = 6
"""Frames (32 ms) judged but not yet fed: a quiet run followed by a copy is part of the copy."""
CONTEXT_FRAMES = 64
"""Frames of evidence before those judged, read with them (a copy that began earlier)."""
MAX_WAIT_FRAMES = 47
"""Frames a track may run ahead of the judged ones before they are fed unjudged (1.5 s)."""
MIN_RELEASE_FRAMES = 8
"""Frames fed at a time at least, while the call goes on (the rule's cost per call)."""
FLOOR_EVERY = 31
"""Frames between two updates of the noise floors (about a second)."""


class CrosstalkGate:
    """The two tracks' probabilities held, judged and fed with the copy frames at 0.

    Args:
        refiner: the call's evidence as it grows (channel 0 = agent, 1 = customer).
        vads: the two tracks' VADs, in channel order; they hold their probabilities from now.
        options: the crosstalk rule (``crosstalk.*``).
    """

    def __init__(
        self,
        refiner: OnsetRefiner,
        vads: tuple[StreamingVad, StreamingVad],
        options: CrosstalkOptions,
    ) -> None:
        self.refiner = refiner
        self.vads = vads
        self.options = options
        for vad in vads:
            vad.hold()
        self._floor: tuple[float, float] = (0.0, 0.0)
        self._floor_at = -FLOOR_EVERY
        self.unjudged = [0, 0]
        """Frames fed without a judgement per channel (the other track was behind)."""

    @classmethod
    def of_call(
        cls, refiner: OnsetRefiner | None, tracks: Iterable[Track], settings: Settings
    ) -> CrosstalkGate | None:
        """The gate of a call with an agent and a customer track (``refiner`` is theirs), else
        ``None`` (a mixed track; ``crosstalk.enabled`` off)."""
        options = CrosstalkOptions.of(settings.crosstalk)
        if refiner is None or not options.enabled:
            return None
        by_role = {t.role: t for t in tracks}
        return cls(refiner, (by_role["agent"].vad, by_role["customer"].vad), options)

    def release(self, final: bool = False) -> list[tuple[int, Span]]:
        """Feed what can be judged now (``final``: the audio is all in, every frame); returns
        (channel, span) of the spans that closed, in the order they ended."""
        ready = [v.frames - v.engine.frames for v in self.vads]
        if not final and max(ready) < LOOKAHEAD_FRAMES + MIN_RELEASE_FRAMES:
            return []
        self.refiner.update(final)
        judged = self.refiner.frames
        upto = judged if final else judged - LOOKAHEAD_FRAMES
        out: list[tuple[int, Span]] = []
        for c, vad in enumerate(self.vads):
            f0 = vad.engine.frames
            f1 = min(upto, vad.frames)
            if f1 - f0 >= (1 if final else MIN_RELEASE_FRAMES):
                out += [(c, s) for s in vad.release(f1 - f0, self._copy(c, f0, f1, judged))]
            late = vad.frames - MAX_WAIT_FRAMES - vad.engine.frames
            if not final and late >= MIN_RELEASE_FRAMES:
                self.unjudged[c] += late
                out += [(c, s) for s in vad.release(late)]
        return sorted(out, key=lambda cs: (cs[1].end, cs[0]))

    def _copy(self, channel: int, f0: int, f1: int, judged: int) -> np.ndarray:
        """bool (f1 - f0): the frames of ``channel`` that carry the other party."""
        if not self.options.enabled:
            return np.zeros(f1 - f0, dtype=bool)
        if judged - self._floor_at >= FLOOR_EVERY or judged < self._floor_at:
            whole = self.refiner.evidence(0, judged)
            self._floor = (noise_floor_db(whole.level_db[0]), noise_floor_db(whole.level_db[1]))
            self._floor_at = judged
        lo = max(f0 - CONTEXT_FRAMES, 0)
        ev = self.refiner.evidence(lo, judged)
        return crosstalk_frames(ev, self.options, self._floor)[channel, f0 - lo : f1 - lo]
