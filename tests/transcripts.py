"""Comparing transcripts with a tolerance, for tests on real model output.

Whisper's decoding of the same audio differs between CPUs (instruction sets, number of threads):
a word or two changes, a short turn comes back empty. Tests on real model output therefore never
compare transcripts for equality; they bound the word error rate (English) or character error rate
(Mandarin) after normalising case, punctuation and script, and find planted phrases fuzzily.

Measured on the bundled samples (``bundled:base``): WER 0.04-0.10 and CER 0.07 against the
scripts with the default beam search, at most 0.22 with greedy decoding (beam 1), whichever the
number of ASR threads. Between two runs: 0.01 with another number of threads, at most 0.17
between beam search and greedy decoding (Mandarin: short turns come back empty). A wrong language,
a missing channel or turns of the wrong speaker give 0.5 and more.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import jiwer
import opencc
from rapidfuzz import fuzz

SCRIPT_ERROR_BOUND = 0.35
"""Highest WER/CER of a sample's transcript against its script that a test accepts."""

RUN_ERROR_BOUND = 0.25
"""Highest WER/CER between two analyses of the same audio (live against batch, server against
the in-process pipeline)."""

_T2S = opencc.OpenCC("t2s")


def normalise(text: str, language: str) -> str:
    """Mandarin: the Han characters in Simplified script; English: lower-case words, no
    punctuation."""
    if language == "zh":
        return re.sub(r"[^\u4e00-\u9fff]", "", _T2S.convert(text))
    return " ".join(re.sub(r"[^a-z0-9' ]", " ", text.lower()).split())


def joined(texts: Iterable[str], language: str) -> str:
    """Texts of turns or utterances as one normalised transcript."""
    return normalise(("" if language == "zh" else " ").join(texts), language)


def error_rate(reference: str, hypothesis: str, language: str) -> float:
    """CER for Mandarin, WER for English, of normalised texts (1.0 when one side is empty)."""
    ref, hyp = normalise(reference, language), normalise(hypothesis, language)
    if not ref or not hyp:
        return 0.0 if ref == hyp else 1.0
    return jiwer.cer(ref, hyp) if language == "zh" else jiwer.wer(ref, hyp)


def heard(phrase: str, text: str, language: str, min_ratio: float = 80.0) -> bool:
    """Whether ``text`` holds ``phrase`` up to a few misheard characters (partial ratio)."""
    a, b = normalise(phrase, language), normalise(text, language)
    return bool(a) and fuzz.partial_ratio(a, b) >= min_ratio
