"""Offline mono diarization from models that ship inside PyPI packages.

Silero VAD finds speech; GE2E embeddings (resemblyzer) of overlapping windows over that speech are
clustered into speakers; each 10 ms frame of speech takes the speaker its covering windows vote
for; short runs are absorbed by their neighbours. No model hub, no network.

The result never overlaps: one speaker per moment of speech.

**How many voices.** When the count is estimated and may be 1, the recording is one voice when
its *cohesion* - the mean cosine similarity between the embeddings of every two windows that lie
wholly inside speech - reaches ``single_voice_cohesion``. Two voices bring in the pairs across
speakers, which are much less alike, and pull the mean down; windows that reach into silence are
left out, because the silence, not the voice, makes them unlike the rest. Measured
(``bench/articulation.py``) on 42 real one-voice recordings (LibriSpeech, JFK, AISHELL, MagicData
readers at 16 kHz and as 8 kHz mu-law, each Harper Valley agent and caller channel alone; 38 with
enough speech for a cohesion) it is 0.722-0.809; on 7 real two-voice conversations (the pyannote
sample, the six Harper Valley calls summed to one 8 kHz channel) 0.597-0.705. The split test
used before (centroids of a forced two-way split at least 0.9 alike) called 16 of the 42
one-voice recordings two voices, 11 of the 12 Harper Valley sides among them: a forced split of
one voice finds halves about as unlike as two people (0.78-0.95 against 0.56-0.89). Held out,
AMI speakers' solo speech: 7 of 7 one voice; two AMI speakers: 1 of 2 (one speaker dominating
keeps the mean high, a known limit).
"""

from __future__ import annotations

import heapq
import logging
import math
from dataclasses import dataclass, field, replace

import numpy as np

from calmline.models.base import SpeakerEmbedder, VoiceActivityDetector, diarization_backends
from calmline.models.embedding_resemblyzer import (
    INSTALL_HINT,
    ResemblyzerEmbedder,
    ResemblyzerOptions,
)
from calmline.models.vad_silero import SileroVad, VadOptions, spans_from_probabilities
from calmline.monitor.errors import BackendUnavailable
from calmline.monitor.types import SAMPLE_RATE, ModelInfo, SpeakerCount, SpeechSegment

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EmbeddedDiarizationOptions:
    """Everything the embedded diarizer can be told.

    Attributes:
        vad: how speech probabilities become speech spans (thresholds, durations, padding).
            These apply to a VAD instance passed in as well; ``vad.device`` is replaced by
            ``device``.
        embedding: how the GE2E encoder is loaded; its ``device`` is replaced by ``device``.
        device: ``auto``, ``cpu`` or ``cuda`` for both the VAD and the encoder.
        window_s: length of one embedding window (s). The encoder was trained on 1.6 s; shorter
            windows give noisier embeddings but let a short reply ("yes", "right") win its own
            windows instead of drowning in the longer turn around it.
        step_s: hop between windows inside a speech span (s); smaller steps give finer speaker
            boundaries and cost proportionally more encoder time.
        frame_s: resolution of the speaker labels (s).
        min_cluster_speech_s: with less speech than this in total, everything is one speaker:
            a handful of windows cannot be told apart reliably.
        pruning: share of neighbours each window keeps in the spectral affinity graph; ``None``
            picks it per call by the normalised maximum eigengap (NME-SC).
        single_voice_cohesion: when the count is estimated and ``min_speakers`` is 1, the
            recording is one voice if the mean cosine similarity of its windows inside speech
            reaches this (module docstring): halfway between the highest two-voice value
            measured (0.705) and the lowest one-voice value (0.722).
        count_confidence_scale: the cohesion distance from ``single_voice_cohesion`` that makes
            the count's confidence 0.73 (a logistic of distance / scale): about the spread
            (standard deviation, 0.023) of the cohesion over the one-voice recordings.
        min_count_windows: fewest windows wholly inside speech for the cohesion; with fewer
            (no stretch of speech as long as a window) every window counts.
        max_cluster_windows: windows used to build the affinity graph; longer calls cluster an
            evenly spaced subset and assign the rest to the nearest centroid, which bounds memory
            (n² affinity) and the eigendecomposition.
        min_segment_s: runs of one speaker shorter than this, inside continuous speech, go to
            the neighbouring speaker with the stronger vote.
        seed: seed of the eigensolver's start vector and of k-means, for reproducible labels.
    """

    vad: VadOptions = field(default_factory=VadOptions)
    embedding: ResemblyzerOptions = field(default_factory=ResemblyzerOptions)
    device: str = "auto"
    window_s: float = 1.2
    step_s: float = 0.3
    frame_s: float = 0.01
    min_cluster_speech_s: float = 2.0
    pruning: float | None = None
    single_voice_cohesion: float = 0.713
    count_confidence_scale: float = 0.02
    min_count_windows: int = 3
    max_cluster_windows: int = 1000
    min_segment_s: float = 0.3
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Diarization:
    """Speaker segments with the count of voices behind them."""

    segments: list[SpeechSegment]
    """As :meth:`EmbeddedDiarizer.diarize` returns them."""
    speaker_count: SpeakerCount


