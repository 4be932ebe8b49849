"""pyannote.audio speaker diarization pipelines (optional extra ``calmline[pyannote]``).

The pipelines (e.g. ``pyannote/speaker-diarization-community-1``) are gated on a model hub, so this
backend loads them from a local directory holding the pipeline's ``config.yaml`` (the usual way on
machines without a hub), or by hub name with a token. torch and pyannote.audio are imported inside
the loader only, so importing this module costs nothing when the extra is not installed.
"""

from __future__ import annotations

import inspect
import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from calmline.models.base import diarization_backends
from calmline.models.device import resolve_device
from calmline.monitor.errors import BackendUnavailable, ModelLoadError
from calmline.monitor.types import SAMPLE_RATE, ModelInfo, SpeechSegment

logger = logging.getLogger(__name__)

INSTALL_HINT = (
    "pip install 'calmline[pyannote]' (pins in bench/requirements-pyannote.txt; "
    "torchcodec also needs the FFmpeg shared libraries, e.g. apt-get install ffmpeg)"
)

_HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
"""``owner/name`` as the model hub spells a repository; anything else is taken as a path."""


@dataclass(frozen=True, slots=True)
class PyannoteOptions:
    """Which pyannote.audio pipeline to load and where to run it.

    Attributes:
        pipeline: a local directory holding the pipeline's ``config.yaml`` (or the path of that
            file), or a hub name such as ``pyannote/speaker-diarization-community-1``. No default:
            a hub name means a download, which only a user's configuration may ask for.
        token: hub access token for gated pipelines loaded by name; ``None`` for local ones.
        device: ``auto`` (CUDA when torch sees one), ``cpu`` or ``cuda``.
        num_threads: torch intra-op threads for CPU inference; ``None`` leaves torch's setting.
            torch's thread pool is process-wide, so this affects every torch model in the process.
    """

    pipeline: str
    token: str | None = None
    device: str = "auto"
    num_threads: int | None = None


class PyannoteDiarizer:
    """Who spoke when, from a pyannote.audio speaker diarization pipeline.

    The pipeline is loaded once and shared; calls are serialised by a lock because a pyannote
    pipeline keeps per-call state (inference batches, hooks) on itself and is not documented as
    safe for concurrent use.
    """

    def __init__(self, options: PyannoteOptions) -> None:
        self.options = options
        self._pipeline, self.info = _load(options)
        self._lock = threading.Lock()

    def diarize(
        self,
        samples: np.ndarray,
        *,
        num_speakers: int | None = None,
        min_speakers: int = 1,
        max_speakers: int = 2,
    ) -> list[SpeechSegment]:
        """Who spoke when in a mono float32 (n,) signal at 16 kHz.

        Args:
            samples: float32 (n,) at 16 kHz, values in [-1, 1].
            num_speakers: the exact number of speakers, when known.
            min_speakers: lower bound when ``num_speakers`` is ``None``.
            max_speakers: upper bound when ``num_speakers`` is ``None``.

        Returns:
            Segments sorted by start then end, speakers named ``SPEAKER_00``, ``SPEAKER_01`` … in
            order of first appearance; overlapping speech gives overlapping segments.
        """
        import torch

        if samples.ndim != 1:
            raise ValueError("diarization expects a one-dimensional signal")
        n = samples.shape[0]
        if n == 0:
            return []
        # (channel=1, time) as pyannote expects; in memory, so nothing is decoded again
        waveform = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32)).unsqueeze(0)
        hints: dict[str, int] = (
            {"num_speakers": num_speakers}
            if num_speakers is not None
            else {"min_speakers": min_speakers, "max_speakers": max_speakers}
        )
        with self._lock, torch.inference_mode():
            output = self._pipeline({"waveform": waveform, "sample_rate": SAMPLE_RATE}, **hints)
        return segments_from_annotation(output, duration=n / SAMPLE_RATE)


def segments_from_annotation(output: Any, duration: float) -> list[SpeechSegment]:
    """Turn a pipeline's output into sorted segments with speakers renamed by first appearance.

    Args:
        output: a ``pyannote.core.Annotation`` (pyannote.audio 3.x) or an object carrying one as
            ``speaker_diarization`` (pyannote.audio 4.x ``DiarizeOutput``).
        duration: length of the signal (s); segments are clipped to it.
    """
    annotation = getattr(output, "speaker_diarization", output)
    tracks: list[tuple[float, float, str]] = []
    for segment, _track, label in annotation.itertracks(yield_label=True):
        start = round(max(0.0, float(segment.start)), 3)
        end = round(min(duration, float(segment.end)), 3)
        if end > start:
            tracks.append((start, end, str(label)))
    # the label breaks ties so that equal spans always get the same order
    tracks.sort()
    names: dict[str, str] = {}
    for _start, _end, label in tracks:
        names.setdefault(label, f"SPEAKER_{len(names):02d}")
    return [SpeechSegment(start, end, names[label]) for start, end, label in tracks]


