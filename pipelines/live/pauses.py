"""A two-track live call's speech cut at the talker's own pauses, as the batch pipeline cuts it.

The batch pipeline's segments of a stereo call are its speech spans cut where the talker paused
(0.2 s or more under the VAD's threshold, the level near the channel's floor) and the other
party started in that pause (``monitor.pauses.split_at_pauses``): who holds the floor there
depends on the pause, so the interruption rule must see it. The VAD bridges such a pause, so a
live utterance runs through it. :class:`PauseCutter` cuts a closed utterance the same way from
what the live call has: the probabilities its span engine read (the crosstalk gate's, copy
frames at 0), the tracks' evidence (levels, copy frames) and the other party's onsets so far.
Only an utterance that the other party started speaking in is examined, so an ordinary call
costs nothing; the noise floor is the call's so far (the batch pipeline's is the whole call's).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from calmline.models.vad_spans import StreamingVad
from calmline.monitor.crosstalk import CrosstalkOptions, crosstalk_frames
from calmline.monitor.pauses import ONSET_AFTER_S, split_at_pauses
from calmline.monitor.settings import Settings
from calmline.pipelines.live.onsets import OnsetRefiner
from calmline.pipelines.live.tracks import Track


class PauseCutter:
    """Cuts closed utterances of a two-track call at their talker's own pauses.

    Args:
        refiner: the call's evidence as it grows (channel 0 = agent, 1 = customer).
        vads: the two tracks' VADs, in channel order.
        settings: ``vad.channels_threshold``, ``vad.channels_onset_margin_db``, ``crosstalk``.
    """

    def __init__(
        self, refiner: OnsetRefiner, vads: tuple[StreamingVad, StreamingVad], settings: Settings
    ) -> None:
        self.refiner = refiner
        self.vads = vads
        self.threshold = settings.vad.channels_threshold
        self.margin_db = settings.vad.channels_onset_margin_db
        self.options = CrosstalkOptions.of(settings.crosstalk)
        self._cache: dict[tuple, list[tuple[float, float]]] = {}

    @classmethod
    def of_call(
        cls, refiner: OnsetRefiner | None, tracks: Iterable[Track], settings: Settings
    ) -> PauseCutter | None:
        """The cutter of a call with an agent and a customer track, else ``None``."""
        if refiner is None:
            return None
        by_role = {t.role: t for t in tracks}
        return cls(refiner, (by_role["agent"].vad, by_role["customer"].vad), settings)

    def cut(
        self, channel: int, start: float, end: float, onsets: Sequence[float]
    ) -> list[tuple[float, float]]:
        """The utterance ``start``-``end`` (s) of ``channel``, cut at each pause of its own that
        one of the other party's ``onsets`` falls in (or within ``ONSET_AFTER_S`` after)."""
        inside = tuple(sorted(o for o in onsets if start < o <= end + ONSET_AFTER_S))
        if not inside:
            return [(start, end)]
        key = (channel, start, end, inside)
        known = self._cache.get(key)
        if known is not None:
            return known
        self.refiner.update()
        k = self.refiner.frames
        ev = self.refiner.evidence(0, k)
        copy = crosstalk_frames(ev, self.options)[channel] if self.options.enabled else None
        pieces = split_at_pauses(
            [(start, end)],
            self.vads[channel].fed_probabilities(),
            ev.level_db[channel],
            copy,
            self.threshold,
            self.margin_db,
            onsets=inside,
        )
        self._cache[key] = pieces
        return pieces
