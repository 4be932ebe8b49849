"""GE2E speaker embeddings from resemblyzer's VoiceEncoder (weights ship inside the wheel).

The encoder is a 3-layer LSTM over 40-band mel power spectra (25 ms frames, 10 ms hop) trained
with the generalised end-to-end loss on 1.6 s partial utterances; it returns 256-dimensional
L2-normalised embeddings. resemblyzer's own ``embed_utterance`` cuts one utterance into partials
and runs one forward pass per utterance; diarization needs hundreds of short windows, so here the
mel spectra of many windows are computed in one vectorised pass and the LSTM runs on batches.
"""

from __future__ import annotations

import importlib.metadata
import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.fft

from calmline.models.base import embedding_backends
from calmline.models.device import resolve_device
from calmline.monitor.errors import BackendUnavailable, ModelLoadError
from calmline.monitor.spool import read_span, release
from calmline.monitor.types import SAMPLE_RATE, ModelInfo

_MEL_SPAN = 1 << 24
"""Most samples of the signal (17.5 min) one block of mel frames reads at a time (64 MB)."""

logger = logging.getLogger(__name__)

N_FFT = 400
"""Samples per mel frame (25 ms at 16 kHz), as the encoder was trained."""
HOP = 160
"""Samples between mel frames (10 ms at 16 kHz)."""
N_MELS = 40
EMBEDDING_DIM = 256
INSTALL_HINT = "pip install 'calmline[mono]'"


@dataclass(frozen=True, slots=True)
class ResemblyzerOptions:
    """How the GE2E encoder is loaded and fed.

    Attributes:
        device: ``auto`` (CUDA when torch sees one), ``cpu`` or ``cuda``.
        num_threads: torch intra-op threads on CPU. torch keeps this per process, so a value here
            changes it for every torch user in the process; ``None`` leaves it as it is.
        batch_size: windows per forward pass; bounds memory on long calls.
        normalize_dbfs: each window is raised (never lowered) to this RMS level before the mel
            spectrum, as resemblyzer's preprocessing does for training utterances; the encoder
            reads linear mel power, so a quiet line would otherwise look like another voice.
            ``None`` feeds windows as they are.
        weights_path: a VoiceEncoder checkpoint to use instead of the one in the wheel.
    """

    device: str = "auto"
    num_threads: int | None = None
    batch_size: int = 128
    normalize_dbfs: float | None = -30.0
    weights_path: str | None = None


def _torch_device(requested: str) -> str:
    """The device for torch: resolve_device's answer, checked against what torch sees."""
    import torch

    if requested == "auto":
        # resolve_device asks CTranslate2; torch may be a CPU build on the same machine
        choice = resolve_device("auto").device
        return "cuda" if choice == "cuda" and torch.cuda.is_available() else "cpu"
    choice = resolve_device(requested).device
    if choice == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError("device 'cuda' requested but this torch build sees no CUDA device")
    return choice


