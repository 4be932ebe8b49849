"""faster-whisper backend on the bundled models: resolution, verification, words, Simplified."""

from __future__ import annotations

import re

import jiwer
import numpy as np
import pytest

from calmline.models.asr_whisper import (
    BASE_SHA256,
    WhisperOptions,
    WhisperTranscriber,
    bundled_base_dir,
    resolve_model,
)
from calmline.monitor.audio import load_audio
from calmline.monitor.errors import ModelLoadError
from calmline.monitor.types import SAMPLE_RATE
from tests.conftest import shared_data


def test_bundled_base_is_joined_and_verified(cache_dir):
    target = bundled_base_dir(cache_dir)
    assert (target / "model.bin").stat().st_size > 100_000_000
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        assert (target / name).is_file()
    path, name, version = resolve_model("bundled:base", cache_dir)
    assert path == str(target) and name == "whisper-base" and BASE_SHA256[:12] in version


def test_corrupted_joined_model_is_rebuilt(tmp_path):
    target = bundled_base_dir(tmp_path)
    with (target / "model.bin").open("r+b") as f:
        f.seek(1000)
        f.write(b"\x00" * 16)
    rebuilt = bundled_base_dir(tmp_path)
    import hashlib

    assert hashlib.sha256((rebuilt / "model.bin").read_bytes()).hexdigest() == BASE_SHA256


def test_local_path_errors_name_the_path(tmp_path):
    with pytest.raises(ModelLoadError, match=r"no model\.bin"):
        resolve_model(str(tmp_path), tmp_path)
    with pytest.raises(ModelLoadError, match="not found"):
        resolve_model(str(tmp_path / "nope" / "model"), tmp_path)
    # a plain name goes to faster-whisper's own download
    assert resolve_model("large-v3", tmp_path) == (
        "large-v3",
        "large-v3",
        "faster-whisper download",
    )


@pytest.fixture(scope="module")
def base(models):
    return models.transcriber("bundled:base")


def test_english_words_have_timestamps_and_probabilities(base):
    audio = load_audio(shared_data("asr", "en", "jfk.flac"))
    x = audio.samples[0]
    result = base.transcribe(x, language="en")
    assert result.language == "en"
    text = " ".join(w.text for w in result.words)
    expected = (
        "and so my fellow americans ask not what your country can do for you "
        "ask what you can do for your country"
    )
    hyp = re.sub(r"[^a-z ]", "", text.lower())
    assert jiwer.wer(expected, hyp) < 0.1
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)
    assert all(0 <= w.start <= w.end <= audio.duration for w in result.words)
    assert all(0 < w.prob <= 1 for w in result.words)


def test_spans_map_word_times_back_to_the_call(base):
    """Speech moved 5 s later behind silence: words must come back at their true time."""
    audio = load_audio(shared_data("asr", "en", "jfk.flac"))
    x = audio.samples[0]
    pad = np.zeros(5 * SAMPLE_RATE, dtype=np.float32)
    shifted = np.concatenate([pad, x, pad])
    # the same speech goes to the recogniser both times, so only the mapping can differ
    plain = base.transcribe(x, spans=[(0.0, audio.duration)], language="en")
    moved = base.transcribe(shifted, spans=[(5.0, 5.0 + audio.duration)], language="en")
    assert len(moved.words) == len(plain.words) > 10
    for a, b in zip(plain.words, moved.words, strict=True):
        assert abs((b.start - 5.0) - a.start) < 0.01
        assert abs((b.end - 5.0) - a.end) < 0.01
    # two spans with a gap: words after the gap come back after it
    cut = 4.0
    gapped = np.concatenate([x[: int(cut * SAMPLE_RATE)], pad, x[int(cut * SAMPLE_RATE) :]])
    split = base.transcribe(
        gapped, spans=[(0.0, cut), (cut + 5.0, audio.duration + 5.0)], language="en"
    )
    assert any(w.start >= cut + 5.0 for w in split.words)
    assert not [w for w in split.words if cut < w.start < cut + 5.0]
    assert base.transcribe(shifted, spans=[], language="en").words == ()


def test_mandarin_output_is_simplified(base):
    audio = load_audio(shared_data("asr", "zh", "aishell-BAC009S0724W0121.wav"))
    result = base.transcribe(audio.samples[0])
    assert result.language == "zh"
    text = "".join(w.text for w in result.words)
    import opencc

    assert opencc.OpenCC("t2s").convert(text) == text
    assert jiwer.cer("广州市房地产中介协会分析", re.sub(r"[^\u4e00-\u9fff]", "", text)) < 0.4


def test_tiny_en_is_english_only(models):
    tiny = models.transcriber("bundled:tiny.en")
    assert tiny.info.name == "whisper-tiny.en"
    assert tiny.detect_language(np.zeros(SAMPLE_RATE, dtype=np.float32)) == ("en", 1.0)
    with pytest.raises(ModelLoadError, match="English-only"):
        tiny.transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32), language="zh")


def test_device_auto_picks_cpu_int8_without_cuda(base):
    from calmline.models.device import cuda_available

    if cuda_available():
        assert base.info.device == "cuda" and base.info.compute_type == "float16"
    else:
        assert base.info.device == "cpu" and base.info.compute_type == "int8"


@pytest.mark.gpu
def test_cuda_float16_when_present(cache_dir):
    from calmline.models.device import cuda_available

    if not cuda_available():
        pytest.skip("no CUDA device on this machine")
    t = WhisperTranscriber(WhisperOptions(cache_dir=str(cache_dir)))
    assert (t.info.device, t.info.compute_type) == ("cuda", "float16")
