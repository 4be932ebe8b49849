"""faster-whisper backend on the bundled models: resolution, verification, words, Simplified."""

from __future__ import annotations

import os
import re
import sys
import threading
from dataclasses import replace

import jiwer
import numpy as np
import pytest

from calmline.models.asr_whisper import (
    BASE_SHA256,
    WhisperOptions,
    WhisperTranscriber,
    _context,
    _encoder_window,
    _pieces,
    _windows_of,
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


def test_greedy_view_shares_the_model_and_still_hears_the_words(base):
    """The live worker decodes greedily on the batch pipeline's loaded model: a view with
    another beam shares the model (no second load), leaves the original's options alone, and
    refuses changes that would need another model."""
    greedy = base.with_options(beam_size=1)
    assert greedy.model is base.model
    assert greedy.options.beam_size == 1 and base.options.beam_size == 5
    with pytest.raises(ValueError, match="model"):
        base.with_options(model="bundled:tiny.en")
    x = load_audio(shared_data("asr", "en", "jfk.flac")).samples[0]
    hyp = re.sub(r"[^a-z ]", "", " ".join(w.text for w in greedy.transcribe(x).words).lower())
    expected = (
        "and so my fellow americans ask not what your country can do for you "
        "ask what you can do for your country"
    )
    assert jiwer.wer(expected, hyp) < 0.15


def test_short_encoder_window_encodes_the_audio_not_the_padding(base):
    """A thread decoding inside a short window encodes the audio, a second more and at least
    the window; other threads still get Whisper's 30 s (1,500 encoder frames)."""
    from faster_whisper.audio import pad_or_trim

    x = load_audio(shared_data("asr", "en", "jfk.flac")).samples[0]  # 11 s
    features = pad_or_trim(base.model.feature_extractor(x[: 4 * SAMPLE_RATE]))  # 4 s, padded
    assert features.shape[-1] == 3000
    assert base.model.encode(features).shape[1] == 1500
    with _encoder_window(10.0):
        assert base.model.encode(features).shape[1] == 500  # at least 10 s
        elsewhere: list[int] = []
        other = threading.Thread(
            target=lambda: elsewhere.append(base.model.encode(features).shape[1])
        )
        other.start()
        other.join()
        assert elsewhere == [1500]
    with _encoder_window(2.0):
        assert base.model.encode(features).shape[1] == 251  # 4 s of audio (+1 frame) and 1 s
    with _encoder_window(30.0):
        assert base.model.encode(features).shape[1] == 1500
    assert base.model.encode(features).shape[1] == 1500  # restored on leaving


def test_short_window_view_still_hears_the_words(base):
    """The live recogniser's view (``live.window_s``): same model, same words within a
    tolerance, word times inside the audio."""
    view = base.with_options(beam_size=1, window_s=15.0)
    assert view.model is base.model and base.options.window_s == 30.0
    audio = load_audio(shared_data("asr", "en", "jfk.flac"))
    words = view.transcribe(audio.samples[0], language="en").words
    hyp = re.sub(r"[^a-z ]", "", " ".join(w.text for w in words).lower())
    expected = (
        "and so my fellow americans ask not what your country can do for you "
        "ask what you can do for your country"
    )
    assert jiwer.wer(expected, hyp) < 0.15
    assert all(0 <= w.start <= w.end <= audio.duration for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words)


def test_spans_map_word_times_back_to_the_call(base):
    """Speech moved 5 s later behind silence: words must come back at their true time."""
    audio = load_audio(shared_data("asr", "en", "jfk.flac"))
    x = audio.samples[0]
    pad = np.zeros(5 * SAMPLE_RATE, dtype=np.float32)
    shifted = np.concatenate([pad, x, pad])
    # the same speech with the same silence around it (more than the context padding) goes to
    # the recogniser both times, so only the mapping can differ
    one = np.zeros(SAMPLE_RATE, dtype=np.float32)
    plain = base.transcribe(
        np.concatenate([one, x, one]), spans=[(1.0, 1.0 + audio.duration)], language="en"
    )
    plain = replace(
        plain, words=tuple(replace(w, start=w.start - 1, end=w.end - 1) for w in plain.words)
    )
    moved = base.transcribe(shifted, spans=[(5.0, 5.0 + audio.duration)], language="en")
    # the same words, paired by text (two decodes are not compared for equality: see
    # tests/transcripts.py), at the same time once the 5 s are taken off
    pairs = _paired(plain.words, moved.words)
    assert len(plain.words) > 10 and len(pairs) >= 0.9 * max(len(plain.words), len(moved.words))
    for a, b in pairs:
        assert abs((b.start - 5.0) - a.start) < 0.02
        assert abs((b.end - 5.0) - a.end) < 0.02
    # two spans with a gap: words after the gap come back after it
    cut = 4.0
    gapped = np.concatenate([x[: int(cut * SAMPLE_RATE)], pad, x[int(cut * SAMPLE_RATE) :]])
    split = base.transcribe(
        gapped, spans=[(0.0, cut), (cut + 5.0, audio.duration + 5.0)], language="en"
    )
    assert any(w.start >= cut + 5.0 for w in split.words)
    assert not [w for w in split.words if cut < w.start < cut + 5.0]
    assert base.transcribe(shifted, spans=[], language="en").words == ()


def _paired(a, b):
    """Words of two transcripts of the same speech paired by their text, in order."""
    import difflib

    key = [[w.text.strip().lower() for w in ws] for ws in (a, b)]
    blocks = difflib.SequenceMatcher(None, *key, autojunk=False).get_matching_blocks()
    return [(a[m.a + k], b[m.b + k]) for m in blocks for k in range(m.size)]


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


def test_context_pieces_and_windows_cover_the_speech():
    sr = SAMPLE_RATE
    # spans closer than 2 s are heard as one, each side widened by 0.4 s, clipped to the signal
    chunks = _context(
        [(1 * sr, 2 * sr), (3 * sr, 4 * sr), (10 * sr, 11 * sr)], 6400, 2 * sr, 11 * sr
    )
    assert chunks == [(9600, 70_400), (153_600, 11 * sr)]
    many = [(i * sr, i * sr + sr // 2) for i in range(100)]  # 50 s of speech in 0.5 s chunks
    pieces = _pieces(many, 10 * sr)
    assert [c for p in pieces for c in p] == many  # in order, nothing lost, nothing split
    assert all(sum(b - a for a, b in p) <= 10 * sr for p in pieces) and len(pieces) == 5
    windows = _windows_of(many[:80])  # 40 s of joined speech
    assert windows == [{"start": 0.0, "end": 30.0}, {"start": 30.0, "end": 40.0}]
    assert [w["end"] - w["start"] for w in _windows_of([(0, 70 * sr)])] == [30, 30, 10]


def test_batched_decoding_in_pieces_agrees_with_sequential(base, cache_dir):
    """The GPU path (batched windows) run on the CPU, with speech cut into pieces."""
    audio = load_audio(shared_data("asr", "en", "jfk.flac"))
    x, cut = audio.samples[0], 4.0
    gap = np.zeros(3 * SAMPLE_RATE, dtype=np.float32)
    gapped = np.concatenate([x[: int(cut * SAMPLE_RATE)], gap, x[int(cut * SAMPLE_RATE) :]])
    spans = [(0.0, cut), (cut + 3.0, audio.duration + 3.0)]
    batched = WhisperTranscriber(
        WhisperOptions(cache_dir=str(cache_dir), batched=True, batch_size=2, max_piece_s=5.0)
    )
    assert batched.batched and not base.batched  # sequential on a CPU unless asked
    got = batched.transcribe(gapped, spans=spans, language="en")
    want = base.transcribe(gapped, spans=spans, language="en")
    text = [" ".join(w.text.lower().strip(".,?!") for w in r.words) for r in (want, got)]
    assert jiwer.wer(*text) < 0.15
    assert [w.start for w in got.words] == sorted(w.start for w in got.words)
    for w in got.words:  # every word inside one of the speech spans
        assert any(a - 1e-3 <= w.start <= w.end <= b + 1e-3 for a, b in spans)
    assert any(w.start >= cut + 3.0 for w in got.words)


@pytest.mark.gpu
def test_cuda_picks_batched_decoding_and_onnx_cuda(cache_dir):
    from calmline.models.device import cuda_available, onnx_cuda_available
    from calmline.models.vad_silero import SileroVad, VadOptions

    if not cuda_available():
        pytest.skip("no CUDA device on this machine")
    t = WhisperTranscriber(WhisperOptions(cache_dir=str(cache_dir)))
    assert t.batched and t.info.device == "cuda"
    if not onnx_cuda_available():
        pytest.skip("onnxruntime here has no CUDAExecutionProvider (install onnxruntime-gpu)")
    assert SileroVad(VadOptions(device="auto")).info.device == "cuda"


@pytest.mark.gpu
def test_cuda_float16_when_present(cache_dir):
    from calmline.models.device import cuda_available

    if not cuda_available():
        pytest.skip("no CUDA device on this machine")
    t = WhisperTranscriber(WhisperOptions(cache_dir=str(cache_dir)))
    assert (t.info.device, t.info.compute_type) == ("cuda", "float16")


def _threads() -> dict[int, tuple[int, int]]:
    """This process's threads: id -> (CPU ticks so far, niceness), from /proc."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # ended meanwhile
            continue
        out[int(tid)] = (int(fields[11]) + int(fields[12]), int(fields[16]))
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="niceness per thread is Linux's")
def test_whisper_decodes_on_threads_of_lower_priority(cache_dir):
    """asr.nice: the threads that do the decoding run at that niceness; the thread that asked
    for the model keeps its own."""
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    t = WhisperTranscriber(
        WhisperOptions(beam_size=1, cpu_threads=2, cache_dir=str(cache_dir), nice=7)
    )
    assert os.getpriority(os.PRIO_PROCESS, 0) == mine
    x = load_audio(shared_data("asr", "en", "jfk.flac")).samples[0]
    before = _threads()
    assert t.transcribe(x, language="en").words
    after = _threads()
    used = {tid: after[tid][0] - before.get(tid, (0, 0))[0] for tid in after}
    busiest = max(used, key=used.get)
    assert used[busiest] > 0
    assert after[busiest][1] == 7, (used, after)
    assert sum(u for tid, u in used.items() if after[tid][1] == 7) > 0.8 * sum(used.values())
