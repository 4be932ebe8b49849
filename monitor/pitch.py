"""Fundamental frequency (F0) of telephone speech.

A YIN estimator (de Cheveigné & Kawahara, 2002) computed with FFTs and vectorised over frames:
the difference function of every frame comes from one cross-correlation and two running energy
sums, so a whole block of frames is a handful of array operations. It is meant for measuring
pitch level and range per turn, not for prosody research: there is no path search, only an
octave check of each frame against the median pitch around it, which removes most of the
half-period errors that band-limited speech invites.

Frames are centred on ``i * hop``: frame ``i`` covers ``[i * hop - frame / 2, i * hop + frame / 2)``
(zero outside the signal), so its time is ``i * hop_s`` and a signal of ``n`` samples has
``1 + n // hop`` frames. The difference function compares the frame's first 23 ms with the same
stretch one period later, so the F0 of a frame describes a moment 4-7 ms (depending on the
period) before its centre: well inside a hop, and immaterial for per-turn measurements.

Telephone audio is band-limited to about 300-3400 Hz, so the fundamental itself is often missing
from the signal; YIN works from the periodicity of the waveform, not from a spectral peak at F0,
which is why it suits this band.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import scipy.fft

from calmline.monitor.types import SAMPLE_RATE

_BLOCK_FRAMES = 1024
"""Frames analysed per block: bounds memory (about 8 MB per block at 16 kHz) on long calls."""

_OCTAVE_SLACK = 0.2
"""How much less periodic than ``max_aperiodicity`` an octave neighbour may be and be taken."""

_LEVEL_FLOOR = 1e-10
"""Mean-square floor so digital silence gives a finite level (-100 dBFS)."""


@dataclass(frozen=True, slots=True)
class PitchOptions:
    """Settings of the F0 estimator.

    Attributes:
        frame_s: Analysis frame length (s). Must hold at least two periods of ``f0_min``.
        hop_s: Distance between frame centres (s).
        f0_min: Lowest F0 searched (Hz).
        f0_max: Highest F0 searched (Hz).
        dip_margin: The period is the first dip of the cumulative mean normalised difference
            that comes within this of the frame's deepest dip (YIN's threshold, made relative).
        max_aperiodicity: A frame is voiced only when the normalised difference at the chosen
            period is below this (0 = perfectly periodic, about 1 for white noise).
        min_level_dbfs: A frame is voiced only when its RMS level is at least this (dBFS).
        min_voiced_frames: Voiced runs shorter than this many frames are set unvoiced: an
            isolated periodic-looking frame in a consonant or in noise is mostly an error.
        octave_window_s: Half-width of the window (s) whose median voiced F0 is the reference
            for octave correction; 0 turns the correction off.
    """

    frame_s: float = 0.04
    hop_s: float = 0.01
    f0_min: float = 60.0
    f0_max: float = 400.0
    dip_margin: float = 0.05
    max_aperiodicity: float = 0.4
    min_level_dbfs: float = -60.0
    min_voiced_frames: int = 3
    octave_window_s: float = 0.3

    def frame_samples(self, sample_rate: int) -> int:
        """Frame length in samples at ``sample_rate``."""
        return round(self.frame_s * sample_rate)

    def hop_samples(self, sample_rate: int) -> int:
        """Hop in samples at ``sample_rate``."""
        return max(1, round(self.hop_s * sample_rate))


@dataclass(frozen=True, slots=True, eq=False)
class PitchTrack:
    """F0 and level of consecutive frames ``first_frame .. first_frame + len(f0) - 1``."""

    f0: np.ndarray
    """float32, shape (frames,): F0 in Hz, NaN where the frame is unvoiced."""
    aperiodicity: np.ndarray
    """float32, shape (frames,): YIN normalised difference at the chosen period (0 = periodic)."""
    level_dbfs: np.ndarray
    """float32, shape (frames,): frame RMS level (DC removed), 20*log10(RMS) with full scale 1."""
    first_frame: int
    hop_s: float

    def times(self) -> np.ndarray:
        """Centre time of each frame (s), float64 shape (frames,)."""
        return (self.first_frame + np.arange(self.f0.shape[0])) * self.hop_s


def frame_count(
    n_samples: int, sample_rate: int = SAMPLE_RATE, options: PitchOptions | None = None
) -> int:
    """Number of frames of a signal of ``n_samples`` samples: ``1 + n_samples // hop``."""
    options = options or PitchOptions()
    return 1 + int(n_samples) // options.hop_samples(sample_rate)