@dataclass(frozen=True, slots=True)
class _Window:
    """One embedding window, in samples; it votes only inside its own speech span."""

    start: int
    end: int
    vote_start: int
    vote_end: int


class EmbeddedDiarizer:
    """Who spoke when in mono audio, with Silero VAD and resemblyzer's GE2E encoder.

    Models are shared read-only; everything belonging to one call stays inside ``diarize``, so
    one instance serves many threads.

    Args:
        options: see ``EmbeddedDiarizationOptions``.
        vad: a VAD to share with the rest of the pipeline; its speech probabilities are turned
            into spans with ``options.vad``. Loaded from ``options.vad`` when omitted.
        embedder: a speaker embedder to share; the resemblyzer encoder when omitted.
    """

    def __init__(
        self,
        options: EmbeddedDiarizationOptions | None = None,
        *,
        vad: VoiceActivityDetector | None = None,
        embedder: SpeakerEmbedder | None = None,
    ) -> None:
        self.options = options or EmbeddedDiarizationOptions()
        o = self.options
        if o.window_s <= 0 or o.step_s <= 0 or o.frame_s <= 0:
            raise ValueError("window_s, step_s and frame_s must be positive")
        if o.step_s > o.window_s:
            raise ValueError("step_s must not exceed window_s, or speech would go unseen")
        if o.max_cluster_windows < 2:
            raise ValueError("max_cluster_windows must be at least 2")
        if embedder is None:
            try:
                embedder = ResemblyzerEmbedder(replace(o.embedding, device=o.device))
            except BackendUnavailable as e:
                raise BackendUnavailable("embedded", INSTALL_HINT) from e
        self._embedder = embedder
        self._vad = vad or SileroVad(replace(o.vad, device=o.device))
        self.info = ModelInfo(
            kind="diarization",
            name=f"embedded ({self._vad.info.name} + {self._embedder.info.name})",
            version=self._embedder.info.version,
            device=self._embedder.info.device,
        )

    @property
    def vad(self) -> VoiceActivityDetector:
        """The VAD in use, for sharing with other stages."""
        return self._vad

    @property
    def embedder(self) -> SpeakerEmbedder:
        """The speaker embedder in use, for sharing with other stages."""
        return self._embedder

    def diarize(
        self,
        samples: np.ndarray,
        *,
        num_speakers: int | None = 2,
        min_speakers: int = 1,
        max_speakers: int = 2,
    ) -> list[SpeechSegment]:
        """Speaker segments of a mono float32 (n,) signal at 16 kHz (see :meth:`diarize_counted`,
        which also says how many voices it found and how sure it is)."""
        return self.diarize_counted(
            samples, num_speakers=num_speakers, min_speakers=min_speakers, max_speakers=max_speakers
        ).segments

    def diarize_counted(
        self,
        samples: np.ndarray,
        *,
        num_speakers: int | None = 2,
        min_speakers: int = 1,
        max_speakers: int = 2,
    ) -> Diarization:
        """Speaker segments of a mono float32 (n,) signal at 16 kHz, and their count.

        Args:
            samples: float32 (n,) at 16 kHz.
            num_speakers: the number of speakers (2 for a phone call); ``None`` estimates it
                between ``min_speakers`` and ``max_speakers``.
            min_speakers: lower bound when estimating.
            max_speakers: upper bound when estimating.

        Returns:
            ``segments``: non-overlapping, sorted by start, inside the signal and inside
            detected speech, labelled ``SPEAKER_00``, ``SPEAKER_01`` … in order of first
            appearance, ``channel=None``; empty for empty or silent audio. Fewer speakers than
            asked come back when there is too little speech to tell them apart (less than
            ``min_cluster_speech_s``, or fewer windows than speakers). ``speaker_count``: the
            number of speakers in ``segments``, how it was decided and, when the cohesion
            decided between one voice and more, how sure that is.
        """
        if samples.ndim != 1:
            raise ValueError("diarization expects a one-dimensional (mono) signal")
        if num_speakers is not None and num_speakers < 1:
            raise ValueError("num_speakers must be at least 1")
        if min_speakers < 1 or max_speakers < min_speakers:
            raise ValueError("need 1 <= min_speakers <= max_speakers")
        n = samples.shape[0]
        estimated = num_speakers is None
        if n == 0:
            return Diarization([], self._count([], estimated, "no_speech"))
        samples = samples.astype(np.float32, copy=False)
        duration = n / SAMPLE_RATE
        probs = self._vad.speech_probabilities(samples)
        spans = spans_from_probabilities(probs, self.options.vad, duration)
        if not spans:
            return Diarization([], self._count([], estimated, "no_speech"))
        windows = self._windows(spans, n)
        speech_s = sum(b - a for a, b in spans)
        if (
            speech_s < self.options.min_cluster_speech_s
            or len(windows) < 2
            or n < round(self.options.window_s * SAMPLE_RATE)
        ):
            one = _relabel([SpeechSegment(a, b, "0") for a, b in spans])
            return Diarization(one, self._count(one, estimated, "too_little_speech"))
        embed_at = getattr(self._embedder, "embed_at", None)
        if embed_at is not None:
            # the windows of a span start a whole number of hops apart (step_s is a multiple of
            # 10 ms), so they share their spectrum frames (ResemblyzerEmbedder.embed_at)
            starts = np.array([w.start for w in windows], dtype=np.int64)
            embeddings = embed_at(samples, starts, windows[0].end - windows[0].start)
        else:
            embeddings = self._embedder.embed([samples[w.start : w.end] for w in windows])
        cohesion = self._cohesion(embeddings, windows)
        labels, method = self._cluster(
            embeddings, num_speakers, min_speakers, max_speakers, cohesion
        )
        logger.debug(
            "%d speech spans, %d windows, %d speakers, cohesion %.3f",
            len(spans),
            len(windows),
            labels.max() + 1,
            cohesion,
        )
        segments = self._segments(spans, windows, labels, n)
        return Diarization(segments, self._count(segments, estimated, method, cohesion))

    # -- how many voices --------------------------------------------------------------------

    def _cohesion(self, embeddings: np.ndarray, windows: list[_Window]) -> float:
        """Mean cosine similarity over all pairs of distinct windows wholly inside speech
        (every window when fewer than ``min_count_windows`` are); unit embeddings (n, dim)."""
        full = np.array([w.vote_end - w.vote_start >= w.end - w.start for w in windows])
        x = embeddings[full] if full.sum() >= self.options.min_count_windows else embeddings
        m = x.shape[0]
        if m < 2:
            return 1.0
        # sum over pairs of x_i . x_j = |sum x|^2 - sum |x_i|^2: O(m) instead of O(m^2)
        total = x.astype(np.float64).sum(axis=0)
        self_pairs = float(np.square(x.astype(np.float64)).sum())
        return float((total @ total - self_pairs) / (m * (m - 1)))

    def _count(
        self,
        segments: list[SpeechSegment],
        estimated: bool,
        method: str,
        cohesion: float | None = None,
    ) -> SpeakerCount:
        """The report's account of how many voices ``segments`` hold."""
        o = self.options
        confidence = None
        if method == "cohesion" and cohesion is not None:
            distance = abs(cohesion - o.single_voice_cohesion) / o.count_confidence_scale
            confidence = round(1.0 / (1.0 + math.exp(-distance)), 3)
        return SpeakerCount(
            count=len({s.speaker for s in segments}),
            estimated=estimated,
            method=method,
            cohesion=round(cohesion, 3) if cohesion is not None else None,
            threshold=o.single_voice_cohesion,
            confidence=confidence,
        )

    # -- windows ----------------------------------------------------------------------------

    def _windows(self, spans: list[tuple[float, float]], n: int) -> list[_Window]:
        """Sliding windows over each speech span; a span shorter than a window gets one window
        centred on it (clipped to the signal), so every span is heard with enough context."""
        win = round(self.options.window_s * SAMPLE_RATE)
        step = round(self.options.step_s * SAMPLE_RATE)
        win = min(win, n)
        out: list[_Window] = []
        for a_s, b_s in spans:
            a = round(a_s * SAMPLE_RATE)
            b = min(round(b_s * SAMPLE_RATE), n)
            if b - a <= win:
                start = min(max((a + b - win) // 2, 0), n - win)
                out.append(_Window(start, start + win, a, b))
                continue
            starts = list(range(a, b - win + 1, step))
            if starts[-1] + win < b:
                # a last window flush with the span end, so its tail is voted on too
                starts.append(b - win)
            out.extend(_Window(s, s + win, s, s + win) for s in starts)
        return out

    # -- clustering -------------------------------------------------------------------------

    def _cluster(
        self,
        embeddings: np.ndarray,
        num_speakers: int | None,
        min_speakers: int,
        max_speakers: int,
        cohesion: float,
    ) -> tuple[np.ndarray, str]:
        """Speaker label per window: int (n,), values 0..k-1, every value used; and how the
        count was chosen: ``fixed``, ``cohesion`` (one voice or more) or ``eigengap``."""
        o = self.options
        n = embeddings.shape[0]
        if n > o.max_cluster_windows:
            subset = np.linspace(0, n - 1, o.max_cluster_windows).round().astype(int)
        else:
            subset = np.arange(n)
        x = embeddings[subset]  # (m, dim)
        m = x.shape[0]
        if num_speakers is not None:
            k_min = k_max = min(num_speakers, m)
        else:
            k_min, k_max = min(min_speakers, m), min(max_speakers, m)
        method = "fixed" if k_min == k_max else "eigengap"
        if k_min == 1 and k_max > 1:
            # the eigengap cannot say "one cluster": the windows' cohesion does
            method = "cohesion"
            if cohesion >= o.single_voice_cohesion:
                k_max = 1
            else:
                k_min = 2
        if k_max == 1:
            labels = np.zeros(m, dtype=int)
        else:
            labels = spectral_clustering(
                x, k_min=k_min, k_max=k_max, pruning=o.pruning, seed=o.seed
            )
        # one k-means step over every window (the subset included): it corrects windows the
        # pruned graph placed badly and places those left out of a long call's graph
        labels = np.argmax(embeddings @ _centroids(x, labels).T, axis=1)
        return np.unique(labels, return_inverse=True)[1], method  # dense 0..k-1

    # -- frames to segments -----------------------------------------------------------------

    def _segments(
        self,
        spans: list[tuple[float, float]],
        windows: list[_Window],
        labels: np.ndarray,
        n: int,
    ) -> list[SpeechSegment]:
        """Label 10 ms frames by the windows' votes, restricted to speech, and cut segments."""
        o = self.options
        hop = max(1, round(o.frame_s * SAMPLE_RATE))
        n_frames = -(-n // hop)
        k = int(labels.max()) + 1
        votes = np.zeros((n_frames, k), dtype=np.float64)  # (frames, speakers)
        for w, label in zip(windows, labels, strict=True):
            f0, f1 = w.vote_start // hop, max(w.vote_start // hop + 1, -(-w.vote_end // hop))
            length = w.end - w.start
            # a window describes its centre best: taper its vote (Hann) over its own extent
            centres = (np.arange(f0, f1) + 0.5) * hop - w.start
            weight = 0.5 - 0.5 * np.cos(2 * np.pi * np.clip(centres / length, 0, 1))
            votes[f0:f1, label] += weight + 1e-3
        speech = np.zeros(n_frames, dtype=bool)
        for a, b in spans:
            speech[int(a * SAMPLE_RATE) // hop : -(-int(b * SAMPLE_RATE) // hop)] = True
        frame_labels = np.where(speech, np.argmax(votes, axis=1), -1)
        frame_labels = _absorb_short_runs(
            frame_labels, votes, max(1, round(o.min_segment_s / o.frame_s))
        )
        segments = []
        frame_s = hop / SAMPLE_RATE
        duration = n / SAMPLE_RATE
        for start, end, label in _runs(frame_labels):
            if label < 0:
                continue
            segments.append(
                SpeechSegment(
                    round(start * frame_s, 3),
                    round(min(end * frame_s, duration), 3),
                    str(label),
                )
            )
        return _relabel(segments)


def spectral_clustering(
    x: np.ndarray,
    *,
    k_min: int,
    k_max: int,
    pruning: float | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Spectral clustering of unit embeddings with the count picked by the eigengap.

    The cosine affinity is pruned to each row's strongest neighbours and binarised, as in
    NME-SC (Park et al., 2019); when ``pruning`` is ``None`` the share kept is the one whose
    normalised maximum eigengap is largest relative to it.

    Args:
        x: float32 (m, dim), unit rows; m >= 2.
        k_min: smallest count to consider (>= 2).
        k_max: largest count to consider (<= m).
        pruning: share of neighbours kept per row, or ``None`` to choose it.
        seed: seed of the eigensolver's start vector and of k-means.

    Returns:
        int (m,) labels in 0..k-1.
    """
    from scipy.cluster.vq import kmeans2

    m = x.shape[0]
    k_max = max(1, min(k_max, m - 1))
    k_min = max(1, min(k_min, k_max))
    similarity = np.clip(x @ x.T, -1.0, 1.0).astype(np.float64)  # (m, m)
    shares = [pruning] if pruning is not None else [float(p) for p in np.linspace(0.05, 0.5, 10)]
    best: tuple[float, np.ndarray, int] | None = None  # (score, eigenvectors, count)
    for share in shares:
        keep = min(m, max(2, int(np.ceil(share * m))))
        laplacian = _laplacian(_prune(similarity, keep))
        values, vectors, largest = _smallest_eigen(laplacian, k_max + 1, seed)
        gaps = np.diff(values)  # gaps[i] = values[i+1] - values[i]
        i = int(np.argmax(gaps[k_min - 1 : k_max]))
        k, gap = k_min + i, float(gaps[k_min - 1 + i])
        # NME-SC: prefer graphs whose clusters separate well (large gap relative to the
        # spectrum) while keeping few neighbours (little pruning noise)
        score = (keep / m) / max(gap / max(largest, 1e-10), 1e-10)
        if best is None or score < best[0]:
            best = (score, vectors, k)
    assert best is not None  # shares is never empty
    _, vectors, k = best
    if k == 1:
        return np.zeros(m, dtype=int)
    spectral = vectors[:, :k]  # (m, k)
    spectral = spectral / np.maximum(np.linalg.norm(spectral, axis=1, keepdims=True), 1e-10)
    _, labels = kmeans2(spectral, k, minit="++", seed=np.random.default_rng(seed))
    return labels.astype(int)


def _prune(similarity: np.ndarray, keep: int) -> np.ndarray:
    """Binary affinity: 1 for each row's ``keep`` most similar columns, symmetrised."""
    top = np.argpartition(-similarity, keep - 1, axis=1)[:, :keep]  # (m, keep)
    affinity = np.zeros_like(similarity)
    np.put_along_axis(affinity, top, 1.0, axis=1)
    affinity = 0.5 * (affinity + affinity.T)
    np.fill_diagonal(affinity, 0.0)
    return affinity


def _laplacian(affinity: np.ndarray) -> np.ndarray:
    """Unnormalised graph Laplacian D - A: float64 (m, m)."""
    return np.diag(affinity.sum(axis=1)) - affinity


def _smallest_eigen(
    laplacian: np.ndarray, count: int, seed: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """The ``count`` smallest eigenvalues (ascending) with their eigenvectors, and the largest.

    A dense eigendecomposition is O(m³) and takes seconds at m = 1000 on a small CPU; Lanczos
    (ARPACK) only needs matrix-vector products, so large graphs use it on ``λmax·I - L``, whose
    largest eigenvalues are the Laplacian's smallest. The start vector is seeded so labels are
    reproducible.
    """
    m = laplacian.shape[0]
    if m <= max(64, 4 * count):
        values, vectors = np.linalg.eigh(laplacian)
        return values[:count], vectors[:, :count], float(values[-1])
    from scipy.sparse.linalg import eigsh

    v0 = np.random.default_rng(seed).uniform(0.5, 1.5, m)
    largest = float(eigsh(laplacian, k=1, which="LA", v0=v0, return_eigenvectors=False)[0])
    shifted = largest * np.eye(m) - laplacian
    values, vectors = eigsh(shifted, k=count, which="LA", v0=v0)
    order = np.argsort(largest - values)
    return (largest - values)[order], vectors[:, order], largest


def _centroids(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Unit mean of the rows of each label present, in label order: float32 (k, dim)."""
    present = np.unique(labels)
    out = np.stack([x[labels == c].mean(axis=0) for c in present])
    return (out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-10)).astype(np.float32)


def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, end, label) of each run of equal labels; ``end`` exclusive."""
    if labels.size == 0:
        return []
    change = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [labels.size]])
    return [(int(s), int(e), int(labels[s])) for s, e in zip(starts, ends, strict=True)]


def _absorb_short_runs(labels: np.ndarray, votes: np.ndarray, min_frames: int) -> np.ndarray:
    """Give each run shorter than ``min_frames`` that touches another speaker's run (no silence
    between) to the touching speaker with more votes over it, shortest runs first.

    Args:
        labels: int (frames,), speaker per frame, -1 for silence.
        votes: float (frames, speakers), non-negative support of each speaker per frame.
        min_frames: shortest run kept as it is.

    Returns:
        A new int (frames,) array.
    """
    runs = _runs(labels)
    if len(runs) < 2:
        return labels.copy()
    start = [r[0] for r in runs]
    end = [r[1] for r in runs]
    label = [r[2] for r in runs]
    prev = list(range(-1, len(runs) - 1))
    nxt = [*range(1, len(runs)), -1]
    alive = [True] * len(runs)
    cumulative = np.vstack([np.zeros((1, votes.shape[1])), np.cumsum(votes, axis=0)])
    heap = [(end[i] - start[i], i) for i in range(len(runs)) if label[i] >= 0]
    heapq.heapify(heap)
    while heap:
        length, i = heapq.heappop(heap)
        if length >= min_frames:
            break
        if not alive[i] or end[i] - start[i] != length:
            continue  # merged or grown since it was queued
        neighbours = [j for j in (prev[i], nxt[i]) if j >= 0 and label[j] >= 0]
        if not neighbours:
            continue  # an isolated short span of speech: nothing to merge with
        support = cumulative[end[i]] - cumulative[start[i]]  # (speakers,)
        label[i] = max((label[j] for j in neighbours), key=lambda c: support[c])
        # merge with the neighbours that now carry the same speaker
        for j in (prev[i], nxt[i]):
            if j < 0 or label[j] != label[i]:
                continue
            start[i], end[i] = min(start[i], start[j]), max(end[i], end[j])
            alive[j] = False
            if j == prev[i]:
                prev[i] = prev[j]
                if prev[j] >= 0:
                    nxt[prev[j]] = i
            else:
                nxt[i] = nxt[j]
                if nxt[j] >= 0:
                    prev[nxt[j]] = i
        heapq.heappush(heap, (end[i] - start[i], i))
    out = np.full_like(labels, -1)
    for i in range(len(runs)):
        if alive[i]:
            out[start[i] : end[i]] = label[i]
    return out


def _relabel(segments: list[SpeechSegment]) -> list[SpeechSegment]:
    """Sort by start and name speakers SPEAKER_00, SPEAKER_01 … in order of first appearance."""
    segments = sorted(segments, key=lambda s: (s.start, s.end))
    names: dict[str, str] = {}
    out = []
    for seg in segments:
        name = names.setdefault(seg.speaker, f"SPEAKER_{len(names):02d}")
        out.append(SpeechSegment(seg.start, seg.end, name, None))
    return out


@diarization_backends.register("embedded")
def create_embedded(
    options: EmbeddedDiarizationOptions | None = None,
    *,
    vad: VoiceActivityDetector | None = None,
    embedder: SpeakerEmbedder | None = None,
) -> EmbeddedDiarizer:
    return EmbeddedDiarizer(options, vad=vad, embedder=embedder)