class ResemblyzerEmbedder:
    """Batched GE2E embeddings of short windows of 16 kHz speech.

    The model is shared read-only; ``embed`` keeps everything it computes local to the call, so one
    instance serves many threads.
    """

    def __init__(self, options: ResemblyzerOptions | None = None) -> None:
        self.options = options or ResemblyzerOptions()
        if self.options.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        try:
            import torch

            with warnings.catch_warnings():
                # resemblyzer imports webrtcvad, which imports the deprecated pkg_resources, and
                # a deprecated scipy namespace; neither is used on this path
                warnings.simplefilter("ignore", UserWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
                from resemblyzer import VoiceEncoder
                from resemblyzer.hparams import mel_n_channels, sampling_rate
            from librosa.filters import mel as mel_filters
        except ImportError as e:
            raise BackendUnavailable("resemblyzer", INSTALL_HINT) from e
        if sampling_rate != SAMPLE_RATE or mel_n_channels != N_MELS:
            raise ModelLoadError(
                f"resemblyzer expects {sampling_rate} Hz and {mel_n_channels} mel bands, "
                f"this backend is written for {SAMPLE_RATE} Hz and {N_MELS}"
            )
        if self.options.num_threads is not None:
            torch.set_num_threads(self.options.num_threads)
        device = _torch_device(self.options.device)
        try:
            self._encoder = VoiceEncoder(
                device=device, verbose=False, weights_fpath=self.options.weights_path
            )
        except Exception as e:
            raise ModelLoadError(f"cannot load the resemblyzer voice encoder: {e}") from e
        self._encoder.eval()
        self._torch: Any = torch
        self._device = device
        # the filterbank librosa.feature.melspectrogram builds for the encoder (Slaney scale
        # and norm); the spectra are computed here so that many windows share one vectorised pass
        self._mel_basis = mel_filters(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS).astype(
            np.float32
        )  # (40, 201)
        # periodic Hann, as librosa's stft uses
        self._window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(
            np.float32
        )  # (400,)
        self.info = ModelInfo(
            kind="embedding",
            name="resemblyzer-ge2e",
            version=f"resemblyzer {importlib.metadata.version('resemblyzer')}",
            device=device,
        )
        logger.info("resemblyzer GE2E encoder on %s", device)

    @property
    def dimension(self) -> int:
        return EMBEDDING_DIM

    def mel_frames(self, windows: np.ndarray) -> np.ndarray:
        """Mel power spectra of equal-length windows, as the encoder reads them.

        Args:
            windows: float32 (n, samples) at 16 kHz.

        Returns:
            float32 (n, frames, 40) with frames = 1 + samples // 160 (centred, zero-padded frames,
            like ``librosa.feature.melspectrogram``).
        """
        x = windows.astype(np.float32, copy=False)
        if self.options.normalize_dbfs is not None:
            rms2 = np.mean(x**2, axis=1, keepdims=True)  # (n, 1)
            target = 10.0 ** (self.options.normalize_dbfs / 10.0)
            # raise quiet windows only (resemblyzer's increase_only); digital silence stays silent
            gain = np.where(
                (rms2 > 0) & (rms2 < target), np.sqrt(target / np.maximum(rms2, 1e-20)), 1
            )
            x = x * gain.astype(np.float32)
        padded = np.pad(x, ((0, 0), (N_FFT // 2, N_FFT // 2)))  # (n, samples + 400)
        frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT, axis=1)[:, ::HOP]
        # scipy's FFT is several times faster than numpy's for 400-point frames
        spectrum = scipy.fft.rfft(frames * self._window, axis=-1)  # (n, frames, 201)
        power = spectrum.real**2 + spectrum.imag**2
        return (power @ self._mel_basis.T).astype(np.float32, copy=False)  # (n, frames, 40)

    def embed(self, windows: list[np.ndarray]) -> np.ndarray:
        """One L2-normalised embedding per window.

        Windows of equal length are batched together, so callers that cut a signal into fixed
        windows get one forward pass per ``batch_size`` windows.

        Args:
            windows: float32 (samples,) arrays at 16 kHz; at least 25 ms each.

        Returns:
            float32 (n_windows, 256), rows of unit length.
        """
        out = np.zeros((len(windows), EMBEDDING_DIM), dtype=np.float32)
        by_length: dict[int, list[int]] = {}
        for i, w in enumerate(windows):
            if w.ndim != 1:
                raise ValueError("each window must be a one-dimensional signal")
            if w.shape[0] < N_FFT:
                raise ValueError(f"window {i} is shorter than {N_FFT} samples")
            by_length.setdefault(w.shape[0], []).append(i)
        torch = self._torch
        size = self.options.batch_size
        for indices in by_length.values():
            for lo in range(0, len(indices), size):
                chunk = indices[lo : lo + size]
                mels = self.mel_frames(np.stack([windows[i] for i in chunk]))  # (b, frames, 40)
                with torch.inference_mode():
                    raw = self._forward(torch.from_numpy(mels))
                out[chunk] = raw
        return out

    def embed_at(self, samples: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
        """Embeddings of the windows ``samples[s : s + length]`` for each ``s`` in ``starts``.

        Diarization windows overlap several times over (a 1.2 s window every 0.3 s), so cutting
        them out and computing each one's spectrum (``embed``) repeats the same FFTs four times.
        Here every 10 ms frame of the signal is transformed once and each window gathers its
        frames; only the first and last two frames of a window, which reach past its edges into
        zero padding, are computed for that window alone. The level normalisation scales the
        window's power by the square of the gain ``embed`` applies to its samples, so both give
        the same embeddings up to float rounding.

        Args:
            samples: float32 (n,) at 16 kHz.
            starts: int (m,) window starts in samples, ``0 <= s <= n - length``; windows whose
                starts differ by a multiple of 160 samples (the hop) share their frames.
            length: window length in samples, at least 400.

        Returns:
            float32 (m, 256), rows of unit length, in the order of ``starts``.
        """
        starts = np.asarray(starts, dtype=np.int64)
        m = starts.shape[0]
        out = np.zeros((m, EMBEDDING_DIM), dtype=np.float32)
        if m == 0:
            return out
        if samples.ndim != 1:
            raise ValueError("samples must be a one-dimensional signal")
        if length < N_FFT:
            raise ValueError(f"windows must be at least {N_FFT} samples long")
        if starts.min() < 0 or starts.max() + length > samples.shape[0]:
            raise ValueError("every window must lie inside the signal")
        x = samples.astype(np.float32, copy=False)
        n_frames = 1 + length // HOP
        # frame j of a window is centred on start + j * HOP: index every frame by its centre
        centres = starts[:, None] + HOP * np.arange(n_frames)[None, :]  # (m, frames)
        unique, inverse = np.unique(centres, return_inverse=True)
        inverse = inverse.reshape(m, n_frames)
        mel = self._mel_at(x, unique)  # (unique frames, 40)
        half = N_FFT // 2
        # frames reaching past the window's edges see zeros there, as in mel_frames
        left = [j for j in range(n_frames) if j * HOP < half]
        right = [j for j in range(n_frames) if j * HOP + half > length and j not in left]
        left_at = np.array([j * HOP for j in left])  # frame offsets in [zeros(200), x[s:s+400]]
        right_at = np.array([j * HOP + half - length for j in right])  # in [x[..s+L], zeros]
        windows = np.lib.stride_tricks.sliding_window_view(x, length)  # (n - length + 1, length)
        target = None
        if self.options.normalize_dbfs is not None:
            target = 10.0 ** (self.options.normalize_dbfs / 10.0)
        torch = self._torch
        size = self.options.batch_size
        for lo in range(0, m, size):
            chunk = slice(lo, min(lo + size, m))
            mels = mel[inverse[chunk]]  # (b, frames, 40)
            cut = windows[starts[chunk]]  # (b, length)
            release(x, int(starts[chunk].min()), int(starts[chunk].max()) + length)
            head = np.pad(cut[:, :N_FFT], ((0, 0), (half, 0)))  # (b, 600)
            tail = np.pad(cut[:, length - N_FFT :], ((0, 0), (0, half)))  # (b, 600)
            mels[:, left] = self._mel_of_frames(head, left_at)
            mels[:, right] = self._mel_of_frames(tail, right_at)
            if target is not None:
                rms2 = np.mean(np.square(cut), axis=1)  # (b,)
                # raise quiet windows only, as in mel_frames; power scales with the gain squared
                gain2 = np.where((rms2 > 0) & (rms2 < target), target / np.maximum(rms2, 1e-20), 1)
                mels *= gain2.astype(np.float32)[:, None, None]
            with torch.inference_mode():
                out[chunk] = self._forward(torch.from_numpy(np.ascontiguousarray(mels)))
        return out

    def _mel_of_frames(self, signals: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Mel power of the 400-sample frames starting at ``offsets`` in each row of
        ``signals`` (b, samples): float32 (b, len(offsets), 40)."""
        frames = signals[:, offsets[:, None] + np.arange(N_FFT)] * self._window  # (b, f, 400)
        spectrum = scipy.fft.rfft(frames, axis=-1)
        power = spectrum.real**2 + spectrum.imag**2
        return (power @ self._mel_basis.T).astype(np.float32, copy=False)

    def _mel_at(self, x: np.ndarray, centres: np.ndarray, block: int = 8192) -> np.ndarray:
        """Mel power of 400-sample frames centred on sorted ``centres`` (zero outside the signal).

        Each block of frames reads only the stretch of ``x`` it covers (:func:`read_span`, at
        most ``_MEL_SPAN`` samples), so a long or file-backed signal is never copied whole.
        """
        half = N_FFT // 2
        n = x.shape[0]
        out = np.empty((centres.shape[0], N_MELS), dtype=np.float32)
        lo = 0
        while lo < centres.shape[0]:
            # at most `block` frames, over at most _MEL_SPAN samples of the signal
            hi = min(lo + block, int(np.searchsorted(centres, centres[lo] + _MEL_SPAN, "right")))
            c = centres[lo:hi]
            first, last = int(c[0]) - half, int(c[-1]) + half  # the block reads [first, last)
            seg = np.zeros(last - first, dtype=np.float32)
            a, b = max(first, 0), min(last, n)
            if b > a:
                seg[a - first : b - first] = read_span(x, a, b)
            view = np.lib.stride_tricks.sliding_window_view(seg, N_FFT)  # no copy
            frames = view[c - c[0]] * self._window  # (b, 400)
            spectrum = scipy.fft.rfft(frames, axis=-1)  # (b, 201)
            power = spectrum.real**2 + spectrum.imag**2
            out[lo:hi] = power @ self._mel_basis.T
            lo = hi
        return out

    def _forward(self, mels: Any) -> np.ndarray:
        """resemblyzer's forward pass, with a division that cannot give NaN: float32 (b, 256)."""
        encoder = self._encoder
        _, (hidden, _) = encoder.lstm(mels.to(self._device))
        raw = encoder.relu(encoder.linear(hidden[-1])).float().cpu().numpy()  # (b, 256)
        norms = np.linalg.norm(raw, axis=1, keepdims=True)
        return np.divide(raw, norms, out=np.zeros_like(raw), where=norms > 0)


@embedding_backends.register("resemblyzer")
def create_resemblyzer(options: ResemblyzerOptions | None = None) -> ResemblyzerEmbedder:
    return ResemblyzerEmbedder(options)