def frame_times(
    n_frames: int, sample_rate: int = SAMPLE_RATE, options: PitchOptions | None = None
) -> np.ndarray:
    """Centre times of frames ``0 .. n_frames - 1``.

    Args:
        n_frames: Number of frames, e.g. ``len(estimate_f0(...))``.
        sample_rate: Sample rate of the analysed signal (Hz).
        options: The options the frames were computed with.

    Returns:
        float64, shape (n_frames,): seconds from the start of the signal.
    """
    options = options or PitchOptions()
    return np.arange(n_frames) * (options.hop_samples(sample_rate) / sample_rate)


def estimate_f0(
    samples: np.ndarray, sample_rate: int = SAMPLE_RATE, options: PitchOptions | None = None
) -> np.ndarray:
    """F0 of every frame of a mono signal.

    Args:
        samples: float32, shape (n,): the signal, full scale 1.
        sample_rate: Sample rate (Hz).
        options: Estimator settings; defaults: 40 ms frames, 10 ms hop, 60-400 Hz.

    Returns:
        float32, shape (1 + n // hop,): F0 in Hz per frame, NaN where unvoiced. Frame times come
        from :func:`frame_times`.
    """
    return track_pitch(samples, sample_rate, options).f0


def track_pitch(
    samples: np.ndarray,
    sample_rate: int = SAMPLE_RATE,
    options: PitchOptions | None = None,
    start_frame: int = 0,
    stop_frame: int | None = None,
) -> PitchTrack:
    """F0, aperiodicity and level of frames ``start_frame .. stop_frame - 1`` of a signal.

    Analysing a frame range gives exactly the values the same frames get from analysing the
    whole signal (neighbouring samples are read, not zero-padded), so a caller can analyse only
    the spans it needs.

    Args:
        samples: float32, shape (n,): the signal, full scale 1.
        sample_rate: Sample rate (Hz).
        options: Estimator settings.
        start_frame: First frame to analyse.
        stop_frame: One past the last frame; default: the signal's last frame + 1.

    Returns:
        The frames' track.

    Raises:
        ValueError: When the options cannot work at ``sample_rate`` (frame shorter than two
            periods of ``f0_min``, or ``f0_max`` above a quarter of the sample rate) or the
            signal is not one-dimensional.
    """
    options = options or PitchOptions()
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"expected a mono signal of shape (n,), got shape {x.shape}")
    frame = options.frame_samples(sample_rate)
    hop = options.hop_samples(sample_rate)
    tau_min = max(2, math.floor(sample_rate / options.f0_max))
    tau_max = math.ceil(sample_rate / options.f0_min)
    # The integration window has to span at least one longest period, and lags up to
    # tau_max + 1 are needed for the parabolic refinement at the edge of the search range.
    window = frame - tau_max - 1
    if window < tau_max or options.f0_max > sample_rate / 4:
        raise ValueError(
            f"frame {options.frame_s} s cannot measure {options.f0_min}-{options.f0_max} Hz "
            f"at {sample_rate} Hz"
        )
    n_total = frame_count(x.shape[0], sample_rate, options)
    stop = n_total if stop_frame is None else min(int(stop_frame), n_total)
    start = max(0, int(start_frame))
    n_frames = max(0, stop - start)

    if n_frames == 0:
        empty = np.zeros(0, dtype=np.float32)
        return PitchTrack(empty, empty, empty, first_frame=start, hop_s=hop / sample_rate)

    # Octave correction and the short-run filter look at neighbouring frames, so a range is
    # analysed with enough context on each side to decide its edge frames exactly as a
    # whole-signal analysis would.
    reach = round(options.octave_window_s / options.hop_s)
    context = reach + max(0, options.min_voiced_frames - 1)
    lo, hi = max(0, start - context), min(n_total, stop + context)
    blocks = [
        _yin(
            _frames(x, b0, min(hi, b0 + _BLOCK_FRAMES), frame, hop),
            window,
            tau_min,
            tau_max,
            options,
        )
        for b0 in range(lo, hi, _BLOCK_FRAMES)
    ]
    cand = _Candidates(
        **{
            f.name: np.concatenate([getattr(c, f.name) for c in blocks])
            for f in fields(_Candidates)
        }
    )
    level = cand.level
    loud = level >= options.min_level_dbfs
    voiced = loud & (cand.value < options.max_aperiodicity)
    period = np.where(voiced, cand.period, np.nan)
    if reach > 0:
        # The frame is voiced already; the neighbour only has to be a plausible dip.
        alt_max = options.max_aperiodicity + _OCTAVE_SLACK
        period = _fix_octaves(
            period, cand, loud & (cand.value_lo < alt_max), loud & (cand.value_hi < alt_max), reach
        )
    period[_short_runs(~np.isnan(period), options.min_voiced_frames)] = np.nan
    keep = slice(start - lo, start - lo + n_frames)
    return PitchTrack(
        f0=(sample_rate / period[keep]).astype(np.float32),
        aperiodicity=cand.value[keep].astype(np.float32),
        level_dbfs=level[keep].astype(np.float32),
        first_frame=start,
        hop_s=hop / sample_rate,
    )


