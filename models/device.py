"""The one place that resolves ``auto|cpu|cuda``, compute types and onnxruntime providers."""

from __future__ import annotations

import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeviceChoice:
    device: str
    """``cuda`` or ``cpu``."""
    compute_type: str
    """CTranslate2 compute type: ``float16`` on CUDA, ``int8`` on CPU unless overridden."""
    onnx_providers: tuple[str, ...]


def cuda_available() -> bool:
    """True when CTranslate2 sees a CUDA device (the ASR decides the device for the pipeline)."""
    try:
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0
    except Exception:
        return False


def onnx_cuda_available() -> bool:
    try:
        import onnxruntime

        return "CUDAExecutionProvider" in onnxruntime.get_available_providers()
    except Exception:
        return False


_logged: set[tuple[str, str]] = set()


def resolve_device(device: str = "auto", compute_type: str = "auto") -> DeviceChoice:
    """Resolve a requested device and compute type.

    Args:
        device: ``auto`` (CUDA when present, else CPU), ``cuda`` or ``cpu``.
        compute_type: ``auto`` (float16 on CUDA, int8 on CPU) or any CTranslate2 compute type.
    """
    if device not in {"auto", "cpu", "cuda"}:
        raise ValueError(f"device must be auto, cpu or cuda, not {device!r}")
    resolved = device
    if device == "auto":
        resolved = "cuda" if cuda_available() else "cpu"
    if compute_type == "auto":
        compute_type = "float16" if resolved == "cuda" else "int8"
    providers: tuple[str, ...] = ("CPUExecutionProvider",)
    if resolved == "cuda" and onnx_cuda_available():
        providers = ("CUDAExecutionProvider", "CPUExecutionProvider")
    key = (resolved, compute_type)
    if key not in _logged:
        _logged.add(key)
        logger.info(
            "device %s -> %s, compute type %s, onnx providers %s",
            device,
            resolved,
            compute_type,
            ",".join(providers),
        )
        if resolved == "cuda" and providers[0] != "CUDAExecutionProvider":
            # the CPU wheel of onnxruntime and onnxruntime-gpu install the same module
            logger.warning(
                "CUDA is used for ASR, but onnxruntime has no CUDAExecutionProvider: the VAD "
                "runs on the CPU (pip install onnxruntime-gpu in place of onnxruntime)"
            )
    return DeviceChoice(resolved, compute_type, providers)
