"""The pyannote.audio diarization backend.

Pretrained pyannote pipelines are gated on a model hub, so the pipeline test builds what a user
copies onto an offline machine: a directory with ``config.yaml`` and the segmentation, embedding
and PLDA files it references through ``$model/...``, laid out like
``pyannote/speaker-diarization-community-1``. Its models are randomly initialised, so the speakers
it finds mean nothing; the test checks what holds for any pipeline: loading from the directory,
running on real speech, and the conversion of its output.

The heavy tests need the ``pyannote`` extra: run them with ``bash bench/pyannote_backend.sh``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import socket
from pathlib import Path

import numpy as np
import pytest

from calmline.models.base import Diarizer, diarization_backends
from calmline.models.diarization_pyannote import (
    PyannoteDiarizer,
    PyannoteOptions,
    segments_from_annotation,
)
from calmline.monitor.audio import load_audio
from calmline.monitor.errors import BackendUnavailable, ModelLoadError
from calmline.monitor.types import SAMPLE_RATE, SpeechSegment
from tests.conftest import shared_data

SECONDS = 10.0
"""Length of the excerpt diarized (s): two speakers talk from 6.7 s on, silence before."""


def build_pipeline_directory(root: Path) -> Path:
    """Write a pyannote speaker diarization pipeline with random weights under ``root``.

    Same layout and config keys as ``pyannote/speaker-diarization-community-1``: a PyanNet
    powerset segmentation model, a WeSpeaker ResNet34 embedding model, a PLDA for VBx clustering.
    """
    import lightning
    import torch
    import yaml
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.embedding import WeSpeakerResNet34
    from pyannote.audio.models.segmentation import PyanNet

    def save(model: torch.nn.Module, path: Path) -> None:
        # the checkpoint format Model.from_pretrained reads (as pyannote's own conversion
        # script for WeSpeaker models writes it): weights plus pyannote's architecture record
        checkpoint = {
            "state_dict": model.state_dict(),
            "hyper_parameters": dict(model.hparams),
            "pytorch-lightning_version": lightning.__version__,
        }
        model.on_save_checkpoint(checkpoint)
        path.mkdir(parents=True)
        torch.save(checkpoint, path / "pytorch_model.bin")

    torch.manual_seed(0)
    segmentation = PyanNet()
    # 3 local speakers, at most 2 at once, as segmentation-3.0; 5 s windows keep it quick
    segmentation.specifications = Specifications(
        problem=Problem.MONO_LABEL_CLASSIFICATION,
        resolution=Resolution.FRAME,
        duration=5.0,
        min_duration=5.0,
        classes=["speaker#1", "speaker#2", "speaker#3"],
        powerset_max_classes=2,
        permutation_invariant=True,
    )
    segmentation.build()
    save(segmentation, root / "segmentation")

    embedding = WeSpeakerResNet34()
    embedding.specifications = Specifications(
        problem=Problem.REPRESENTATION, resolution=Resolution.CHUNK, duration=5.0
    )
    save(embedding, root / "embedding")

    # PLDA: centring + LDA 256 -> 128 (orthonormal columns), PLDA transform orthonormal,
    # between-class variances positive and decreasing, as VBx expects
    rng = np.random.default_rng(0)
    (root / "plda").mkdir()
    np.savez(
        root / "plda" / "xvec_transform.npz",
        mean1=rng.normal(scale=0.01, size=256),
        mean2=rng.normal(scale=0.01, size=128),
        lda=np.linalg.qr(rng.normal(size=(256, 256)))[0][:, :128],
    )
    np.savez(
        root / "plda" / "plda.npz",
        mu=np.zeros(128),
        tr=np.linalg.qr(rng.normal(size=(128, 128)))[0],
        psi=np.sort(rng.uniform(0.5, 5.0, size=128))[::-1],
    )

    config = {
        "dependencies": {"pyannote.audio": "4.0.0"},
        "pipeline": {
            "name": "pyannote.audio.pipelines.SpeakerDiarization",
            "params": {
                "segmentation": "$model/segmentation",
                "embedding": "$model/embedding",
                "plda": "$model/plda",
                "clustering": "VBxClustering",
                "embedding_exclude_overlap": True,
                # windows every 2.5 s instead of 0.5 s: fewer embeddings on a 2-core machine
                "segmentation_step": 0.5,
                "segmentation_batch_size": 8,
                "embedding_batch_size": 8,
            },
        },
        "params": {
            "segmentation": {"min_duration_off": 0.0},
            "clustering": {"threshold": 0.6, "Fa": 0.07, "Fb": 0.8},
        },
    }
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    return root


def test_conversion_sorts_renames_clips_and_keeps_overlaps() -> None:
    core = pytest.importorskip("pyannote.core")
    annotation = core.Annotation()
    annotation[core.Segment(5.0, 7.0), "a"] = "SPEAKER_00"
    annotation[core.Segment(1.0, 4.0), "a"] = "SPEAKER_01"
    annotation[core.Segment(3.0, 6.0), "b"] = "SPEAKER_00"  # overlaps SPEAKER_01's turn
    annotation[core.Segment(9.5, 12.0), "a"] = "SPEAKER_02"  # runs past the end
    annotation[core.Segment(10.5, 11.0), "a"] = "SPEAKER_03"  # wholly past the end

    segments = segments_from_annotation(annotation, duration=10.0)

    assert segments == [
        SpeechSegment(1.0, 4.0, "SPEAKER_00"),
        SpeechSegment(3.0, 6.0, "SPEAKER_01"),
        SpeechSegment(5.0, 7.0, "SPEAKER_01"),
        SpeechSegment(9.5, 10.0, "SPEAKER_02"),
    ]


def test_missing_directory_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-pipeline"
    with pytest.raises(ModelLoadError, match=re.escape(str(missing))):
        PyannoteDiarizer(PyannoteOptions(pipeline=str(missing)))


def test_directory_without_config_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=re.escape(f"{tmp_path} has no config.yaml")):
        diarization_backends.create("pyannote", PyannoteOptions(pipeline=str(tmp_path)))


def test_missing_extra_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if importlib.util.find_spec("pyannote.audio") is not None:
        pytest.skip("pyannote.audio is installed; this checks the message given without it")
    monkeypatch.delenv("PYANNOTE_METRICS_ENABLED", raising=False)  # the loader sets it
    (tmp_path / "config.yaml").write_text("pipeline: {}\n")
    with pytest.raises(BackendUnavailable, match=r"pip install 'calmline\[pyannote\]'"):
        PyannoteDiarizer(PyannoteOptions(pipeline=str(tmp_path), device="cpu"))


@pytest.mark.pyannote
def test_invalid_config_names_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyannote.audio", reason="needs the pyannote extra")
    monkeypatch.delenv("PYANNOTE_METRICS_ENABLED", raising=False)  # the loader sets it
    (tmp_path / "config.yaml").write_text("pipeline:\n  name: no.such.Pipeline\n")
    with pytest.raises(ModelLoadError, match=re.escape(str(tmp_path))):
        PyannoteDiarizer(PyannoteOptions(pipeline=str(tmp_path), device="cpu"))


@pytest.mark.pyannote
@pytest.mark.shared_data
def test_pipeline_from_local_directory_on_real_speech(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyannote_audio = pytest.importorskip("pyannote.audio", reason="needs the pyannote extra")
    audio = load_audio(shared_data("diarization", "pyannote_sample", "sample.wav"))
    samples = audio.mono()[: int(SECONDS * SAMPLE_RATE)]  # float32 (n,) at 16 kHz
    duration = samples.shape[0] / SAMPLE_RATE

    # a local pipeline needs no network: any connection attempt (hub, telemetry) is recorded
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError(f"network use refused in this test: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setenv("PYANNOTE_METRICS_ENABLED", "0")
    pipeline_dir = build_pipeline_directory(tmp_path / "speaker-diarization")
    # pyannote.audio's own default is on; the backend must switch it off by itself
    monkeypatch.setenv("PYANNOTE_METRICS_ENABLED", "true")

    diarizer = diarization_backends.create(
        "pyannote", PyannoteOptions(pipeline=str(pipeline_dir), device="cpu", num_threads=2)
    )
    assert isinstance(diarizer, Diarizer)
    assert diarizer.info.kind == "diarization"
    assert diarizer.info.name == str(pipeline_dir)
    assert diarizer.info.version == pyannote_audio.__version__
    assert diarizer.info.device == "cpu"

    from pyannote.audio.telemetry.metrics import is_metrics_enabled

    assert os.environ["PYANNOTE_METRICS_ENABLED"] in {"0", "false"}
    assert not is_metrics_enabled()

    segments = diarizer.diarize(samples, min_speakers=1, max_speakers=3)
    fixed = diarizer.diarize(samples, num_speakers=2)

    assert not attempts
    for result in (segments, fixed):
        assert all(isinstance(s, SpeechSegment) for s in result)
        assert result == sorted(result, key=lambda s: (s.start, s.end, s.speaker))
        assert all(0.0 <= s.start < s.end <= duration for s in result)
        assert all(s.channel is None for s in result)
        assert all(re.fullmatch(r"SPEAKER_\d{2}", s.speaker) for s in result)
        # named in order of first appearance: SPEAKER_00, SPEAKER_01, ... with no gap
        first_seen = list(dict.fromkeys(s.speaker for s in result))
        assert first_seen == [f"SPEAKER_{i:02d}" for i in range(len(first_seen))]
    assert len({s.speaker for s in fixed}) <= 2
    assert len({s.speaker for s in segments}) <= 3
    assert diarizer.diarize(np.zeros(0, dtype=np.float32)) == []
