"""Crosstalk and echo rejection for two-channel calls: each channel keeps only its own talker.

On a stereo call every channel should carry one party, but the other party leaks in: a headset
microphone hears the earpiece, a hybrid or a PBX returns part of the far end, a desk microphone
hears the neighbour. Silero VAD is nearly blind to level (it finds speech at -55 dBFS as readily
as at -20 dBFS), so a leak is marked as speech, transcribed into the wrong channel and counted as
an interruption. A fixed level threshold does not travel from line to line: on six real 8 kHz bank
calls alone the talkers' own speech lies between -35 and -17 dBFS, and a line's gain moves both
its talker and its leak.

What the two channels tell about each other does. Where channel *k* carries only a copy of the
other channel's talker, the copy is

* **correlated** with the other channel at a small lag: a leak is the other signal through a
  short, mostly linear path (band-pass, a few ms of delay), so the normalised cross-correlation
  of the two telephone-band signals, at its best lag within ``max_lag_ms``, is high;
* **late**: the copy follows its source, so the best lag has channel *k* behind (or level with,
  for an electrical leak with no delay);
* **quieter** than its source by the path's loss.

A frame of channel *k* is crosstalk when all three hold (:func:`crosstalk_frames`), and so is a
stretch of the channel at its own noise floor that touches such frames (the source's short
pauses, the tail after a leak). :func:`own_speech_probabilities` sets the VAD's probability of
those frames to 0, and the VAD's span rules run as before. Own speech over the other party's
talk (a real overlap, a backchannel) stays: two different talkers are not correlated, whatever
their levels. The rule looks at both channels alike, so it is the same in both directions.

The figures that chose the thresholds (the six real Harper Valley bank calls, ``bench/pbx.py``
leaking each talker into the other channel at -57 to -49 dBFS with 1-8 ms delay and
telephone-band filtering, as 8 kHz PCM, mu-law and A-law; 32 ms frames, 64 ms windows, lags up
to 16 ms; ``bench/accuracy.py --only der`` reproduces the DER figures):

* frames of planted crosstalk (the other talker speaking, the channel's own silent, 5097):
  best-lag correlation median 0.98-0.99, 5th percentile 0.30 (PCM), 0.38 (mu-law), 0.35
  (A-law); the channel behind its source in 97-98 % of them; 98.5 % end up marked as copy
  (the rest lie mostly in the source talker's short pauses).
* frames where the channel's own talker speaks: the same correlation (the other channel now
  carries *their* leak) but the channel leads and is louder: 0.4 % marked. Without planted
  crosstalk, frames of the two talkers are correlated at median 0.12, 95th percentile 0.25
  (0.38 where both talk at once): none marked.
* a soft talker over the other party's leak: the leak's share of the channel's energy sets the
  correlation (own speech 13 dB above a -53 dBFS leak: median 0.22, maximum 0.41 in
  ``tests/test_telephone_vad.py``), so ``min_correlation`` 0.5 (the leak carries a quarter of
  the window's energy: own speech no more than ~5 dB above it) keeps such speech. 0.35, 0.5
  and 0.7 give the same stereo DER within 0.2 points on the calls above.
* ``min_level_gap_db`` 6 dB is far under the 25-40 dB a leak loses (median level gap 26 dB)
  and keeps the louder channel of a shared noise from being cut. ``floor_margin_db`` 8 dB:
  without the spreading over noise-floor frames, Silero's hangover through the source's short
  pauses leaves 3-5 % of speech as crosstalk false alarm (mu-law: 4.2 %, DER 8.2 % at collar
  0.25); with it 0.15 % (DER 3.4 %).
* Result, with the stereo VAD settings (``vad.channels_*``): stereo DER at collar 0.25 on the
  calls with planted crosstalk, 8 kHz mu-law, 44.4 % (crosstalk false alarm 35.6 % of speech)
  before, 3.4 % (0.15 %) after; PCM 45.0 % -> 3.6 %, A-law 34.3 % -> 3.7 %. On the calls as
  recorded 6.0 % before, 3.7 % after.

``max_lag_ms`` 16 covers headset, sidetone and hybrid paths; a far echo (network echo tens to
hundreds of ms late) is out of its reach, and so is a leak louder than the channel's own talker.

**Onsets** (:func:`refine_onsets`). Silero is late on a talker's onset after silence: on the
pyannote sample as a two-channel mix, speaker90's cut-in at 27.85 s reaches probability 0.3 at
28.42 s on a channel that was digitally silent before it, though the channel is 20-30 dB over
its floor from 27.94 s (the same signal on the other channel, in speech already, is at 0.9):
the overlap the interruption rule sees shrinks from 0.65 s to 0.12 s. A span's start moves back
over the frames right before it that are the channel's own talker by level: at least
``vad.channels_onset_margin_db`` (6 dB) over the channel's noise floor and within 25 dB of the
span's loudest frame (a breath or a line click before a word is not its onset), never over the
other talker's copy (:func:`crosstalk_frames`), never into the previous span, and at most
``vad.channels_onset_shift_ms`` (500 ms). Chosen on the dev part of ``bench/accuracy.py``'s
data (the pyannote sample and the AMI ``train`` excerpts as pair mixes, 16 kHz and mu-law),
the Harper Valley calls watched for stereo DER and crosstalk: margins of 10-25 dB moved the
sample's onset by 0.2 s at most (a gated channel's floor is its own soft speech), shifts of
150-300 ms did not reach it; 450-600 ms with 3-6 dB found it and gave the same figures. On the
Harper Valley calls as 8 kHz mu-law (collar 0.25 / collar 0): DER 3.7 / 11.4 % -> 3.6 / 10.9 %
as recorded, 3.4 / 10.2 % -> 3.5 / 10.2 % with planted crosstalk, crosstalk false alarm 0.15 %
before and after; missed speech 5.9 -> 5.1 % of the segments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.fft

from calmline.monitor.spool import read_span
from calmline.monitor.types import SAMPLE_RATE

FRAME = 512
"""Samples per decision frame at 16 kHz (32 ms): the VAD's frame."""


