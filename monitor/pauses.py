"""A talker's own short pauses inside a stereo channel's speech spans.

The channel VAD bridges silences shorter than ``vad.channels_min_silence_ms`` (300 ms) so that
a sentence is not cut at every stop consonant; the span then runs on through the talker's own
short pauses. For who holds the floor that matters: a talker who pauses for a quarter of a
second has stopped, and the other party starting in that pause starts in a silence, not over
them (``docs/interruptions.md``, conditions 1 and 2). On the pyannote sample as a two-channel
mix speaker91 pauses for 0.23 s (17.92-18.15 s), speaker90 starts in the pause and speaker91
adds 0.44 s over him; with the pause bridged, speaker91's span ran from 14.5 s to 18.69 s and
speaker90's onset at 18.08 s was counted as a cut-in.

:func:`own_pauses` finds the pauses again from what the VAD read: frames inside a span where
the channel's speech probability (crosstalk removed) is under the VAD's threshold **and** the
channel's own telephone-band level is within ``margin_db`` of its noise floor (or the frame is
the other talker's copy), for at least ``min_pause_s`` in a row. Both are asked for: Silero's
probability decays slowly after a word (on the sample it is still 0.8 at 17.82 s where the
level has fallen 20 dB), and a soft word or a far-field talker can sit near the floor while
Silero still hears speech. ``margin_db`` is the onset rule's (``vad.channels_onset_margin_db``,
6 dB: :func:`calmline.monitor.crosstalk.refine_onsets`): the same test of "the channel's own
talker is sounding", read the other way.

``min_pause_s`` (0.2 s) is the shortest silence that is a pause rather than a stop closure or
the join between two words: Brady (1968) fills silences under 200 ms into the talkspurt. On the
dev part of ``bench/accuracy.py`` the sample's pause is found at 17.89-18.14 s; 0.15-0.25 s and
margins of 3-10 dB give the same events, 0.3 s misses that pause.

:func:`split_at_pauses` cuts the spans at the pauses that matter for the floor: those the other
party starts in (or starts within ``ONSET_AFTER_S`` after). Every other span stays as the VAD
made it, so the segments a call reports change only where the interruption rule needs the finer
timing; on the 28 runs of ``bench/accuracy.py``'s interruption part the sample's pause (in both
formats) is the only one cut.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

import numpy as np

from calmline.monitor.crosstalk import FRAME, noise_floor_db
from calmline.monitor.types import SAMPLE_RATE

FRAME_S = FRAME / SAMPLE_RATE
"""One decision frame (s): the VAD's and the level's."""

MIN_PAUSE_S = 0.2
"""Shortest own pause kept (s); see the module docstring."""

ONSET_AFTER_S = 0.2
"""An onset of the other party this soon after a pause ends starts together with the talker's
resumption: the interruption rule's ``simultaneous_start_s`` (``docs/interruptions.md``)."""


def own_pauses(
    span: tuple[float, float],
    probabilities: np.ndarray,
    level_db: np.ndarray,
    copy: np.ndarray | None,
    threshold: float,
    margin_db: float,
    floor_db: float,
    min_pause_s: float = MIN_PAUSE_S,
) -> list[tuple[float, float]]:
    """The talker's own pauses strictly inside ``span`` (s), in time order.

    Args:
        span: (start, end) of one speech span (s).
        probabilities: float (frames,), the channel's speech probability per frame with the
            other talker's copy set to 0 (:func:`calmline.monitor.crosstalk.own_speech`).
        level_db: float (frames,), the channel's telephone-band level per frame (dBFS).
        copy: bool (frames,), the channel's crosstalk frames, or ``None``.
        threshold: the VAD's speech threshold; a pause frame is under it.
        margin_db: a pause frame's level is at most this much over ``floor_db``.
        floor_db: the channel's noise floor (:func:`calmline.monitor.crosstalk.noise_floor_db`).
        min_pause_s: fewest seconds of such frames in a row that make a pause.
    """
    a, b = span
    n = min(probabilities.size, level_db.size)
    i, j = max(0, int(np.ceil(a / FRAME_S - 1e-6))), min(n, int(b / FRAME_S + 1e-6))
    if j - i < 3:
        return []
    quiet = level_db[i:j] <= floor_db + margin_db
    if copy is not None:
        quiet |= copy[i:j]
    silent = (probabilities[i:j] < threshold) & quiet
    need = int(np.ceil(min_pause_s / FRAME_S - 1e-6))
    out = []
    d = np.diff(np.concatenate([[0], silent.astype(np.int8), [0]]))
    for s, e in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True):
        if e - s >= need and s > 0 and e < silent.size:  # speech on both sides
            out.append((round(float(i + s) * FRAME_S, 3), round(float(i + e) * FRAME_S, 3)))
    return out


def split_at_pauses(
    spans: Sequence[tuple[float, float]],
    probabilities: np.ndarray,
    level_db: np.ndarray,
    copy: np.ndarray | None,
    threshold: float,
    margin_db: float,
    min_pause_s: float = MIN_PAUSE_S,
    onsets: Sequence[float] | None = None,
    onset_after_s: float = ONSET_AFTER_S,
) -> list[tuple[float, float]]:
    """``spans`` cut at the talker's own pauses (:func:`own_pauses`): each pause becomes the
    silence between two spans.

    Args:
        onsets: Where the other party's speech starts (s). Given, only the pauses that one of
            them falls in (from the pause's start to ``onset_after_s`` after its end) are cut:
            those are where who holds the floor depends on the pause, and every other span
            stays as the VAD made it. ``None``: every pause is cut.
        onset_after_s: How long after a pause an onset of the other still counts as starting
            with the talker's resumption (the rule's ``simultaneous_start_s``).

    ``min_pause_s`` 0 or less returns the spans unchanged.
    """
    if min_pause_s <= 0 or not spans:
        return list(spans)
    floor = noise_floor_db(level_db)
    starts = sorted(onsets) if onsets is not None else None
    out: list[tuple[float, float]] = []
    for a, b in spans:
        start = a
        for p0, p1 in own_pauses(
            (a, b), probabilities, level_db, copy, threshold, margin_db, floor, min_pause_s
        ):
            if starts is not None:
                k = bisect_left(starts, p0)
                if k == len(starts) or starts[k] > p1 + onset_after_s:
                    continue
            out.append((start, p0))
            start = p1
        out.append((start, b))
    return out