@dataclass(frozen=True, slots=True, eq=False)
class _Candidates:
    """Per frame: the chosen period and its octave neighbours, each float64 (frames,)."""

    period: np.ndarray
    """Fractional period of the chosen dip (samples)."""
    value: np.ndarray
    """d' at the chosen dip."""
    period_lo: np.ndarray
    """Dip near twice the period (one octave lower F0), NaN if none."""
    value_lo: np.ndarray
    period_hi: np.ndarray
    """Dip near half the period (one octave higher F0), NaN if none."""
    value_hi: np.ndarray
    level: np.ndarray
    """Frame RMS level (dBFS)."""


def _fix_octaves(
    period: np.ndarray, cand: _Candidates, lo_ok: np.ndarray, hi_ok: np.ndarray, reach: int
) -> np.ndarray:
    """Move frames an octave off their neighbourhood to the octave neighbour that fits.

    Band-limited speech with a strong second harmonic often looks as periodic at half the
    period as at the period, and no single frame can tell them apart. The voice's own recent
    pitch can: each frame is compared with the median voiced log-period within ``reach`` frames
    and, when more than half an octave away, takes its octave neighbour if that dip exists, is
    periodic enough and lies nearer the median.

    Args:
        period: float64 (frames,): chosen period (samples), NaN where unvoiced.
        cand: The frames' candidates.
        lo_ok, hi_ok: bool (frames,): whether the neighbour dips may be used.
        reach: Half-width of the median window (frames).

    Returns:
        float64 (frames,): corrected periods, NaN where unvoiced.
    """
    log_p = np.log2(period)  # NaN where unvoiced
    ref = _running_nanmedian(log_p, reach)
    off = log_p - ref
    lo = np.where(lo_ok, np.log2(cand.period_lo), np.nan) - ref
    hi = np.where(hi_ok, np.log2(cand.period_hi), np.nan) - ref
    with np.errstate(invalid="ignore"):
        far = np.abs(off) > 0.5
        take_lo = far & (off < 0) & (np.abs(lo) < np.abs(off))
        take_hi = far & (off > 0) & (np.abs(hi) < np.abs(off))
    out = period.copy()
    out[take_lo] = cand.period_lo[take_lo]
    out[take_hi] = cand.period_hi[take_hi]
    return out