@dataclass(frozen=True, slots=True)
class CrosstalkOptions:
    """How a channel's frames are judged to be a copy of the other channel.

    Attributes:
        enabled: apply the rule at all.
        window_ms: length of the correlation window centred on each 32 ms frame.
        max_lag_ms: largest delay of the copy behind its source that is searched.
        min_correlation: best-lag normalised cross-correlation at or above which a frame can be
            a copy.
        min_level_gap_db: a copy is at least this much quieter than its source.
        lead_tolerance_ms: the copy may lead its source by at most this much (0 lag = no delay).
        floor_margin_db: frames within this much of the channel's noise floor that touch a
            copy are part of it; 0 turns this off.
    """

    enabled: bool = True
    window_ms: float = 64.0
    max_lag_ms: float = 16.0
    min_correlation: float = 0.5
    min_level_gap_db: float = 6.0
    lead_tolerance_ms: float = 0.5
    floor_margin_db: float = 8.0

    @classmethod
    def of(cls, section: Any) -> CrosstalkOptions:
        """The options of the ``crosstalk`` settings section
        (:class:`calmline.monitor.settings.CrosstalkSettings`)."""
        return cls(
            enabled=section.enabled,
            min_correlation=section.min_correlation,
            min_level_gap_db=section.min_level_gap_db,
            max_lag_ms=section.max_lag_ms,
            floor_margin_db=section.floor_margin_db,
        )


@dataclass(frozen=True, slots=True)
class Evidence:
    """Per-frame evidence of the two channels about each other.

    Attributes:
        level_db: float (2, frames): telephone-band level of each channel (dBFS).
        correlation: float (frames,): best normalised cross-correlation within the lag range.
        lag_ms: float (frames,): the best lag; positive = channel 1 behind channel 0.
    """

    level_db: np.ndarray
    correlation: np.ndarray
    lag_ms: np.ndarray


BAND_HZ = (300.0, 3400.0)
"""The telephone band: what a phone line carries, and all the two channels are compared on."""
_EDGE_HZ = 200.0
"""Width of the band-pass's raised-cosine edges: an impulse response of a few ms."""
RATE = 8_000
"""Analysis rate: the band fits under 4 kHz, so the 16 kHz signal is judged at half its rate."""
_STEP = SAMPLE_RATE // RATE
_FRAME = FRAME // _STEP
"""Samples per decision frame at the analysis rate (32 ms)."""