def _load(options: PyannoteOptions) -> tuple[Any, ModelInfo]:
    """Import pyannote.audio with telemetry off, load the pipeline, place it on its device."""
    # a wrong path is reported as such, with or without the extra installed
    source, checkpoint = _pipeline_source(options.pipeline)
    # pyannote.audio 4.x sends usage metrics by default: importing its telemetry module sets
    # PYANNOTE_METRICS_ENABLED to "true" unless the variable exists, so it is set off first;
    # the variable is read again on every pipeline call.
    os.environ["PYANNOTE_METRICS_ENABLED"] = "0"
    try:
        import pyannote.audio
        import torch
        from pyannote.audio import Pipeline
    except ImportError as e:
        raise BackendUnavailable("pyannote", INSTALL_HINT) from e
    except (OSError, RuntimeError) as e:
        # installed but unusable, e.g. a torch build whose shared libraries do not load here
        raise BackendUnavailable("pyannote", f"{INSTALL_HINT}; import failed: {e}") from e
    try:
        from pyannote.audio.telemetry import set_telemetry_metrics
    except ImportError:
        pass  # pyannote.audio 3.x has no telemetry
    else:
        # the documented switch; it keeps the choice for this process only
        set_telemetry_metrics(False)

    device = _torch_device(options.device, torch)
    if options.num_threads is not None:
        torch.set_num_threads(options.num_threads)

    kwargs: dict[str, Any] = {}
    if options.token is not None:
        # pyannote.audio 4.x names it ``token``; 3.x ``use_auth_token``
        parameters = inspect.signature(Pipeline.from_pretrained).parameters
        kwargs["token" if "token" in parameters else "use_auth_token"] = options.token
    try:
        pipeline = Pipeline.from_pretrained(checkpoint, **kwargs)
    except Exception as e:
        raise ModelLoadError(
            f"cannot load pyannote pipeline {source}: {type(e).__name__}: {e}"
        ) from e
    if pipeline is None:
        # pyannote.audio returns None instead of raising when a hub download is refused
        raise ModelLoadError(
            f"cannot load pyannote pipeline {source}: the hub refused it "
            "(gated: accept its conditions and give a token, or use a local directory)"
        )
    try:
        pipeline.to(torch.device(device))
    except RuntimeError as e:
        raise ModelLoadError(f"cannot move pyannote pipeline {source} to {device}: {e}") from e

    version = getattr(pyannote.audio, "__version__", "unknown")
    logger.info("pyannote pipeline %s loaded on %s (pyannote.audio %s)", source, device, version)
    info = ModelInfo(kind="diarization", name=source, version=version, device=device)
    return pipeline, info


def _pipeline_source(pipeline: str) -> tuple[str, str]:
    """What the pipeline is called and what ``Pipeline.from_pretrained`` should get.

    Returns:
        ``(name, checkpoint)``: a hub name twice, or a checked local directory and its
        ``config.yaml``. The file rather than the directory, because pyannote.audio 3.x takes only
        a file, while 4.x resolves the ``$model/...`` entries of either against the directory.
    """
    path = Path(pipeline).expanduser()
    looks_local = path.exists() or path.is_absolute() or pipeline.startswith((".", "~"))
    if not looks_local and _HUB_NAME.match(pipeline):
        return pipeline, pipeline
    if not path.exists():
        raise ModelLoadError(f"pyannote pipeline directory not found: {path}")
    if path.is_file():
        return str(path.parent), str(path)
    config = path / "config.yaml"
    if not config.is_file():
        raise ModelLoadError(f"pyannote pipeline directory {path} has no config.yaml")
    return str(path), str(config)


def _torch_device(requested: str, torch: Any) -> str:
    """``cpu`` or ``cuda`` for the pipeline.

    ``resolve_device`` checks an explicit request and logs it; its ``auto`` follows CTranslate2,
    whose CUDA support can differ from torch's (a CPU build of torch beside a CUDA CTranslate2), so
    for ``auto`` torch itself decides where this torch pipeline can run.
    """
    cuda = torch.cuda.is_available()
    if requested == "auto":
        return "cuda" if cuda else "cpu"
    resolved = resolve_device(requested).device
    if resolved == "cuda" and not cuda:
        raise ModelLoadError("device 'cuda' requested but this torch build sees no CUDA device")
    return resolved


@diarization_backends.register("pyannote")
def create_pyannote(options: PyannoteOptions) -> PyannoteDiarizer:
    return PyannoteDiarizer(options)