def _running_nanmedian(x: np.ndarray, reach: int) -> np.ndarray:
    """Median of the non-NaN values within ``reach`` of each position; NaN where there are none.

    Args:
        x: float64 (n,).

    Returns:
        float64 (n,).
    """
    padded = np.pad(x, reach, constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * reach + 1)  # (n, 2r+1) view
    out = np.full(x.size, np.nan)
    # In blocks, so a long call never holds a sorted copy of every window at once.
    for b0 in range(0, x.size, _BLOCK_FRAMES):
        # NaNs sort last, so the median of a row's n valid values sits at (n - 1) // 2, n // 2.
        win = np.sort(windows[b0 : b0 + _BLOCK_FRAMES], axis=1)
        n = np.sum(~np.isnan(win), axis=1)
        rows = np.arange(win.shape[0])
        med = 0.5 * (win[rows, np.maximum(n - 1, 0) // 2] + win[rows, np.maximum(n // 2, 0)])
        out[b0 : b0 + win.shape[0]] = np.where(n > 0, med, np.nan)
    return out


def _short_runs(mask: np.ndarray, min_len: int) -> np.ndarray:
    """Frames in runs of ``True`` shorter than ``min_len``.

    Args:
        mask: bool, shape (frames,).

    Returns:
        bool, shape (frames,).
    """
    if min_len <= 1 or mask.size == 0:
        return np.zeros_like(mask)
    edges = np.diff(mask.astype(np.int8), prepend=0, append=0)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    short = (ends - starts) < min_len
    marks = np.zeros(mask.size + 1, dtype=np.int32)
    np.add.at(marks, starts[short], 1)
    np.add.at(marks, ends[short], -1)
    return np.cumsum(marks[:-1]) > 0


def _frames(x: np.ndarray, first: int, stop: int, frame: int, hop: int) -> np.ndarray:
    """Frames ``first .. stop - 1`` centred on ``i * hop``, zero outside the signal.

    Returns:
        float32, shape (stop - first, frame), a new array.
    """
    lo = first * hop - frame // 2
    hi = (stop - 1) * hop - frame // 2 + frame
    seg = np.zeros(hi - lo, dtype=np.float32)
    a, b = max(lo, 0), min(hi, x.shape[0])
    if b > a:
        seg[a - lo : b - lo] = x[a:b]
    view = np.lib.stride_tricks.sliding_window_view(seg, frame)[::hop]
    return np.array(view, dtype=np.float32)


def _yin(
    frames: np.ndarray, window: int, tau_min: int, tau_max: int, options: PitchOptions
) -> _Candidates:
    """YIN on a block of frames: the period candidates of each frame.

    Args:
        frames: float32, shape (frames, frame_len).
        window: Integration window of the difference function (samples).
        tau_min, tau_max: Search range of the period (samples).
        options: Estimator settings.
    """
    n_frames, frame = frames.shape
    frames = frames - frames.mean(axis=1, keepdims=True, dtype=np.float32)
    power = np.einsum("ij,ij->i", frames, frames) / frame
    level = (10 * np.log10(np.maximum(power, _LEVEL_FLOOR))).astype(np.float32)

    n_lags = tau_max + 2  # lags 0 .. tau_max + 1
    # Cross-correlation of the first `window` samples with the frame at lags 0..n_lags-1:
    # c[tau] = sum_j x[j] x[j + tau]. j + tau < frame, so a circular FFT of length `frame`
    # does not wrap.
    n_fft = scipy.fft.next_fast_len(frame, real=True)
    spec_frame = scipy.fft.rfft(frames, n_fft, axis=1)
    spec_head = scipy.fft.rfft(frames[:, :window], n_fft, axis=1)
    corr = scipy.fft.irfft(np.conj(spec_head) * spec_frame, n_fft, axis=1)[:, :n_lags]

    # Energies of the head window and of the window shifted by each lag, from a running sum.
    csum = np.zeros((n_frames, frame + 1), dtype=np.float64)
    np.cumsum(np.square(frames, dtype=np.float64), axis=1, out=csum[:, 1:])
    energy_head = csum[:, window]  # (frames,)
    energy_lag = csum[:, window : window + n_lags] - csum[:, :n_lags]  # (frames, n_lags)
    diff = np.maximum(energy_head[:, None] + energy_lag - 2.0 * corr, 0.0)  # (frames, n_lags)

    # Cumulative mean normalised difference d'(tau) = d(tau) * tau / sum_{k<=tau} d(k).
    lags = np.arange(n_lags, dtype=np.float64)
    cum = np.cumsum(diff, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cmnd = np.where(cum > 0, diff * lags / cum, 1.0)
    cmnd[:, 0] = 1.0

    search = cmnd[:, tau_min : tau_max + 1]  # (frames, n_search)
    n_search = search.shape[1]
    idx = np.arange(n_search)
    # YIN takes the first dip below a threshold, so that a sub-harmonic (twice the period) that
    # happens to dip a little lower does not win. The threshold follows the frame's deepest dip:
    # on band-limited speech the half period often dips below a fixed threshold while the true
    # period dips far lower, and a fixed threshold would take the half period.
    thr = (search.min(axis=1) + options.dip_margin)[:, None]
    below = search < thr
    first = np.argmax(below, axis=1)
    # The dip is the run of below-threshold lags starting at `first`; take its minimum.
    left_dip = ~below & (idx[None, :] > first[:, None])
    in_dip = (idx[None, :] >= first[:, None]) & (np.cumsum(left_dip, axis=1) == 0)
    best = np.argmin(np.where(in_dip, search, np.inf), axis=1) + tau_min  # (frames,)
    period, value = _refine(cmnd, best)
    # The octave neighbours of the chosen period, for the continuity check in the caller.
    period_lo, value_lo = _dip_near(cmnd, 2 * best, tau_min, tau_max)
    period_hi, value_hi = _dip_near(cmnd, best // 2 + best % 2, tau_min, tau_max)
    return _Candidates(
        period=period,
        value=value,
        period_lo=period_lo,
        value_lo=value_lo,
        period_hi=period_hi,
        value_hi=value_hi,
        level=level,
    )


def _refine(cmnd: np.ndarray, lag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parabolic refinement of a dip of d' at integer ``lag`` (frames,).

    Returns:
        Fractional period (samples) and d' at the dip, float64 each (frames,).
    """
    rows = np.arange(cmnd.shape[0])
    y0, y1, y2 = cmnd[rows, lag - 1], cmnd[rows, lag], cmnd[rows, lag + 1]
    denom = y0 - 2.0 * y1 + y2
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(denom > 0, 0.5 * (y0 - y2) / denom, 0.0)
    return lag + np.clip(shift, -1.0, 1.0), np.clip(y1, 0.0, None)


def _dip_near(
    cmnd: np.ndarray, target: np.ndarray, tau_min: int, tau_max: int
) -> tuple[np.ndarray, np.ndarray]:
    """The deepest dip of d' within 10 % of lag ``target`` (frames,).

    Returns:
        Fractional period (NaN where there is no dip there or it is outside the search range)
        and its d' value (1.0 where none), float64 each (frames,).
    """
    reach = np.maximum(2, np.round(0.1 * target).astype(np.int64))  # (frames,)
    offsets = np.arange(-int(reach.max()), int(reach.max()) + 1)
    lags = target[:, None] + offsets[None, :]  # (frames, width)
    usable = (np.abs(offsets)[None, :] <= reach[:, None]) & (lags >= tau_min) & (lags <= tau_max)
    rows = np.arange(cmnd.shape[0])[:, None]
    vals = np.where(usable, cmnd[rows, np.clip(lags, 0, tau_max)], np.inf)
    pick = np.argmin(vals, axis=1)
    lag = lags[rows[:, 0], pick]
    ok = np.isfinite(vals[rows[:, 0], pick])
    lag = np.where(ok, lag, tau_min)
    period, value = _refine(cmnd, lag)
    # A minimum on the edge of the window is a slope, not a dip.
    prev, nxt = cmnd[rows[:, 0], lag - 1], cmnd[rows[:, 0], lag + 1]
    ok &= (prev > cmnd[rows[:, 0], lag]) & (nxt >= cmnd[rows[:, 0], lag])
    return np.where(ok, period, np.nan), np.where(ok, value, 1.0)