def telephone_band(x: np.ndarray) -> np.ndarray:
    """``x`` (16 kHz, even length) band-passed to ``BAND_HZ`` and taken to 8 kHz (half length).

    The filter is a mask on the spectrum with raised-cosine edges ``_EDGE_HZ`` wide, so its
    impulse response dies out within a few milliseconds: callers filter a stretch with a margin
    on each side and drop the margins.
    """
    n = x.shape[-1]
    size = scipy.fft.next_fast_len(n, real=True)
    size += size % (2 * _STEP)  # whole samples at the analysis rate
    spectrum = scipy.fft.rfft(np.asarray(x, dtype=np.float64), size)
    keep = size // (2 * _STEP) + 1
    f = np.arange(keep) * SAMPLE_RATE / size
    lo, hi = BAND_HZ
    mask = np.clip((f - (lo - _EDGE_HZ / 2)) / _EDGE_HZ, 0, 1) * np.clip(
        ((hi + _EDGE_HZ / 2) - f) / _EDGE_HZ, 0, 1
    )
    mask = 0.5 - 0.5 * np.cos(np.pi * mask)  # raised-cosine edges, 1 inside the band
    return scipy.fft.irfft(spectrum[:keep] * mask, size // _STEP)[: n // _STEP] / _STEP


def evidence(samples: np.ndarray, options: CrosstalkOptions | None = None) -> Evidence:
    """Level, best-lag correlation and lag of every 32 ms frame of a two-channel signal.

    Both channels are band-passed to the telephone band and judged at 8 kHz. The signal is read
    ``_BLOCK_FRAMES`` frames at a time, with a margin for the filter and the window's reach on
    each side, so memory stays small for a long or file-backed call.

    Args:
        samples: float (2, n) at 16 kHz; an in-memory array or a spooled memmap.
        options: window and lag range.
    """
    options = options or CrosstalkOptions()
    if samples.ndim != 2 or samples.shape[0] != 2:
        raise ValueError(f"crosstalk evidence needs two channels (2, n), got {samples.shape}")
    frames = -(-samples.shape[1] // FRAME)
    win, lag = _window_and_lag(options)
    level, corr, lags = np.empty((2, frames)), np.empty(frames), np.empty(frames)
    for f0 in range(0, frames, _BLOCK_FRAMES):
        f1 = min(f0 + _BLOCK_FRAMES, frames)
        lv, c, lg = _block(samples, f0, f1, win, lag)
        level[:, f0:f1], corr[f0:f1], lags[f0:f1] = lv, c, lg
    return Evidence(level, corr, lags)


def evidence_frames(
    samples: np.ndarray, f0: int, f1: int, options: CrosstalkOptions | None = None
) -> Evidence:
    """The :func:`evidence` of frames ``f0``-``f1`` only, for a signal that is still arriving
    (a live call): ``samples`` must reach :func:`evidence_reach` samples past the end of frame
    ``f1 - 1`` (or end where the signal ends). Frame ``f`` is ``samples[:, f * FRAME : (f + 1) *
    FRAME]``: a piece of a longer signal cut at a frame boundary gives its frames' evidence as
    :func:`evidence` of the whole, from ``evidence_reach`` samples into the piece on."""
    options = options or CrosstalkOptions()
    win, lag = _window_and_lag(options)
    return Evidence(*_block(samples, f0, f1, win, lag))


def _window_and_lag(options: CrosstalkOptions) -> tuple[int, int]:
    """The correlation window (even) and the lag range, in 8 kHz samples."""
    return 2 * round(options.window_ms * RATE / 2000), round(options.max_lag_ms * RATE / 1000)


def evidence_reach(options: CrosstalkOptions | None = None) -> int:
    """Samples (16 kHz) on each side of a frame that its evidence reads: half the window beyond
    the frame, the lag range and the band-pass filter's margin."""
    options = options or CrosstalkOptions()
    win, lag = _window_and_lag(options)
    return (max((win - _FRAME) // 2, 0) + lag + _MARGIN) * _STEP


_BLOCK_FRAMES = 500
"""Frames (16 s) judged at a time; a few MB of working arrays per block."""
_MARGIN = 256
"""Samples (8 kHz, 32 ms) filtered on each side of what a block needs and thrown away."""


def _block(
    samples: np.ndarray, f0: int, f1: int, win: int, lag: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Evidence for frames ``f0``-``f1``: (level (2, k), correlation (k,), lag_ms (k,))."""
    n = samples.shape[1]
    k = f1 - f0
    half = max((win - _FRAME) // 2, 0)
    reach = half + lag + _MARGIN  # 8 kHz samples either side of the block's frames
    lo, hi = (f0 * _FRAME - reach) * _STEP, (f1 * _FRAME + reach) * _STEP  # 16 kHz
    rows = []
    for c in range(2):
        x = np.zeros(hi - lo)
        a, b = max(lo, 0), min(hi, n)
        if b > a:
            x[a - lo : b - lo] = read_span(samples[c], a, b)
        rows.append(telephone_band(x)[_MARGIN:-_MARGIN])
    ya, yb = rows
    reach -= _MARGIN
    level = np.empty((2, k))
    for c, y in enumerate(rows):
        core = y[reach : reach + k * _FRAME].reshape(k, _FRAME)
        level[c] = 10 * np.log10(np.mean(core**2, axis=1) + 1e-12)
    # channel 0 over a window of ``win`` samples centred on the frame, channel 1 over the same
    # window widened by +-lag: cross[m] = sum_t a[t] b[t + m - lag], m = 0 .. 2 lag
    starts = np.arange(k) * _FRAME + reach - half
    wa = ya[starts[:, None] + np.arange(win)[None, :]]
    wb = yb[(starts - lag)[:, None] + np.arange(win + 2 * lag)[None, :]]
    size = scipy.fft.next_fast_len(2 * win + 2 * lag, real=True)
    spec = np.conj(scipy.fft.rfft(wa, size, axis=1)) * scipy.fft.rfft(wb, size, axis=1)
    full = scipy.fft.irfft(spec, size, axis=1)
    cross = full[:, : 2 * lag + 1]
    ea = np.sum(wa**2, axis=1)
    cb = np.concatenate([np.zeros((k, 1)), np.cumsum(wb**2, axis=1)], axis=1)
    eb = cb[:, win : win + 2 * lag + 1] - cb[:, : 2 * lag + 1]
    corr = cross / np.sqrt(ea[:, None] * eb + 1e-20)
    best = np.argmax(corr, axis=1)
    # b[t + m - lag] matches a[t] when channel 1 is channel 0 delayed by m - lag samples
    lag_ms = (best - lag) * 1000 / RATE
    return level, corr[np.arange(k), best], lag_ms


def crosstalk_frames(
    ev: Evidence,
    options: CrosstalkOptions | None = None,
    floor_db: tuple[float, float] | None = None,
) -> np.ndarray:
    """bool (2, frames): where each channel carries a copy of the other (see the module doc).

    A frame is a copy where it is correlated with the other channel, quieter by
    ``min_level_gap_db`` and not ahead of it. A stretch of a channel at its noise floor (within
    ``floor_margin_db`` of it) that touches a copy frame is part of the copy: the source
    talker's own short pauses, where nothing correlates, and the frames after a leak ends.
    ``floor_db``: each channel's noise floor when ``ev`` is a stretch of a longer signal (a
    live call's latest frames); by default taken over ``ev``.
    """
    options = options or CrosstalkOptions()
    correlated = ev.correlation >= options.min_correlation
    tol = options.lead_tolerance_ms
    out = np.zeros(ev.level_db.shape, dtype=bool)
    gap = ev.level_db[0] - ev.level_db[1]
    # channel 1 is the copy: quieter and not ahead of channel 0 (lag >= 0)
    out[1] = correlated & (gap >= options.min_level_gap_db) & (ev.lag_ms >= -tol)
    out[0] = correlated & (-gap >= options.min_level_gap_db) & (ev.lag_ms <= tol)
    if options.floor_margin_db > 0:
        for c in (0, 1):
            floor = noise_floor_db(ev.level_db[c]) if floor_db is None else floor_db[c]
            quiet = ev.level_db[c] <= floor + options.floor_margin_db
            out[c] = _spread(out[c], quiet)
    return out


def noise_floor_db(level_db: np.ndarray) -> float:
    """A channel's noise floor: the ``FLOOR_PERCENTILE`` of its frame levels (digital silence,
    such as a padded end, left out)."""
    live = level_db[level_db > _DIGITAL_SILENCE_DB]
    return float(np.percentile(live, FLOOR_PERCENTILE)) if live.size else _DIGITAL_SILENCE_DB


FLOOR_PERCENTILE = 20.0
"""Percentile of a channel's frame levels taken as its noise floor: on the Harper Valley calls a
channel holds speech 15-45 % of the time, so the 20th percentile is a non-speech frame."""
_DIGITAL_SILENCE_DB = -100.0


def _spread(copy: np.ndarray, quiet: np.ndarray) -> np.ndarray:
    """``copy`` grown over every run of ``quiet`` frames that touches it."""
    out = copy.copy()
    for a, b in _runs(quiet & ~copy):
        if (a > 0 and copy[a - 1]) or (b < copy.size and copy[b]):
            out[a:b] = True
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index runs where ``mask`` is true."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


def own_speech(
    samples: np.ndarray,
    probabilities: list[np.ndarray],
    options: CrosstalkOptions | None = None,
) -> tuple[list[np.ndarray], Evidence, np.ndarray]:
    """:func:`own_speech_probabilities`, with the evidence and the copy frames (bool (2,
    frames); all false when the rule is off) that :func:`refine_onsets` reads."""
    options = options or CrosstalkOptions()
    if len(probabilities) != 2:
        raise ValueError(f"need the probabilities of two channels, got {len(probabilities)}")
    out = [np.array(p, dtype=np.float32) for p in probabilities]
    ev = evidence(samples, options)
    if not options.enabled:
        return out, ev, np.zeros(ev.level_db.shape, dtype=bool)
    copy = crosstalk_frames(ev, options)
    for c in (0, 1):
        k = min(out[c].size, copy.shape[1])
        out[c][:k][copy[c, :k]] = 0.0
    return out, ev, copy


def refine_onsets(
    spans: list[tuple[float, float]],
    level_db: np.ndarray,
    copy: np.ndarray,
    max_shift_s: float,
    margin_db: float,
    peak_range_db: float = 25.0,
) -> list[tuple[float, float]]:
    """Move each span's start back to where the channel's own level rose, by ``max_shift_s``
    at most.

    Silero's probability lags a talker's onset after silence: its recurrent state needs a few
    frames of speech before it passes the threshold, and after digital silence (a gated or
    silence-suppressed line) up to half a second (the pyannote sample's speaker cutting in at
    27.85 s: probability under 0.3 until 28.42 s while the channel is 20-30 dB above its floor
    from 27.94 s). A span's start is moved back over the frames right before it whose
    telephone-band level is at least ``margin_db`` over the channel's noise floor
    (:func:`noise_floor_db`) and that are not the other talker's copy (``copy``), never into the
    previous span. ``max_shift_s`` 0 turns this off.

    Args:
        spans: the channel's speech spans (s), sorted.
        level_db: float (frames,), the channel's level per ``FRAME`` (:class:`Evidence`).
        copy: bool (frames,), the channel's crosstalk frames (:func:`crosstalk_frames`).
        max_shift_s: the most a start moves.
        margin_db: how far over the noise floor a frame's level is to count as the talker's.
    """
    if max_shift_s <= 0 or not spans:
        return list(spans)
    frame_s = FRAME / SAMPLE_RATE
    floor = noise_floor_db(level_db) + margin_db
    own = ~copy[: level_db.size]
    steps = int(max_shift_s / frame_s + 1e-9)
    out: list[tuple[float, float]] = []
    for a, b in spans:
        prev = out[-1][1] if out else 0.0
        i = min(int(a / frame_s + 1e-6), level_db.size)  # the frame holding the start
        peak = float(np.max(level_db[i : max(int(b / frame_s), i + 1)], initial=-np.inf))
        loud = own & (level_db >= max(floor, peak - peak_range_db))
        j = i
        while j > 0 and i - j < steps and loud[j - 1] and (j - 1) * frame_s >= prev:
            j -= 1
        out.append((round(min(a, j * frame_s), 3), b) if j < i else (a, b))
    return out


def own_speech_probabilities(
    samples: np.ndarray,
    probabilities: list[np.ndarray],
    options: CrosstalkOptions | None = None,
) -> list[np.ndarray]:
    """Each channel's VAD speech probabilities with the frames that copy the other set to 0.

    The VAD's own span rules (threshold, hysteresis, minimum speech and silence, padding) then
    run unchanged on the result: a leak cannot start or hold a span, and a frame of own speech
    wrongly taken for a copy inside a span is bridged as a short silence is.

    Args:
        samples: float (2, n) at 16 kHz, the call's two channels (in memory or spooled).
        probabilities: the VAD's per-frame probabilities of channel 0 and channel 1 (one per
            ``FRAME`` samples, as Silero gives them at 16 kHz).
        options: the rule's thresholds; ``enabled=False`` returns copies of the inputs.
    Returns:
        Two float32 arrays, the lengths of ``probabilities``.
    """
    options = options or CrosstalkOptions()
    if len(probabilities) != 2:
        raise ValueError(f"need the probabilities of two channels, got {len(probabilities)}")
    if not options.enabled:
        return [np.array(p, dtype=np.float32) for p in probabilities]
    return own_speech(samples, probabilities, options)[0]
